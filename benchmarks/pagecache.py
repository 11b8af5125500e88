"""Benchmark helper: make files cold, so a timed read goes to the disk."""

from __future__ import annotations

import os


def evict(folder) -> None:
    """Write every file under ``folder`` back to disk and drop it from the page cache."""
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            finally:
                os.close(fd)
