"""Run a pipeline over a plate: compile, resume, execute, finish wells, write the records.

``run_plate`` is the one entry point used by the CLI, the exported scripts and the napari dock.
"""

from __future__ import annotations

import errno
import logging
import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from napari_openhcs import tables
from napari_openhcs.errors import InputError, RunError
from napari_openhcs.execution import records
from napari_openhcs.execution.missing import drop_incomplete_units, warning_line
from napari_openhcs.execution.missing import event as missing_event
from napari_openhcs.pipeline.workunits import UnitResult
from napari_openhcs.storage.layout import OutputSpec, open_output_plates

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """What a run did. ``exit_code`` follows the CLI's rules (0, 1, 130)."""

    out: Path
    plate_path: Path
    wells: dict[str, dict] = field(default_factory=dict)
    seconds: float = 0.0
    cancelled: bool = False
    executor: dict = field(default_factory=dict)
    measurements: Path | None = None
    already_done: int = 0  # wells an earlier run finished, when there was nothing left to do
    earlier: set[str] = field(default_factory=set)  # wells kept as an earlier run finished them
    allow_missing: bool = False  # wells with missing image planes do not make the run fail

    @property
    def failed(self) -> list[str]:
        return sorted(w for w, info in self.wells.items() if info["status"] == "failed")

    @property
    def finished(self) -> list[str]:
        return sorted(w for w, info in self.wells.items() if info["status"] in ("done", "skipped"))

    @property
    def incomplete(self) -> list[str]:
        """Wells with sites not computed because image planes are missing."""
        return sorted(w for w, info in self.wells.items() if info.get("missing"))

    @property
    def exit_code(self) -> int:
        if self.cancelled:
            return 130
        return 1 if self.failed or (self.incomplete and not self.allow_missing) else 0

    def to_dict(self) -> dict:
        return {
            "out": str(self.out),
            "plate": str(self.plate_path),
            "wells": self.wells,
            "seconds": round(self.seconds, 3),
            "cancelled": self.cancelled,
            "failed": self.failed,
            "missing": {w: self.wells[w]["missing"] for w in self.incomplete},
            "executor": self.executor,
            "measurements": str(self.measurements) if self.measurements else None,
            "exit_code": self.exit_code,
            "finished_earlier": sorted(self.earlier),
        }


def _is_disk_full(result: UnitResult) -> bool:
    err = result.error
    if err is None:
        return False
    if getattr(err, "errno", None) == errno.ENOSPC:
        return True
    return "No space left on device" in (err.message or "") or "ENOSPC" in (err.message or "")


def run_plate(
    plate: str | os.PathLike,
    pipeline: Any,
    out: str | os.PathLike,
    *,
    executor: str | Any = "processes",
    workers: int | None = None,
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
    executor : {"processes", "serial", "dask"} or executor object
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
    from napari_openhcs.execution.executors import make_executor
    from napari_openhcs.pipeline import load_pipeline
    from napari_openhcs.pipeline.compiler import compile_pipeline
    from napari_openhcs.plates import open_plate
    from napari_openhcs.storage.ngff import check_shards

    started = time.perf_counter()
    check_shards(shards, ngff)
    out = Path(out)
    plate_path = Path(plate)
    own_executor = isinstance(executor, str)
    runner = None if own_executor else executor

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
        index = open_plate(plate_path)
        pmap = records.read_plate_map(plate_map) if plate_map else None
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
            from napari_openhcs.memory.devices import visible_gpus

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
        _execute(
            plan, pipe, index, spec, report, get_runner, overwrite, pmap, progress, started, lacking
        )
        if runner is not None:
            report.executor = runner.describe()  # now with worker start times
        return report
    finally:
        if own_executor and runner is not None:
            runner.close()


def _execute(
    plan, pipe, index, spec, report, get_runner, overwrite, pmap, progress, started, lacking
) -> RunReport:
    from napari_openhcs.execution.processes import Cancelled
    from napari_openhcs.pipeline.jsonio import pipeline_to_dict

    out, plate_path = report.out, report.plate_path
    writers = open_output_plates(plan.output, plan.intermediate_plates)  # main plate first
    done_before = set.intersection(*(set(w.finished_wells()) for w in writers))
    earlier_wells: dict = {}
    if done_before:
        if not overwrite:
            _check_resumable(out, pipe, plate_path, spec)
        earlier_wells = (records.read_run_record(out) or {}).get("wells") or {}
    units_by_well: dict[str, list] = {}
    for unit in plan.units:
        units_by_well.setdefault(unit.well, []).append(unit)
    todo = []
    for well, units in units_by_well.items():
        if well in done_before and not overwrite:
            report.wells[well] = _earlier_entry(earlier_wells.get(well))
            report.earlier.add(well)
        else:
            report.wells[well] = {"status": "pending"}
            todo.extend(units)
    for well in sorted(done_before - set(units_by_well)):  # finished, outside this selection
        report.wells[well] = _earlier_entry(earlier_wells.get(well))
        report.earlier.add(well)
    for well, info in lacking.items():  # sites with a missing plane: recorded, not computed
        report.wells.setdefault(well, {"status": "missing"}).update(info)
    for well in report.incomplete:
        if progress is not None:
            progress(missing_event(well, report.wells[well]))
        else:
            log.warning(warning_line(well, report.wells[well]))
    if not todo and done_before and not overwrite:
        # Nothing to do: start no worker, keep the earlier records as they are.
        report.already_done = sum(i["status"] == "done" for i in report.wells.values())
        report.seconds = time.perf_counter() - started
        merged = out / "measurements.csv"
        report.measurements = merged if merged.exists() else None
        if progress is not None:
            progress({"kind": "already_done", "wells": report.already_done, "out": str(out)})
        return report
    runner = get_runner()
    runner.preload(plan.modules)
    report.executor = runner.describe()

    record = {
        "format": "napari-openhcs.run",
        "version": 1,
        "run_id": plan.run_id,
        "plate": str(plate_path.resolve()),
        "plate_format": index.format,
        "output": str(out.resolve()),
        "pipeline": pipeline_to_dict(pipe),
        "versions": records.library_versions(),
        "executor": report.executor,
        "ngff": spec.ngff,
        "compressor": spec.compressor,
        "shards": spec.shards,
        "wells": report.wells,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    records.write_run_record(out, record)

    results_by_well: dict[str, list[UnitResult]] = {}
    total = len(todo)
    done_count = 0
    stop_error: list[str] = []

    def emit(event: dict) -> None:
        if progress is not None:
            event = dict(event)
            event.setdefault("done", done_count)
            event.setdefault("total", total)
            progress(event)

    def on_result(result: UnitResult) -> None:
        nonlocal done_count
        done_count += 1
        emit(
            {
                "kind": "unit_done" if result.ok else "unit_failed",
                "well": result.well,
                "site": result.site,
                "error": None if result.ok else result.error.message,
            }
        )
        well_results = results_by_well.setdefault(result.well, [])
        well_results.append(result)
        if not result.ok and _is_disk_full(result):
            stop_error.append(f"disk full while writing well {result.well}: {result.error.message}")
            runner.cancel()
        if len(well_results) == len(units_by_well[result.well]):
            try:
                _finish_well(result.well, well_results, writers, out, report, plan.run_id)
            except (RunError, OSError) as exc:
                # The well is not listed; say why, and stop the run if the disk is full.
                report.wells[result.well].update(status="failed", error=str(exc))
                cause = exc if isinstance(exc, OSError) else exc.__cause__
                if getattr(cause, "errno", None) == errno.ENOSPC:
                    stop_error.append(str(exc))
                    runner.cancel()
            records.write_run_record(out, record)

    try:
        for job in plan.plate_jobs:
            t0 = time.perf_counter()
            emit({"kind": "plate_step_started", "step": job.step_name})
            runner.call("napari_openhcs.execution.platesteps:run_plate_step", job)
            emit(
                {
                    "kind": "plate_step_done",
                    "step": job.step_name,
                    "seconds": time.perf_counter() - t0,
                }
            )
        # Each well's status as this run starts; "skipped": finished by an earlier run, kept.
        emit(
            {
                "kind": "run_started",
                "wells": {
                    w: "skipped" if w in report.earlier else i["status"]
                    for w, i in report.wells.items()
                },
            }
        )
        runner.run_units(
            todo,
            on_event=emit,
            on_result=on_result,
            per_gpu_limit=getattr(plan, "per_gpu_limit", None),
        )
    except (Cancelled, KeyboardInterrupt) as exc:
        if stop_error:
            _close_record(record, report, out, started, pmap, writers)
            raise RunError(stop_error[0]) from None
        report.cancelled = True
        _close_record(record, report, out, started, pmap, writers)
        if isinstance(exc, KeyboardInterrupt) and progress is None:
            raise
        return report
    except OSError as exc:
        _close_record(record, report, out, started, pmap, writers)
        raise RunError(f"run stopped while writing outputs in {out}: {exc}") from exc
    if stop_error:
        _close_record(record, report, out, started, pmap, writers)
        raise RunError(stop_error[0])
    _close_record(record, report, out, started, pmap, writers)
    return report


def _check_resumable(out: Path, pipe, plate_path: Path, spec) -> None:
    """Refuse to resume into ``out`` when its finished wells came from another pipeline,
    plate or storage setting: skipping them would mix two runs' results in one plate."""
    import json

    from napari_openhcs.pipeline.jsonio import pipeline_to_dict

    earlier = records.read_run_record(out)
    if earlier is None:
        return
    now = {
        "pipeline": json.loads(json.dumps(pipeline_to_dict(pipe))),
        "plate": str(plate_path.resolve()),
        "ngff": spec.ngff,
        "compressor": spec.compressor,
        "shards": spec.shards,
    }
    differs = [key for key, value in now.items() if key in earlier and earlier[key] != value]
    if differs:
        raise InputError(
            f"{out} holds wells finished by a run with a different {' and '.join(differs)}; "
            "resuming would mix the two in one plate: pass --overwrite to redo every well, "
            "or choose another --out"
        )


def _finish_well(well, results, writers, out, report, run_id=None) -> None:
    info = report.wells[well]
    failed = [r for r in results if not r.ok]
    info["seconds"] = round(sum(r.timings.get("total", 0.0) for r in results), 3)
    info["timings"] = {
        phase: round(sum(r.timings.get(phase, 0.0) for r in results), 3)
        for phase in ("read", "compute", "write")
    }
    gpus = sorted({r.gpu for r in results if r.gpu is not None})
    if gpus:
        info["gpus"] = gpus
    if failed:
        err = failed[0].error
        info.update(
            status="failed",
            step=err.step,
            function=err.function,
            error=err.message,
            traceback=err.traceback,
            site=err.site,
        )
        return
    measured = []
    aggregates: dict[str, Any] = {}
    for r in sorted(results, key=lambda r: (r.site is None, r.site or 0)):
        if r.measurements is not None:
            measured.append(r.measurements)
        for key, value in r.aggregates.items():
            if key == "fields":
                continue
            if isinstance(value, (int, float)) and key.endswith(("count", "_count")):
                aggregates[key] = aggregates.get(key, 0) + value
            else:
                aggregates.setdefault(key, value)
    table = tables.concat(measured)
    aggregates.update(records.measurement_summary(table))  # over the whole well, not one site
    try:
        if table is not None and table.num_rows:
            records.write_well_measurements(out, well, table)
        fields = sorted({f for r in results for f in r.aggregates.get("fields", [])})
        for writer in writers:
            writer.finish_well(well, fields)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise RunError(f"disk full while finishing well {well} in {out}") from exc
        raise
    info.update(status="done", aggregates=aggregates, run_id=run_id)


def _earlier_entry(entry: dict | None) -> dict:
    """The record of a well an earlier run finished, kept as it was (status ``done``)."""
    if entry and entry.get("status") in ("done", "skipped") and "aggregates" in entry:
        return dict(entry, status="done")
    return {"status": "done", "note": "finished by an earlier run whose record was lost"}


def _drop_plates_without_wells(writers) -> None:
    """An OME-Zarr plate needs at least one well: a plate no well was finished in is not
    left behind (an interrupted or failed run that finished nothing leaves no plate)."""
    import shutil

    for writer in writers:
        if not writer.finished_wells():
            shutil.rmtree(writer.path, ignore_errors=True)


def _close_record(record, report, out, started, pmap, writers) -> None:
    _drop_plates_without_wells(writers)
    report.seconds = time.perf_counter() - started
    for info in report.wells.values():
        if info["status"] == "pending":
            info["status"] = "cancelled" if report.cancelled else "not run"
    record.update(
        wells=report.wells,
        seconds=round(report.seconds, 3),
        cancelled=report.cancelled,
        finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    )
    try:
        report.measurements = records.merge_measurements(out, report.finished)
        records.write_well_table(out, report.wells, pmap)
        records.write_run_record(out, record)
    except OSError as exc:
        log.error("could not write the run record in %s: %s", out, exc)
