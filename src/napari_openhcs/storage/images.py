"""OME-Zarr images: write one image (with its labels) atomically, read it back lazily.

``write_image`` and ``write_labels`` are what the napari writer uses; the plate writer uses
the same ``write_multiscale`` for each field. Round trips are exact: the level 0 array holds
the data as given (same dtype, same values); extra levels are 2x-downsampled views in y, x.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from napari_openhcs.atomic import new_tmp_dir, swap_into_place
from napari_openhcs.errors import InputError
from napari_openhcs.storage import ngff as meta
from napari_openhcs.storage.planes import PlaneArray
from napari_openhcs.storage.zarrio import ensure_group, open_array, write_array, write_group

_AXIS_ORDER = "tczyx"


def check_axes(axes: str, ndim: int) -> str:
    """Check axis names against an array's dimensions and the NGFF ordering rules.

    NGFF images have 2 to 5 axes, in the order t, c, z, y, x (any of t, c, z may be absent).

    Raises
    ------
    InputError
        If ``axes`` does not fit.
    """
    axes = "".join(axes).lower()
    if len(axes) != ndim:
        raise InputError(f"axes {axes!r} name {len(axes)} dimensions but the data has {ndim}")
    if not axes.endswith("yx") or len(set(axes)) != len(axes) or not set(axes) <= set("tczyx"):
        raise InputError(f"axes {axes!r} must be a subset of 'tczyx' in that order, ending 'yx'")
    if list(axes) != sorted(axes, key=_AXIS_ORDER.index):
        raise InputError(f"axes {axes!r} must be in the order t, c, z, y, x")
    return axes


def label_axes(image_axes: str, label: np.ndarray) -> str:
    """Axes of a label array stored with an image: the image's, or the image's without ``c``."""
    if label.ndim == len(image_axes):
        return image_axes
    without_c = image_axes.replace("c", "")
    if "c" in image_axes and label.ndim == len(without_c):
        return without_c
    raise InputError(
        f"labels of shape {label.shape} do not fit an image with axes {image_axes!r} "
        "(give the same axes, with the channel axis of length 1 or left out)"
    )


def downsample2(data: np.ndarray, *, labels: bool = False) -> np.ndarray:
    """Halve y and x: the mean of 2x2 blocks for images, the top-left pixel for labels."""
    h, w = data.shape[-2] // 2, data.shape[-1] // 2
    if labels or data.dtype == np.bool_:
        return np.ascontiguousarray(data[..., : 2 * h : 2, : 2 * w : 2])
    cropped = data[..., : 2 * h, : 2 * w]
    blocks = cropped.reshape(*data.shape[:-2], h, 2, w, 2)
    mean = blocks.mean(axis=(-3, -1), dtype=np.float64 if data.dtype.itemsize > 4 else np.float32)
    if np.issubdtype(data.dtype, np.integer):
        mean = np.rint(mean)
    return mean.astype(data.dtype)


def n_levels_for(shape: Sequence[int], levels: int) -> int:
    """How many levels fit: each extra level needs at least 2 pixels in y and x to halve."""
    n = 1
    h, w = int(shape[-2]), int(shape[-1])
    while n < levels and h >= 2 and w >= 2:
        h, w = h // 2, w // 2
        n += 1
    return n


def write_multiscale(
    folder: Path,
    data: np.ndarray,
    *,
    axes: str,
    scale: Sequence[float],
    ngff: str,
    compressor: str,
    levels: int = 1,
    name: str | None = None,
    spatial_unit: str | None = "micrometer",
    channel_names: Sequence[str] | None = None,
    channel_colors: Sequence[str | None] | None = None,
    is_label: bool = False,
    shards: bool = False,
) -> None:
    """Write one multiscale image group (arrays ``0``, ``1``, ... and metadata) into ``folder``.

    Not atomic by itself: callers write into a temporary folder and rename it into place.
    """
    n = n_levels_for(data.shape, levels)
    level = data
    for k in range(n):
        if k:
            level = downsample2(level, labels=is_label)
        write_array(
            folder / str(k),
            level,
            dimension_names=list(axes),
            compressor=compressor,
            ngff=ngff,
            shards=shards,
        )
    body: dict = {
        "multiscales": meta.multiscales_metadata(
            ngff, axes, scale, n, name=name, spatial_unit=spatial_unit
        )
    }
    if is_label:
        body["image-label"] = meta.image_label_metadata(ngff)
    elif "c" in axes:
        n_channels = data.shape[axes.index("c")]
        window = None
        if not np.issubdtype(data.dtype, np.integer) and data.dtype != np.bool_:
            window = meta.dtype_window(data.dtype, data)
        body["omero"] = meta.omero_metadata(
            n_channels,
            data.dtype,
            channel_names=channel_names,
            channel_colors=channel_colors,
            window=window,
        )
    write_group(folder, meta.wrap(ngff, body), ngff=ngff, staged=True)


def write_label_images(
    folder: Path,
    labels: Mapping[str, np.ndarray],
    *,
    image_axes: str,
    scale: Sequence[float],
    ngff: str,
    compressor: str,
    levels: int,
    spatial_unit: str | None,
    existing: Sequence[str] = (),
    shards: bool = False,
) -> None:
    """Write ``labels/<name>`` groups and the ``labels`` group listing them into ``folder``.

    Like ``write_multiscale``, not atomic by itself: ``folder`` is a temporary folder that
    callers rename into place.
    """
    names = list(existing)
    for label_name, label in labels.items():
        label = np.asarray(label)
        check_label_name(label_name)
        if not (np.issubdtype(label.dtype, np.integer) or label.dtype == np.bool_):
            raise InputError(f"labels {label_name!r} must be integers, not {label.dtype}")
        axes = label_axes(image_axes, label)
        label_scale = [s for a, s in zip(image_axes, scale, strict=True) if a in axes]
        write_multiscale(
            folder / "labels" / label_name,
            label,
            axes=axes,
            scale=label_scale,
            ngff=ngff,
            compressor=compressor,
            levels=levels,
            name=label_name,
            spatial_unit=spatial_unit,
            is_label=True,
            shards=shards,
        )
        if label_name not in names:
            names.append(label_name)
    if names:
        write_group(folder / "labels", meta.wrap(ngff, {"labels": names}), ngff=ngff, staged=True)


def write_image_group(
    folder: Path,
    data: np.ndarray,
    labels: Mapping[str, np.ndarray] | None,
    *,
    axes: str,
    scale: Sequence[float],
    ngff: str,
    compressor: str,
    levels: int,
    spatial_unit: str | dict | None,
    shards: bool = False,
    name: str | None = None,
    channel_names: Sequence[str] | None = None,
    channel_colors: Sequence[str | None] | None = None,
) -> None:
    """Write an image and its ``labels`` (if any) with the same scale and storage settings.

    Like ``write_multiscale``, not atomic by itself: ``folder`` is a temporary folder that
    callers rename into place.
    """
    write_multiscale(
        folder,
        data,
        axes=axes,
        scale=scale,
        ngff=ngff,
        compressor=compressor,
        levels=levels,
        name=name,
        spatial_unit=spatial_unit,
        channel_names=channel_names,
        channel_colors=channel_colors,
        shards=shards,
    )
    if labels:
        write_label_images(
            folder,
            labels,
            image_axes=axes,
            scale=scale,
            ngff=ngff,
            compressor=compressor,
            levels=levels,
            spatial_unit=spatial_unit,
            shards=shards,
        )


def check_label_name(name: str) -> str:
    """Label names become folder names: letters, digits, ``-``, ``_`` and ``.`` only."""
    ok = name and name not in (".", "..") and not name.startswith(".")
    if not ok or not all(ch.isalnum() or ch in "-_." for ch in name):
        raise InputError(f"label name {name!r} must be letters, digits, '-', '_' or '.'")
    return name


def write_image(
    path: str | Path,
    data: np.ndarray,
    *,
    axes: str,
    channel_names: Sequence[str] | None = None,
    channel_colors: Sequence[str | None] | None = None,
    scale: Sequence[float] | None = None,
    labels: Mapping[str, np.ndarray] | None = None,
    ngff: str = "0.5",
    compressor: str = "lz4",
    levels: int = 1,
    spatial_unit: str | None = "micrometer",
    overwrite: bool = False,
) -> Path:
    """Write an OME-Zarr image (and optional labels) to ``path``, atomically.

    Parameters
    ----------
    path : str or Path
        The image group to create, e.g. ``cells.ome.zarr``.
    data : ndarray
        The image; its axes are named by ``axes``.
    axes : str
        Axis names in NGFF order, e.g. ``"yx"``, ``"czyx"``, ``"tczyx"``.
    channel_names, channel_colors : sequence of str, optional
        Per channel (only with a ``c`` axis); colours as ``RRGGBB`` hex or names.
    scale : sequence of float, optional
        Physical size of a pixel along each axis (micrometres for space); 1 when not given.
    labels : dict of str to ndarray, optional
        Integer label images, stored under ``labels/<name>``; same axes as the image, with
        the channel axis of length 1 or left out.
    ngff : {"0.5", "0.4"}
        OME-NGFF version (Zarr v3 or v2).
    compressor : {"lz4", "zstd", "gzip", "none"}
        Chunk compression (Blosc-LZ4 by default).
    levels : int
        Resolution levels to write (each halves y and x).
    spatial_unit : str or None
        Unit of the space axes; ``None`` leaves it out (pixel size unknown).
    overwrite : bool
        Replace an existing ``path``; without it an existing path is an error.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    InputError
        For axes that do not fit the data, bad labels, or an existing ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "img.ome.zarr"
    >>> _ = write_image(p, np.zeros((2, 32, 32), np.uint16), axes="cyx", channel_names=["a", "b"])
    >>> levels, info = read_image(p)
    >>> levels[0].shape, info["channel_names"]
    ((2, 32, 32), ['a', 'b'])
    """
    path = Path(path)
    data = np.asarray(data)
    axes = check_axes(axes, data.ndim)
    ngff = meta.check_ngff(ngff)
    compressor = meta.check_compressor(compressor)
    scale = _check_scale(scale, axes)
    if path.exists() and not overwrite:
        raise InputError(f"{path} already exists (choose another name or allow overwriting)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_tmp_dir(path.parent, path.name)
    try:
        write_image_group(
            tmp,
            data,
            labels,
            axes=axes,
            scale=scale,
            ngff=ngff,
            compressor=compressor,
            levels=levels,
            name=path.name.removesuffix(".zarr").removesuffix(".ome"),
            spatial_unit=spatial_unit,
            channel_names=channel_names,
            channel_colors=channel_colors,
        )
        swap_into_place(tmp, path)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return path


def write_labels(
    path: str | Path,
    labels: Mapping[str, np.ndarray],
    *,
    compressor: str = "lz4",
) -> Path:
    """Add (or replace) label images under ``labels/`` of the existing OME-Zarr image ``path``.

    Each label image is written to a temporary folder and renamed into place; then the
    ``labels`` list is rewritten atomically. Axes, scale, levels and NGFF version follow
    the image.

    Raises
    ------
    InputError
        If ``path`` is not an OME-Zarr image or the labels do not fit it.
    """
    path = Path(path)
    info = meta.image_metadata(path)
    ngff, axes, scale = info["ngff"], info["axes"], info["scale"]
    compressor = meta.check_compressor(compressor)
    unit = info["units"].get("y")
    labels_dir = path / "labels"
    ensure_group(labels_dir, ngff=ngff)
    existing = list(meta.unwrap(meta.read_group_attrs(labels_dir) or {})[0].get("labels", []))
    for label_name, label in labels.items():
        check_label_name(label_name)
        tmp = new_tmp_dir(labels_dir, label_name)
        try:
            write_label_images(
                tmp,
                {label_name: label},
                image_axes=axes,
                scale=scale,
                ngff=ngff,
                compressor=compressor,
                levels=info["levels"],
                spatial_unit=unit,
            )
            swap_into_place(tmp / "labels" / label_name, labels_dir / label_name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if label_name not in existing:
            existing.append(label_name)
    write_group(labels_dir, meta.wrap(ngff, {"labels": existing}), ngff=ngff)
    return path


def _check_scale(scale: Sequence[float] | None, axes: str) -> list[float]:
    if scale is None:
        return [1.0] * len(axes)
    scale = [float(s) for s in scale]
    if len(scale) != len(axes) or not all(s > 0 and np.isfinite(s) for s in scale):
        raise InputError(f"scale {scale} must give one positive number per axis of {axes!r}")
    return scale


def read_image(path: str | Path) -> tuple[list, dict]:
    """Open an OME-Zarr image (or label image) lazily.

    Parameters
    ----------
    path : str or Path
        The image group (``.../0`` of a plate field, a ``write_image`` output, or a label
        image ``.../labels/<name>``).

    Returns
    -------
    levels : list of dask.array.Array
        One array per resolution level, full resolution first, chunked one plane per chunk.
    info : dict
        ``axes`` (e.g. ``"tczyx"``), ``scale`` (level 0, per axis), ``units`` (axis -> unit),
        ``channel_names``, ``channel_colors`` (``RRGGBB``), ``contrast_limits``, ``kind``
        (``"image"`` or ``"labels"``), ``labels`` (names under ``labels/``), ``ngff``,
        ``name``, ``levels``, ``paths``.

    Raises
    ------
    InputError
        If ``path`` is not an OME-Zarr image.
    """
    import dask.array as da  # lazy: heavy, and only readers for napari need it

    path = Path(path)
    info = meta.image_metadata(path)
    levels = []
    for p in info["paths"]:
        array = open_array(path / p)
        if isinstance(array, PlaneArray):  # plane chunks read directly (see storage.planes)
            levels.append(
                da.from_array(
                    array,
                    chunks=array.chunks,
                    asarray=False,
                    lock=False,
                    fancy=False,
                    name=array.token,
                    meta=np.empty((0,) * array.ndim, array.dtype),
                )
            )
        else:
            levels.append(da.from_zarr(array, chunks=array.chunks))
    labels_attrs = meta.read_group_attrs(path / "labels")
    info["labels"] = list(meta.unwrap(labels_attrs or {})[0].get("labels", []))
    return levels, info
