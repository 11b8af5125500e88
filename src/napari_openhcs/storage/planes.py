"""Direct chunk I/O for Zarr arrays stored one chunk per image plane.

zarr-python spends a millisecond or more of bookkeeping per chunk (an event loop, codec
pipelines, store abstractions); for the arrays this package writes (one uncompressed,
Blosc- or gzip-compressed chunk file per ``y, x`` plane) that overhead is most of the cost
of reading or writing a plane. ``PlaneArray`` reads and writes those chunk files directly,
with the codecs zarr itself uses (numcodecs' Blosc and GZip, which release the GIL).

It only accepts arrays it understands exactly, from their own metadata: Zarr v2 or v3,
C order, a regular grid of whole-plane chunks (or v3 shards of whole planes whose inner
chunks are planes, index at the end), little-endian bytes, no filters or other
transformers, and no codec but Blosc, Zstandard or gzip. ``PlaneArray.open`` returns
``None`` for anything else; ``storage.zarrio.open_array``, the one way the package opens an
array, then falls back to zarr-python. The array's metadata is read through
``storage.ngff.read_array_meta``. Missing chunk files (and missing chunks of a shard) read as
the fill value, as in zarr.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from napari_openhcs.storage.ngff import ArrayMeta, metadata_stamp, read_array_meta

_V3_TYPES = {
    "bool",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
}
_SHUFFLES = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}
_EMPTY = 2**64 - 1  # a shard index entry of a chunk that was never written


class PlaneArray:
    """A plane-chunked Zarr array on a local disk, read and written chunk file by chunk file.

    Use ``PlaneArray.open(path)``; index it like an array with basic slices (dask does, one
    block at a time), or call ``read_plane``/``write_all``.

    Examples
    --------
    >>> arr = PlaneArray.open("plate.ome.zarr/A/1/0/0")  # doctest: +SKIP
    >>> arr.read_plane((0, 1, 0)).shape  # doctest: +SKIP
    (1024, 1024)
    """

    def __init__(
        self, path, shape, dtype, fill_value, codec, key_prefix, separator, shard=None
    ) -> None:
        self.path = Path(path)
        self.shape = tuple(int(s) for s in shape)
        self.dtype = np.dtype(dtype)
        self.ndim = len(self.shape)
        self.chunks = tuple([1] * (self.ndim - 2) + list(self.shape[-2:]))
        self.fill_value = fill_value
        self._codec = codec
        self._prefix = key_prefix
        self._sep = separator
        #: planes per shard along each axis but y, x (``None``: one file per plane)
        self.shard = None if shard is None else tuple(int(s) for s in shard)
        self._indexes: dict[str, tuple[tuple[int, int], np.ndarray]] = {}

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path) -> PlaneArray | None:
        """The array at ``path`` if it is plane-chunked with supported codecs, else ``None``."""
        try:
            found = read_array_meta(path)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return None if found is None else cls.from_meta(path, found)

    @classmethod
    def from_meta(cls, path: str | Path, found: ArrayMeta) -> PlaneArray | None:
        """The array at ``path`` from its metadata (``read_array_meta``), or ``None`` if this
        reader cannot read it exactly."""
        opener = cls._open_v3 if found.zarr_format == 3 else cls._open_v2
        try:
            return opener(Path(path), found.doc)
        except (ValueError, KeyError, TypeError):
            return None

    @classmethod
    def _open_v3(cls, path: Path, doc: dict) -> PlaneArray | None:
        if doc.get("node_type") != "array" or doc.get("storage_transformers"):
            return None
        dtype = doc.get("data_type")
        shape = doc.get("shape") or []
        grid = doc.get("chunk_grid") or {}
        if dtype not in _V3_TYPES or len(shape) < 2 or grid.get("name") != "regular":
            return None
        outer = list(grid["configuration"]["chunk_shape"])
        codecs = list(doc.get("codecs") or [])
        shard = None
        if codecs and codecs[0].get("name") == "sharding_indexed":
            # shards of whole planes, each inner chunk one plane, the index at the end
            conf = codecs[0].get("configuration") or {}
            index_codecs = [c.get("name") for c in conf.get("index_codecs") or []]
            index_endian = ((conf.get("index_codecs") or [{}])[0].get("configuration") or {}).get(
                "endian", "little"
            )
            if (
                len(codecs) != 1
                or list(conf.get("chunk_shape") or []) != _plane_chunks(shape)
                or outer[-2:] != list(shape[-2:])
                or conf.get("index_location", "end") != "end"
                or index_codecs not in (["bytes"], ["bytes", "crc32c"])
                or index_endian != "little"
            ):
                return None
            shard = outer[:-2]
            codecs = list(conf.get("codecs") or [])
        elif outer != _plane_chunks(shape):
            return None
        keys = doc.get("chunk_key_encoding") or {"name": "default"}
        sep = (keys.get("configuration") or {}).get(
            "separator", "/" if keys["name"] == "default" else "."
        )
        if keys["name"] == "default":
            prefix = "c"
        elif keys["name"] == "v2":
            prefix = None
        else:
            return None
        if not codecs or codecs[0].get("name") != "bytes":
            return None
        endian = (codecs[0].get("configuration") or {}).get("endian", "little")
        if endian != "little" and np.dtype(dtype).itemsize > 1:
            return None
        codec = _v3_codec(codecs[1:])
        if codec is False:
            return None
        fill = _fill_value(doc.get("fill_value"), dtype)
        return cls(path, shape, np.dtype(dtype).newbyteorder("<"), fill, codec, prefix, sep, shard)

    @classmethod
    def _open_v2(cls, path: Path, doc: dict) -> PlaneArray | None:
        dtype = np.dtype(doc["dtype"])
        shape = doc.get("shape") or []
        if (
            doc.get("order", "C") != "C"
            or doc.get("filters")
            or len(shape) < 2
            or dtype.byteorder == ">"
            or dtype.kind not in "biuf"
            or list(doc.get("chunks") or []) != _plane_chunks(shape)
        ):
            return None
        codec = _v2_codec(doc.get("compressor"))
        if codec is False:
            return None
        fill = _fill_value(doc.get("fill_value"), dtype.name)
        return cls(path, shape, dtype, fill, codec, None, doc.get("dimension_separator", "."))

    @property
    def token(self) -> str:
        """A name for dask: the path and its metadata's modification time."""
        stamp = metadata_stamp(self.path)
        return f"openhcs-planes-{self.path}" + (f"-{stamp[1]}" if stamp else "")

    # -- chunk files -----------------------------------------------------------------------
    def chunk_path(self, index: tuple[int, ...]) -> Path:
        """The file of the plane at ``index`` (all axes but y, x): its chunk, or its shard."""
        if self.shard is not None:
            index = tuple(int(i) // s for i, s in zip(index, self.shard, strict=True))
        parts = [str(int(i)) for i in index] + ["0", "0"]
        key = self._sep.join(parts)
        if self._prefix is not None:
            key = f"{self._prefix}{self._sep}{key}"
        return self.path / key

    def read_plane(self, index: tuple[int, ...], out: np.ndarray | None = None) -> np.ndarray:
        """The ``(y, x)`` plane at ``index``; ``out`` (C-contiguous) receives it if given.

        The plane is its chunk file, or one chunk of its shard (found through the index)."""
        if out is None:
            out = np.empty(self.shape[-2:], self.dtype)
        path = self.chunk_path(index)
        length = None  # a whole chunk file
        try:
            with open(path, "rb") as fh:
                if self.shard is not None:
                    inner = tuple(int(i) % s for i, s in zip(index, self.shard, strict=True))
                    table = self._shard_index(path, fh)
                    offset, length = (
                        int(v) for v in table[np.ravel_multi_index(inner, self.shard)]
                    )
                    if offset == _EMPTY and length == _EMPTY:
                        out[...] = self.fill_value
                        return out
                    fh.seek(offset)
                if self._codec is None and out.flags.c_contiguous and length in (None, out.nbytes):
                    got = fh.readinto(memoryview(out.reshape(-1).view(np.uint8)))
                    if got != out.nbytes:
                        raise OSError(f"{path}: {got} bytes, expected {out.nbytes} (damaged file)")
                    return out
                raw = fh.read() if length is None else fh.read(length)
        except FileNotFoundError:
            out[...] = self.fill_value
            return out
        return self._decode_into(raw, out)

    def _decode_into(self, raw: bytes, out: np.ndarray) -> np.ndarray:
        if self._codec is None:
            out[...] = np.frombuffer(raw, self.dtype).reshape(out.shape)
        elif self._codec.codec_id == "blosc" and out.flags.c_contiguous:
            self._codec.decode(raw, out=out)
        else:
            out[...] = np.frombuffer(self._codec.decode(raw), self.dtype).reshape(out.shape)
        return out

    # -- shards ----------------------------------------------------------------------------
    def _shard_index(self, path: Path, fh) -> np.ndarray:
        """The shard's ``(planes, 2)`` table of (offset, length), read once per file version."""
        st = os.fstat(fh.fileno())
        stamp = (st.st_mtime_ns, st.st_size)
        cached = self._indexes.get(str(path))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        n = int(np.prod(self.shard))
        size = st.st_size
        tail = n * 16 + 4
        if size < tail:
            raise OSError(f"{path}: a shard of {size} bytes cannot hold an index of {n} chunks")
        fh.seek(size - tail)
        raw = fh.read(tail)
        import google_crc32c

        if np.uint32(google_crc32c.value(raw[:-4])).tobytes() != raw[-4:]:
            raise OSError(f"{path}: the shard index checksum does not match (damaged file)")
        table = np.frombuffer(raw[:-4], "<u8").reshape(n, 2)
        self._indexes[str(path)] = (stamp, table)
        return table

    def _write_shards(self, data: np.ndarray) -> None:
        import google_crc32c

        grid = [-(-n // s) for n, s in zip(self.shape[:-2], self.shard, strict=True)]
        for shard_index in np.ndindex(*grid):
            parts: list = []
            table = np.full((int(np.prod(self.shard)), 2), _EMPTY, dtype="<u8")
            offset = 0
            for k, inner in enumerate(np.ndindex(*self.shard)):
                index = tuple(
                    g * s + i for g, s, i in zip(shard_index, self.shard, inner, strict=True)
                )
                if any(i >= n for i, n in zip(index, self.shape, strict=False)):
                    continue  # past the array's edge: no chunk
                plane = np.ascontiguousarray(data[index], dtype=self.dtype)
                buf = memoryview(plane if self._codec is None else self._codec.encode(plane))
                parts.append(buf)
                table[k] = (offset, buf.nbytes)
                offset += buf.nbytes
            index_bytes = table.tobytes()
            target = self.chunk_path(
                tuple(g * s for g, s in zip(shard_index, self.shard, strict=True))
            )
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fh:
                for buf in parts:
                    fh.write(buf)
                fh.write(index_bytes)
                fh.write(np.uint32(google_crc32c.value(index_bytes)).tobytes())

    def write_plane(self, index: tuple[int, ...], plane: np.ndarray) -> None:
        """Write one ``(y, x)`` plane as its chunk file (no temporary: callers write arrays
        into folders that become visible only when complete). Not for sharded arrays."""
        if self.shard is not None:
            raise ValueError(f"{self.path} is sharded: write whole shards with write_all")
        data = np.ascontiguousarray(plane, dtype=self.dtype)
        buf = data if self._codec is None else self._codec.encode(data)
        target = self.chunk_path(index)
        if not target.parent.is_dir():
            target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            fh.write(memoryview(buf))

    def plane_indices(self) -> Iterator[tuple[int, ...]]:
        """Every plane's index, in C order."""
        yield from np.ndindex(*self.shape[:-2])

    def write_all(self, data: np.ndarray) -> None:
        """Write every plane of ``data`` (the array's full shape)."""
        if tuple(data.shape) != self.shape:
            raise ValueError(f"data of shape {data.shape} for an array of shape {self.shape}")
        if self.shard is not None:
            self._write_shards(data)
            return
        for index in self.plane_indices():
            self.write_plane(index, data[index])

    def __getitem__(self, key: Any) -> np.ndarray:
        """Basic indexing by slices with step 1 (what ``dask.array.from_array`` asks)."""
        if not isinstance(key, tuple):
            key = (key,)
        if any(k is Ellipsis for k in key):
            i = next(i for i, k in enumerate(key) if k is Ellipsis)
            key = key[:i] + (slice(None),) * (self.ndim - len(key) + 1) + key[i + 1 :]
        key = key + (slice(None),) * (self.ndim - len(key))
        if len(key) != self.ndim or not all(isinstance(k, (slice, int, np.integer)) for k in key):
            raise IndexError(f"PlaneArray supports basic slices only, got {key!r}")
        ranges, squeeze = [], []
        for k, n in zip(key, self.shape, strict=True):
            if isinstance(k, slice):
                start, stop, step = k.indices(n)
                if step != 1:
                    raise IndexError("PlaneArray slices must have step 1")
                ranges.append(range(start, stop))
                squeeze.append(False)
            else:
                i = int(k) + (n if k < 0 else 0)
                ranges.append(range(i, i + 1))
                squeeze.append(True)
        lead = ranges[:-2]
        yx = (slice(ranges[-2].start, ranges[-2].stop), slice(ranges[-1].start, ranges[-1].stop))
        whole = ranges[-2] == range(self.shape[-2]) and ranges[-1] == range(self.shape[-1])
        out = np.empty([len(r) for r in ranges], self.dtype)
        for pos in np.ndindex(*[len(r) for r in lead]):
            index = tuple(r[p] for r, p in zip(lead, pos, strict=True))
            if whole:
                self.read_plane(index, out=out[pos])
            else:
                out[pos] = self.read_plane(index)[yx]
        return out[tuple(0 if s else slice(None) for s in squeeze)]

    def __array__(self, dtype=None, copy=None):
        data = self[...]
        return data if dtype is None else data.astype(dtype)


def _plane_chunks(shape) -> list[int]:
    return [1] * (len(shape) - 2) + [int(shape[-2]), int(shape[-1])]


def _v3_codec(rest: list[dict]):
    """The numcodecs codec for the codecs after ``bytes``: ``None``, Blosc, GZip or ``False``."""
    if not rest:
        return None
    if len(rest) != 1:
        return False
    name, conf = rest[0].get("name"), rest[0].get("configuration") or {}
    if name == "blosc":
        from numcodecs import Blosc

        shuffle = conf.get("shuffle", "noshuffle")
        if shuffle not in _SHUFFLES:
            return False
        return Blosc(
            cname=conf.get("cname", "lz4"),
            clevel=int(conf.get("clevel", 5)),
            shuffle=_SHUFFLES[shuffle],
            blocksize=int(conf.get("blocksize", 0) or 0),
        )
    if name == "gzip":
        from numcodecs import GZip

        return GZip(level=int(conf.get("level", 5)))
    if name == "zstd":
        from numcodecs import Zstd

        return Zstd(level=int(conf.get("level", 0)), checksum=bool(conf.get("checksum", False)))
    return False


def _v2_codec(compressor: dict | None):
    if compressor is None:
        return None
    cid = compressor.get("id")
    if cid == "blosc":
        from numcodecs import Blosc

        return Blosc(
            cname=compressor.get("cname", "lz4"),
            clevel=int(compressor.get("clevel", 5)),
            shuffle=int(compressor.get("shuffle", 1)),
            blocksize=int(compressor.get("blocksize", 0) or 0),
        )
    if cid == "gzip":
        from numcodecs import GZip

        return GZip(level=int(compressor.get("level", 5)))
    if cid == "zstd":
        from numcodecs import Zstd

        return Zstd(level=int(compressor.get("level", 0)))
    return False


def _fill_value(value: Any, dtype: str):
    dt = np.dtype(dtype)
    if value is None:
        return dt.type(0)
    if isinstance(value, str):
        value = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}.get(
            value, value
        )
    return np.array(value).astype(dt)[()]
