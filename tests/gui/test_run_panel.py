"""Run plate from the dock: progress, per-well status, output layers, heat map, cancel."""

from __future__ import annotations

import pytest
from docks import docks_on

pytestmark = pytest.mark.gui

Qt = pytest.importorskip("qtpy.QtCore").Qt


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("run") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "A02", "B01"], sites=1, channels=2, z=1, size=64, seed=7
    )


@pytest.fixture
def docks(make_napari_viewer, plate, qtbot):
    from napari_openhcs.pipeline import load_pipeline

    for viewer, dock, nav in docks_on(make_napari_viewer, plate, size=(1920, 1080)):
        dock.set_steps(load_pipeline("nuclei_count"))
        yield viewer, dock, nav


@pytest.fixture
def dock(docks):
    return docks[1]


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


def test_workers_stay_warm_across_runs_and_go_with_the_window(
    make_napari_viewer, plate, qtbot, tmp_path
):
    import psutil

    from napari_openhcs.pipeline import load_pipeline

    def alive(pid):
        return psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE

    viewer = make_napari_viewer()
    _, nav = viewer.window.add_plugin_dock_widget("napari-openhcs", "Plate")
    _, dock = viewer.window.add_plugin_dock_widget("napari-openhcs", "Pipeline")
    assert nav.open_path(plate)
    dock.set_steps(load_pipeline("nuclei_count"))
    panel = dock.run_panel
    panel.workers.setValue(1)
    served = []
    for run in ("first", "second"):
        panel.out.setText(str(tmp_path / run))
        with qtbot.waitSignal(panel.run_finished, timeout=120_000):
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert panel.report.exit_code == 0
        served.append(panel.report.executor["pids"])
    assert served[0] == served[1] and len(served[0]) == 1  # one worker served both runs
    (pid,) = served[0]
    assert alive(pid)
    assert panel.workers.text() == "workers: 1"
    panel.workers.setValue(0)  # auto: from the cores, the memory and the wells to run
    assert panel.workers.text() == "workers: auto"
    panel.out.setText(str(tmp_path / "auto"))
    with qtbot.waitSignal(panel.run_finished, timeout=120_000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    chosen = panel.report.executor["chosen"]
    assert chosen["units"] == 3 and chosen["workers"] == min(3, chosen["cores"])
    assert panel.report.executor["workers"] == chosen["workers"]
    assert pid in panel.report.executor["pids"]  # the warm worker stays when the pool grows
    dock.preview.close()
    viewer.close()
    qtbot.waitUntil(lambda: not alive(pid), timeout=10_000)


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


def table(panel) -> dict:
    return {
        panel.status.item(i, 0).text(): panel.status.item(i, 1).text()
        for i in range(panel.status.rowCount())
    }


def run_and_watch(qtbot, panel) -> dict:
    """Press Run plate; the table as it reads when the wells start (after plate steps)."""
    seen = {}

    def watch(event):
        if event.get("kind") == "run_started":
            seen.update(table(panel))

    panel.progress_event.connect(watch)  # after the panel's own slot: sees its update
    with qtbot.waitSignal(panel.run_finished, timeout=120_000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    panel.progress_event.disconnect(watch)
    return seen


def test_table_says_queued_only_for_queued_wells_and_redo_is_a_choice(
    dock, qtbot, tmp_path, monkeypatch
):
    import napari.utils.notifications as notifications

    infos = []
    monkeypatch.setattr(notifications, "show_info", infos.append)
    panel = dock.run_panel
    panel.out.setText(str(tmp_path / "out"))
    panel.workers.setValue(1)
    panel.selected_only.setChecked(True)  # the navigator's well: A01
    assert run_and_watch(qtbot, panel) == {"A01": "queued"}
    assert panel.report.wells["A01"]["status"] == "done"

    panel.selected_only.setChecked(False)
    at_start = run_and_watch(qtbot, panel)
    assert at_start == {"A01": "skipped (finished earlier)", "A02": "queued", "B01": "queued"}
    assert table(panel) == {"A01": "skipped (finished earlier)", "A02": "done", "B01": "done"}
    assert any("Redo finished wells" in m and "--" not in m for m in infos), infos

    panel.redo.setChecked(True)
    assert run_and_watch(qtbot, panel) == {"A01": "queued", "A02": "queued", "B01": "queued"}
    assert {w: i["status"] for w, i in panel.report.wells.items()} == dict.fromkeys(
        ("A01", "A02", "B01"), "done"
    )


def test_a_resume_refused_says_what_to_do_in_the_docks_words(dock, qtbot, tmp_path, monkeypatch):
    import napari.utils.notifications as notifications

    errors = []
    monkeypatch.setattr(notifications, "show_error", errors.append)
    panel = dock.run_panel
    panel.out.setText(str(tmp_path / "out"))
    panel.workers.setValue(1)
    panel.selected_only.setChecked(True)
    run_and_watch(qtbot, panel)
    dock.add_step("openhcs_thirdparty_demo.functions.invert")  # another pipeline, same folder
    run_and_watch(qtbot, panel)
    assert len(errors) == 1
    assert "Redo finished wells" in errors[0] and "--overwrite" not in errors[0]
    assert "--out" not in errors[0]


def test_runs_the_wells_chosen_in_the_navigator(docks, qtbot, tmp_path):
    _viewer, dock, nav = docks
    grid = nav.grid

    def click(well, modifier=Qt.KeyboardModifier.NoModifier):
        item = next(i for i in grid.findItems(well, Qt.MatchFlag.MatchExactly))
        qtbot.mouseClick(
            grid.viewport(), Qt.MouseButton.LeftButton, modifier, grid.visualItemRect(item).center()
        )

    click("A02")
    assert nav.session.selected_wells == ["A02"] and nav.session.well == "A02"
    click("B01", Qt.KeyboardModifier.ControlModifier)
    assert nav.session.selected_wells == ["A02", "B01"] and nav.session.well == "B01"
    click("A01", Qt.KeyboardModifier.ControlModifier)
    click("A02", Qt.KeyboardModifier.ControlModifier)  # ctrl-click again: not chosen any more
    assert nav.session.selected_wells == ["A01", "B01"]
    panel = dock.run_panel
    panel.out.setText(str(tmp_path / "out"))
    panel.workers.setValue(1)
    panel.selected_only.setChecked(True)
    run_and_watch(qtbot, panel)
    assert sorted(panel.report.wells) == ["A01", "B01"]
    assert table(panel) == {"A01": "done", "B01": "done"}
    click("A02")  # a plain click chooses one well again
    assert nav.session.selected_wells == ["A02"]
    click("B01", Qt.KeyboardModifier.ShiftModifier)  # shift-click: the block A01..B02
    assert nav.session.selected_wells == ["A01", "A02", "B01"]
    assert nav.session.well == "B01"


def test_missing_image_planes_are_named_in_the_table_and_a_warning(
    make_napari_viewer, qtbot, tmp_path, monkeypatch
):
    import napari.utils.notifications as notifications

    from napari_openhcs.pipeline import load_pipeline
    from napari_openhcs.plates.synthetic import write_plate

    plate = write_plate(
        tmp_path / "plate",
        "imagexpress",
        wells=["A01", "A02"],
        sites=2,
        channels=2,
        z=1,
        size=64,
        seed=3,
    )
    (lost,) = [p for p in plate.rglob("*.tif") if "A02_s2_w1" in p.name]
    lost.unlink()
    warnings = []
    monkeypatch.setattr(notifications, "show_warning", warnings.append)
    for _viewer, dock, _nav in docks_on(make_napari_viewer, plate, size=(1920, 1080)):
        dock.set_steps(load_pipeline("nuclei_count"))
        panel = dock.run_panel
        panel.out.setText(str(tmp_path / "out"))
        panel.workers.setValue(1)
        seen = {}

        def watch(event, seen=seen, panel=panel):
            if event.get("kind") == "missing_planes":
                seen.update(table(panel))

        panel.progress_event.connect(watch)
        with qtbot.waitSignal(panel.run_finished, timeout=120_000):
            qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
        assert seen["A02"] == "image planes missing"
        assert table(panel) == {"A01": "done", "A02": "done, planes missing"}
        assert len(warnings) == 1 and "A02" in warnings[0], warnings
