"""Measurement tables on disk: per well as CSV and Parquet, merged from the typed Parquet."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from napari_openhcs import tables
from napari_openhcs.execution import records


def _well(well: str, labels: list[int], compound: str) -> pa.Table:
    n = len(labels)
    return pa.table(
        {
            "step": ["nuclei"] * n,
            "area": [10 * label for label in labels],
            "well": [well] * n,
            "label": labels,
            "compound": [compound] * n,  # text that looks like a number
            "channel": [1] * n,
            "intensity_channel": [1] * n,
            "mean_intensity": [0.5] * n,
        }
    )


def test_a_well_is_written_as_csv_and_parquet_with_key_columns_first(tmp_path):
    path = records.write_well_measurements(tmp_path, "A01", _well("A01", [1, 2], "007"))
    assert path == tmp_path / "measurements" / "A01.csv"
    header = path.read_text().splitlines()[0].split(",")
    assert header[:4] == ["well", "channel", "intensity_channel", "label"]
    typed = pq.read_table(tmp_path / "measurements" / "A01.parquet")
    assert typed.column_names == header
    assert typed.column("compound").to_pylist() == ["007", "007"]


def test_the_merge_reads_the_typed_parquet_not_csv_strings(tmp_path):
    records.write_well_measurements(tmp_path, "B02", _well("B02", [3], "010"))
    records.write_well_measurements(tmp_path, "A01", _well("A01", [1, 2], "007"))
    target = records.merge_measurements(tmp_path, ["B02", "A01", "C03"])
    assert target == tmp_path / "measurements.csv"
    merged = pq.read_table(tmp_path / "measurements.parquet")
    assert merged.column("well").to_pylist() == ["A01", "A01", "B02"]
    assert merged.column("compound").to_pylist() == ["007", "007", "010"]  # still text
    assert merged.schema.field("label").type == pa.int64()
    assert target.read_text() == tables.csv_text(merged)


def test_a_well_an_older_run_wrote_only_as_csv_is_still_merged(tmp_path):
    records.write_well_measurements(tmp_path, "A01", _well("A01", [1], "x"))
    (tmp_path / "measurements" / "A01.parquet").unlink()
    records.write_well_measurements(tmp_path, "A02", _well("A02", [2], "y"))
    records.merge_measurements(tmp_path, ["A01", "A02"])
    merged = pq.read_table(tmp_path / "measurements.parquet")
    assert merged.column("label").to_pylist() == [1, 2]
    assert records.merge_measurements(tmp_path, ["Z99"]) is None


def test_the_summary_is_per_step_and_names_the_intensity_channel():
    table = tables.concat(
        [
            _well("A01", [1, 2], "x"),
            tables.as_table(
                {
                    "step": ["marker"],
                    "area": [None],
                    "channel": [1],
                    "intensity_channel": [2],
                    "mean_intensity": [4.0],
                }
            ),
        ]
    )
    assert records.measurement_summary(table) == {
        "nuclei_count": 2,
        "nuclei_mean_area": pytest.approx(15.0),
        "nuclei_mean_intensity": pytest.approx(0.5),
        "marker_count": 1,
        "marker_mean_intensity_ch2": pytest.approx(4.0),
    }
    assert records.measurement_summary(None) == {}
