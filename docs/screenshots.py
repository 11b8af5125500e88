"""Regenerate the dock screenshots in docs/images/ (plate, pipeline, preview, run and heat map,
the cell_profile preview with a hovered cell's features, the heat map of a chosen feature).

The docks are opened as a user opens them, from the Plugins menu
(``add_plugin_dock_widget``), in a 1920 × 1080 window. Needs a display; on a headless
machine run it under Xvfb:

    xvfb-run -a -s "-screen 0 1920x1080x24" python3 docs/screenshots.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

IMAGES = Path(__file__).parent / "images"
SIZE = (1920, 1080)


def main() -> int:
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_openhcs.pipeline import load_pipeline
    from napari_openhcs.plates.synthetic import write_plate

    IMAGES.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="openhcs-shots-"))
    wells = [f"{r}{c:02d}" for r in "BCDEFG" for c in range(2, 12)]
    plate = write_plate(
        tmp / "plate", "imagexpress", wells=wells, sites=1, channels=2, z=1, size=256, seed=11
    )
    app = QApplication.instance() or QApplication([])
    viewer = napari.Viewer(title="napari-openhcs", show=True)
    viewer.window._qt_window.resize(*SIZE)
    _, nav = viewer.window.add_plugin_dock_widget("napari-openhcs", "Plate")
    _, dock = viewer.window.add_plugin_dock_widget("napari-openhcs", "Pipeline")

    def pump(seconds: float = 0.5, until=None, limit: float = 300) -> None:
        end = time.monotonic() + (limit if until else seconds)
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
            if until is not None and until():
                break
        for _ in range(20):
            app.processEvents()

    def shot(name: str) -> None:
        pump(0.5)
        image = viewer.window._qt_window.grab()
        if (image.width(), image.height()) != SIZE:
            raise RuntimeError(f"the window is {image.width()}x{image.height()}, not {SIZE}")
        image.save(str(IMAGES / name))
        print("wrote", IMAGES / name)

    def show_only(keep) -> None:
        for layer in viewer.layers:
            layer.visible = keep(layer)
        viewer.reset_view()

    def raw_channel(layer) -> str | None:
        return layer.metadata.get("openhcs", {}).get("channel_name")

    nav.open_path(plate)
    nav.grid.cellClicked.emit(2, 2)  # C03
    shot("plate.png")

    dock.set_steps(load_pipeline("nuclei_marker"))
    dock.tabs.setCurrentWidget(dock.browser)
    dock.browser.search.setText("intensity")
    dock.browser.select("napari_openhcs.functions.measure_objects")
    pump(0.3)
    dock.tabs.setCurrentIndex(1)  # Steps
    dock.step_list.setCurrentRow(4)  # the marker step: its intensity image is a channel
    dock.form.settings_toggle.setChecked(True)  # and its settings, unfolded
    shot("pipeline.png")

    dock.form.settings_toggle.setChecked(False)
    n = len(dock.preview.timings)
    dock.preview_box.setChecked(True)
    pump(until=lambda: len(dock.preview.timings) > n)
    show_only(lambda x: raw_channel(x) == "DAPI" or x.name.startswith("preview: nuclei"))
    shot("preview.png")

    dock.preview_box.setChecked(False)
    dock.tabs.setCurrentWidget(dock.run_panel)
    dock.run_panel.out.setText(str(tmp / "out"))
    dock.run_panel.workers.setValue(2)
    dock.run_panel.start()
    pump(until=lambda: dock.run_panel.report is not None and not dock.run_panel.running)
    show_only(lambda x: x.name.startswith("output:"))
    shot("heatmap.png")

    cells_preview(viewer, dock, pump, shot, show_only, raw_channel)
    dock.tabs.setCurrentWidget(dock.run_panel)
    dock.run_panel.out.setText(str(tmp / "cells-out"))
    dock.run_panel.start()
    pump(until=lambda: dock.run_panel.report is not None and not dock.run_panel.running)
    dock.run_panel.heatmap.choose("Cells_AreaShape_Area")
    show_only(lambda x: x.name.startswith("output:") and x.name.endswith((" cells", " DAPI")))
    viewer.status = "Ready"
    shot("heatmap-feature.png")

    dock.preview.close()
    dock.run_panel.close_executor()
    viewer.close()
    return 0


def cells_preview(viewer, dock, pump, shot, show_only, raw_channel) -> None:
    """cell_profile's preview: the cells (outlines) and cytoplasm over the raw channels, the
    pointer on a cell and its measurements in the status bar (napari shows a Labels layer's
    features there)."""
    import numpy as np

    from napari_openhcs.pipeline import load_pipeline

    dock.preview_box.setChecked(False)
    dock.set_steps(load_pipeline("cell_profile"))
    dock.tabs.setCurrentIndex(1)  # Steps
    dock.step_list.setCurrentRow(2)  # cells
    n = len(dock.preview.timings)
    dock.preview_box.setChecked(True)
    pump(until=lambda: len(dock.preview.timings) > n)
    dock.preview_box.setChecked(False)
    cells = viewer.layers["preview: cells [FITC]"]
    cytoplasm = viewer.layers["preview: cytoplasm [FITC]"]
    show_only(lambda x: raw_channel(x) is not None or x in (cells, cytoplasm))
    cells.contour, cells.opacity = 2, 1.0
    cytoplasm.opacity = 0.45
    labels = np.asarray(cells.data)
    value = int(np.bincount(labels[labels > 0]).argmax())  # the largest cell
    ys, xs = np.nonzero(labels == value)
    centre = np.array([ys.mean(), xs.mean()])
    inside = np.argmin((ys - centre[0]) ** 2 + (xs - centre[1]) ** 2)
    where = (ys[inside], xs[inside])
    # the pointer itself is not in a window grab: a cross marks where it is
    pointer = viewer.add_points(
        [where], name="pointer", symbol="cross", size=9, face_color="white", scale=cells.scale
    )
    viewer.layers.selection.active = cells
    viewer.mouse_over_canvas = True
    viewer.cursor.position = tuple(cells.data_to_world(where))
    viewer.update_status_from_cursor()
    shot("cells-preview.png")
    viewer.layers.remove(pointer)
    viewer.mouse_over_canvas = False
    viewer.status = "Ready"


if __name__ == "__main__":
    raise SystemExit(main())
