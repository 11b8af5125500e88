"""CuPy: the reviewed 2-D filters of ``cupyx.scipy.ndimage`` and the package's CuPy functions.

Listed whenever CuPy is installed; marked unavailable, with the reason, when no CUDA GPU
can be used (the same policy as every other library).
"""

from __future__ import annotations

import importlib
import importlib.util

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.libraries._common import (
    declared_functions,
    dist_version,
    first_doc_line,
    info_from_declared,
    log,
)
from napari_openhcs.registry.specs import param_specs

LIBRARY = "cupy"

#: Reviewed: image in, image of the same y, x out; name -> (category, output kind).
NDIMAGE = {
    "gaussian_filter": ("filter", "image"),
    "gaussian_laplace": ("filter", "image"),
    "gaussian_gradient_magnitude": ("filter", "image"),
    "laplace": ("filter", "image"),
    "sobel": ("filter", "image"),
    "prewitt": ("filter", "image"),
    "median_filter": ("filter", "image"),
    "uniform_filter": ("filter", "image"),
    "minimum_filter": ("filter", "image"),
    "maximum_filter": ("filter", "image"),
    "percentile_filter": ("filter", "image"),
    "rank_filter": ("filter", "image"),
    "grey_erosion": ("morphology", "image"),
    "grey_dilation": ("morphology", "image"),
    "grey_opening": ("morphology", "image"),
    "grey_closing": ("morphology", "image"),
    "white_tophat": ("morphology", "image"),
    "black_tophat": ("morphology", "image"),
    "morphological_gradient": ("morphology", "image"),
    "morphological_laplace": ("morphology", "image"),
    "binary_erosion": ("morphology", "mask"),
    "binary_dilation": ("morphology", "mask"),
    "binary_opening": ("morphology", "mask"),
    "binary_closing": ("morphology", "mask"),
    "binary_fill_holes": ("morphology", "mask"),
    "distance_transform_edt": ("measurement", "image"),
}

#: Reviewed defaults for parameters these functions require.
REQUIRED_DEFAULTS = {
    "sigma": {"annotation": "float", "default": 1.0, "bounds": (0.0, 100.0)},
    # size or footprint must be given: the registry supplies size=3 unless a form sets one.
    "size": {"annotation": "int", "default": 3, "bounds": (1, 1000), "required": True},
    "percentile": {"annotation": "float", "default": 50.0, "bounds": (-100.0, 100.0)},
    "rank": {"annotation": "int", "default": 0, "bounds": (-1000, 1000)},
}


def versions() -> dict[str, str]:
    return {d: v for d in ("cupy-cuda12x", "cupy-cuda13x", "cupy") if (v := dist_version(d))}


def _status() -> tuple[bool, str]:
    # lazy: memory imports NumPy; the registry imports this module without it
    from napari_openhcs.memory import memory_type_status

    return memory_type_status().get("cupy", (False, "CuPy is not usable"))


def discover() -> list[FunctionInfo]:
    if importlib.util.find_spec("cupy") is None:
        raise ImportError("CuPy is not installed (pip install 'napari-openhcs[gpu-cuda12]')")
    from dataclasses import replace

    ndimage = importlib.import_module("cupyx.scipy.ndimage")
    ok, reason = _status()
    infos = []
    for name, (category, kind) in NDIMAGE.items():
        func = getattr(ndimage, name, None)
        if func is None:
            continue
        ref = f"cupyx.scipy.ndimage.{name}"
        try:
            params = param_specs(func, ref, overrides=REQUIRED_DEFAULTS)
        except ValueError as exc:
            log.debug("left out %s: %s", ref, exc)
            continue
        infos.append(
            FunctionInfo(
                ref=ref,
                library=LIBRARY,
                memory_type="cupy",
                contract="slice",
                category=category,
                doc=first_doc_line(func),
                params=params,
                output_kind=kind,
            )
        )
    own = importlib.import_module("napari_openhcs.functions.cupy")
    infos += [
        info_from_declared(
            func, f"napari_openhcs.functions.cupy.{name}", LIBRARY, memory_type="cupy"
        )
        for name, func in declared_functions(own)
    ]
    if not ok:
        infos = [replace(i, available=False, reason=reason) for i in infos]
    return infos
