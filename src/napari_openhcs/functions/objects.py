"""Object identification in the spirit of CellProfiler: primary, secondary, tertiary objects.

Nuclei are *primary* objects found by thresholding a DNA stain; cells are *secondary*
objects grown from the nuclei in a cytoplasm or membrane stain; the cytoplasm is the
*tertiary* object, cell minus nucleus. Labels keep their numbers across the three sets:
cell 7 grew from nucleus 7, and cytoplasm 7 is cell 7 without nucleus 7, so the
compartments join on the object number (CellProfiler's ``Parent_Nuclei`` relation).

CellProfiler's own algorithms come from ``centrosome`` (propagation, robust background
threshold, labelled hole filling, local maxima, shrinking, edge-corrected smoothing);
scikit-image supplies Otsu, multi-Otsu and minimum cross-entropy (Li) thresholds and the
watershed as CellProfiler 4 uses them. Thresholds apply to
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
    foreground,
    labels_like,
    scale_like_cellprofiler,
    split_clumps,
)
from napari_openhcs.functions._stack import as_stack
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = [
    "identify_primary_objects",
    "identify_secondary_objects",
    "identify_tertiary_objects",
]

Declump = Literal["intensity", "shape", "none"]
DividingLines = Literal["intensity", "shape", "propagate", "none"]
SecondaryMethod = Literal["propagation", "watershed_image", "distance"]


# -- primary objects -------------------------------------------------------------------------


@declare(contract="stack", category="segmentation", output_kind="labels")
@numpy
def identify_primary_objects(
    image: np.ndarray,
    *,
    threshold_method: ThresholdMethod = "minimum_cross_entropy",
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
    exclude_size: bool = True,
    declump: Declump = "intensity",
    dividing_lines: DividingLines = "intensity",
    smoothing_filter_size: float | None = None,
    min_seed_distance: int = 0,
    low_res_maxima: bool = True,
    fill_holes: bool = True,
    exclude_border: bool = True,
) -> np.ndarray:
    """Find bright objects such as nuclei, as CellProfiler's IdentifyPrimaryObjects does.

    Each plane is scaled as CellProfiler scales images and thresholded (the threshold of
    the unsmoothed plane, applied to the plane smoothed at ``threshold_smoothing``); holes
    smaller than ``max_diameter`` squared are filled; touching objects are split at their
    seeds (``declump``) along dividing lines (``dividing_lines``); objects touching the
    image border and objects whose equivalent diameter (of a disk of the same area) is
    outside ``[min_diameter, max_diameter]`` are discarded, holes are filled again and the
    rest numbered 1, 2, ... across the stack.

    The defaults are CellProfiler 4's own (its module with advanced settings off):
    diameters 10 to 40 px, a global minimum cross-entropy threshold smoothed at scale
    1.3488 (sigma 1), declumping by intensity with dividing lines by intensity, the
    automatic smoothing filter (``2.35 * min_diameter / 3.5``) and maxima suppression
    (``min_diameter / 1.5``), maxima on a lower-resolution image, holes filled after
    thresholding and after declumping, objects outside the diameter range and objects
    touching the border discarded. With the same settings the labels are CellProfiler's
    own, pixel for pixel and number for number (checked against cellprofiler-library on
    DSB2018 and ExampleFly images, tests/functions/test_objects.py).

    Parameters
    ----------
    image : (n, y, x) ndarray
        Intensity planes (the DNA stain). A 2-D image counts as one plane.
    threshold_method : {'otsu', 'otsu3', 'minimum_cross_entropy', 'robust_background', 'manual'}
        Otsu with two or three classes, minimum cross-entropy (Li; CellProfiler 4's
        default), CellProfiler's robust background (mean + 2 SD of the intensities after
        trimming 5% outliers on each side) or ``manual_threshold``.
    threshold_scope : {'global', 'adaptive'}
        One threshold per plane, or one per ``adaptive_window`` block blended smoothly
        (kept within 0.7-1.5 times the global threshold).
    adaptive_window : int
        Block size in pixels of the adaptive threshold.
    threshold_smoothing : float
        Gaussian sigma in pixels of the smoothing before the threshold is applied (0 to
        skip); CellProfiler's "threshold smoothing scale" is 1.3488 times this.
    correction_factor : float
        The automatic threshold is multiplied by this (above 1 is stricter).
    lower_bound, upper_bound : float
        The automatic threshold is kept within these, in the scaled image's units (0-1).
    manual_threshold : float
        The threshold of ``threshold_method='manual'``, in the scaled image's units.
    middle_class : {'foreground', 'background'}
        Where ``otsu3`` puts its middle intensity class.
    min_diameter, max_diameter : float
        Typical diameter range in pixels. They set the automatic declumping sizes and,
        with ``exclude_size``, the range of equivalent diameters kept.
    exclude_size : bool
        Discard objects whose equivalent diameter is outside the range.
    declump : {'intensity', 'shape', 'none'}
        How clumps are recognised: a seed at each maximum of the smoothed intensity
        (objects brighter in their middle), at each maximum of the distance to the
        background (round objects with indentations between them), or no splitting.
    dividing_lines : {'intensity', 'shape', 'propagate', 'none'}
        Where a clump is divided among its seeds: along its dimmest lines (a watershed of
        the inverted intensity), along its narrowest lines (a watershed of the inverted
        distance), by propagation from the seeds ignoring the image, or not at all.
    smoothing_filter_size : float, optional
        Size of the smoothing filter before intensity maxima are found (sigma is a
        2.35th of it; 0 for none); by default ``2.35 * min_diameter / 3.5``.
    min_seed_distance : int
        Maxima closer than this in pixels are suppressed; 0 chooses
        ``min_diameter / 1.5`` (7 on the lower-resolution image).
    low_res_maxima : bool
        Find maxima on the image shrunk by ``10 / min_diameter`` when ``min_diameter`` is
        above 10 (faster, and a coarser view of each object).
    fill_holes : bool
        Fill holes inside objects after thresholding (holes smaller than
        ``max_diameter`` squared) and after declumping.
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
    if declump not in ("intensity", "shape", "none"):
        raise ValueError(f"declump must be 'intensity', 'shape' or 'none', got {declump!r}")
    if dividing_lines not in ("intensity", "shape", "propagate", "none"):
        raise ValueError(
            "dividing_lines must be 'intensity', 'shape', 'propagate' or 'none', "
            f"got {dividing_lines!r}"
        )
    stack = as_stack(np.asarray(image), "image")
    threshold = dict(
        method=threshold_method,
        scope=threshold_scope,
        adaptive_window=adaptive_window,
        correction_factor=correction_factor,
        lower_bound=lower_bound,
        upper_bound=upper_bound,
        manual_threshold=manual_threshold,
        middle_class=middle_class,
    )
    splitting = None
    if declump != "none" and dividing_lines != "none":
        splitting = dict(
            declump=declump,
            dividing_lines=dividing_lines,
            min_diameter=float(min_diameter),
            filter_size=smoothing_filter_size,
            seed_distance=float(min_seed_distance) if min_seed_distance else None,
            low_res_maxima=bool(low_res_maxima),
            holes_filled=bool(fill_holes),
        )
    labels = np.zeros(stack.shape, dtype=np.int32)
    offset = 0
    for index, plane in enumerate(stack):
        plane = scale_like_cellprofiler(plane)
        found = _primary_plane(
            plane,
            foreground(plane, threshold_smoothing, **threshold),
            splitting=splitting,
            diameters=(min_diameter, max_diameter) if exclude_size else None,
            max_diameter=max_diameter,
            fill_holes=fill_holes,
            exclude_border=exclude_border,
        )
        labels[index] = np.where(found > 0, found + offset, 0)
        offset += int(found.max())
    return labels


def _primary_plane(
    plane: np.ndarray,
    mask: np.ndarray,
    *,
    splitting: dict | None,
    diameters: tuple[float, float] | None,
    max_diameter: float,
    fill_holes: bool,
    exclude_border: bool,
) -> np.ndarray:
    """IdentifyPrimaryObjects after the threshold: fill, label, declump, filter, fill."""
    from centrosome.cpmorphology import fill_labeled_holes
    from scipy import ndimage as ndi
    from skimage.segmentation import clear_border

    if fill_holes:
        limit = max_diameter * max_diameter
        mask = fill_labeled_holes(mask, size_fn=lambda size, is_foreground: size < limit) > 0
    regions, _ = ndi.label(mask, np.ones((3, 3), dtype=bool))
    if splitting is not None and regions.any():
        regions = split_clumps(plane, regions, **splitting)
    if exclude_border:
        regions = clear_border(regions)
    if diameters is not None:
        areas = np.bincount(regions.ravel())
        low, high = (math.pi * d * d / 4 for d in diameters)
        keep = (areas >= low) & (areas <= high)
        keep[0] = False
        regions = np.where(keep[regions], regions, 0)
    if fill_holes:
        regions = fill_labeled_holes(regions)
    return _renumber(regions)


def _renumber(labels: np.ndarray) -> np.ndarray:
    """Objects of ``labels`` numbered 1..k in their order, as int32."""
    present = np.unique(labels)
    present = present[present > 0]
    lookup = np.zeros(int(labels.max()) + 1 if labels.size else 1, dtype=np.int32)
    lookup[present] = np.arange(1, present.size + 1, dtype=np.int32)
    return lookup[labels]


# -- secondary and tertiary objects ----------------------------------------------------------


@declare(contract="stack", category="segmentation", output_kind="labels", object_params=("seeds",))
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
        Gaussian sigma in pixels of the smoothing before the threshold (computed on the
        unsmoothed image) is applied; 0 to skip.
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
            stained = foreground(
                plane,
                threshold_smoothing,
                method=threshold_method,
                scope=threshold_scope,
                adaptive_window=adaptive_window,
                correction_factor=correction_factor,
                lower_bound=lower_bound,
                upper_bound=upper_bound,
                manual_threshold=manual_threshold,
                middle_class="foreground",
            )
            if method == "propagation":
                grown, _ = propagate(plane, plane_seeds, stained, regularization)
            else:
                # Inverted intensity: bright cytoplasm floods first, and neighbouring
                # cells meet where the stain is dimmest (CellProfiler's Watershed - Image).
                grown = watershed(
                    plane.max() - plane, plane_seeds, mask=stained | (plane_seeds > 0)
                )
        if fill_holes:
            grown = fill_labeled_holes(grown)
        # Seeds win every pixel they cover: a cell contains its whole nucleus, no other.
        grown = np.where(plane_seeds > 0, plane_seeds, grown)
        cells[index] = grown
    return cells


@declare(contract="stack", category="segmentation", output_kind="labels", object_params=("nuclei",))
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
