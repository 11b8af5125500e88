"""The layering is a contract: ``lint-imports`` checks pyproject.toml's import-linter contracts.

The engine (everything outside ``gui/``) never imports Qt, napari or magicgui, and the
layers import downwards only (docs/architecture.md draws them).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import napari_openhcs

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    beside = Path(sys.executable).with_name("lint-imports")
    found = str(beside) if beside.is_file() else shutil.which("lint-imports")
    assert found, "lint-imports is not installed: pip install 'napari-openhcs[test]'"
    return found


def test_the_import_linter_contracts_hold():
    # Lint the package this test suite imports (a source tree or an installed copy).
    package_parent = str(Path(napari_openhcs.__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (package_parent, os.environ.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": path},
    )
    assert done.returncode == 0, done.stdout + done.stderr
