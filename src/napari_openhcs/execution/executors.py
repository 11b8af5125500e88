"""Executors: ``serial``, ``processes`` and ``dask`` behind one interface, ``Executor``.

Every executor runs the same frozen work units with ``run_units(units, on_event, on_result)``
and runs single plate-level calls with ``call("module:function", *args)``. Results and events
are delivered in the calling thread. An executor is a context manager: leaving the block shuts
it down (``concurrent.futures.Executor`` is the model).
"""

from __future__ import annotations

import abc
import importlib
import logging
import traceback
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from napari_openhcs.errors import Cancelled, InputError
from napari_openhcs.execution.capacity import AUTO, choose_workers
from napari_openhcs.execution.events import unit_event
from napari_openhcs.execution.processes import ProcessPool, get_process_pool
from napari_openhcs.execution.unitrun import run_unit
from napari_openhcs.pipeline.workunits import UnitError, UnitResult, WorkUnit

log = logging.getLogger(__name__)

EXECUTORS = ("serial", "processes", "dask")

#: ``on_event`` receives progress events (dicts with ``kind``, ``well``, ``site``, ...).
EventCallback = Callable[[dict], None]
#: ``on_result`` receives each unit's result as it finishes.
ResultCallback = Callable[[UnitResult], None]


def _resolve(target: str) -> Callable:
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


class Executor(abc.ABC):
    """What every executor offers: run units, run one call, cancel, resize, shut down.

    ``run_units`` and ``call`` raise ``Cancelled`` once ``cancel()`` was called (from any
    thread) during them. ``with make_executor(...) as ex:`` shuts the executor down at the end.
    """

    #: the name ``make_executor`` knows it by (and ``run.json`` records).
    name: ClassVar[str]

    @abc.abstractmethod
    def run_units(
        self,
        units: Iterable[WorkUnit],
        on_event: EventCallback | None = None,
        on_result: ResultCallback | None = None,
        per_gpu_limit: int | None = None,
    ) -> list[UnitResult]:
        """Run every unit; returns their results in completion order.

        A unit that fails (or whose worker dies) gives a failed ``UnitResult``; the others
        still run. ``per_gpu_limit`` caps the units running at once on one GPU.
        """

    @abc.abstractmethod
    def call(self, target: str, *args: Any) -> Any:
        """Run ``module:function(*args)`` where the units run and return its result."""

    def preload(self, modules: Iterable[str]) -> None:  # noqa: B027 - optional, no-op default
        """Import these modules where units run, ahead of the units (hides import time)."""

    def resize(self, workers: int) -> None:  # noqa: B027 - optional, no-op default
        """Use ``workers`` workers from now on, where this executor chooses its workers."""

    @abc.abstractmethod
    def cancel(self) -> None:
        """Stop the current ``run_units`` or ``call`` from any thread."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Release the workers this executor owns (a shared warm pool stays)."""

    @abc.abstractmethod
    def describe(self) -> dict:
        """``executor`` name, ``workers`` and executor-specific details, for ``run.json``."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.shutdown()


class SerialExecutor(Executor):
    """Runs every unit in this process, one after another (for debugging and previews)."""

    name = "serial"

    def __init__(self) -> None:
        self._cancelled = False

    def run_units(self, units, on_event=None, on_result=None, per_gpu_limit=None):
        self._cancelled = False
        results = []
        for unit in units:
            if self._cancelled:
                raise Cancelled("run cancelled")
            result = run_unit(unit, emit=on_event)
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    def call(self, target: str, *args: Any) -> Any:
        return _resolve(target)(*args)

    def cancel(self) -> None:
        self._cancelled = True

    def shutdown(self) -> None:
        pass

    def describe(self) -> dict:
        return {"executor": self.name, "workers": 1}


class ProcessExecutor(Executor):
    """Supervised spawn workers (the default); see ``execution.processes``.

    Parameters
    ----------
    workers : int or "auto", optional
        Worker processes; by default the warm pool as it is, or as many as the usable cores
        (``run_plate`` then sizes them to the plan through ``resize``).
    warm : bool
        Use the process-wide pool kept warm across runs (``get_process_pool``); ``False``
        starts workers of its own, stopped by ``shutdown``.
    pool : ProcessPool, optional
        Run on this pool (e.g. a napari window's warm pool), resized to ``workers`` when
        given; ``shutdown`` leaves it running.
    """

    name = "processes"

    def __init__(
        self,
        workers: int | str | None = None,
        *,
        warm: bool = True,
        pool: ProcessPool | None = None,
    ) -> None:
        if pool is not None:
            self.workers = pool.size if workers in (None, AUTO) else int(workers)
            if pool.size != self.workers:
                pool.resize(self.workers)
            self._owned, self.pool = False, pool
        elif warm:
            # Without a count, a warm pool is taken as it is: ``resize`` sizes it to the plan.
            self.pool = get_process_pool(None if workers in (None, AUTO) else int(workers))
            self.workers, self._owned = self.pool.size, False
        else:
            self.workers = choose_workers() if workers in (None, AUTO) else int(workers)
            self.pool, self._owned = ProcessPool(self.workers), True
        self.pool.start()

    def run_units(self, units, on_event=None, on_result=None, per_gpu_limit=None):
        return self.pool.run_units(units, on_event, on_result, per_gpu_limit)

    def call(self, target: str, *args: Any) -> Any:
        return self.pool.call(target, *args)

    def preload(self, modules: Iterable[str]) -> None:
        self.pool.preload(modules)

    def resize(self, workers: int) -> None:
        self.workers = workers
        self.pool.resize(workers)

    def cancel(self) -> None:
        self.pool.cancel()

    def shutdown(self) -> None:
        if self._owned:
            self.pool.shutdown()

    def describe(self) -> dict:
        return {
            "executor": self.name,
            "workers": self.workers,
            "pids": self.pool.pids,
            "start_times": [round(t, 3) for t in self.pool.start_times],
        }


class DaskExecutor(Executor):
    """Dask distributed: a scheduler address, a scheduler file, or a local cluster.

    GPUs are worker resources (``--resources GPU=1`` on ``dask worker``); a unit assigned a
    GPU asks for one when the cluster offers them. Units lost with a worker are retried by
    Dask. Input and output must be on a filesystem every worker sees.
    """

    name = "dask"

    def __init__(
        self,
        workers: int | str | None = None,
        *,
        scheduler: str | None = None,
        scheduler_file: str | None = None,
    ) -> None:
        try:
            from distributed import Client, LocalCluster  # lazy: heavy optional library
        except ImportError as exc:
            raise InputError(
                "the dask executor needs the 'distributed' package: "
                "pip install 'napari-openhcs[dask]'"
            ) from exc
        self._cluster = None
        try:
            if scheduler_file:
                self.client = Client(scheduler_file=scheduler_file, timeout="20s")
            elif scheduler:
                self.client = Client(scheduler, timeout="20s")
            else:
                self._cluster = LocalCluster(
                    n_workers=choose_workers() if workers in (None, AUTO) else int(workers),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                )
                self.client = Client(self._cluster)
        except OSError as exc:
            where = scheduler_file or scheduler or "a local cluster"
            raise InputError(f"cannot connect to the Dask scheduler ({where}): {exc}") from exc
        self._futures: list = []

    def _gpu_resources(self) -> bool:
        info = self.client.scheduler_info()
        return any("GPU" in w.get("resources", {}) for w in info.get("workers", {}).values())

    def run_units(self, units, on_event=None, on_result=None, per_gpu_limit=None):
        from distributed import as_completed  # lazy: heavy optional library

        units = list(units)
        use_gpu = self._gpu_resources()
        by_key = {}
        self._futures = []
        for unit in units:
            resources = {"GPU": 1} if (use_gpu and unit.gpu is not None) else None
            future = self.client.submit(
                run_unit,
                unit,
                pure=False,
                resources=resources,
                key=f"openhcs-{unit.run_id}-{unit.well}-{unit.site}",
            )
            by_key[future.key] = unit
            self._futures.append(future)
            if on_event is not None:
                on_event({"kind": "unit_submitted", "well": unit.well, "site": unit.site})
        results = []
        for future in as_completed(self._futures):
            unit = by_key[future.key]
            if future.cancelled():
                continue
            try:
                result = future.result()
            except Exception as exc:  # noqa: BLE001 - becomes the unit's failure
                result = UnitResult(
                    well=unit.well,
                    site=unit.site,
                    ok=False,
                    error=UnitError(
                        unit.well,
                        unit.site,
                        None,
                        None,
                        repr(exc),
                        "".join(traceback.format_exception(exc)),
                    ),
                )
            if on_event is not None:
                on_event(unit_event(result))
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    def call(self, target: str, *args: Any) -> Any:
        return self.client.submit(_call_target, target, args, pure=False).result()

    def resize(self, workers: int) -> None:
        # Only a local cluster of our own is ours to scale; a scheduler's workers are not.
        if self._cluster is not None:
            self._cluster.scale(workers)

    def cancel(self) -> None:
        # No new tasks start; running ones finish.
        if self._futures:
            self.client.cancel(self._futures)

    def shutdown(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()

    def describe(self) -> dict:
        workers = self.client.scheduler_info().get("workers", {})
        return {
            "executor": self.name,
            "workers": len(workers),
            "scheduler": self.client.scheduler.address,
        }


def _call_target(target: str, args: tuple) -> Any:
    return _resolve(target)(*args)


def make_executor(
    name: str = "processes",
    workers: int | str | None = None,
    *,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
) -> Executor:
    """Build an executor by name: ``serial``, ``processes`` or ``dask``.

    ``workers`` ``None`` or ``"auto"``: chosen from the usable cores (``execution.capacity``).

    >>> with make_executor("serial") as ex:
    ...     ex.call("operator:add", 2, 3)
    5
    """
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(workers, scheduler=scheduler, scheduler_file=scheduler_file)
    raise InputError(f"unknown executor {name!r}: choose one of {', '.join(EXECUTORS)}")
