"""pyclesperanto versions of the own functions, for OpenCL or CUDA devices.

``measure_cells`` measures intensity, size and shape with pyclesperanto's
``labels_statistics``, named as the CPU ``measure_cells`` names them where the definitions
agree (see :mod:`napari_openhcs.functions.gpumeasure` for the features and differences).

This module imports pyclesperanto; ``import napari_openhcs.functions`` never imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pyclesperanto as cle

from napari_openhcs.functions._cellprofiler import MEASURE_CELLS_DECLARATION
from napari_openhcs.functions.gpumeasure import (
    CHANNEL_KEYS,
    GPU_FAMILIES,
    measure_planes,
    pixel_scale,
)
from napari_openhcs.memory.convert import convert
from napari_openhcs.memory.decorators import pyclesperanto as cle_memory
from napari_openhcs.registry.declare import declare

if TYPE_CHECKING:
    import pyarrow as pa

#: What the registry lists (``label_statistics`` is a helper, not a pipeline function).
__all__ = ["measure_cells"]

#: pyclesperanto's shape descriptors CellProfiler does not define: our name -> its key.
CLESPERANTO_FEATURES = {
    "MeanDistanceToCentroid": "mean_distance_to_centroid",
    "MaxDistanceToCentroid": "max_distance_to_centroid",
    "MeanMaxDistanceToCentroidRatio": "mean_max_distance_to_centroid_ratio",
}


def _take(array: Any, index: int) -> Any:
    """Plane ``index`` of a 3-D pyclesperanto array, copied on the device (``array[i]``;
    ``cle.copy_slice`` without an output array returns a 3-D array)."""
    if array.shape[0] == 1 and index == 0:
        return array  # labels_statistics measures a (1, y, x) array as one plane
    return array[int(index)]


def _column(stats: dict, key: str, rows: np.ndarray) -> np.ndarray:
    return np.asarray(stats[key], dtype=np.float64)[rows]


def label_statistics(labels: Any, planes: list) -> dict[str, Any]:
    """Per-object statistics of one label plane (and its channel planes) on the device.

    One ``cle.labels_statistics`` call per channel (one on the labels alone without
    channels); rows of labels absent from the plane are dropped. Sums, means, standard
    deviations, minima and maxima are divided afterwards by what CellProfiler divides the
    pixels by (uint16: 65535), so minima and maxima equal the CPU's exactly.

    Returns the statistics :func:`napari_openhcs.functions.gpumeasure.feature_table` reads.
    """
    first = cle.labels_statistics(label=labels, intensity=planes[0] if planes else labels)
    area = np.asarray(first["area"], dtype=np.float64)
    ids = np.asarray(first["label"], dtype=np.int64)
    rows = np.flatnonzero((area > 0) & (ids > 0))
    stats: dict[str, Any] = {"numbers": ids[rows]}
    if rows.size == 0:
        return stats
    stats.update(
        area=area[rows],
        min_x=_column(first, "bbox_min_x", rows),
        max_x=_column(first, "bbox_max_x", rows),
        min_y=_column(first, "bbox_min_y", rows),
        max_y=_column(first, "bbox_max_y", rows),
        center_x=_column(first, "centroid_x", rows),
        center_y=_column(first, "centroid_y", rows),
        extra={
            f"Clesperanto_{name}": _column(first, key, rows)
            for name, key in CLESPERANTO_FEATURES.items()
        },
    )
    channels = []
    for i, plane in enumerate(planes):
        result = first if i == 0 else cle.labels_statistics(label=labels, intensity=plane)
        scale = pixel_scale(plane.dtype)
        values = {
            "sum": _column(result, "sum_intensity", rows) / scale,
            "mean": _column(result, "mean_intensity", rows) / scale,
            "std": _column(result, "standard_deviation_intensity", rows) / scale,
            "min": _column(result, "min_intensity", rows) / scale,
            "max": _column(result, "max_intensity", rows) / scale,
            "mass_x": _column(result, "mass_center_x", rows),
            "mass_y": _column(result, "mass_center_y", rows),
        }
        channels.append({k: values[k] for k in CHANNEL_KEYS})
    stats["channels"] = channels
    return stats


@declare(**MEASURE_CELLS_DECLARATION)
@cle_memory
def measure_cells(
    labels: Any,
    intensity: Any,
    *,
    compartment: str = "Cells",
    channels: tuple[str, ...] | None = None,
    families: tuple[str, ...] = GPU_FAMILIES,
) -> tuple[Any, pa.Table]:
    """Measure intensity, size and shape of an object set on an OpenCL or CUDA device.

    The GPU counterpart of ``napari_openhcs.functions.measure_cells`` for its default
    families: the same column names and values where the definitions agree, within float32
    rounding (see :mod:`napari_openhcs.functions.gpumeasure` for the features and the
    differences), plus pyclesperanto's own shape descriptors as
    ``<compartment>_Clesperanto_<Feature>``.

    Parameters
    ----------
    labels : (n, y, x) pyclesperanto array of int
        The objects: one plane, or ``n`` planes each measured in its own intensity plane.
    intensity : array
        The channels to measure: ``(c, y, x)`` for one plane, one intensity plane per label
        plane for ``n`` planes (NumPy, CuPy or pyclesperanto; moved to the device).
    compartment : str
        The object set's name: ``Nuclei``, ``Cells``, ``Cytoplasm``, ...
    channels : tuple of str, optional
        The channels' names (the plate's), one per channel.
    families : tuple of str
        ``intensity`` and/or ``sizeshape`` (both by default).

    Returns
    -------
    labels : pyclesperanto array
        The input labels.
    measurements : pyarrow.Table
        ``ObjectNumber`` and the features, one row per object.

    Examples
    --------
    >>> labels = np.zeros((1, 8, 8), dtype=np.int32); labels[0, 2:6, 2:6] = 1
    >>> pixels = np.full((1, 8, 8), 65535, np.uint16)
    >>> _, table = measure_cells(labels, pixels, channels=("DNA",))
    >>> table.column("Cells_Intensity_IntegratedIntensity_DNA").to_pylist()
    [16.0]
    """
    pixels = None if intensity is None else convert(intensity, "pyclesperanto")
    table = measure_planes(
        labels,
        pixels,
        label_statistics,
        _take,
        compartment=compartment,
        channels=channels,
        families=families,
    )
    return labels, table
