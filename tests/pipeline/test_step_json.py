"""Steps, function patterns, the JSON format, .py pipelines and export."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from napari_openhcs.errors import PipelineError, UnknownFunctionError
from napari_openhcs.pipeline import Pipeline, Step, load_pipeline, save_pipeline
from napari_openhcs.pipeline.export import pipeline_to_script
from napari_openhcs.pipeline.jsonio import BUILTIN, dumps
from napari_openhcs.registry import fn

MAXP = "napari_openhcs.functions.max_projection"
NORM = "napari_openhcs.functions.percentile_normalize"
COUNT = "napari_openhcs.functions.count_objects"


def full_pipeline() -> Pipeline:
    return Pipeline(
        [
            Step(fn(MAXP), name="project"),
            Step((fn("skimage.filters.gaussian"), {"sigma": 2.0}), name="blur"),
            Step([fn(NORM), (fn(COUNT), {"min_area": 10})], name="chain", materialize=True),
            Step({"1": [NORM], "2": (MAXP, {})}, name="groups", group_by="channel"),
            Step(MAXP, name="off", enabled=False, input_source="start", output_dtype="uint16"),
        ],
        name="all forms",
    )


def test_every_pattern_form_normalises_to_a_chain_of_refs_and_kwargs():
    p = full_pipeline()
    assert p.steps[0].pattern == [(MAXP, {})]
    assert p.steps[1].pattern == [("skimage.filters.gaussian", {"sigma": 2.0})]
    assert p.steps[2].pattern == [(NORM, {}), (COUNT, {"min_area": 10})]
    assert p.steps[3].pattern == {"1": [(NORM, {})], "2": [(MAXP, {})]}


def test_a_library_function_object_resolves_to_its_public_reference():
    import skimage.filters

    import napari_openhcs.functions as own

    assert Step(skimage.filters.gaussian).pattern == [("skimage.filters.gaussian", {})]
    assert Step(own.max_projection).pattern == [(MAXP, {})]


def test_notebook_local_and_unregistered_functions_are_refused_with_the_reason():
    def local(stack):
        return stack

    with pytest.raises(PipelineError, match="cannot import it"):
        Step(local)
    main_fn = type(local)(local.__code__, {"__name__": "__main__"}, "nb")
    main_fn.__module__ = "__main__"
    with pytest.raises(PipelineError, match="cannot import it"):
        Step(main_fn)
    with pytest.raises(PipelineError, match="not a registered function"):
        Step(json.dumps)


def test_step_options_are_checked():
    with pytest.raises(PipelineError, match="unknown variable component"):
        Step(MAXP, variable_components=["plane"])
    with pytest.raises(PipelineError, match="needs group_by"):
        Step({"1": MAXP})
    with pytest.raises(PipelineError, match="group_by"):
        Step({"1": MAXP}, group_by="colour")
    with pytest.raises(PipelineError, match="input_source"):
        Step(MAXP, input_source="elsewhere")


def test_save_load_save_is_byte_identical(tmp_path):
    first = save_pipeline(full_pipeline(), tmp_path / "a.json").read_bytes()
    loaded = load_pipeline(tmp_path / "a.json")
    assert loaded == full_pipeline()
    second = save_pipeline(loaded, tmp_path / "b.json").read_bytes()
    assert first == second
    data = json.loads(first)
    assert data["format"] == "napari-openhcs.pipeline" and data["version"] == 1
    assert data["steps"][3]["func"] == {"groups": {"1": NORM, "2": MAXP}}
    assert data["steps"][1]["func"] == {
        "function": "skimage.filters.gaussian",
        "kwargs": {"sigma": 2.0},
    }


def test_the_design_example_loads(tmp_path):
    text = (
        '{"format": "napari-openhcs.pipeline", "version": 1, "name": "nuclei count",'
        ' "steps": [{"name": "project", "func": "napari_openhcs.functions.max_projection",'
        ' "variable_components": ["z"]}, {"name": "blur", "func": {"function":'
        ' "skimage.filters.gaussian", "kwargs": {"sigma": 2, "preserve_range": true}}},'
        ' {"name": "segment", "func": {"groups": {"1": ["napari_openhcs.functions.'
        'percentile_normalize", "napari_openhcs.functions.count_objects"]}},'
        ' "group_by": "channel", "materialize": true, "enabled": true}]}'
    )
    (tmp_path / "p.json").write_text(text)
    p = load_pipeline(tmp_path / "p.json")
    assert [s.name for s in p.steps] == ["project", "blur", "segment"]
    assert p.steps[2].pattern == {"1": [(NORM, {}), (COUNT, {})]}


def write(tmp_path, steps):
    path = tmp_path / "p.json"
    doc = {"format": "napari-openhcs.pipeline", "version": 1, "name": "x", "steps": steps}
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize("ref", ["os.system", "builtins.eval", "subprocess.run"])
def test_loading_refuses_unregistered_callables(tmp_path, ref):
    with pytest.raises(UnknownFunctionError, match="not a registered function"):
        load_pipeline(write(tmp_path, [{"name": "evil", "func": ref}]))
    with pytest.raises(UnknownFunctionError):
        load_pipeline(write(tmp_path, [{"func": {"groups": {"1": [MAXP, ref]}}}]))


def test_a_misspelt_reference_names_close_matches(tmp_path):
    with pytest.raises(UnknownFunctionError, match="did you mean.*max_projection"):
        load_pipeline(write(tmp_path, [{"func": "napari_openhcs.functions.max_projektion"}]))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"sigmaa": 1.0}, "no parameter 'sigmaa'"),
        ({"sigma": "wide"}, "must be float"),
        ({"method": "magic"}, "not one of"),
        ({"min_distance": 1.5}, "must be int"),
        ({"sigma": -3.0}, "outside its range"),
    ],
)
def test_loading_checks_parameters_against_the_registry(tmp_path, kwargs, message):
    path = write(tmp_path, [{"name": "c", "func": {"function": COUNT, "kwargs": kwargs}}])
    with pytest.raises(PipelineError, match=message):
        load_pipeline(path)


def test_malformed_files_are_pipeline_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PipelineError, match="cannot read"):
        load_pipeline(bad)
    bad.write_text(json.dumps({"format": "other", "version": 1, "steps": []}))
    with pytest.raises(PipelineError, match="format"):
        load_pipeline(bad)
    with pytest.raises(PipelineError, match="unknown field"):
        load_pipeline(write(tmp_path, [{"func": MAXP, "shell": "rm -rf /"}]))
    with pytest.raises(PipelineError, match="no steps"):
        load_pipeline(write(tmp_path, []))


def test_python_pipelines_run_only_when_allowed(tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "p.py"
    script.write_text(
        "from pathlib import Path\n"
        f"Path({str(marker)!r}).write_text('x')\n"
        "from napari_openhcs import Pipeline, Step, fn\n"
        f"pipeline = Pipeline([Step(fn({MAXP!r}), name='project')], name='py')\n"
    )
    with pytest.raises(PipelineError, match="allow-python"):
        load_pipeline(script)
    assert not marker.exists()
    p = load_pipeline(script, allow_python=True)
    assert marker.exists() and p.steps[0].pattern == [(MAXP, {})]


def test_builtin_pipelines_load_by_name_and_unknown_names_list_them():
    assert load_pipeline("nuclei_count") == load_pipeline(BUILTIN / "nuclei_count.json")
    with pytest.raises(PipelineError, match="nuclei_count"):
        load_pipeline("no_such_pipeline")


def test_builtin_json_files_are_in_canonical_form():
    for path in BUILTIN.glob("*.json"):
        assert dumps(load_pipeline(path)) == path.read_text(encoding="utf-8"), path.name


def test_exported_script_rebuilds_an_equal_pipeline(tmp_path):
    original = full_pipeline()
    code = pipeline_to_script(original)
    assert 'fn("skimage.filters.gaussian")' in code
    namespace = {"__name__": "exported"}
    exec(compile(code, "exported.py", "exec"), namespace)  # the guard keeps main() from running
    assert namespace["pipeline"] == original


def test_export_command_writes_a_script_that_runs_headless(tmp_path, tiny_plate, tiny_index):
    from napari_openhcs.cli import main

    script = tmp_path / "nuclei.py"
    assert main(["export", "nuclei_count", "--to", str(script)]) == 0
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, str(script), str(tiny_plate), str(out), "--executor", "serial"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (out / f"{tiny_index.name}.ome.zarr" / "A" / "1" / "0").is_dir()
    assert (out / "measurements.csv").is_file()
    ns = {"__name__": "check"}
    exec(script.read_text(), ns)
    assert ns["pipeline"] == load_pipeline("nuclei_count")


def test_export_command_refuses_a_bad_pipeline(tmp_path):
    from napari_openhcs.cli import main

    path = write(tmp_path, [{"func": "os.system"}])
    assert main(["export", str(path), "--to", str(tmp_path / "x.py")]) == 2
    assert not (tmp_path / "x.py").exists()
