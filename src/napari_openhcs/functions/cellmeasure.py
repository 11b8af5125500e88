"""CellProfiler's per-object measurements through ``cp_measure``, named as CellProfiler names them.

``cp_measure`` computes the measurements of CellProfiler's MeasureObject* modules as plain
functions of a label image and its pixels. This module chooses the families, scales the
pixels as CellProfiler does (uint8 / 255, uint16 / 65535, floats as given), and renames
the results to CellProfiler's column names, ``<Compartment>_<Family>_<Feature>[_<Channel>
[_<params>]]``::

    Area                     -> Cells_AreaShape_Area
    Intensity_MeanIntensity  -> Nuclei_Intensity_MeanIntensity_DNA
    Contrast_3_00_256        -> Cytoplasm_Texture_Contrast_Actin_3_00_256
    Granularity_1            -> Cells_Granularity_1_DNA
    RadialDistribution_FracAtD_1of4 -> Cells_RadialDistribution_FracAtD_DNA_1of4
    Correlation_Pearson      -> Cells_Correlation_Correlation_DNA_Actin
    Correlation_Manders_1/_2 -> Cells_Correlation_Manders_DNA_Actin / ..._Actin_DNA

The result is a ``pyarrow.Table``: ``ObjectNumber`` (the label) first, then one float64
column per feature, one row per object present in the labels.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from napari_openhcs.functions._cellprofiler import (
    MEASURE_CELLS_DECLARATION,
    scale_like_cellprofiler,
)
from napari_openhcs.memory.decorators import numpy
from napari_openhcs.registry.declare import declare

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["FAMILIES", "DEFAULT_FAMILIES", "measure_cells", "measure_shape", "object_features"]

#: Measurement families, cheapest first. ``sizeshape`` includes Zernike shape moments and
#: Feret diameters in 2-D; ``radial_zernikes`` are the intensity Zernikes of
#: MeasureObjectIntensityDistribution; ``colocalization`` needs two channels or more.
FAMILIES = (
    "intensity",
    "sizeshape",
    "neighbors",
    "texture",
    "granularity",
    "radial_distribution",
    "radial_zernikes",
    "colocalization",
)
#: What a step measures unless it asks for more: cheap and always meaningful.
DEFAULT_FAMILIES = ("intensity", "sizeshape")
#: The families cp_measure computes on volumes.
FAMILIES_3D = ("intensity", "sizeshape", "neighbors", "texture", "granularity")

_NEIGHBOR_METHODS = {
    "expand": "Expand until adjacent",
    "adjacent": "Adjacent",
    "within": "Within a specified distance",
}
_PARAMS = re.compile(r"^(?P<feature>[A-Za-z]+)_(?P<params>\d.*)$")


def _texture_name(key: str, channel: str) -> str:
    match = _PARAMS.match(key)
    if match is None:
        return f"Texture_{key}_{channel}"
    return f"Texture_{match['feature']}_{channel}_{match['params']}"


def _radial_name(key: str, channel: str) -> str:
    # RadialDistribution_<Feature>_<params>: the channel goes between feature and params.
    family, feature, params = key.split("_", 2)
    return f"{family}_{feature}_{channel}_{params}"


def _correlation_names(key: str, first: str, second: str) -> str:
    if key == "Correlation_Pearson":  # CellProfiler calls Pearson's r "Correlation"
        return f"Correlation_Correlation_{first}_{second}"
    if key.endswith("_1"):
        return f"{key[:-2]}_{first}_{second}"
    if key.endswith("_2"):
        return f"{key[:-2]}_{second}_{first}"
    return f"{key}_{first}_{second}"


def object_features(
    labels: np.ndarray,
    pixels: np.ndarray | None = None,
    *,
    compartment: str = "Cells",
    channels: Sequence[str] | None = None,
    families: Sequence[str] = DEFAULT_FAMILIES,
    volumetric: bool = False,
    legacy: bool = True,
    texture_scale: int = 3,
    gray_levels: int = 256,
    granularity_length: int = 16,
    radial_bins: int = 4,
    neighbor_method: str = "expand",
    neighbor_distance: int = 5,
) -> pa.Table:
    """CellProfiler measurements of every object in ``labels``, one row per object.

    Parameters
    ----------
    labels : (y, x) or (z, y, x) ndarray of int
        The objects; a ``(1, y, x)`` stack counts as 2-D unless ``volumetric``.
    pixels : ndarray, optional
        The channels to measure: ``(y, x)`` or ``(c, y, x)`` in 2-D, ``(z, y, x)`` or
        ``(c, z, y, x)`` in 3-D. Needed by every family except ``sizeshape`` and ``neighbors``.
    compartment : str
        The object set's name, the columns' first part (``Nuclei``, ``Cells``, ``Cytoplasm``).
    channels : sequence of str, optional
        One name per channel (the plate's channel names); ``C1``, ``C2``, ... by default.
    families : sequence of str
        Any of ``FAMILIES``; ``DEFAULT_FAMILIES`` (intensity, size and shape) by default.
    volumetric : bool
        Measure 3-D objects (``FAMILIES_3D`` only).
    legacy : bool
        CellProfiler's percentile convention for the quartiles, median and MAD
        (position ``n * q`` in the sorted values) rather than NumPy's ``(n - 1) * q``.
    texture_scale, gray_levels : int
        Haralick texture offset in pixels and grey levels (CellProfiler: 3 and 256).
    granularity_length : int
        Length of the granular spectrum (CellProfiler: 16).
    radial_bins : int
        Rings of the radial distribution (CellProfiler: 4).
    neighbor_method : {'expand', 'adjacent', 'within'}
        CellProfiler's neighbour definitions: expanded until adjacent, touching, or
        within ``neighbor_distance`` pixels.
    neighbor_distance : int
        Distance of ``neighbor_method='within'``.

    Returns
    -------
    pyarrow.Table
        ``ObjectNumber`` (int64), then float64 features named
        ``<compartment>_<Family>_<Feature>[_<channel>[_<params>]]``.

    Examples
    --------
    >>> labels = np.zeros((20, 20), dtype=np.int32); labels[5:10, 5:10] = 1
    >>> pixels = np.zeros((20, 20), dtype=np.uint8); pixels[5:10, 5:10] = 51
    >>> table = object_features(labels, pixels, channels=["DNA"])
    >>> round(table.column("Cells_Intensity_MeanIntensity_DNA")[0].as_py(), 12)
    0.2
    >>> table.column("Cells_AreaShape_Area").to_pylist()
    [25.0]
    """
    import pyarrow as pa
    from cp_measure.bulk import (
        get_core_measurements,
        get_core_measurements_3d,
        get_correlation_measurements,
        get_multimask_measurements,
    )
    from skimage.segmentation import relabel_sequential

    families = tuple(families)
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown measurement families {unknown}; choose from {FAMILIES}")
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers, got dtype {labels.dtype}")
    if not volumetric and labels.ndim == 3 and labels.shape[0] == 1:
        labels = labels[0]
    if labels.ndim != (3 if volumetric else 2):
        raise ValueError(
            f"labels of shape {labels.shape}: give one 2-D plane, or volumetric=True for 3-D"
        )
    if volumetric:
        flat = [f for f in families if f not in FAMILIES_3D]
        if flat:
            raise ValueError(f"cp_measure measures {flat} in 2-D only; drop them for volumes")
    planes = _channels(pixels, labels.shape)
    names = list(channels) if channels is not None else [f"C{i + 1}" for i in range(len(planes))]
    if len(names) != len(planes):
        raise ValueError(f"{len(planes)} channels but {len(names)} channel names: {names}")
    needs_pixels = [f for f in families if f not in ("sizeshape", "neighbors")]
    if needs_pixels and not planes:
        raise ValueError(f"families {needs_pixels} measure intensities: pass pixels")

    numbers = np.unique(labels)
    numbers = numbers[numbers > 0]
    columns: dict[str, np.ndarray] = {"ObjectNumber": numbers.astype(np.int64)}
    if numbers.size == 0:
        return pa.table(columns)
    masks = labels.astype(np.int32, copy=False)
    if int(numbers[-1]) != numbers.size:  # cp_measure needs labels 1..N without gaps
        masks = relabel_sequential(masks)[0]
    core = (
        get_core_measurements_3d(legacy=legacy, sanitize=False)
        if volumetric
        else get_core_measurements(legacy=legacy, sanitize=False)
    )
    scaled = [scale_like_cellprofiler(p) for p in planes]
    features: dict[str, np.ndarray] = {}

    if "sizeshape" in families:
        parts = ("sizeshape",) if volumetric else ("sizeshape", "zernike", "feret")
        for part in parts:
            for key, values in core[part](masks, None).items():
                features[f"AreaShape_{key}"] = values
    for name, plane in zip(names, scaled, strict=True):
        if "intensity" in families:
            for key, values in core["intensity"](masks, plane).items():
                features[f"{key}_{name}"] = values
        if "texture" in families:
            result = core["texture"](masks, plane, scale=texture_scale, gray_levels=gray_levels)
            for key, values in result.items():
                features[_texture_name(key, name)] = values
        if "granularity" in families:
            result = core["granularity"](masks, plane, granular_spectrum_length=granularity_length)
            for key, values in result.items():
                features[f"{key}_{name}"] = values
        if "radial_distribution" in families:
            result = core["radial_distribution"](masks, plane, bin_count=radial_bins)
            for key, values in result.items():
                features[_radial_name(key, name)] = values
        if "radial_zernikes" in families:
            for key, values in core["radial_zernikes"](masks, plane).items():
                features[_radial_name(key, name)] = values
    if "colocalization" in families:
        if len(scaled) < 2:
            raise ValueError("colocalization needs at least two channels")
        correlation = get_correlation_measurements(sanitize=False)
        scale_max = _scale_max(planes)
        for (i, first), (j, second) in itertools.combinations(enumerate(names), 2):
            for kind, func in correlation.items():
                extra = {"scale_max": scale_max} if kind == "costes" else {}
                result = func(pixels_1=scaled[i], pixels_2=scaled[j], masks=masks, **extra)
                for key, values in result.items():
                    features[_correlation_names(key, first, second)] = values
    if "neighbors" in families:
        if neighbor_method not in _NEIGHBOR_METHODS:
            raise ValueError(f"neighbor_method must be one of {tuple(_NEIGHBOR_METHODS)}")
        if numbers.size > 1:
            result = get_multimask_measurements()["neighbors"](
                masks,
                masks,
                distance_method=_NEIGHBOR_METHODS[neighbor_method],
                distance=neighbor_distance,
            )
        else:  # cp_measure 0.3 fails on a lone object; it has no neighbours
            result = _no_neighbors(neighbor_method, neighbor_distance)
        features.update(result)

    for key, values in features.items():
        values = np.asarray(values, dtype=np.float64).ravel()
        if values.size != numbers.size:
            raise RuntimeError(
                f"cp_measure returned {values.size} values of {key} for {numbers.size} objects"
            )
        columns[f"{compartment}_{key}"] = values
    return pa.table(columns)


def _no_neighbors(method: str, distance: int) -> dict[str, list[float]]:
    """CellProfiler's neighbour features of a single object: none touching, none closest."""
    scale = {"expand": "Expanded", "adjacent": "Adjacent"}.get(method, str(distance))
    zero = ("NumberOfNeighbors", "PercentTouching")
    missing = (
        "FirstClosestObjectNumber",
        "FirstClosestDistance",
        "SecondClosestObjectNumber",
        "SecondClosestDistance",
        "AngleBetweenNeighbors",
    )
    values = {f"Neighbors_{k}_{scale}": [0.0] for k in zero}
    values.update({f"Neighbors_{k}_{scale}": [float("nan")] for k in missing})
    return values


def _channels(pixels: np.ndarray | None, shape: tuple) -> list[np.ndarray]:
    """The channel planes of ``pixels`` matching a label image of ``shape``."""
    if pixels is None:
        return []
    pixels = np.asarray(pixels)
    if pixels.shape == shape:
        return [pixels]
    if pixels.ndim == len(shape) + 1 and pixels.shape[1:] == shape:
        return list(pixels)
    raise ValueError(f"pixels of shape {pixels.shape} do not match labels of shape {shape}")


def _scale_max(planes: list[np.ndarray]) -> int:
    """The acquisition grid Costes searches on: the integer dtype's maximum, or 65535 for
    float images (taken to be 16-bit data already scaled to 0-1)."""
    dtype = planes[0].dtype
    if all(p.dtype == dtype for p in planes) and np.issubdtype(dtype, np.unsignedinteger):
        return int(np.iinfo(dtype).max)
    return 65535


def measure_shape(labels: np.ndarray) -> pa.Table:
    """Size and shape of each object, without compartment prefix (``AreaShape_Area``, ...).

    Examples
    --------
    >>> labels = np.zeros((10, 10), dtype=np.int32); labels[2:5, 2:6] = 4
    >>> measure_shape(labels).column("AreaShape_Area").to_pylist()
    [12.0]
    """
    import pyarrow as pa

    table = object_features(labels, families=("sizeshape",), compartment="X")
    return pa.table({name.removeprefix("X_"): table.column(name) for name in table.column_names})


@declare(**MEASURE_CELLS_DECLARATION)
@numpy
def measure_cells(
    labels: np.ndarray,
    intensity: np.ndarray,
    *,
    compartment: str = "Cells",
    channels: tuple[str, ...] | None = None,
    families: tuple[str, ...] = DEFAULT_FAMILIES,
    volumetric: bool = False,
    legacy: bool = True,
) -> tuple[np.ndarray, pa.Table]:
    """Measure an object set with CellProfiler's measurements (through cp_measure).

    The labels pass through unchanged; the table has one row per object (see
    ``object_features`` for names, scaling and the families).

    Parameters
    ----------
    labels : (n, y, x) ndarray of int
        The objects: one plane, planes measured one by one, or a volume with
        ``volumetric``.
    intensity : ndarray
        The channels to measure: ``(c, y, x)`` for one plane (or ``(c, z, y, x)`` for a
        volume); for ``n`` planes, one intensity plane each.
    compartment : str
        The object set's name: ``Nuclei``, ``Cells``, ``Cytoplasm``, ...
    channels : tuple of str, optional
        The channels' names (the plate's), one per channel.
    families : tuple of str
        Measurement families: intensity, sizeshape (default), neighbors, texture,
        granularity, radial_distribution, radial_zernikes, colocalization.
    volumetric : bool
        Measure the stack as 3-D objects.
    legacy : bool
        CellProfiler's percentile convention for quartiles, median and MAD.

    Returns
    -------
    labels : ndarray
        The input labels.
    measurements : pyarrow.Table
        ``ObjectNumber`` and the features.

    Examples
    --------
    >>> labels = np.zeros((1, 8, 8), dtype=np.int32); labels[0, 2:6, 2:6] = 1
    >>> _, table = measure_cells(labels, np.full((1, 8, 8), 65535, np.uint16), channels=("DNA",))
    >>> table.column("Cells_Intensity_IntegratedIntensity_DNA").to_pylist()
    [16.0]
    """
    import pyarrow as pa

    labels = np.asarray(labels)
    intensity = np.asarray(intensity)
    options = dict(compartment=compartment, channels=channels, families=families, legacy=legacy)
    if volumetric or labels.ndim == 2 or labels.shape[0] == 1:
        return labels, object_features(labels, intensity, volumetric=volumetric, **options)
    # A stack of planes (objects numbered across it): each plane with its own intensity.
    if intensity.shape != labels.shape:
        raise ValueError(
            f"measure_cells: {labels.shape[0]} label planes need one intensity plane each; "
            f"got intensity of shape {intensity.shape} (or set volumetric=True)"
        )
    tables = [
        object_features(lab, pix, **options) for lab, pix in zip(labels, intensity, strict=True)
    ]
    measured = [t for t in tables if t.num_rows] or tables[:1]
    return labels, pa.concat_tables(measured)
