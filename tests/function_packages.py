"""Put a function package on the path of the test run only: never installed anywhere.

``add_function_package`` writes the ``.dist-info`` folder that ``importlib.metadata`` reads
the ``napari_openhcs.functions`` entry point from (what ``pip install`` would write) into a
temporary folder, and puts that folder and the package's source folder first on ``sys.path``
(this process) and on ``PYTHONPATH`` (every process the tests start: subprocesses, spawned
workers, Dask workers). Nothing outside the temporary folder changes, so after the tests
``napari-openhcs functions`` lists no test-only function.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
#: ``PYTHONPATH`` as the user set it, before the tests added anything (the user's environment).
USER_PYTHONPATH = os.environ.get("PYTHONPATH")
#: The folders holding the ``.dist-info`` of the packages added with ``add_function_package``.
ADDED: list[Path] = []
ENTRY_POINT_GROUP = "napari_openhcs.functions"


def write_dist_info(where: Path, name: str, version: str, entry_points: dict[str, str]) -> Path:
    """A minimal ``<name>-<version>.dist-info`` with ``METADATA`` and ``entry_points.txt``."""
    folder = Path(where) / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    lines = [f"[{ENTRY_POINT_GROUP}]"] + [f"{k} = {v}" for k, v in entry_points.items()]
    (folder / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def put_on_path(*folders: Path) -> None:
    """``folders`` first on ``sys.path`` and on ``PYTHONPATH`` (for child processes)."""
    entries = [str(f) for f in folders]
    sys.path[:0] = [e for e in entries if e not in sys.path]
    old = os.environ.get("PYTHONPATH", "")
    os.environ["PYTHONPATH"] = os.pathsep.join([*entries, *([old] if old else [])])


def add_function_package(
    source: Path, name: str, version: str, entry_points: dict[str, str], where: Path | None = None
) -> Path:
    """Make the package in ``source`` importable and its entry points visible; returns the
    folder holding its ``.dist-info``."""
    where = Path(where or tempfile.mkdtemp(prefix="openhcs-test-functions-"))
    write_dist_info(where, name, version, entry_points)
    put_on_path(Path(source), where)
    ADDED.append(where)
    return where


def path_env(source: Path, name: str, entry_points: dict[str, str], where: Path) -> dict:
    """The environment of a child process that sees one more function package (this
    process's path is left alone)."""
    write_dist_info(where, name, "0.0.1", entry_points)
    old = os.environ.get("PYTHONPATH", "")
    entries = [str(source), str(where), *([old] if old else [])]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(entries)}
