"""Executors: ``serial``, ``processes`` and ``dask`` behind one interface.

Every executor runs the same frozen work units with ``run_units(units, on_event, on_result)``
and runs single plate-level calls with ``call("module:function", *args)``. Results and events
are delivered in the calling thread.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Callable, Iterable
from typing import Any

from napari_openhcs.errors import InputError
from napari_openhcs.pipeline.workunits import UnitError, UnitResult

log = logging.getLogger(__name__)

EXECUTORS = ("serial", "processes", "dask")


def _resolve(target: str) -> Callable:
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


class SerialExecutor:
    """Runs every unit in this process, one after another (for debugging and previews)."""

    name = "serial"

    def __init__(self) -> None:
        self._cancelled = False

    def run_units(self, units, on_event=None, on_result=None, per_gpu_limit=None):
        from napari_openhcs.execution.processes import Cancelled
        from napari_openhcs.execution.unitrun import run_unit

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

    def preload(self, modules: Iterable[str]) -> None:
        pass

    def cancel(self) -> None:
        self._cancelled = True

    def close(self) -> None:
        pass

    def describe(self) -> dict:
        return {"executor": self.name, "workers": 1}


class ProcessExecutor:
    """Supervised spawn workers (the default); see ``execution.processes``."""

    name = "processes"

    def __init__(self, workers: int | None = None, *, warm: bool = True) -> None:
        from napari_openhcs.execution.processes import ProcessPool, get_process_pool

        self.workers = workers or max(1, os.cpu_count() or 1)
        self._owned = not warm
        self.pool = ProcessPool(self.workers) if self._owned else get_process_pool(self.workers)
        self.pool.start()

    def run_units(self, units, on_event=None, on_result=None, per_gpu_limit=None):
        return self.pool.run_units(units, on_event, on_result, per_gpu_limit)

    def call(self, target: str, *args: Any) -> Any:
        return self.pool.call(target, *args)

    def preload(self, modules: Iterable[str]) -> None:
        self.pool.preload(modules)

    def cancel(self) -> None:
        self.pool.cancel()

    def close(self) -> None:
        if self._owned:
            self.pool.shutdown()

    def describe(self) -> dict:
        return {
            "executor": self.name,
            "workers": self.workers,
            "pids": self.pool.pids,
            "start_times": [round(t, 3) for t in self.pool.start_times],
        }


class DaskExecutor:
    """Dask distributed: a scheduler address, a scheduler file, or a local cluster.

    GPUs are worker resources (``--resources GPU=1`` on ``dask worker``); a unit assigned a
    GPU asks for one when the cluster offers them. Units lost with a worker are retried by
    Dask. Input and output must be on a filesystem every worker sees.
    """

    name = "dask"

    def __init__(
        self,
        workers: int | None = None,
        *,
        scheduler: str | None = None,
        scheduler_file: str | None = None,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
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
                    n_workers=workers or max(1, os.cpu_count() or 1),
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
        from distributed import as_completed

        from napari_openhcs.execution.unitrun import run_unit

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
                import traceback

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
                on_event(
                    {
                        "kind": "unit_done" if result.ok else "unit_failed",
                        "well": unit.well,
                        "site": unit.site,
                        "error": None if result.ok else result.error.message,
                    }
                )
            results.append(result)
            if on_result is not None:
                on_result(result)
        return results

    def call(self, target: str, *args: Any) -> Any:
        return self.client.submit(_call_target, target, args, pure=False).result()

    def preload(self, modules: Iterable[str]) -> None:
        pass

    def cancel(self) -> None:
        # No new tasks start; running ones finish.
        if self._futures:
            self.client.cancel(self._futures)

    def close(self) -> None:
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
    workers: int | None = None,
    *,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
):
    """Build an executor by name: ``serial``, ``processes`` or ``dask``."""
    if name == "serial":
        return SerialExecutor()
    if name == "processes":
        return ProcessExecutor(workers)
    if name == "dask":
        return DaskExecutor(workers, scheduler=scheduler, scheduler_file=scheduler_file)
    raise InputError(f"unknown executor {name!r}: choose one of {', '.join(EXECUTORS)}")
