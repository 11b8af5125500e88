"""Run plate from the dock: progress, per-well status, output layers, heat map, cancel."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("run") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "A02", "B01"], sites=1, channels=2, z=1, size=64, seed=7
    )


@pytest.fixture
def dock(make_napari_viewer, plate):
    from napari_openhcs.gui._dock import PipelineDock
    from napari_openhcs.gui._plate_nav import PlateNavigator
    from napari_openhcs.pipeline import load_pipeline

    viewer = make_napari_viewer()
    assert PlateNavigator(viewer).open_path(plate)
    d = PipelineDock(viewer)
    d.set_steps(load_pipeline("nuclei_count"))
    yield d
    d.run_panel.close_executor()
    d.preview.close()


def test_run_plate_reaches_100_percent_and_shows_outputs_and_heat_map(dock, qtbot, tmp_path):
    panel = dock.run_panel
    panel.out.setText(str(tmp_path / "out"))
    panel.workers.setValue(1)
    seen = []
    panel.progress.valueChanged.connect(seen.append)
    with qtbot.waitSignal(panel.run_finished, timeout=120_000):
        qtbot.mouseClick(
            panel.run_button, pytest.importorskip("qtpy.QtCore").Qt.MouseButton.LeftButton
        )
    report = panel.report
    assert report.exit_code == 0
    assert panel.progress.value() == 100 and seen[-1] == 100
    statuses = {
        panel.status.item(i, 0).text(): panel.status.item(i, 1).text()
        for i in range(panel.status.rowCount())
    }
    assert statuses == {"A01": "done", "A02": "done", "B01": "done"}
    names = [x.name for x in dock.viewer.layers]
    assert any(n.startswith("output: A01") for n in names)
    assert any(
        x._type_string == "labels" and x.name.startswith("output:") for x in dock.viewer.layers
    )
    values = panel.heatmap.values()
    assert set(values) == {"A01", "A02", "B01"}
    assert panel.heatmap.table.item(1, 0) is not None  # B01 painted
    panel.heatmap.table.cellClicked.emit(1, 0)  # click B01: its output opens
    assert any(x.name.startswith("output: B01") for x in dock.viewer.layers)
    assert not any(x.name.startswith("output: A01") for x in dock.viewer.layers)


def test_cancel_mid_run_stops_the_workers(dock, qtbot, tmp_path):
    import psutil

    dock.add_step("openhcs_thirdparty_demo.functions.slow_identity", seconds=30.0)
    panel = dock.run_panel
    panel.out.setText(str(tmp_path / "out"))
    panel.workers.setValue(2)
    panel.start()
    qtbot.waitUntil(
        lambda: any(
            panel.status.item(i, 1).text() == "running" for i in range(panel.status.rowCount())
        ),
        timeout=60_000,
    )
    pids = list(panel.executor.pool.pids)
    assert pids
    with qtbot.waitSignal(panel.run_finished, timeout=60_000):
        qtbot.mouseClick(
            panel.cancel_button, pytest.importorskip("qtpy.QtCore").Qt.MouseButton.LeftButton
        )
    assert panel.report is not None and panel.report.cancelled
    assert panel.executor is None
    qtbot.waitUntil(
        lambda: (
            not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids)
        ),
        timeout=10_000,
    )
    assert panel.run_button.isEnabled()


def test_open_results_shows_the_first_output_well_with_both_panels(
    make_napari_viewer, plate, tmp_path, monkeypatch
):
    import napari

    from napari_openhcs.execution.run import run_plate
    from napari_openhcs.gui._launch import open_results

    out = tmp_path / "out"
    assert run_plate(plate, "nuclei_count", out, executor="serial", wells=["A02"]).exit_code == 0
    viewer = make_napari_viewer()
    ran = []
    monkeypatch.setattr(napari, "Viewer", lambda **_kw: viewer)
    monkeypatch.setattr(napari, "run", lambda: ran.append(True))
    open_results(out)
    assert ran == [True]
    assert set(viewer.window.dock_widgets) >= {"Plate", "Pipeline"}
    kinds = {x.name: x._type_string for x in viewer.layers if x.name.startswith("output: A02")}
    assert "labels" in kinds.values() and "image" in kinds.values()


def test_failed_wells_show_in_the_table_and_as_a_notification(dock, qtbot, tmp_path, monkeypatch):
    import napari.utils.notifications as notifications

    shown = []
    monkeypatch.setattr(notifications, "show_error", shown.append)
    dock.add_step("openhcs_thirdparty_demo.functions.fail_in_well", well="B01")
    panel = dock.run_panel
    panel.out.setText(str(tmp_path / "out"))
    panel.workers.setValue(1)
    with qtbot.waitSignal(panel.run_finished, timeout=120_000):
        panel.start()
    assert panel.report.failed == ["B01"]
    row = {panel.status.item(i, 0).text(): i for i in range(panel.status.rowCount())}["B01"]
    assert panel.status.item(row, 1).text() == "failed"
    assert "deliberate failure in well B01" in panel.status.item(row, 2).text()
    assert len(shown) == 1 and "B01" in shown[0] and "deliberate failure" in shown[0]
    assert set(panel.heatmap.values()) == {"A01", "A02"}  # the failed well has no value
