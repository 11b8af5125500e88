"""napari-openhcs: high-content screening plates and pipelines, in napari and headless.

Importing the package is cheap: it imports no image library, no Qt and no napari. The public
API is loaded on first use::

    >>> import napari_openhcs as oh
    >>> gaussian = oh.fn("skimage.filters.gaussian")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "fn": "napari_openhcs.registry",
    "list_functions": "napari_openhcs.registry",
    "Step": "napari_openhcs.pipeline",
    "Pipeline": "napari_openhcs.pipeline",
    "open_plate": "napari_openhcs.plates",
    "run_plate": "napari_openhcs.execution",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'napari_openhcs' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
