"""Export a pipeline as a runnable Python script that rebuilds it and runs it headless.

The script calls ``fn("...")`` for every function, so it is honest about running the
registered, wrapped function, and it takes the plate and output folders from the command line::

    python my_pipeline.py PLATE OUT [--executor serial|processes|dask]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from napari_openhcs.pipeline.jsonio import _DEFAULTS
from napari_openhcs.pipeline.step import Pipeline, Step

_HEADER = '''"""{name}: exported from napari-openhcs; rebuilds the pipeline and runs it headless.

Usage: python {script} PLATE OUT [--executor processes|serial|dask] [--wells A01,B02]
"""

import argparse

from napari_openhcs import Pipeline, Step, fn, run_plate

'''

_FOOTER = """

def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("plate", help="the plate folder (read-only)")
    parser.add_argument("out", help="the output folder")
    parser.add_argument("--executor", default="processes")
    parser.add_argument("--wells", default=None, help="comma-separated wells (default: all)")
    args = parser.parse_args(argv)
    wells = args.wells.split(",") if args.wells else None
    report = run_plate(args.plate, pipeline, args.out, executor=args.executor, wells=wells)
    return report.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
"""


def _call(ref: str, kwargs: dict) -> str:
    call = f"fn({json.dumps(ref)})"
    return call if not kwargs else f"({call}, {kwargs!r})"


def _chain_code(chain: list[tuple[str, dict]]) -> str:
    items = [_call(ref, kwargs) for ref, kwargs in chain]
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def _step_code(step: Step) -> str:
    pattern = step.pattern
    if isinstance(pattern, dict):
        inner = ", ".join(f"{k!r}: {_chain_code(v)}" for k, v in pattern.items())
        func = "{" + inner + "}"
    else:
        func = _chain_code(pattern)
    args = [f"func={func}", f"name={step.name!r}"]
    for key, default in _DEFAULTS.items():
        value: Any = getattr(step, key)
        if key == "variable_components" or value != default:
            args.append(f"{key}={value!r}")
    return "        Step(\n" + "".join(f"            {a},\n" for a in args) + "        ),\n"


def pipeline_to_script(pipeline: Pipeline, script_name: str = "pipeline.py") -> str:
    """Python source that rebuilds ``pipeline`` as ``pipeline`` and runs it from the command line.

    Examples
    --------
    >>> from napari_openhcs.pipeline import Pipeline, Step
    >>> code = pipeline_to_script(
    ...     Pipeline([Step("napari_openhcs.functions.max_projection")], name="demo")
    ... )
    >>> 'fn("napari_openhcs.functions.max_projection")' in code.replace("'", '"')
    True
    """
    body = "".join(_step_code(s) for s in pipeline.steps)
    return (
        _HEADER.format(name=pipeline.name, script=script_name)
        + f"pipeline = Pipeline(\n    [\n{body}    ],\n    name={pipeline.name!r},\n)\n"
        + _FOOTER
    )


def export_pipeline(pipeline: Pipeline, path: str | Path) -> Path:
    """Write ``pipeline`` as a runnable script at ``path`` (atomically)."""
    from napari_openhcs.execution.records import atomic_write_text

    path = Path(path)
    atomic_write_text(path, pipeline_to_script(pipeline, path.name))
    return path
