"""``fn`` takes a registered function object as well as its reference, and refuses the rest
with the reason (not a crash inside difflib)."""

from __future__ import annotations

import json

import pytest

from napari_openhcs.errors import UnknownFunctionError
from napari_openhcs.pipeline import Step
from napari_openhcs.registry import fn


def test_fn_of_a_registered_function_object_is_its_reference():
    import skimage.filters

    import napari_openhcs.functions as own

    assert fn(skimage.filters.gaussian) == fn("skimage.filters.gaussian")
    assert fn(own.max_projection).ref == "napari_openhcs.functions.max_projection"
    ref = fn("skimage.filters.gaussian")
    assert fn(ref) is ref


def test_fn_refuses_a_notebook_function_saying_workers_cannot_import_it():
    def local(stack):
        return stack

    notebook = type(local)(local.__code__, {"__name__": "__main__"}, "cell_function")
    notebook.__module__ = "__main__"
    for func in (local, notebook):
        with pytest.raises(UnknownFunctionError, match="notebook.*cannot import it.*register"):
            fn(func)


def test_fn_refuses_an_unregistered_function_and_a_non_function_with_the_reason():
    with pytest.raises(UnknownFunctionError, match="json.dumps is not a registered function"):
        fn(json.dumps)
    with pytest.raises(UnknownFunctionError, match="not a function or function reference: int"):
        fn(3)


def test_step_and_fn_agree_on_function_objects():
    import skimage.filters

    assert Step(skimage.filters.gaussian).pattern == [(fn(skimage.filters.gaussian).ref, {})]
