"""pyclesperanto: the reviewed GPU/OpenCL operations of ``registry/reviewed/pyclesperanto.tsv``
and the package's pyclesperanto functions (``napari_openhcs.functions.pyclesperanto.<name>``).

Without an OpenCL (or CUDA) device, ``import pyclesperanto`` only warns and its operations
cannot run: every reviewed and own function is then listed unavailable with that reason, the
same policy as every other library.
"""

from __future__ import annotations

import importlib
import importlib.util
from dataclasses import replace

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.libraries._common import (
    declared_functions,
    dist_version,
    first_doc_line,
    info_from_declared,
    log,
)
from napari_openhcs.registry.libraries._reviewed import read_reviewed, reviewed_info
from napari_openhcs.registry.specs import param_specs

LIBRARY = "pyclesperanto"
#: The package's own pyclesperanto functions.
OWN_MODULE = "napari_openhcs.functions.pyclesperanto"
NO_DEVICE = (
    "no OpenCL or CUDA device for pyclesperanto (on a CPU-only Debian machine install "
    "pocl-opencl-icd)"
)


def versions() -> dict[str, str]:
    return {
        d: v
        for d in ("pyclesperanto", "pyclesperanto-cuda", "pyclesperanto-opencl")
        if (v := dist_version(d))
    }


def device_status() -> tuple[bool, str]:
    """Whether pyclesperanto can run here, and why not."""
    # lazy: memory imports NumPy; the registry imports this module without it
    from napari_openhcs.memory import memory_type_status

    ok, detail = memory_type_status().get("pyclesperanto", (False, ""))
    return ok, "" if ok else (f"{NO_DEVICE} ({detail})" if detail else NO_DEVICE)


def discover() -> list[FunctionInfo]:
    if importlib.util.find_spec("pyclesperanto") is None:
        raise ImportError(
            "pyclesperanto is not installed (pip install 'napari-openhcs[clesperanto]')"
        )

    ok, reason = device_status()
    cle = importlib.import_module("pyclesperanto")
    infos = []
    for entry in read_reviewed("pyclesperanto"):
        name = entry.ref.rpartition(".")[2]
        func = getattr(cle, name, None)
        params: tuple = ()
        if func is None and ok:
            log.info("registry: %s is not in this pyclesperanto version", entry.ref)
            continue
        if func is not None:
            try:
                params = param_specs(func, entry.ref)
            except ValueError as exc:
                log.info("registry: left out %s: %s", entry.ref, exc)
                continue
        infos.append(
            reviewed_info(
                entry,
                LIBRARY,
                "pyclesperanto",
                doc=first_doc_line(func) if func is not None else "",
                available=ok,
                reason="" if ok else reason,
                params=params,
            )
        )
    infos += _own_functions(ok, reason)
    if not ok:
        log.info("registry: pyclesperanto functions are unavailable: %s", reason)
    return infos


def _own_functions(ok: bool, reason: str) -> list[FunctionInfo]:
    """The declared functions of :data:`OWN_MODULE`, unavailable (with ``reason``) unless ``ok``."""
    own = importlib.import_module(OWN_MODULE)
    infos = [
        info_from_declared(func, f"{OWN_MODULE}.{name}", LIBRARY, memory_type="pyclesperanto")
        for name, func in declared_functions(own)
    ]
    return infos if ok else [replace(i, available=False, reason=reason) for i in infos]
