"""Helpers shared by the library discovery modules."""

from __future__ import annotations

import logging
from importlib import metadata
from typing import Any

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.specs import param_specs

log = logging.getLogger("napari_openhcs.registry")


def dist_version(name: str) -> str | None:
    """The installed version of distribution ``name``, or ``None`` when not installed."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def first_doc_line(obj: Any) -> str:
    """The first line of ``obj``'s docstring (``""`` when it has none)."""
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0].strip() if doc else ""


def info_from_declared(func: Any, ref: str, library: str, **defaults: Any) -> FunctionInfo:
    """A ``FunctionInfo`` from a function's ``__openhcs__`` metadata (own and lab functions)."""
    meta = dict(getattr(func, "__openhcs__", None) or {})
    if getattr(func, "__module__", None) == "__main__":
        raise ValueError(
            f"{ref} is defined in __main__ (a script or notebook): worker processes cannot "
            "import it. Move it into an importable module and register that module."
        )
    memory_type = meta.get("input_memory_type") or defaults.get("memory_type", "numpy")
    return FunctionInfo(
        ref=ref,
        library=library,
        memory_type=memory_type,
        contract=meta.get("contract") or defaults.get("contract", "slice"),
        category=meta.get("category") or defaults.get("category", "filter"),
        doc=first_doc_line(func),
        params=param_specs(
            func,
            ref,
            image_params=tuple(meta.get("image_params") or ()),
            object_params=tuple(meta.get("object_params") or ()),
        ),
        output_kind=meta.get("output_kind") or "image",
        special_outputs=tuple(meta.get("special_outputs") or ()),
    )


def declared_functions(module: Any) -> list[tuple[str, Any]]:
    """``(name, function)`` for the module's ``__all__`` (or its declared public functions)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [
            n
            for n, v in vars(module).items()
            if not n.startswith("_") and callable(v) and hasattr(v, "__openhcs__")
        ]
    return [(n, getattr(module, n)) for n in names if callable(getattr(module, n, None))]
