"""scikit-image: the reviewed functions of ``registry/reviewed/skimage.tsv``.

All run slice by slice (2-D per plane, even where scikit-image accepts 3-D, so a blur never
mixes sites or channels); scalar thresholds are adapted to masks.
"""

from __future__ import annotations

import importlib
import importlib.util

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.libraries._common import dist_version, first_doc_line, log
from napari_openhcs.registry.libraries._reviewed import ReviewedEntry, read_reviewed, reviewed_info
from napari_openhcs.registry.specs import param_specs

LIBRARY = "skimage"


def versions() -> dict[str, str]:
    return {"scikit-image": dist_version("scikit-image") or "absent"}


def reviewed_entries() -> list[FunctionInfo]:
    """The reviewed list as ``FunctionInfo`` skeletons (no library import; no params)."""
    return [reviewed_info(e, LIBRARY, "numpy") for e in read_reviewed("skimage")]


def _info(entry: ReviewedEntry) -> FunctionInfo | None:

    module_name, _, name = entry.ref.rpartition(".")
    try:
        func = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as exc:
        log.info("registry: %s is not in this scikit-image version (%s)", entry.ref, exc)
        return None
    try:
        params = param_specs(func, entry.ref)
    except ValueError as exc:
        log.info("registry: left out %s: %s", entry.ref, exc)
        return None
    return reviewed_info(entry, LIBRARY, "numpy", doc=first_doc_line(func), params=params)


def discover() -> list[FunctionInfo]:
    if importlib.util.find_spec("skimage") is None:
        raise ImportError("scikit-image is not installed")
    return [info for e in read_reviewed("skimage") if (info := _info(e)) is not None]
