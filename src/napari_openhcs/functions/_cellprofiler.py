"""CellProfiler's conventions shared by the object functions: image scaling and thresholds.

Images are scaled as CellProfiler loads them (uint8 / 255, uint16 / 65535, floats as given)
so thresholds and bounds read like CellProfiler's settings. Otsu, multi-Otsu and minimum
cross-entropy (Li) come from scikit-image, as in CellProfiler 4; the robust background
threshold from centrosome.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

ThresholdMethod = Literal["otsu", "otsu3", "minimum_cross_entropy", "robust_background", "manual"]
ThresholdScope = Literal["global", "adaptive"]
MiddleClass = Literal["foreground", "background"]

THRESHOLD_METHODS = ("otsu", "otsu3", "minimum_cross_entropy", "robust_background", "manual")


def scale_like_cellprofiler(image: np.ndarray) -> np.ndarray:
    """``image`` as float64 scaled the way CellProfiler loads images.

    Unsigned integers are divided by their dtype's maximum (uint8 by 255, uint16 by 65535),
    signed integers likewise by theirs; floats (and booleans, as 0/1) are kept as given.

    Examples
    --------
    >>> scale_like_cellprofiler(np.array([0, 255], dtype=np.uint8)).tolist()
    [0.0, 1.0]
    """
    image = np.asarray(image)
    if np.issubdtype(image.dtype, np.integer):
        return image.astype(np.float64) / float(np.iinfo(image.dtype).max)
    return image.astype(np.float64, copy=False)


# -- thresholds ------------------------------------------------------------------------------


def method_threshold(values: np.ndarray, method: str, middle_class: str) -> float:
    """The threshold that ``method`` picks for ``values`` (a 1-D or any-shape array)."""
    from centrosome.threshold import get_robust_background_threshold
    from skimage import filters

    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0 or values.min() == values.max():
        return float(values.max()) if values.size else 1.0
    if method == "otsu":
        return float(filters.threshold_otsu(values))
    if method == "otsu3":
        if np.unique(values).size < 3:
            return float(filters.threshold_otsu(values))
        low, high = filters.threshold_multiotsu(values, classes=3)
        return float(low if middle_class == "foreground" else high)
    if method == "minimum_cross_entropy":
        return float(filters.threshold_li(values, initial_guess=filters.threshold_otsu(values)))
    if method == "robust_background":
        # A copy: centrosome sorts the array it is given in place.
        return float(get_robust_background_threshold(values.copy()))
    raise ValueError(f"unknown threshold method {method!r}; choose one of {THRESHOLD_METHODS}")


def _adaptive_threshold(
    image: np.ndarray, method: str, window: int, middle_class: str
) -> np.ndarray:
    """Per-pixel threshold: the method's threshold in each ``window`` block, blended by a
    spline (CellProfiler's adaptive scheme; centrosome's version only knows its own method
    names, which lack minimum cross-entropy, so the blocks are computed here)."""
    from scipy.interpolate import RectBivariateSpline

    shape = np.array(image.shape, dtype=int)
    blocks = shape // int(window)
    if (blocks < 2).any():
        raise ValueError(
            f"adaptive_window of {window} px is more than half of the {shape[1]}x{shape[0]} "
            "image; use a smaller window or threshold_scope='global'"
        )
    step = shape / blocks
    values = np.empty(tuple(blocks))
    for i in range(blocks[0]):
        for j in range(blocks[1]):
            block = image[
                int(i * step[0]) : int((i + 1) * step[0]), int(j * step[1]) : int((j + 1) * step[1])
            ]
            values[i, j] = method_threshold(block, method, middle_class)
    order = int(min(3, blocks.min() - 1))
    centres = [(np.arange(n) + 0.5) * s for n, s in zip(blocks, step, strict=True)]
    spline = RectBivariateSpline(*centres, values, kx=order, ky=order)
    return spline(np.arange(shape[0]) + 0.5, np.arange(shape[1]) + 0.5)


def threshold_for(
    image: np.ndarray,
    method: str,
    scope: str,
    adaptive_window: int,
    correction_factor: float,
    lower_bound: float,
    upper_bound: float,
    manual_threshold: float,
    middle_class: str,
) -> float | np.ndarray:
    """CellProfiler's threshold: method × correction, within the bounds; an adaptive one is
    also kept within 0.7–1.5 × the global threshold."""
    if method not in THRESHOLD_METHODS:
        raise ValueError(f"unknown threshold method {method!r}; choose one of {THRESHOLD_METHODS}")
    if scope not in ("global", "adaptive"):
        raise ValueError(f"threshold_scope must be 'global' or 'adaptive', got {scope!r}")
    if method == "manual":
        return float(manual_threshold)
    overall = method_threshold(image, method, middle_class) * correction_factor
    overall = min(max(overall, lower_bound), upper_bound)
    if scope == "global":
        return overall
    local = _adaptive_threshold(image, method, adaptive_window, middle_class) * correction_factor
    low, high = max(lower_bound, 0.7 * overall), min(upper_bound, 1.5 * overall)
    return np.clip(local, low, high)


def labels_like(labels: np.ndarray, shape: tuple, name: str) -> np.ndarray:
    """``labels`` as an int32 stack of ``shape`` (a 2-D plane serves every plane)."""
    labels = np.asarray(labels)
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype == bool):
        raise ValueError(f"{name} must be integer labels, got dtype {labels.dtype}")
    if labels.ndim == 2:
        labels = np.broadcast_to(labels, shape)
    if labels.shape != tuple(shape):
        raise ValueError(f"{name} of shape {labels.shape} does not match the image {tuple(shape)}")
    return labels.astype(np.int32, copy=False)
