"""The ``napari-openhcs`` command line: the parser, one table of commands, and ``main``.

No Qt here. Each command lives in a module of this package by topic (``run.py``: run and
demo; ``plates.py``: synth and inspect; ``functions.py``; ``convert.py``; ``export.py``) and
is imported only when it is run, so ``--help`` stays fast.

Exit codes: 0 success; 1 some wells failed or the run stopped on an error while running;
2 bad input found before anything was written; 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os

from napari_openhcs import __version__
from napari_openhcs.errors import exit_code
from napari_openhcs.vocabulary import MEMORY_TYPES

# command name -> "module:function"; each function takes the parsed args and returns an exit code.
COMMANDS = {
    "demo": "napari_openhcs.cli.run:demo_command",
    "synth": "napari_openhcs.cli.plates:synth_command",
    "inspect": "napari_openhcs.cli.plates:inspect_command",
    "functions": "napari_openhcs.cli.functions:functions_command",
    "convert": "napari_openhcs.cli.convert:convert_command",
    "run": "napari_openhcs.cli.run:run_command",
    "export": "napari_openhcs.cli.export:export_command",
}

EXECUTORS = ("serial", "processes", "dask")
SYNTH_FORMATS = ("imagexpress", "operaphenix", "omezarr")
PLATE_SIZES = (6, 12, 24, 48, 96, 384, 1536)
#: The libraries ``functions --library`` knows without a scan (plugins add their own names).
LIBRARIES = ("napari_openhcs", "skimage", "pyclesperanto", "cupy", "cucim", "torch")
EXIT_CODES = (
    "exit codes: 0 success; 1 some wells failed (the others are written) or the run\n"
    "stopped while running; 2 bad input, found before anything was written; 130 cancelled"
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Examples kept as written; every option that has a value by default shows it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default:" in text
            or not action.option_strings
            or default is None
            or default is argparse.SUPPRESS
            or isinstance(default, bool)
        ):
            return text
        return f"{text} (default: %(default)s)"


def _add_verbose(p: argparse.ArgumentParser, default) -> None:
    # On the main parser and on every sub-command, so `-v` works before or after the command;
    # a sub-command's flag (SUPPRESS when absent) does not undo the main parser's.
    p.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="log debug messages"
    )


def _command(sub, name: str, description: str, example: str) -> argparse.ArgumentParser:
    p = sub.add_parser(
        name,
        help=description,
        description=description,
        epilog=f"example:\n  {example}\n\n{EXIT_CODES}",
        formatter_class=HelpFormatter,
    )
    _add_verbose(p, argparse.SUPPRESS)
    return p


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ngff", choices=["0.4", "0.5"], default="0.5", help="OME-NGFF version written")
    p.add_argument(
        "--compressor",
        choices=["lz4", "zstd", "gzip", "none"],
        default="lz4",
        help="chunk compression (Blosc with LZ4, Blosc with Zstandard, gzip, or none)",
    )
    p.add_argument(
        "--shards",
        action="store_true",
        help="NGFF 0.5 only: one file per field (Zarr sharding) instead of one per plane; "
        "far fewer files on slow or network file systems, read by zarr-python 3 based tools",
    )


def _add_executor_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--executor",
        choices=EXECUTORS,
        default="processes",
        help="where units run: in this process, in worker processes, or on a Dask cluster",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: chosen from the usable cores and memory)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (kept importable for docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="napari-openhcs",
        description="High-content screening plates: inspect, convert, and run pipelines.",
        epilog="example:\n  napari-openhcs demo\n\n"
        "napari-openhcs COMMAND --help describes each command.\n" + EXIT_CODES,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"napari-openhcs {__version__}")
    _add_verbose(parser, False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = _command(
        sub,
        "demo",
        "make a synthetic plate of cells, run cell_profile over it and compare the counts "
        "and a phenotype with the truth",
        "napari-openhcs demo --out demo-out --workers 2",
    )
    p.add_argument(
        "--out", default=None, metavar="DIR", help="output folder (default: a new temporary folder)"
    )
    p.add_argument(
        "--gui",
        action="store_true",
        help="open the results in napari afterwards (needs: pip install 'napari-openhcs[napari]')",
    )
    _add_executor_options(p)

    p = _command(
        sub,
        "synth",
        "write a deterministic synthetic plate (with ground_truth.json) into a new folder",
        "napari-openhcs synth plate --format operaphenix --plate 96 --size 128",
    )
    p.add_argument("out", metavar="OUT", help="output folder (must not exist, or be empty)")
    p.add_argument("--format", choices=SYNTH_FORMATS, default="imagexpress", help="plate layout")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--wells",
        default=None,
        metavar="A01,B02",
        help="comma-separated wells (default: A01,A02,B01,B02 - 4 wells)",
    )
    g.add_argument(
        "--plate",
        type=int,
        choices=PLATE_SIZES,
        default=None,
        help="plate size: sets the grid and, without --wells, fills every well "
        "(default: the smallest standard plate of at least 96 wells holding --wells)",
    )
    p.add_argument("--sites", type=int, default=2, metavar="N", help="fields per well")
    p.add_argument(
        "--channels",
        type=int,
        default=None,
        metavar="N",
        help="channels: 1 = nuclei, 2+ = rings around them (default: 2); with --cells 1 to 3 "
        "of DNA, Cytoplasm, Membrane (default: 3)",
    )
    p.add_argument("--z", type=int, default=3, metavar="N", help="z-planes per field")
    p.add_argument("--timepoints", type=int, default=1, metavar="N", help="timepoints")
    p.add_argument("--size", type=int, default=256, metavar="PX", help="image side in pixels")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="random seed")
    p.add_argument(
        "--cells",
        action="store_true",
        help="cells with nucleus, cytoplasm and membrane stains and their true masks (under "
        "truth/) instead of nuclei only; one timepoint",
    )
    p.add_argument(
        "--plate-map",
        default=None,
        metavar="FILE",
        help="with --cells: per-well phenotypes, a CSV with a well (or well_position) column "
        "and any of cell_size, marker_intensity, positive_fraction (default: none; every "
        "phenotype of every well 1.0)",
    )

    p = _command(
        sub,
        "inspect",
        "describe a plate: format, wells, sites, channels, z, timepoints, missing images",
        "napari-openhcs inspect plate --json",
    )
    p.add_argument("plate", metavar="PLATE", help="plate folder or OME-Zarr plate (read only)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = _command(
        sub,
        "functions",
        "list the registered functions a pipeline step can use",
        "napari-openhcs functions --library skimage --memory-type numpy",
    )
    p.add_argument(
        "--library",
        default=None,
        metavar="L",
        help=f"only this library: one of {', '.join(LIBRARIES)}, or the entry-point name of "
        "an installed function package (default: every library)",
    )
    p.add_argument(
        "--memory-type",
        choices=MEMORY_TYPES,
        default=None,
        help="only functions taking this array type (default: every type)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = _command(
        sub,
        "convert",
        "convert a plate to an OME-Zarr HCS plate (resumes an interrupted conversion)",
        "napari-openhcs convert plate --out plate.ome.zarr --ngff 0.5 --shards",
    )
    p.add_argument("plate", metavar="PLATE", help="plate folder or OME-Zarr plate (read only)")
    p.add_argument("--out", required=True, metavar="DIR", help="output OME-Zarr plate (required)")
    _add_output_options(p)

    p = _command(
        sub,
        "run",
        "run a pipeline over a plate: images, labels, measurement tables and a run record",
        "napari-openhcs run plate --pipeline nuclei_count --out results --workers 2",
    )
    p.add_argument("plate", metavar="PLATE", help="plate folder or OME-Zarr plate (read only)")
    p.add_argument(
        "--pipeline",
        required=True,
        metavar="FILE|NAME",
        help="a pipeline JSON file, a .py file (with --allow-python) or a built-in name: "
        "nuclei_count, nuclei_marker, cell_profile (required)",
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (required)")
    _add_executor_options(p)
    p.add_argument(
        "--gpus",
        default="auto",
        metavar="auto|none|0,1",
        help="GPUs for CuPy/torch steps: 'auto' (every visible GPU), 'none' or a list like 0,1",
    )
    p.add_argument(
        "--units-per-gpu", type=int, default=1, metavar="N", help="units running at once on one GPU"
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDR",
        help="with --executor dask: address of a running Dask scheduler (default: a local cluster)",
    )
    g.add_argument(
        "--scheduler-file",
        default=None,
        metavar="FILE",
        help="with --executor dask: a Dask scheduler file (default: a local cluster)",
    )
    p.add_argument(
        "--wells", default=None, metavar="A01,B02", help="only these wells (default: every well)"
    )
    _add_output_options(p)
    p.add_argument("--overwrite", action="store_true", help="re-run wells an earlier run finished")
    p.add_argument(
        "--allow-missing",
        action="store_true",
        help="exit 0 although sites lacking an image plane were not computed (they are still "
        "recorded and warned about; default: exit 1)",
    )
    p.add_argument(
        "--allow-python", action="store_true", help="allow a .py pipeline (it is executed)"
    )
    p.add_argument(
        "--plate-map",
        default=None,
        metavar="FILE",
        help="CSV of well -> condition / control, joined into wells.csv (default: none)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = _command(
        sub,
        "export",
        "export a pipeline JSON to a Python script that runs it without napari",
        "napari-openhcs export examples/nuclei_count.json --to run_nuclei_count.py",
    )
    p.add_argument("pipeline", metavar="PIPELINE.json", help="pipeline JSON file or built-in name")
    p.add_argument("--to", required=True, metavar="SCRIPT.py", help="script to write (required)")
    return parser


_DASK_LOGGING = "DASK_DISTRIBUTED__LOGGING__DISTRIBUTED"


def _quiet_dask() -> str | None:
    """Dask's scheduler and workers log every start and stop at INFO: keep that for ``-v``.

    Set through Dask's configuration in the environment, so worker processes inherit it;
    returns the earlier value so that ``main`` can put it back (``main`` may be called in a
    process that goes on: a test, a notebook).
    """
    earlier = os.environ.get(_DASK_LOGGING)
    os.environ.setdefault(_DASK_LOGGING, "warning")
    return earlier


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (exit 2)
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    quieted = not args.verbose
    earlier = _quiet_dask() if quieted else None
    module_name, func_name = COMMANDS[args.command].split(":")
    try:
        return exit_code(lambda: getattr(importlib.import_module(module_name), func_name)(args))
    finally:
        if quieted and earlier is None:
            os.environ.pop(_DASK_LOGGING, None)
