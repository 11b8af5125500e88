"""Object sets in pipelines: ``{"objects": step}`` checked and resolved by the compiler on a
plate whose image files do not exist (so no check can have read a pixel), and the names
measurement functions get from the step and the plate's channels."""

from __future__ import annotations

import pytest
from pipeline_helpers import output_spec

from napari_openhcs.errors import PipelineError
from napari_openhcs.pipeline import Pipeline, Step
from napari_openhcs.pipeline.compiler import compile_pipeline
from napari_openhcs.plates.index import ImageKey, PlateIndex
from napari_openhcs.registry import get_info

F = "napari_openhcs.functions."
PRIMARY, SECONDARY = F + "identify_primary_objects", F + "identify_secondary_objects"
TERTIARY, RELATE, MEASURE = (
    F + "identify_tertiary_objects",
    F + "relate_objects",
    F + "measure_cells",
)
MAXP, THRESHOLD, GAUSS = F + "max_projection", F + "threshold", "skimage.filters.gaussian"


@pytest.fixture
def ghost(tmp_path):
    """A two-channel plate index whose image files do not exist."""
    missing = tmp_path / "no-such-plate"
    keys = [ImageKey("A01", 1, c, 1, 1) for c in (1, 2)]
    return PlateIndex(
        format="imagexpress",
        root=str(missing),
        name="ghost",
        rows=8,
        columns=12,
        wells=["A01"],
        sites=[1],
        channels=[1, 2],
        z=[1],
        timepoints=[1],
        images={k: str(missing / f"A01_w{k.channel}.tif") for k in keys},
        channel_names={1: "DAPI", 2: "Alexa 488"},
    )


def _compile(index, tmp_path, *steps):
    return compile_pipeline(Pipeline(list(steps)), index, output_spec(index, tmp_path / "out"))


def _kwargs(plan, step, group, position=0):
    found = next(s for s in plan.steps if s.name == step)
    return dict(found.pattern)[group][position][1]


def _nuclei():
    return Step({"1": PRIMARY}, name="nuclei", group_by="channel")


def _cells(seeds, name="cells"):
    return Step({"2": (SECONDARY, {"seeds": seeds})}, name=name, group_by="channel")


def test_object_parameters_are_declared_as_objects():
    for ref, name in ((SECONDARY, "seeds"), (TERTIARY, "nuclei"), (RELATE, "children")):
        spec = next(p for p in get_info(ref).params if p.name == name)
        assert (spec.annotation, spec.required, spec.default) == ("objects", True, None)
    assert next(p for p in get_info(MEASURE).params if p.name == "intensity").annotation == "image"


def test_an_objects_reference_resolves_to_the_labels_of_its_step(ghost, tmp_path):
    plan = _compile(ghost, tmp_path, _nuclei(), _cells({"objects": "nuclei"}))
    assert _kwargs(plan, "cells", "2")["seeds"] == {"image": "nuclei", "channel": 1}
    tertiary = Step(
        {"2": (TERTIARY, {"nuclei": {"objects": "nuclei"}})}, name="cyto", group_by="channel"
    )
    plan = _compile(ghost, tmp_path, _nuclei(), _cells({"objects": "nuclei"}), tertiary)
    assert _kwargs(plan, "cyto", "2")["nuclei"] == {"image": "nuclei", "channel": 1}


def test_an_image_reference_to_labels_still_works_for_older_pipelines(ghost, tmp_path):
    plan = _compile(ghost, tmp_path, _nuclei(), _cells({"image": "nuclei", "channel": 1}))
    assert _kwargs(plan, "cells", "2")["seeds"] == {"image": "nuclei", "channel": 1}


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        (
            [_nuclei(), _cells({"objects": "nucleus"})],
            r"asks for object set 'nucleus', which is not an enabled per-well step before it "
            r"\(object sets before it: nuclei \(channel 1\)\)",
        ),
        (
            [_cells({"objects": "nuclei"}), _nuclei()],
            r"object set 'nuclei', which is not an enabled per-well step before it "
            r"\(object sets before it: none",
        ),
        (
            [Step(GAUSS, name="smooth"), _cells({"objects": "smooth"})],
            r"step 'smooth' gives an image, not labels",
        ),
        (
            [Step(THRESHOLD, name="fg"), _cells({"objects": "fg"})],
            r"step 'fg' gives a mask, not labels",
        ),
        (
            [Step(PRIMARY, name="nuclei"), _cells({"objects": "nuclei"})],
            r"object set 'nuclei', which has labels in channels 1, 2: name one, e\.g\. "
            r'\{"objects": "nuclei", "channel": 1\}',
        ),
        (
            [_nuclei(), _cells({"objects": "nuclei", "channel": 2})],
            r"object set 'nuclei' in channel 2, where step 'nuclei' gives an image, not labels "
            r"\(its labels are in channel 1\)",
        ),
        (
            [_nuclei(), _cells({"image": "nuclei", "channel": 2})],
            r"takes an object set \(labels\), but \{'image': 'nuclei', 'channel': 2\} is an "
            r"image, not labels",
        ),
        (
            [_nuclei(), _cells({"image": "start", "channel": 1})],
            r"takes an object set \(labels\), but .* is an image, not labels",
        ),
        (
            [_nuclei(), _cells(3)],
            r"parameter 'seeds' takes an object set, given as \{\"objects\": \"<earlier step>\"\}; "
            r"got 3",
        ),
        (
            [_nuclei(), Step({"2": SECONDARY}, name="cells", group_by="channel")],
            r"parameter 'seeds' takes an object set and has none",
        ),
        (
            [_nuclei(), Step((GAUSS, {"sigma": {"objects": "nuclei"}}), name="blur")],
            r"parameter 'sigma' takes float, not an object set",
        ),
        (
            [
                _nuclei(),
                Step(
                    {"1": (MEASURE, {"intensity": {"objects": "nuclei"}})},
                    name="m",
                    group_by="channel",
                ),
            ],
            r"parameter 'intensity' takes image, not an object set",
        ),
    ],
    ids=[
        "unknown",
        "later-step",
        "image",
        "mask",
        "several-channels",
        "wrong-channel",
        "image-ref-to-image",
        "start",
        "number",
        "missing",
        "objects-to-float",
        "objects-to-image",
    ],
)
def test_bad_object_references_are_refused_in_one_line_before_any_pixel(
    ghost, tmp_path, steps, message
):
    with pytest.raises(PipelineError, match=message) as info:
        _compile(ghost, tmp_path, *steps)
    assert "\n" not in str(info.value)


def test_a_plate_step_cannot_take_an_object_set(ghost, tmp_path):
    steps = [
        _nuclei(),
        Step(
            {"2": (SECONDARY, {"seeds": {"objects": "nuclei"}})},
            name="c",
            group_by="channel",
            scope="plate",
        ),
    ]
    with pytest.raises(
        PipelineError, match="object set 'nuclei', which is not an enabled per-well"
    ):
        _compile(ghost, tmp_path, *steps)


def test_measurements_take_the_step_compartment_and_the_plate_channel_names(ghost, tmp_path):
    measure = Step(
        {
            "1": [
                PRIMARY,
                (MEASURE, {"intensity": {"image": "start", "channel": 1}}),
                (MEASURE, {"intensity": {"image": "start", "channel": 2}}),
            ]
        },
        name="nuclei",
        group_by="channel",
    )
    plan = _compile(ghost, tmp_path, measure)
    first, second = _kwargs(plan, "nuclei", "1", 1), _kwargs(plan, "nuclei", "1", 2)
    assert (first["compartment"], first["channels"]) == ("Nuclei", ("DAPI",))
    assert (second["compartment"], second["channels"]) == ("Nuclei", ("Alexa488",))


def test_measurements_without_an_intensity_channel_read_their_group_channel(ghost, tmp_path):
    step = Step(
        {"2": [PRIMARY, (MEASURE, {"intensity": {"image": "start"}})]},
        name="spots",
        group_by="channel",
    )
    kwargs = _kwargs(_compile(ghost, tmp_path, step), "spots", "2", 1)
    assert (kwargs["compartment"], kwargs["channels"]) == ("Spots", ("Alexa488",))


def test_given_names_are_kept_and_bad_ones_refused(ghost, tmp_path):
    def step(**kwargs):
        chain = [PRIMARY, (MEASURE, {"intensity": {"image": "start", "channel": 1}, **kwargs})]
        return Step({"1": chain}, name="nuclei", group_by="channel")

    plan = _compile(ghost, tmp_path, step(compartment="Nucleus", channels=["Hoechst"]))
    assert _kwargs(plan, "nuclei", "1", 1)["compartment"] == "Nucleus"
    assert list(_kwargs(plan, "nuclei", "1", 1)["channels"]) == ["Hoechst"]
    with pytest.raises(PipelineError, match="compartment 'My_cells' is no feature-name part"):
        _compile(ghost, tmp_path, step(compartment="My_cells"))
    with pytest.raises(PipelineError, match=r"channel name\(s\) 'Alexa 488' are no feature-name"):
        _compile(ghost, tmp_path, step(channels=["Alexa 488"]))


def test_the_object_sets_offered_are_the_earlier_labels(ghost):
    from napari_openhcs.pipeline.objectsets import object_set_choices

    steps = [
        Step(MAXP, name="project"),
        _nuclei(),
        Step(PRIMARY, name="both"),  # labels in channels 1 and 2
        Step(GAUSS, name="smooth", input_source="start"),
        _cells({"objects": "nuclei"}),
    ]
    assert object_set_choices(steps, ghost, 1) == []
    assert object_set_choices(steps, ghost, 4) == [
        {"objects": "nuclei"},
        {"objects": "both", "channel": 1},
        {"objects": "both", "channel": 2},
    ]
    assert {"objects": "cells"} in object_set_choices(steps, ghost, 5)
