"""cuCIM: ``cucim.skimage`` functions mirroring the reviewed scikit-image list (CUDA)."""

from __future__ import annotations

import importlib
import importlib.util

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.libraries import skimage as sk
from napari_openhcs.registry.libraries._common import dist_version, first_doc_line, log
from napari_openhcs.registry.specs import param_specs

LIBRARY = "cucim"


def versions() -> dict[str, str]:
    return {d: v for d in ("cucim-cu12", "cucim-cu13", "cucim") if (v := dist_version(d))}


def discover() -> list[FunctionInfo]:
    if importlib.util.find_spec("cucim") is None:
        raise ImportError("cuCIM is not installed")
    from dataclasses import replace

    # lazy: memory imports NumPy; the registry imports this module without it
    from napari_openhcs.memory import memory_type_status

    ok, reason = memory_type_status().get("cupy", (False, "CuPy is not usable"))
    infos = []
    for base in sk.reviewed_entries():
        ref = "cucim." + base.ref
        module_name, _, name = ref.rpartition(".")
        try:
            func = getattr(importlib.import_module(module_name), name)
        except (ImportError, AttributeError):
            continue
        try:
            params = param_specs(func, base.ref)
        except ValueError as exc:
            log.debug("left out %s: %s", ref, exc)
            continue
        infos.append(
            replace(
                base,
                ref=ref,
                library=LIBRARY,
                memory_type="cupy",
                doc=first_doc_line(func),
                params=params,
                available=ok,
                reason="" if ok else reason,
            )
        )
    return infos
