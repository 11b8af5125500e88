"""Regenerate the dock screenshots in docs/images/ (plate, pipeline, preview, heat map).

Needs a display; on a headless machine run it under Xvfb:

    xvfb-run -a -s "-screen 0 1700x1300x24" python3 docs/screenshots.py
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

IMAGES = Path(__file__).parent / "images"


def main() -> int:
    import napari
    from qtpy.QtWidgets import QApplication

    from napari_openhcs.gui._dock import PipelineDock
    from napari_openhcs.gui._plate_nav import PlateNavigator
    from napari_openhcs.pipeline import load_pipeline
    from napari_openhcs.plates.synthetic import write_plate

    IMAGES.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="openhcs-shots-"))
    wells = ["B02", "B03", "B04", "C02", "C03", "C04", "D02", "D03", "D04"]
    plate = write_plate(
        tmp / "plate", "imagexpress", wells=wells, sites=1, channels=2, z=1, size=256, seed=11
    )
    app = QApplication.instance() or QApplication([])
    viewer = napari.Viewer(title="napari-openhcs", show=True)
    viewer.window._qt_window.resize(1600, 1250)
    nav = PlateNavigator(viewer)
    dock = PipelineDock(viewer)
    viewer.window.add_dock_widget(nav, name="Plate", area="left")
    viewer.window.add_dock_widget(dock, name="Pipeline", area="right")

    def pump(seconds: float = 0.5, until=None, limit: float = 180) -> None:
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
        viewer.window._qt_window.grab().save(str(IMAGES / name))
        print("wrote", IMAGES / name)

    nav.open_path(plate)
    nav.grid.cellClicked.emit(2, 2)  # C03
    shot("plate.png")

    dock.set_steps(load_pipeline("nuclei_marker"))
    dock.browser.search.setText("intensity")
    dock.browser.select("napari_openhcs.functions.measure_objects")
    dock.step_list.setCurrentRow(4)  # the marker step: its intensity image is a choice
    pump(0.3)
    bar = dock.form_scroll.verticalScrollBar()
    bar.setValue(bar.maximum())  # show the parameters, below the step settings
    shot("pipeline.png")

    n = len(dock.preview.timings)
    dock.preview_box.setChecked(True)
    pump(until=lambda: len(dock.preview.timings) > n)
    for layer in viewer.layers:
        layer.visible = layer.name in ("plate: DAPI", "preview: nuclei [ch 1]")
    viewer.reset_view()
    shot("preview.png")

    dock.preview_box.setChecked(False)
    dock.run_panel.out.setText(str(tmp / "out"))
    dock.run_panel.start()
    pump(until=lambda: dock.run_panel.report is not None and not dock.run_panel.running)
    for layer in viewer.layers:
        layer.visible = layer.name.startswith("output:")
    viewer.reset_view()
    shot("heatmap.png")

    dock.preview.close()
    dock.run_panel.close_executor()
    viewer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
