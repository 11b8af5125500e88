"""How many workers a run gets: the usable cores, the available memory, what one unit needs.

The process executor and ``run_plate`` use this when no worker count is given (``"auto"``);
the choice is recorded in ``run.json`` under ``executor.chosen``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from napari_openhcs.pipeline.workunits import WorkUnit

#: The worker count asked for when it should be chosen here.
AUTO = "auto"
#: Share of the available memory the workers of one run may plan to use.
MEMORY_SHARE = 0.7
#: Bytes per pixel of a working copy (float32) and working copies per plane a unit holds.
BYTES_PER_PIXEL = 4
WORKING_COPIES = 4


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity where the system has one.

    ``os.cpu_count()`` counts every core of the machine, also those a batch scheduler or
    ``taskset`` keeps this process off.

    >>> usable_cores() >= 1
    True
    """
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):  # no affinity on macOS and Windows
        return os.cpu_count() or 1


def available_memory() -> int | None:
    """Bytes of memory available to new work: psutil where installed, else ``/proc/meminfo``
    (``MemAvailable``), else ``None`` (unknown)."""
    try:
        import psutil  # lazy: optional third-party library

        return int(psutil.virtual_memory().available)
    except ImportError:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def unit_memory_estimate(
    unit: WorkUnit,
    plane_shape: Sequence[int] | None,
    bytes_per_pixel: int = BYTES_PER_PIXEL,
    copies: int = WORKING_COPIES,
) -> int:
    """Rough bytes a unit needs: its planes as float32, times a few working copies.

    ``plane_shape`` is the plate's plane ``(y, x)`` (``PlateIndex.shape``); ``0`` when it
    is not known. Nothing is read.

    >>> from types import SimpleNamespace
    >>> unit_memory_estimate(SimpleNamespace(images=[None] * 3), (100, 200))
    960000
    """
    if not unit.images or not plane_shape:
        return 0
    pixels = 1
    for n in plane_shape:
        pixels *= int(n)
    return pixels * bytes_per_pixel * copies * len(unit.images)


def choose_workers(
    n_units: int | None = None,
    mem_per_unit_estimate: int | None = None,
    *,
    cores: int | None = None,
    available: int | None = None,
) -> int:
    """How many workers to start: at most the cores, the units, and what memory allows.

    Parameters
    ----------
    n_units : int, optional
        Units to run (no more workers than units); ``None``: not known yet.
    mem_per_unit_estimate : int, optional
        Bytes one unit needs (``unit_memory_estimate``); ``MEMORY_SHARE`` of the available
        memory is planned for.
    cores, available : int, optional
        The usable cores and available bytes (default: this machine's, now).

    Examples
    --------
    >>> choose_workers(1)
    1
    >>> choose_workers(100, 2**30, cores=8, available=4 * 2**30)
    2
    """
    workers = cores or usable_cores()
    if n_units is not None:
        workers = min(workers, n_units)
    workers = max(1, workers)
    if mem_per_unit_estimate:
        if available is None:
            available = available_memory()
        if available:
            workers = max(1, min(workers, int(available * MEMORY_SHARE // mem_per_unit_estimate)))
    return workers


@dataclass(frozen=True)
class WorkerChoice:
    """A worker count chosen for a run, with what it was chosen from (for ``run.json``)."""

    workers: int
    cores: int
    memory_available: int | None
    unit_memory_estimate: int
    units: int

    def to_dict(self) -> dict:
        """The choice as plain JSON values."""
        return asdict(self)


def choose_for_units(units: Sequence[WorkUnit], plane_shape: Sequence[int] | None) -> WorkerChoice:
    """The worker count for running ``units`` here, from the cores, the available memory and
    the largest unit's memory estimate.

    >>> choose_for_units([], (64, 64)).workers
    1
    """
    cores = usable_cores()
    estimate = max((unit_memory_estimate(u, plane_shape) for u in units), default=0)
    available = available_memory() if estimate else None
    workers = choose_workers(len(units), estimate, cores=cores, available=available)
    return WorkerChoice(
        workers=workers,
        cores=cores,
        memory_available=available,
        unit_memory_estimate=estimate,
        units=len(units),
    )
