"""The Pipeline dock on a 1920 × 1080 screen, in words a biologist reads (issue 9, items 4, 5)."""

from __future__ import annotations

import pytest
from docks import add_through_browser, docks_on

pytestmark = pytest.mark.gui

GAUSSIAN = "skimage.filters.gaussian"
THRESHOLD_LOCAL = "skimage.filters.threshold_local"
COUNT = "napari_openhcs.functions.count_objects"
SOBEL = "skimage.filters.sobel"


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("screen") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "B02"], sites=1, channels=2, z=1, size=64, seed=8
    )


@pytest.fixture
def on_screen(make_napari_viewer, plate, qtbot):
    yield from docks_on(make_napari_viewer, plate, size=(1920, 1080))


def inside(widget, area) -> bool:
    """``widget``'s whole rectangle lies within ``area``'s (both shown)."""
    from qtpy.QtCore import QRect

    top_left = widget.mapTo(area, widget.rect().topLeft())
    return area.rect().contains(QRect(top_left, widget.size()))


def dock_of(widget):
    from qtpy.QtWidgets import QDockWidget

    while not isinstance(widget, QDockWidget):
        widget = widget.parentWidget()
    return widget


def test_four_step_pipeline_shows_the_selected_steps_parameters_without_scrolling(on_screen, qtbot):
    viewer, dock, nav = on_screen
    for ref in (GAUSSIAN, THRESHOLD_LOCAL, COUNT, SOBEL):
        add_through_browser(qtbot, dock, ref)
    win = viewer.window._qt_window
    for row in range(4):
        dock.step_list.setCurrentRow(row)
        qtbot.wait(200)
        assert dock.tabs.currentIndex() == 1  # adding a step shows the Steps tab
        assert win.height() <= 1080  # the docks did not push the window past the screen
        viewport = dock.form_scroll.viewport()
        assert dock.form.params is not None
        for w in dock.form.params:
            assert w.native.isVisible(), w.name
            assert inside(w.native, viewport), (dock.steps[row].ref, w.name)
        assert dock.form_scroll.verticalScrollBar().value() == 0
    # the step settings are folded under their heading; the run table and heat map wait in
    # their own tab
    assert not dock.form.settings.native.isVisible()
    dock.form.settings_toggle.click()
    assert dock.form.settings.native.isVisible()
    assert not dock.run_panel.status.isVisible() and not dock.run_panel.heatmap.isVisible()
    # both docks' minimum heights fit the screen beside the window's menu and status bars
    plate_dock, pipe_dock = dock_of(nav), dock_of(dock)
    assert plate_dock.minimumSizeHint().height() + pipe_dock.minimumSizeHint().height() < 1000
    assert pipe_dock.height() > plate_dock.minimumSizeHint().height()


def test_browser_shows_titles_and_libraries_with_the_reference_second(on_screen):
    _viewer, dock, _nav = on_screen
    b = dock.browser
    b.search.setText("gaussian")
    b.select(GAUSSIAN)
    first, second = b.list.currentItem().text().split("\n")
    assert first == "Multi-dimensional Gaussian filter · scikit-image"
    assert second.strip() == GAUSSIAN
    b.search.setText("sobel")
    b.select(SOBEL)
    assert b.list.currentItem().text().startswith("Sobel · scikit-image")
    assert {k: w.text() for k, w in b.filter_labels.items()} == {
        "library": "Library",
        "memory_type": "Runs on",
        "category": "Kind",
    }
    assert all(w.buddy() is getattr(b, k) for k, w in b.filter_labels.items())
    b.library.setCurrentText("scikit-image")
    refs = b.visible_refs()
    assert SOBEL in refs and all(r.startswith("skimage.") for r in refs)
    # the summary line says what its parts mean
    b.select(SOBEL)
    assert b.summary.text() == "scikit-image · numpy · slice · filter → image"
    assert "one 2-D plane at a time" in b.summary.toolTip()
    assert "library" in b.summary.toolTip()


def test_documentation_pane_is_readable_and_never_cuts_a_word(on_screen, qtbot):
    from napari_openhcs.gui._browser import readable_doc
    from napari_openhcs.registry import list_functions

    _viewer, dock, _nav = on_screen
    b = dock.browser
    dock.tabs.setCurrentWidget(b)
    b.search.setText("threshold_local")
    b.select(THRESHOLD_LOCAL)
    qtbot.wait(200)
    assert b.doc.isVisible() and b.doc.height() >= 200
    text = b.doc.toPlainText()
    assert "(e.g" not in text and "neighborhood which is used to calculate" in text
    for info in list_functions():
        for p in info.params:
            original, shown = p.doc.strip(), readable_doc(p.doc)
            if shown == original:
                continue
            assert shown.endswith("…"), (info.ref, p.name, shown)
            kept = shown[:-1]
            assert original.startswith(kept) and original[len(kept)] in " (", (info.ref, p.name)


def test_form_shows_channel_names_units_and_keeps_sizes_odd(on_screen, qtbot):
    _viewer, dock, _nav = on_screen
    add_through_browser(qtbot, dock, GAUSSIAN)
    assert dock.form.params["sigma"].label == "sigma (px)"
    add_through_browser(qtbot, dock, COUNT)
    assert dock.form.params["min_area"].label == "min_area (px²)"
    add_through_browser(qtbot, dock, "napari_openhcs.functions.measure_objects")
    labels = [label for label, _v in dock.form.params["intensity"]._default_choices]
    assert "raw images, FITC" in labels and "step 'count_objects', DAPI" in labels
    assert not any("channel 2" in label for label in labels)
    dock.form.settings["group_by"].value = "channel"
    only_for = dock.form.settings["group_value"]
    items = [only_for.native.itemText(i) for i in range(only_for.native.count())]
    assert items[-2:] == ["DAPI", "FITC"] and not {"1", "2"} & set(items)
    assert dock.steps[-1].group_value == "1"  # the value is still the channel's number
    add_through_browser(qtbot, dock, THRESHOLD_LOCAL)
    block = dock.form.params["block_size"]
    assert block.min == 3 and "odd" in block.tooltip
    dock.form.set_param("block_size", 10)
    assert block.value == 11 and dock.steps[-1].kwargs["block_size"] == 11
