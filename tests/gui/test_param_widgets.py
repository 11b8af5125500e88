"""Every parameter spec of every discovered function builds a native magicgui widget.

The widget is built exactly as the GUI builds it (``registry.specs.widget_annotation`` /
``widget_options`` / ``widget_value``) and must hold the spec's default unchanged: magicgui
clamps numbers silently to its range, so a wrong bound would show here as a changed value.
"""

from __future__ import annotations

import math

import pytest

from napari_openhcs.registry.specs import (
    spec_value,
    widget_annotation,
    widget_options,
    widget_value,
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


def test_every_parameter_builds_a_widget_holding_its_default(qapp):
    from magicgui.widgets import EmptyWidget, create_widget

    infos = _all_infos()
    libraries = {i.library for i in infos}
    assert {"skimage", "pyclesperanto"} <= libraries
    failures = []
    count = 0
    for info in infos:
        for spec in info.params:
            count += 1
            shown = widget_value(spec)
            try:
                widget = create_widget(
                    value=shown,
                    annotation=widget_annotation(spec),
                    options=widget_options(spec),
                )
            except Exception as exc:  # noqa: BLE001 - collect every failure with its name
                failures.append(f"{info.ref}:{spec.name} raised {exc!r}")
                continue
            if isinstance(widget, EmptyWidget):
                failures.append(f"{info.ref}:{spec.name} gave an EmptyWidget")
            elif not _same(widget.value, shown):
                failures.append(f"{info.ref}:{spec.name} shows {widget.value!r}, not {shown!r}")
            elif not _same(spec_value(spec, widget.value), spec.default):
                failures.append(
                    f"{info.ref}:{spec.name} reads back {spec_value(spec, widget.value)!r}, "
                    f"not {spec.default!r}"
                )
    assert count > 500
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"


def test_footprint_is_a_shape_and_size_pair(qapp):
    from magicgui.widgets import create_widget

    from napari_openhcs.registry.info import ParamSpec

    spec = ParamSpec("footprint", "footprint", {"disk": 3})
    widget = create_widget(
        value=widget_value(spec), annotation=widget_annotation(spec), options=widget_options(spec)
    )
    assert widget.value == ("disk", 3)
    widget.value = ("square", 7)
    assert spec_value(spec, widget.value) == {"square": 7}


def test_the_dock_form_widget_of_every_parameter_holds_its_default(qapp):
    from magicgui.widgets import EmptyWidget

    from napari_openhcs.gui._step_form import param_widget
    from napari_openhcs.gui._step_form import widget_value as form_value

    context = {"earlier": [("project", "unit"), ("flat", "plate")], "channels": [1, 2]}
    failures, images = [], 0
    for info in _all_infos():
        for spec in info.params:
            w = param_widget(spec, spec.default, context)
            images += spec.annotation == "image"
            if isinstance(w, EmptyWidget):
                failures.append(f"{info.ref}:{spec.name} gave an EmptyWidget")
            elif not _same(form_value(w), spec.default):
                failures.append(f"{info.ref}:{spec.name} holds {form_value(w)!r}")
    assert images >= 35  # the second-image parameters get their source list
    assert not failures, "\n".join(failures[:40]) + f"\n({len(failures)} in all)"


def test_units_and_odd_sizes_are_read_from_names_and_docs():
    from napari_openhcs.gui._step_form import must_be_odd, param_label
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
