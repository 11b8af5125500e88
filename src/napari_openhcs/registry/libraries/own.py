"""The package's own NumPy functions: ``napari_openhcs.functions.<name>``."""

from __future__ import annotations

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.libraries._common import (
    declared_functions,
    dist_version,
    info_from_declared,
)

LIBRARY = "napari_openhcs"


def versions() -> dict[str, str]:
    return {"napari-openhcs": dist_version("napari-openhcs") or "dev"}


def discover() -> list[FunctionInfo]:
    import napari_openhcs.functions as module

    return [
        info_from_declared(func, f"napari_openhcs.functions.{name}", LIBRARY)
        for name, func in declared_functions(module)
    ]
