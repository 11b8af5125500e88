"""What a run leaves beside its images: resumed records, re-running a finished run, file modes."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from napari_openhcs import cli
from napari_openhcs.plates.synthetic import write_plate
from pipeline.run_outputs import assert_same_outputs, snapshot, well_records

WELLS = ["A01", "A02", "B01", "B02"]


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("plate")
    return write_plate(
        root / "plate", "imagexpress", wells=WELLS, sites=1, channels=2, z=2, size=64, seed=5
    )


def _run(plate, out, *extra, pipeline="nuclei_count") -> int:
    return cli.main(
        ["run", str(plate), "--pipeline", pipeline, "--out", str(out), "--executor", "serial"]
        + list(extra)
    )


def test_resumed_run_keeps_the_records_of_wells_an_earlier_run_finished(plate, tmp_path):
    out = tmp_path / "out"
    assert _run(plate, out, "--wells", "A01,B02") == 0
    first = json.loads((out / "run.json").read_text())["wells"]
    assert _run(plate, out) == 0  # resume: A01 and B02 are kept, A02 and B01 computed
    resumed = json.loads((out / "run.json").read_text())["wells"]
    assert resumed["A01"] == first["A01"] and resumed["B02"] == first["B02"]
    clean = tmp_path / "clean"
    assert _run(plate, clean) == 0
    assert well_records(out) == well_records(clean)
    assert_same_outputs(snapshot(out), snapshot(clean))
    # a later run of one well keeps every other well in wells.csv and run.json too
    assert _run(plate, out, "--wells", "A02", "--overwrite") == 0
    assert well_records(out) == well_records(clean)


def test_rerunning_a_finished_run_says_so_and_starts_no_worker(plate, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert _run(plate, out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "napari_openhcs.cli",
            "run",
            str(plate),
            "--pipeline",
            "nuclei_count",
        ]
        + ["--out", str(out), "--executor", "processes", "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"all 4 wells are already done in {out}" in proc.stdout
    assert "--overwrite" in proc.stdout
    assert "0/0" not in proc.stdout + proc.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before

    from napari_openhcs.execution import run

    def no_workers(*args, **kwargs):
        raise AssertionError("a finished run started an executor")

    monkeypatch.setattr(run, "make_executor", no_workers)
    assert cli.main(["run", str(plate), "--pipeline", "nuclei_count", "--out", str(out)]) == 0


def test_every_file_a_run_writes_gets_the_umask_mode(plate, tmp_path):
    old = os.umask(0o022)
    try:
        out = tmp_path / "out"
        assert _run(plate, out) == 0
    finally:
        os.umask(old)
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {str(p.relative_to(out)) for p in files}
    assert {"run.json", "wells.csv", "measurements.csv", "measurements/A01.csv"} <= names
    modes = {str(p.relative_to(out)): stat.S_IMODE(p.stat().st_mode) for p in files}
    assert {name: mode for name, mode in modes.items() if mode != 0o644} == {}


def _validate_every_plate(out) -> list[str]:
    from storage.storage_validation import validate_with_yaozarrs

    plates = sorted(p.name for p in out.rglob("*.ome.zarr"))
    for name in plates:
        validate_with_yaozarrs(out / name)
    return plates


def test_nuclei_marker_writes_only_valid_plates(plate, tmp_path):
    out = tmp_path / "out"
    assert _run(plate, out, pipeline="nuclei_marker") == 0
    # "nuclei" is materialised but gives labels (kept in the main plate): no second plate
    assert _validate_every_plate(out) == ["synthetic.ome.zarr"]


def test_a_run_that_finishes_no_well_leaves_no_invalid_plate(plate, tmp_path):
    steps = [
        {"name": "project", "func": "napari_openhcs.functions.max_projection"},
        {
            "name": "fault",
            "func": {
                "function": "openhcs_thirdparty_demo.functions.fail_in_well",
                "kwargs": {"well": "A01"},
            },
        },
    ]
    pipe = tmp_path / "p.json"
    pipe.write_text(json.dumps({"format": "napari-openhcs.pipeline", "version": 1, "steps": steps}))
    out = tmp_path / "out"
    assert _run(plate, out, "--wells", "A01", pipeline=str(pipe)) == 1
    assert _validate_every_plate(out) == []  # a plate without a well is not OME-Zarr
    assert (out / "run.json").is_file() and (out / "wells.csv").is_file()
    assert _run(plate, out, pipeline=str(pipe)) == 1  # and the run can be re-run there
    assert _validate_every_plate(out) == ["synthetic.ome.zarr"]
