"""The dock's step model keeps every group of a dict pattern through load and save."""

from __future__ import annotations

from napari_openhcs.pipeline import Step
from napari_openhcs.pipeline.jsonio import step_to_dict


def test_grouped_step_with_two_groups_round_trips_through_the_dock_model():
    from napari_openhcs.gui._step_form import StepModel

    step = Step(
        func={
            "1": [
                ("napari_openhcs.functions.percentile_normalize", {"high": 99.0}),
                "napari_openhcs.functions.count_objects",
            ],
            "2": ("skimage.filters.gaussian", {"sigma": 3.0}),
        },
        name="per channel",
        group_by="channel",
        materialize=True,
    )
    model = StepModel.from_step(step)
    assert model.group_value == "1"
    assert step_to_dict(model.to_step()) == step_to_dict(step)


def test_editing_the_shown_group_keeps_the_others():
    from napari_openhcs.gui._step_form import StepModel

    step = Step(
        func={"1": "skimage.filters.gaussian", "2": "skimage.filters.median"}, group_by="channel"
    )
    model = StepModel.from_step(step)
    model.kwargs = {"sigma": 2.0}
    func = step_to_dict(model.to_step())["func"]["groups"]
    assert func["1"] == {"function": "skimage.filters.gaussian", "kwargs": {"sigma": 2.0}}
    assert func["2"] == "skimage.filters.median"


def test_plate_scope_survives_the_dock_model():
    from napari_openhcs.gui._step_form import StepModel

    step = Step(("napari_openhcs.functions.estimate_flatfield", {"sigma": 5.0}), scope="plate")
    assert StepModel.from_step(step).to_step() == step


def test_image_sources_offer_every_earlier_output_per_channel_and_keep_other_values():
    from napari_openhcs.gui._param_widgets import image_sources

    choices = dict(
        (label, value)
        for label, value in image_sources([("flat", "plate"), ("blur", "unit")], [1, 2])
    )
    assert choices["this image"] == {"image": "previous"}
    assert choices["raw images, channel 2"] == {"image": "start", "channel": 2}
    assert choices["step 'blur', channel 1"] == {"image": "blur", "channel": 1}
    assert choices["plate step 'flat'"] == {"plate_step": "flat"}
    odd = {"image": "gone"}
    assert image_sources([], [], odd)[-1] == (repr(odd), odd)
