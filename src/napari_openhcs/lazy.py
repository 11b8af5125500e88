"""The package's one lazy-attribute mechanism (PEP 562), for package ``__init__`` modules.

A package names the attributes it exports and the module each lives in; the module is
imported on first access, so importing the package stays cheap (``import napari_openhcs``
imports no image library; a worker imports ``napari_openhcs.execution`` without the run
machinery). This is what ``lazy_loader.attach`` does, written without the dependency::

    __getattr__, __dir__, __all__ = attach(__name__, {"run_plate": "napari_openhcs.execution.run"})
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def attach(
    package: str, exports: dict[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package`` exporting ``exports``.

    ``exports`` maps each attribute name to the module that defines it. The value is cached
    in the package's namespace after the first access.
    """

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__, list(exports)
