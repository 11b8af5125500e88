"""Exported scripts reproduce a run; JSON round-trips; JSON cannot name arbitrary code."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from helpers import tree_checksum
from napari_openhcs import cli
from napari_openhcs.pipeline import load_pipeline, save_pipeline
from napari_openhcs.pipeline.export import pipeline_to_script
from napari_openhcs.plates.synthetic import write_plate
from pipeline.run_outputs import assert_same_outputs, snapshot

PIPELINE = {
    "format": "napari-openhcs.pipeline",
    "version": 1,
    "name": "clip then count",
    "steps": [
        {
            "name": "clip",
            "func": {
                "function": "openhcs_thirdparty_demo.functions.clip_below",
                "kwargs": {"floor": 100.0},
            },
            "variable_components": ["z"],
        },
        {
            "name": "project",
            "func": "napari_openhcs.functions.max_projection",
            "variable_components": ["z"],
        },
        {
            "name": "nuclei",
            "func": {
                "groups": {
                    "1": [
                        {
                            "function": "napari_openhcs.functions.percentile_normalize",
                            "kwargs": {"low": 0.5, "high": 99.5},
                        },
                        {
                            "function": "napari_openhcs.functions.count_objects",
                            "kwargs": {"min_area": 10, "method": "otsu"},
                        },
                    ]
                }
            },
            "variable_components": ["z"],
            "group_by": "channel",
            "materialize": True,
        },
    ],
}


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("plate")
    return write_plate(
        root / "plate", "imagexpress", wells=["A01", "B02"], sites=1, channels=2, z=2, size=64
    )


@pytest.fixture
def pipeline_json(tmp_path):
    path = tmp_path / "pipe.json"
    path.write_text(json.dumps(PIPELINE, indent=1))
    return path


def test_exported_script_in_a_fresh_process_reproduces_the_run(plate, pipeline_json, tmp_path):
    before = tree_checksum(plate)
    direct = tmp_path / "direct"
    args = ["run", str(plate), "--pipeline", str(pipeline_json), "--out", str(direct)]
    assert cli.main([*args, "--executor", "serial"]) == 0

    script = tmp_path / "exported.py"
    assert cli.main(["export", str(pipeline_json), "--to", str(script)]) == 0
    text = script.read_text()
    assert 'if __name__ == "__main__":' in text
    assert 'fn("openhcs_thirdparty_demo.functions.clip_below")' in text

    scripted = tmp_path / "scripted"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run(
        [sys.executable, str(script), str(plate), str(scripted), "--executor", "serial"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert_same_outputs(snapshot(scripted), snapshot(direct))
    assert tree_checksum(plate) == before


def test_exported_script_defines_the_same_pipeline(pipeline_json, tmp_path):
    original = load_pipeline(pipeline_json)
    script = tmp_path / "exported.py"
    script.write_text(pipeline_to_script(original))
    # The script is also a .py pipeline: loading it (trusted) gives the same pipeline.
    assert load_pipeline(script, allow_python=True) == original


@pytest.mark.parametrize("source", ["json", "nuclei_count"])
def test_json_save_load_save_is_identical(source, pipeline_json, tmp_path):
    first = tmp_path / "first.json"
    second = tmp_path / "second.json"
    pipe = load_pipeline(pipeline_json if source == "json" else source)
    save_pipeline(pipe, first)
    again = load_pipeline(first)
    assert again == pipe
    save_pipeline(again, second)
    assert first.read_bytes() == second.read_bytes()


@pytest.mark.parametrize(
    "func",
    [
        "os.system",
        {"function": "os.system", "kwargs": {"command": "touch /tmp/openhcs-pwned"}},
        "builtins.eval",
        "subprocess.call",
        "numpy.save",
        "openhcs_thirdparty_demo.functions._current_well",  # importable but not registered
        {"groups": {"1": "os.system"}},
    ],
)
def test_json_naming_unregistered_callable_is_refused_before_writing(func, plate, tmp_path):
    bad = dict(PIPELINE, steps=[{"name": "evil", "func": func}])
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(bad))
    out = tmp_path / "out"
    before = tree_checksum(plate)
    code = cli.main(["run", str(plate), "--pipeline", str(path), "--out", str(out)])
    assert code == 2
    assert not out.exists()
    assert tree_checksum(plate) == before


def test_export_of_unregistered_callable_is_refused(tmp_path):
    bad = dict(PIPELINE, steps=[{"name": "evil", "func": "os.system"}])
    path = tmp_path / "evil.json"
    path.write_text(json.dumps(bad))
    script = tmp_path / "evil.py"
    assert cli.main(["export", str(path), "--to", str(script)]) == 2
    assert not script.exists()
