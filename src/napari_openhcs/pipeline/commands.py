"""The ``export`` command: a pipeline (JSON file or built-in name) to a runnable script."""

from __future__ import annotations

import argparse


def export_command(args: argparse.Namespace) -> int:
    """``napari-openhcs export PIPELINE.json --to SCRIPT.py``; returns the exit code.

    Loading the JSON runs no code; a bad pipeline raises ``PipelineError`` (exit 2).
    """
    from napari_openhcs.pipeline.export import export_pipeline
    from napari_openhcs.pipeline.jsonio import load_pipeline

    pipeline = load_pipeline(args.pipeline, allow_python=False)
    path = export_pipeline(pipeline, args.to)
    print(f"wrote {path}: python {path} PLATE OUT runs it")
    return 0
