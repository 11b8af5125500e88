"""Export a pipeline as a runnable Python script (``napari-openhcs export``).

The script rebuilds the same pipeline from ``fn("...")`` references with ``Step`` and
``Pipeline`` and runs it headless with ``run_plate``::

    python my_pipeline.py PLATE OUT [--executor processes] [--workers N] [--wells A01,B02]

It also defines a module-level ``pipeline``, so ``napari-openhcs run --pipeline my_pipeline.py
--allow-python`` loads the same pipeline.
"""

from __future__ import annotations

import json
from pathlib import Path

from napari_openhcs.atomic import write_text
from napari_openhcs.pipeline.jsonio import SETTING_DEFAULTS, load_pipeline
from napari_openhcs.pipeline.step import Pipeline, Step

_RUNNER = '''

def main(argv=None) -> int:
    """Run the pipeline over a plate; returns the exit code (0, 1, 2 or 130)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plate", help="plate folder (ImageXpress, Opera Phenix or OME-Zarr)")
    parser.add_argument("out", help="output folder")
    parser.add_argument("--executor", choices=["processes", "serial", "dask"], default="processes")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--wells", default=None, help="comma-separated wells, e.g. A01,B02")
    parser.add_argument("--scheduler-file", default=None, help="Dask scheduler file")
    parser.add_argument("--overwrite", action="store_true", help="re-run finished wells")
    args = parser.parse_args(argv)
    return exit_code(lambda: _run(args))


def _run(args) -> int:
    wells = [w.strip() for w in args.wells.split(",") if w.strip()] if args.wells else None
    report = run_plate(
        args.plate,
        pipeline,
        args.out,
        executor=args.executor,
        workers=args.workers,
        wells=wells,
        scheduler_file=args.scheduler_file,
        overwrite=args.overwrite,
    )
    for well in report.failed:
        info = report.wells[well]
        print(f"FAILED well {well}: {info.get('error')}", file=sys.stderr)
    print(f"{len(report.finished)}/{len(report.wells)} wells finished -> {report.out}")
    return report.exit_code


if __name__ == "__main__":
    sys.exit(main())
'''


def _py(value: object) -> str:
    """A Python literal for a JSON value (``repr`` round-trips str, int, float, bool, None)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py(k)}: {_py(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_py(v) for v in value) + "]"
    if isinstance(value, str):
        return json.dumps(value)  # a valid Python literal, in double quotes
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return f'float("{value}")'
    return repr(value)


def _chain_code(chain: list[tuple[str, dict]]) -> str:
    items = [
        f"fn({_py(ref)})" if not kwargs else f"(fn({_py(ref)}), {_py(kwargs)})"
        for ref, kwargs in chain
    ]
    return items[0] if len(items) == 1 else "[" + ", ".join(items) + "]"


def _step_code(step: Step) -> str:
    pattern = step.pattern
    if isinstance(pattern, dict):
        func = "{" + ", ".join(f"{_py(k)}: {_chain_code(v)}" for k, v in pattern.items()) + "}"
    else:
        func = _chain_code(pattern)
    lines = [f"        func={func},", f"        name={_py(step.name)},"]
    for key, default in SETTING_DEFAULTS.items():
        value = getattr(step, key)
        if key == "variable_components" or value != default:
            lines.append(f"        {key}={_py(value)},")
    return "    Step(\n" + "\n".join(lines) + "\n    ),"


def pipeline_to_script(pipeline: Pipeline, source: str | None = None) -> str:
    """The text of a runnable Python script that rebuilds and runs ``pipeline``.

    Parameters
    ----------
    pipeline : Pipeline
        The pipeline (only registered function references can be exported).
    source : str, optional
        Where the pipeline came from, named in the script's docstring.

    Returns
    -------
    str
        Python source; it runs the pipeline headless under ``if __name__ == "__main__":``.
    """
    origin = f" (exported from {Path(source).name})" if source else ""
    title = json.dumps(pipeline.name)[1:-1]
    steps = "\n".join(_step_code(s) for s in pipeline.steps)
    return (
        f'"""Pipeline \'{title}\'{origin}: run it over a plate with napari-openhcs.\n\n'
        "Usage: python SCRIPT.py PLATE OUT [--executor processes|serial|dask] [--workers N]\n"
        '"""\n\n'
        "import argparse\n"
        "import sys\n\n"
        "from napari_openhcs.errors import exit_code\n"
        "from napari_openhcs.execution.run import run_plate\n"
        "from napari_openhcs.pipeline import Pipeline, Step\n"
        "from napari_openhcs.registry import fn\n\n"
        f"pipeline = Pipeline(\n    [\n{_indent(steps)}\n    ],\n    name={_py(pipeline.name)},\n)\n"
        + _RUNNER
    )


def _indent(text: str) -> str:
    return "\n".join(("    " + line) if line else line for line in text.splitlines())


def export_pipeline(pipeline: Pipeline | str | Path, target: str | Path) -> Path:
    """Write ``pipeline`` (a ``Pipeline``, a JSON file or a built-in name) as a script.

    Raises
    ------
    PipelineError
        The pipeline cannot be loaded (unknown functions, bad JSON, a ``.py`` file, ...).
    """
    source = None if isinstance(pipeline, Pipeline) else str(pipeline)
    pipe = load_pipeline(pipeline, allow_python=False)
    target = Path(target)
    write_text(target, pipeline_to_script(pipe, source=source))
    return target
