"""Shared test configuration: an isolated registry cache, the test-only function package on
the path of this run only (see ``function_packages``), and the GPU marker."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from function_packages import FIXTURES, add_function_package

# Every test session gets its own cache directory, so tests never see a user's registry cache.
_CACHE = tempfile.mkdtemp(prefix="openhcs-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE

# The third-party function package the tests use (fail_in_well, kill_worker_in_well, ...):
# importable and registered here and in every process the tests start, installed nowhere.
THIRDPARTY_PATH = add_function_package(
    FIXTURES / "thirdparty_functions",
    "openhcs-thirdparty-demo",
    "0.1.0",
    {"thirdparty_demo": "openhcs_thirdparty_demo.functions"},
    where=Path(tempfile.mkdtemp(prefix="openhcs-test-functions-")),
)


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
    shutil.rmtree(THIRDPARTY_PATH, ignore_errors=True)
