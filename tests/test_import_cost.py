"""Importing the package, the registry and listing from a warm cache import no heavy library.

Each check runs in a fresh interpreter, so modules imported by other tests do not leak in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

HEAVY = ("skimage", "torch", "cupy", "pyclesperanto", "qtpy", "napari", "magicgui", "PyQt6")

_REPORT = f"import sys, json;print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"


def _heavy_after(statements: str, env: dict | None = None) -> list[str]:
    code = statements + "\n" + _REPORT
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "statements",
    [
        "import napari_openhcs",
        "import napari_openhcs.registry",
        "from napari_openhcs.registry import fn, list_functions, declare, FunctionRef, get_info",
        "import napari_openhcs.registry.reference, napari_openhcs.registry.catalog",
        "import napari_openhcs.cli",
    ],
)
def test_import_pulls_in_no_heavy_library(statements):
    assert _heavy_after(statements) == []


def test_warm_listing_and_cache_key_import_no_heavy_library(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path), "NAPARI_OPENHCS_DISABLE_REGISTRY_CACHE": "0"}
    # Cold: builds the index (imports the libraries) and writes the cache.
    build = subprocess.run(
        [
            sys.executable,
            "-c",
            "from napari_openhcs.registry import list_functions; print(len(list_functions()))",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )
    assert build.returncode == 0, build.stderr
    assert int(build.stdout.strip()) > 0
    # Warm: reads the JSON only.
    heavy = _heavy_after(
        "from napari_openhcs.registry import list_functions, get_info\n"
        "from napari_openhcs.registry.catalog import cache_key\n"
        "cache_key()\n"
        "assert len(list_functions()) > 0\n"
        "get_info('skimage.filters.gaussian')",
        env=env,
    )
    assert heavy == []


def test_fn_resolves_without_importing_other_libraries(tmp_path):
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from napari_openhcs.registry import list_functions; list_functions()",
        ],
        check=True,
        capture_output=True,
        timeout=300,
        env={**os.environ, **env},
    )
    # Resolving and calling a numpy/skimage function must not drag in torch or pyclesperanto.
    heavy = _heavy_after(
        "import numpy as np\n"
        "from napari_openhcs.registry import fn\n"
        "f = fn('skimage.filters.gaussian')\n"
        "f(np.zeros((1, 16, 16), np.float32), sigma=1.0)",
        env=env,
    )
    assert heavy == ["skimage"]
