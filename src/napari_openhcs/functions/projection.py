"""Projections of an ``(n, y, x)`` stack onto one plane (NumPy versions)."""

from __future__ import annotations

import numpy as np

from napari_openhcs.functions._stack import as_stack
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = ["max_projection", "mean_projection"]


@declare(contract="stack", category="projection", output_kind="image")
@numpy
def max_projection(stack: np.ndarray) -> np.ndarray:
    """Maximum-intensity projection of a stack of planes.

    Parameters
    ----------
    stack : (n, y, x) ndarray
        Planes to project (under a pipeline, whatever the step's ``variable_components``
        stack; by default the z-planes of one site and channel). A 2-D image counts as one
        plane.

    Returns
    -------
    projection : (1, y, x) ndarray
        The brightest value of each pixel across the planes, in the input's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.array([[[1, 5]], [[4, 2]]], dtype=np.uint16)
    >>> max_projection(stack)
    array([[[4, 5]]], dtype=uint16)
    """
    stack = as_stack(np.asarray(stack), "stack")
    return stack.max(axis=0, keepdims=True)


@declare(contract="stack", category="projection", output_kind="image")
@numpy
def mean_projection(stack: np.ndarray) -> np.ndarray:
    """Mean-intensity projection of a stack of planes.

    Parameters
    ----------
    stack : (n, y, x) ndarray
        Planes to average. A 2-D image counts as one plane.

    Returns
    -------
    projection : (1, y, x) ndarray of float32
        The mean of each pixel across the planes, in the input's intensity units (averaged
        in float64, returned as float32 so integer input is not rounded).

    Examples
    --------
    >>> import numpy as np
    >>> stack = np.array([[[1, 5]], [[4, 2]]], dtype=np.uint16)
    >>> mean_projection(stack)
    array([[[2.5, 3.5]]], dtype=float32)
    """
    stack = as_stack(np.asarray(stack), "stack")
    return stack.mean(axis=0, keepdims=True, dtype=np.float64).astype(np.float32)
