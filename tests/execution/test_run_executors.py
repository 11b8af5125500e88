"""The same plate and pipeline give identical outputs with every executor."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import tree_checksum
from napari_openhcs import cli
from napari_openhcs.plates.synthetic import write_plate
from pipeline.run_outputs import assert_same_outputs, snapshot

WELLS = ["A01", "A02", "B01"]
# nuclei_count with the projection kept: two output plates, labels and measurements.
PIPELINE = {
    "format": "napari-openhcs.pipeline",
    "version": 1,
    "name": "count, keep projection",
    "steps": [
        {"name": "project", "func": "napari_openhcs.functions.max_projection", "materialize": True},
        {
            "name": "nuclei",
            "func": {
                "groups": {
                    "1": [
                        "napari_openhcs.functions.percentile_normalize",
                        "napari_openhcs.functions.count_objects",
                    ]
                }
            },
            "group_by": "channel",
            "materialize": True,
        },
    ],
}


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("plate")
    return write_plate(
        root / "plate", "imagexpress", wells=WELLS, sites=2, channels=2, z=2, size=64, seed=0
    )


@pytest.fixture(scope="module")
def pipeline_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("pipeline") / "pipeline.json"
    path.write_text(json.dumps(PIPELINE))
    return str(path)


@pytest.fixture(scope="module")
def serial_outputs(plate, pipeline_file, tmp_path_factory):
    out = tmp_path_factory.mktemp("serial") / "out"
    before = tree_checksum(plate)
    code = cli.main(
        ["run", str(plate), "--pipeline", pipeline_file, "--out", str(out), "--executor", "serial"]
    )
    assert code == 0
    assert tree_checksum(plate) == before
    return snapshot(out)


def test_serial_run_writes_every_well(serial_outputs):
    listed = ["A/1", "A/2", "B/1"]
    assert serial_outputs["wells"] == {
        "synthetic.ome.zarr": listed,
        "synthetic_project.ome.zarr": listed,
    }
    # per field: image and labels in the main plate, the projection in its own plate
    assert len(serial_outputs["arrays"]) == 3 * 2 * len(WELLS)
    assert set(serial_outputs["csv"]) == {f"measurements/{w}.csv" for w in WELLS} | {
        "measurements.csv"
    }


def test_processes_executor_matches_serial(plate, pipeline_file, serial_outputs, tmp_path):
    before = tree_checksum(plate)
    out = tmp_path / "out"
    code = cli.main(
        [
            "run",
            str(plate),
            "--pipeline",
            pipeline_file,
            "--out",
            str(out),
            "--executor",
            "processes",
            "--workers",
            "2",
        ]
    )
    assert code == 0
    assert tree_checksum(plate) == before
    assert_same_outputs(snapshot(out), serial_outputs)


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


@pytest.mark.slow
def test_dask_cluster_matches_serial(plate, pipeline_file, serial_outputs, tmp_path):
    from distributed import Client

    sched_file = tmp_path / "scheduler.json"
    dask = [sys.executable, "-m", "dask"]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    procs = [
        subprocess.Popen(
            [
                *dask,
                "scheduler",
                "--scheduler-file",
                str(sched_file),
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    try:
        _wait_for(sched_file.exists, 60, "the Dask scheduler file")
        for _ in range(2):
            procs.append(
                subprocess.Popen(
                    [
                        *dask,
                        "worker",
                        "--scheduler-file",
                        str(sched_file),
                        "--nworkers",
                        "1",
                        "--nthreads",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                    ],
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        with Client(scheduler_file=str(sched_file), timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
        before = tree_checksum(plate)
        out = tmp_path / "out"
        code = cli.main(
            [
                "run",
                str(plate),
                "--pipeline",
                pipeline_file,
                "--out",
                str(out),
                "--executor",
                "dask",
                "--scheduler-file",
                str(sched_file),
                "--json",
            ]
        )
        assert code == 0
        assert tree_checksum(plate) == before
        record = json.loads((out / "run.json").read_text())
        assert record["executor"]["executor"] == "dask"
        assert record["executor"]["workers"] == 2
        assert_same_outputs(snapshot(out), serial_outputs)
    finally:
        _stop(procs[1:])
        _stop(procs[:1])
    assert all(p.poll() is not None for p in procs)


def test_plate_steps_and_second_images_give_the_same_outputs_on_every_executor(plate, tmp_path):
    """nuclei_marker: a plate step (run once through the executor's ``call``), its result
    and another step's channel as second images, on serial, processes and a local Dask
    cluster."""
    outs = {}
    for executor in ("serial", "processes", "dask"):
        out = tmp_path / executor
        code = cli.main(
            ["run", str(plate), "--pipeline", "nuclei_marker", "--out", str(out), "--json"]
            + ["--executor", executor, "--workers", "2"]
        )
        assert code == 0, executor
        outs[executor] = snapshot(out)
        assert (out / ".openhcs" / "plate_steps" / "flatfield.npy").exists()
    assert_same_outputs(outs["processes"], outs["serial"])
    assert_same_outputs(outs["dask"], outs["serial"])
    assert "marker" in outs["serial"]["csv"]["measurements.csv"]
