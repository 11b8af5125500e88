"""Run one work unit end to end: read its planes, run the steps, write its fields, return tables.

Every executor calls :func:`run_unit` (in process, in a spawn worker, on a Dask worker). The
steps run in the step engine (``execution.engine``); nothing is cast until it is written
(``output_dtype``); ``finish_well`` is left to the executor, once every unit of a well is done.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections.abc import Callable

from napari_openhcs import plates, tables
from napari_openhcs.execution import celltables, records
from napari_openhcs.execution.context import running_unit
from napari_openhcs.execution.engine import Planes, StepFailed, run_steps
from napari_openhcs.execution.fields import UnitFields
from napari_openhcs.execution.measurements import step_tables
from napari_openhcs.execution.platesteps import load_plate_result
from napari_openhcs.memory import use_gpu
from napari_openhcs.memory.devices import on_gpu
from napari_openhcs.pipeline.workunits import UnitError, UnitResult, WorkUnit, chain_pairs


def run_unit(unit: WorkUnit, emit: Callable[[dict], None] | None = None) -> UnitResult:
    """Run one unit end to end; failures come back in the result, never raised.

    ``emit`` receives the unit's events (``unit_started``, then ``step_done`` per step); the
    result carries the unit's measurements, aggregates and timings (read, compute, write,
    total seconds).
    """
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    send = emit or (lambda event: None)
    send({"kind": "unit_started", "well": unit.well, "site": unit.site})
    gpu_ctx = _gpu_context(unit) if unit.gpu is not None else contextlib.nullcontext()
    try:
        with running_unit(unit), gpu_ctx:
            result = _run(unit, send, timings)
    except StepFailed as exc:
        message = str(exc)
        if "OutOfMemory" in type(exc.original).__name__:
            message = (
                f"GPU out of memory in step {exc.step!r} ({exc.function}) for {unit.label}"
                f"{'' if unit.gpu is None else f' on GPU {unit.gpu}'}: {message}"
            )
        error = UnitError(
            unit.well,
            unit.site,
            exc.step,
            exc.function,
            message,
            "".join(traceback.format_exception(exc.original)),
        )
        result = UnitResult(unit.well, unit.site, ok=False, error=error)
    except Exception as exc:  # noqa: BLE001 - reported with its traceback
        error = UnitError(
            unit.well, unit.site, None, None, f"{type(exc).__name__}: {exc}", traceback.format_exc()
        )
        error.errno = getattr(exc, "errno", None) or getattr(exc.__cause__, "errno", None)
        result = UnitResult(unit.well, unit.site, ok=False, error=error)
    timings["total"] = time.perf_counter() - t0
    result.timings = timings
    result.gpu = unit.gpu
    return result


@contextlib.contextmanager
def _gpu_context(unit: WorkUnit):
    """The unit's GPU for decorated calls and as the current CuPy/torch device for the whole
    unit, so that stacking, slicing and copying results between calls stay on that GPU."""
    kinds = tuple(
        {func.memory_type for step in unit.steps for func, _ in chain_pairs(step)}
        & {"cupy", "torch"}
    )
    with use_gpu(unit.gpu), on_gpu(unit.gpu, kinds):
        yield


def _run(unit: WorkUnit, send, timings) -> UnitResult:
    t = time.perf_counter()
    plate_results = {name: load_plate_result(path) for name, path in unit.plate_results}
    planes_read = plates.read_planes(unit.plate_format, [loc for _, loc in unit.images])
    raw: Planes = {key: plane for (key, _), plane in zip(unit.images, planes_read, strict=True)}
    timings["read"] = time.perf_counter() - t

    t = time.perf_counter()
    fields = UnitFields(raw, last=unit.steps[-1].name)
    found: list = []
    by_step: list = []  # (step, group, table): for the single-cell and image tables
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    for out in run_steps(unit.steps, raw, plate_results):  # each step runs in next()
        seconds[out.step.name] = time.perf_counter() - started
        found.extend(step_tables(unit, out.step, out.tables))
        by_step.extend((out.step, group, table) for group, table in out.tables)
        fields.add(out.step, out.planes, out.kinds)
        send({"kind": "step_done", "well": unit.well, "site": unit.site, "step": out.step.name})
        started = time.perf_counter()
    timings["compute"] = time.perf_counter() - t
    single_cells, images = celltables.unit_tables(unit, by_step, seconds)

    t = time.perf_counter()
    aggregates = fields.write(unit)
    timings["write"] = time.perf_counter() - t
    measured = tables.concat(found)
    if measured is not None and measured.num_rows and "object_count" not in aggregates:
        aggregates["object_count"] = measured.num_rows
    aggregates.update(records.measurement_summary(measured))
    return UnitResult(
        unit.well,
        unit.site,
        ok=True,
        measurements=measured,
        aggregates=aggregates,
        single_cells=single_cells,
        images=images,
    )
