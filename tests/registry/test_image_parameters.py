"""Image-valued parameters: their specs, and how a function reference passes a second image."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.errors import PipelineError
from napari_openhcs.memory import to_numpy
from napari_openhcs.registry import fn, get_info
from napari_openhcs.registry.specs import parse_value
from napari_openhcs.vocabulary import image_ref

SUBTRACT = "pyclesperanto.subtract_images"
MATCH = "skimage.exposure.match_histograms"


def _stacks():
    rng = np.random.default_rng(0)
    a = rng.random((3, 16, 20)).astype(np.float32)
    b = rng.random((3, 16, 20)).astype(np.float32)
    return a, b


@pytest.mark.parametrize(
    ("ref", "name"),
    [
        (SUBTRACT, "input_image1"),
        ("pyclesperanto.mask", "mask"),
        ("pyclesperanto.mean_intensity_map", "labels"),
        (MATCH, "reference"),
        ("skimage.segmentation.join_segmentations", "s2"),
        ("napari_openhcs.functions.measure_objects", "intensity"),
    ],
)
def test_second_images_are_image_specs_whose_form_value_round_trips(ref, name):
    spec = next(p for p in get_info(ref).params if p.name == name)
    assert spec.annotation == "image" and spec.required
    assert spec.default == {"image": "previous"}
    assert parse_value(repr(spec.default)) == spec.default
    assert parse_value("{'image': 'project', 'channel': 2}") == {
        "image": "project",
        "channel": 2,
    }


def test_a_stack_argument_is_sliced_plane_by_plane_with_the_image():
    a, b = _stacks()
    out = to_numpy(fn(SUBTRACT)(a, input_image1=b))
    np.testing.assert_allclose(out, a - b, rtol=1e-6)
    # per plane: each plane matched to the plane of the same index, not to the whole stack
    got = to_numpy(fn(MATCH)(a, reference=b))
    from skimage.exposure import match_histograms

    want = np.stack([match_histograms(a[i], b[i]) for i in range(3)])
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_a_single_plane_argument_serves_every_plane():
    a, b = _stacks()
    out = to_numpy(fn(SUBTRACT)(a, input_image1=b[1]))
    np.testing.assert_allclose(out, a - b[1][None], rtol=1e-6)


def test_previous_is_the_image_itself_outside_a_pipeline():
    a, _ = _stacks()
    out = to_numpy(fn(SUBTRACT)(a, input_image1={"image": "previous"}))
    np.testing.assert_array_equal(out, np.zeros_like(a))


def test_other_sources_need_a_pipeline_and_plane_counts_must_agree():
    a, b = _stacks()
    with pytest.raises(PipelineError, match="only be resolved inside a pipeline"):
        fn(SUBTRACT)(a, input_image1={"image": "start"})
    with pytest.raises(PipelineError, match="has 2 planes for a stack of 3"):
        fn(SUBTRACT)(a, input_image1=b[:2])


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ({"image": "previous"}, True),
        ({"image": "blur", "channel": 2}, True),
        ({"image": "start", "channel": "2"}, True),
        ({"image": ""}, False),
        ({"image": "x", "z": 1}, False),
        ({"image": "x", "channel": True}, False),
        ({"disk": 3}, False),
        ("start", False),
    ],
)
def test_image_reference_form(value, ok):
    assert (image_ref(value) is not None) is ok
