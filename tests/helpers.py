"""Helpers shared by tests of every layer (import as ``from helpers import ...``)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def tree_checksum(path: str | Path) -> str:
    """SHA-256 over a folder tree: every relative path, its kind, and every file's bytes.

    Two trees have the same checksum exactly when they hold the same folders and files with the
    same contents (modification times and permissions are ignored). Use it to show that a
    command left an input plate untouched::

        before = tree_checksum(plate)
        main(["inspect", str(plate)])
        assert tree_checksum(plate) == before
    """
    root = Path(path)
    digest = hashlib.sha256()
    entries = []
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        entries += [(os.path.join(rel, d), "dir") for d in dirs]
        entries += [(os.path.join(rel, f), "file") for f in files]
    for rel, kind in sorted(entries):
        digest.update(f"{kind}\0{rel}\0".encode())
        if kind == "file":
            p = root / rel
            if p.is_symlink():
                digest.update(f"link\0{os.readlink(p)}\0".encode())
                continue
            with open(p, "rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()
