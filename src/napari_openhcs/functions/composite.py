"""Weighted combination of the planes of a stack (NumPy version)."""

from __future__ import annotations

import numpy as np

from napari_openhcs.functions._stack import as_stack, normalized_weights
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = ["composite"]


@declare(contract="stack", category="projection", output_kind="image")
@numpy
def composite(
    stack: np.ndarray,
    *,
    weights: tuple[float, ...] | None = None,
    rescale: bool = False,
) -> np.ndarray:
    """Combine the planes of a stack into one image by a weighted average.

    Under a pipeline the planes are whatever the step's ``variable_components`` stack: with
    ``["channel"]`` each call gets the channels of one site, so this merges channels (for
    example nuclei and cytoplasm stains into one image to segment cells).

    Parameters
    ----------
    stack : (n, y, x) ndarray
        Planes to combine, in the order the weights name them. A 2-D image counts as one
        plane.
    weights : sequence of float, optional
        One non-negative weight per plane; they are divided by their sum, so the result
        stays in the input's intensity range. Default: equal weights (the mean).
    rescale : bool, optional
        If True, each plane is first rescaled to [0, 1] by its own minimum and maximum, so
        planes of very different brightness contribute in proportion to their weights and
        the result is in [0, 1].

    Returns
    -------
    combined : (1, y, x) ndarray of float32
        ``sum(w_i * plane_i) / sum(w_i)``.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.array([[[0, 10]], [[20, 30]]], dtype=np.uint16)
    >>> composite(stack, weights=(3, 1))
    array([[[ 5., 15.]]], dtype=float32)
    """
    stack = as_stack(np.asarray(stack), "stack")
    w = normalized_weights(weights, stack.shape[0])
    out = np.zeros(stack.shape[1:], dtype=np.float64)
    for weight, plane in zip(w, stack, strict=True):
        plane = plane.astype(np.float64)
        if rescale:
            lo, hi = plane.min(), plane.max()
            plane = (plane - lo) / (hi - lo) if hi > lo else np.zeros_like(plane)
        out += weight * plane
    return out[None].astype(np.float32)
