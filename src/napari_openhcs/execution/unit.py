"""Run one work unit: read its planes, run the steps, write its fields, return tables.

Planes are kept in a dict keyed by ``ImageKey`` (in whatever memory type the last function
returned); each step groups them by the components it does not stack, runs its pattern on
each ``(n, y, x)`` stack and puts the results back under the right keys. Nothing is cast
until it is written (``output_dtype``); ``finish_well`` is left to the executor, once every
unit of a well is done.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from napari_openhcs import tables
from napari_openhcs.errors import PipelineError
from napari_openhcs.execution import records
from napari_openhcs.memory.devices import on_gpu
from napari_openhcs.memory.planes import stack_planes
from napari_openhcs.pipeline.dtypes import cast_for_output
from napari_openhcs.pipeline.units import CompiledStep, UnitError, UnitResult, WorkUnit
from napari_openhcs.plates.index import ImageKey
from napari_openhcs.vocabulary import image_ref

Planes = dict[ImageKey, Any]


class StepFailed(Exception):
    """Carries where a unit failed (step, function) around the original exception."""

    def __init__(self, step: str, function: str | None, exc: BaseException):
        super().__init__(f"{type(exc).__name__}: {exc}")
        self.step, self.function, self.original = step, function, exc


def _fields(key: ImageKey) -> dict:
    return key._asdict()


def _group(planes: Planes, stacked: tuple[str, ...]) -> dict[tuple, list[ImageKey]]:
    groups: dict[tuple, list[ImageKey]] = defaultdict(list)
    for key in planes:
        d = _fields(key)
        groups[
            tuple((c, d[c]) for c in ("site", "channel", "z", "timepoint") if c not in stacked)
        ].append(key)
    for keys in groups.values():
        keys.sort(key=lambda k: tuple(_fields(k)[c] for c in stacked))
    return groups


def run_chain(
    chain, stack, whole_volume: bool, step: str, group=(), plate_results=None, images=None
):
    """Run a resolved chain; returns (result stack, output kind, special outputs list).

    Keyword values ``{"plate_step": name}`` become the plate step's plane for ``group``;
    image references (``{"image": source, ...}``) become stacks through
    ``images.resolve(kwargs, stack)`` (an ``ImageSources``).
    """
    specials: list[tuple[str, Any]] = []
    kind = None
    for func, kwargs in chain:
        try:
            kwargs = _with_plate_results(kwargs, dict(group), plate_results or {})
            if images is not None:
                kwargs = images.resolve(kwargs, stack)
            out = func(stack, whole_volume=whole_volume, **kwargs)
        except Exception as exc:  # noqa: BLE001 - re-raised with the step and function
            raise StepFailed(step, func.ref, exc) from exc
        if isinstance(out, tuple):
            stack = out[0]
            names = func.special_outputs or tuple(f"output{i}" for i in range(1, len(out)))
            specials.extend(zip(names, out[1:], strict=False))
        else:
            stack = out
        kind = func.output_kind
    return stack, kind, specials


class ImageSources:
    """Resolves image references of one group of planes to stacks.

    ``{"image": "previous"}`` is the stack the function receives; with ``"channel": c`` it
    is the step's input planes of channel ``c``. ``"start"`` is the raw plate images and any
    other name an earlier step's output (``outputs``). Planes are matched to the group's
    ``keys`` on site, z and timepoint, and on channel unless one is given.
    """

    def __init__(self, keys: list[ImageKey], step_input: Planes, outputs: dict[str, Planes]):
        self.keys, self.step_input, self.outputs = keys, step_input, outputs

    def resolve(self, kwargs: dict, stack: Any) -> dict:
        resolved = dict(kwargs)
        for name, value in kwargs.items():
            ref = image_ref(value)
            if ref is not None:
                resolved[name] = self.stack(ref, stack)
        return resolved

    def stack(self, ref: dict, current: Any) -> Any:
        source, channel = ref["image"], ref.get("channel")
        if source == "previous" and channel is None:
            return current
        pool = self.step_input if source == "previous" else self.outputs.get(source)
        if pool is None:
            raise PipelineError(f"image {ref}: no step {source!r} ran before this one")
        wanted = [k if channel is None else k._replace(channel=int(channel)) for k in self.keys]
        missing = [w for w in wanted if w not in pool]
        if missing:
            m = missing[0]
            have = sorted({(k.channel, k.z) for k in pool if k.site == m.site})
            raise PipelineError(
                f"image {ref}: no plane for site {m.site}, channel {m.channel}, z {m.z}, "
                f"timepoint {m.timepoint} (that source has channel, z {have}); a source that "
                "was projected matches only steps after the same projection"
            )
        return stack_planes([pool[w] for w in wanted])


def run_step(
    step: CompiledStep,
    planes: Planes,
    kinds: dict,
    plate_results: dict | None = None,
    outputs: dict[str, Planes] | None = None,
) -> tuple[Planes, dict, list]:
    """Apply one step to every group of planes; returns new planes, kinds and tables.

    ``plate_results`` maps a plate step's name to ``load_plate_result(path)``; ``outputs``
    maps ``"start"`` and earlier steps' names to their planes, for image references.
    """
    stacked = step.variable_components
    whole = "z" in stacked
    out: Planes = {}
    out_kinds: dict = {}
    found: list[tuple[dict, Any]] = []
    groups_pattern = dict(step.pattern) if step.group_by else None
    for group, keys in _group(planes, stacked).items():
        if groups_pattern is not None:
            value = str(_fields(keys[0])[step.group_by])
            chain = groups_pattern.get(value)
            if chain is None:  # values the dict does not name pass through unchanged
                for k in keys:
                    out[k], out_kinds[k] = planes[k], kinds.get(k, "image")
                continue
        else:
            chain = step.pattern
        stack = stack_planes([planes[k] for k in keys])
        images = ImageSources(keys, planes, outputs or {})
        result, kind, specials = run_chain(
            chain, stack, whole, step.name, group, plate_results, images
        )
        n_in, n_out = len(keys), int(result.shape[0]) if result.ndim == 3 else 1
        if result.ndim == 2:
            result = result[None]
        if n_out == n_in:
            new_keys = keys
        elif n_out == 1:
            first = _fields(keys[0])
            for c in stacked:
                first[c] = min(_fields(k)[c] for k in keys)
            new_keys = [ImageKey(**first)]
        else:
            raise StepFailed(
                step.name,
                chain[-1][0].ref,
                PipelineError(
                    f"returned {n_out} planes for a stack of {n_in}; a step must keep the stack "
                    "or reduce it to one plane"
                ),
            )
        for i, k in enumerate(new_keys):
            out[k], out_kinds[k] = result[i], kind
        for _name, value in specials:
            if tables.is_table(value):
                found.append((dict(group), value))
    return out, out_kinds, found


def _field_array(planes: Planes, site: int, dtype_rule: str, plate_dtype: str | None):
    from napari_openhcs.memory import to_numpy

    keys = [k for k in planes if k.site == site]
    ts = sorted({k.timepoint for k in keys})
    cs = sorted({k.channel for k in keys})
    zs = sorted({k.z for k in keys})
    lookup = {(k.timepoint, k.channel, k.z): k for k in keys}
    first = np.asarray(to_numpy(planes[keys[0]]))
    arr = None
    for ti, t in enumerate(ts):
        for ci, c in enumerate(cs):
            for zi, z in enumerate(zs):
                key = lookup.get((t, c, z))
                if key is None:
                    raise PipelineError(
                        f"site {site}: no plane for timepoint {t}, channel {c}, "
                        f"z {z} after the pipeline"
                    )
                plane = cast_for_output(np.asarray(to_numpy(planes[key])), dtype_rule, plate_dtype)
                if arr is None:
                    arr = np.zeros((len(ts), len(cs), len(zs), *first.shape[-2:]), plane.dtype)
                arr[ti, ci, zi] = plane
    return arr, cs, zs


def _labels_arrays(step: str, planes: Planes, site: int, zs: list[int]) -> dict[str, np.ndarray]:
    from napari_openhcs.memory import to_numpy

    keys = [k for k in planes if k.site == site]
    channels = sorted({k.channel for k in keys})
    out = {}
    for c in channels:
        ck = [k for k in keys if k.channel == c]
        ts = sorted({k.timepoint for k in ck})
        lz = sorted({k.z for k in ck})
        if len(lz) != len(zs):
            raise PipelineError(
                f"step {step!r}: labels have {len(lz)} z-planes but the image "
                f"has {len(zs)}; materialise labels after the same projection"
            )
        lookup = {(k.timepoint, k.z): k for k in ck}
        first = np.asarray(to_numpy(planes[ck[0]]))
        arr = np.zeros((len(ts), 1, len(lz), *first.shape[-2:]), np.int32)
        for ti, t in enumerate(ts):
            for zi, z in enumerate(lz):
                arr[ti, 0, zi] = np.asarray(to_numpy(planes[lookup[(t, z)]]))
        out[step if len(channels) == 1 else f"{step}_c{c}"] = arr
    return out


def _well_row_col(well: str) -> tuple[str, int]:
    row = well.rstrip("0123456789")
    return row, int(well[len(row) :])


def long_table(unit: WorkUnit, step: str, group: dict, table: Any, intensity_channel: Any):
    """A step's table in the long measurement format: key columns, then the measurements.

    The key columns (plate, well, row, column, site, timepoint, channel, label, step) lead;
    a column of the same name in ``table`` keeps its values in that place.
    ``intensity_channel`` follows the measurements: the channel the intensities were
    measured in (``intensity_channel``, else each row's ``channel``).
    """
    row, col = _well_row_col(unit.well)
    keys = {
        "plate": unit.output.plate_name,
        "well": unit.well,
        "row": row,
        "column": col,
        "site": group.get("site", unit.site),
        "timepoint": group.get("timepoint"),
        "channel": group.get("channel"),
        "label": None,
        "step": step,
    }
    out = tables.prepend_columns(table, keys)
    if intensity_channel is None:
        channel = out.column("channel")
    else:
        channel = tables.constant(intensity_channel, out.num_rows)
    if "intensity_channel" in out.column_names:
        return out.set_column(
            out.column_names.index("intensity_channel"), "intensity_channel", channel
        )
    return out.append_column("intensity_channel", channel)


def run_unit(unit: WorkUnit, emit: Callable[[dict], None] | None = None) -> UnitResult:
    """Run one unit end to end; failures come back in the result, never raised."""
    from napari_openhcs.execution.context import running_unit

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
    from napari_openhcs.memory import use_gpu
    from napari_openhcs.pipeline.compiler import chain_pairs

    kinds = tuple(
        {func.memory_type for step in unit.steps for func, _ in chain_pairs(step)}
        & {"cupy", "torch"}
    )
    with use_gpu(unit.gpu), on_gpu(unit.gpu, kinds):
        yield


def _run(unit: WorkUnit, send, timings) -> UnitResult:
    from napari_openhcs.plates import read_planes

    t = time.perf_counter()
    plate_results = {name: load_plate_result(path) for name, path in unit.plate_results}
    planes_read = read_planes(unit.plate_format, [loc for _, loc in unit.images])
    raw: Planes = {key: plane for (key, _), plane in zip(unit.images, planes_read, strict=True)}
    timings["read"] = time.perf_counter() - t
    planes, kinds = dict(raw), {k: "image" for k in raw}
    # The latest image planes of each (site, channel, timepoint): what the main plate shows.
    latest: dict[tuple, tuple[dict, str]] = {}
    _update_latest(latest, raw, kinds, "keep")
    labels_steps: list[tuple[str, Planes]] = []
    intermediate: list[tuple[str, Planes, str]] = []
    found: list = []
    t = time.perf_counter()
    from napari_openhcs.pipeline.compiler import keeps_images

    last = unit.steps[-1].name
    kept = referenced_images(unit.steps)
    outputs: dict[str, Planes] = {"start": raw}
    for step in unit.steps:
        source = raw if step.input_source == "start" else planes
        source_kinds = {k: "image" for k in raw} if step.input_source == "start" else kinds
        planes, kinds = run_step_into(
            step, source, source_kinds, found, unit, plate_results, outputs
        )
        if step.name in kept:
            outputs[step.name] = planes
        _update_latest(latest, planes, kinds, step.output_dtype)
        images = {k: v for k, v in planes.items() if kinds[k] == "image"}
        labelled = {k: v for k, v in planes.items() if kinds[k] in ("labels", "mask")}
        if images and keeps_images(step, last):  # the plates the compiler planned
            intermediate.append((step.name, images, step.output_dtype))
        if labelled and (step.materialize or step.name == last):
            labels_steps.append((step.name, labelled))
        send({"kind": "step_done", "well": unit.well, "site": unit.site, "step": step.name})
    image_planes = {k: v for planes_by_z, _ in latest.values() for k, v in planes_by_z.items()}
    image_rule = next((rule for _, rule in latest.values() if rule != "keep"), "keep")
    timings["compute"] = time.perf_counter() - t

    t = time.perf_counter()
    aggregates = _write(unit, image_planes, image_rule, labels_steps, intermediate)
    timings["write"] = time.perf_counter() - t
    measured = tables.concat(found)
    if measured is not None and measured.num_rows and "object_count" not in aggregates:
        aggregates["object_count"] = measured.num_rows
    aggregates.update(records.measurement_summary(measured))
    return UnitResult(unit.well, unit.site, ok=True, measurements=measured, aggregates=aggregates)


def referenced_images(steps) -> set[str]:
    """Names of the steps whose output a later step takes as an image argument."""
    from napari_openhcs.pipeline.compiler import chain_pairs

    return {
        ref["image"]
        for step in steps
        for _, kwargs in chain_pairs(step)
        for value in kwargs.values()
        if (ref := image_ref(value)) is not None
    }


def run_step_into(step, planes, kinds, found, unit, plate_results=None, outputs=None):
    """``run_step`` that appends the step's tables to ``found`` in long format."""
    out, out_kinds, step_tables = run_step(step, planes, kinds, plate_results, outputs)
    other = _intensity_channel(step)  # which channel the intensities were measured in
    for group, table in step_tables:
        found.append(long_table(unit, step.name, group, table, other))
    return out, out_kinds


def _intensity_channel(step) -> Any:
    """The channel named by an image reference among a step's keywords, else ``None``."""
    from napari_openhcs.pipeline.compiler import chain_pairs

    for _, kwargs in chain_pairs(step):
        for value in (kwargs or {}).values():
            if isinstance(value, dict) and "image" in value and value.get("channel") is not None:
                return value["channel"]
    return None


def _update_latest(latest: dict, planes: Planes, kinds: dict, rule: str) -> None:
    """Track the newest image planes of each (site, channel, timepoint) for the main plate.

    A group a step turned into labels keeps its last image (shown under its labels); a group
    that no longer exists at all (e.g. channels stacked and reduced to one) is dropped.
    """
    present = {(k.site, k.channel, k.timepoint) for k in planes}
    for group in [g for g in latest if g not in present]:
        del latest[group]
    fresh: dict[tuple, dict] = {}
    for k, v in planes.items():
        if kinds.get(k) == "image":
            fresh.setdefault((k.site, k.channel, k.timepoint), {})[k] = v
    for group, by_key in fresh.items():
        old = latest.get(group)
        if (
            old is None
            or any(old[0].get(k) is not v for k, v in by_key.items())
            or len(old[0]) != len(by_key)
        ):
            latest[group] = (by_key, rule)


def _write(unit, image_planes, image_rule, labels_steps, intermediate) -> dict:
    from napari_openhcs.memory import to_numpy
    from napari_openhcs.pipeline.compiler import output_plate_paths
    from napari_openhcs.storage.omezarr import OmeZarrPlateWriter

    spec = unit.output
    names = dict(spec.channel_names)
    paths = output_plate_paths(spec, [name for name, _, _ in intermediate])
    writers = [
        OmeZarrPlateWriter(
            p,
            spec.rows,
            spec.columns,
            name=spec.plate_name,
            ngff=spec.ngff,
            compressor=spec.compressor,
            shards=spec.shards,
        )
        for p in paths
    ]
    aggregates: dict[str, Any] = {}
    count = 0
    sites = sorted({k.site for k in image_planes})
    for site in sites:
        image, channels, zs = _field_array(image_planes, site, image_rule, spec.plate_dtype)
        labels = {}
        for name, planes in labels_steps:
            labels.update(_labels_arrays(name, planes, site, zs))
        writers[0].write_field(
            unit.well,
            site - 1,
            image,
            labels=labels or None,
            channel_names=[names.get(c, f"channel {c}") for c in channels],
            pixel_size=spec.pixel_size,
        )
        for writer, (_, planes, rule) in zip(writers[1:], intermediate, strict=True):
            inter, ich, _ = _field_array(planes, site, rule, spec.plate_dtype)
            writer.write_field(
                unit.well,
                site - 1,
                inter,
                channel_names=[names.get(c, f"channel {c}") for c in ich],
                pixel_size=spec.pixel_size,
            )
        if labels_steps:
            _, planes = labels_steps[-1]
            for k, v in planes.items():
                if k.site == site:
                    count += _count_labels(np.asarray(to_numpy(v)))
    if labels_steps:
        aggregates["object_count"] = count
    aggregates["fields"] = [s - 1 for s in sites]
    return aggregates


def _count_labels(lab: np.ndarray) -> int:
    """Distinct non-zero labels (a mask counts as one object if it has any pixel)."""
    if lab.dtype == bool:
        return int(lab.any())
    if lab.size == 0:
        return 0
    lo, hi = int(lab.min()), int(lab.max())
    if lab.dtype.kind in "iu" and lo >= 0 and hi <= 4 * lab.size:  # linear time, small table
        return int(np.count_nonzero(np.bincount(lab.ravel(), minlength=1)[1:]))
    return int(np.count_nonzero(np.unique(lab)))


def unit_output_paths(unit: WorkUnit) -> list[Path]:
    from napari_openhcs.pipeline.compiler import output_plate_paths

    return output_plate_paths(unit.output, [])


# -- plate-scope steps ---------------------------------------------------------------------


def run_plate_step(job) -> Path:
    """Run a plate-scope step once and save its result; returns the ``.npy`` path.

    All planes of ``job.images`` (a sample of wells) are read; wells and sites are stacked
    together with the step's ``variable_components``, and the step runs once per remaining
    group (e.g. per channel), each call returning one plane. The planes are saved as
    ``(groups, y, x)`` in ``job.result_path`` with a ``.json`` sidecar naming each group's
    components, both written atomically.
    """
    import dataclasses
    import json
    import os

    from napari_openhcs.memory import to_numpy
    from napari_openhcs.plates import read_planes

    step = job.step
    stacked = tuple(dict.fromkeys(("site", *step.variable_components)))
    compiled = dataclasses.replace(step, variable_components=stacked)
    planes_read = read_planes(job.plate_format, [loc for _, loc in job.images])
    raw: Planes = {key: plane for (key, _), plane in zip(job.images, planes_read, strict=True)}
    kinds = {k: "image" for k in raw}
    out, _kinds, _tables = run_step(compiled, raw, kinds, outputs={"start": raw})
    groups, planes = [], []
    for key in sorted(out, key=lambda k: (k.channel, k.z, k.timepoint)):
        if key not in raw or out[key] is not raw[key]:  # skip planes a group dict passed through
            fields = _fields(key)
            groups.append({c: fields[c] for c in ("channel", "z", "timepoint") if c not in stacked})
            planes.append(np.asarray(to_numpy(out[key])))
    if not planes:
        raise PipelineError(f"plate step {step.name!r} produced no result")
    path = Path(job.result_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        np.save(fh, np.stack(planes))
    meta = path.with_suffix(".json")
    meta_tmp = meta.with_name(f".{meta.name}.{os.getpid()}.tmp")
    meta_tmp.write_text(json.dumps({"step": step.name, "groups": groups}, indent=2))
    os.replace(meta_tmp, meta)
    os.replace(tmp, path)
    return path


def load_plate_result(path: str | Path) -> tuple[list[dict], np.ndarray]:
    """A saved plate-step result: its groups (component → value) and ``(groups, y, x)``."""
    import json

    path = Path(path)
    if not path.exists():
        raise PipelineError(
            f"plate step result {path} is missing: the plate step must run before the units"
        )
    meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    return meta["groups"], np.load(path)


def _with_plate_results(kwargs: dict, group: dict, plate_results: dict) -> dict:
    from napari_openhcs.pipeline.compiler import plate_step_name

    resolved = dict(kwargs)
    for key, value in kwargs.items():
        name = plate_step_name(value)
        if name is None:
            continue
        groups, planes = plate_results[name]
        matches = [
            i
            for i, g in enumerate(groups)
            if all(c in group and str(group[c]) == str(v) for c, v in g.items())
        ]
        if len(matches) != 1:
            raise PipelineError(
                f"no single result of plate step {name!r} for {group or 'this stack'} "
                f"(it has {groups}); group both steps by the same components"
            )
        resolved[key] = planes[matches[0]]
    return resolved
