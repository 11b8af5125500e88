"""Executors (serial, supervised processes, Dask), progress, resume and run records."""

from __future__ import annotations

from napari_openhcs.lazy import attach

_RUN = "napari_openhcs.execution.run"
_EXECUTORS = "napari_openhcs.execution.executors"

# Loaded on first use: a worker imports this package without the run machinery.
__getattr__, __dir__, _exported = attach(
    __name__,
    {
        "run_plate": _RUN,
        "RunReport": _RUN,
        "make_executor": _EXECUTORS,
        "Executor": _EXECUTORS,
        "SerialExecutor": _EXECUTORS,
        "ProcessExecutor": _EXECUTORS,
        "DaskExecutor": _EXECUTORS,
    },
)
__all__ = ["run_plate", "RunReport", "make_executor"]
