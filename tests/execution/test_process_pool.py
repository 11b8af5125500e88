"""The supervised worker pool: calls, deaths, respawn, cancel, shutdown."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

import pytest

from napari_openhcs.errors import Cancelled
from napari_openhcs.execution.processes import ProcessPool, WorkerCallError


@pytest.fixture
def pool():
    p = ProcessPool(2)
    yield p
    p.shutdown()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); check its state.
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_call_runs_in_a_worker_process(pool):
    pid = pool.call("os:getpid")
    assert pid != os.getpid()
    assert pid in pool.pids


def test_worker_killed_by_sigkill_is_reported_and_replaced(pool):
    pid = pool.call("os:getpid")
    with pytest.raises(WorkerCallError, match="SIGKILL"):
        pool.call("os:kill", pid, signal.SIGKILL)
    # The pool is still usable and back to full strength.
    assert pool.call("operator:add", 2, 3) == 5
    deadline = time.monotonic() + 10
    while len(pool.pids) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(pool.pids) == 2
    assert pid not in pool.pids


def test_exception_in_call_carries_the_traceback(pool):
    with pytest.raises(WorkerCallError, match="ZeroDivisionError"):
        pool.call("operator:truediv", 1, 0)


def test_workers_ignore_sigint(pool):
    pid = pool.call("os:getpid")
    os.kill(pid, signal.SIGINT)
    time.sleep(0.3)
    assert pool.call("os:getpid") in pool.pids
    assert _alive(pid)


def test_cancel_stops_a_busy_worker_within_5_seconds(pool):
    pool.start()
    before = set()
    deadline = time.monotonic() + 20
    while len(before) < 2 and time.monotonic() < deadline:
        before.add(pool.call("os:getpid"))
    timer = threading.Timer(0.5, pool.cancel)
    timer.start()
    t0 = time.monotonic()
    with pytest.raises(Cancelled):
        pool.call("time:sleep", 60)
    assert time.monotonic() - t0 < 5
    busy_gone = [pid for pid in before if not _alive(pid)]
    assert len(busy_gone) == 1


def test_shutdown_stops_every_worker():
    p = ProcessPool(2)
    p.call("os:getpid")
    deadline = time.monotonic() + 20
    while len(p.pids) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = p.pids
    t0 = time.monotonic()
    p.shutdown()
    assert time.monotonic() - t0 < 5
    assert not any(_alive(pid) for pid in pids)


def test_workers_that_cannot_start_fail_the_run_with_their_error(monkeypatch):
    # A broken environment must not make the supervisor respawn workers forever.
    from napari_openhcs.errors import RunError

    p = ProcessPool(1)
    p.worker_command = (
        sys.executable,
        "-c",
        "import sys; print('broken env', file=sys.stderr); sys.exit(3)",
    )
    try:
        with pytest.raises(RunError, match="(?s)fail to start.*exited with code 3.*broken env"):
            p.call("os:getpid")
    finally:
        p.shutdown()
