"""Small shared helpers for the own functions: input checks and parameter validation.

Kept free of any array library other than NumPy-style duck typing, so the Torch and CuPy
versions use the same checks and raise the same messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

THRESHOLD_METHODS = ("otsu", "li", "triangle", "yen", "mean", "isodata")


def as_stack(image: Any, name: str = "image") -> Any:
    """Return ``image`` as an ``(n, y, x)`` stack; a 2-D image becomes a stack of one plane.

    Works for any array with ``ndim`` and ``[None]`` indexing (NumPy, CuPy, Torch).
    """
    ndim = getattr(image, "ndim", None)
    if ndim == 2:
        return image[None]
    if ndim == 3:
        return image
    shape = tuple(getattr(image, "shape", ()))
    raise ValueError(
        f"{name} must be a 2-D image or an (n, y, x) stack of planes; got shape {shape}"
    )


def check_percentiles(low: float, high: float) -> None:
    """Raise ``ValueError`` unless ``0 <= low < high <= 100``."""
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(
            f"percentiles must satisfy 0 <= low < high <= 100; got low={low}, high={high}"
        )


def check_radius(radius: int) -> int:
    """Return ``radius`` as an int, raising ``ValueError`` when it is not a positive integer."""
    if int(radius) != radius or radius < 1:
        raise ValueError(f"radius must be a positive whole number of pixels; got {radius!r}")
    return int(radius)


def check_method(method: str) -> str:
    """Raise ``ValueError`` unless ``method`` names a supported threshold method."""
    if method not in THRESHOLD_METHODS:
        raise ValueError(
            f"unknown threshold method {method!r}; choose one of {', '.join(THRESHOLD_METHODS)}"
        )
    return method


def normalized_weights(weights: Any, n: int) -> list[float]:
    """Return ``weights`` as ``n`` floats summing to 1 (equal weights when ``None``)."""
    if weights is None:
        return [1.0 / n] * n
    values = [float(w) for w in weights]
    if len(values) != n:
        raise ValueError(
            f"composite got {len(values)} weights for a stack of {n} planes; "
            "give one weight per plane (channel) in the stack"
        )
    if any(w < 0 for w in values) or sum(values) <= 0:
        raise ValueError(f"weights must be non-negative with a positive sum; got {values}")
    total = sum(values)
    return [w / total for w in values]


def disk_sequence(radius: int) -> list[tuple[Any, int]]:
    """A disk of ``radius`` decomposed into repeated 3x3 footprints: ``[(bool 3x3, count)]``.

    Eroding (or dilating) with each 3x3 footprint ``count`` times in turn equals one erosion
    with a near-disk polygon of the same radius, at ``O(radius)`` instead of ``O(radius**2)``
    cost per pixel. scikit-image computes the decomposition; every backend applies the same
    sequence, so the NumPy, Torch and CuPy results agree exactly.
    """
    from skimage.morphology import disk

    return [(fp.astype(bool), int(count)) for fp, count in disk(radius, decomposition="sequence")]


def sorted_percentiles(ordered: Any, low: float, high: float) -> list[Any]:
    """Percentiles ``low`` and ``high`` of each row of ``ordered`` (rows sorted, float64).

    Linear interpolation between sorted values, like ``numpy.percentile``'s default; plain
    indexing and arithmetic, so it serves CuPy arrays and torch tensors alike. Returns the two
    ``(rows,)`` results.
    """
    last = ordered.shape[1] - 1
    result = []
    for p in (low, high):
        position = p / 100.0 * last
        below = int(position)
        above = min(below + 1, last)
        lower = ordered[:, below]
        result.append(lower + (ordered[:, above] - lower) * (position - below))
    return result


def decomposed_opening(image: Any, sequence: list[tuple[Any, int]], step: Any) -> Any:
    """Grey opening of ``image`` by a decomposed footprint ``sequence`` (``[(fp, count)]``).

    ``step(image, footprint, erode=...)`` erodes or dilates by one footprint; the erosions run
    in order, then the dilations undo them in reverse order (the adjoint of the sequence).
    """
    opened = image
    for footprint, count in sequence:
        for _ in range(count):
            opened = step(opened, footprint, erode=True)
    for footprint, count in reversed(sequence):
        for _ in range(count):
            opened = step(opened, footprint, erode=False)
    return opened


def shifted_views(padded: Any, footprint: Any, *, erode: bool) -> Iterator[Any]:
    """Views of an edge-padded ``(n, y + 2, x + 2)`` stack, one per set 3x3 ``footprint`` cell.

    Erosion takes the minimum of ``f(x + s)`` over the footprint's offsets ``s``, dilation the
    maximum of ``f(x - s)``: the views are those shifted images, each ``(n, y, x)``.
    """
    height, width = padded.shape[-2] - 2, padded.shape[-1] - 2
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            if not footprint[dy + 1][dx + 1]:
                continue
            sy, sx = (dy, dx) if erode else (-dy, -dx)
            yield padded[:, 1 + sy : 1 + sy + height, 1 + sx : 1 + sx + width]
