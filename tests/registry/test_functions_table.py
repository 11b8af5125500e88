"""``napari-openhcs functions``: columns stay apart however long a reference is."""

from __future__ import annotations

import subprocess
import sys

from function_packages import path_env

LONG_MODULE = "a_lab_package_with_a_rather_long_name.image_functions_for_screens"


def test_a_long_reference_does_not_run_into_the_next_column(tmp_path):
    package = tmp_path / "src" / "a_lab_package_with_a_rather_long_name"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "image_functions_for_screens.py").write_text(
        "from napari_openhcs.registry import declare\n"
        "__all__ = ['subtract_the_rolling_ball_background_of_every_plane']\n"
        "@declare(contract='slice', category='filter')\n"
        "def subtract_the_rolling_ball_background_of_every_plane(image):\n"
        "    return image\n"
    )
    env = path_env(package.parent, "a-lab-package", {"alab": LONG_MODULE}, tmp_path / "dist")
    done = subprocess.run(
        [sys.executable, "-m", "napari_openhcs.cli", "functions", "--library", "alab"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, "COLUMNS": "400", "XDG_CACHE_HOME": str(tmp_path / "cache")},
    )
    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()[:2]
    ref = f"{LONG_MODULE}.subtract_the_rolling_ball_background_of_every_plane"
    assert len(ref) > 100 and row.startswith(ref + "  ")
    for column in ("memory", "contract", "category", "available"):
        at = header.index(column)
        assert row[at - 1] == " " and row[at] != " ", (column, header, row)
    assert row[header.index("memory") :].split()[:4] == ["numpy", "slice", "filter", "yes"]
