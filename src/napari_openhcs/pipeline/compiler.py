"""The compiler: validate a pipeline against a plate, then freeze it into work units.

Everything is checked before any pixel is read: unknown or unavailable functions, parameter
names, types and choices, group values the plate does not have, components. The unit of
work is a (well, site) unless a step stacks sites, then a whole well.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from napari_openhcs.errors import PipelineError, PlateError
from napari_openhcs.pipeline.step import Pipeline
from napari_openhcs.pipeline.units import CompiledStep, OutputSpec, WorkUnit
from napari_openhcs.plates.index import PlateIndex


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
            )
            for path in output_plate_paths(self.output, self.intermediate_plates)
        ]


def output_plate_paths(output: OutputSpec, intermediate: list[str]) -> list[Path]:
    """``<out>/<plate>.ome.zarr`` then ``<out>/<plate>_<step>.ome.zarr`` per image step kept."""
    out = Path(output.out_dir)
    return [out / f"{output.plate_name}.ome.zarr"] + [
        out / f"{output.plate_name}_{step}.ome.zarr" for step in intermediate
    ]


def check_kwargs(step_name: str, ref: str, kwargs: dict, info) -> dict:
    """Check ``kwargs`` against the function's parameter specs; returns them with defaults.

    Raises
    ------
    PipelineError
        Unknown parameter names, values of the wrong type, values outside the choices.
    """
    from napari_openhcs.registry import call_defaults

    specs = {p.name: p for p in info.params}
    for key, value in kwargs.items():
        spec = specs.get(key)
        if spec is None:
            known = ", ".join(specs) or "none"
            raise PipelineError(
                f"step {step_name!r}: {ref} has no parameter {key!r} (parameters: {known})"
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
    from napari_openhcs.errors import FunctionUnavailableError
    from napari_openhcs.registry import fn, get_info

    resolved, infos = [], []
    for ref, kwargs in chain:
        info = get_info(ref)
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
) -> CompiledPlan:
    """Validate ``pipeline`` for ``index`` and produce frozen work units.

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
    for n, step in enumerate(steps):
        if step.scope == "plate":
            raise PipelineError(
                f"step {step.name!r}: plate-level steps (scope 'plate') are "
                "not supported by this version yet"
            )
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
        for info in infos:
            modules.add(info.ref.rsplit(".", 1)[0])
            uses_gpu |= info.memory_type in ("cupy", "torch")
        kind = infos[-1].output_kind
        if step.materialize and kind == "image" and n != len(steps) - 1:
            intermediate.append(step.name)
        compiled.append(
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
    names = [s.name for s in compiled]
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
    per_well = any("site" in s.variable_components for s in compiled)
    run_id = run_id or uuid.uuid4().hex[:12]
    gpu_list = list(gpus or [])
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
                )
            )
    if not units:
        raise PlateError(f"plate {index.root} has no images for the requested wells")
    return CompiledPlan(
        run_id=run_id,
        units=units,
        output=output,
        modules=sorted(modules),
        notes=notes,
        per_gpu_limit=1 if gpu_list else None,
        intermediate_plates=intermediate,
    )


def choose_workers(n_units: int, mem_per_unit_bytes: int | None = None) -> int:
    """Workers from cores and available memory (never more than units)."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = max(1, min(cores or 1, n_units))
    if mem_per_unit_bytes:
        try:
            import psutil

            available = psutil.virtual_memory().available
        except ImportError:
            available = None
        if available:
            workers = max(1, min(workers, int(available * 0.7 // mem_per_unit_bytes)))
    return workers


def describe_units(units: list[WorkUnit]) -> dict[str, Any]:
    return {"units": len(units), "wells": len({u.well for u in units})}
