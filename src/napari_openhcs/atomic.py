"""Atomic writes: the one place the package replaces files and folders on disk.

Every file a run, a conversion or the registry leaves is written under a temporary name in
its final folder (same filesystem), flushed and ``fsync``\\ ed, then ``os.replace``\\ d into
place: a reader sees the old file or the new one, never half of one, and a power loss after
the rename does not leave an empty file behind. Folders (Zarr arrays, whole plates) are built
under a temporary name and renamed into place; their chunk files are not fsynced one by one
(that would cost more than the write itself on a plate of thousands of chunks), so a folder
is safe against a process that dies, and the small files that describe it are safe against
power loss.

Temporary names start with :data:`TMP_PREFIX`, so :func:`remove_stale_tmp` can clear the
leftovers of an interrupted write, and readers skip them.

This module sits at the bottom of the layers: it imports nothing from the package.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: Prefix of every temporary file and folder this package creates.
TMP_PREFIX = ".openhcs-tmp-"

__all__ = [
    "TMP_PREFIX",
    "new_tmp_dir",
    "remove_stale_tmp",
    "replace_file",
    "swap_into_place",
    "write_bytes",
    "write_json",
    "write_text",
]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _tmp_name(path: Path) -> Path:
    return path.with_name(f"{TMP_PREFIX}{path.name}-{uuid.uuid4().hex}")


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def replace_file(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    The caller writes the whole file to the yielded path with any library (``np.save``,
    ``pyarrow.parquet.write_table``, ``tifffile.imwrite``). When the block ends without an
    exception the file gets the mode a plain ``open()`` would give it, is fsynced and renamed
    over ``path``; on an exception it is removed and ``path`` is untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(f"nothing was written to the temporary file for {path}")
        os.chmod(tmp, 0o666 & ~_umask())
        _fsync(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see the module docstring)."""
    with replace_file(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8, newlines as given) to ``path`` atomically."""
    with replace_file(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)


def write_json(
    path: str | os.PathLike, obj: Any, *, indent: int | None = 2, default: Callable | None = None
) -> None:
    """Write ``obj`` as JSON (no NaN or infinity: they are not JSON) to ``path`` atomically."""
    text = json.dumps(obj, indent=indent, allow_nan=False, default=default)
    write_text(path, text + ("\n" if indent is not None else ""))


def new_tmp_dir(parent: str | os.PathLike, label: str) -> Path:
    """A fresh, empty temporary folder inside ``parent`` (same filesystem, so renames are atomic)."""
    tmp = Path(parent) / f"{TMP_PREFIX}{label}-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    return tmp


def swap_into_place(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
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


def remove_stale_tmp(folder: str | os.PathLike) -> list[str]:
    """Remove leftovers of interrupted writes (``.openhcs-tmp-*``) directly in ``folder``."""
    removed: list[str] = []
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
