"""The walk-through a biologist takes: Plugins menu → both docks, a plate, steps from the
browser, Live preview following a parameter, Run plate to its heat map (issue 9)."""

from __future__ import annotations

import numpy as np
import pytest
from docks import add_through_browser, docks_on, wait_preview

pytestmark = pytest.mark.gui

Qt = pytest.importorskip("qtpy.QtCore").Qt


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("walk") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "A02", "B01"], sites=1, channels=2, z=1, size=64, seed=9
    )


def test_plugins_menu_docks_preview_a_parameter_and_run_the_plate_to_its_heat_map(
    make_napari_viewer, plate, qtbot, tmp_path
):
    for viewer, dock, nav in docks_on(make_napari_viewer, None, size=(1920, 1080)):
        # the plate opened in the Plate dock is the one the Pipeline dock previews and runs
        nav.path.setText(str(plate))
        qtbot.keyClick(nav.path, Qt.Key.Key_Return)
        assert dock.session.plate_path == str(plate) and dock.session.well == "A01"

        add_through_browser(qtbot, dock, "skimage.filters.gaussian")
        add_through_browser(qtbot, dock, "napari_openhcs.functions.count_objects")
        dock.preview_box.click()
        assert dock.preview_box.isChecked()
        wait_preview(qtbot, dock)
        blur = viewer.layers["preview: gaussian [DAPI]"]
        nuclei = viewer.layers["preview: count_objects [DAPI]"]
        assert nuclei.visible and not blur.visible  # the last step shows, the first waits
        before = np.array(blur.data)

        dock.step_list.setCurrentRow(0)
        sigma = dock.form.params["sigma"]
        qtbot.waitUntil(sigma.native.isVisible, timeout=2000)
        sigma.value = 4.0  # as typed into the spin box
        wait_preview(qtbot, dock)
        assert viewer.layers["preview: gaussian [DAPI]"] is blur
        assert not np.allclose(before, blur.data)

        dock.preview_box.click()  # preview off
        dock.tabs.setCurrentWidget(dock.run_panel)
        panel = dock.run_panel
        panel.out.setText(str(tmp_path / "out"))
        panel.workers.setValue(1)
        with qtbot.waitSignal(panel.run_finished, timeout=180_000):
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.report.exit_code == 0
        assert panel.progress.value() == 100
        assert set(panel.heatmap.values()) == {"A01", "A02", "B01"}
        assert panel.heatmap.isVisible()
        assert any(x.name.startswith("output: A01") for x in viewer.layers)
