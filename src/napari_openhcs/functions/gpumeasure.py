"""Intensity and size/shape of objects on a GPU, named as CellProfiler names them where the
definitions agree.

Two backends reduce a label image (and its channels) to a few per-object numbers, and this
module turns those into CellProfiler's features, the same names and definitions as
:func:`napari_openhcs.functions.measure_cells` (cp_measure on the CPU):

- ``napari_openhcs.functions.pyclesperanto.measure_cells``: pyclesperanto's
  ``labels_statistics`` (the successor of ``statistics_of_labelled_pixels``) on an OpenCL
  or CUDA device, in float32;
- ``napari_openhcs.functions.cupy.measure_cells``: ``cupy.bincount`` sums and
  ``cupyx.scipy.ndimage.extrema`` on an NVIDIA GPU, in float64
  (:func:`array_statistics`, which runs the same code on NumPy and SciPy too).

Pixels are scaled as CellProfiler scales them (uint8 / 255, uint16 / 65535, floats as
given). Features, with the CPU path's names (``<Compartment>_AreaShape_<F>``,
``<Compartment>_Intensity_<F>_<channel>``, ``<Compartment>_Location_<F>_<channel>``):

- size and shape: ``Area``, ``BoundingBoxArea``, ``BoundingBoxMinimum_X/_Y``,
  ``BoundingBoxMaximum_X/_Y`` (one past the last pixel, as scikit-image and CellProfiler
  count), ``Center_X/_Y``, ``EquivalentDiameter`` (``sqrt(4 area / pi)``), ``Extent``
  (area over bounding-box area); with CuPy also ``MajorAxisLength``, ``MinorAxisLength``,
  ``Eccentricity`` and ``Orientation`` (second central moments summed on the GPU, turned
  into axes by cp_measure's own functions);
- intensity, per channel: ``IntegratedIntensity``, ``MeanIntensity``, ``StdIntensity``
  (population standard deviation), ``MinIntensity``, ``MaxIntensity``,
  ``MassDisplacement`` (distance from the centroid to the intensity-weighted centre) and
  ``Location_CenterMassIntensity_X/_Y/_Z`` (``_Z`` is 0 in 2-D; all NaN for an object
  whose intensities sum to 0, as in cp_measure).

Where the GPU path differs (see docs/performance.md, "GPU measurements"):

- not computed: the quartiles, median and MAD, the edge intensities and
  ``Location_MaxIntensity_*`` of the intensity family; perimeter, form factor, solidity,
  convex and filled areas, Euler number, radii, moments, Zernike moments and Feret
  diameters of the size and shape family (and, with pyclesperanto, the axes,
  eccentricity and orientation). Use ``measure_cells`` (the CPU) for those, for the other
  families and for volumes (the GPU path is 2-D).
- precision: the CuPy backend sums in float64 (equal to cp_measure within 1e-9 relative);
  pyclesperanto sums in float32 (within 1e-4 relative for sums, means, standard deviations
  and weighted centres, 2e-3 px for ``MassDisplacement``, a difference of two float32
  positions; minima, maxima, areas and boxes are exact).
- NaN pixels: cp_measure leaves them out of an object's statistics; here an object holding
  one gets NaN sums, means, standard deviations, weighted centres and mass displacement (its
  minimum and maximum skip the NaN or return it, depending on the backend).
- pyclesperanto's own shape descriptors, which CellProfiler does not have (its
  ``MeanRadius`` and ``MaximumRadius`` are distances to the object's edge, not to its
  centroid), are named ``<Compartment>_Clesperanto_<Feature>``: ``MeanDistanceToCentroid``,
  ``MaxDistanceToCentroid``, ``MeanMaxDistanceToCentroidRatio``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from napari_openhcs import tables

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "GPU_FAMILIES",
    "INTENSITY_FEATURES",
    "SIZESHAPE_FEATURES",
    "array_statistics",
    "feature_table",
    "measure_planes",
    "pixel_scale",
]

#: The families the GPU path measures (``measure_cells``' default families).
GPU_FAMILIES = ("intensity", "sizeshape")
#: Size and shape features, as ``AreaShape_<name>``: the same definitions as cp_measure's.
SIZESHAPE_FEATURES = (
    "Area",
    "BoundingBoxArea",
    "BoundingBoxMaximum_X",
    "BoundingBoxMaximum_Y",
    "BoundingBoxMinimum_X",
    "BoundingBoxMinimum_Y",
    "Center_X",
    "Center_Y",
    "EquivalentDiameter",
    "Extent",
)
#: Intensity features per channel (``<name>_<channel>``): the same definitions as cp_measure's.
INTENSITY_FEATURES = (
    "Intensity_IntegratedIntensity",
    "Intensity_MeanIntensity",
    "Intensity_StdIntensity",
    "Intensity_MinIntensity",
    "Intensity_MaxIntensity",
    "Intensity_MassDisplacement",
    "Location_CenterMassIntensity_X",
    "Location_CenterMassIntensity_Y",
    "Location_CenterMassIntensity_Z",
)
#: What a backend returns for the objects of one plane: host float64 arrays, one value per
#: object, under these keys (``numbers``: the labels; the box is inclusive here).
SHAPE_KEYS = ("area", "min_x", "max_x", "min_y", "max_y", "center_x", "center_y")
#: Optional (the CuPy backend): the second central moments, rows ``y`` first (``mu20`` is
#: the sum of squared ``y`` deviations), from which cp_measure's own primitives derive the axes.
MOMENT_KEYS = ("mu20", "mu11", "mu02")
#: Size and shape features from the moments, with cp_measure's names and definitions.
MOMENT_FEATURES = ("MajorAxisLength", "MinorAxisLength", "Eccentricity", "Orientation")
#: Per channel: sum, mean, population std, min, max (scaled) and the intensity-weighted centre.
CHANNEL_KEYS = ("sum", "mean", "std", "min", "max", "mass_x", "mass_y")


def pixel_scale(dtype: Any) -> float:
    """What CellProfiler divides pixels of ``dtype`` by: the integer maximum, else 1.

    Examples
    --------
    >>> pixel_scale(np.uint16), pixel_scale(np.float32)
    (65535.0, 1.0)
    """
    dtype = np.dtype(dtype)
    if np.issubdtype(dtype, np.integer):
        return float(np.iinfo(dtype).max)
    return 1.0


def check_families(families: Sequence[str]) -> tuple[str, ...]:
    """``families`` as a tuple, refusing those the GPU path does not measure."""
    families = tuple(families)
    other = [f for f in families if f not in GPU_FAMILIES]
    if other:
        raise ValueError(
            f"the GPU measurements cover {GPU_FAMILIES} only, not {other}; measure those "
            "with napari_openhcs.functions.measure_cells (cp_measure on the CPU)"
        )
    return families


def plane_jobs(
    labels_shape: tuple, pixels_shape: tuple | None
) -> list[tuple[int | None, tuple[int | None, ...]]]:
    """Which label plane goes with which pixel planes, as ``measure_cells`` pairs them.

    Each job is ``(label plane index, pixel plane indices)``; ``None`` means the whole
    array. One label plane (``(y, x)`` or ``(1, y, x)``) is measured in every channel of
    ``(y, x)`` or ``(c, y, x)`` pixels; a stack of ``n`` label planes each in its own plane
    of ``(n, y, x)`` pixels.
    """
    labels_shape = tuple(labels_shape)
    if len(labels_shape) not in (2, 3):
        raise ValueError(f"labels of shape {labels_shape}: give (y, x) or (n, y, x) planes")
    plane = labels_shape[-2:]
    single = len(labels_shape) == 2 or labels_shape[0] == 1
    first = None if len(labels_shape) == 2 else 0
    if pixels_shape is None:
        if single:
            return [(first, ())]
        return [(i, ()) for i in range(labels_shape[0])]
    pixels_shape = tuple(pixels_shape)
    if single and pixels_shape == plane:
        return [(first, (None,))]
    if single and len(pixels_shape) == 3 and pixels_shape[1:] == plane:
        return [(first, tuple(range(pixels_shape[0])))]
    if not single and pixels_shape == labels_shape:
        return [(i, (i,)) for i in range(labels_shape[0])]
    raise ValueError(
        f"pixels of shape {pixels_shape} do not match labels of shape {labels_shape}: give "
        "(c, y, x) channels for one label plane, or one pixel plane per label plane "
        "(the GPU path measures 2-D planes, not volumes)"
    )


def _divide(top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """``top / bottom``, NaN where ``bottom`` is 0."""
    out = np.full(np.shape(top), np.nan)
    np.divide(top, bottom, out=out, where=bottom != 0)
    return out


def feature_table(
    stats: dict[str, Any],
    channels: Sequence[str],
    *,
    compartment: str,
    families: Sequence[str],
) -> pa.Table:
    """CellProfiler's features from a backend's per-object statistics of one plane.

    ``stats`` holds ``numbers`` (the labels), the :data:`SHAPE_KEYS`, ``channels`` (one
    dict of :data:`CHANNEL_KEYS` per channel) and optionally ``extra`` (feature name to
    values, for features CellProfiler does not define). Returns ``ObjectNumber`` then
    float64 columns, in the CPU path's order (size and shape, then each channel).
    """
    columns: dict[str, np.ndarray] = {"ObjectNumber": np.asarray(stats["numbers"], dtype=np.int64)}
    if columns["ObjectNumber"].size == 0:
        return tables.as_table(columns)
    s = {k: np.asarray(stats[k], dtype=np.float64) for k in SHAPE_KEYS}
    features: dict[str, np.ndarray] = {}
    if "sizeshape" in families:
        # CellProfiler (through scikit-image) counts the box's maximum one past the last pixel.
        max_x, max_y = s["max_x"] + 1.0, s["max_y"] + 1.0
        box = (max_x - s["min_x"]) * (max_y - s["min_y"])
        shape = {
            "Area": s["area"],
            "BoundingBoxArea": box,
            "BoundingBoxMaximum_X": max_x,
            "BoundingBoxMaximum_Y": max_y,
            "BoundingBoxMinimum_X": s["min_x"],
            "BoundingBoxMinimum_Y": s["min_y"],
            "Center_X": s["center_x"],
            "Center_Y": s["center_y"],
            "EquivalentDiameter": np.sqrt(4.0 * s["area"] / math.pi),
            "Extent": s["area"] / box,
        }
        if all(k in stats for k in MOMENT_KEYS):
            shape.update(_axes(s["area"], *(stats[k] for k in MOMENT_KEYS)))
        features.update({f"AreaShape_{k}": v for k, v in shape.items()})
        features.update(stats.get("extra", {}))
    if "intensity" in families:
        for name, c in zip(channels, stats["channels"], strict=True):
            c = {k: np.asarray(c[k], dtype=np.float64) for k in CHANNEL_KEYS}
            # cp_measure: the weighted centre is NaN where the intensities sum to 0.
            valid = c["sum"] != 0
            mass_x = np.where(valid, c["mass_x"], np.nan)
            mass_y = np.where(valid, c["mass_y"], np.nan)
            values = {
                "Intensity_IntegratedIntensity": c["sum"],
                "Intensity_MeanIntensity": c["mean"],
                "Intensity_StdIntensity": c["std"],
                "Intensity_MinIntensity": c["min"],
                "Intensity_MaxIntensity": c["max"],
                "Intensity_MassDisplacement": np.hypot(
                    mass_x - s["center_x"], mass_y - s["center_y"]
                ),
                "Location_CenterMassIntensity_X": mass_x,
                "Location_CenterMassIntensity_Y": mass_y,
                "Location_CenterMassIntensity_Z": np.where(np.isnan(mass_x), np.nan, 0.0),
            }
            features.update({f"{k}_{name}": v for k, v in values.items()})
    for key, values in features.items():
        columns[f"{compartment}_{key}"] = np.asarray(values, dtype=np.float64).ravel()
    # Over the arrays' buffers: pa.table on NumPy arrays imports pandas (0.3 s per process).
    return tables.as_table(columns)


def _axes(area, mu20, mu11, mu02) -> dict[str, np.ndarray]:
    """Axis lengths, eccentricity and orientation (degrees) from the central moments, by
    cp_measure's own functions (so the definitions are CellProfiler's exactly)."""
    # cp_measure documents its primitives as imported from their modules (no public API).
    from cp_measure.primitives._moments import axes_eccentricity_orientation, inertia_2d

    central = np.zeros((np.size(area), 3, 3))
    central[:, 0, 0] = area
    central[:, 2, 0], central[:, 1, 1], central[:, 0, 2] = mu20, mu11, mu02
    major, minor, eccentricity, orientation = axes_eccentricity_orientation(inertia_2d(central))
    return {
        "MajorAxisLength": major,
        "MinorAxisLength": minor,
        "Eccentricity": eccentricity,
        "Orientation": orientation * (180 / np.pi),
    }


def measure_planes(
    labels: Any,
    pixels: Any | None,
    statistics: Callable[[Any, list], dict[str, Any]],
    take: Callable[[Any, int], Any],
    *,
    compartment: str = "Cells",
    channels: Sequence[str] | None = None,
    families: Sequence[str] = GPU_FAMILIES,
) -> pa.Table:
    """Measure every label plane of ``labels`` with a backend's ``statistics``.

    ``statistics(label_plane, pixel_planes)`` returns the per-object statistics of one
    plane (see :func:`feature_table`); ``take(array, i)`` is the backend's ``array[i]``.
    Planes and channels pair as :func:`plane_jobs` says; the tables of several planes are
    concatenated (objects keep their label numbers).
    """
    import pyarrow as pa

    families = check_families(families)
    if np.dtype(labels.dtype).kind not in "iu":
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if "intensity" in families and pixels is None:
        raise ValueError("the intensity family needs pixels: pass intensity")
    if "intensity" not in families:
        pixels = None
    jobs = plane_jobs(labels.shape, None if pixels is None else pixels.shape)
    count = len(jobs[0][1])
    names = list(channels) if channels is not None else [f"C{i + 1}" for i in range(count)]
    if pixels is not None and len(names) != count:
        raise ValueError(f"{count} channels but {len(names)} channel names: {names}")
    tables = []
    for index, planes in jobs:
        plane = labels if index is None else take(labels, index)
        channel_planes = [pixels if i is None else take(pixels, i) for i in planes]
        stats = statistics(plane, channel_planes)
        tables.append(feature_table(stats, names, compartment=compartment, families=families))
    measured = [t for t in tables if t.num_rows] or tables[:1]
    return pa.concat_tables(measured)


def _host(x: Any) -> np.ndarray:
    """A CuPy (``.get()``) or NumPy array on the host."""
    return x.get() if hasattr(x, "get") and not isinstance(x, np.ndarray) else np.asarray(x)


def array_statistics(labels: Any, planes: list, xp: Any, ndi: Any) -> dict[str, Any]:
    """Per-object statistics of one label plane with an array library ``xp`` and its
    ``ndimage`` (CuPy with ``cupyx.scipy.ndimage``, or NumPy with ``scipy.ndimage``).

    Sums, centroids, second central moments and the two-pass variance come from
    ``xp.bincount`` in float64 (the pixels scaled first, as CellProfiler scales them);
    minima, maxima and the bounding box from ``ndi.extrema``. Everything per object is moved to the host in one transfer.

    Examples
    --------
    >>> from scipy import ndimage
    >>> labels = np.zeros((4, 5), dtype=np.int32); labels[1:3, 1:4] = 7
    >>> stats = array_statistics(labels, [], np, ndimage)
    >>> stats["numbers"].tolist(), stats["area"].tolist(), stats["max_x"].tolist()
    ([7], [6.0], [3.0])
    """
    if labels.ndim != 2:
        raise ValueError(f"one 2-D label plane expected, got shape {labels.shape}")
    flat = labels.ravel().astype(xp.int64, copy=False)
    if flat.size == 0 or int(flat.max()) <= 0:
        return {"numbers": np.zeros(0, np.int64)}
    if int(flat.min()) < 0:
        raise ValueError("labels must not be negative")
    size = int(flat.max()) + 1
    counts = xp.bincount(flat, minlength=size)
    numbers = xp.nonzero(counts[1:])[0] + 1
    area = counts[numbers].astype(xp.float64)
    yy, xx = xp.indices(labels.shape, dtype=xp.float64)

    def per_object(weights):
        return xp.bincount(flat, weights=weights.ravel(), minlength=size)

    def extrema(values):
        # One sort of the pixels by label and value gives both (ndimage.extrema).
        low, high = ndi.extrema(values, labels, numbers)[:2]
        return xp.asarray(low, dtype=xp.float64), xp.asarray(high, dtype=xp.float64)

    safe = xp.maximum(counts, 1).astype(xp.float64)
    centre_x, centre_y = per_object(xx) / safe, per_object(yy) / safe
    # Second central moments by centred sums (as cp_measure; raw moments would cancel).
    dx, dy = xx.ravel() - centre_x[flat], yy.ravel() - centre_y[flat]
    rows = [area, *extrema(xx), *extrema(yy), centre_x[numbers], centre_y[numbers]]
    rows += [per_object(dy * dy)[numbers], per_object(dy * dx)[numbers]]
    rows.append(per_object(dx * dx)[numbers])
    for plane in planes:
        p = plane.astype(xp.float64) / pixel_scale(plane.dtype)
        sums = per_object(p)
        deviation = p.ravel() - (sums / safe)[flat]
        total = sums[numbers]
        nonzero = xp.where(total != 0, total, 1.0)
        rows += [
            total,
            total / area,
            xp.sqrt(per_object(deviation * deviation)[numbers] / area),
            *extrema(p),
            per_object(p * xx)[numbers] / nonzero,
            per_object(p * yy)[numbers] / nonzero,
        ]
    values = _host(xp.stack(rows))
    stats: dict[str, Any] = {"numbers": _host(numbers).astype(np.int64)}
    keys = SHAPE_KEYS + MOMENT_KEYS
    stats.update(zip(keys, values[: len(keys)], strict=True))
    rest = values[len(keys) :]
    stats["channels"] = [
        dict(zip(CHANNEL_KEYS, rest[i : i + len(CHANNEL_KEYS)], strict=True))
        for i in range(0, len(rest), len(CHANNEL_KEYS))
    ]
    return stats
