"""Objects parameters (annotation ``"objects"``): a choice of the earlier object sets."""

from __future__ import annotations

import pytest

from napari_openhcs.gui._param_widgets import (
    INVALID_STYLE,
    NOT_AN_OBJECT_SET,
    ObjectsSource,
    object_sets,
    param_annotation,
    param_widget,
)
from napari_openhcs.registry.info import ParamSpec

pytestmark = pytest.mark.gui

SEEDS = ParamSpec(name="seeds", annotation="objects", default=None, doc="The seed objects.")
CONTEXT = {"objects": ["nuclei", "spots"], "earlier": [("project", "unit"), ("nuclei", "unit")]}


def test_an_objects_parameter_offers_the_earlier_object_sets_only():
    assert param_annotation(SEEDS, {"objects": "nuclei"}) is ObjectsSource
    w = param_widget(SEEDS, {"objects": "nuclei"}, CONTEXT)
    assert [c for c in w.choices] == [{"objects": "nuclei"}, {"objects": "spots"}]
    assert w.value == {"objects": "nuclei"}
    assert w.native.styleSheet() == ""
    w.value = {"objects": "spots"}
    assert w.value == {"objects": "spots"}


def test_a_removed_object_set_stays_and_is_shown_invalid():
    w = param_widget(SEEDS, {"objects": "cells"}, CONTEXT)
    assert w.value == {"objects": "cells"}  # not silently changed to nuclei
    assert w.current_choice == f"'cells': {NOT_AN_OBJECT_SET}"
    assert w.native.styleSheet() == INVALID_STYLE
    w.value = {"objects": "nuclei"}  # choosing a real one clears the mark
    assert w.native.styleSheet() == ""


def test_the_image_form_of_an_object_set_is_kept_under_its_name():
    old = {"image": "nuclei", "channel": 1}
    labels = [label for label, _ in object_sets(["nuclei"], old)]
    assert labels == ["nuclei", "nuclei (channel 1)"]
    w = param_widget(SEEDS, old, CONTEXT)
    assert w.value == old and w.native.styleSheet() == ""
    none = param_widget(SEEDS, None, CONTEXT)
    assert none.value is None and none.native.styleSheet() == INVALID_STYLE
