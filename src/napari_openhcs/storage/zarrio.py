"""Low-level Zarr I/O: group metadata files, arrays with one chunk per plane, atomic swaps.

Group metadata is written by hand (it is a small JSON file) so that it can be replaced
atomically: written under a temporary name in the same folder, then ``os.replace``\\ d.
Arrays are written with zarr-python 3 into folders that are not yet visible (a temporary
folder later renamed into place), so a reader never sees a half-written image.

Atomicity here is against a process that dies (crash, kill, Ctrl-C); files are not
``fsync``\\ ed, so a power loss may still lose recent writes.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from napari_openhcs.storage.ngff import check_compressor, check_shards, zarr_format

#: Prefix of temporary files and folders this package creates inside a Zarr hierarchy.
TMP_PREFIX = ".openhcs-tmp-"


def write_json_atomic(path: Path, obj: dict) -> None:
    """Write ``obj`` as JSON to ``path`` so that readers see the old or the new file, never half."""
    path = Path(path)
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}-{uuid.uuid4().hex}")
    try:
        tmp.write_text(json.dumps(obj, indent=2, allow_nan=False), encoding="utf-8")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_group(path: Path, attributes: dict, *, ngff: str) -> None:
    """Create or update a Zarr group at ``path`` holding ``attributes`` (replaced whole)."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    if zarr_format(ngff) == 3:
        doc = {"zarr_format": 3, "node_type": "group", "attributes": attributes}
        write_json_atomic(path / "zarr.json", doc)
    else:
        if not (path / ".zgroup").is_file():
            write_json_atomic(path / ".zgroup", {"zarr_format": 2})
        write_json_atomic(path / ".zattrs", attributes)


def ensure_group(path: Path, *, ngff: str) -> None:
    """Make ``path`` a Zarr group without attributes unless it already is one."""
    if read_group_attrs(path) is None:
        write_group(path, {}, ngff=ngff)


def read_group_attrs(path: Path) -> dict | None:
    """The attributes of the Zarr group at ``path`` (v3 or v2), or ``None`` if there is none."""
    path = Path(path)
    v3 = path / "zarr.json"
    if v3.is_file():
        doc = json.loads(v3.read_text(encoding="utf-8"))
        if doc.get("node_type") != "group":
            return None
        return dict(doc.get("attributes") or {})
    if (path / ".zgroup").is_file():
        attrs = path / ".zattrs"
        return json.loads(attrs.read_text(encoding="utf-8")) if attrs.is_file() else {}
    return None


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
    from napari_openhcs.storage.planes import open_fast

    data = np.ascontiguousarray(data)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    for name, content in _array_metadata(
        tuple(data.shape), data.dtype.str, tuple(dimension_names), compressor, ngff, shards
    ):
        (path / name).write_bytes(content)
    if not data.size:
        return
    direct = open_fast(path)
    if direct is not None:
        direct.write_all(data)  # chunk files written directly, with zarr's own codecs
    else:
        import zarr

        zarr.open_array(str(path), mode="r+")[...] = data


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


def new_tmp_dir(parent: Path, label: str) -> Path:
    """A fresh, empty temporary folder inside ``parent`` (same filesystem, so renames are atomic)."""
    tmp = Path(parent) / f"{TMP_PREFIX}{label}-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    return tmp


def swap_into_place(tmp: Path, target: Path) -> None:
    """Move the finished folder ``tmp`` to ``target``, replacing what was there.

    A missing ``target`` is a single atomic rename. An existing one is renamed aside first,
    so a reader sees the old folder, briefly nothing, then the new one; never a mixture.
    """
    tmp, target = Path(tmp), Path(target)
    if not target.exists():
        os.rename(tmp, target)
        return
    old = target.with_name(f"{TMP_PREFIX}old-{target.name}-{uuid.uuid4().hex}")
    os.rename(target, old)
    os.rename(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def remove_stale_tmp(folder: Path) -> list[str]:
    """Remove leftovers of interrupted writes (``.openhcs-tmp-*``) directly in ``folder``."""
    removed = []
    if not Path(folder).is_dir():
        return removed
    for entry in os.scandir(folder):
        if entry.name.startswith(TMP_PREFIX):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
            removed.append(entry.name)
    return removed
