"""Each own function declares what the registry needs: memory type, contract, kind."""

from __future__ import annotations

import importlib

import pytest

import napari_openhcs.functions as numpy_functions

EXPECTED = {
    "max_projection": ("stack", "projection", "image", ()),
    "mean_projection": ("stack", "projection", "image", ()),
    "percentile_normalize": ("stack", "exposure", "image", ()),
    "tophat_background": ("stack", "filter", "image", ()),
    "threshold": ("stack", "segmentation", "mask", ()),
    "count_objects": ("stack", "segmentation", "labels", ("measurements",)),
    "composite": ("stack", "projection", "image", ()),
    "measure_objects": ("stack", "measurement", "labels", ("measurements",)),
    "estimate_flatfield": ("stack", "background", "image", ()),
    "correct_flatfield": ("stack", "background", "image", ()),
    "identify_primary_objects": ("stack", "segmentation", "labels", ()),
    "identify_secondary_objects": ("stack", "segmentation", "labels", ()),
    "identify_tertiary_objects": ("stack", "segmentation", "labels", ()),
    "filter_objects": ("stack", "segmentation", "labels", ()),
    "relate_objects": ("stack", "measurement", "labels", ("child_parents", "child_counts")),
    "measure_cells": ("stack", "measurement", "labels", ("measurements",)),
}


def _check(func, memory_type: str, name: str) -> None:
    meta = func.__openhcs__
    contract, category, output_kind, special_outputs = EXPECTED[name]
    assert meta["input_memory_type"] == memory_type
    assert meta["output_memory_type"] == memory_type
    assert meta["contract"] == contract
    assert meta["category"] == category
    assert meta["output_kind"] == output_kind
    assert tuple(meta.get("special_outputs", ())) == special_outputs


def test_all_lists_every_numpy_function():
    assert sorted(numpy_functions.__all__) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_numpy_functions_declare_their_contract(name):
    _check(getattr(numpy_functions, name), "numpy", name)


def test_torch_functions_declare_their_contract():
    pytest.importorskip("torch", reason="torch is an optional extra")
    module = importlib.import_module("napari_openhcs.functions.torch")
    assert {"max_projection", "mean_projection", "percentile_normalize"} <= set(module.__all__)
    assert "tophat_background" in module.__all__
    for name in module.__all__:
        _check(getattr(module, name), "torch", name)
        # Same parameters as the NumPy version, so a step can switch backend.
        numpy_version = getattr(numpy_functions, name)
        assert numpy_version.__annotations__.keys() == getattr(module, name).__annotations__.keys()


@pytest.mark.gpu
def test_cupy_functions_declare_their_contract():
    pytest.importorskip("cupy", reason="install the gpu-cuda12 or gpu-cuda13 extra")
    module = importlib.import_module("napari_openhcs.functions.cupy")
    for name in module.__all__:
        _check(getattr(module, name), "cupy", name)
