"""Executors (serial, supervised processes, Dask), progress, resume and run records."""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    if name in ("run_plate", "RunReport"):
        from napari_openhcs.execution import run

        return getattr(run, name)
    if name in ("make_executor", "Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor"):
        from napari_openhcs.execution import executors

        return getattr(executors, name)
    raise AttributeError(name)


__all__ = ["run_plate", "RunReport", "make_executor"]
