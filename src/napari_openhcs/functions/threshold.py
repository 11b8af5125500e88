"""Global intensity thresholds turned into masks (NumPy version)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from napari_openhcs.functions._stack import as_stack, check_method
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = ["threshold"]

ThresholdMethod = Literal["otsu", "li", "triangle", "yen", "mean", "isodata"]


def threshold_value(values: np.ndarray, method: str) -> float:
    """The intensity threshold that ``method`` picks for ``values`` (any shape).

    Data with a single value has nothing to separate; its threshold is that value, so
    ``values > threshold`` is empty.
    """
    from skimage import filters

    check_method(method)
    values = np.asarray(values)
    lo, hi = values.min(), values.max()
    if lo == hi:
        return float(lo)
    if method == "mean":
        return float(values.mean(dtype=np.float64))
    return float(getattr(filters, f"threshold_{method}")(values))


@declare(contract="stack", category="segmentation", output_kind="mask")
@numpy
def threshold(
    stack: np.ndarray,
    method: ThresholdMethod = "otsu",
    *,
    offset: float = 0.0,
    per_plane: bool = True,
) -> np.ndarray:
    """Foreground mask from an automatic global threshold.

    Parameters
    ----------
    stack : (n, y, x) ndarray
        Intensity planes. A 2-D image counts as one plane.
    method : {'otsu', 'li', 'triangle', 'yen', 'mean', 'isodata'}, optional
        How the threshold is chosen (scikit-image's ``threshold_<method>``): ``otsu`` and
        ``isodata`` separate two intensity classes, ``li`` minimises cross-entropy,
        ``triangle`` suits a small bright foreground on a large dark background, ``yen``
        maximises a correlation criterion, ``mean`` is the mean intensity.
    offset : float, optional
        Added to the computed threshold, in the image's intensity units: positive values
        make the mask stricter.
    per_plane : bool, optional
        If True, each plane gets its own threshold; if False, one threshold for the stack.

    Returns
    -------
    mask : (n, y, x) ndarray of bool
        True where the intensity is above the threshold plus ``offset``. Boolean, like
        scikit-image masks; the output rules cast it (to 0/1 uint8) when it is written.

    Examples
    --------
    >>> import numpy as np
    >>> plane = np.array([[10, 12, 11, 200, 210, 205]], dtype=np.uint16)
    >>> threshold(plane[None], method="otsu")
    array([[[False, False, False,  True,  True,  True]]])
    """
    check_method(method)
    stack = as_stack(np.asarray(stack), "stack")
    if per_plane:
        limits = [threshold_value(plane, method) + offset for plane in stack]
    else:
        limits = [threshold_value(stack, method) + offset] * stack.shape[0]
    mask = np.empty(stack.shape, dtype=bool)
    for i, (plane, limit) in enumerate(zip(stack, limits, strict=True)):
        np.greater(plane, limit, out=mask[i])
    return mask
