"""CellProfiler's conventions shared by the object functions: scaling, thresholds, declumping.

Images are scaled as CellProfiler loads them (uint8 / 255, uint16 / 65535, floats as given)
so thresholds and bounds read like CellProfiler's settings. Otsu, multi-Otsu and minimum
cross-entropy (Li) come from scikit-image, as in CellProfiler 4; the robust background
threshold from centrosome. As in CellProfiler 4's Threshold module, the threshold is
computed on the unsmoothed image and applied (``>=``) to the image smoothed with an
edge-corrected Gaussian. ``split_clumps`` is IdentifyPrimaryObjects' declumping: seeds at
the local maxima of the smoothed intensity or of the distance to the background (found on
a lower-resolution image for large objects), grown by a watershed, with centrosome's
local-maximum, shrinking and propagation algorithms.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

ThresholdMethod = Literal["otsu", "otsu3", "minimum_cross_entropy", "robust_background", "manual"]
ThresholdScope = Literal["global", "adaptive"]
MiddleClass = Literal["foreground", "background"]

THRESHOLD_METHODS = ("otsu", "otsu3", "minimum_cross_entropy", "robust_background", "manual")


#: What every ``measure_cells`` declares (CPU, CuPy, pyclesperanto): one definition, so a
#: step can switch between them and the pipeline reads the same outputs. In a pipeline, a
#: left-out ``compartment`` and ``channels`` are filled in by the compiler (the step's name,
#: the plate's channel names: ``pipeline.objectsets.name_measurements``).
MEASURE_CELLS_DECLARATION = {
    "contract": "stack",
    "category": "measurement",
    "output_kind": "labels",
    "special_outputs": ("measurements",),
    "image_params": ("intensity",),
}


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


def li_tolerance(values: np.ndarray) -> float:
    """CellProfiler 4's tolerance for Li's iteration: half the smallest step between the
    distinct values of ``values``, at least 0.5 / 65536."""
    steps = np.diff(np.unique(np.asarray(values, dtype=np.float64)))
    return max(float(steps.min()) / 2 if steps.size else 0.0, 0.5 / 65536)


def method_threshold(
    values: np.ndarray, method: str, middle_class: str, tolerance: float | None = None
) -> float:
    """The threshold that ``method`` picks for ``values`` (a 1-D or any-shape array);
    ``tolerance`` is Li's (by default ``li_tolerance(values)``)."""
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
        # 128 bins, as CellProfiler 4 asks of scikit-image.
        low, high = filters.threshold_multiotsu(values, classes=3, nbins=128)
        return float(low if middle_class == "foreground" else high)
    if method == "minimum_cross_entropy":
        # CellProfiler 4: Li's iteration from scikit-image's own start (the mean), stopped
        # at half the smallest step between the image's values (at least 0.5 / 65536).
        if tolerance is None:
            tolerance = li_tolerance(values)
        return float(filters.threshold_li(values, tolerance=tolerance))
    if method == "robust_background":
        # A copy: centrosome sorts the array it is given in place.
        return float(get_robust_background_threshold(values.copy()))
    raise ValueError(f"unknown threshold method {method!r}; choose one of {THRESHOLD_METHODS}")


def _adaptive_threshold(
    image: np.ndarray, method: str, window: int, middle_class: str
) -> np.ndarray:
    """Per-pixel threshold: the method's threshold in each ``window`` block, blended by a
    spline, as CellProfiler 4's Threshold module does it (centrosome's version only knows
    its own method names, which lack minimum cross-entropy, so the blocks are computed
    here). Li's tolerance is the whole image's, as CellProfiler's; the spline's knots
    and the points where it is read are placed as CellProfiler places them."""
    from scipy.interpolate import RectBivariateSpline

    shape = np.array(image.shape, dtype=int)
    blocks = shape // int(window)
    if (blocks < 2).any():
        raise ValueError(
            f"adaptive_window of {window} px is more than half of the {shape[1]}x{shape[0]} "
            "image; use a smaller window or threshold_scope='global'"
        )
    step = shape / blocks
    tolerance = li_tolerance(image) if method == "minimum_cross_entropy" else None
    values = np.empty(tuple(blocks))
    for i in range(blocks[0]):
        for j in range(blocks[1]):
            block = image[
                int(i * step[0]) : int((i + 1) * step[0]), int(j * step[1]) : int((j + 1) * step[1])
            ]
            values[i, j] = method_threshold(block, method, middle_class, tolerance)
    order = int(min(3, blocks.min() - 1))
    # Knots from the middle of the first block to the middle of the last (in whole
    # pixels); the spline is read at evenly spaced points over the blocks' extent.
    knots = [
        np.linspace(int(s / 2), int((n - 0.5) * s), n) for n, s in zip(blocks, step, strict=True)
    ]
    spline = RectBivariateSpline(
        *knots,
        values,
        bbox=[0.5, shape[0] - 0.5, 0.5, shape[1] - 0.5],
        kx=order,
        ky=order,
    )
    points = [
        np.linspace(0.5, int(n * s) - 0.5, size)
        for n, s, size in zip(blocks, step, shape, strict=True)
    ]
    return spline(*points)


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


def smooth_edge_corrected(image: np.ndarray, sigma: float, radius: int | None = None) -> np.ndarray:
    """``image`` smoothed by a Gaussian of ``sigma`` (cut at ``radius`` pixels when given),
    the image's outside counting as missing rather than as zero or a reflection: the
    blur of the image divided by the blur of ones (centrosome's
    ``smooth_with_function_and_mask``, as CellProfiler smooths)."""
    from centrosome.smooth import smooth_with_function_and_mask
    from scipy import ndimage as ndi

    extra = {} if radius is None else {"radius": int(radius)}

    def blur(values: np.ndarray) -> np.ndarray:
        return ndi.gaussian_filter(values, sigma, mode="constant", cval=0.0, **extra)

    return smooth_with_function_and_mask(image, blur, np.ones(image.shape, dtype=bool))


def foreground(image: np.ndarray, smoothing: float, **threshold) -> np.ndarray:
    """CellProfiler's thresholding of one plane: the threshold of the unsmoothed image
    (``threshold_for`` with ``threshold``'s settings), compared (``>=``) with the image
    smoothed by a Gaussian of sigma ``smoothing`` (CellProfiler's smoothing scale 1.3488
    is sigma 1; 0 skips smoothing)."""
    cutoff = threshold_for(image, **threshold)
    smoothed = smooth_edge_corrected(image, smoothing) if smoothing > 0 else image
    return smoothed >= cutoff


# -- declumping ------------------------------------------------------------------------------


def split_clumps(
    image: np.ndarray,
    regions: np.ndarray,
    *,
    declump: str,
    dividing_lines: str,
    min_diameter: float,
    filter_size: float | None,
    seed_distance: float | None,
    low_res_maxima: bool,
    holes_filled: bool,
) -> np.ndarray:
    """Divide the labelled ``regions`` of ``image`` at their seeds, as CellProfiler's
    IdentifyPrimaryObjects declumps.

    Seeds are local maxima, at least ``seed_distance`` apart, of ``image`` smoothed with a
    Gaussian of size ``filter_size`` (``declump='intensity'``) or of the distance to the
    background (``'shape'``). ``filter_size=None`` is CellProfiler's automatic
    ``2.35 * min_diameter / 3.5`` and ``seed_distance=None`` its automatic
    ``min_diameter / 1.5``; with ``low_res_maxima`` and ``min_diameter`` above 10 the
    maxima are found on the image shrunk by ``10 / min_diameter`` (there the automatic
    distance is 7). The seeds grow over their region by a watershed of the inverted
    intensity (``dividing_lines='intensity'``), of the inverted distance (``'shape'``),
    or by centrosome's propagation without an image (``'propagate'``).
    """
    from centrosome.cpmorphology import fill_labeled_holes
    from scipy import ndimage as ndi
    from skimage.segmentation import watershed

    eight = np.ones((3, 3), dtype=bool)
    if low_res_maxima and min_diameter > 10:
        factor = 10.0 / min_diameter
        suppression = 7.0 if seed_distance is None else seed_distance * factor + 0.5
    else:
        factor = 1.0
        suppression = min_diameter / 1.5 if seed_distance is None else float(seed_distance)
    distance = None
    if declump == "intensity":
        size = 2.35 * min_diameter / 3.5 if filter_size is None else float(filter_size)
        # CellProfiler's kernel: sigma = size / 2.35, cut at half the size.
        surface = (
            smooth_edge_corrected(image, size / 2.35, max(int(size / 2), 1)) if size > 0 else image
        )
    elif declump == "shape":
        # Holes count as background for the distance unless they were filled already.
        inside = regions > 0 if holes_filled else fill_labeled_holes(regions) > 0
        distance = ndi.distance_transform_edt(inside)
        # A little fixed noise breaks ties, so a flat ridge gives one maximum: CellProfiler's
        # own noise (NumPy's legacy generator seeded 0), which also breaks the ties of the
        # shape watershed below, so the dividing lines fall where CellProfiler's do.
        distance += np.random.RandomState(0).uniform(0, 0.001, distance.shape)
        surface = distance
    else:
        raise ValueError(f"declump must be 'intensity', 'shape' or 'none', got {declump!r}")
    seeds, _ = ndi.label(_maxima(surface, regions, max(1.0, suppression - 0.5), factor), eight)
    if dividing_lines == "propagate":
        from centrosome.propagate import propagate

        grown, _ = propagate(np.zeros(image.shape), seeds, regions > 0, 1.0)
        return grown.astype(np.int32)
    if dividing_lines == "intensity":
        landscape = 1.0 - image
    elif dividing_lines == "shape":
        if distance is None:
            distance = ndi.distance_transform_edt(regions > 0)
        landscape = distance.max() - distance
    else:
        raise ValueError(
            "dividing_lines must be 'intensity', 'shape', 'propagate' or 'none', "
            f"got {dividing_lines!r}"
        )
    return watershed(landscape, seeds, connectivity=eight, mask=regions > 0).astype(np.int32)


def _maxima(surface: np.ndarray, regions: np.ndarray, radius: float, factor: float) -> np.ndarray:
    """Points that are the largest of ``surface`` within a disk of ``radius`` in their own
    region (centrosome's ``is_local_maximum``), on the image resampled by ``factor`` when
    it is below 1, then each touching group of maxima shrunk to one point."""
    from centrosome.cpmorphology import binary_shrink, is_local_maximum, strel_disk
    from scipy import ndimage as ndi

    if factor < 1.0:
        grid = np.mgrid[0 : surface.shape[0] * factor, 0 : surface.shape[1] * factor] / factor
        small = ndi.map_coordinates(surface, grid)
        small_regions = ndi.map_coordinates(regions, grid, order=0).astype(regions.dtype)
    else:
        small, small_regions = surface, regions
    peaks = is_local_maximum(
        np.ascontiguousarray(small, dtype=np.float64),
        np.ascontiguousarray(small_regions, dtype=np.int32),
        strel_disk(radius),
    )
    peaks[small <= 0] = False
    if factor < 1.0:
        back = surface.shape[0] / peaks.shape[0]
        grid = np.mgrid[0 : surface.shape[0], 0 : surface.shape[1]].astype(float) / back
        peaks = ndi.map_coordinates(peaks.astype(float), grid) > 0.5
    return binary_shrink(peaks) > 0


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
