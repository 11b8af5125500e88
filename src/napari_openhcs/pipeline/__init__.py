"""Pipelines: steps, the JSON format, code export, and the compiler to work units."""

from __future__ import annotations

from napari_openhcs.pipeline.jsonio import load_pipeline, save_pipeline
from napari_openhcs.pipeline.step import Pipeline, Step

__all__ = ["Pipeline", "Step", "load_pipeline", "save_pipeline"]
