"""CuPy versions of the own functions, for arrays on an NVIDIA GPU.

Each gives the same result as the NumPy function of the same name (exactly for
``max_projection`` and ``tophat_background``, to float32 rounding for the others) and
keeps the array on its GPU. ``measure_cells`` measures intensity, size and shape in float64
(see :mod:`napari_openhcs.functions.gpumeasure` for which of the NumPy version's features it
has).

This module imports CuPy; ``import napari_openhcs.functions`` never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cupy as cp
from cupyx.scipy import ndimage as cndi

from napari_openhcs.functions._cellprofiler import MEASURE_CELLS_DECLARATION
from napari_openhcs.functions._stack import (
    as_stack,
    check_percentiles,
    check_radius,
    decomposed_opening,
    disk_sequence,
    normalized_weights,
    sorted_percentiles,
)
from napari_openhcs.functions.gpumeasure import GPU_FAMILIES, array_statistics, measure_planes
from napari_openhcs.memory.convert import convert
from napari_openhcs.memory.decorators import cupy as cupy_memory
from napari_openhcs.registry.declare import declare

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "composite",
    "max_projection",
    "mean_projection",
    "measure_cells",
    "percentile_normalize",
    "tophat_background",
]


@declare(contract="stack", category="projection", output_kind="image")
@cupy_memory
def max_projection(stack: cp.ndarray) -> cp.ndarray:
    """Maximum-intensity projection of a stack of planes (CuPy).

    Parameters
    ----------
    stack : (n, y, x) cupy.ndarray
        Planes to project. A 2-D image counts as one plane.

    Returns
    -------
    projection : (1, y, x) cupy.ndarray
        The brightest value of each pixel across the planes, in the input's dtype.

    Examples
    --------
    >>> import cupy as cp
    >>> stack = cp.asarray([[[1, 5]], [[4, 2]]], dtype=cp.uint16)
    >>> max_projection(stack).get()
    array([[[4, 5]]], dtype=uint16)
    """
    return as_stack(stack, "stack").max(axis=0, keepdims=True)


@declare(contract="stack", category="projection", output_kind="image")
@cupy_memory
def mean_projection(stack: cp.ndarray) -> cp.ndarray:
    """Mean-intensity projection of a stack of planes (CuPy).

    Parameters
    ----------
    stack : (n, y, x) cupy.ndarray
        Planes to average. A 2-D image counts as one plane.

    Returns
    -------
    projection : (1, y, x) cupy.ndarray of float32
        The mean of each pixel across the planes.

    Examples
    --------
    >>> import cupy as cp
    >>> stack = cp.asarray([[[1, 5]], [[4, 2]]], dtype=cp.uint16)
    >>> mean_projection(stack).get()
    array([[[2.5, 3.5]]], dtype=float32)
    """
    stack = as_stack(stack, "stack")
    return stack.mean(axis=0, keepdims=True, dtype=cp.float64).astype(cp.float32)


def _percentiles(rows: cp.ndarray, low: float, high: float) -> tuple[cp.ndarray, cp.ndarray]:
    """Percentiles ``low`` and ``high`` of each row, each as ``(rows, 1, 1)`` float64.

    Computed by ``sorted_percentiles`` because ``cupy.percentile`` with ``axis=1`` returned
    wrong values for a single row (CuPy 14.2).
    """
    ordered = cp.sort(rows, axis=1).astype(cp.float64)
    lo, hi = sorted_percentiles(ordered, low, high)
    return lo.reshape(-1, 1, 1), hi.reshape(-1, 1, 1)


@declare(contract="stack", category="exposure", output_kind="image")
@cupy_memory
def percentile_normalize(
    stack: cp.ndarray,
    low: float = 1.0,
    high: float = 99.8,
    *,
    per_plane: bool = False,
    clip: bool = True,
) -> cp.ndarray:
    """Rescale intensities so the ``low`` and ``high`` percentiles map to 0 and 1 (CuPy).

    Parameters
    ----------
    stack : (n, y, x) cupy.ndarray
        Planes to rescale. A 2-D image counts as one plane.
    low : float, optional
        Percentile (0 to 100) that becomes 0.
    high : float, optional
        Percentile (0 to 100, above ``low``) that becomes 1.
    per_plane : bool, optional
        If True, each plane gets its own percentiles; else one pair for the whole stack.
    clip : bool, optional
        If True, values outside the percentile range are clipped to [0, 1].

    Returns
    -------
    normalized : (n, y, x) cupy.ndarray of float32
        Rescaled intensities; all zeros where the percentiles are equal.

    Examples
    --------
    >>> import cupy as cp
    >>> stack = cp.arange(11, dtype=cp.uint16).reshape(1, 1, 11) * 10
    >>> percentile_normalize(stack, low=0, high=100).get().round(2)
    array([[[0. , 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1. ]]], dtype=float32)
    """
    check_percentiles(low, high)
    stack = as_stack(stack, "stack")
    data = stack.astype(cp.float32 if stack.dtype.itemsize <= 2 else cp.float64, copy=False)
    rows = data.reshape(data.shape[0], -1) if per_plane else data.reshape(1, -1)
    lo, hi = _percentiles(rows, low, high)
    span = hi - lo
    scale = cp.where(span > 0, 1.0 / cp.where(span > 0, span, 1.0), 0.0)
    out = (data - lo.astype(data.dtype)) * scale.astype(data.dtype)
    if clip:
        cp.clip(out, 0.0, 1.0, out=out)
    return out.astype(cp.float32, copy=False)


def _grey_step(planes: cp.ndarray, footprint: cp.ndarray, *, erode: bool) -> cp.ndarray:
    """One grey erosion (``erode``) or dilation of the planes by a ``(1, 3, 3)`` footprint."""
    op = cndi.grey_erosion if erode else cndi.grey_dilation
    return op(planes, footprint=footprint, mode="reflect")


@declare(contract="stack", category="filter", output_kind="image")
@cupy_memory
def tophat_background(stack: cp.ndarray, radius: int = 15) -> cp.ndarray:
    """Subtract a smooth background with a white top-hat, plane by plane (CuPy).

    The same decomposed-disk opening as the NumPy version (see
    ``napari_openhcs.functions.tophat_background``), on all planes at once.

    Parameters
    ----------
    stack : (n, y, x) cupy.ndarray
        Planes to correct. A 2-D image counts as one plane.
    radius : int, optional
        Disk radius in pixels, larger than the objects to keep.

    Returns
    -------
    corrected : (n, y, x) cupy.ndarray
        ``stack`` minus its background, in the input's dtype.

    Examples
    --------
    >>> import cupy as cp
    >>> plane = cp.full((9, 9), 100, dtype=cp.uint16)
    >>> plane[4, 4] = 150
    >>> tophat_background(plane[None], radius=2).get()[0, 3:6, 3:6]
    array([[ 0,  0,  0],
           [ 0, 50,  0],
           [ 0,  0,  0]], dtype=uint16)
    """
    radius = check_radius(radius)
    stack = as_stack(stack, "stack")
    if stack.dtype == cp.bool_:
        raise ValueError("tophat_background needs an intensity image, not a mask")
    # cupyx's grey_erosion with (1, 3, 3) footprints (planes never mix) ran 2.5x faster
    # here than the shifted-view code the NumPy version uses, with the same result.
    sequence = [(cp.asarray(fp[None]), count) for fp, count in disk_sequence(radius)]
    opened = decomposed_opening(stack, sequence, _grey_step)
    cp.minimum(opened, stack, out=opened)
    return stack - opened


@declare(contract="stack", category="projection", output_kind="image")
@cupy_memory
def composite(
    stack: cp.ndarray,
    *,
    weights: tuple[float, ...] | None = None,
    rescale: bool = False,
) -> cp.ndarray:
    """Combine the planes of a stack into one image by a weighted average (CuPy).

    Parameters
    ----------
    stack : (n, y, x) cupy.ndarray
        Planes to combine, in the order the weights name them.
    weights : sequence of float, optional
        One non-negative weight per plane, divided by their sum. Default: equal weights.
    rescale : bool, optional
        If True, each plane is first rescaled to [0, 1] by its own minimum and maximum.

    Returns
    -------
    combined : (1, y, x) cupy.ndarray of float32
        ``sum(w_i * plane_i) / sum(w_i)``.

    Examples
    --------
    >>> import cupy as cp
    >>> stack = cp.asarray([[[0, 10]], [[20, 30]]], dtype=cp.uint16)
    >>> composite(stack, weights=(3, 1)).get()
    array([[[ 5., 15.]]], dtype=float32)
    """
    stack = as_stack(stack, "stack")
    w = normalized_weights(weights, stack.shape[0])
    data = stack.astype(cp.float32)
    if rescale:
        lo = data.min(axis=(1, 2), keepdims=True)
        span = data.max(axis=(1, 2), keepdims=True) - lo
        data = cp.where(span > 0, (data - lo) / cp.where(span > 0, span, 1.0), 0.0)
    weight = cp.asarray(w, dtype=cp.float32).reshape(-1, 1, 1)
    return (data * weight).sum(axis=0, keepdims=True, dtype=cp.float32)


def _cupy_statistics(labels: cp.ndarray, planes: list) -> dict:
    return array_statistics(labels, planes, cp, cndi)


@declare(**MEASURE_CELLS_DECLARATION)
@cupy_memory
def measure_cells(
    labels: cp.ndarray,
    intensity: cp.ndarray,
    *,
    compartment: str = "Cells",
    channels: tuple[str, ...] | None = None,
    families: tuple[str, ...] = GPU_FAMILIES,
) -> tuple[cp.ndarray, pa.Table]:
    """Measure intensity, size and shape of an object set on an NVIDIA GPU (CuPy).

    The GPU counterpart of ``napari_openhcs.functions.measure_cells`` for its default
    families, in float64: the same column names and values where the definitions agree
    (see :mod:`napari_openhcs.functions.gpumeasure` for the features and the differences).

    Parameters
    ----------
    labels : (n, y, x) cupy.ndarray of int
        The objects: one plane, or ``n`` planes each measured in its own intensity plane.
    intensity : array
        The channels to measure: ``(c, y, x)`` for one plane, one intensity plane per label
        plane for ``n`` planes (NumPy or CuPy; moved to the labels' GPU).
    compartment : str
        The object set's name: ``Nuclei``, ``Cells``, ``Cytoplasm``, ...
    channels : tuple of str, optional
        The channels' names (the plate's), one per channel.
    families : tuple of str
        ``intensity`` and/or ``sizeshape`` (both by default).

    Returns
    -------
    labels : cupy.ndarray
        The input labels.
    measurements : pyarrow.Table
        ``ObjectNumber`` and the features, one row per object.

    Examples
    --------
    >>> import cupy as cp
    >>> labels = cp.zeros((1, 8, 8), dtype=cp.int32); labels[0, 2:6, 2:6] = 1
    >>> pixels = cp.full((1, 8, 8), 65535, cp.uint16)
    >>> _, table = measure_cells(labels, pixels, channels=("DNA",))
    >>> table.column("Cells_Intensity_IntegratedIntensity_DNA").to_pylist()
    [16.0]
    """
    with cp.cuda.Device(labels.device.id):
        pixels = None if intensity is None else convert(intensity, "cupy", gpu=labels.device.id)
        table = measure_planes(
            labels,
            pixels,
            _cupy_statistics,
            lambda array, index: array[index],
            compartment=compartment,
            channels=channels,
            families=families,
        )
    return labels, table
