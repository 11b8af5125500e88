"""The ``napari-openhcs`` command line. No Qt here; each command imports only what it needs.

Exit codes: 0 success; 1 some wells failed or the run stopped on an error while running;
2 bad input found before anything was written; 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# command name -> "module:function"; each function takes the parsed args and returns an exit code.
COMMANDS = {
    "demo": "napari_openhcs.execution.commands:demo_command",
    "synth": "napari_openhcs.plates.commands:synth_command",
    "inspect": "napari_openhcs.plates.commands:inspect_command",
    "functions": "napari_openhcs.registry.commands:functions_command",
    "convert": "napari_openhcs.storage.commands:convert_command",
    "run": "napari_openhcs.execution.commands:run_command",
    "export": "napari_openhcs.pipeline.commands:export_command",
}


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ngff", choices=["0.4", "0.5"], default="0.5", help="OME-NGFF version")
    p.add_argument(
        "--compressor",
        choices=["lz4", "zstd", "gzip", "none"],
        default="lz4",
        help="chunk compression (Blosc-LZ4 by default)",
    )
    p.add_argument(
        "--shards",
        action="store_true",
        help="NGFF 0.5 only: one file per field (Zarr sharding) instead of one per plane; "
        "far fewer files on slow or network file systems, read by zarr-python 3 based tools",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command (kept importable for docs and tests)."""
    parser = argparse.ArgumentParser(
        prog="napari-openhcs",
        description="High-content screening plates: inspect, convert, and run pipelines.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="make a synthetic plate, run nuclei_count, report")
    p.add_argument("--out", default=None, help="output folder (default: a new temp folder)")
    p.add_argument("--gui", action="store_true", help="open the result in napari")
    p.add_argument("--executor", choices=["serial", "processes", "dask"], default="processes")
    p.add_argument("--workers", type=int, default=None)

    p = sub.add_parser("synth", help="write a deterministic synthetic plate")
    p.add_argument("out", help="output folder")
    p.add_argument(
        "--format", choices=["imagexpress", "operaphenix", "omezarr"], default="imagexpress"
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument("--wells", default=None, help="comma-separated wells, e.g. A01,B02")
    g.add_argument("--plate", type=int, choices=[6, 12, 24, 48, 96, 384, 1536], default=None)
    p.add_argument("--sites", type=int, default=2)
    p.add_argument("--channels", type=int, default=2)
    p.add_argument("--z", type=int, default=3)
    p.add_argument("--timepoints", type=int, default=1)
    p.add_argument("--size", type=int, default=256, help="image side in pixels")
    p.add_argument("--seed", type=int, default=0)

    p = sub.add_parser("inspect", help="describe a plate")
    p.add_argument("plate")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("functions", help="list registered functions")
    p.add_argument("--library", default=None)
    p.add_argument("--memory-type", default=None)
    p.add_argument("--json", action="store_true", help="print a JSON list")

    p = sub.add_parser("convert", help="convert a plate to an OME-Zarr HCS plate")
    p.add_argument("plate")
    p.add_argument("--out", required=True)
    _add_output_options(p)

    p = sub.add_parser("run", help="run a pipeline over a plate")
    p.add_argument("plate")
    p.add_argument("--pipeline", required=True, help="a JSON file, a .py file or a built-in name")
    p.add_argument("--out", required=True)
    p.add_argument("--executor", choices=["serial", "processes", "dask"], default="processes")
    p.add_argument("--workers", type=int, default=None)
    p.add_argument(
        "--gpus",
        default="auto",
        help="GPUs for CuPy/torch steps: 'auto' (every visible GPU), 'none' or a list like 0,1",
    )
    p.add_argument("--units-per-gpu", type=int, default=1, help="units running at once on one GPU")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--scheduler", default=None, help="Dask scheduler address")
    g.add_argument("--scheduler-file", default=None, help="Dask scheduler file")
    p.add_argument("--wells", default=None, help="comma-separated wells, e.g. A01,B02")
    _add_output_options(p)
    p.add_argument("--overwrite", action="store_true", help="re-run finished wells")
    p.add_argument("--allow-python", action="store_true", help="allow a .py pipeline (runs it)")
    p.add_argument("--plate-map", default=None, help="CSV of well -> condition / control")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = sub.add_parser("export", help="export a pipeline JSON to a runnable Python script")
    p.add_argument("pipeline")
    p.add_argument("--to", required=True)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    from napari_openhcs.errors import InputError, RunError

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    module_name, func_name = COMMANDS[args.command].split(":")
    try:
        command = getattr(importlib.import_module(module_name), func_name)
        return int(command(args) or 0)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except RunError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
