"""Image-valued parameters in pipelines: ``{"image": source, "channel": c}`` resolved per group
in units and previews, validated by the compiler before any pixel is read."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from pipeline_helpers import output_spec

from napari_openhcs.errors import PipelineError
from napari_openhcs.execution.unitrun import run_unit
from napari_openhcs.pipeline import Pipeline, Step
from napari_openhcs.pipeline.compiler import compile_pipeline
from napari_openhcs.pipeline.jsonio import pipeline_from_dict, pipeline_to_dict
from napari_openhcs.plates import read_plane

MAXP = "napari_openhcs.functions.max_projection"
COUNT = "napari_openhcs.functions.count_objects"
MEASURE = "napari_openhcs.functions.measure_objects"


def _plan(index, out, steps):
    return compile_pipeline(Pipeline(steps), index, output_spec(index, out))


def _labels(out, index, well="A01", field_no=0, name="nuclei"):
    root = zarr.open_group(str(out / f"{index.name}.ome.zarr"), mode="r")
    return root[f"{well[0]}/{int(well[1:])}/{field_no}/labels/{name}/0"][...]


def _expected_table(labels, intensity):
    from skimage.measure import regionprops_table

    return regionprops_table(
        labels, intensity_image=intensity, properties=("label", "intensity_mean", "area")
    )


def test_marker_in_channel_2_is_measured_under_nuclei_of_channel_1(tiny_index, tmp_path):
    steps = [
        Step(MAXP, name="project"),
        Step({"1": COUNT}, name="nuclei", group_by="channel", materialize=True),
        Step(
            {"1": (MEASURE, {"intensity": {"image": "project", "channel": 2}})},
            name="marker",
            group_by="channel",
        ),
    ]
    plan = _plan(tiny_index, tmp_path, steps)
    unit = plan.units[0]
    result = run_unit(unit)
    assert result.ok, result.error
    labels = _labels(tmp_path, tiny_index, name="nuclei")[0, 0, 0]
    assert labels.max() > 0
    marker = np.max(
        [read_plane(unit.plate_format, loc) for k, loc in unit.images if k.channel == 2], axis=0
    )
    want = _expected_table(labels, marker.astype(np.float64))
    table = result.measurements.to_pydict()
    rows = [i for i, s in enumerate(table["step"]) if s == "marker"]
    assert [table["label"][i] for i in rows] == list(want["label"])
    np.testing.assert_allclose(
        [table["mean_intensity"][i] for i in rows], want["intensity_mean"], rtol=1e-6
    )
    # and the marker differs from the nuclei channel's own intensity (a different image)
    nuclei = [table["mean_intensity"][i] for i, s in enumerate(table["step"]) if s == "nuclei"]
    assert not np.allclose(nuclei, [table["mean_intensity"][i] for i in rows])


def test_start_image_is_matched_plane_by_plane_through_a_z_stack(tiny_index, tmp_path):
    steps = [
        Step({"1": COUNT}, name="nuclei", group_by="channel"),
        Step(
            {"1": (MEASURE, {"intensity": {"image": "start", "channel": 2}})},
            name="marker",
            group_by="channel",
        ),
    ]
    unit = _plan(tiny_index, tmp_path, steps).units[0]
    result = run_unit(unit)
    assert result.ok, result.error
    table = result.measurements.to_pydict()
    planes = sorted({table["plane"][i] for i, s in enumerate(table["step"]) if s == "marker"})
    assert planes == [0, 1, 2]  # one measurement set per z-plane of the raw channel 2 stack


def test_previous_image_of_another_channel_is_the_steps_input(tiny_index, tmp_path):
    from napari_openhcs.execution.preview import run_preview

    pipe = Pipeline(
        [
            Step(MAXP, name="project"),
            Step({"1": COUNT}, name="nuclei", group_by="channel"),
            Step(
                {"1": (MEASURE, {"intensity": {"image": "previous", "channel": 2}})},
                name="marker",
                group_by="channel",
            ),
        ]
    )
    out = run_preview(str(tiny_index.root), pipe, "A01", 1)
    assert all(e["error"] is None for e in out), [e["error"] for e in out]
    assert {e["step"] for e in out} == {"project", "nuclei", "marker"}


def test_json_round_trip_keeps_image_references():
    pipe = Pipeline(
        [
            Step(MAXP, name="project"),
            Step((MEASURE, {"intensity": {"image": "project", "channel": 2}}), name="m"),
        ]
    )
    d = pipeline_to_dict(pipe)
    assert pipeline_to_dict(pipeline_from_dict(d)) == d


@pytest.mark.parametrize(
    ("intensity", "message"),
    [
        ({"image": "later"}, "not an enabled per-well step before it"),
        ({"image": "nowhere"}, "not an enabled per-well step before it"),
        ({"image": "start", "channel": 9}, "channel 9, which the plate does not have"),
        (3, "takes an image"),
        ("start", "takes an image"),
    ],
)
def test_bad_image_references_are_refused_before_any_pixel_is_read(
    tiny_index, tmp_path, intensity, message
):
    steps = [
        Step({"1": COUNT}, name="nuclei", group_by="channel"),
        Step({"1": (MEASURE, {"intensity": intensity})}, name="m", group_by="channel"),
        Step(MAXP, name="later"),
    ]
    with pytest.raises(PipelineError, match=message):
        _plan(tiny_index, tmp_path, steps)


def test_reserved_step_names_are_refused(tiny_index, tmp_path):
    with pytest.raises(PipelineError, match="reserved"):
        _plan(tiny_index, tmp_path, [Step(MAXP, name="start")])


def test_a_source_without_matching_planes_fails_the_unit_with_a_clear_error(tiny_index, tmp_path):
    # "nuclei" is a z-projection: the z-stack step below has planes z=2, 3 it cannot match.
    steps = [
        Step({"1": [MAXP, COUNT]}, name="nuclei", group_by="channel", input_source="start"),
        Step(
            {"2": ("pyclesperanto.mask", {"mask": {"image": "nuclei", "channel": 1}})},
            name="masked",
            group_by="channel",
            input_source="start",
        ),
    ]
    result = run_unit(_plan(tiny_index, tmp_path, steps).units[0])
    assert not result.ok
    assert (
        result.error.step == "masked"
        and "no plane for site 1, channel 1, z 2" in result.error.message
    )


def test_a_plate_step_cannot_take_a_per_well_steps_output(tiny_index, tmp_path):
    steps = [
        Step(MAXP, name="project"),
        Step(
            ("pyclesperanto.add_images", {"input_image1": {"image": "project"}}),
            name="flat",
            scope="plate",
        ),
        Step(MAXP, name="again"),
    ]
    with pytest.raises(PipelineError, match="not an enabled per-well step before it"):
        _plan(tiny_index, tmp_path, steps)


def test_a_plate_step_cannot_take_another_plate_steps_result(tiny_index, tmp_path):
    est = "napari_openhcs.functions.estimate_flatfield"
    cor = "napari_openhcs.functions.correct_flatfield"
    steps = [
        Step(est, name="flat", scope="plate"),
        Step((cor, {"flatfield": {"plate_step": "flat"}}), name="flat2", scope="plate"),
        Step(MAXP, name="project"),
    ]
    with pytest.raises(PipelineError, match="not an enabled plate-scope step before it"):
        _plan(tiny_index, tmp_path, steps)
