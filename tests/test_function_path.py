"""The tests' function package (fail_in_well, kill_worker_in_well, ...) is on the path of the
test processes only: the user's environment never lists a test-only function.

If these fail, the fixture was installed into the environment (an older ``scripts/test.sh``
did ``pip install -e tests/fixtures/thirdparty_functions``): ``python3 -m pip uninstall -y
openhcs-thirdparty-demo`` removes it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from function_packages import ADDED, USER_PYTHONPATH

FIXTURE = "openhcs-thirdparty-demo"


def user_env(tmp_path: Path) -> dict:
    """This environment as the user has it: without the test path, with an empty cache."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if USER_PYTHONPATH:
        env["PYTHONPATH"] = USER_PYTHONPATH
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return env


def test_the_tests_see_the_fixture_only_through_the_test_path():
    places = {
        Path(d.locate_file("")).resolve()
        for d in metadata.distributions()
        if d.metadata["Name"] == FIXTURE
    }
    assert places and places == {p.resolve() for p in ADDED}
    refs = [ep.value for ep in metadata.entry_points(group="napari_openhcs.functions")]
    assert "openhcs_thirdparty_demo.functions" in refs


def test_outside_the_tests_no_test_only_function_is_listed(tmp_path):
    env = user_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "napari_openhcs.cli", "functions", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    refs = [i["ref"] for i in json.loads(done.stdout)]
    assert refs and not [r for r in refs if r.startswith("openhcs_thirdparty_demo.")]
    shown = subprocess.run(
        [sys.executable, "-m", "pip", "show", FIXTURE], capture_output=True, text=True, env=env
    )
    assert shown.returncode != 0, shown.stdout
