"""The single-cell, image and per-well tables of a pipeline without cells (``nuclei_count``),
and how measured tables become compartments (``execution.celltables``)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zarr

from napari_openhcs.execution.celltables import step_compartments, unit_tables
from napari_openhcs.execution.run import run_plate
from napari_openhcs.pipeline.workunits import CompiledStep, WorkUnit
from napari_openhcs.plates.index import ImageKey
from napari_openhcs.plates.synthetic import write_plate
from napari_openhcs.plates.synthetic_layouts import PLATE_NAME
from napari_openhcs.storage.layout import OutputSpec

WELLS = ["A01", "B02"]


@pytest.fixture
def tiny_unit(tmp_path):
    """A unit of one site, two channels: only its keys matter to the tables."""
    keys = [ImageKey("C03", 2, c, 1, 1) for c in (1, 2)]
    return WorkUnit(
        run_id="r",
        plate_format="imagexpress",
        plate_root=str(tmp_path),
        well="C03",
        site=2,
        images=tuple((k, f"{k.channel}.tif") for k in keys),
        steps=(),
        output=OutputSpec(out_dir=str(tmp_path), plate_name="P1"),
    )


def _field_labels(out, well, site, name="nuclei"):
    root = zarr.open_group(str(out / f"{PLATE_NAME}.ome.zarr"), mode="r")
    return np.asarray(root[f"{well[0]}/{int(well[1:])}/{site - 1}/labels/{name}/0"][0, 0, 0])


def test_nuclei_count_writes_the_same_tables_with_its_nuclei_as_rows(tmp_path):
    plate = write_plate(tmp_path / "plate", wells=WELLS, sites=2, z=2, size=64, seed=3)
    out = tmp_path / "out"
    assert run_plate(plate, "nuclei_count", out, executor="serial").exit_code == 0
    cells = pq.read_table(out / "single_cell.parquet")
    assert cells.column_names == [
        "Metadata_Plate",
        "Metadata_Well",
        "Metadata_Site",
        "Metadata_ObjectNumber",
        "Nuclei_area",
        "Nuclei_mean_intensity",
        "Nuclei_centroid_y",
        "Nuclei_centroid_x",
    ]
    image = pq.read_table(out / "image.parquet").to_pylist()
    assert [(r["Metadata_Well"], r["Metadata_Site"]) for r in image] == [
        (w, s) for w in WELLS for s in (1, 2)
    ]
    areas: dict[str, list] = {}
    for row in image:
        labels = _field_labels(out, row["Metadata_Well"], row["Metadata_Site"])
        numbers = np.unique(labels[labels > 0])
        assert row["Count_Nuclei"] == numbers.size > 0
        site = [
            r
            for r in cells.to_pylist()
            if (r["Metadata_Well"], r["Metadata_Site"])
            == (row["Metadata_Well"], row["Metadata_Site"])
        ]
        assert [r["Metadata_ObjectNumber"] for r in site] == numbers.tolist()
        area = np.bincount(labels.ravel())[numbers]
        assert [r["Nuclei_area"] for r in site] == area.tolist()
        areas.setdefault(row["Metadata_Well"], []).extend(area.tolist())
    wells = pq.read_table(out / "wells.parquet").to_pylist()
    for row in wells:
        assert row["Metadata_Object_Count"] == row["nuclei_count"] == len(areas[row["well"]])
        assert row["Metadata_Count_Nuclei"] == row["nuclei_count"]
        assert row["Nuclei_area"] == np.median(areas[row["well"]])


def test_a_labelled_table_is_the_compartment_of_its_step():
    step = CompiledStep(name="nuclei", pattern=())
    table = {"label": [2, 1], "area": [30, 20], "plane": [0, 0], "kind": ["a", "b"]}
    [(name, found)] = step_compartments(step, table)
    assert name == "Nuclei"
    assert found.to_pydict() == {"ObjectNumber": [2, 1], "Nuclei_area": [30, 20]}
    [(name, _)] = step_compartments(step, table, channel=2)
    assert name == "Nuclei2"


def test_objects_measured_plane_by_plane_stay_in_the_long_table_only():
    step = CompiledStep(name="spots", pattern=())
    assert step_compartments(step, {"label": [1, 1], "area": [3, 4], "plane": [0, 1]}) == []


def test_cellprofiler_tables_name_their_compartment_or_say_it_in_the_keyword():
    step = CompiledStep(name="x", pattern=((None, {"compartment": "Cells"}),))
    measured = {"ObjectNumber": [1], "Cells_AreaShape_Area": [5.0]}
    assert [c for c, _ in step_compartments(step, measured)] == ["Cells"]
    empty = pa.table({"ObjectNumber": pa.array([], pa.int64())})
    [(name, found)] = step_compartments(step, empty)
    assert name == "Cells" and found.num_rows == 0


def test_two_tables_of_one_compartment_join_on_the_object_number(tiny_unit):
    nuclei = CompiledStep(name="nuclei", pattern=())
    group = {"site": tiny_unit.site, "channel": 1, "timepoint": 1}
    dna = {"ObjectNumber": [1, 2], "Nuclei_Intensity_MeanIntensity_DNA": [0.5, 0.25]}
    marker = {"ObjectNumber": [2, 3], "Nuclei_Intensity_MeanIntensity_Marker": [0.1, 0.2]}
    cells, image = unit_tables(
        tiny_unit, [(nuclei, group, dna), (nuclei, group, marker)], {"nuclei": 1.5}
    )
    assert cells.column("Metadata_ObjectNumber").to_pylist() == [1, 2, 3]
    assert cells.column("Nuclei_Intensity_MeanIntensity_DNA").to_pylist() == [0.5, 0.25, None]
    assert cells.column("Nuclei_Intensity_MeanIntensity_Marker").to_pylist() == [None, 0.1, 0.2]
    assert image.to_pylist() == [
        {
            "Metadata_Plate": tiny_unit.output.plate_name,
            "Metadata_Well": tiny_unit.well,
            "Metadata_Site": tiny_unit.site,
            "Count_Nuclei": 3,
            "ExecutionTime_nuclei": 1.5,
        }
    ]


def test_a_run_of_nuclei_count_writes_its_cell_tables_without_importing_pandas(tmp_path):
    # pyarrow's own conversions import pandas (~0.3 s in the main process and each worker);
    # the cell-level tables are built and read over NumPy buffers instead.
    code = f"""
import sys
from napari_openhcs.execution.run import run_plate
from napari_openhcs.plates.synthetic import write_plate
plate = write_plate({str(tmp_path / "plate")!r}, wells=["A01"], sites=1, z=1, size=64)
assert run_plate(plate, "nuclei_count", {str(tmp_path / "out")!r}, executor="serial").exit_code == 0
print("pandas" in sys.modules)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False"
    assert (tmp_path / "out" / "single_cell.parquet").is_file()
