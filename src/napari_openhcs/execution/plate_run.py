"""One run of a compiled plan into its output folder: resume, plate steps, units, finished
wells and the records (``run.json``, ``wells.csv`` with the per-well profiles, the merged
measurements, single-cell and image tables).

``run_plate`` compiles the plan and builds the ``PlateRun``; ``PlateRun.execute`` does the rest.
"""

from __future__ import annotations

import errno
import json
import logging
import shutil
import time
from collections.abc import Callable
from typing import Any

from napari_openhcs import tables
from napari_openhcs.errors import Cancelled, InputError, RunError
from napari_openhcs.execution import celltables, records
from napari_openhcs.execution.capacity import WorkerChoice, choose_for_units
from napari_openhcs.execution.events import unit_event
from napari_openhcs.execution.executors import Executor
from napari_openhcs.execution.missing import event as missing_event
from napari_openhcs.execution.missing import warning_line
from napari_openhcs.execution.report import RunReport
from napari_openhcs.pipeline.compiler import CompiledPlan
from napari_openhcs.pipeline.jsonio import pipeline_to_dict
from napari_openhcs.pipeline.workunits import UnitResult, WorkUnit
from napari_openhcs.plates.index import PlateIndex
from napari_openhcs.storage.layout import open_output_plates
from napari_openhcs.vocabulary import FINISHED_STATUSES, WellStatus

log = logging.getLogger(__name__)

#: the function every executor runs a plate-level step with (``Executor.call``).
PLATE_STEP_TARGET = "napari_openhcs.execution.platesteps:run_plate_step"


class PlateRun:
    """Runs ``plan`` with the executor ``get_runner()`` returns, filling ``report``.

    Parameters
    ----------
    plan : CompiledPlan
    pipeline : Pipeline
        The pipeline ``plan`` was compiled from (recorded in ``run.json``).
    index : PlateIndex
        The input plate.
    report : RunReport
        Filled in place; ``out`` and ``plate_path`` say where.
    get_runner : callable
        Returns the executor (started on first call: a run with nothing left to do starts none).
    overwrite : bool
        Re-run wells an earlier run finished (else they are kept and skipped: resume).
    plate_map : dict, optional
        Per-well annotations for ``wells.csv``.
    progress : callable, optional
        Receives each progress event.
    started : float
        ``time.perf_counter()`` when the run began (``report.seconds`` counts from there).
    lacking : dict
        Per well, the sites not computed because image planes are missing.
    choose_workers : bool
        Size the executor's workers to the units to run (``execution.capacity``).
    """

    def __init__(
        self,
        plan: CompiledPlan,
        pipeline: Any,
        index: PlateIndex,
        report: RunReport,
        get_runner: Callable[[], Executor],
        *,
        overwrite: bool = False,
        plate_map: dict | None = None,
        progress: Callable[[dict], None] | None = None,
        started: float | None = None,
        lacking: dict | None = None,
        choose_workers: bool = False,
    ) -> None:
        self.plan, self.pipe, self.index, self.report = plan, pipeline, index, report
        self.spec = plan.output
        self.out, self.plate_path = report.out, report.plate_path
        self.get_runner = get_runner
        self.overwrite, self.plate_map, self.progress = overwrite, plate_map, progress
        self.started = time.perf_counter() if started is None else started
        self.lacking = lacking or {}
        self.choose_workers = choose_workers
        #: the worker count chosen for this run, when it was chosen here.
        self.chosen: WorkerChoice | None = None
        self.runner: Executor | None = None
        self.writers: list = []
        self.record: dict = {}
        self.units_by_well: dict[str, list[WorkUnit]] = {}
        self.todo: list[WorkUnit] = []
        self.results_by_well: dict[str, list[UnitResult]] = {}
        self.done_count = 0
        self.stop_error: list[str] = []

    # -- the run ----------------------------------------------------------------------
    def execute(self) -> RunReport:
        """Run the units left to do and write the records; returns the report.

        Raises ``RunError`` when the run stopped on an error (disk full, outputs unwritable);
        re-raises ``KeyboardInterrupt`` when nobody listens to progress (the command line).
        """
        # the output plates, created if new; the main plate first
        self.writers = open_output_plates(self.plan.output, self.plan.intermediate_plates)
        done_before = self._sort_wells()
        self._report_missing()
        if not self.todo and done_before and not self.overwrite:
            return self._nothing_to_do()
        self.runner = self.get_runner()
        if self.choose_workers:
            self.chosen = choose_for_units(self.todo, self.index.shape)
            self.runner.resize(self.chosen.workers)
        self.runner.preload(self.plan.modules)
        self.report.executor = self.describe_executor(self.runner)
        self.record = self._first_record()
        records.write_run_record(self.out, self.record)
        try:
            self._run_plate_steps()
            self._emit_run_started()
            self.runner.run_units(
                self.todo,
                on_event=self.emit,
                on_result=self.on_result,
                per_gpu_limit=getattr(self.plan, "per_gpu_limit", None),
            )
        except (Cancelled, KeyboardInterrupt) as exc:
            if self.stop_error:
                self._close_record()
                raise RunError(self.stop_error[0]) from None
            self.report.cancelled = True
            self._close_record()
            if isinstance(exc, KeyboardInterrupt) and self.progress is None:
                raise
            return self.report
        except OSError as exc:
            self._close_record()
            raise RunError(f"run stopped while writing outputs in {self.out}: {exc}") from exc
        self._close_record()
        if self.stop_error:
            raise RunError(self.stop_error[0])
        return self.report

    def describe_executor(self, runner: Executor) -> dict:
        """``runner.describe()`` with the worker choice (``chosen``) when it was made here."""
        info = runner.describe()
        if self.chosen is not None:
            info["chosen"] = self.chosen.to_dict()
        return info

    def _sort_wells(self) -> set[str]:
        """Each well's entry: kept from an earlier run, or pending with its units to do.

        Returns the wells earlier runs finished in every output plate.
        """
        report = self.report
        done_before = set.intersection(*(set(w.finished_wells()) for w in self.writers))
        earlier_wells: dict = {}
        if done_before:
            if not self.overwrite:
                check_resumable(self.out, self.pipe, self.plate_path, self.spec)
            earlier_wells = (records.read_run_record(self.out) or {}).get("wells") or {}
        for unit in self.plan.units:
            self.units_by_well.setdefault(unit.well, []).append(unit)
        for well, units in self.units_by_well.items():
            if well in done_before and not self.overwrite:
                report.wells[well] = earlier_entry(earlier_wells.get(well))
                report.earlier.add(well)
            else:
                report.wells[well] = {"status": WellStatus.PENDING}
                self.todo.extend(units)
        for well in sorted(done_before - set(self.units_by_well)):  # outside this selection
            report.wells[well] = earlier_entry(earlier_wells.get(well))
            report.earlier.add(well)
        for well, info in self.lacking.items():  # sites with a missing plane: not computed
            report.wells.setdefault(well, {"status": WellStatus.MISSING}).update(info)
        return done_before

    def _report_missing(self) -> None:
        for well in self.report.incomplete:
            if self.progress is not None:
                self.progress(missing_event(well, self.report.wells[well]))
            else:
                log.warning(warning_line(well, self.report.wells[well]))

    def _nothing_to_do(self) -> RunReport:
        # Start no worker, keep the earlier records as they are.
        report = self.report
        report.already_done = sum(i["status"] == WellStatus.DONE for i in report.wells.values())
        report.seconds = time.perf_counter() - self.started
        merged = self.out / "measurements.csv"
        report.measurements = merged if merged.exists() else None
        if self.progress is not None:
            self.progress(
                {"kind": "already_done", "wells": report.already_done, "out": str(self.out)}
            )
        return report

    def _first_record(self) -> dict:
        spec = self.spec
        return {
            "format": "napari-openhcs.run",
            "version": 1,
            "run_id": self.plan.run_id,
            "plate": str(self.plate_path.resolve()),
            "plate_format": self.index.format,
            "output": str(self.out.resolve()),
            "pipeline": pipeline_to_dict(self.pipe),
            "versions": records.library_versions(),
            "executor": self.report.executor,
            "ngff": spec.ngff,
            "compressor": spec.compressor,
            "shards": spec.shards,
            "wells": self.report.wells,
            "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }

    def _run_plate_steps(self) -> None:
        for job in self.plan.plate_jobs:
            t0 = time.perf_counter()
            self.emit({"kind": "plate_step_started", "step": job.step_name})
            self.runner.call(PLATE_STEP_TARGET, job)
            self.emit(
                {
                    "kind": "plate_step_done",
                    "step": job.step_name,
                    "seconds": time.perf_counter() - t0,
                }
            )

    def _emit_run_started(self) -> None:
        # Each well's status as this run starts; "skipped": finished by an earlier run, kept.
        self.emit(
            {
                "kind": "run_started",
                "wells": {
                    w: WellStatus.SKIPPED if w in self.report.earlier else i["status"]
                    for w, i in self.report.wells.items()
                },
            }
        )

    # -- called by the executor, in this thread ----------------------------------------
    def emit(self, event: dict) -> None:
        """Pass a progress event on, with the units ``done`` and the ``total`` so far."""
        if self.progress is not None:
            event = dict(event)
            event.setdefault("done", self.done_count)
            event.setdefault("total", len(self.todo))
            self.progress(event)

    def on_result(self, result: UnitResult) -> None:
        """Count a unit's result; finish its well when it was the well's last unit."""
        self.done_count += 1
        self.emit(unit_event(result))
        well_results = self.results_by_well.setdefault(result.well, [])
        well_results.append(result)
        if not result.ok and is_disk_full(result):
            self._stop(f"disk full while writing well {result.well}: {result.error.message}")
        if len(well_results) == len(self.units_by_well[result.well]):
            try:
                finish_well(
                    result.well, well_results, self.writers, self.out, self.report, self.plan.run_id
                )
            except (RunError, OSError) as exc:
                # The well is not listed; say why, and stop the run if the disk is full.
                self.report.wells[result.well].update(status=WellStatus.FAILED, error=str(exc))
                cause = exc if isinstance(exc, OSError) else exc.__cause__
                if getattr(cause, "errno", None) == errno.ENOSPC:
                    self._stop(str(exc))
            records.write_run_record(self.out, self.record)

    def _stop(self, reason: str) -> None:
        self.stop_error.append(reason)
        self.runner.cancel()

    def _close_record(self) -> None:
        report, record = self.report, self.record
        drop_plates_without_wells(self.writers)
        report.seconds = time.perf_counter() - self.started
        for info in report.wells.values():
            if info["status"] == WellStatus.PENDING:
                info["status"] = WellStatus.CANCELLED if report.cancelled else WellStatus.NOT_RUN
        record.update(
            wells=report.wells,
            seconds=round(report.seconds, 3),
            cancelled=report.cancelled,
            finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        try:
            report.measurements = records.merge_measurements(self.out, report.finished)
            merged = celltables.merge_tables(self.out, report.finished, self.plate_map)
            profiles = celltables.profile_rows(
                merged[celltables.SINGLE_CELL], merged[celltables.IMAGE]
            )
            records.write_well_table(self.out, report.wells, self.plate_map, profiles)
            records.write_run_record(self.out, record)
        except OSError as exc:
            log.error("could not write the run record in %s: %s", self.out, exc)


def is_disk_full(result: UnitResult) -> bool:
    """Whether a failed unit ran out of disk space (then the whole run stops)."""
    err = result.error
    if err is None:
        return False
    if getattr(err, "errno", None) == errno.ENOSPC:
        return True
    return "No space left on device" in (err.message or "") or "ENOSPC" in (err.message or "")


def check_resumable(out, pipe, plate_path, spec) -> None:
    """Refuse to resume into ``out`` when its finished wells came from another pipeline,
    plate or storage setting: skipping them would mix two runs' results in one plate."""
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


def finish_well(well, results, writers, out, report, run_id=None) -> None:
    """Record a well whose units all ended: its timings, its failure or its measurements
    and aggregates, written (``measurements/<well>.*``, ``single_cell/<well>.*``,
    ``image/<well>.*``) and listed in the output plates."""
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
            status=WellStatus.FAILED,
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
    ordered = sorted(results, key=lambda r: (r.site is None, r.site or 0))
    cell_tables = {
        celltables.SINGLE_CELL: tables.concat(
            r.single_cells for r in ordered if r.single_cells is not None
        ),
        celltables.IMAGE: tables.concat(r.images for r in ordered if r.images is not None),
    }
    try:
        if table is not None and table.num_rows:
            records.write_well_measurements(out, well, table)
        celltables.write_well_tables(out, well, cell_tables)
        fields = sorted({f for r in results for f in r.aggregates.get("fields", [])})
        for writer in writers:
            writer.finish_well(well, fields)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise RunError(f"disk full while finishing well {well} in {out}") from exc
        raise
    info.update(status=WellStatus.DONE, aggregates=aggregates, run_id=run_id)


def earlier_entry(entry: dict | None) -> dict:
    """The record of a well an earlier run finished, kept as it was (status ``done``)."""
    if entry and entry.get("status") in FINISHED_STATUSES and "aggregates" in entry:
        return dict(entry, status=WellStatus.DONE)
    return {"status": WellStatus.DONE, "note": "finished by an earlier run whose record was lost"}


def drop_plates_without_wells(writers) -> None:
    """An OME-Zarr plate needs at least one well: a plate no well was finished in is not
    left behind (an interrupted or failed run that finished nothing leaves no plate)."""
    for writer in writers:
        if not writer.finished_wells():
            shutil.rmtree(writer.path, ignore_errors=True)
