"""The package's torch functions: ``napari_openhcs.functions.torch.<name>`` (needs torch)."""

from __future__ import annotations

import importlib.util

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.libraries._common import (
    declared_functions,
    dist_version,
    info_from_declared,
)

LIBRARY = "torch"


def versions() -> dict[str, str]:
    return {"torch": dist_version("torch") or "absent"}


def discover() -> list[FunctionInfo]:
    if importlib.util.find_spec("torch") is None:
        raise ImportError("torch is not installed (pip install 'napari-openhcs[torch]')")
    module = importlib.import_module("napari_openhcs.functions.torch")
    return [
        info_from_declared(
            func, f"napari_openhcs.functions.torch.{name}", LIBRARY, memory_type="torch"
        )
        for name, func in declared_functions(module)
    ]
