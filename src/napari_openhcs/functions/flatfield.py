"""Flat-field (shading) correction: estimate once from many images, divide every image by it.

Widefield illumination falls off towards the edges of the field; every image of a plate
shares that shading. ``estimate_flatfield`` runs as a plate-level step over images of many
wells (objects sit in different places, so a per-pixel median sees mostly background and
shading) and ``correct_flatfield`` runs per well with the estimate as its ``flatfield``
argument, ``{"plate_step": "<estimate step's name>"}``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from napari_openhcs.functions._stack import as_stack
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = ["correct_flatfield", "estimate_flatfield"]


@declare(contract="stack", category="background", output_kind="image")
@numpy
def estimate_flatfield(
    stack: np.ndarray,
    *,
    method: Literal["median", "mean"] = "median",
    sigma: float = 20.0,
) -> np.ndarray:
    """Estimate the shading shared by all images of a stack, as one plane of mean 1.

    Parameters
    ----------
    stack : (n, y, x) ndarray
        Many images with the same shading (in a plate-level step: sites of many wells).
    method : {'median', 'mean'}, optional
        Per-pixel statistic over the stack: the median ignores objects that cover a pixel
        in fewer than half the images; the mean is faster and fine for sparse objects.
    sigma : float, optional
        Gaussian smoothing of the estimate in pixels (0 to skip): shading varies slowly,
        smoothing removes what is left of objects and noise.

    Returns
    -------
    (1, y, x) ndarray of float32
        The flat field, normalised to a mean of 1.

    Examples
    --------
    >>> import numpy as np
    >>> yy, xx = np.mgrid[:32, :32]
    >>> shading = 1.0 - 0.3 * ((yy - 16) ** 2 + (xx - 16) ** 2) / 512
    >>> rng = np.random.default_rng(0)
    >>> stack = (100 * shading * rng.uniform(0.9, 1.1, (20, 32, 32))).astype(np.uint16)
    >>> flat = estimate_flatfield(stack, sigma=2.0)
    >>> flat.shape, bool(abs(flat.mean() - 1) < 1e-5)
    ((1, 32, 32), True)
    """
    if method not in ("median", "mean"):
        raise ValueError(f"method must be 'median' or 'mean', got {method!r}")
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0, got {sigma}")
    data = as_stack(np.asarray(stack), "stack").astype(np.float32, copy=False)
    field = np.median(data, axis=0) if method == "median" else data.mean(axis=0)
    field = field.astype(np.float32, copy=False)
    if sigma > 0:
        from scipy.ndimage import gaussian_filter

        field = gaussian_filter(field, sigma=sigma, mode="nearest")
    mean = float(field.mean())
    if not np.isfinite(mean) or mean <= 0:
        raise ValueError("cannot estimate a flat field from images with no positive signal")
    return (field / mean)[None].astype(np.float32)


@declare(contract="stack", category="background", output_kind="image", image_params=("flatfield",))
@numpy
def correct_flatfield(
    stack: np.ndarray,
    *,
    flatfield: np.ndarray,
    darkfield: float = 0.0,
) -> np.ndarray:
    """Divide every plane by a flat field: ``(image - darkfield) / flatfield``.

    Parameters
    ----------
    stack : (n, y, x) ndarray
        Images to correct.
    flatfield : (y, x), (1, y, x) or (n, y, x) ndarray
        The shading, mean about 1 (from ``estimate_flatfield``), one plane for all or one
        per plane; in a pipeline
        ``{"plate_step": "<estimate step's name>"}``.
    darkfield : float, optional
        Camera offset subtracted first (counts).

    Returns
    -------
    (n, y, x) ndarray of float32
        Corrected images, in the input's intensity units (use the step's ``output_dtype``
        "plate" to store them in the plate's type).

    Examples
    --------
    >>> import numpy as np
    >>> flat = np.full((4, 4), 0.5, dtype=np.float32)
    >>> correct_flatfield(np.full((1, 4, 4), 10, np.uint16), flatfield=flat)[0, 0, 0]
    np.float32(20.0)
    """
    data = as_stack(np.asarray(stack), "stack").astype(np.float32)
    flat = np.asarray(flatfield, dtype=np.float32)
    if flat.ndim == 3 and flat.shape[0] == 1:
        flat = flat[0]
    if flat.shape != data.shape[-2:] and flat.shape != data.shape:
        raise ValueError(
            f"flat field of shape {flat.shape} does not match images of shape {data.shape}"
        )
    if not np.all(flat > 0):
        raise ValueError("the flat field must be positive everywhere")
    if darkfield:
        data -= np.float32(darkfield)
    return data / flat
