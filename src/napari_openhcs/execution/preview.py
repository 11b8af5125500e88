"""Preview: run a pipeline on one site of one well in memory and return every step's output.

No Qt and nothing written: the dock calls :func:`run_preview` in its own worker process
(``ProcessPool(1).call("napari_openhcs.execution.preview:run_preview", ...)``) and shows each
step's output as a layer. A step that fails (a bad parameter, an exception in the function)
carries its error; the steps after it are not run.
"""

from __future__ import annotations

import time
from typing import Any

#: Raw planes of the last (plate, well, site, timepoint) read, so a parameter change does not
#: re-read the files.
_CACHE: dict[tuple, dict] = {}


def _read_site(plate: str, well: str, site: int, timepoint: int | None):
    from napari_openhcs.plates import open_plate, read_plane

    key = (str(plate), well, site, timepoint)
    if key in _CACHE:
        return _CACHE[key]
    index = open_plate(plate)
    if well not in index.wells:
        from napari_openhcs.errors import PlateError

        raise PlateError(f"well {well} is not in plate {plate}")
    keys = [k for k in index.keys_for(well, site) if timepoint is None or k.timepoint == timepoint]
    if not keys:
        from napari_openhcs.errors import PlateError

        raise PlateError(f"plate {plate} has no images for well {well} site {site}")
    raw = {k: read_plane(index.format, index.images[k]) for k in keys}
    _CACHE.clear()
    _CACHE[key] = (index, raw)
    return index, raw


def _step_arrays(step_name: str, planes: dict, kinds: dict) -> list[dict]:
    """One entry per channel: a ``(z, y, x)`` (or ``(y, x)``) NumPy array and its kind."""
    import numpy as np

    from napari_openhcs.memory import to_numpy

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
        the message) and ``seconds`` (the step's compute time). A failing step gives one
        entry with ``array=None`` and its ``error``; later steps are not run.
    """
    from napari_openhcs.execution.unit import StepFailed, run_step
    from napari_openhcs.pipeline.compiler import compile_pipeline
    from napari_openhcs.pipeline.jsonio import pipeline_from_dict
    from napari_openhcs.pipeline.step import Pipeline
    from napari_openhcs.pipeline.units import OutputSpec

    pipe = pipeline_from_dict(pipeline) if isinstance(pipeline, dict) else pipeline
    index, raw = _read_site(plate, well, site, timepoint)
    spec = OutputSpec(out_dir="", plate_name=index.name, rows=index.rows, columns=index.columns)
    results: list[dict] = []
    planes, kinds = dict(raw), {k: "image" for k in raw}
    outputs: dict = {"start": raw}
    plate_results: dict = {}
    for step in pipe.steps:
        if not step.enabled:
            continue
        if step.scope == "plate":
            t0 = time.perf_counter()
            try:
                plate_results[step.name] = _plate_result(plate, index, step, tuple(plate_results))
            except Exception as exc:  # noqa: BLE001 - shown on the step
                results.append(_error(step.name, exc))
                break
            groups, estimate = plate_results[step.name]
            for group, plane in zip(groups, estimate, strict=True):
                label = ", ".join(f"{k} {v}" for k, v in group.items())
                results.append(
                    {
                        "step": step.name,
                        "name": f"{step.name} [{label}]" if label else step.name,
                        "channel": group.get("channel"),
                        "array": plane,
                        "kind": "image",
                        "error": None,
                        "seconds": time.perf_counter() - t0,
                    }
                )
            continue
        try:
            compiled = compile_pipeline(
                Pipeline([step]),
                index,
                spec,
                wells=[well],
                known_steps=tuple(outputs),
                known_plate_steps=tuple(plate_results),
            ).units[0]
            cstep = compiled.steps[0]
        except Exception as exc:  # noqa: BLE001 - shown on the step
            results.append(_error(step.name, exc))
            break
        source = raw if cstep.input_source == "start" else planes
        source_kinds = {k: "image" for k in raw} if cstep.input_source == "start" else kinds
        t0 = time.perf_counter()
        try:
            planes, kinds, _tables = run_step(
                cstep, source, source_kinds, plate_results=plate_results, outputs=outputs
            )
        except StepFailed as exc:
            results.append(_error(step.name, exc.original))
            break
        except Exception as exc:  # noqa: BLE001 - shown on the step
            results.append(_error(step.name, exc))
            break
        seconds = time.perf_counter() - t0
        outputs[step.name] = planes
        for entry in _step_arrays(step.name, planes, kinds):
            entry.update(error=None, seconds=seconds)
            results.append(entry)
    return results


#: Plate-step results computed for previews in this process: (plate, step JSON) -> .npy path.
_PLATE_RESULTS: dict[tuple[str, str], str] = {}


def _plate_result(plate: str, index, step, known: tuple[str, ...]):
    """A plate-scope step's result for the preview: computed once per plate and step
    definition (on the same sample of wells a run uses), then reused."""
    import json
    import tempfile

    from napari_openhcs.execution.unit import load_plate_result, run_plate_step
    from napari_openhcs.pipeline.compiler import compile_pipeline
    from napari_openhcs.pipeline.jsonio import step_to_dict
    from napari_openhcs.pipeline.step import Pipeline
    from napari_openhcs.pipeline.units import OutputSpec

    key = (str(plate), json.dumps(step_to_dict(step), sort_keys=True, default=str))
    path = _PLATE_RESULTS.get(key)
    if path is None:
        folder = tempfile.mkdtemp(prefix="openhcs-preview-plate-")
        spec = OutputSpec(
            out_dir=folder, plate_name=index.name, rows=index.rows, columns=index.columns
        )
        plan = compile_pipeline(
            Pipeline([step]), index, spec, known_plate_steps=known, plate_steps_only=True
        )
        path = str(run_plate_step(plan.plate_jobs[0]))
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
    }
