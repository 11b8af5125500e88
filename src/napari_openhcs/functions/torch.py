"""PyTorch versions of the own functions, for CPU or CUDA tensors.

Each gives the same values as the NumPy function of the same name (exactly for
``max_projection`` and ``tophat_background``, to float32 rounding for the others) and keeps
the tensor on its device. torch has no ``max``, ``minimum`` or even ``+`` for ``uint16`` and
``uint32``, so the ``@torch`` decorator hands these functions such images as ``int32`` /
``int64`` (same values): ``max_projection`` and ``tophat_background`` of a uint16 image
return int32 here where the NumPy versions return uint16.

This module imports torch; ``import napari_openhcs.functions`` never imports it.
"""

from __future__ import annotations

import torch

from napari_openhcs.functions._stack import (
    as_stack,
    check_percentiles,
    check_radius,
    decomposed_opening,
    disk_sequence,
    normalized_weights,
    shifted_views,
    sorted_percentiles,
)
from napari_openhcs.memory.decorators import torch as torch_memory
from napari_openhcs.registry.declare import declare

__all__ = [
    "composite",
    "max_projection",
    "mean_projection",
    "percentile_normalize",
    "tophat_background",
]

_WIDER = {torch.uint16: torch.int32, torch.uint32: torch.int64, torch.bool: torch.uint8}


def _computable(x: torch.Tensor) -> torch.Tensor:
    """``x`` in a dtype torch computes with (the decorator already casts uint16/uint32)."""
    return x.to(_WIDER[x.dtype]) if x.dtype in _WIDER else x


def _as_float(x: torch.Tensor) -> torch.Tensor:
    """``x`` as float32, or float64 when it already is."""
    return x if x.dtype == torch.float64 else x.to(torch.float32)


@declare(contract="stack", category="projection", output_kind="image")
@torch_memory
def max_projection(stack: torch.Tensor) -> torch.Tensor:
    """Maximum-intensity projection of a stack of planes (torch).

    Parameters
    ----------
    stack : (n, y, x) Tensor
        Planes to project. A 2-D image counts as one plane.

    Returns
    -------
    projection : (1, y, x) Tensor
        The brightest value of each pixel across the planes, on the input's device and in
        its dtype (int32 for uint16 input, see the module notes).

    Examples
    --------
    >>> import numpy as np, torch
    >>> stack = torch.from_numpy(np.array([[[1, 5]], [[4, 2]]], dtype=np.uint16))
    >>> max_projection(stack).cpu().numpy()
    array([[[4, 5]]], dtype=int32)
    """
    return _computable(as_stack(stack, "stack")).amax(dim=0, keepdim=True)


@declare(contract="stack", category="projection", output_kind="image")
@torch_memory
def mean_projection(stack: torch.Tensor) -> torch.Tensor:
    """Mean-intensity projection of a stack of planes (torch).

    Parameters
    ----------
    stack : (n, y, x) Tensor
        Planes to average. A 2-D image counts as one plane.

    Returns
    -------
    projection : (1, y, x) Tensor of float32
        The mean of each pixel across the planes.

    Examples
    --------
    >>> import numpy as np, torch
    >>> stack = torch.from_numpy(np.array([[[1, 5]], [[4, 2]]], dtype=np.uint16))
    >>> mean_projection(stack).cpu().numpy()
    array([[[2.5, 3.5]]], dtype=float32)
    """
    stack = as_stack(stack, "stack")
    return _as_float(_computable(stack)).mean(dim=0, keepdim=True).to(torch.float32)


def _percentiles(flat: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Percentiles ``low`` and ``high`` of each row of ``flat`` as ``(rows, 2)`` float64.

    Computed by ``sorted_percentiles`` (``torch.quantile`` refuses inputs of more than 16
    million values).
    """
    ordered = torch.sort(flat, dim=1).values.double()
    return torch.stack(sorted_percentiles(ordered, low, high), dim=1)


@declare(contract="stack", category="exposure", output_kind="image")
@torch_memory
def percentile_normalize(
    stack: torch.Tensor,
    low: float = 1.0,
    high: float = 99.8,
    *,
    per_plane: bool = False,
    clip: bool = True,
) -> torch.Tensor:
    """Rescale intensities so the ``low`` and ``high`` percentiles map to 0 and 1 (torch).

    Parameters
    ----------
    stack : (n, y, x) Tensor
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
    normalized : (n, y, x) Tensor of float32
        Rescaled intensities; all zeros where the percentiles are equal.

    Examples
    --------
    >>> import numpy as np, torch
    >>> stack = torch.from_numpy(np.arange(11, dtype=np.uint16).reshape(1, 1, 11) * 10)
    >>> percentile_normalize(stack, low=0, high=100).cpu().numpy().round(2)
    array([[[0. , 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1. ]]], dtype=float32)
    """
    check_percentiles(low, high)
    stack = as_stack(stack, "stack")
    data = _as_float(_computable(stack))
    rows = data.reshape(data.shape[0], -1) if per_plane else data.reshape(1, -1)
    bounds = _percentiles(rows, low, high).reshape(-1, 2, 1, 1)
    lo, hi = bounds[:, 0], bounds[:, 1]
    span = hi - lo
    scale = torch.where(span > 0, 1.0 / torch.where(span > 0, span, 1.0), 0.0)
    out = (data - lo.to(data.dtype)) * scale.to(data.dtype)
    if clip:
        out = out.clamp_(0.0, 1.0)
    return out.to(torch.float32)


def _shift_extreme(planes: torch.Tensor, footprint, *, erode: bool) -> torch.Tensor:
    """Grey erosion (``erode``) or dilation of ``(n, y, x)`` planes by a 3x3 footprint.

    Same definition and border rule as ``scipy.ndimage.grey_erosion`` /
    ``grey_dilation`` with ``mode="reflect"``: erosion takes the minimum of
    ``f(x + s)`` over the footprint's offsets ``s``, dilation the maximum of ``f(x - s)``;
    beyond the border the image repeats its edge pixel.
    """
    # Replicate the edge by indexing: CUDA has no replication-pad kernel for integers.
    rows = torch.cat([planes[:, :1], planes, planes[:, -1:]], dim=1)
    padded = torch.cat([rows[:, :, :1], rows, rows[:, :, -1:]], dim=2)
    pick = torch.minimum if erode else torch.maximum
    out = None
    for view in shifted_views(padded, footprint, erode=erode):
        out = view.clone() if out is None else pick(out, view)
    return out


@declare(contract="stack", category="filter", output_kind="image")
@torch_memory
def tophat_background(stack: torch.Tensor, radius: int = 15) -> torch.Tensor:
    """Subtract a smooth background with a white top-hat, plane by plane (torch).

    The same decomposed-disk opening as the NumPy version (see
    ``napari_openhcs.functions.tophat_background``), on all planes of the stack at once.

    Parameters
    ----------
    stack : (n, y, x) Tensor
        Planes to correct. A 2-D image counts as one plane.
    radius : int, optional
        Disk radius in pixels, larger than the objects to keep.

    Returns
    -------
    corrected : (n, y, x) Tensor
        ``stack`` minus its background, in the input's dtype (int32 for uint16 input).

    Examples
    --------
    >>> import numpy as np, torch
    >>> plane = np.full((9, 9), 100, dtype=np.uint16)
    >>> plane[4, 4] = 150
    >>> tophat_background(torch.from_numpy(plane[None]), radius=2).cpu().numpy()[0, 3:6, 3:6]
    array([[ 0,  0,  0],
           [ 0, 50,  0],
           [ 0,  0,  0]], dtype=int32)
    """
    radius = check_radius(radius)
    stack = as_stack(stack, "stack")
    if stack.dtype == torch.bool:
        raise ValueError("tophat_background needs an intensity image, not a mask")
    data = _computable(stack)
    sequence = [(footprint.tolist(), count) for footprint, count in disk_sequence(radius)]
    opened = decomposed_opening(data, sequence, _shift_extreme)
    return data - torch.minimum(opened, data)


@declare(contract="stack", category="projection", output_kind="image")
@torch_memory
def composite(
    stack: torch.Tensor,
    *,
    weights: tuple[float, ...] | None = None,
    rescale: bool = False,
) -> torch.Tensor:
    """Combine the planes of a stack into one image by a weighted average (torch).

    Parameters
    ----------
    stack : (n, y, x) Tensor
        Planes to combine, in the order the weights name them.
    weights : sequence of float, optional
        One non-negative weight per plane, divided by their sum. Default: equal weights.
    rescale : bool, optional
        If True, each plane is first rescaled to [0, 1] by its own minimum and maximum.

    Returns
    -------
    combined : (1, y, x) Tensor of float32
        ``sum(w_i * plane_i) / sum(w_i)``.

    Examples
    --------
    >>> import numpy as np, torch
    >>> stack = torch.from_numpy(np.array([[[0, 10]], [[20, 30]]], dtype=np.uint16))
    >>> composite(stack, weights=(3, 1)).cpu().numpy()
    array([[[ 5., 15.]]], dtype=float32)
    """
    stack = as_stack(stack, "stack")
    w = normalized_weights(weights, stack.shape[0])
    data = _as_float(_computable(stack))
    if rescale:
        lo = data.amin(dim=(1, 2), keepdim=True)
        hi = data.amax(dim=(1, 2), keepdim=True)
        span = hi - lo
        data = torch.where(span > 0, (data - lo) / torch.where(span > 0, span, 1.0), 0.0)
    weight = torch.tensor(w, dtype=data.dtype, device=data.device).reshape(-1, 1, 1)
    return (data * weight).sum(dim=0, keepdim=True).float()
