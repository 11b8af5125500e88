"""Low-level Zarr I/O: group metadata files, arrays with one chunk per plane, opening arrays.

Group metadata is written by hand (it is a small JSON file) so that it can be replaced
atomically (``napari_openhcs.atomic``). Arrays are written into folders that are not yet
visible (a temporary folder later renamed into place), so a reader never sees a
half-written image.

``open_array`` is the one way the package opens a Zarr array: the direct plane reader
(``storage.planes``) for the plane-chunked layouts it reads exactly, zarr-python for any other.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from napari_openhcs import atomic
from napari_openhcs.storage.ngff import (
    V2_GROUP,
    check_compressor,
    check_shards,
    group_documents,
    read_array_meta,
    read_group_attrs,
    zarr_format,
)
from napari_openhcs.storage.planes import PlaneArray


def write_group(path: Path, attributes: dict, *, ngff: str, staged: bool = False) -> None:
    """Create or update a Zarr group at ``path`` holding ``attributes`` (replaced whole).

    Its metadata files are replaced atomically and durably (``atomic.write_json``). With
    ``staged`` the group lies inside a temporary folder that is renamed into place whole
    later (a field, a label image): its files are written plainly, as its arrays are, since
    the rename is what makes them appear.
    """
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for name, doc in group_documents(attributes, ngff=ngff):
        if name == V2_GROUP and (path / name).is_file():
            continue  # the v2 group marker never changes
        if staged:
            (path / name).write_text(json.dumps(doc, indent=2, allow_nan=False), "utf-8")
        else:
            atomic.write_json(path / name, doc)


def ensure_group(path: Path, *, ngff: str) -> None:
    """Make ``path`` a Zarr group without attributes unless it already is one."""
    if read_group_attrs(path) is None:
        write_group(path, {}, ngff=ngff)


def open_array(path: str | Path, *, mode: str = "r"):
    """The Zarr array at ``path``: a ``PlaneArray`` when its layout allows, else zarr-python's.

    The choice is made from the array's own metadata, read once: plane-chunked arrays with
    the codecs ``storage.planes`` reads exactly go through it (several times faster per
    plane, see ``benchmarks/zarr_read_bench.py``), anything else through ``zarr.open_array``
    with ``mode``. Both index like numpy arrays with basic slices and have ``shape``,
    ``dtype`` and ``chunks``.
    """
    try:
        found = read_array_meta(path)
    except (OSError, ValueError, KeyError, TypeError):
        found = None  # zarr-python says what is wrong with it
    direct = PlaneArray.from_meta(path, found) if found is not None else None
    if direct is not None:
        return direct
    import zarr  # lazy: heavy, and not needed for the arrays this package writes

    return zarr.open_array(str(path), mode=mode)


def codecs_for(compressor: str, ngff: str):
    """The zarr-python ``compressors`` argument for a compressor name and NGFF version.

    Blosc uses byte shuffle; LZ4 (the default) is the fastest, zstd compresses better.
    """
    name = check_compressor(compressor)
    if name == "none":
        return None
    if zarr_format(ngff) == 3:
        from zarr.codecs import BloscCodec, GzipCodec

        if name == "gzip":
            return GzipCodec(level=5)
        return BloscCodec(cname=name, clevel=5 if name == "lz4" else 3, shuffle="shuffle")
    from numcodecs import GZip
    from numcodecs.blosc import Blosc

    if name == "gzip":
        return GZip(level=5)
    return Blosc(cname=name, clevel=5 if name == "lz4" else 3, shuffle=Blosc.SHUFFLE)


def plane_chunks(shape: Sequence[int]) -> tuple[int, ...]:
    """One chunk per image plane: 1 along every axis but the last two (whole 0-D/1-D arrays)."""
    if len(shape) < 2:
        return tuple(max(1, int(s)) for s in shape)
    return tuple([1] * (len(shape) - 2) + [max(1, int(s)) for s in shape[-2:]])


def write_array(
    path: Path,
    data: np.ndarray,
    *,
    dimension_names: Sequence[str],
    compressor: str,
    ngff: str,
    shards: bool = False,
) -> None:
    """Write ``data`` as a new Zarr array at ``path``, one chunk per plane, in one call.

    With ``shards`` (NGFF 0.5 / Zarr v3 only) the planes are inner chunks of one shard file
    for the whole array: still one chunk per plane to read, but one file instead of one per
    plane and its folders.

    The array's metadata is what zarr-python writes for it (made once per shape, dtype and
    codec, then reused); the chunks are written directly (``storage.planes``) when the
    layout allows, else by zarr-python.
    """
    data = np.ascontiguousarray(data)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for name, content in _array_metadata(
        tuple(data.shape), data.dtype.str, tuple(dimension_names), compressor, ngff, shards
    ):
        (path / name).write_bytes(content)
    if not data.size:
        return
    array = open_array(path, mode="r+")
    if isinstance(array, PlaneArray):
        array.write_all(data)  # chunk files written directly, with zarr's own codecs
    else:
        array[...] = data


@functools.lru_cache(maxsize=128)
def _array_metadata(
    shape: tuple, dtype: str, dimension_names: tuple, compressor: str, ngff: str, shards: bool
) -> tuple[tuple[str, bytes], ...]:
    """The metadata files zarr-python writes for an empty plane-chunked array: ``(name,
    content)`` pairs, made in a scratch folder once per distinct array description."""
    import tempfile

    import zarr

    check_shards(shards, ngff)
    fmt = zarr_format(ngff)
    kwargs: dict = {}
    if fmt == 3:
        kwargs["dimension_names"] = list(dimension_names)
        if shards:
            kwargs["shards"] = tuple(max(1, int(n)) for n in shape)
    else:
        kwargs["chunk_key_encoding"] = {"name": "v2", "separator": "/"}
    with tempfile.TemporaryDirectory(prefix="openhcs-meta-") as scratch:
        zarr.create_array(
            store=scratch,
            shape=shape,
            chunks=plane_chunks(shape),
            dtype=np.dtype(dtype),
            compressors=codecs_for(compressor, ngff),
            filters=None,
            fill_value=0,
            zarr_format=fmt,
            overwrite=True,
            **kwargs,
        )
        return tuple(
            (entry.name, Path(entry.path).read_bytes())
            for entry in sorted(os.scandir(scratch), key=lambda e: e.name)
            if entry.is_file()
        )
