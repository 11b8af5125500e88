"""The package's own NumPy functions: ``napari_openhcs.functions.<name>``."""

from __future__ import annotations

import importlib

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.libraries._common import (
    declared_functions,
    dist_version,
    info_from_declared,
)

LIBRARY = "napari_openhcs"
#: The package holding the package's own functions (``napari_openhcs.functions.<name>``).
FUNCTIONS_PACKAGE = "napari_openhcs.functions"


def versions() -> dict[str, str]:
    return {"napari-openhcs": dist_version("napari-openhcs") or "dev"}


def discover() -> list[FunctionInfo]:
    """The declared functions of :data:`FUNCTIONS_PACKAGE`, imported by name.

    By name, because ``functions/`` sits above the registry (its functions register
    through ``registry.declare``): the registry never imports it directly.
    """
    module = importlib.import_module(FUNCTIONS_PACKAGE)
    return [
        info_from_declared(func, f"{FUNCTIONS_PACKAGE}.{name}", LIBRARY)
        for name, func in declared_functions(module)
    ]
