"""Preview: run a pipeline on one site of one well in memory and return every step's output.

No Qt and nothing written: the dock calls :func:`run_preview` in its own worker process
(``ProcessPool(1).call("napari_openhcs.execution.preview:run_preview", ...)``) and shows each
step's output as a layer. A step that fails (a bad parameter, an exception in the function)
carries its error; the steps after it are not run.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from napari_openhcs import tables
from napari_openhcs.errors import PlateError
from napari_openhcs.execution.celltables import (
    compartment_name,
    join_objects,
    step_compartments,
)
from napari_openhcs.execution.engine import StepFailed, run_steps
from napari_openhcs.execution.platesteps import load_plate_result, run_plate_step
from napari_openhcs.memory import to_numpy
from napari_openhcs.pipeline.compiler import compile_pipeline
from napari_openhcs.pipeline.jsonio import pipeline_from_dict, step_to_dict
from napari_openhcs.plates import open_plate, read_plane
from napari_openhcs.storage.layout import OutputSpec, plate_step_result_path

#: Raw planes of the last (plate, well, site, timepoint) read, so a parameter change does not
#: re-read the files.
_CACHE: dict[tuple, dict] = {}


def _read_site(plate: str, well: str, site: int, timepoint: int | None):
    key = (str(plate), well, site, timepoint)
    if key in _CACHE:
        return _CACHE[key]
    index = open_plate(plate)
    if well not in index.wells:
        raise PlateError(f"well {well} is not in plate {plate}")
    keys = [k for k in index.keys_for(well, site) if timepoint is None or k.timepoint == timepoint]
    if not keys:
        raise PlateError(f"plate {plate} has no images for well {well} site {site}")
    raw = {k: read_plane(index.format, index.images[k]) for k in keys}
    _CACHE.clear()
    _CACHE[key] = (index, raw)
    return index, raw


def _step_arrays(step_name: str, planes: dict, kinds: dict) -> list[dict]:
    """One entry per channel: a ``(z, y, x)`` (or ``(y, x)``) NumPy array and its kind."""
    channels = sorted({k.channel for k in planes})
    out = []
    for c in channels:
        keys = sorted((k for k in planes if k.channel == c), key=lambda k: k.z)
        arr = np.stack([np.asarray(to_numpy(planes[k])) for k in keys])
        kind = kinds.get(keys[0], "image") or "image"
        if arr.dtype == bool:
            arr = arr.astype(np.uint8)
        if kind == "labels" and arr.dtype.kind == "f":
            arr = arr.astype(np.int32)
        if arr.shape[0] == 1:
            arr = arr[0]
        name = step_name if len(channels) == 1 else f"{step_name} [ch {c}]"
        out.append({"step": step_name, "name": name, "channel": c, "array": arr, "kind": kind})
    return out


def run_preview(
    plate: str,
    pipeline: Any,
    well: str,
    site: int,
    timepoint: int | None = None,
) -> list[dict]:
    """Run ``pipeline`` on one site of ``well`` and return each enabled step's output.

    The pipeline is compiled once (up to its first invalid step) and run by the step engine;
    plate-scope steps are computed on the same sample of wells a run uses, once per plate and
    step definition in this process.

    Parameters
    ----------
    plate : str
        Path of the plate (any format ``open_plate`` reads).
    pipeline : Pipeline or dict
        A ``Pipeline`` or its JSON dict (``pipeline_to_dict``).
    well : str
        The well, e.g. ``"A01"``.
    site : int
        The site (field) of the well.
    timepoint : int, optional
        Only this timepoint (default: all).

    Returns
    -------
    list of dict
        Per output, in step order: ``step``, ``name`` (layer name), ``channel``, ``array``
        (NumPy), ``kind`` (``"image"``, ``"labels"`` or ``"mask"``), ``error`` (``None`` or
        the message), ``seconds`` (the step's compute time), and for labels the objects'
        measurements: ``compartment`` (e.g. ``"Cells"``) and ``features`` (``index``, the
        label value, then that compartment's features, one NumPy array each), both ``None``
        when the step measured nothing. A failing step gives one entry with ``array=None``
        and its ``error``; later steps are not run.
    """
    pipe = pipeline_from_dict(pipeline) if isinstance(pipeline, dict) else pipeline
    index, raw = _read_site(plate, well, site, timepoint)
    steps = [step for step in pipe.steps if step.enabled]
    if not steps:
        return []
    spec = OutputSpec(out_dir="", plate_name=index.name, rows=index.rows, columns=index.columns)
    try:
        plan = compile_pipeline(
            pipe, index, spec, wells=[well], partial=True, plate_step_wells=index.wells
        )
    except Exception as exc:  # noqa: BLE001 - shown on the first step
        return [_error(steps[0].name, exc)]
    results: list[dict] = []
    jobs = iter(plan.plate_jobs)
    plate_results: dict = {}  # filled as the plate steps come, read by the later steps
    engine = run_steps(plan.steps, raw, plate_results)
    for n, step in enumerate(steps):
        if n == len(plan.steps) + len(plan.plate_jobs):  # the first invalid step
            results.append(_error(step.name, plan.invalid[1]))
            break
        t0 = time.perf_counter()
        if step.scope == "plate":
            try:
                plate_results[step.name] = _plate_result(plate, index, next(jobs), step)
            except Exception as exc:  # noqa: BLE001 - shown on the step
                results.append(_error(step.name, exc))
                break
            results.extend(_plate_step_entries(step.name, *plate_results[step.name], t0))
            continue
        try:
            out = next(engine)
        except StepFailed as exc:
            results.append(_error(step.name, exc.original))
            break
        except Exception as exc:  # noqa: BLE001 - shown on the step
            results.append(_error(step.name, exc))
            break
        seconds = time.perf_counter() - t0
        for entry in _step_arrays(step.name, out.planes, out.kinds):
            entry.update(error=None, seconds=seconds, features=None, compartment=None)
            if entry["kind"] == "labels":
                found = step_features(out.step, out.tables, entry["channel"])
                if found is not None:
                    entry["compartment"], entry["features"] = found
            results.append(entry)
    return results


def step_features(step, measured: list, channel) -> tuple[str, dict] | None:
    """The measurements of one step's labels (of ``channel``): ``(compartment, columns)``.

    ``measured`` is the step's ``(group, table)`` list (``StepOutput.tables``). The tables of
    the labels' channel are split by compartment (``Nuclei_...``, ``Cells_...``) and joined
    on ``ObjectNumber``; the compartment named after the step (``cells``: ``Cells``) is
    chosen, else the first one measured. ``columns`` starts with ``index`` (the object
    number, which is the label value), then the numeric features as NumPy arrays (NaN where
    a table lacks an object). ``None`` when the step measured no objects there, or measured
    several planes or timepoints of that channel separately.
    """
    mine = [(g, t) for g, t in measured if g.get("channel", channel) == channel]
    places = {tuple(sorted((k, v) for k, v in g.items() if k != "channel")) for g, _ in mine}
    if len(places) != 1:
        return None
    parts: dict[str, list[pa.Table]] = {}
    for _, table in mine:
        for comp, part in step_compartments(step, table):
            parts.setdefault(comp, []).append(part)
    if not parts:
        return None
    own = compartment_name(step.name)
    comp = own if own in parts else next(iter(parts))
    return comp, _joined_columns(parts[comp])


def _joined_columns(parts: list[pa.Table]) -> dict:
    """Tables keyed by ``ObjectNumber`` joined on it (``celltables.join_objects``) as one
    column dict: ``index`` (the object number) first, then the numeric features."""
    joined = join_objects(parts)
    columns: dict[str, np.ndarray] = {
        "index": tables.numeric_values(joined.column("ObjectNumber")).astype(np.int64)
    }
    for name in joined.column_names:
        if name != "ObjectNumber" and name not in columns:
            values = _values(joined.column(name))
            if values is not None:
                columns[name] = values
    return columns


def _values(column) -> np.ndarray | None:
    """A numeric column as NumPy, nulls as NaN; ``None`` for other columns."""
    values = tables.numeric_values(column)
    if values is None or not column.null_count:
        return values
    full = np.full(len(column), np.nan)
    full[tables.numeric_values(pc.is_valid(column))] = values
    return full


def _plate_step_entries(name: str, groups: list, estimate, t0: float) -> list[dict]:
    entries = []
    for group, plane in zip(groups, estimate, strict=True):
        label = ", ".join(f"{k} {v}" for k, v in group.items())
        entries.append(
            {
                "step": name,
                "name": f"{name} [{label}]" if label else name,
                "channel": group.get("channel"),
                "array": plane,
                "kind": "image",
                "error": None,
                "seconds": time.perf_counter() - t0,
                "features": None,
                "compartment": None,
            }
        )
    return entries


#: Plate-step results computed for previews in this process: (plate, step JSON) -> .npy path.
_PLATE_RESULTS: dict[tuple[str, str], str] = {}


def _plate_result(plate: str, index, job, step):
    """A plate-scope step's result for the preview: computed once per plate and step
    definition (``step``, on the same sample of wells a run uses), then reused."""
    key = (str(plate), json.dumps(step_to_dict(step), sort_keys=True, default=str))
    path = _PLATE_RESULTS.get(key)
    if path is None:
        folder = tempfile.mkdtemp(prefix="openhcs-preview-plate-")
        spec = OutputSpec(
            out_dir=folder, plate_name=index.name, rows=index.rows, columns=index.columns
        )
        result_path = str(plate_step_result_path(spec, job.step_name))
        path = str(run_plate_step(dataclasses.replace(job, result_path=result_path)))
        _PLATE_RESULTS[key] = path
    return load_plate_result(path)


def _error(step: str, exc: BaseException) -> dict:
    return {
        "step": step,
        "name": step,
        "channel": None,
        "array": None,
        "kind": None,
        "error": f"{type(exc).__name__}: {exc}",
        "seconds": 0.0,
        "features": None,
        "compartment": None,
    }
