"""Issue 9, items 2 and 3: File → Open fills the Plate dock once; the viewer always says
which well, site and plane it shows, and napari's sliders and the navigator agree."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui

PLUGIN = "napari-openhcs"


@pytest.fixture(scope="module")
def plates(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("where")
    first = write_plate(
        root / "first", "imagexpress", wells=["A01", "B02"], sites=2, channels=2, z=3, size=32
    )
    second = write_plate(
        root / "second", "imagexpress", wells=["C03"], sites=1, channels=2, z=1, size=32
    )
    return first, second


def plate_dock(viewer):
    _, nav = viewer.window.add_plugin_dock_widget(PLUGIN, "Plate")
    return nav


def plate_layers(viewer):
    return [x for x in viewer.layers if "channel" in x.metadata.get("openhcs", {})]


def test_file_open_then_dock_fills_the_grid_and_shares_the_session(
    make_napari_viewer, plates, qtbot
):
    first, _ = plates
    viewer = make_napari_viewer()
    viewer.open(str(first), plugin=PLUGIN)
    nav = plate_dock(viewer)
    qtbot.waitUntil(lambda: nav.session.plate_path is not None, timeout=5000)
    assert nav.grid.item(0, 0).text() == "A01" and nav.grid.item(1, 1).text() == "B02"
    assert "No plate open" not in nav.message.text()
    _, pipeline = viewer.window.add_plugin_dock_widget(PLUGIN, "Pipeline")
    try:
        assert pipeline.session is nav.session
        assert pipeline.session.well == "A01"
    finally:
        pipeline.preview.close()
        pipeline.run_panel.close_executor()
    assert len(plate_layers(viewer)) == 2


def test_dock_then_file_open_twice_fills_the_grid_without_duplicating_layers(
    make_napari_viewer, plates, qtbot
):
    first, second = plates
    viewer = make_napari_viewer()
    nav = plate_dock(viewer)
    viewer.open(str(first), plugin=PLUGIN)
    qtbot.waitUntil(lambda: nav.session.plate_path == str(first), timeout=5000)
    assert nav.grid.item(1, 1).text() == "B02"
    viewer.open(str(first), plugin=PLUGIN)
    qtbot.wait(50)
    assert len(plate_layers(viewer)) == 2
    assert len(viewer.layers) == 2
    viewer.open(str(second), plugin=PLUGIN)  # another plate replaces the first
    qtbot.waitUntil(lambda: nav.session.plate_path == str(second), timeout=5000)
    assert len(viewer.layers) == 2
    assert {x.metadata["openhcs"]["well"] for x in viewer.layers} == {"C03"}
    assert nav.grid.item(2, 2).text() == "C03" and nav.grid.item(1, 1) is None


def test_a_folder_that_is_not_a_plate_clears_the_old_grid(make_napari_viewer, plates, tmp_path):
    first, _ = plates
    viewer = make_napari_viewer()
    nav = plate_dock(viewer)
    assert nav.open_path(first)
    (tmp_path / "notes.txt").write_text("hello")
    assert not nav.open_path(tmp_path)
    assert nav.grid.rowCount() == 0 and nav.grid.item(0, 0) is None
    assert nav.session.plate_path is None and nav.site.count() == 0
    assert plate_layers(viewer) == []


def test_a_subfolder_of_a_plate_names_its_parent(make_napari_viewer, plates):
    first, _ = plates
    viewer = make_napari_viewer()
    nav = plate_dock(viewer)
    for sub in (first / "TimePoint_1", first / "TimePoint_1" / "ZStep_2"):
        assert not nav.open_path(sub)
        assert f"inside the plate {first.absolute()}" in nav.message.text()
        with pytest.raises(Exception, match="open " + str(first.absolute()).replace("\\", ".")):
            viewer.open(str(sub), plugin=PLUGIN)
    assert len(viewer.layers) == 0


def test_layers_name_well_site_and_channel_and_sliders_have_axis_names(make_napari_viewer, plates):
    from napari_openhcs.plates import open_plate

    first, _ = plates
    names = open_plate(first).channel_names
    viewer = make_napari_viewer()
    nav = plate_dock(viewer)
    viewer.add_image(__import__("numpy").zeros((4, 4)), name="scratch")  # an unrelated layer
    assert nav.open_path(first)
    assert [x.name for x in plate_layers(viewer)] == [f"A01 s1 {names[c]}" for c in (1, 2)]
    assert viewer.dims.axis_labels == ("site", "t", "z", "y", "x")
    nav.grid.cellClicked.emit(1, 1)
    nav.site.setCurrentText("2")
    assert [x.name for x in plate_layers(viewer)] == [f"B02 s2 {names[c]}" for c in (1, 2)]


def test_sliders_and_navigator_follow_each_other_with_plate_numbers(make_napari_viewer, plates):
    first, _ = plates
    viewer = make_napari_viewer()
    nav = plate_dock(viewer)
    assert nav.open_path(first)
    sliders = viewer.window._qt_viewer.dims.slider_widgets
    assert [nav.site.itemText(i) for i in range(nav.site.count())] == ["1", "2"]
    assert sliders[0].curslice_label.text() == "1"  # the plate's site 1, not napari's 0
    # the slider moves the navigator and the session (the preview computes on site 2)
    viewer.dims.set_current_step(0, 1)
    assert nav.site.currentText() == "2" and nav.session.site == 2
    assert sliders[0].curslice_label.text() == "2"
    assert plate_layers(viewer)[0].name.startswith("A01 s2 ")
    viewer.dims.set_current_step(2, 2)
    assert nav.z.currentText() == "3"
    # the navigator moves the sliders
    nav.site.setCurrentText("1")
    assert viewer.dims.current_step[0] == 0 and nav.session.site == 1
    nav.z.setCurrentText("2")
    assert viewer.dims.current_step[2] == 1 and viewer.dims.ndisplay == 2
    # z: all shows the whole stack
    nav.z.setCurrentText("all")
    assert viewer.dims.ndisplay == 3
    assert viewer.dims.displayed[-3:] == (2, 3, 4)
    nav.z.setCurrentText("1")
    assert viewer.dims.ndisplay == 2 and viewer.dims.current_step[2] == 0
