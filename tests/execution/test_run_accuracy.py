"""nuclei_count counts nuclei within 5% of the synthetic plates' ground truth."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from helpers import tree_checksum
from napari_openhcs.execution.records import read_csv_rows
from napari_openhcs.execution.run import run_plate
from napari_openhcs.plates.synthetic import write_plate

WELLS = ["A01", "B02"]


@pytest.mark.parametrize("fmt", ["imagexpress", "operaphenix"])
def test_nuclei_count_is_within_5_percent_of_ground_truth(fmt, tmp_path):
    plate = write_plate(tmp_path / "plate", fmt, wells=WELLS, sites=2, size=256)
    truth = json.loads((Path(plate) / "ground_truth.json").read_text())
    before = tree_checksum(plate)
    report = run_plate(plate, "nuclei_count", tmp_path / "out", executor="serial")
    assert report.exit_code == 0
    assert tree_checksum(plate) == before

    rows = read_csv_rows(tmp_path / "out" / "measurements.csv")
    per_well_rows = Counter(row["well"] for row in rows)
    for well in WELLS:
        expected = sum(truth["counts"][well].values())
        assert expected > 20  # enough nuclei for 5% to mean something
        counted = report.wells[well]["aggregates"]["object_count"]
        assert abs(counted - expected) <= 0.05 * expected, (well, counted, expected)
        # one measurement row per object
        assert per_well_rows[well] == counted


def test_nuclei_marker_counts_nuclei_and_measures_the_marker_under_each(tmp_path):
    """The built-in flat-field + nuclei + marker pipeline, by name, in worker processes."""
    plate = write_plate(tmp_path / "plate", "imagexpress", wells=WELLS, sites=2, size=256)
    truth = json.loads((Path(plate) / "ground_truth.json").read_text())
    report = run_plate(plate, "nuclei_marker", tmp_path / "out", workers=2)
    assert report.exit_code == 0, report.wells
    rows = read_csv_rows(tmp_path / "out" / "measurements.csv")
    for well in WELLS:
        expected = sum(truth["counts"][well].values())
        nuclei = [r for r in rows if r["well"] == well and r["step"] == "nuclei"]
        marker = [r for r in rows if r["well"] == well and r["step"] == "marker"]
        assert abs(len(nuclei) - expected) <= 0.05 * expected, (well, len(nuclei), expected)
        # the same objects, measured in the other channel (other intensities)
        assert [(r["site"], r["label"], r["area"]) for r in marker] == [
            (r["site"], r["label"], r["area"]) for r in nuclei
        ]
        assert [r["mean_intensity"] for r in marker] != [r["mean_intensity"] for r in nuclei]
        # the heat map's per-well figures: each step's own mean over every site of the well
        agg = report.wells[well]["aggregates"]
        # every column names its step, and the marker's the channel its intensities are from
        assert {r["intensity_channel"] for r in marker} == {"2"}
        assert {r["intensity_channel"] for r in nuclei} == {r["channel"] for r in nuclei}
        for step, step_rows, column in (
            ("nuclei", nuclei, "nuclei_mean_intensity"),
            ("marker", marker, "marker_mean_intensity_ch2"),
        ):
            mean = sum(float(r["mean_intensity"]) for r in step_rows) / len(step_rows)
            assert agg[column] == pytest.approx(mean)
            assert agg[f"{step}_count"] == len(step_rows)
        assert "mean_intensity" not in agg and "mean_area" not in agg
        assert "marker_mean_intensity" not in agg
    assert (tmp_path / "out" / ".openhcs" / "plate_steps" / "flatfield.npy").exists()
