"""Pipelines through ``napari-openhcs run``: bad parameters and .py files are refused (exit 2)
before anything is written; every pattern form compiles to the same units."""

from __future__ import annotations

import json

import pytest

from helpers import tree_checksum
from napari_openhcs import cli
from napari_openhcs.pipeline import Pipeline, Step
from napari_openhcs.pipeline.compiler import compile_pipeline
from napari_openhcs.registry import fn
from napari_openhcs.storage.layout import OutputSpec

PROJECT = "napari_openhcs.functions.max_projection"
COUNT = "napari_openhcs.functions.count_objects"
NORMALIZE = "napari_openhcs.functions.percentile_normalize"


def _run(plate, pipeline, out, *extra) -> int:
    return cli.main(
        ["run", str(plate), "--pipeline", str(pipeline), "--out", str(out), "--executor", "serial"]
        + list(extra)
    )


def _py_pipeline(tmp_path, count_kwargs: str) -> tuple:
    marker = tmp_path / "code-ran"
    path = tmp_path / "pipe.py"
    path.write_text(
        "from pathlib import Path\n"
        "from napari_openhcs.pipeline import Pipeline, Step\n"
        "from napari_openhcs.registry import fn\n"
        f"Path({str(marker)!r}).write_text('yes')\n"
        "pipeline = Pipeline([\n"
        f"    Step(fn({PROJECT!r}), name='project'),\n"
        f"    Step({{'1': (fn({COUNT!r}), {count_kwargs})}}, name='nuclei', group_by='channel'),\n"
        "])\n"
    )
    return path, marker


def test_py_pipeline_is_refused_without_allow_python_and_its_code_never_runs(
    tiny_plate, tmp_path, capsys
):
    before = tree_checksum(tiny_plate)
    path, marker = _py_pipeline(tmp_path, "{}")
    out = tmp_path / "out"
    assert _run(tiny_plate, path, out) == 2
    assert "--allow-python" in capsys.readouterr().err
    assert not marker.exists()
    assert not out.exists()
    assert tree_checksum(tiny_plate) == before

    assert _run(tiny_plate, path, out, "--allow-python") == 0
    assert marker.exists()
    assert (out / "measurements.csv").exists()
    assert tree_checksum(tiny_plate) == before


def test_unknown_keyword_is_refused_at_compile_time_with_exit_2(tiny_plate, tmp_path, capsys):
    # A .py pipeline skips the JSON loader's checks, so this reaches the compiler.
    before = tree_checksum(tiny_plate)
    path, marker = _py_pipeline(tmp_path, "{'sigmaa': 2.0}")
    out = tmp_path / "out"
    assert _run(tiny_plate, path, out, "--allow-python") == 2
    err = capsys.readouterr().err
    assert "sigmaa" in err and "sigma" in err.replace("sigmaa", "")
    assert marker.exists()  # the trusted code ran, but nothing was written
    assert not out.exists()
    assert tree_checksum(tiny_plate) == before


@pytest.mark.parametrize(
    "kwargs",
    [{"sigmaa": 2.0}, {"min_area": "big"}, {"method": "magic"}],
    ids=["unknown-name", "wrong-type", "not-a-choice"],
)
def test_bad_keywords_in_json_exit_2_and_write_nothing(kwargs, tiny_plate, tmp_path):
    data = {
        "format": "napari-openhcs.pipeline",
        "version": 1,
        "name": "bad",
        "steps": [
            {"name": "project", "func": PROJECT},
            {"name": "count", "func": {"function": COUNT, "kwargs": kwargs}},
        ],
    }
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "out"
    assert _run(tiny_plate, path, out) == 2
    assert not out.exists()


def test_every_pattern_form_compiles_to_the_same_units(tiny_index, tmp_path):
    spec = OutputSpec(out_dir=str(tmp_path), plate_name=tiny_index.name)
    forms = [
        [PROJECT, NORMALIZE],
        [fn(PROJECT), fn(NORMALIZE)],
        [(PROJECT, {}), (fn(NORMALIZE), {})],
        [[PROJECT], [(NORMALIZE, {})]],
    ]
    compiled = []
    for form in forms:
        pipe = Pipeline([Step(form, name="s")])
        plan = compile_pipeline(pipe, tiny_index, spec, run_id="same")
        compiled.append([(u.well, u.site, u.steps) for u in plan.units])
    assert all(c == compiled[0] for c in compiled[1:])
    refs = [f.ref for f, _ in compiled[0][0][2][0].pattern]
    assert refs == [PROJECT, NORMALIZE]


def test_resuming_with_a_changed_pipeline_is_refused_and_overwrite_redoes_it(
    tiny_plate, tmp_path, capsys
):
    def pipeline(sigma: float):
        path = tmp_path / f"p{sigma}.json"
        from napari_openhcs.pipeline.jsonio import pipeline_to_dict

        pipe = Pipeline(
            [
                Step(PROJECT, name="project"),
                Step({"1": (COUNT, {"sigma": sigma})}, name="nuclei", group_by="channel"),
            ]
        )
        path.write_text(json.dumps(pipeline_to_dict(pipe)))
        return path

    out = tmp_path / "out"
    assert _run(tiny_plate, pipeline(1.0), out, "--wells", "A01") == 0
    record = json.loads((out / "run.json").read_text())
    # the same pipeline resumes (A01 kept from the first run, B02 run)
    assert _run(tiny_plate, pipeline(1.0), out) == 0
    assert json.loads((out / "run.json").read_text())["wells"]["A01"]["status"] == "done"
    capsys.readouterr()
    # another pipeline into the same folder: refused before anything is written
    before = (out / "run.json").read_text()
    assert _run(tiny_plate, pipeline(2.0), out) == 2
    err = capsys.readouterr().err
    assert "different pipeline" in err and "--overwrite" in err
    assert (out / "run.json").read_text() == before
    assert _run(tiny_plate, pipeline(2.0), out, "--overwrite") == 0
    redone = json.loads((out / "run.json").read_text())
    assert redone["wells"]["A01"]["status"] == "done" and redone["run_id"] != record["run_id"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--gpus", "x"], "--gpus takes"),
        (["--gpus", "-1"], "--gpus takes"),
        (["--units-per-gpu", "0"], "--units-per-gpu"),
    ],
)
def test_bad_gpu_options_exit_2_and_write_nothing(tiny_plate, tmp_path, capsys, args, message):
    out = tmp_path / "out"
    assert _run(tiny_plate, "nuclei_count", out, *args) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_sharded_run_writes_the_same_outputs_in_fewer_files(tiny_plate, tmp_path):
    from run_outputs import assert_same_outputs, snapshot

    plain, sharded = tmp_path / "plain", tmp_path / "sharded"
    assert _run(tiny_plate, "nuclei_count", plain) == 0
    assert _run(tiny_plate, "nuclei_count", sharded, "--shards") == 0
    assert_same_outputs(snapshot(sharded), snapshot(plain))  # read back by zarr-python

    def files(root):
        return sum(1 for p in root.rglob("*") if p.is_file())

    assert files(sharded) < files(plain)
    assert _run(tiny_plate, "nuclei_count", tmp_path / "x", "--shards", "--ngff", "0.4") == 2
    assert not (tmp_path / "x").exists()
