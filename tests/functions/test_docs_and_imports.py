"""Docstring examples run, and importing the functions stays light."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import pytest

NUMPY_MODULES = [
    "napari_openhcs.functions.projection",
    "napari_openhcs.functions.exposure",
    "napari_openhcs.functions.background",
    "napari_openhcs.functions.threshold",
    "napari_openhcs.functions.counting",
    "napari_openhcs.functions.composite",
]


@pytest.mark.parametrize("name", [*NUMPY_MODULES, "napari_openhcs.functions.torch"])
def test_docstring_examples_run(name):
    if name.endswith(".torch"):
        pytest.importorskip("torch", reason="torch is an optional extra")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


def test_importing_the_functions_imports_no_heavy_library():
    code = (
        "import sys, napari_openhcs.functions as f; "
        "heavy = [m for m in ('torch', 'cupy', 'skimage', 'scipy') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
