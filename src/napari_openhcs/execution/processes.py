"""The process executor: a small supervisor over spawn workers.

Each worker is ``python -m napari_openhcs.execution.worker`` with pipes; the supervisor hands
it one unit at a time. A worker that dies costs only the unit it held: that unit is reported
failed and a fresh worker takes its place (a plain ``ProcessPoolExecutor`` breaks every pending
future instead). Workers stay warm across runs in one process (``get_process_pool``) or one
napari window (a ``WarmPool`` of its own).
"""

from __future__ import annotations

import atexit
import itertools
import logging
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from napari_openhcs import envvars
from napari_openhcs.errors import Cancelled, RunError
from napari_openhcs.execution.capacity import usable_cores
from napari_openhcs.execution.events import unit_event
from napari_openhcs.execution.protocol import read_frame, write_frame
from napari_openhcs.pipeline.workunits import UnitError, UnitResult, WorkUnit

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 3.0
MAX_BOOT_FAILURES = 3


class WorkerCallError(Exception):
    """A function run through ``ProcessPool.call`` raised; the message holds its traceback."""


@dataclass
class _Worker:
    proc: subprocess.Popen
    stdin: Any
    job: Any = None
    started: float = field(default_factory=time.perf_counter)
    ready: bool = False
    retired: bool = False  # stopped by ``resize``: its last messages are not news
    stderr_tail: deque = field(default_factory=lambda: deque(maxlen=30))


@dataclass
class _Job:
    token: int
    kind: str  # "unit" or "call"
    payload: Any
    gpu: int | None = None


def _signal_name(returncode: int | None) -> str:
    if returncode is None:
        return "closed its pipe"
    if returncode < 0:
        try:
            return f"was killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"was killed by signal {-returncode}"
    return f"exited with code {returncode}"


class ProcessPool:
    """Supervised spawn workers that run work units and plain calls.

    Parameters
    ----------
    workers : int
        How many worker processes to keep.
    threads_per_worker : int, optional
        CPU threads each worker's libraries may use (BLAS, OpenMP, pocl).
    """

    #: How a worker is started (a module, so a user's ``__main__`` never re-runs in it).
    worker_command = (sys.executable, "-m", "napari_openhcs.execution.worker")

    def __init__(self, workers: int, threads_per_worker: int | None = None):
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        self.size = workers
        self._threads_given = threads_per_worker
        self.threads_per_worker = threads_per_worker or max(1, usable_cores() // workers)
        self._workers: list[_Worker] = []
        self._inbox: queue.Queue = queue.Queue()
        self._tokens = itertools.count()
        self._lock = threading.Lock()
        self._cancel = threading.Event()
        self._closed = False
        self._preload: list[str] = []
        self.start_times: list[float] = []
        self._boot_failures = 0

    # -- worker lifecycle -------------------------------------------------------------
    def start(self) -> None:
        """Start missing workers (non-blocking: they report ready on their own)."""
        with self._lock:
            self._workers = [w for w in self._workers if w.proc.poll() is None]
            while len(self._workers) < self.size:
                self._workers.append(self._spawn())

    def resize(self, workers: int) -> None:
        """Keep ``workers`` workers from now on: more are started, surplus idle ones stopped
        (those still starting first), and the ones that stay keep their warm imports."""
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        with self._lock:
            self.size = workers
            if not self._threads_given:
                self.threads_per_worker = max(1, usable_cores() // workers)
            alive = [w for w in self._workers if w.proc.poll() is None]
            idle = sorted((w for w in alive if w.job is None), key=lambda w: w.ready)
            surplus = idle[: max(0, len(alive) - workers)]
            for worker in surplus:
                worker.retired = True
            self._workers = [w for w in self._workers if not w.retired]
        for worker in surplus:
            if worker.ready:
                self._send(worker, ("stop",))
            else:
                worker.proc.terminate()  # still importing: no need to wait for it
        self.start()

    def _spawn(self) -> _Worker:
        env = dict(os.environ)
        env[envvars.name(envvars.WORKER_THREADS)] = str(self.threads_per_worker)
        env.setdefault("PYTHONUNBUFFERED", "1")
        proc = subprocess.Popen(
            self.worker_command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            # Ctrl-C in a terminal goes to the whole foreground group; the supervisor
            # decides what happens to workers, so they live in their own group.
            start_new_session=True,
        )
        worker = _Worker(proc=proc, stdin=proc.stdin)
        threading.Thread(target=self._read_loop, args=(worker,), daemon=True).start()
        threading.Thread(target=self._relay_stderr, args=(worker,), daemon=True).start()
        if self._preload:
            self._send(worker, ("preload", self._preload))
        return worker

    def _read_loop(self, worker: _Worker) -> None:
        stream = worker.proc.stdout
        try:
            while True:
                self._inbox.put((worker, read_frame(stream)))
        except (EOFError, OSError, ValueError):
            pass
        worker.proc.wait()
        self._inbox.put((worker, ("died", worker.proc.returncode)))

    def _relay_stderr(self, worker: _Worker) -> None:
        # Pass the worker's stderr through, keeping its tail to explain a failed start.
        for raw in iter(worker.proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace")
            worker.stderr_tail.append(line)
            try:
                sys.stderr.write(line)
            except (OSError, ValueError):
                pass

    def _send(self, worker: _Worker, message: Any) -> bool:
        try:
            write_frame(worker.stdin, message)
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def preload(self, modules: Iterable[str]) -> None:
        """Ask every worker to import these modules now (hides library import time)."""
        self._preload = sorted(set(self._preload) | set(modules))
        self.start()
        for worker in list(self._workers):
            self._send(worker, ("preload", self._preload))

    # -- running ---------------------------------------------------------------------
    def run_units(
        self,
        units: Iterable[WorkUnit],
        on_event: Callable[[dict], None] | None = None,
        on_result: Callable[[UnitResult], None] | None = None,
        per_gpu_limit: int | None = None,
    ) -> list[UnitResult]:
        """Run units, one at a time per worker; returns results in completion order.

        ``on_event`` and ``on_result`` are called in this thread. Raises ``Cancelled`` after
        ``cancel()`` (or re-raises ``KeyboardInterrupt``) once the workers are stopped.
        """
        jobs = deque(
            _Job(next(self._tokens), "unit", unit, getattr(unit, "gpu", None)) for unit in units
        )
        results: list[UnitResult] = []

        def finish(job: _Job, result: UnitResult) -> None:
            results.append(result)
            if on_result is not None:
                on_result(result)

        def on_message(job: _Job, message: tuple) -> None:
            if message[0] == "event" and on_event is not None:
                on_event(message[2])

        def on_death(job: _Job, reason: str) -> None:
            unit: WorkUnit = job.payload
            error = UnitError(
                well=unit.well,
                site=unit.site,
                step=None,
                function=None,
                message=f"worker process {reason} while running {unit.label}",
            )
            result = UnitResult(well=unit.well, site=unit.site, ok=False, error=error)
            if on_event is not None:
                on_event(unit_event(result))
            finish(job, result)

        self._drive(jobs, finish, on_message, on_death, per_gpu_limit)
        return results

    def call(self, target: str, *args: Any) -> Any:
        """Run ``module:function(*args)`` in a worker and return its result."""
        out: list = []

        def finish(job, value):
            out.append(value)

        def on_death(job, reason):
            out.append(WorkerCallError(f"worker process {reason} while running {target}"))

        self._drive(
            deque([_Job(next(self._tokens), "call", (target, args))]), finish, None, on_death, None
        )
        value = out[0]
        if isinstance(value, WorkerCallError):
            raise value
        return value

    def _drive(self, jobs, finish, on_message, on_death, per_gpu_limit) -> None:
        if self._closed:
            raise RuntimeError("this process pool was shut down")
        self._cancel.clear()
        self.start()
        pending = len(jobs)
        gpu_load: dict[int, int] = {}
        try:
            while pending:
                if self._cancel.is_set():
                    raise Cancelled("run cancelled")
                self._dispatch(jobs, gpu_load, per_gpu_limit)
                try:
                    worker, message = self._inbox.get(timeout=0.1)
                except queue.Empty:
                    continue
                kind = message[0]
                if worker.retired:
                    continue
                if kind == "ready":
                    worker.ready = True
                    self._boot_failures = 0
                    self.start_times.append(time.perf_counter() - worker.started)
                elif kind == "died":
                    job = worker.job
                    with self._lock:
                        if worker in self._workers:
                            self._workers.remove(worker)
                    if not worker.ready:
                        self._boot_failures += 1
                        if self._boot_failures >= MAX_BOOT_FAILURES:
                            time.sleep(0.2)  # let the stderr relay catch the last lines
                            tail = "".join(worker.stderr_tail).strip()
                            raise RunError(
                                f"worker processes fail to start ({_signal_name(message[1])}):"
                                f"\n{tail}"
                            )
                    if job is not None:
                        worker.job = None
                        self._release(job, gpu_load)
                        pending -= 1
                        on_death(job, _signal_name(message[1]))
                    if pending and not self._cancel.is_set():
                        self.start()
                elif kind == "event":
                    if worker.job is not None and on_message is not None:
                        on_message(worker.job, message)
                elif kind == "result":
                    job = worker.job
                    worker.job = None
                    if job is None or message[1] != job.token:
                        continue
                    self._release(job, gpu_load)
                    pending -= 1
                    ok, value = message[2], message[3]
                    if job.kind == "call" and not ok:
                        value = WorkerCallError(f"{job.payload[0]} failed: {value[0]}\n{value[1]}")
                    finish(job, value)
                elif kind == "error":
                    log.error("worker %s: %s", worker.proc.pid, message[1])
        except BaseException:
            # Cancel or Ctrl-C: units in flight are abandoned, so their workers must go.
            self._stop_busy_workers()
            raise

    def _dispatch(self, jobs: deque, gpu_load: dict, per_gpu_limit: int | None) -> None:
        with self._lock:
            idle = [w for w in self._workers if w.ready and w.job is None]
        for worker in idle:
            job = self._next_job(jobs, gpu_load, per_gpu_limit)
            if job is None:
                return
            message = (
                ("unit", job.token, job.payload)
                if job.kind == "unit"
                else ("call", job.token, job.payload[0], job.payload[1])
            )
            worker.job = job
            if job.gpu is not None:
                gpu_load[job.gpu] = gpu_load.get(job.gpu, 0) + 1
            if not self._send(worker, message):
                # The worker is dying; its "died" message will report the job.
                continue

    @staticmethod
    def _next_job(jobs: deque, gpu_load: dict, per_gpu_limit: int | None):
        for i, job in enumerate(jobs):
            if job.gpu is None or per_gpu_limit is None or gpu_load.get(job.gpu, 0) < per_gpu_limit:
                del jobs[i]
                return job
        return None

    @staticmethod
    def _release(job: _Job, gpu_load: dict) -> None:
        if job.gpu is not None:
            gpu_load[job.gpu] -= 1

    # -- stopping --------------------------------------------------------------------
    def cancel(self) -> None:
        """Stop the current run from any thread: busy workers are killed within seconds."""
        self._cancel.set()

    def _stop_busy_workers(self) -> None:
        with self._lock:
            busy = [w for w in self._workers if w.job is not None]
            self._workers = [w for w in self._workers if w.job is None]
        _terminate([w.proc for w in busy])
        for worker in busy:
            worker.job = None

    def shutdown(self) -> None:
        """Stop every worker (politely, then by force)."""
        self._closed = True
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            self._send(worker, ("stop",))
        _terminate([w.proc for w in workers], grace=1.0)

    @property
    def pids(self) -> list[int]:
        """The running workers' process ids."""
        return [w.proc.pid for w in self._workers if w.proc.poll() is None]

    @property
    def closed(self) -> bool:
        """Whether ``shutdown`` was called (the pool runs nothing more)."""
        return self._closed


def _terminate(procs: list[subprocess.Popen], grace: float = 0.0) -> None:
    deadline = time.monotonic() + grace
    for proc in procs:
        if grace:
            try:
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
                continue
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            proc.terminate()
    deadline = time.monotonic() + STOP_TIMEOUT_S
    for proc in procs:
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class WarmPool:
    """One ``ProcessPool`` kept warm across runs, resized when the worker count changes.

    A Python process has one (``get_process_pool``); each napari window has its own, shut
    down when the window closes.
    """

    def __init__(self) -> None:
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()

    def get(self, workers: int | None = None) -> ProcessPool:
        """The pool with ``workers`` workers (started on first use, or after ``shutdown``).

        ``None``: the pool as it is, or one worker per usable core when there is none yet
        (the caller resizes it once it knows better).
        """
        with self._lock:
            if self._pool is None or self._pool.closed:
                self._pool = ProcessPool(workers or usable_cores())
                atexit.register(self._pool.shutdown)
            elif workers is not None and self._pool.size != workers:
                self._pool.resize(workers)
            return self._pool

    @property
    def pids(self) -> list[int]:
        """The running workers' process ids (none before the first ``get``)."""
        pool = self._pool
        return pool.pids if pool is not None else []

    def shutdown(self) -> None:
        """Stop the workers; a later ``get`` starts new ones."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            atexit.unregister(pool.shutdown)
            pool.shutdown()


_WARM = WarmPool()


def get_process_pool(workers: int | None = None) -> ProcessPool:
    """The process-wide pool, kept warm across runs; resized when ``workers`` changes
    (``None``: kept as it is)."""
    return _WARM.get(workers)
