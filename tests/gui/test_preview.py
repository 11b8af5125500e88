"""Live preview: the engine side (no Qt) and the dock's worker (responsive, cancellable)."""

from __future__ import annotations

import numpy as np
import pytest
from docks import docks_on, wait_preview

SLOW = "openhcs_thirdparty_demo.functions.slow_identity"


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("preview") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "B01"], sites=2, channels=2, z=2, size=64, seed=5
    )


def test_run_preview_returns_each_step_per_channel_and_stops_at_a_failing_step(plate):
    from napari_openhcs.execution.preview import run_preview
    from napari_openhcs.pipeline import Pipeline, Step
    from napari_openhcs.pipeline.jsonio import pipeline_to_dict

    pipe = Pipeline(
        [
            Step("napari_openhcs.functions.max_projection", name="project"),
            Step({"1": "napari_openhcs.functions.count_objects"}, group_by="channel", name="n"),
            Step(
                ("skimage.filters.difference_of_gaussians", {"low_sigma": 4.0, "high_sigma": 1.0})
            ),
            Step("skimage.filters.sobel", name="never"),
        ]
    )
    out = run_preview(str(plate), pipeline_to_dict(pipe), "B01", 2)
    names = [e["name"] for e in out]
    assert names == [
        "project [ch 1]",
        "project [ch 2]",
        "n [ch 1]",
        "n [ch 2]",
        "difference_of_gaussians",
    ]
    assert out[0]["array"].shape == (64, 64)  # z projected away
    assert out[2]["kind"] == "labels" and out[2]["array"].max() > 0
    assert out[3]["kind"] == "image"  # channel 2 passed through the grouped step
    assert out[-1]["array"] is None and "high_sigma" in out[-1]["error"]
    assert all(e["error"] is None for e in out[:-1])


def test_run_preview_names_the_step_with_a_parameter_the_compiler_refuses(plate):
    from napari_openhcs.execution.preview import run_preview
    from napari_openhcs.pipeline import Pipeline, Step

    pipe = Pipeline([Step(("skimage.filters.gaussian", {"sigmaa": 1.0}), name="blur")])
    (entry,) = run_preview(str(plate), pipe, "A01", 1)
    assert entry["step"] == "blur" and "sigmaa" in entry["error"]


def test_run_preview_compiles_the_pipeline_once(plate, monkeypatch):
    from napari_openhcs.execution import preview
    from napari_openhcs.pipeline import Pipeline, Step

    calls = []
    real = preview.compile_pipeline

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(preview, "compile_pipeline", counting)
    pipe = Pipeline(
        [
            Step("napari_openhcs.functions.max_projection", name="project"),
            Step(("skimage.filters.gaussian", {"sigma": 1.0}), name="blur"),
            Step("skimage.filters.sobel", name="edges"),
        ]
    )
    out = preview.run_preview(str(plate), pipe, "A01", 1)
    assert [e["step"] for e in out] == ["project"] * 2 + ["blur"] * 2 + ["edges"] * 2
    assert all(e["error"] is None for e in out)
    assert len(calls) == 1


def test_run_preview_shows_a_plate_step_in_its_place_and_computes_it_once(plate):
    from napari_openhcs.execution import preview
    from napari_openhcs.pipeline import Pipeline, Step

    est = ("napari_openhcs.functions.estimate_flatfield", {"sigma": 2.0})
    cor = ("napari_openhcs.functions.correct_flatfield", {"flatfield": {"plate_step": "flat"}})
    pipe = Pipeline(
        [
            Step("napari_openhcs.functions.max_projection", name="project"),
            Step(est, name="flat", scope="plate"),
            Step(cor, name="corrected"),
            Step(("skimage.filters.gaussian", {"sigmaa": 1.0}), name="bad"),
        ]
    )
    out = preview.run_preview(str(plate), pipe, "B01", 1)
    assert [e["name"] for e in out] == [
        "project [ch 1]",
        "project [ch 2]",
        "flat [channel 1, timepoint 1]",
        "flat [channel 2, timepoint 1]",
        "corrected [ch 1]",
        "corrected [ch 2]",
        "bad",
    ]
    assert out[2]["array"].shape == (64, 64) and out[2]["kind"] == "image"
    assert all(e["error"] is None for e in out[:-1]) and "sigmaa" in out[-1]["error"]
    cached = dict(preview._PLATE_RESULTS)
    again = preview.run_preview(str(plate), pipe, "A01", 2)
    assert cached == preview._PLATE_RESULTS  # the same plate step is not computed again
    np.testing.assert_array_equal(again[2]["array"], out[2]["array"])  # sampled over the plate


@pytest.fixture
def docks(make_napari_viewer, plate, qtbot):
    yield from docks_on(make_napari_viewer, plate)


@pytest.fixture
def dock(docks):
    return docks[1]


@pytest.mark.gui
def test_event_loop_keeps_running_during_a_two_second_preview(dock, qtbot):
    from qtpy.QtCore import QTimer

    dock.add_step(SLOW, seconds=2.0)
    ticks = []
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: ticks.append(dock.preview.running))
    timer.start()
    dock.preview_box.setChecked(True)
    with qtbot.waitSignal(dock.preview.preview_done, timeout=60_000):
        pass
    timer.stop()
    # The timer fired all along while the 2 s function ran in the preview worker.
    assert sum(ticks) >= 10
    assert "preview: slow_identity [DAPI]" in dock.viewer.layers


@pytest.mark.gui
def test_a_change_cancels_the_stale_preview_and_the_newest_runs(dock, qtbot):
    model = dock.add_step(SLOW, seconds=30.0)
    dock.preview_box.setChecked(True)
    qtbot.waitUntil(lambda: dock.preview.running, timeout=10_000)
    qtbot.waitUntil(
        lambda: bool(dock.preview._pool.pids and dock.preview._pool._workers[0].job),
        timeout=30_000,
    )
    stale_pid = dock.preview._pool.pids[0]
    dock.step_list.setCurrentRow(0)
    dock.form.set_param("seconds", 0.0)
    assert model.kwargs["seconds"] == 0.0
    with qtbot.waitSignal(dock.preview.preview_done, timeout=60_000) as blocker:
        pass
    assert stale_pid not in dock.preview._pool.pids  # the busy worker was killed
    assert len(dock.preview.timings) == 1  # the stale run was never shown
    data = blocker.args[0][0]["array"]
    assert isinstance(data, np.ndarray)


def preview_layers(viewer) -> dict:
    return {x.name: x for x in viewer.layers if x.name.startswith("preview: ")}


@pytest.mark.gui
def test_a_step_previews_its_channels_and_only_the_last_step_is_shown(docks, qtbot):
    viewer, dock, _nav = docks
    dock.add_step("skimage.filters.gaussian")
    dock.add_step("napari_openhcs.functions.count_objects")
    dock.form.settings["group_by"].value = "channel"  # count nuclei on DAPI only
    assert dock.steps[1].group_value == "1"
    dock.add_step("napari_openhcs.functions.max_projection")
    dock.form.settings["group_by"].value = "channel"
    dock.form.settings["group_value"].value = "2"  # project FITC only
    dock.preview_box.setChecked(True)
    wait_preview(qtbot, dock)
    layers = preview_layers(viewer)
    assert set(layers) == {
        "preview: gaussian [DAPI]",
        "preview: gaussian [FITC]",
        "preview: count_objects [DAPI]",
        "preview: max_projection [FITC]",
    }  # six channel outputs before: each step showed both channels
    shown = {n for n, x in layers.items() if x.visible}
    assert shown == {"preview: max_projection [FITC]"}  # the last step; the others hidden

    # removing the last step removes its layers and shows the new last step
    dock.remove_step(2)
    assert "preview: max_projection [FITC]" not in viewer.layers
    wait_preview(qtbot, dock)
    shown = {n for n, x in preview_layers(viewer).items() if x.visible}
    assert shown == {"preview: count_objects [DAPI]"}
    # object counts appear beside the step
    count = int(np.count_nonzero(np.unique(viewer.layers["preview: count_objects [DAPI]"].data)))
    assert count > 0
    assert f"· {count} objects" in dock.step_list.item(1).text()
    assert "objects" not in dock.step_list.item(0).text()


@pytest.mark.gui
def test_after_an_error_later_steps_layers_are_marked_stale(docks, qtbot):
    viewer, dock, _nav = docks
    dock.add_step("skimage.filters.difference_of_gaussians", low_sigma=1.0, high_sigma=3.0)
    dock.add_step("skimage.filters.sobel")
    dock.preview_box.setChecked(True)
    wait_preview(qtbot, dock)
    sobel = viewer.layers["preview: sobel [DAPI]"]
    before = np.array(sobel.data)
    dock.step_list.setCurrentRow(0)
    dock.form.set_param("low_sigma", 5.0)  # larger than high_sigma: the function refuses it
    wait_preview(qtbot, dock)
    assert "difference_of_gaussians" in dock.errors
    assert sobel.name == "preview: sobel [DAPI] (stale)" and sobel.opacity < 0.5
    np.testing.assert_array_equal(sobel.data, before)  # kept, but marked
    dog = viewer.layers["preview: difference_of_gaussians [DAPI]"]
    assert dog.opacity == 1.0  # the failing step keeps its last good result; its error shows
    dock.form.set_param("low_sigma", 1.5)
    wait_preview(qtbot, dock)
    assert sobel.name == "preview: sobel [DAPI]" and sobel.opacity == 1.0
    assert sum(x.name.startswith("preview: sobel") for x in viewer.layers) == 2  # two channels
