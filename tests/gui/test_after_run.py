"""Issue 9, item 7: after a run the outputs sit on the raw layers' axes, the heat map moves
the navigator, the raw layers and the outputs, and the heat map reads as a heat map."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gui

PLUGIN = "napari-openhcs"


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("after") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "B02"], sites=2, channels=2, z=3, size=48, seed=5
    )


def raw_layers(viewer):
    return [x for x in viewer.layers if "channel" in x.metadata.get("openhcs", {})]


def output_layers(viewer):
    return [x for x in viewer.layers if x.name.startswith("output: ")]


def field_labels(out, well, field):
    from napari_openhcs.gui._launch import output_plate
    from napari_openhcs.gui._reader import read_image_layers
    from napari_openhcs.plates.omezarr import read_plate

    plate = output_plate(out)
    where = plate / read_plate(plate)["wells"][well] / str(field)
    [labels] = [d for d, _kw, kind in read_image_layers(where) if kind == "labels"]
    return np.asarray(labels).reshape(labels.shape[-2:])


def test_outputs_share_the_raw_axes_and_the_heat_map_moves_everything(
    make_napari_viewer, plate, qtbot, tmp_path
):
    from napari_openhcs.pipeline import load_pipeline

    viewer = make_napari_viewer()
    _, nav = viewer.window.add_plugin_dock_widget(PLUGIN, "Plate")
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, "Pipeline")
    try:
        assert nav.open_path(plate)
        dock.set_steps(load_pipeline("nuclei_count"))
        viewer.dims.set_current_step(0, 1)  # site 2
        viewer.dims.set_current_step(2, 2)  # plane 3 of 3
        panel = dock.run_panel
        panel.out.setText(str(tmp_path / "out"))
        panel.workers.setValue(1)
        with qtbot.waitSignal(panel.run_finished, timeout=180_000):
            panel.start()
        assert panel.report.exit_code == 0
        raw = raw_layers(viewer)[0]
        outputs = output_layers(viewer)
        assert outputs and all(x.name.startswith("output: A01 ") for x in outputs)
        for layer in outputs:
            assert layer.data.shape[:3] == raw.data.shape[:3]
            np.testing.assert_allclose(layer.scale[:3], raw.scale[:3])
        assert viewer.dims.current_step[:3] == (1, 0, 2)
        [labels] = [x for x in outputs if x._type_string == "labels"]
        shown = np.asarray(labels._slice.image.raw)
        expected = field_labels(tmp_path / "out", "A01", 1)
        assert expected.any()
        np.testing.assert_array_equal(shown, expected)  # visible at plane 3, site 2's objects
        # clicking B02 on the heat map: navigator, raw layers and outputs go there, site kept
        panel.heatmap.table.cellClicked.emit(1, 1)
        assert nav.session.well == "B02" and nav.session.site == 2
        assert nav.grid.item(1, 1).isSelected()
        assert {x.metadata["openhcs"]["well"] for x in raw_layers(viewer)} == {"B02"}
        assert all(x.name.startswith("B02 s2 ") for x in raw_layers(viewer))
        outputs = output_layers(viewer)
        assert outputs and all(x.name.startswith("output: B02 ") for x in outputs)
        assert viewer.dims.current_step[:3] == (1, 0, 2)
        [labels] = [x for x in outputs if x._type_string == "labels"]
        np.testing.assert_array_equal(
            np.asarray(labels._slice.image.raw), field_labels(tmp_path / "out", "B02", 1)
        )
        assert panel.heatmap.selected == "B02"
        # and choosing A01 in the navigator brings A01's outputs back, outlined on the map
        nav.grid.cellClicked.emit(0, 0)
        assert all(x.name.startswith("output: A01 ") for x in output_layers(viewer))
        assert panel.heatmap.selected == "A01"
    finally:
        dock.preview.close()
        dock.run_panel.close_executor()


def plate_rows(nrows=8, ncols=12):
    return [
        {"well": f"{chr(65 + r)}{c + 1:02d}", "count": str(r * ncols + c + 3)}
        for r in range(nrows)
        for c in range(ncols)
    ]


@pytest.fixture
def heatmap(qtbot):
    from napari_openhcs.gui._heatmap import PlateHeatMap

    widget = PlateHeatMap()
    qtbot.addWidget(widget)
    widget.set_data(plate_rows(), (8, 12))
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_heat_map_has_a_colour_scale_with_min_and_max(heatmap):
    assert heatmap.measure.currentText() == "count"
    assert heatmap.legend_min.text() == "3" and heatmap.legend_max.text() == "98"
    assert heatmap.legend_bar.isVisible() and not heatmap.legend_bar.pixmap().isNull()


def test_a_96_well_plate_fits_without_scrolling(heatmap, qtbot):
    table = heatmap.table
    for size in (heatmap.minimumSizeHint(), heatmap.sizeHint()):
        heatmap.resize(size)
        qtbot.wait(20)
        view = table.viewport().rect()
        for r in range(8):
            for c in range(12):
                rect = table.visualItemRect(table.item(r, c))
                assert view.contains(rect), (r, c, rect, view)
        assert table.verticalScrollBar().maximum() == 0
        assert table.horizontalScrollBar().maximum() == 0


def same_colour(a, b, tolerance=8):
    """Equal up to the rounding of a 16-bit display (pytest-xvfb's default depth)."""
    pairs = ((a.red(), b.red()), (a.green(), b.green()), (a.blue(), b.blue()))
    return all(abs(x - y) <= tolerance for x, y in pairs)


def test_the_selected_well_keeps_its_colour_inside_an_outline(heatmap, qtbot):
    from qtpy.QtCore import Qt

    heatmap.resize(500, 360)
    qtbot.wait(20)
    table = heatmap.table
    item = table.item(2, 5)  # C06
    rect = table.visualItemRect(item)
    with qtbot.waitSignal(heatmap.well_clicked) as clicked:
        qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert clicked.args == ["C06"]
    qtbot.wait(20)
    rect = table.visualItemRect(item)
    image = table.viewport().grab().toImage()
    colour = item.background().color()
    centre = image.pixelColor(rect.center())
    assert same_colour(centre, colour)  # not covered by a selection highlight
    edge = image.pixelColor(rect.left() + 2, rect.center().y())
    assert not same_colour(edge, colour, tolerance=40)  # an outline around it
    other = table.item(2, 7)  # C08, not selected: no outline
    other_rect = table.visualItemRect(other)
    other_edge = image.pixelColor(other_rect.left() + 2, other_rect.center().y())
    assert same_colour(other_edge, other.background().color())
    assert heatmap.selection.text() == "C06: count = 32"
