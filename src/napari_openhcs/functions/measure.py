"""Measuring labelled objects in an intensity image, e.g. a marker channel under nuclei."""

from __future__ import annotations

import numpy as np

from napari_openhcs.functions._stack import as_stack
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

__all__ = ["measure_objects"]

_COLUMNS = (
    "label",
    "area",
    "mean_intensity",
    "min_intensity",
    "max_intensity",
    "integrated_intensity",
    "centroid_y",
    "centroid_x",
)


@declare(
    contract="stack",
    category="measurement",
    output_kind="labels",
    special_outputs=("measurements",),
    image_params=("intensity",),
)
@numpy
def measure_objects(labels: np.ndarray, *, intensity: np.ndarray) -> tuple[np.ndarray, dict]:
    """Measure each labelled object's size and its intensity in another image.

    The labels pass through unchanged; the table has one row per object and plane. In a
    pipeline, ``intensity`` names its image, e.g. ``{"image": "project", "channel": 2}``
    (the output of step ``project``, channel 2) to measure a marker under nuclei segmented
    in channel 1.

    Parameters
    ----------
    labels : (n, y, x) ndarray of int
        Object labels, 0 for background (e.g. from ``count_objects``).
    intensity : (n, y, x) or (y, x) ndarray
        The image to measure, one plane per labels plane (a single plane serves all).

    Returns
    -------
    labels : (n, y, x) ndarray
        The input labels.
    measurements : dict of 1-D ndarrays
        ``label``, ``area`` (pixels), ``mean_intensity``, ``min_intensity``,
        ``max_intensity``, ``integrated_intensity`` (sum over the object), ``centroid_y``,
        ``centroid_x`` (pixels), and ``plane`` when there are several planes.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((1, 4, 4), dtype=np.int32); labels[0, :2, :2] = 1
    >>> _, table = measure_objects(labels, intensity=np.full((4, 4), 2.0))
    >>> table["integrated_intensity"].tolist()
    [8.0]
    """
    from skimage.measure import regionprops_table

    stack = as_stack(np.asarray(labels), "labels")
    if not (np.issubdtype(stack.dtype, np.integer) or stack.dtype == bool):
        raise ValueError(f"measure_objects needs integer labels, got dtype {stack.dtype}")
    values = np.asarray(intensity)
    if values.ndim == 2:
        values = np.broadcast_to(values, stack.shape)
    if values.shape != stack.shape:
        raise ValueError(
            f"measure_objects: intensity of shape {values.shape} does not match labels of "
            f"shape {stack.shape}"
        )
    columns: dict[str, list] = {name: [] for name in (*_COLUMNS, "plane")}
    for index, (plane_labels, plane) in enumerate(zip(stack, values, strict=True)):
        props = regionprops_table(
            plane_labels.astype(np.int32, copy=False),
            intensity_image=plane,
            properties=(
                "label",
                "area",
                "intensity_mean",
                "intensity_min",
                "intensity_max",
                "centroid",
            ),
        )
        columns["label"].extend(props["label"])
        columns["area"].extend(props["area"])
        columns["mean_intensity"].extend(props["intensity_mean"])
        columns["min_intensity"].extend(props["intensity_min"])
        columns["max_intensity"].extend(props["intensity_max"])
        columns["integrated_intensity"].extend(
            np.asarray(props["intensity_mean"], dtype=np.float64) * props["area"]
        )
        columns["centroid_y"].extend(props["centroid-0"])
        columns["centroid_x"].extend(props["centroid-1"])
        columns["plane"].extend([index] * len(props["label"]))
    if stack.shape[0] == 1:
        del columns["plane"]
    ints = ("label", "area", "plane")
    table = {
        name: np.asarray(v, dtype=np.int64 if name in ints else np.float64)
        for name, v in columns.items()
    }
    return np.asarray(labels), table
