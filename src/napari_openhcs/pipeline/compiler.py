"""The compiler: validate a pipeline against a plate, then freeze it into work units.

Everything is checked before any pixel is read: unknown or unavailable functions, parameter
names, types, choices and ranges, group values the plate does not have, components, wells,
plate-step references, object sets (``pipeline.objectsets``). The unit of work is a (well, site) unless a step stacks sites, then a
whole well; plate-scope steps become jobs run once before the units.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from napari_openhcs.errors import (
    FunctionUnavailableError,
    PipelineError,
    PlateError,
    UnknownFunctionError,
)
from napari_openhcs.pipeline.objectsets import ResultKinds, name_measurements, resolve_objects
from napari_openhcs.pipeline.step import Pipeline
from napari_openhcs.pipeline.workunits import (
    CompiledStep,
    PlateStepJob,
    WorkUnit,
    chain_pairs,
    pattern_pairs,
    plate_step_name,
)
from napari_openhcs.plates.index import PlateIndex
from napari_openhcs.registry import call_defaults, fn, get_info
from napari_openhcs.storage.layout import OutputSpec, check_output_grid, plate_step_result_path
from napari_openhcs.vocabulary import IMAGE_SOURCES, image_ref, objects_ref

#: A plate-scope step reads at most this many wells, spread evenly over the chosen wells.
PLATE_STEP_MAX_WELLS = 16


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
    #: the per-well steps every unit runs
    steps: tuple[CompiledStep, ...] = ()
    #: with ``partial=True``: (name, error) of the first invalid step, which stopped compiling
    invalid: tuple[str, Exception] | None = None


def check_kwargs(step_name: str, ref: str, kwargs: dict, info) -> dict:
    """Check ``kwargs`` against the function's parameter specs; returns them with defaults.

    Raises
    ------
    PipelineError
        Unknown parameter names, values of the wrong type, values outside the choices.
    """
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
        if objects_ref(value) is not None:
            if spec.annotation != "objects":
                raise PipelineError(
                    f"step {step_name!r}: {ref} parameter {key!r} takes "
                    f"{spec.annotation}, not an object set ({value!r})"
                )
            continue  # its step is checked by the compiler: labels of an earlier step
        if spec.annotation == "objects":
            if image_ref(value) is not None:
                continue  # an older pipeline's form: the compiler checks it names labels
            raise PipelineError(
                f"step {step_name!r}: {ref} parameter {key!r} takes an object set, given as "
                f'{{"objects": "<earlier step>"}}; got {value!r}'
            )
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
    missing = [p.name for p in info.params if p.annotation == "objects" and p.name not in kwargs]
    if missing:
        raise PipelineError(
            f"step {step_name!r}: {ref} parameter {missing[0]!r} takes an object set and has "
            f'none: give {{"objects": "<earlier step>"}}'
        )
    return {**call_defaults(info), **kwargs}


def _resolve_chain(step_name: str, chain: list):
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
    partial: bool = False,
    plate_step_wells: list[str] | None = None,
) -> CompiledPlan:
    """Validate ``pipeline`` for ``index`` and produce frozen work units.

    The unit is a (well, site), or a whole well when any unit step stacks ``"site"`` in its
    ``variable_components``. Plate-scope steps become ``PlateStepJob`` s in ``plan.plate_jobs``
    (run once, before the units); the units get the paths of their results. Units with a
    CuPy or Torch step get a GPU from ``gpus`` round robin; ``plan.per_gpu_limit`` tells the
    executor how many units may share one GPU at a time.

    ``partial=True`` (the live preview) compiles the steps before the first invalid one instead
    of raising: ``plan.invalid`` holds that step's name and error, and a pipeline of plate
    steps only is accepted. Plate-scope steps sample ``plate_step_wells`` (default: the wells
    run).

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
    invalid = None
    kinds = ResultKinds(index)
    for n, step in enumerate(steps):
        try:
            cstep, infos = _compile_step(step, index, notes, kinds, [p.name for p in plate_steps])
        except Exception as exc:  # noqa: BLE001 - raised unless partial, then kept in the plan
            if not partial:
                raise
            invalid = (step.name, exc)
            break
        for info in infos:
            modules.add(info.ref.rsplit(".", 1)[0])
            uses_gpu |= info.memory_type in ("cupy", "torch")
        kind = infos[-1].output_kind
        if step.materialize and kind == "image" and n != len(steps) - 1 and step.scope == "unit":
            intermediate.append(step.name)
        (plate_steps if step.scope == "plate" else compiled).append(cstep)
        if step.scope != "plate":
            kinds.add(cstep)
    if not partial:
        if not compiled:
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
    sampled = chosen if plate_step_wells is None else list(plate_step_wells)
    plate_jobs = _plate_jobs(plate_steps, index, sampled, output, run_id)
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
        steps=tuple(compiled),
        invalid=invalid,
    )


def _compile_step(
    step, index: PlateIndex, notes: list[str], kinds: ResultKinds, earlier_plate: list[str]
) -> tuple[CompiledStep, list]:
    """Validate and resolve one enabled step; returns it and its functions' infos.

    ``kinds`` holds the per-well steps before it (what each gives per channel) and
    ``earlier_plate`` names the plate-scope steps before it.
    """
    plate_scope = step.scope == "plate"
    earlier = [] if plate_scope else list(kinds.steps)
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
            resolved, chain_infos = _resolve_chain(step.name, chain)
            pattern.append((key, resolved))
            infos.extend(chain_infos)
        pattern = tuple(pattern)
    else:
        pattern, infos = _resolve_chain(step.name, step.pattern)
    # plate steps run independently of each other: none takes another's result
    _check_plate_step_kwargs(step.name, pattern, [] if plate_scope else earlier_plate)
    # a plate step runs before every well: no per-well step's output exists yet
    pattern = resolve_objects(step, pattern, ResultKinds(index) if plate_scope else kinds)
    pattern = name_measurements(step, pattern, index, notes)
    _check_image_refs(step.name, pattern, earlier, index.channels)
    if step.name in IMAGE_SOURCES:
        raise PipelineError(
            f"step name {step.name!r} is reserved for image references; rename the step"
        )
    return (
        CompiledStep(
            name=step.name,
            pattern=pattern,
            variable_components=tuple(step.variable_components),
            group_by=step.group_by,
            input_source=step.input_source,
            materialize=step.materialize,
            scope=step.scope,
            output_dtype=step.output_dtype,
        ),
        infos,
    )


def _check_image_refs(step_name: str, pattern: tuple, earlier: list[str], channels) -> None:
    """Image references name ``previous``, ``start`` or an earlier per-well step, and a
    channel the plate has."""
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
    return [
        PlateStepJob(
            run_id=run_id,
            step=step,
            plate_format=index.format,
            images=images,
            result_path=str(plate_step_result_path(output, step.name)),
        )
        for step in plate_steps
    ]


def describe_units(units: list[WorkUnit]) -> dict[str, Any]:
    return {"units": len(units), "wells": len({u.well for u in units})}
