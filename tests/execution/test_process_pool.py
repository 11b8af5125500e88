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


def _wait_for_pids(pool, n, timeout=20):
    deadline = time.monotonic() + timeout
    while len(pool.pids) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return pool.pids


def test_resize_keeps_the_warm_workers_and_starts_or_stops_the_difference(pool):
    pool.call("os:getpid")
    warm = set(_wait_for_pids(pool, 2))
    pool.resize(1)
    assert len(pool.pids) == 1 and set(pool.pids) <= warm
    kept = pool.pids[0]
    pool.resize(3)
    assert len(_wait_for_pids(pool, 3)) == 3 and kept in pool.pids
    assert pool.call("operator:add", 1, 2) == 3


def test_workers_stopped_while_starting_are_not_start_failures():
    p = ProcessPool(3)
    try:
        p.start()
        started = p.pids
        p.resize(1)  # two workers still importing are stopped at once
        assert p.call("operator:mul", 6, 7) == 42  # no "fail to start" error
        assert len(p.pids) == 1
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in started if pid not in p.pids):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        p.shutdown()


def test_an_executor_of_its_own_is_shut_down_by_its_with_block():
    from napari_openhcs.execution.executors import Executor, ProcessExecutor

    with ProcessExecutor(1, warm=False) as ex:
        assert isinstance(ex, Executor)
        pid = ex.call("os:getpid")
        assert ex.describe()["workers"] == 1
    assert not _alive(pid)
    assert ex.pool.closed


def test_a_warm_pool_resizes_in_place_and_starts_again_after_shutdown():
    from napari_openhcs.execution.processes import WarmPool

    warm = WarmPool()
    try:
        pool = warm.get(2)
        pool.call("os:getpid")
        before = set(_wait_for_pids(pool, 2))
        assert warm.get(1) is pool and len(pool.pids) == 1 and set(pool.pids) <= before
        (pid,) = pool.pids
        warm.shutdown()
        assert pool.closed and warm.pids == [] and not _alive(pid)
        assert warm.get(1) is not pool
    finally:
        warm.shutdown()
