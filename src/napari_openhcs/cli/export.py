"""``napari-openhcs export PIPELINE.json --to SCRIPT.py``."""

from __future__ import annotations

from pathlib import Path

from napari_openhcs.errors import InputError
from napari_openhcs.pipeline.export import export_pipeline


def export_command(args) -> int:
    """Write the pipeline as a runnable Python script; exit 0, or 2 for a bad pipeline."""
    if Path(args.to).is_dir():
        raise InputError(f"--to {args.to} is a folder: name the script, e.g. {args.to}/run.py")
    path = export_pipeline(args.pipeline, args.to)
    print(f"wrote {path}: run it with  python {path} PLATE OUT")
    return 0
