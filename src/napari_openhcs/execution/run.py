"""Run a pipeline over a plate: compile, resume, execute, finish wells, write the records.

``run_plate`` is the one entry point used by the CLI, the exported scripts and the napari dock.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from napari_openhcs import plates
from napari_openhcs.errors import InputError
from napari_openhcs.execution.capacity import AUTO
from napari_openhcs.execution.executors import Executor, make_executor
from napari_openhcs.execution.missing import drop_incomplete_units
from napari_openhcs.execution.plate_run import PlateRun
from napari_openhcs.execution.report import RunReport
from napari_openhcs.memory.devices import visible_gpus
from napari_openhcs.pipeline import load_pipeline
from napari_openhcs.pipeline.compiler import compile_pipeline
from napari_openhcs.storage.layout import OutputSpec
from napari_openhcs.storage.ngff import check_shards
from napari_openhcs.wells import read_plate_map

log = logging.getLogger(__name__)


def run_plate(
    plate: str | os.PathLike,
    pipeline: Any,
    out: str | os.PathLike,
    *,
    executor: str | Executor = "processes",
    workers: int | str | None = None,
    wells: Sequence[str] | None = None,
    ngff: str = "0.5",
    compressor: str = "lz4",
    shards: bool = False,
    overwrite: bool = False,
    scheduler: str | None = None,
    scheduler_file: str | None = None,
    plate_map: str | os.PathLike | None = None,
    allow_python: bool = False,
    gpus: Sequence[int] | str | None = "auto",
    max_units_per_gpu: int = 1,
    progress: Callable[[dict], None] | None = None,
    allow_missing: bool = False,
) -> RunReport:
    """Run ``pipeline`` over ``plate`` and write the results under ``out``.

    Parameters
    ----------
    plate : path
        A plate folder (ImageXpress, Opera Phenix) or an OME-Zarr HCS plate. Read-only.
    pipeline : Pipeline, path or str
        A ``Pipeline``, a JSON file, a ``.py`` file (only with ``allow_python``) or the name
        of a built-in pipeline such as ``"nuclei_count"``.
    out : path
        Output folder: ``<plate>.ome.zarr``, ``measurements/``, ``measurements.csv``,
        ``wells.csv`` and ``run.json``.
    executor : {"processes", "serial", "dask"} or Executor
        An executor object is used, and not shut down; it keeps its workers unless
        ``workers`` is ``"auto"``.
    workers : int or "auto", optional
        Worker processes (or local Dask workers). ``None`` or ``"auto"``: chosen from the
        usable cores, the available memory and the units' memory estimate
        (``execution.capacity``); the choice is recorded in ``run.json``
        (``executor.chosen``).
    wells : list of str, optional
        Only these wells.
    overwrite : bool
        Re-run wells that a previous run finished (by default they are skipped: resume).
    gpus : list of int, "auto" or None
        GPUs the units of a pipeline with CuPy or torch steps are spread over, round robin;
        ``"auto"`` (default) every visible GPU; ``None`` no assignment (each library's
        current device).
    shards : bool
        NGFF 0.5 only: one file per field (Zarr sharding) instead of one per plane.
    max_units_per_gpu : int
        Units running at once on one GPU (more overlap reading and writing with GPU work,
        and need more GPU memory).
    progress : callable, optional
        Called with each progress event (a dict with ``kind``, ``well``, ``site``, ...).
    allow_missing : bool
        Sites lacking an image plane are never computed; they are recorded per well
        (``missing``) and, unless this is true, make ``exit_code`` 1.

    Returns
    -------
    RunReport
        Per-well status; ``report.exit_code`` is 0, 1 (some wells failed, or image planes
        are missing and ``allow_missing`` is false) or 130 (cancelled).

    Raises
    ------
    InputError
        Bad plate, pipeline or arguments, found before anything is written.
    RunError
        The run stopped on an error while running (for example, the disk is full).

    Examples
    --------
    >>> report = run_plate("plate/", "nuclei_count", "out/")  # doctest: +SKIP
    >>> report.exit_code  # doctest: +SKIP
    0
    """
    started = time.perf_counter()
    check_shards(shards, ngff)
    out = Path(out)
    plate_path = Path(plate)
    own_executor = isinstance(executor, str)
    runner = None if own_executor else executor
    # The worker count is chosen here unless given or fixed by a Dask scheduler's workers; an
    # executor passed in keeps its workers unless ``workers="auto"`` asks for the choice.
    choose = (
        (executor if own_executor else executor.name) != "serial"
        and not (scheduler or scheduler_file)
        and (workers == AUTO or (own_executor and workers is None))
    )

    def get_runner():
        nonlocal runner
        if runner is None:
            runner = make_executor(
                executor, workers, scheduler=scheduler, scheduler_file=scheduler_file
            )
        return runner

    # Start the workers first: they boot while the plate is indexed and the pipeline compiled;
    # unless an earlier run's record is there, in which case every well may be done already.
    if overwrite or not (out / "run.json").is_file():
        get_runner()
    try:
        pipe = (
            load_pipeline(pipeline, allow_python=allow_python)
            if not hasattr(pipeline, "steps")
            else pipeline
        )
        index = plates.open_plate(plate_path)  # through the module: tests stand in for it
        pmap = read_plate_map(plate_map) if plate_map else None
        if out.resolve() == plate_path.resolve() or plate_path.resolve() in out.resolve().parents:
            raise InputError(
                f"output folder {out} is inside the input plate {plate_path}: "
                "the input plate is read-only"
            )
        spec = OutputSpec(
            out_dir=str(out),
            plate_name=index.name,
            ngff=ngff,
            compressor=compressor,
            shards=shards,
            rows=index.rows,
            columns=index.columns,
            channel_names=tuple(sorted(index.channel_names.items())),
            pixel_size=index.pixel_size,
            plate_dtype=index.dtype,
        )
        run_id = uuid.uuid4().hex[:12]
        if gpus == "auto":
            gpus = visible_gpus()
        elif isinstance(gpus, str):
            raise InputError(f"gpus must be a list of GPU numbers, 'auto' or None; got {gpus!r}")
        plan = compile_pipeline(
            pipe,
            index,
            spec,
            wells=wells,
            run_id=run_id,
            gpus=list(gpus) if gpus else None,
            max_units_per_gpu=max_units_per_gpu,
        )
        lacking = drop_incomplete_units(plan, index, wells)
        out.mkdir(parents=True, exist_ok=True)
        report = RunReport(out=out, plate_path=plate_path, allow_missing=allow_missing)
        plate_run = PlateRun(
            plan,
            pipe,
            index,
            report,
            get_runner,
            overwrite=overwrite,
            plate_map=pmap,
            progress=progress,
            started=started,
            lacking=lacking,
            choose_workers=choose,
        )
        plate_run.execute()
        if runner is not None:
            report.executor = plate_run.describe_executor(runner)  # now with start times
        return report
    finally:
        if own_executor and runner is not None:
            runner.shutdown()
