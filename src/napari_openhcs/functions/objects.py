"""Object identification in the spirit of CellProfiler: primary, secondary, tertiary objects.

Nuclei are *primary* objects found by thresholding a DNA stain; cells are *secondary*
objects grown from the nuclei in a cytoplasm or membrane stain; the cytoplasm is the
*tertiary* object, cell minus nucleus. Labels keep their numbers across the three sets:
cell 7 grew from nucleus 7, and cytoplasm 7 is cell 7 without nucleus 7, so the
compartments join on the object number (CellProfiler's ``Parent_Nuclei`` relation).

CellProfiler's own algorithms come from ``centrosome`` (propagation, robust background
threshold, labelled hole filling, shrinking); scikit-image supplies Otsu, multi-Otsu and
minimum cross-entropy (Li) thresholds as CellProfiler 4 uses them. Thresholds apply to
the image scaled as CellProfiler scales it (uint8 / 255, uint16 / 65535, floats as given),
so ``manual_threshold`` and the bounds read like CellProfiler's settings. Filtering and
relating object sets live in ``functions.relations``.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from napari_openhcs.functions._cellprofiler import (
    MiddleClass,
    ThresholdMethod,
    ThresholdScope,
    labels_like,
    scale_like_cellprofiler,
    threshold_for,
)
from napari_openhcs.functions._stack import as_stack
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = [
    "identify_primary_objects",
    "identify_secondary_objects",
    "identify_tertiary_objects",
]

Declump = Literal["shape", "intensity", "none"]
SecondaryMethod = Literal["propagation", "watershed_image", "distance"]


# -- primary objects -------------------------------------------------------------------------


@declare(contract="stack", category="segmentation", output_kind="labels")
@numpy
def identify_primary_objects(
    image: np.ndarray,
    *,
    threshold_method: ThresholdMethod = "otsu",
    threshold_scope: ThresholdScope = "global",
    adaptive_window: int = 50,
    threshold_smoothing: float = 1.0,
    correction_factor: float = 1.0,
    lower_bound: float = 0.0,
    upper_bound: float = 1.0,
    manual_threshold: float = 0.5,
    middle_class: MiddleClass = "foreground",
    min_diameter: float = 10.0,
    max_diameter: float = 40.0,
    declump: Declump = "shape",
    min_seed_distance: int = 0,
    fill_holes: bool = True,
    exclude_border: bool = True,
) -> np.ndarray:
    """Find bright objects such as nuclei, as CellProfiler's IdentifyPrimaryObjects does.

    Each plane is scaled as CellProfiler scales images, smoothed, thresholded, its holes
    filled, its clumps split at their seeds; objects whose equivalent diameter is outside
    ``[min_diameter, max_diameter]`` and (by default) objects touching the image border are
    discarded, and the rest numbered 1, 2, ... across the stack.

    The defaults are CellProfiler's for nuclei imaged at 10-20x (diameters 10 to 40 px,
    declumping by shape, seeds at least ``min_diameter / 1.5`` apart, border objects
    discarded), with a two-class Otsu threshold.

    Parameters
    ----------
    image : (n, y, x) ndarray
        Intensity planes (the DNA stain). A 2-D image counts as one plane.
    threshold_method : {'otsu', 'otsu3', 'minimum_cross_entropy', 'robust_background', 'manual'}
        Otsu with two or three classes, minimum cross-entropy (Li), CellProfiler's robust
        background (mean + 2 SD of the intensities after trimming 5% outliers on each
        side) or ``manual_threshold``.
    threshold_scope : {'global', 'adaptive'}
        One threshold per plane, or one per ``adaptive_window`` block blended smoothly
        (kept within 0.7-1.5 times the global threshold).
    adaptive_window : int
        Block size in pixels of the adaptive threshold.
    threshold_smoothing : float
        Gaussian sigma in pixels applied before thresholding (0 to skip).
    correction_factor : float
        The automatic threshold is multiplied by this (above 1 is stricter).
    lower_bound, upper_bound : float
        The automatic threshold is kept within these, in the scaled image's units (0-1).
    manual_threshold : float
        The threshold of ``threshold_method='manual'``, in the scaled image's units.
    middle_class : {'foreground', 'background'}
        Where ``otsu3`` puts its middle intensity class.
    min_diameter, max_diameter : float
        Typical diameter range in pixels; objects whose equivalent diameter (of a disk of
        the same area) lies outside are discarded.
    declump : {'shape', 'intensity', 'none'}
        How touching objects are split: at maxima of the distance to the background
        (round objects), at maxima of the smoothed intensity (objects brighter in their
        middle), or not at all.
    min_seed_distance : int
        Smallest distance in pixels between two seeds; 0 chooses ``min_diameter / 1.5``.
    fill_holes : bool
        Fill holes inside objects.
    exclude_border : bool
        Discard objects touching the image border.

    Returns
    -------
    labels : (n, y, x) ndarray of int32
        0 for background, 1..k for the objects.

    Examples
    --------
    >>> yy, xx = np.mgrid[:60, :60]
    >>> plane = np.zeros((60, 60), dtype=np.uint8)
    >>> for cy, cx in [(20, 20), (40, 42)]:
    ...     plane[(yy - cy) ** 2 + (xx - cx) ** 2 <= 7**2] = 200
    >>> int(identify_primary_objects(plane).max())
    2
    """
    if not 0 < min_diameter <= max_diameter:
        raise ValueError(
            f"need 0 < min_diameter <= max_diameter; got {min_diameter} and {max_diameter}"
        )
    if declump not in ("shape", "intensity", "none"):
        raise ValueError(f"declump must be 'shape', 'intensity' or 'none', got {declump!r}")
    stack = as_stack(np.asarray(image), "image")
    seed_distance = int(min_seed_distance) or max(1, round(min_diameter / 1.5))
    labels = np.zeros(stack.shape, dtype=np.int32)
    offset = 0
    for index, plane in enumerate(stack):
        found = _primary_plane(
            scale_like_cellprofiler(plane),
            threshold=dict(
                method=threshold_method,
                scope=threshold_scope,
                adaptive_window=adaptive_window,
                correction_factor=correction_factor,
                lower_bound=lower_bound,
                upper_bound=upper_bound,
                manual_threshold=manual_threshold,
                middle_class=middle_class,
            ),
            smoothing=threshold_smoothing,
            diameters=(min_diameter, max_diameter),
            declump=declump,
            seed_distance=seed_distance,
            fill_holes=fill_holes,
            exclude_border=exclude_border,
        )
        labels[index] = np.where(found > 0, found + offset, 0)
        offset += int(found.max())
    return labels


def _primary_plane(
    plane: np.ndarray,
    *,
    threshold: dict,
    smoothing: float,
    diameters: tuple[float, float],
    declump: str,
    seed_distance: int,
    fill_holes: bool,
    exclude_border: bool,
) -> np.ndarray:
    from centrosome.cpmorphology import fill_labeled_holes
    from scipy import ndimage as ndi
    from skimage.segmentation import clear_border

    smoothed = ndi.gaussian_filter(plane, smoothing) if smoothing > 0 else plane
    foreground = smoothed > threshold_for(smoothed, **threshold)
    if fill_holes:
        foreground = ndi.binary_fill_holes(foreground)
    regions, _ = ndi.label(foreground)
    if declump != "none" and regions.any():
        regions = _declump(regions, plane, declump, seed_distance, diameters[0])
    if fill_holes:
        regions = fill_labeled_holes(regions)
    if exclude_border:
        regions = clear_border(regions)
    areas = np.bincount(regions.ravel())
    diameter = 2.0 * np.sqrt(areas / math.pi)
    keep = (diameter >= diameters[0]) & (diameter <= diameters[1])
    keep[0] = False
    return _renumber(np.where(keep[regions], regions, 0))


def _declump(
    regions: np.ndarray, plane: np.ndarray, how: str, seed_distance: int, min_diameter: float
) -> np.ndarray:
    """Split each region at its seeds: maxima of the distance transform (``shape``) or of
    the intensity smoothed at ``min_diameter / 3.5`` (``intensity``, CellProfiler's
    automatic filter size), and watershed lines along the same surface."""
    from scipy import ndimage as ndi
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    if how == "shape":
        surface = ndi.distance_transform_edt(regions > 0)
    else:
        surface = ndi.gaussian_filter(plane, min_diameter / 3.5)
    peaks = peak_local_max(
        surface, min_distance=seed_distance, labels=regions, exclude_border=False
    )
    seeds = np.zeros(regions.shape, dtype=np.int32)
    seeds[tuple(peaks.T)] = np.arange(1, len(peaks) + 1, dtype=np.int32)
    # A region without a peak (smaller than the seed distance) keeps one seed.
    present = np.unique(regions[regions > 0])
    unseeded = np.setdiff1d(present, np.unique(regions[seeds > 0]))
    if unseeded.size:
        spots = ndi.maximum_position(surface, regions, unseeded)
        for number, spot in enumerate(spots, start=len(peaks) + 1):
            seeds[spot] = number
    return watershed(-surface, seeds, mask=regions > 0)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Objects of ``labels`` numbered 1..k in their order, as int32."""
    present = np.unique(labels)
    present = present[present > 0]
    lookup = np.zeros(int(labels.max()) + 1 if labels.size else 1, dtype=np.int32)
    lookup[present] = np.arange(1, present.size + 1, dtype=np.int32)
    return lookup[labels]


# -- secondary and tertiary objects ----------------------------------------------------------


@declare(contract="stack", category="segmentation", output_kind="labels", image_params=("seeds",))
@numpy
def identify_secondary_objects(
    image: np.ndarray,
    seeds: np.ndarray,
    *,
    method: SecondaryMethod = "propagation",
    regularization: float = 0.05,
    distance: int = 10,
    threshold_method: ThresholdMethod = "minimum_cross_entropy",
    threshold_scope: ThresholdScope = "global",
    adaptive_window: int = 50,
    threshold_smoothing: float = 0.0,
    correction_factor: float = 1.0,
    lower_bound: float = 0.0,
    upper_bound: float = 1.0,
    manual_threshold: float = 0.5,
    fill_holes: bool = True,
) -> np.ndarray:
    """Grow each seed (nucleus) into its object (cell), as CellProfiler's
    IdentifySecondaryObjects does.

    The foreground of ``image`` (thresholded like ``identify_primary_objects``) is divided
    among the seeds. A cell keeps its seed's number, contains its whole seed and no other
    seed, and there is no cell without a seed.

    Parameters
    ----------
    image : (n, y, x) ndarray
        The stain that outlines cells (cytoplasm or membrane), one plane per seeds plane.
    seeds : (n, y, x) or (y, x) ndarray of int
        The primary objects, e.g. nuclei from ``identify_primary_objects``.
    method : {'propagation', 'watershed_image', 'distance'}
        ``propagation``: CellProfiler's algorithm (centrosome), a cell grows over the
        foreground along paths weighing image gradients against distance; ``watershed_image``:
        a watershed of the inverted image from the seeds within the foreground
        (cells meet where the stain is dimmest);
        ``distance``: every seed grown by ``distance`` pixels, regardless of the image.
    regularization : float
        Propagation's lambda: small values follow intensity edges, large values make
        cells more like Voronoi regions of their seeds.
    distance : int
        Growth in pixels of ``method='distance'``.
    threshold_method : {'otsu', 'otsu3', 'minimum_cross_entropy', 'robust_background', 'manual'}
        As in ``identify_primary_objects``; CellProfiler's default for cells is minimum
        cross-entropy.
    threshold_scope : {'global', 'adaptive'}
        As in ``identify_primary_objects``.
    adaptive_window : int
        Block size in pixels of the adaptive threshold.
    threshold_smoothing : float
        Gaussian sigma in pixels before thresholding (0 to skip).
    correction_factor : float
        The automatic threshold is multiplied by this.
    lower_bound, upper_bound : float
        Bounds of the automatic threshold, in the scaled image's units (0-1).
    manual_threshold : float
        The threshold of ``threshold_method='manual'``.
    fill_holes : bool
        Fill holes inside cells (background enclosed by one cell).

    Returns
    -------
    labels : (n, y, x) ndarray of int32
        Cell ``k`` grown from seed ``k``; 0 for background.

    Examples
    --------
    >>> seeds = np.zeros((1, 30, 30), dtype=np.int32); seeds[0, 8:12, 8:12] = 1
    >>> stain = np.zeros((30, 30)); stain[4:16, 4:16] = 0.8
    >>> cells = identify_secondary_objects(stain[None], seeds)
    >>> int((cells == 1).sum())
    144
    """
    from centrosome.cpmorphology import fill_labeled_holes
    from centrosome.propagate import propagate
    from scipy import ndimage as ndi
    from skimage.segmentation import expand_labels, watershed

    if method not in ("propagation", "watershed_image", "distance"):
        raise ValueError(
            f"method must be 'propagation', 'watershed_image' or 'distance', got {method!r}"
        )
    stack = as_stack(np.asarray(image), "image")
    seeds = labels_like(seeds, stack.shape, "seeds")
    cells = np.zeros(stack.shape, dtype=np.int32)
    for index, (plane, plane_seeds) in enumerate(zip(stack, seeds, strict=True)):
        if not plane_seeds.any():
            continue
        if method == "distance":
            grown = expand_labels(plane_seeds, distance)
        else:
            plane = scale_like_cellprofiler(plane)
            smoothed = (
                ndi.gaussian_filter(plane, threshold_smoothing) if threshold_smoothing else plane
            )
            foreground = smoothed > threshold_for(
                smoothed,
                threshold_method,
                threshold_scope,
                adaptive_window,
                correction_factor,
                lower_bound,
                upper_bound,
                manual_threshold,
                "foreground",
            )
            if method == "propagation":
                grown, _ = propagate(plane, plane_seeds, foreground, regularization)
            else:
                # Inverted intensity: bright cytoplasm floods first, and neighbouring
                # cells meet where the stain is dimmest (CellProfiler's Watershed - Image).
                grown = watershed(
                    plane.max() - plane, plane_seeds, mask=foreground | (plane_seeds > 0)
                )
        if fill_holes:
            grown = fill_labeled_holes(grown)
        # Seeds win every pixel they cover: a cell contains its whole nucleus, no other.
        grown = np.where(plane_seeds > 0, plane_seeds, grown)
        cells[index] = grown
    return cells


@declare(contract="stack", category="segmentation", output_kind="labels", image_params=("nuclei",))
@numpy
def identify_tertiary_objects(
    cells: np.ndarray, nuclei: np.ndarray, *, shrink_nuclei: bool = False
) -> np.ndarray:
    """The cytoplasm: each cell minus its nucleus, with the cell's number.

    Parameters
    ----------
    cells : (n, y, x) ndarray of int
        Secondary objects (from ``identify_secondary_objects``).
    nuclei : (n, y, x) or (y, x) ndarray of int
        Primary objects inside them.
    shrink_nuclei : bool
        Shrink each nucleus by one pixel first (centrosome's ``binary_shrink``), so a cell
        no larger than its nucleus still has a cytoplasm ring, as CellProfiler's
        "shrink smaller object" option does.

    Returns
    -------
    labels : (n, y, x) ndarray of int32
        Cytoplasm ``k`` is cell ``k`` without nucleus pixels; a cell that equals its
        nucleus has no cytoplasm.

    Examples
    --------
    >>> cells = np.zeros((1, 5, 5), dtype=np.int32); cells[0, :, :] = 3
    >>> nuclei = np.zeros_like(cells); nuclei[0, 1:4, 1:4] = 3
    >>> int((identify_tertiary_objects(cells, nuclei) == 3).sum())
    16
    """
    from centrosome.cpmorphology import binary_shrink

    cells = as_stack(np.asarray(cells), "cells").astype(np.int32, copy=False)
    nuclei = labels_like(nuclei, cells.shape, "nuclei")
    cytoplasm = cells.copy()
    for index, plane in enumerate(nuclei):
        inside = binary_shrink(plane, 1) > 0 if shrink_nuclei else plane > 0
        cytoplasm[index][inside] = 0
    return cytoplasm
