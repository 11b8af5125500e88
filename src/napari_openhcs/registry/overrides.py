"""The reviewed override table: parameter facts the signatures and docstrings do not give.

``OVERRIDES[ref][param]`` is a dict of ``ParamSpec`` fields to set, or ``None`` to leave the
parameter out. ``COMMON[param]`` fills in fields that signature and docstring left unknown
(``annotation`` "any", no choices, no default), for every function.
"""

from __future__ import annotations

_MODES = ("reflect", "constant", "nearest", "mirror", "wrap")

COMMON: dict[str, dict | None] = {
    "mode": {"annotation": "str", "choices": _MODES},
    "footprint": {"annotation": "footprint", "default": {"disk": 1}},
    "sigma": {"bounds": (0.0, 100.0)},
    "preserve_range": {"annotation": "bool"},
}


def _f(default: float, lo: float, hi: float) -> dict:
    return {"annotation": "float", "default": default, "bounds": (lo, hi)}


def _i(default: int, lo: int, hi: int) -> dict:
    return {"annotation": "int", "default": default, "bounds": (lo, hi)}


_CENTER = {"annotation": "tuple[float, ...]", "optional": True}
_ORDER = {"annotation": "int", "optional": True, "bounds": (0, 5)}
_CONNECTIVITY = {"annotation": "int", "bounds": (1, 2), "optional": True}

OVERRIDES: dict[str, dict[str, dict | None]] = {
    "skimage.filters.gaussian": {"sigma": _f(1.0, 0.0, 100.0)},
    "skimage.filters.apply_hysteresis_threshold": {
        "low": _f(0.1, -1e6, 1e6),
        "high": _f(0.5, -1e6, 1e6),
    },
    "skimage.filters.difference_of_gaussians": {
        "low_sigma": _f(1.0, 0.0, 100.0),
        "high_sigma": {"annotation": "float", "optional": True, "bounds": (0.0, 100.0)},
    },
    "skimage.morphology.h_maxima": {"h": _f(0.05, 0.0, 1e6)},
    "skimage.morphology.h_minima": {"h": _f(0.05, 0.0, 1e6)},
    "skimage.morphology.isotropic_closing": {"radius": _f(3.0, 0.0, 1000.0)},
    "skimage.morphology.isotropic_dilation": {"radius": _f(3.0, 0.0, 1000.0)},
    "skimage.morphology.isotropic_erosion": {"radius": _f(3.0, 0.0, 1000.0)},
    "skimage.morphology.isotropic_opening": {"radius": _f(3.0, 0.0, 1000.0)},
    "skimage.morphology.remove_objects_by_distance": {
        "min_distance": _f(5.0, 0.0, 1e4),
        "priority": None,
    },
    "skimage.feature.local_binary_pattern": {"P": _i(8, 1, 64), "R": _f(1.0, 0.1, 100.0)},
    "skimage.transform.rotate": {
        "angle": _f(0.0, -360.0, 360.0),
        "resize": None,
        "center": _CENTER,
        "order": _ORDER,
    },
    "skimage.restoration.rolling_ball": {"radius": _f(50.0, 1.0, 1000.0), "kernel": None},
    "skimage.segmentation.morphological_chan_vese": {"num_iter": _i(20, 1, 10000)},
    "skimage.segmentation.morphological_geodesic_active_contour": {"num_iter": _i(20, 1, 10000)},
    "skimage.measure.label": {"connectivity": _CONNECTIVITY},
    "skimage.morphology.remove_small_objects": {"connectivity": _CONNECTIVITY},
    "skimage.morphology.remove_small_holes": {"connectivity": _CONNECTIVITY},
    # Parameters that are not settings of a per-plane step: precomputed histograms, results
    # that would turn the image into a tuple, callbacks, arrays, output shapes and dtypes.
    "skimage.filters.threshold_isodata": {"hist": None, "return_all": None},
    "skimage.filters.threshold_minimum": {"hist": None},
    "skimage.filters.threshold_otsu": {"hist": None},
    "skimage.filters.threshold_yen": {"hist": None},
    "skimage.filters.threshold_li": {"iter_callback": None},
    "skimage.morphology.medial_axis": {"return_distance": None},
    "skimage.segmentation.chan_vese": {"extended_output": None},
    "skimage.segmentation.watershed": {
        "offset": None,
        "markers": {"annotation": "int", "optional": True, "bounds": (1, 1_000_000)},
    },
    "skimage.transform.integral_image": {"dtype": None},
    "skimage.transform.swirl": {"center": _CENTER, "order": _ORDER, "output_shape": None},
    "skimage.segmentation.join_segmentations": {
        "s2": {"annotation": "image"},
        "return_mapping": None,
    },
    "skimage.segmentation.random_walker": {"return_full_prob": None, "spacing": None},
    "pyclesperanto.circular_shift": {
        "shift_x": _i(0, -1000, 1000),
        "shift_y": _i(0, -1000, 1000),
        "shift_z": None,
    },
    "pyclesperanto.multiply_image_and_position": {"dimension": _i(0, 0, 1)},
    "pyclesperanto.set_image_borders": {"value": _f(0.0, -1e6, 1e6)},
    "napari_openhcs.functions.percentile_normalize": {
        "low": _f(1.0, 0.0, 100.0),
        "high": _f(99.8, 0.0, 100.0),
    },
    "napari_openhcs.functions.tophat_background": {"radius": _i(15, 1, 500)},
    "napari_openhcs.functions.count_objects": {
        "sigma": _f(1.0, 0.0, 50.0),
        "min_distance": _i(5, 1, 200),
        "min_area": _i(20, 0, 1_000_000),
    },
    # Object functions (functions/objects.py, cellmeasure.py): CellProfiler's ranges.
    "napari_openhcs.functions.identify_primary_objects": {
        "adaptive_window": _i(50, 10, 1000),
        "threshold_smoothing": _f(1.0, 0.0, 50.0),
        "correction_factor": _f(1.0, 0.0, 10.0),
        "lower_bound": _f(0.0, 0.0, 1.0),
        "upper_bound": _f(1.0, 0.0, 1.0),
        "manual_threshold": _f(0.5, 0.0, 1.0),
        "min_diameter": _f(10.0, 1.0, 1000.0),
        "max_diameter": _f(40.0, 1.0, 10000.0),
        "min_seed_distance": _i(0, 0, 500),
        # None: CellProfiler's automatic size, 2.35 * min_diameter / 3.5
        "smoothing_filter_size": {"annotation": "float", "optional": True, "bounds": (0.0, 500.0)},
    },
    "napari_openhcs.functions.identify_secondary_objects": {
        "regularization": _f(0.05, 0.0, 1000.0),
        "distance": _i(10, 0, 1000),
        "adaptive_window": _i(50, 10, 1000),
        "threshold_smoothing": _f(0.0, 0.0, 50.0),
        "correction_factor": _f(1.0, 0.0, 10.0),
        "lower_bound": _f(0.0, 0.0, 1.0),
        "upper_bound": _f(1.0, 0.0, 1.0),
        "manual_threshold": _f(0.5, 0.0, 1.0),
    },
    "napari_openhcs.functions.filter_objects": {
        "values": None,
        "minimum": {"annotation": "float", "optional": True, "bounds": (-1e12, 1e12)},
        "maximum": {"annotation": "float", "optional": True, "bounds": (-1e12, 1e12)},
    },
}


def overrides_for(ref: str) -> dict[str, dict | None]:
    """The reviewed overrides of one function (``COMMON`` is applied separately)."""
    key = ref.replace(".functions.torch.", ".functions.").replace(".functions.cupy.", ".functions.")
    return {k: (dict(v) if v is not None else None) for k, v in OVERRIDES.get(key, {}).items()}
