"""Measuring labelled objects in an intensity image, e.g. a marker channel under nuclei."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from napari_openhcs.functions._stack import as_stack
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare
from napari_openhcs.tables import as_table

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["measure_objects"]

# Which ``regionprops_table`` properties each table column needs.
_PROPERTIES = {
    "label": ("label",),
    "area": ("area",),
    "mean_intensity": ("intensity_mean",),
    "min_intensity": ("intensity_min",),
    "max_intensity": ("intensity_max",),
    "integrated_intensity": ("intensity_mean", "area"),
    "centroid_y": ("centroid",),
    "centroid_x": ("centroid",),
}
_INTEGER_COLUMNS = ("label", "area", "plane")

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
def measure_objects(labels: np.ndarray, *, intensity: np.ndarray) -> tuple[np.ndarray, pa.Table]:
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
    measurements : pyarrow.Table
        ``label``, ``area`` (pixels), ``mean_intensity``, ``min_intensity``,
        ``max_intensity``, ``integrated_intensity`` (sum over the object), ``centroid_y``,
        ``centroid_x`` (pixels), and ``plane`` when there are several planes.

    Examples
    --------
    >>> import numpy as np
    >>> labels = np.zeros((1, 4, 4), dtype=np.int32); labels[0, :2, :2] = 1
    >>> _, table = measure_objects(labels, intensity=np.full((4, 4), 2.0))
    >>> table.column("integrated_intensity").to_pylist()
    [8.0]
    """
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
    table = object_table(stack, values, _COLUMNS)
    return np.asarray(labels), table


def object_table(labels: np.ndarray, intensity: np.ndarray, columns: tuple[str, ...]) -> pa.Table:
    """One row per object and plane of an ``(n, y, x)`` labels stack, measured in ``intensity``.

    ``columns`` are names from ``_PROPERTIES``; a ``plane`` column (the plane's index) follows
    them when the stack has more than one plane. ``label``, ``area`` and ``plane`` are int64,
    the rest float64. Both ``measure_objects`` and ``count_objects`` build their tables here,
    as a ``pyarrow.Table``.

    >>> labels = np.zeros((1, 3, 3), dtype=np.int32); labels[0, 0, :2] = 1
    >>> object_table(labels, np.ones((1, 3, 3)), ("label", "area")).column("area").to_pylist()
    [2]
    """
    from skimage.measure import regionprops_table

    wanted = tuple(dict.fromkeys(p for name in columns for p in _PROPERTIES[name]))
    parts: dict[str, list] = {name: [] for name in (*columns, "plane")}
    for index, (plane_labels, plane) in enumerate(zip(labels, intensity, strict=True)):
        props = regionprops_table(
            plane_labels.astype(np.int32, copy=False), intensity_image=plane, properties=wanted
        )
        for name in columns:
            parts[name].append(_column(name, props))
        parts["plane"].append(np.full(len(props["label"]), index, dtype=np.int64))
    if labels.shape[0] == 1:
        del parts["plane"]
    return as_table(
        {
            name: (np.concatenate(chunks) if chunks else np.zeros(0)).astype(
                np.int64 if name in _INTEGER_COLUMNS else np.float64, copy=False
            )
            for name, chunks in parts.items()
        }
    )


def _column(name: str, props: dict) -> np.ndarray:
    """The values of table column ``name`` from one plane's ``regionprops_table`` result."""
    if name == "integrated_intensity":
        return np.asarray(props["intensity_mean"], dtype=np.float64) * props["area"]
    if name == "centroid_y":
        return np.asarray(props["centroid-0"])
    if name == "centroid_x":
        return np.asarray(props["centroid-1"])
    return np.asarray(props[_PROPERTIES[name][0]])
