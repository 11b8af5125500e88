"""Shared test configuration: an isolated registry cache and the GPU marker."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

# Every test session gets its own cache directory, so tests never see a user's registry cache.
_CACHE = tempfile.mkdtemp(prefix="openhcs-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE


def _cuda_available() -> bool:
    try:
        import torch

        if torch.cuda.is_available():
            return True
    except Exception:
        pass
    try:
        import cupy

        return bool(cupy.is_available())
    except Exception:
        return False


def pytest_collection_modifyitems(config, items):
    if _cuda_available():
        return
    skip_gpu = pytest.mark.skip(reason="no NVIDIA GPU here (run on the GPU machine)")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip_gpu)


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_CACHE, ignore_errors=True)
