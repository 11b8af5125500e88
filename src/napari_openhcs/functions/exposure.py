"""Intensity rescaling (NumPy versions)."""

from __future__ import annotations

import numpy as np

from napari_openhcs.functions._stack import as_stack, check_percentiles
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = ["percentile_normalize"]


@declare(contract="stack", category="exposure", output_kind="image")
@numpy
def percentile_normalize(
    stack: np.ndarray,
    low: float = 1.0,
    high: float = 99.8,
    *,
    per_plane: bool = False,
    clip: bool = True,
) -> np.ndarray:
    """Rescale intensities so the ``low`` and ``high`` percentiles map to 0 and 1.

    Percentiles ignore the few darkest and brightest pixels (hot pixels, debris), so the
    result is robust where a plain min-max rescale is not.

    Parameters
    ----------
    stack : (n, y, x) ndarray
        Planes to rescale. A 2-D image counts as one plane.
    low : float, optional
        Percentile (0 to 100) that becomes 0.
    high : float, optional
        Percentile (0 to 100, above ``low``) that becomes 1.
    per_plane : bool, optional
        If True, each plane gets its own percentiles (use when planes are different
        channels); if False, one pair of percentiles for the whole stack keeps the planes
        comparable (z-planes of one channel).
    clip : bool, optional
        If True, values outside the percentile range are clipped to [0, 1].

    Returns
    -------
    normalized : (n, y, x) ndarray of float32
        Rescaled intensities, in [0, 1] when ``clip`` is True. A plane (or stack) whose
        percentiles are equal has nothing to rescale and becomes all zeros.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.arange(11, dtype=np.uint16).reshape(1, 1, 11) * 10
    >>> percentile_normalize(stack, low=0, high=100).round(2)
    array([[[0. , 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1. ]]], dtype=float32)
    """
    check_percentiles(low, high)
    stack = as_stack(np.asarray(stack), "stack")
    data = stack.astype(np.float64, copy=False)
    axes = (1, 2) if per_plane else None
    lo, hi = np.percentile(data, [low, high], axis=axes, keepdims=True)
    span = hi - lo
    # Constant data has no range: map it to 0 rather than dividing by zero.
    scale = np.divide(1.0, span, out=np.zeros_like(span), where=span > 0)
    out = (data - lo) * scale
    if clip:
        np.clip(out, 0.0, 1.0, out=out)
    return out.astype(np.float32)
