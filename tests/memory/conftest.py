"""Helpers for the memory tests: run code in a fresh Python process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import napari_openhcs

SRC = str(Path(napari_openhcs.__file__).resolve().parents[1])


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a child Python that imports this checkout of napari_openhcs."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


@pytest.fixture
def run_child():
    """Run ``code`` in a new interpreter; return the CompletedProcess (text output)."""

    def run(code: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(**env),
        )

    return run
