"""run_unit and run_plate_step on tiny synthetic plates, serial and in process."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr
from pipeline_helpers import output_spec

from napari_openhcs.execution.platesteps import run_plate_step
from napari_openhcs.execution.unitrun import run_unit
from napari_openhcs.pipeline import Pipeline, Step, load_pipeline
from napari_openhcs.pipeline.compiler import compile_pipeline
from napari_openhcs.pipeline.dtypes import cast_for_output

MAXP = "napari_openhcs.functions.max_projection"
NORM = "napari_openhcs.functions.percentile_normalize"
COUNT = "napari_openhcs.functions.count_objects"
KEYS = ["plate", "well", "row", "column", "site", "timepoint", "channel", "label", "step"]


def plan_for(index, out, steps, **kwargs):
    return compile_pipeline(Pipeline(steps), index, output_spec(index, out), **kwargs)


def field(out, index, well="A01", field_no=0, suffix=""):
    root = zarr.open_group(str(out / f"{index.name}{suffix}.ome.zarr"), mode="r")
    return root[f"{well[0]}/{int(well[1:])}/{field_no}"]


def test_run_unit_writes_the_projected_field_labels_and_long_tables(tiny_index, tmp_path):
    plan = plan_for(
        tiny_index,
        tmp_path,
        [
            Step(MAXP, name="project"),
            Step({"1": [NORM, COUNT]}, name="nuclei", group_by="channel", materialize=True),
        ],
    )
    unit = plan.units[1]  # A01 site 2 -> field 1
    events = []
    result = run_unit(unit, emit=events.append)
    assert result.ok, result.error
    assert [e["kind"] for e in events] == ["unit_started", "step_done", "step_done"]
    assert [e.get("step") for e in events[1:]] == ["project", "nuclei"]

    group = field(tmp_path, tiny_index, "A01", 1)
    image = group["0"]
    assert image.shape == (1, 2, 1, 64, 64)  # t, c (both channels), z projected, y, x
    # channel 2 passed through the group dict unchanged: it is the raw max projection
    from napari_openhcs.plates import read_plane

    raw = [read_plane(unit.plate_format, loc) for k, loc in unit.images if k.channel == 2]
    np.testing.assert_array_equal(image[0, 1, 0], np.max(raw, axis=0))
    labels = group["labels/nuclei/0"][...]
    assert labels.shape == (1, 1, 1, 64, 64) and labels.dtype.kind in "iu"
    n_objects = len(np.unique(labels)) - 1

    table = result.measurements.to_pydict()
    assert all(k in table for k in KEYS + ["area"])
    assert len(table["label"]) == n_objects == result.aggregates["object_count"] > 0
    assert set(table["well"]) == {"A01"} and set(table["site"]) == {2}
    assert (
        set(table["channel"]) == {1} and set(table["row"]) == {"A"} and set(table["column"]) == {1}
    )
    assert sorted(table["label"]) == list(range(1, n_objects + 1))
    assert result.aggregates["nuclei_mean_area"] == pytest.approx(np.mean(table["area"]))
    means = pytest.approx(np.mean(table["mean_intensity"]))
    assert result.aggregates["nuclei_mean_intensity"] == means  # named after its step
    assert "mean_intensity" not in result.aggregates


def test_a_failing_step_returns_where_and_why_without_writing_the_field(tiny_index, tmp_path):
    fail = "openhcs_thirdparty_demo.functions.fail_in_well"
    plan = plan_for(
        tiny_index,
        tmp_path,
        [Step(MAXP, name="project"), Step((fail, {"well": "B02"}), name="boom")],
    )
    ok = run_unit(plan.units[0])
    bad = run_unit(plan.units[2])
    assert ok.ok and not bad.ok
    err = bad.error
    assert (err.well, err.site, err.step, err.function) == ("B02", 1, "boom", fail)
    assert "deliberate failure in well B02" in err.message
    assert "RuntimeError" in err.traceback and "fail_in_well" in err.traceback
    root = zarr.open_group(str(tmp_path / f"{tiny_index.name}.ome.zarr"), mode="r")
    assert "0" in root["A/1"] and "B" not in root  # nothing of B02 written, A01 complete


def test_materialized_intermediate_images_go_to_their_own_plate(tiny_index, tmp_path):
    plan = plan_for(
        tiny_index,
        tmp_path,
        [
            Step(MAXP, name="project", materialize=True),
            Step(NORM, name="norm", output_dtype="uint16"),
        ],
    )
    assert plan.intermediate_plates == ["project"]
    assert run_unit(plan.units[0]).ok
    main = field(tmp_path, tiny_index)["0"]
    inter = field(tmp_path, tiny_index, suffix="_project")["0"]
    assert main.dtype == np.uint16 and int(main[...].max()) == 65535  # [0, 1] scaled, not clipped
    assert inter.dtype == np.dtype(tiny_index.dtype) and inter.shape[2] == 1


def test_stacking_channels_gives_each_call_all_channels(tiny_index, tmp_path):
    plan = plan_for(
        tiny_index,
        tmp_path,
        [Step(MAXP, name="project"), Step(MAXP, name="all", variable_components=["channel"])],
    )
    result = run_unit(plan.units[0])
    assert result.ok, result.error
    image = field(tmp_path, tiny_index)["0"]
    assert image.shape[:3] == (1, 1, 1)  # channels stacked and reduced to one plane
    from napari_openhcs.plates import read_plane

    unit = plan.units[0]
    raw = [read_plane(unit.plate_format, loc) for _, loc in unit.images]
    np.testing.assert_array_equal(image[0, 0, 0], np.max(raw, axis=0))  # max over z, then channels


def test_plate_step_runs_once_and_every_unit_receives_its_result(tiny_index, tmp_path, plate_funcs):
    import plate_step_funcs

    plan = plan_for(
        tiny_index,
        tmp_path,
        [
            Step(f"{plate_funcs}.estimate_flatfield", name="flat", scope="plate"),
            Step(MAXP, name="project"),
            Step((f"{plate_funcs}.divide_by", {"flatfield": {"plate_step": "flat"}}), name="apply"),
        ],
    )
    (job,) = plan.plate_jobs
    path = run_plate_step(job)
    assert plate_step_funcs.CALLS["estimate"] == 2  # once per channel, over all wells and sites
    saved = np.load(path)
    groups = json.loads(path.with_suffix(".json").read_text())["groups"]
    assert saved.shape == (2, 64, 64) and groups == [{"channel": c, "timepoint": 1} for c in (1, 2)]

    from napari_openhcs.plates import read_plane

    for unit in plan.units:
        assert run_unit(unit).ok
        out = field(tmp_path, tiny_index, unit.well, unit.site - 1)["0"][...]
        for ci, channel in enumerate((1, 2)):
            raw = [
                read_plane(unit.plate_format, loc) for k, loc in unit.images if k.channel == channel
            ]
            expected = np.max(raw, axis=0).astype(np.float32) / saved[ci]
            np.testing.assert_allclose(out[0, ci, 0], expected, rtol=1e-6)
    assert plate_step_funcs.CALLS["estimate"] == 2  # the units did not re-run it


def test_a_unit_whose_plate_result_is_missing_fails_clearly(tiny_index, tmp_path, plate_funcs):
    plan = plan_for(
        tiny_index,
        tmp_path,
        [
            Step(f"{plate_funcs}.estimate_flatfield", name="flat", scope="plate"),
            Step((f"{plate_funcs}.divide_by", {"flatfield": {"plate_step": "flat"}}), name="apply"),
        ],
    )
    result = run_unit(plan.units[0])
    assert not result.ok and "must run before the units" in result.error.message


@pytest.mark.parametrize(
    ("values", "rule", "plate", "expected", "dtype"),
    [
        ([0.0, 0.5, 1.0], "plate", "uint16", [0, 32768, 65535], np.uint16),
        ([0.0, 0.5, 1.0], "uint8", None, [0, 128, 255], np.uint8),
        ([3.0, 300.4], "plate", "uint16", [3, 300], np.uint16),
        ([-1.0, 0.0, 3.0], "uint16", None, [0, 16384, 65535], np.uint16),
        ([0, 65535], "uint8", None, [0, 255], np.uint8),
        ([0.25, 2.0], "keep", None, [0.25, 2.0], np.float64),
        ([True, False], "keep", None, [1, 0], np.uint8),
        ([7, 9], "float32", None, [7.0, 9.0], np.float32),
    ],
)
def test_output_dtype_rule_is_range_aware(values, rule, plate, expected, dtype):
    out = cast_for_output(np.array(values), rule, plate)
    assert out.dtype == dtype
    assert out.tolist() == expected


def test_small_positive_floats_are_never_clipped_to_zero():
    data = np.array([0.001, 0.002, 0.004])
    assert cast_for_output(data, "uint16").min() > 0


def test_bad_output_dtype_is_refused():
    from napari_openhcs.errors import PipelineError

    with pytest.raises(PipelineError, match="output_dtype"):
        Step(MAXP, output_dtype="bytes")


@pytest.mark.parametrize("fmt", ["imagexpress", "operaphenix"])
def test_nuclei_count_is_within_5_percent_of_the_ground_truth(tmp_path, fmt):
    from napari_openhcs.plates import open_plate
    from napari_openhcs.plates.synthetic import write_plate

    plate = write_plate(tmp_path / "plate", fmt)  # the default synthetic plate
    truth = json.loads((tmp_path / "plate" / "ground_truth.json").read_text())
    index = open_plate(plate)
    plan = compile_pipeline(
        load_pipeline("nuclei_count"), index, output_spec(index, tmp_path / "out")
    )
    assert len(plan.units) == sum(len(sites) for sites in truth["counts"].values())
    for unit in plan.units:
        result = run_unit(unit)
        assert result.ok, result.error
        expected = truth["counts"][unit.well][str(unit.site)]
        assert abs(result.aggregates["object_count"] - expected) <= 0.05 * expected, unit.label


def test_run_plate_runs_the_plate_step_before_the_units(tiny_plate, tmp_path, plate_funcs):
    import plate_step_funcs

    from napari_openhcs.execution import run_plate

    pipeline = Pipeline(
        [
            Step(f"{plate_funcs}.estimate_flatfield", name="flat", scope="plate"),
            Step(MAXP, name="project"),
            Step((f"{plate_funcs}.divide_by", {"flatfield": {"plate_step": "flat"}}), name="apply"),
        ]
    )
    report = run_plate(tiny_plate, pipeline, tmp_path / "out", executor="serial")
    assert report.exit_code == 0
    assert plate_step_funcs.CALLS["estimate"] == 2
    assert (tmp_path / "out" / ".openhcs" / "plate_steps" / "flat.npy").is_file()


def test_gpu_out_of_memory_names_the_step_and_the_well(tiny_index, tmp_path, plate_funcs):
    plan = plan_for(tiny_index, tmp_path, [Step(f"{plate_funcs}.run_out_of_memory", name="big")])
    result = run_unit(plan.units[3])
    assert not result.ok
    message = result.error.message
    assert "GPU out of memory in step 'big'" in message and "B02 site 2" in message
    assert "4.00 GiB" in message


def test_flatfield_estimated_once_per_channel_corrects_every_well(tiny_plate, tmp_path):
    from napari_openhcs.execution import run_plate
    from napari_openhcs.execution.platesteps import load_plate_result
    from napari_openhcs.plates import open_plate, read_plane

    est = "napari_openhcs.functions.estimate_flatfield"
    cor = "napari_openhcs.functions.correct_flatfield"
    pipe = Pipeline(
        [
            Step((est, {"sigma": 2.0}), name="flat", scope="plate"),
            Step((cor, {"flatfield": {"plate_step": "flat"}}), name="corrected"),
        ]
    )
    report = run_plate(tiny_plate, pipe, tmp_path / "out", executor="processes", workers=2)
    assert report.exit_code == 0, report.wells
    groups, planes = load_plate_result(tmp_path / "out" / ".openhcs" / "plate_steps" / "flat.npy")
    assert sorted(g["channel"] for g in groups) == [1, 2] and planes.shape[0] == 2
    index = open_plate(tiny_plate)
    out = zarr.open_group(str(tmp_path / "out" / f"{index.name}.ome.zarr"), mode="r")
    for well in ("A01", "B02"):
        image = out[f"{well[0]}/{int(well[1:])}/1/0"][...]  # site 2
        for c in (1, 2):
            key = next(k for k in index.keys_for(well, 2) if k.channel == c and k.z == 2)
            raw = read_plane(index.format, index.images[key]).astype(np.float32)
            flat = planes[[g["channel"] for g in groups].index(c)]
            np.testing.assert_allclose(image[0, c - 1, 1], raw / flat, rtol=1e-6)
