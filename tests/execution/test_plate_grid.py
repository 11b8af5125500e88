"""A plate whose metadata declare a smaller grid than the wells on disk runs every well.

ImageXpress ``.HTD`` files (``XWells`` x ``YWells``) written by instruments and converters may
declare a grid that does not hold every well found; the index takes one that does, so no well
is computed and then lost at write time.
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys

import pytest

from napari_openhcs import cli
from napari_openhcs.plates import open_plate
from napari_openhcs.plates.synthetic import write_plate
from pipeline.run_outputs import listed_wells

WELLS = ["A01", "B02", "D04"]  # D04 is outside a 3-row x 4-column grid
PIPELINE = {
    "format": "napari-openhcs.pipeline",
    "version": 1,
    "name": "count",
    "steps": [
        {"name": "project", "func": "napari_openhcs.functions.max_projection"},
        {
            "name": "nuclei",
            "func": [
                "napari_openhcs.functions.percentile_normalize",
                "napari_openhcs.functions.count_objects",
            ],
            "materialize": True,
        },
    ],
}


def _declare_grid(htd, rows: int, columns: int) -> None:
    text = htd.read_text(encoding="ascii")
    text = re.sub(r'"XWells", \d+', f'"XWells", {columns}', text)
    text = re.sub(r'"YWells", \d+', f'"YWells", {rows}', text)
    htd.write_text(text, encoding="ascii")


@pytest.fixture(scope="module")
def small_htd_plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("grid") / "plate"
    plate = write_plate(root, "imagexpress", wells=WELLS, sites=1, channels=1, z=2, size=48)
    (htd,) = plate.glob("*.HTD")
    _declare_grid(htd, rows=3, columns=4)
    assert '"XWells", 4' in htd.read_text() and '"YWells", 3' in htd.read_text()
    return plate


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "pipeline.json"
    path.write_text(json.dumps(PIPELINE))
    return str(path)


def test_index_takes_a_grid_holding_every_well_and_warns_once(small_htd_plate, caplog):
    with caplog.at_level(logging.WARNING, logger="napari_openhcs"):
        index = open_plate(small_htd_plate, plane_info=False)
    assert index.wells == WELLS
    assert (index.rows, index.columns) == (4, 6)  # the smallest standard plate holding D04
    assert index.metadata["declared_grid"] == [3, 4]
    warnings = [r.getMessage() for r in caplog.records if "declares a 3 x 4 grid" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert "D04" in warnings[0] and ".HTD" in warnings[0]


@pytest.mark.parametrize("executor", ["serial", "processes", "dask"])
def test_every_well_is_written_with_every_executor(
    small_htd_plate, pipeline_file, tmp_path, executor
):
    out = tmp_path / "out"
    code = cli.main(
        ["run", str(small_htd_plate), "--pipeline", pipeline_file, "--out", str(out)]
        + ["--executor", executor, "--workers", "2"]
    )
    assert code == 0
    assert listed_wells(out / "synthetic.ome.zarr") == ["A/1", "B/2", "D/4"]
    record = json.loads((out / "run.json").read_text())
    statuses = {well: info["status"] for well, info in record["wells"].items()}
    assert statuses == dict.fromkeys(WELLS, "done"), statuses


def test_convert_as_a_command_writes_every_well_and_says_once_why(small_htd_plate, tmp_path):
    out = tmp_path / "converted"
    done = subprocess.run(
        [sys.executable, "-m", "napari_openhcs.cli", "convert", str(small_htd_plate)]
        + ["--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert listed_wells(out / "synthetic.ome.zarr") == ["A/1", "B/2", "D/4"]
    assert done.stderr.count("declares a 3 x 4 grid") == 1
