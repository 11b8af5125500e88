"""Storage backends: save and load arrays under string keys.

Three backends share one small interface (``save``, ``load``, ``exists``, ``list``,
``delete``): ``memory`` (a dict, for intermediate results), ``disk`` (one TIFF file per key)
and ``zarr`` (one Zarr array per key, one chunk per plane). Keys are relative paths with
``/`` separators, e.g. ``"A01/s1/nuclei"``. Writes to disk are atomic: a reader sees the old
array or the new one, never a half-written file.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Protocol

import numpy as np

from napari_openhcs.errors import InputError
from napari_openhcs.storage.ngff import check_compressor
from napari_openhcs.storage.zarrio import (
    TMP_PREFIX,
    new_tmp_dir,
    swap_into_place,
    write_array,
)


class StorageBackend(Protocol):
    """What the pipeline needs from a place to keep arrays."""

    def save(self, key: str, data: np.ndarray) -> None:
        """Store ``data`` under ``key``, replacing what was there."""

    def load(self, key: str) -> np.ndarray:
        """The array stored under ``key`` (``KeyError`` if none)."""

    def exists(self, key: str) -> bool:
        """Whether something is stored under ``key``."""

    def list(self, prefix: str = "") -> list[str]:
        """Sorted keys that start with ``prefix``."""

    def delete(self, key: str) -> None:
        """Remove ``key`` (``KeyError`` if none)."""


def check_key(key: str) -> str:
    """A key as a clean relative path: no empty, ``.`` or ``..`` parts, no leading ``/``.

    Raises
    ------
    InputError
        For a key that could escape the storage root or name a temporary file.
    """
    parts = str(key).split("/")
    bad = (
        not key
        or any(p in ("", ".", "..") for p in parts)
        or "\\" in key
        or any(p.startswith(TMP_PREFIX) for p in parts)
    )
    if bad:
        raise InputError(f"storage key {key!r} must be a relative path like 'A01/s1/nuclei'")
    return str(key)


class MemoryBackend:
    """Arrays in a dict (copies on save, so later changes to the input do not leak in)."""

    def __init__(self) -> None:
        self._data: dict[str, np.ndarray] = {}

    def save(self, key: str, data: np.ndarray) -> None:
        self._data[check_key(key)] = np.array(data, copy=True)

    def load(self, key: str) -> np.ndarray:
        return self._data[check_key(key)]

    def exists(self, key: str) -> bool:
        return check_key(key) in self._data

    def list(self, prefix: str = "") -> list[str]:
        return sorted(k for k in self._data if k.startswith(prefix))

    def delete(self, key: str) -> None:
        del self._data[check_key(key)]


class _FolderBackend:
    """Shared by the disk and zarr backends: one file or folder per key under ``root``."""

    suffix = ""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / (check_key(key) + self.suffix)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list(self, prefix: str = "") -> list[str]:
        keys = []
        for folder, dirs, files in os.walk(self.root):
            dirs[:] = [d for d in dirs if not d.startswith(TMP_PREFIX)]
            rel = os.path.relpath(folder, self.root)
            for name in files + dirs:
                if name.endswith(self.suffix) and not name.startswith(TMP_PREFIX):
                    key = name[: len(name) - len(self.suffix)]
                    keys.append(key if rel == "." else f"{rel}/{key}".replace(os.sep, "/"))
            if self.suffix == ".zarr":
                dirs[:] = [d for d in dirs if not d.endswith(self.suffix)]
        return sorted(k for k in keys if k.startswith(prefix))

    def delete(self, key: str) -> None:
        path = self._path(key)
        if not path.exists():
            raise KeyError(key)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


class DiskBackend(_FolderBackend):
    """One uncompressed TIFF per key (``<root>/<key>.tif``), written atomically; images only."""

    suffix = ".tif"

    def save(self, key: str, data: np.ndarray) -> None:
        import tifffile

        data = np.asarray(data)
        if data.ndim < 2:
            raise InputError(
                f"the disk backend stores images (2-D or more); {key!r} is {data.ndim}-D"
            )
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{TMP_PREFIX}{path.name}-{uuid.uuid4().hex}")
        try:
            tifffile.imwrite(tmp, data, photometric="minisblack")
            os.replace(tmp, path)
        finally:
            if tmp.exists():
                tmp.unlink()

    def load(self, key: str) -> np.ndarray:
        import tifffile

        path = self._path(key)
        if not path.is_file():
            raise KeyError(key)
        return tifffile.imread(path)


class ZarrBackend(_FolderBackend):
    """One Zarr v3 array per key (``<root>/<key>.zarr``), one chunk per plane, written atomically."""

    suffix = ".zarr"

    def __init__(self, root: str | Path, *, compressor: str = "lz4") -> None:
        super().__init__(root)
        self.compressor = check_compressor(compressor)

    def save(self, key: str, data: np.ndarray) -> None:
        data = np.asarray(data)
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = new_tmp_dir(path.parent, path.name)
        try:
            names = [f"dim_{i}" for i in range(data.ndim)]
            write_array(
                tmp / "a", data, dimension_names=names, compressor=self.compressor, ngff="0.5"
            )
            swap_into_place(tmp / "a", path)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def load(self, key: str) -> np.ndarray:
        import zarr

        path = self._path(key)
        if not path.is_dir():
            raise KeyError(key)
        from napari_openhcs.storage.planes import open_fast

        direct = open_fast(path)
        if direct is not None:
            return direct[...]
        return np.asarray(zarr.open_array(str(path), mode="r")[...])


def get_backend(name: str, root: str | Path | None = None, **options) -> StorageBackend:
    """A backend by name: ``"memory"``, ``"disk"`` (needs ``root``) or ``"zarr"`` (needs ``root``).

    Examples
    --------
    >>> import numpy as np
    >>> store = get_backend("memory")
    >>> store.save("A01/s1", np.ones((2, 2)))
    >>> store.list()
    ['A01/s1']
    """
    if name == "memory":
        return MemoryBackend()
    if name in ("disk", "zarr"):
        if root is None:
            raise InputError(f"the {name} storage backend needs a folder")
        return DiskBackend(root) if name == "disk" else ZarrBackend(root, **options)
    raise InputError(f"unknown storage backend {name!r} (use memory, disk or zarr)")
