"""Faults during a run: a killed worker, a raising function, Ctrl-C, a full disk.

Every test also checks that the input plate is byte-for-byte unchanged.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import tree_checksum
from napari_openhcs import cli
from napari_openhcs.plates.synthetic import write_plate
from pipeline.run_outputs import assert_same_outputs, listed_wells, snapshot, well_records
from storage.storage_validation import validate_with_yaozarrs

WELLS = ["A01", "A02", "B01", "B02"]
DEMO = "openhcs_thirdparty_demo.functions"
COUNT_STEPS = [
    {"name": "project", "func": "napari_openhcs.functions.max_projection"},
    {
        "name": "nuclei",
        "func": {"groups": {"1": "napari_openhcs.functions.count_objects"}},
        "group_by": "channel",
        "materialize": True,
    },
]


def _pipeline(tmp_path, name: str, first_step: dict) -> str:
    data = {
        "format": "napari-openhcs.pipeline",
        "version": 1,
        "name": name,
        "steps": [first_step, *COUNT_STEPS],
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return str(path)


def _fault(func: str, **kwargs) -> dict:
    return {"name": "fault", "func": {"function": f"{DEMO}.{func}", "kwargs": kwargs}}


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("plate")
    return write_plate(
        root / "plate", "imagexpress", wells=WELLS, sites=1, channels=2, z=2, size=64, seed=3
    )


def _run(plate, pipeline, out, *extra) -> int:
    return cli.main(["run", str(plate), "--pipeline", pipeline, "--out", str(out), *extra])


def _record(out) -> dict:
    return json.loads((out / "run.json").read_text())


def test_killed_worker_fails_its_well_only_and_resume_matches_a_clean_run(plate, tmp_path):
    before = tree_checksum(plate)
    fixed = tmp_path / "fault-fixed"
    killer = _pipeline(
        tmp_path, "killer", _fault("kill_worker_in_well", well="B02", unless_file=str(fixed))
    )
    out = tmp_path / "out"
    assert _run(plate, killer, out, "--executor", "processes", "--workers", "2") == 1
    wells = _record(out)["wells"]
    assert wells["B02"]["status"] == "failed"
    assert "SIGKILL" in wells["B02"]["error"]
    assert {w: wells[w]["status"] for w in ("A01", "A02", "B01")} == dict.fromkeys(
        ("A01", "A02", "B01"), "done"
    )
    assert listed_wells(out / "synthetic.ome.zarr") == ["A/1", "A/2", "B/1"]
    validate_with_yaozarrs(out / "synthetic.ome.zarr")  # valid after the interrupted run
    assert not (out / "measurements" / "B02.csv").exists()
    assert tree_checksum(plate) == before

    # The fault was transient: the same pipeline resumes and finishes B02 only.
    first = _record(out)
    fixed.write_text("")
    assert _run(plate, killer, out, "--executor", "processes", "--workers", "2") == 0
    second = _record(out)
    wells = second["wells"]
    assert {w: wells[w]["status"] for w in WELLS} == dict.fromkeys(WELLS, "done")
    # the wells of the first run keep their records, timings included; B02 is this run's
    for w in ("A01", "A02", "B01"):
        assert wells[w] == first["wells"][w]
        assert wells[w]["run_id"] == first["run_id"]
    assert wells["B02"]["run_id"] == second["run_id"] != first["run_id"]
    clean = tmp_path / "clean"
    assert _run(plate, killer, clean, "--executor", "serial") == 0
    assert_same_outputs(snapshot(out), snapshot(clean))
    assert well_records(out) == well_records(clean)
    assert tree_checksum(plate) == before


def test_raising_function_fails_its_well_with_the_traceback(plate, tmp_path):
    before = tree_checksum(plate)
    failing = _pipeline(tmp_path, "failing", _fault("fail_in_well", well="A02"))
    out = tmp_path / "out"
    assert _run(plate, failing, out, "--executor", "processes", "--workers", "2") == 1
    record = _record(out)
    bad = record["wells"]["A02"]
    assert bad["status"] == "failed"
    assert bad["step"] == "fault"
    assert bad["function"] == f"{DEMO}.fail_in_well"
    assert "deliberate failure in well A02" in bad["error"]
    assert "Traceback" in bad["traceback"]
    assert "RuntimeError: deliberate failure in well A02" in bad["traceback"]
    assert "fail_in_well" in bad["traceback"]
    for well in ("A01", "B01", "B02"):
        assert record["wells"][well]["status"] == "done"
        assert (out / "measurements" / f"{well}.csv").exists()
    assert listed_wells(out / "synthetic.ome.zarr") == ["A/1", "B/1", "B/2"]
    assert tree_checksum(plate) == before


def _children(pid: int) -> list[int]:
    import psutil

    try:
        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _done_wells(out) -> list[str]:
    try:
        wells = _record(out)["wells"]
    except (FileNotFoundError, ValueError):
        return []
    return [w for w, info in wells.items() if info["status"] == "done"]


def test_ctrl_c_exits_130_stops_workers_and_lists_only_finished_wells(plate, tmp_path):
    before = tree_checksum(plate)
    slow = _pipeline(tmp_path, "slow", _fault("slow_identity", seconds=4.0))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.Popen(
        [sys.executable, "-m", "napari_openhcs.cli", "run", str(plate), "--pipeline", slow]
        + ["--out", str(out), "--executor", "processes", "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        # Two wells finish first; the next two are then inside slow_identity.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None and not _done_wells(out):
            time.sleep(0.1)
        assert proc.poll() is None, proc.communicate()
        time.sleep(1.0)
        workers = _children(proc.pid)
        assert len(workers) >= 2
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
        t0 = time.monotonic()
        while time.monotonic() - t0 < 5 and any(_alive(p) for p in workers):
            time.sleep(0.05)
        still = [p for p in workers if _alive(p)]
        assert not still, f"workers {still} outlived Ctrl-C by 5 s"
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err
    record = _record(out)
    assert record["cancelled"] is True
    statuses = {w: info["status"] for w, info in record["wells"].items()}
    done = sorted(w for w, s in statuses.items() if s == "done")
    cancelled = sorted(w for w, s in statuses.items() if s == "cancelled")
    assert done and cancelled and sorted(done + cancelled) == WELLS, statuses
    listed = listed_wells(out / "synthetic.ome.zarr")
    assert listed == [f"{w[0]}/{int(w[1:])}" for w in done]
    assert tree_checksum(plate) == before


def test_full_disk_stops_the_run_with_a_clear_error_and_keeps_finished_wells(
    plate, tmp_path, monkeypatch, capsys
):
    from napari_openhcs.storage import images

    real = images.write_multiscale
    seen: list[str] = []

    def full_after_first_well(path, *args, **kwargs):
        parts = Path(path).parts  # <plate>.ome.zarr/<row>/<col>/<tmp>[/labels/<name>]
        top = next(i for i, p in enumerate(parts) if p.endswith(".ome.zarr"))
        well = "/".join(parts[top + 1 : top + 3])
        if well not in seen:
            seen.append(well)
        if len(seen) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(images, "write_multiscale", full_after_first_well)
    before = tree_checksum(plate)
    out = tmp_path / "out"
    pipeline = _pipeline(tmp_path, "plain", {"name": "noop", "func": f"{DEMO}.invert"})
    code = _run(plate, pipeline, out, "--executor", "serial")
    err = capsys.readouterr().err
    assert code == 1
    assert "disk full" in err.lower() or "no space left" in err.lower()
    record = _record(out)
    assert record["wells"]["A01"]["status"] == "done"
    assert record["wells"]["A02"]["status"] in ("failed", "not run")
    assert listed_wells(out / "synthetic.ome.zarr") == ["A/1"]
    assert (out / "measurements" / "A01.csv").exists()
    assert not any((out / "measurements").glob("A02*"))
    assert tree_checksum(plate) == before


def test_full_disk_while_finishing_a_well_closes_the_record(plate, tmp_path, monkeypatch, capsys):
    # The main process writes each finished well's table and metadata; the disk fills there.
    from napari_openhcs.execution import records

    real = records.write_well_measurements
    finished: list[str] = []

    def full_on_second_table(out, well, rows):
        finished.append(well)
        if len(finished) >= 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.fspath(out))
        return real(out, well, rows)

    monkeypatch.setattr(records, "write_well_measurements", full_on_second_table)
    before = tree_checksum(plate)
    out = tmp_path / "out"
    pipeline = _pipeline(tmp_path, "plain", {"name": "noop", "func": f"{DEMO}.invert"})
    assert _run(plate, pipeline, out, "--executor", "serial") == 1
    assert "disk full" in capsys.readouterr().err.lower()
    record = _record(out)
    assert "finished" in record  # the record was closed, not left mid-run
    statuses = {w: info["status"] for w, info in record["wells"].items()}
    assert statuses == {"A01": "done", "A02": "failed", "B01": "not run", "B02": "not run"}
    assert (
        "No space left" in record["wells"]["A02"]["error"]
        or "disk full" in (record["wells"]["A02"]["error"])
    )
    assert listed_wells(out / "synthetic.ome.zarr") == ["A/1"]
    assert tree_checksum(plate) == before
