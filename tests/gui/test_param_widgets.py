"""Every parameter spec of every discovered function builds a native magicgui widget.

The widget is built exactly as the GUI builds it (the dock's ``param_widget``, through the
one map ``gui._param_widgets``: ``param_annotation`` / ``param_options`` / ``PARAMETER_TYPES``)
and must hold the spec's default unchanged: magicgui clamps numbers silently to its range, so
a wrong bound would show here as a changed value.
"""

from __future__ import annotations

import math

import pytest

from napari_openhcs.gui._param_widgets import (
    Footprint,
    LiteralEdit,
    LiteralText,
    param_annotation,
    param_options,
    param_widget,
)

pytestmark = pytest.mark.gui


def _all_infos():
    from napari_openhcs.registry.libraries import pyclesperanto, skimage

    infos = {}
    for module in (skimage, pyclesperanto):
        for info in module.discover():
            infos[info.ref] = info
    try:
        from napari_openhcs.registry import list_functions

        for info in list_functions():
            infos.setdefault(info.ref, info)
    except ImportError:
        pass
    return list(infos.values())


def _same(a, b) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        both = isinstance(a, float) and isinstance(b, float)
        return a == b or (both and math.isnan(a) and math.isnan(b))
    return a == b


def _shown(widget):
    """What the widget shows, before the map turns it into the parameter value."""
    from magicgui.widgets import LineEdit, ListEdit

    for base in (LineEdit, ListEdit):
        if isinstance(widget, base):
            return base.get_value(widget)
    return getattr(widget, "pair", widget.value)


def test_every_parameter_builds_a_widget_holding_its_default(qapp):
    from magicgui.widgets import EmptyWidget

    infos = _all_infos()
    libraries = {i.library for i in infos}
    assert {"skimage", "pyclesperanto"} <= libraries
    failures = []
    count = 0
    for info in infos:
        for spec in info.params:
            count += 1
            annotation = param_annotation(spec)
            try:
                widget = param_widget(spec, spec.default)
            except Exception as exc:  # noqa: BLE001 - collect every failure with its name
                failures.append(f"{info.ref}:{spec.name} raised {exc!r}")
                continue
            if isinstance(widget, EmptyWidget):
                failures.append(f"{info.ref}:{spec.name} gave an EmptyWidget")
            elif isinstance(widget, LiteralEdit) and annotation is not LiteralText:
                failures.append(f"{info.ref}:{spec.name} fell back to text, not {annotation}")
            elif not _same(widget.value, spec.default):
                failures.append(
                    f"{info.ref}:{spec.name} shows {_shown(widget)!r} and reads back "
                    f"{widget.value!r}, not {spec.default!r}"
                )
    assert count > 500
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"


def test_footprint_is_a_shape_and_size_pair(qapp):
    from napari_openhcs.registry.info import ParamSpec

    spec = ParamSpec("footprint", "footprint", {"disk": 3})
    widget = param_widget(spec, spec.default)
    assert param_annotation(spec) is Footprint
    assert widget.pair == ("disk", 3)
    widget[0].value, widget[1].value = "square", 7  # as a user picks them
    assert widget.value == {"square": 7}


def test_widget_mapping_round_trips_each_kind(qapp):
    from napari_openhcs.registry.info import ParamSpec

    cases = [
        (ParamSpec("sigma", "float", 0.005, bounds=(0.0, 100.0)), float, 0.005),
        (ParamSpec("n", "int", 3, bounds=(0, 10)), int, 3),
        (ParamSpec("mode", "str", "reflect", choices=("reflect", "wrap")), str, "reflect"),
        (ParamSpec("footprint", "footprint", {"disk": 2}), Footprint, ("disk", 2)),
        (ParamSpec("sigmas", "tuple[float, ...]", None, optional=True), list[float], []),
        (ParamSpec("order", "int", None, optional=True), LiteralText, ""),
        (ParamSpec("lo", "float", float("nan")), LiteralText, "nan"),
    ]
    for spec, annotation, shown in cases:
        assert param_annotation(spec) == annotation, spec.name
        widget = param_widget(spec, spec.default)
        assert _shown(widget) == shown, spec.name
        back = widget.value
        assert back == spec.default or (back != back and spec.default != spec.default)
    assert param_options(cases[0][0])["step"] <= 0.001  # shows 0.005 unrounded
    assert param_options(cases[2][0]) == {"choices": ["reflect", "wrap"]}
    order = param_widget(cases[5][0], None)
    order.native.setText("2")  # as a user types it
    assert order.value == 2


def test_the_dock_form_widget_of_every_parameter_holds_its_default(qapp):
    from magicgui.widgets import EmptyWidget

    context = {"earlier": [("project", "unit"), ("flat", "plate")], "channels": [1, 2]}
    failures, images = [], 0
    for info in _all_infos():
        for spec in info.params:
            w = param_widget(spec, spec.default, context)
            images += spec.annotation == "image"
            if isinstance(w, EmptyWidget):
                failures.append(f"{info.ref}:{spec.name} gave an EmptyWidget")
            elif not _same(w.value, spec.default):
                failures.append(f"{info.ref}:{spec.name} holds {w.value!r}")
    assert images >= 35  # the second-image parameters get their source list
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"


def test_units_and_odd_sizes_are_read_from_names_and_docs():
    from napari_openhcs.gui._param_widgets import must_be_odd, param_label
    from napari_openhcs.registry import get_info

    def spec(ref, name):
        return next(p for p in get_info(ref).params if p.name == name)

    assert param_label(spec("skimage.filters.gaussian", "sigma")) == "sigma (px)"
    assert param_label(spec("skimage.filters.gaussian", "mode")) == "mode"  # a choice: no unit
    assert param_label(spec("skimage.filters.gaussian", "truncate")) == "truncate"
    assert param_label(spec("napari_openhcs.functions.count_objects", "min_area")).endswith("(px²)")
    assert must_be_odd(spec("skimage.filters.threshold_local", "block_size"))
    assert not must_be_odd(spec("napari_openhcs.functions.count_objects", "min_area"))


def test_titles_come_from_the_name_cased_as_the_docstring_writes_it():
    from napari_openhcs.gui._browser import title
    from napari_openhcs.registry import get_info

    assert title(get_info("skimage.filters.gaussian")) == "Multi-dimensional Gaussian filter"
    assert title(get_info("skimage.filters.sobel")) == "Sobel"
    assert title(get_info("napari_openhcs.functions.count_objects")) == "Count objects"
    assert title(get_info("skimage.filters.threshold_local")) == "Threshold local"
