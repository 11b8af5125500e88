"""Third-party function packages: the ``napari_openhcs.functions`` entry-point group.

A lab's package declares, in its ``pyproject.toml``::

    [project.entry-points."napari_openhcs.functions"]
    mylab = "mylab_hcs.functions"

and every function in that module's ``__all__`` (or every public function carrying
``declare``/memory-type metadata) is registered as ``mylab_hcs.functions.<name>``.
"""

from __future__ import annotations

import importlib
from importlib import metadata

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.libraries._common import (
    declared_functions,
    info_from_declared,
    log,
)

LIBRARY = "plugins"
GROUP = "napari_openhcs.functions"


def entry_points() -> list[metadata.EntryPoint]:
    return sorted(metadata.entry_points(group=GROUP), key=lambda ep: ep.name)


def versions() -> dict[str, str]:
    out = {}
    for ep in entry_points():
        dist = getattr(ep, "dist", None)
        out[f"ep:{ep.name}={ep.value}"] = dist.version if dist is not None else "?"
    return out


def discover() -> list[FunctionInfo]:
    infos: list[FunctionInfo] = []
    for ep in entry_points():
        module_name = ep.value.split(":")[0]
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not hide the rest
            log.warning("function package %r (%s) failed to import: %s", ep.name, module_name, exc)
            continue
        for name, func in declared_functions(module):
            try:
                infos.append(info_from_declared(func, f"{module_name}.{name}", ep.name))
            except ValueError as exc:
                log.warning("%s", exc)
    return infos
