"""The declarative JSON pipeline format: loading runs no code and accepts only registered refs.

Shape (DESIGN.md)::

    {"format": "napari-openhcs.pipeline", "version": 1, "name": "...",
     "steps": [{"name": ..., "func": <pattern>, "variable_components": [...], ...}]}

A pattern is a reference string, ``{"function": ref, "kwargs": {...}}``, a list of those, or
``{"groups": {value: pattern}}``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from napari_openhcs.atomic import write_text
from napari_openhcs.errors import PipelineError, UnknownFunctionError
from napari_openhcs.pipeline.compiler import check_kwargs
from napari_openhcs.pipeline.step import Pipeline, Step, setting_defaults
from napari_openhcs.registry import get_info

FORMAT = "napari-openhcs.pipeline"
VERSION = 1
BUILTIN = Path(__file__).resolve().parent.parent / "pipelines"
#: the optional step fields and their defaults, from ``Step`` (written when they differ)
SETTING_DEFAULTS = setting_defaults()


def _chain_to_json(chain: list[tuple[str, dict]]) -> Any:
    items = [ref if not kwargs else {"function": ref, "kwargs": kwargs} for ref, kwargs in chain]
    return items[0] if len(items) == 1 else items


def step_to_dict(step: Step) -> dict:
    """The JSON object of one step (``variable_components`` always, other settings when they
    differ from their defaults)."""
    pattern = step.pattern
    func = (
        {"groups": {k: _chain_to_json(v) for k, v in pattern.items()}}
        if isinstance(pattern, dict)
        else _chain_to_json(pattern)
    )
    d: dict[str, Any] = {"name": step.name, "func": func}
    for key, default in SETTING_DEFAULTS.items():
        value = getattr(step, key)
        if key == "variable_components" or value != default:
            d[key] = value
    return d


def pipeline_to_dict(pipeline: Pipeline) -> dict:
    """The JSON object of a pipeline (see the module docstring)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": pipeline.name,
        "steps": [step_to_dict(s) for s in pipeline.steps],
    }


def dumps(pipeline: Pipeline) -> str:
    """Stable JSON text (save → load → save is byte-identical)."""
    return json.dumps(pipeline_to_dict(pipeline), indent=2) + "\n"


def _chain_from_json(value: Any, where: str) -> list:
    if isinstance(value, str):
        return [(value, {})]
    if isinstance(value, dict):
        if set(value) - {"function", "kwargs"} or "function" not in value:
            raise PipelineError(f"{where}: a function entry has 'function' and 'kwargs' only")
        kwargs = value.get("kwargs") or {}
        if not isinstance(kwargs, dict):
            raise PipelineError(f"{where}: 'kwargs' must be an object")
        return [(str(value["function"]), dict(kwargs))]
    if isinstance(value, list):
        chain = []
        for item in value:
            chain.extend(_chain_from_json(item, where))
        return chain
    raise PipelineError(f"{where}: cannot read function pattern {value!r}")


def pipeline_from_dict(data: dict, source: str = "pipeline") -> Pipeline:
    """Build a pipeline from parsed JSON, checking every reference against the registry."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PipelineError(f"{source}: not a napari-openhcs pipeline (format must be {FORMAT!r})")
    if data.get("version") != VERSION:
        raise PipelineError(f"{source}: unsupported pipeline version {data.get('version')!r}")
    steps = []
    for i, raw in enumerate(data.get("steps") or []):
        where = f"{source}: step {i + 1}"
        if not isinstance(raw, dict) or "func" not in raw:
            raise PipelineError(f"{where}: a step needs 'func'")
        unknown = set(raw) - {"name", "func"} - set(SETTING_DEFAULTS)
        if unknown:
            raise PipelineError(f"{where}: unknown field(s) {sorted(unknown)}")
        func = raw["func"]
        if isinstance(func, dict) and "groups" in func:
            pattern: Any = {
                str(k): [(r, kw) for r, kw in _chain_from_json(v, where)]
                for k, v in func["groups"].items()
            }
        else:
            pattern = _chain_from_json(func, where)
        chains = pattern.values() if isinstance(pattern, dict) else [pattern]
        label = raw.get("name") or where
        for chain in chains:
            for ref, kwargs in chain:
                # UnknownFunctionError (exit 2) for anything unregistered, e.g. "os.system"
                try:
                    info = get_info(ref)
                except UnknownFunctionError as exc:
                    raise UnknownFunctionError(f"{source}: step {label!r}: {exc}") from None
                check_kwargs(label, ref, kwargs, info)
        fields = {k: raw[k] for k in SETTING_DEFAULTS if k in raw}
        steps.append(Step(func=_as_step_func(pattern), name=raw.get("name"), **fields))
    if not steps:
        raise PipelineError(f"{source}: the pipeline has no steps")
    return Pipeline(steps, name=str(data.get("name") or "pipeline"))


def _as_step_func(pattern: Any) -> Any:
    if isinstance(pattern, dict):
        return {k: [(r, kw) for r, kw in v] for k, v in pattern.items()}
    return [(r, kw) for r, kw in pattern]


def load_pipeline(source: Any, allow_python: bool = False) -> Pipeline:
    """A pipeline from a ``Pipeline``, a JSON file, a ``.py`` file, or a built-in name.

    A ``.py`` pipeline is executed to build it, so it is refused unless ``allow_python``.
    """
    if isinstance(source, Pipeline):
        return source
    text = str(source)
    path = Path(text)
    if not path.exists() and (BUILTIN / f"{text}.json").exists():
        path = BUILTIN / f"{text}.json"
    if not path.exists():
        names = sorted(p.stem for p in BUILTIN.glob("*.json"))
        raise PipelineError(
            f"pipeline {text!r}: no such file and no built-in pipeline of that "
            f"name (built-in: {', '.join(names)})"
        )
    if path.suffix == ".py":
        if not allow_python:
            raise PipelineError(
                f"{path}: a .py pipeline runs code when loaded; pass "
                "--allow-python (allow_python=True) if you trust it"
            )
        namespace: dict = {"__name__": "openhcs_pipeline"}
        exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)  # noqa: S102
        pipe = namespace.get("pipeline")
        if not isinstance(pipe, Pipeline):
            raise PipelineError(f"{path}: defines no variable 'pipeline' holding a Pipeline")
        return pipe
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise PipelineError(f"{path}: cannot read pipeline JSON: {exc}") from exc
    return pipeline_from_dict(data, source=str(path))


def save_pipeline(pipeline: Pipeline, path: str | Path) -> Path:
    """Write the pipeline as JSON (atomically)."""
    path = Path(path)
    write_text(path, dumps(pipeline))
    return path
