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
