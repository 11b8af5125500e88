"""The compiler: validate a pipeline against a plate, then freeze it into work units.

Everything is checked before any pixel is read: unknown or unavailable functions, parameter
names, types, choices and ranges, group values the plate does not have, components, wells,
plate-step references. The unit of work is a (well, site) unless a step stacks sites, then a
whole well; plate-scope steps become jobs run once before the units.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from napari_openhcs.errors import PipelineError, PlateError
from napari_openhcs.pipeline.layout import check_output_grid
from napari_openhcs.pipeline.step import Pipeline
from napari_openhcs.pipeline.units import CompiledStep, OutputSpec, WorkUnit
from napari_openhcs.plates.index import PlateIndex
from napari_openhcs.registry.reference import IMAGE_SOURCES

#: A plate-scope step reads at most this many wells, spread evenly over the chosen wells.
PLATE_STEP_MAX_WELLS = 16


@dataclass(frozen=True)
class PlateStepJob:
    """A ``scope="plate"`` step, run once before the units by ``run_plate_step``.

    It reads the raw planes of ``images`` (a sample of wells), stacks wells and sites (plus the
    step's ``variable_components``) and runs the step once per remaining group (e.g. per
    channel); each call must return one plane. The result is saved as ``result_path``
    (``<out>/.openhcs/plate_steps/<step>.npy``, one plane per group) with a JSON sidecar naming
    the groups. Later unit steps receive it through a keyword argument written
    ``{"plate_step": "<step>"}``: the plane of the matching group (e.g. the same channel).
    """

    run_id: str
    step: CompiledStep
    plate_format: str
    images: tuple
    result_path: str

    @property
    def step_name(self) -> str:
        return self.step.name


@dataclass
class CompiledPlan:
    """Work units plus what the executor needs around them."""

    run_id: str
    units: list[WorkUnit]
    output: OutputSpec
    modules: list[str]
    notes: list[str] = field(default_factory=list)
    plate_jobs: list = field(default_factory=list)
    per_gpu_limit: int | None = None
    intermediate_plates: list[str] = field(default_factory=list)

    def open_writers(self) -> list:
        """Create (or reopen, to resume) the output plates; returns their writers."""
        from napari_openhcs.storage.omezarr import OmeZarrPlateWriter

        return [
            OmeZarrPlateWriter(
                path,
                self.output.rows,
                self.output.columns,
                name=self.output.plate_name,
                ngff=self.output.ngff,
                compressor=self.output.compressor,
                shards=self.output.shards,
            )
            for path in output_plate_paths(self.output, self.intermediate_plates)
        ]


def output_plate_paths(output: OutputSpec, intermediate: list[str]) -> list[Path]:
    """``<out>/<plate>.ome.zarr`` then ``<out>/<plate>_<step>.ome.zarr`` per image step kept."""
    out = Path(output.out_dir)
    return [out / f"{output.plate_name}.ome.zarr"] + [
        out / f"{output.plate_name}_{step}.ome.zarr" for step in intermediate
    ]


def plate_step_name(value: Any) -> str | None:
    """The plate step named by a keyword value ``{"plate_step": name}``, else ``None``."""
    if isinstance(value, dict) and set(value) == {"plate_step"}:
        return str(value["plate_step"])
    return None


def check_kwargs(step_name: str, ref: str, kwargs: dict, info) -> dict:
    """Check ``kwargs`` against the function's parameter specs; returns them with defaults.

    Raises
    ------
    PipelineError
        Unknown parameter names, values of the wrong type, values outside the choices.
    """
    from napari_openhcs.registry import call_defaults
    from napari_openhcs.registry.reference import image_ref

    specs = {p.name: p for p in info.params}
    for key, value in kwargs.items():
        spec = specs.get(key)
        if spec is None:
            known = ", ".join(specs) or "none"
            raise PipelineError(
                f"step {step_name!r}: {ref} has no parameter {key!r} (parameters: {known})"
            )
        if plate_step_name(value) is not None:
            continue  # checked by the compiler: names an earlier plate-scope step
        if image_ref(value) is not None:
            if spec.annotation not in ("image", "any"):
                raise PipelineError(
                    f"step {step_name!r}: {ref} parameter {key!r} takes "
                    f"{spec.annotation}, not an image ({value!r})"
                )
            continue  # its source is checked by the compiler against the earlier steps
        if spec.annotation == "image":
            raise PipelineError(
                f"step {step_name!r}: {ref} parameter {key!r} takes an image, given as "
                '{"image": "previous" | "start" | "<earlier step>"} with an optional '
                f'"channel", or {{"plate_step": "<name>"}}; got {value!r}'
            )
        if value is None:
            if spec.optional:
                continue
            raise PipelineError(f"step {step_name!r}: {ref} parameter {key!r} cannot be None")
        if spec.choices is not None and value not in spec.choices:
            raise PipelineError(
                f"step {step_name!r}: {ref} parameter {key!r}={value!r} is not "
                f"one of {list(spec.choices)}"
            )
        expected = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,)}.get(
            spec.annotation
        )
        if expected and (
            not isinstance(value, expected)
            or (spec.annotation in ("int", "float") and isinstance(value, bool))
        ):
            raise PipelineError(
                f"step {step_name!r}: {ref} parameter {key!r} must be "
                f"{spec.annotation}, got {value!r}"
            )
        if spec.bounds is not None and spec.annotation in ("int", "float"):
            lo, hi = spec.bounds
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                raise PipelineError(
                    f"step {step_name!r}: {ref} parameter {key!r}={value!r} is outside "
                    f"its range [{lo}, {hi}]"
                )
    return {**call_defaults(info), **kwargs}


def _resolve_chain(step_name: str, chain: list, gpus_present: bool):
    from napari_openhcs.errors import FunctionUnavailableError, UnknownFunctionError
    from napari_openhcs.registry import fn, get_info

    resolved, infos = [], []
    for ref, kwargs in chain:
        try:
            info = get_info(ref)
        except UnknownFunctionError as exc:
            raise UnknownFunctionError(f"step {step_name!r}: {exc}") from None
        if not info.available:
            raise FunctionUnavailableError(
                f"step {step_name!r}: {ref} cannot run here: {info.reason}"
            )
        resolved.append((fn(ref), check_kwargs(step_name, ref, kwargs, info)))
        infos.append(info)
    return tuple(resolved), infos


def _group_values(index: PlateIndex, component: str) -> list[str]:
    values = {
        "site": index.sites,
        "channel": index.channels,
        "z": index.z,
        "timepoint": index.timepoints,
    }[component]
    return [str(v) for v in values]


def compile_pipeline(
    pipeline: Pipeline,
    index: PlateIndex,
    output: OutputSpec,
    *,
    wells: list[str] | None = None,
    run_id: str | None = None,
    gpus: list[int] | None = None,
    max_units_per_gpu: int = 1,
    known_steps: tuple[str, ...] = (),
    known_plate_steps: tuple[str, ...] = (),
    plate_steps_only: bool = False,
) -> CompiledPlan:
    """Validate ``pipeline`` for ``index`` and produce frozen work units.

    The unit is a (well, site), or a whole well when any unit step stacks ``"site"`` in its
    ``variable_components``. Plate-scope steps become ``PlateStepJob`` s in ``plan.plate_jobs``
    (run once, before the units); the units get the paths of their results. Units with a
    CuPy or Torch step get a GPU from ``gpus`` round robin; ``plan.per_gpu_limit`` tells the
    executor how many units may share one GPU at a time.

    ``known_steps`` and ``known_plate_steps`` name steps that ran before this pipeline (the
    preview compiles one step at a time); ``plate_steps_only`` accepts a pipeline of plate
    steps only (no units).

    Examples
    --------
    >>> plan = compile_pipeline(load_pipeline("nuclei_count"), index, spec)  # doctest: +SKIP
    >>> len(plan.units), plan.notes  # doctest: +SKIP
    (8, ["step 'nuclei': channel 2 pass through unchanged"])

    Raises
    ------
    PipelineError
        Unknown functions, bad parameters, group values missing from the plate, ...
    PlateError
        Requested wells the plate does not have.
    """
    steps = [s for s in pipeline.steps if s.enabled]
    if not steps:
        raise PipelineError("the pipeline has no enabled step")
    notes: list[str] = []
    compiled, modules, intermediate = [], set(), []
    uses_gpu = False
    plate_steps: list[CompiledStep] = []
    for n, step in enumerate(steps):
        if isinstance(step.pattern, dict):
            values = _group_values(index, step.group_by)
            missing = [k for k in step.pattern if k not in values]
            if missing:
                raise PipelineError(
                    f"step {step.name!r}: {step.group_by} {', '.join(missing)} "
                    f"not in the plate (it has {', '.join(values)})"
                )
            passthrough = [v for v in values if v not in step.pattern]
            if passthrough:
                notes.append(
                    f"step {step.name!r}: {step.group_by} {', '.join(passthrough)} "
                    "pass through unchanged"
                )
            pattern, infos = [], []
            for key, chain in step.pattern.items():
                resolved, chain_infos = _resolve_chain(step.name, chain, bool(gpus))
                pattern.append((key, resolved))
                infos.extend(chain_infos)
            pattern = tuple(pattern)
        else:
            pattern, infos = _resolve_chain(step.name, step.pattern, bool(gpus))
        _check_plate_step_kwargs(
            step.name,
            pattern,
            # plate steps run independently of each other: none takes another's result
            [] if step.scope == "plate" else [*known_plate_steps, *(p.name for p in plate_steps)],
        )
        _check_image_refs(
            step.name,
            pattern,
            # a plate step runs before every well: no per-well step's output exists yet
            [] if step.scope == "plate" else [*known_steps, *(c.name for c in compiled)],
            index.channels,
        )
        if step.name in IMAGE_SOURCES:
            raise PipelineError(
                f"step name {step.name!r} is reserved for image references; rename the step"
            )
        for info in infos:
            modules.add(info.ref.rsplit(".", 1)[0])
            uses_gpu |= info.memory_type in ("cupy", "torch")
        kind = infos[-1].output_kind
        if step.materialize and kind == "image" and n != len(steps) - 1 and step.scope == "unit":
            intermediate.append(step.name)
        (plate_steps if step.scope == "plate" else compiled).append(
            CompiledStep(
                name=step.name,
                pattern=pattern,
                variable_components=tuple(step.variable_components),
                group_by=step.group_by,
                input_source=step.input_source,
                materialize=step.materialize,
                scope=step.scope,
                output_dtype=step.output_dtype,
            )
        )
    if not compiled and not plate_steps_only:
        raise PipelineError("the pipeline has no enabled per-well step (scope 'unit')")
    names = [s.name for s in plate_steps + compiled]
    dupes = {x for x in names if names.count(x) > 1}
    if dupes:
        raise PipelineError(f"step names must be unique; repeated: {', '.join(sorted(dupes))}")

    chosen = list(index.wells) if wells is None else list(wells)
    unknown = [w for w in chosen if w not in index.wells]
    if unknown:
        raise PlateError(
            f"well(s) {', '.join(unknown)} not in plate {index.root} "
            f"(it has {', '.join(index.wells[:12])}{'...' if len(index.wells) > 12 else ''})"
        )
    check_output_grid(chosen, output)
    per_well = any("site" in s.variable_components for s in compiled)
    run_id = run_id or uuid.uuid4().hex[:12]
    gpu_list = list(gpus or [])
    plate_jobs = _plate_jobs(plate_steps, index, chosen, output, run_id)
    for job in plate_jobs:
        if not any(
            plate_step_name(v) == job.step_name
            for s in compiled
            for _, kw in chain_pairs(s)
            for v in kw.values()
        ):
            notes.append(
                f"plate step {job.step_name!r}: no later step uses its result "
                f'(pass it as a keyword argument {{"plate_step": "{job.step_name}"}})'
            )
    plate_results = tuple((job.step_name, job.result_path) for job in plate_jobs)
    units = []
    for well in chosen:
        sites = [None] if per_well else sorted({k.site for k in index.keys_for(well)})
        for site in sites:
            keys = index.keys_for(well, site)
            if not keys:
                continue
            gpu = gpu_list[len(units) % len(gpu_list)] if (uses_gpu and gpu_list) else None
            units.append(
                WorkUnit(
                    run_id=run_id,
                    plate_format=index.format,
                    plate_root=str(index.root),
                    well=well,
                    site=site,
                    images=tuple((k, index.images[k]) for k in keys),
                    steps=tuple(compiled),
                    output=output,
                    gpu=gpu,
                    plate_results=plate_results,
                )
            )
    if not units and compiled:
        raise PlateError(f"plate {index.root} has no images for the requested wells")
    return CompiledPlan(
        run_id=run_id,
        units=units,
        output=output,
        modules=sorted(modules),
        notes=notes,
        plate_jobs=plate_jobs,
        per_gpu_limit=max(1, int(max_units_per_gpu)) if gpu_list else None,
        intermediate_plates=intermediate,
    )


def pattern_pairs(pattern: tuple) -> list:
    """Every ``(FunctionRef, kwargs)`` of a resolved pattern: a chain, or the chains of all
    groups of a dict pattern (``((group value, chain), ...)``)."""
    if pattern and isinstance(pattern[0][0], str):
        return [pair for _, chain in pattern for pair in chain]
    return list(pattern)


def chain_pairs(step: CompiledStep) -> list:
    """Every ``(FunctionRef, kwargs)`` of a compiled step (all groups of a dict pattern)."""
    return pattern_pairs(step.pattern)


def keeps_images(step: CompiledStep, last: str) -> bool:
    """Whether a step gets its own ``<plate>_<step>.ome.zarr``: materialised, per well, not
    the last step, and its functions give images (channels passed through unchanged do not
    count: they are the earlier step's images, already in the main plate)."""
    pairs = chain_pairs(step)
    return bool(
        step.materialize
        and step.scope == "unit"
        and step.name != last
        and pairs
        and pairs[-1][0].output_kind == "image"
    )


def _check_image_refs(step_name: str, pattern: tuple, earlier: list[str], channels) -> None:
    """Image references name ``previous``, ``start`` or an earlier per-well step, and a
    channel the plate has."""
    from napari_openhcs.registry.reference import image_ref

    for func, kwargs in pattern_pairs(pattern):
        for key, value in kwargs.items():
            ref = image_ref(value)
            if ref is None:
                continue
            source, channel = ref["image"], ref.get("channel")
            if source not in IMAGE_SOURCES and source not in earlier:
                raise PipelineError(
                    f"step {step_name!r}: {func.ref} parameter {key!r} asks for the image of "
                    f"step {source!r}, which is not an enabled per-well step before it "
                    f"(use 'previous', 'start'{''.join(f', {n!r}' for n in earlier)})"
                )
            if channel is not None and str(channel) not in {str(c) for c in channels}:
                raise PipelineError(
                    f"step {step_name!r}: {func.ref} parameter {key!r} asks for channel "
                    f"{channel!r}, which the plate does not have (it has "
                    f"{', '.join(str(c) for c in channels)})"
                )


def _check_plate_step_kwargs(step_name: str, pattern: tuple, earlier: list[str]) -> None:
    for func, kwargs in pattern_pairs(pattern):
        for key, value in kwargs.items():
            name = plate_step_name(value)
            if name is not None and name not in earlier:
                raise PipelineError(
                    f"step {step_name!r}: {func.ref} parameter {key!r} asks for plate step "
                    f"{name!r}, which is not an enabled plate-scope step before it"
                    + (f" (plate steps: {', '.join(earlier)})" if earlier else "")
                )


def _plate_jobs(
    plate_steps: list[CompiledStep], index: PlateIndex, wells: list[str], output, run_id: str
) -> list[PlateStepJob]:
    if not plate_steps:
        return []
    step_by = max(1, len(wells) // PLATE_STEP_MAX_WELLS + (len(wells) % PLATE_STEP_MAX_WELLS > 0))
    sample = wells[::step_by][:PLATE_STEP_MAX_WELLS]
    images = tuple((k, index.images[k]) for w in sample for k in index.keys_for(w))
    folder = Path(output.out_dir) / ".openhcs" / "plate_steps"
    return [
        PlateStepJob(
            run_id=run_id,
            step=step,
            plate_format=index.format,
            images=images,
            result_path=str(folder / f"{step.name}.npy"),
        )
        for step in plate_steps
    ]


def describe_units(units: list[WorkUnit]) -> dict[str, Any]:
    return {"units": len(units), "wells": len({u.well for u in units})}
