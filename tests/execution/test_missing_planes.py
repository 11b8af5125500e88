"""A plate with an image plane deleted: the site is not computed, recorded, warned about, exit 1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from napari_openhcs.execution import records
from napari_openhcs.plates import open_plate
from napari_openhcs.plates.index import ImageKey
from napari_openhcs.plates.synthetic import write_plate

WELLS = ["A01", "A02", "B01"]
GONE = ImageKey("A01", 2, 1, 3, 1)  # well A01, site 2, channel 1, z 3
LABEL = "site 2 channel 1 z 3"


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("plate")
    path = write_plate(
        root / "plate", "imagexpress", wells=WELLS, sites=2, channels=2, z=3, size=64, seed=3
    )
    os.remove(open_plate(path).images[GONE])
    return path


def _run(plate, out, *extra) -> subprocess.CompletedProcess:
    cmd = [shutil.which("napari-openhcs") or sys.executable, "run", str(plate)]
    if not shutil.which("napari-openhcs"):
        cmd[1:1] = ["-m", "napari_openhcs.cli"]
    cmd += ["--pipeline", "nuclei_count", "--out", str(out), "--executor", "serial", *extra]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def _records(out):
    run = json.loads((out / "run.json").read_text())
    wells = {row["well"]: row for row in records.read_csv_rows(out / "wells.csv")}
    return run, wells


def _assert_recorded(out):
    run, wells = _records(out)
    a01 = run["wells"]["A01"]
    assert a01["missing"] == [LABEL]
    assert a01["missing_sites"] == [2]
    assert wells["A01"]["missing"] == LABEL
    for well in ("A02", "B01"):  # the complete wells are computed and have nothing missing
        assert run["wells"][well]["status"] == "done"
        assert "missing" not in run["wells"][well]
        assert wells[well]["missing"] == ""
        assert int(wells[well]["nuclei_count"]) > 0
    # A01's complete site 1 is computed, its site 2 is not
    assert a01["status"] == "done"
    sites = {r["site"] for r in records.read_csv_rows(out / "measurements" / "A01.csv")}
    assert sites == {"1"}
    return run, wells


def test_a_missing_plane_stops_its_site_is_recorded_warned_and_exits_1(plate, tmp_path):
    out = tmp_path / "out"
    proc = _run(plate, out)
    assert proc.returncode == 1, proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if line.startswith("WARNING well")]
    assert len(warnings) == 1, proc.stderr  # one line per well
    assert "A01" in warnings[0] and LABEL in warnings[0]
    assert "--allow-missing" in proc.stderr
    _assert_recorded(out)
    assert sorted(open_plate(out / "synthetic.ome.zarr").wells) == WELLS
    per_site = {r["site"] for r in records.read_csv_rows(out / "measurements" / "A02.csv")}
    assert per_site == {"1", "2"}


def test_allow_missing_exits_0_and_still_records_and_warns(plate, tmp_path):
    out = tmp_path / "out"
    proc = _run(plate, out, "--allow-missing", "--json")
    assert proc.returncode == 0, proc.stderr
    assert any(
        line.startswith("WARNING well A01") and LABEL in line for line in proc.stderr.splitlines()
    ), proc.stderr
    assert json.loads(proc.stdout)["missing"] == {"A01": [LABEL]}
    _assert_recorded(out)


def test_a_resumed_run_keeps_the_record_of_missing_planes(plate, tmp_path):
    out = tmp_path / "out"
    assert _run(plate, out, "--wells", "A01,A02").returncode == 1
    first, _ = _records(out)
    proc = _run(plate, out)  # resume: B01 computed, A01 and A02 kept
    assert proc.returncode == 1, proc.stderr
    assert LABEL in proc.stderr
    run, _ = _assert_recorded(out)
    assert run["wells"]["A01"] == first["wells"]["A01"]
    proc = _run(plate, out)  # nothing left to do: still says what is missing, still exit 1
    assert proc.returncode == 1, proc.stderr
    assert "already done" in proc.stdout and LABEL in proc.stderr
    _assert_recorded(out)


def test_run_plate_reports_missing_planes_and_allow_missing_accepts_them(plate, tmp_path, caplog):
    from napari_openhcs.execution.run import run_plate

    with caplog.at_level("WARNING"):
        report = run_plate(plate, "nuclei_count", tmp_path / "a", executor="serial", wells=["A01"])
    assert report.exit_code == 1 and report.incomplete == ["A01"]
    assert report.to_dict()["missing"] == {"A01": [LABEL]}
    assert any(LABEL in r.getMessage() for r in caplog.records)  # no progress callback: logged
    events = []
    report = run_plate(
        plate,
        "nuclei_count",
        tmp_path / "b",
        executor="serial",
        wells=["A01"],
        allow_missing=True,
        progress=events.append,
    )
    assert report.exit_code == 0 and report.wells["A01"]["missing"] == [LABEL]
    shown = [e for e in events if e["kind"] == "missing_planes"]
    assert [(e["well"], e["missing"], e["sites"]) for e in shown] == [("A01", [LABEL], [2])]


def test_a_well_whose_units_stack_sites_is_not_computed_when_one_plane_is_missing(plate, tmp_path):
    from napari_openhcs.execution.run import run_plate
    from napari_openhcs.pipeline import Pipeline, Step

    maxp = "napari_openhcs.functions.max_projection"
    pipe = Pipeline([Step(maxp, name="z"), Step(maxp, name="sites", variable_components=["site"])])
    report = run_plate(plate, pipe, tmp_path / "out", executor="serial", wells=["A01", "A02"])
    assert report.exit_code == 1
    assert report.wells["A01"]["status"] == "missing"
    assert report.wells["A01"]["missing"] == [LABEL]
    assert report.wells["A02"]["status"] == "done"
    _, wells = _records(tmp_path / "out")
    assert wells["A01"]["status"] == "missing" and wells["A01"]["missing"] == LABEL
