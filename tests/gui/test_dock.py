"""The Pipeline dock driven through its real widgets (pytest-qt under Xvfb)."""

from __future__ import annotations

import numpy as np
import pytest
from docks import add_through_browser, docks_on, wait_preview

pytestmark = pytest.mark.gui

GAUSSIAN = "skimage.filters.gaussian"
INVERT = "openhcs_thirdparty_demo.functions.invert"
COUNT = "napari_openhcs.functions.count_objects"


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("dock") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "A02", "B01"], sites=1, channels=1, z=1, size=64, seed=3
    )


@pytest.fixture
def dock_and_nav(make_napari_viewer, plate, qtbot):
    yield from docks_on(make_napari_viewer, plate)


def build_three_steps(qtbot, dock):
    add_through_browser(qtbot, dock, GAUSSIAN)
    dock.form.set_param("sigma", 1.5)
    add_through_browser(qtbot, dock, INVERT)
    add_through_browser(qtbot, dock, COUNT)
    dock.form.set_param("min_area", 10)


def test_browser_filters_by_library_and_searches_docs(dock_and_nav):
    _viewer, dock, _nav = dock_and_nav
    b = dock.browser
    b.library.setCurrentText("demo plugin")
    refs = b.visible_refs()
    assert refs and all(r.startswith("openhcs_thirdparty_demo.") for r in refs)
    b.search.setText("sleeping")  # only in slow_identity's doc, not its name
    assert b.visible_refs() == ["openhcs_thirdparty_demo.functions.slow_identity"]
    b.select(b.visible_refs()[0])
    assert "sleeping" in b.doc.toPlainText()
    b.library.setCurrentText("all")
    b.search.setText("")
    b.category.setCurrentText("projection")
    assert all(b.infos[r].category == "projection" for r in b.visible_refs())


def test_unavailable_function_is_greyed_with_reason(dock_and_nav):
    from napari_openhcs.registry import FunctionInfo

    _viewer, dock, _nav = dock_and_nav
    b = dock.browser
    b.infos["fake.gpu_only"] = FunctionInfo(
        "fake.gpu_only", "fake", "cupy", available=False, reason="no NVIDIA GPU"
    )
    b.search.setText("gpu_only")
    b.select("fake.gpu_only")
    item = b.list.currentItem()
    assert "no NVIDIA GPU" in item.toolTip()
    assert item.foreground().color().getRgb()[:3] == (128, 128, 128)
    assert not b.add_button.isEnabled()
    assert "no NVIDIA GPU" in b.doc.toPlainText()


def test_parameter_change_updates_preview_layer_in_place(dock_and_nav, qtbot):
    viewer, dock, _nav = dock_and_nav
    build_three_steps(qtbot, dock)
    dock.preview_box.setChecked(True)
    wait_preview(qtbot, dock)
    layer = viewer.layers["preview: gaussian"]
    labels = viewer.layers["preview: count_objects"]
    assert labels._type_string == "labels"
    before = np.array(layer.data)
    dock.step_list.setCurrentRow(0)
    dock.form.set_param("sigma", 3.0)
    assert dock.steps[0].kwargs["sigma"] == 3.0
    wait_preview(qtbot, dock)
    assert viewer.layers["preview: gaussian"] is layer  # updated, not re-added
    assert not np.allclose(before, layer.data)
    assert sum(x.name.startswith("preview: gaussian") for x in viewer.layers) == 1


def test_step_list_reorder_disable_rename_remove(dock_and_nav, qtbot):
    _viewer, dock, _nav = dock_and_nav
    build_three_steps(qtbot, dock)
    dock.move_step(2, -1)
    assert [m.ref for m in dock.steps] == [GAUSSIAN, COUNT, INVERT]
    dock.step_list.setCurrentRow(1)
    dock.form.settings["name"].value = "nuclei"
    dock.form.settings["enabled"].value = False
    assert dock.steps[1].name == "nuclei" and not dock.steps[1].enabled
    assert not dock.pipeline().steps[1].enabled
    assert dock.step_list.item(1).text().startswith("nuclei")
    dock.remove_step(0)
    assert [m.name for m in dock.steps] == ["nuclei", "invert"]


def test_save_clear_load_gives_same_steps_and_values(dock_and_nav, qtbot, tmp_path):
    _viewer, dock, _nav = dock_and_nav
    build_three_steps(qtbot, dock)
    dock.step_list.setCurrentRow(2)
    dock.form.settings["group_by"].value = "channel"
    dock.form.settings["variable_components"].value = ["z", "timepoint"]
    before = dock.pipeline()
    path = dock.save(tmp_path / "p.json")
    dock.clear()
    assert dock.steps == [] and dock.step_list.count() == 0
    dock.load(path)
    assert dock.pipeline() == before
    assert dock.steps[0].kwargs["sigma"] == 1.5
    assert dock.steps[2].group_by == "channel" and dock.steps[2].group_value == "1"
    dock.step_list.setCurrentRow(2)
    assert dock.form.params["min_area"].value == 10
    script = dock.export_script(tmp_path / "p.py")
    assert "count_objects" in script.read_text()


def test_rejected_parameter_shows_error_and_keeps_last_preview(dock_and_nav, qtbot):
    viewer, dock, _nav = dock_and_nav
    add_through_browser(qtbot, dock, GAUSSIAN)
    add_through_browser(qtbot, dock, "skimage.filters.difference_of_gaussians")
    dock.form.set_param("low_sigma", 1.0)
    dock.form.set_param("high_sigma", 3.0)
    dock.preview_box.setChecked(True)
    wait_preview(qtbot, dock)
    good = np.array(viewer.layers["preview: difference_of_gaussians"].data)
    dock.form.set_param("low_sigma", 5.0)  # larger than high_sigma: the function refuses it
    wait_preview(qtbot, dock)
    assert "high_sigma" in dock.errors["difference_of_gaussians"]
    assert not dock.form.error.isHidden() and "high_sigma" in dock.form.error.text()
    assert "⚠" in dock.step_list.item(1).text()
    np.testing.assert_array_equal(viewer.layers["preview: difference_of_gaussians"].data, good)
    dock.form.set_param("low_sigma", 1.5)
    wait_preview(qtbot, dock)
    assert "difference_of_gaussians" not in dock.errors
    assert dock.form.error.isHidden()


def test_loaded_chains_and_groups_round_trip_unchanged(dock_and_nav):
    from napari_openhcs.pipeline import load_pipeline

    _viewer, dock, _nav = dock_and_nav
    builtin = load_pipeline("nuclei_count")
    dock.set_steps(builtin)
    assert dock.pipeline() == builtin
    dock.step_list.setCurrentRow(len(dock.steps) - 1)
    chain = dock.steps[-1].calls()
    assert len(dock.form.chain_forms) == len(chain)  # one form per function of the chain


@pytest.fixture
def two_channel_dock(make_napari_viewer, tmp_path, qtbot):
    from napari_openhcs.plates.synthetic import write_plate

    plate = write_plate(
        tmp_path / "plate", "imagexpress", wells=["A01", "B02"], sites=1, size=96, seed=4
    )
    yield from docks_on(make_napari_viewer, plate)


def test_plate_steps_and_second_images_round_trip_and_preview(two_channel_dock, qtbot):
    from napari_openhcs.pipeline import load_pipeline

    viewer, dock, _nav = two_channel_dock
    builtin = load_pipeline("nuclei_marker")  # a plate step, a plate-step input, an image input
    dock.set_steps(builtin)
    assert dock.pipeline() == builtin
    assert [m.scope for m in dock.steps] == ["plate", "unit", "unit", "unit", "unit"]

    # the marker step's intensity image is chosen from the earlier steps and plate channels
    dock.step_list.setCurrentRow(4)
    combo = dock.form.params["intensity"]
    values = list(combo.choices)
    assert {"image": "project", "channel": 2} in values
    assert {"image": "start"} in values and {"image": "corrected", "channel": 1} in values
    assert {"image": "nuclei", "channel": 2} in values  # every earlier per-well step
    assert combo.value == {"image": "project", "channel": 2}
    dock.form.set_param("intensity", {"image": "start", "channel": 2})
    assert dock.steps[4].kwargs["intensity"] == {"image": "start", "channel": 2}
    dock.form.set_param("intensity", {"image": "project", "channel": 2})
    # the correction step can take the plate step's result from a choice, too
    dock.step_list.setCurrentRow(1)
    assert dock.form.params["flatfield"].value == {"plate_step": "flatfield"}

    dock.preview_box.setChecked(True)
    result = wait_preview(qtbot, dock)
    errors = [e["error"] for e in result if e.get("error")]
    assert not errors, errors
    names = {layer.name for layer in viewer.layers}
    assert any(n.startswith("preview: flatfield") for n in names), names
    assert any(n.startswith("preview: marker") for n in names), names


def test_save_adds_json_and_export_adds_py_when_the_name_has_none(dock_and_nav, qtbot, tmp_path):
    from napari_openhcs.pipeline import load_pipeline

    _viewer, dock, _nav = dock_and_nav
    build_three_steps(qtbot, dock)
    saved = dock.save(tmp_path / "nuclei")
    assert saved == tmp_path / "nuclei.json" and saved.is_file()
    assert not (tmp_path / "nuclei").exists()
    assert load_pipeline(saved) == dock.pipeline()
    script = dock.export_script(tmp_path / "nuclei_script")
    assert script == tmp_path / "nuclei_script.py" and "count_objects" in script.read_text()
    assert dock.save(tmp_path / "kept.pipeline.json").name == "kept.pipeline.json"


def test_clear_button_asks_first_and_removes_steps_and_their_preview(
    dock_and_nav, qtbot, monkeypatch
):
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QMessageBox

    viewer, dock, _nav = dock_and_nav
    build_three_steps(qtbot, dock)
    dock.preview_box.setChecked(True)
    wait_preview(qtbot, dock)
    assert any(x.name.startswith("preview: ") for x in viewer.layers)
    asked = []

    def answer(reply):
        def question(*args, **_kw):
            asked.append(args[2])
            return reply

        return question

    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    qtbot.mouseClick(dock.clear_button, Qt.MouseButton.LeftButton)
    assert len(dock.steps) == 3 and "3 step(s)" in asked[-1]  # "No" keeps them
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    qtbot.mouseClick(dock.clear_button, Qt.MouseButton.LeftButton)
    assert dock.steps == [] and dock.step_list.count() == 0
    assert not any(x.name.startswith("preview: ") for x in viewer.layers)


def test_adding_a_step_keeps_the_previous_steps_group(dock_and_nav, qtbot):
    _viewer, dock, _nav = dock_and_nav
    add_through_browser(qtbot, dock, COUNT)
    dock.form.settings["group_by"].value = "channel"
    assert (dock.steps[0].group_by, dock.steps[0].group_value) == ("channel", "1")
    add_through_browser(qtbot, dock, INVERT)  # the form is rebuilt for the new step
    assert (dock.steps[0].group_by, dock.steps[0].group_value) == ("channel", "1")


def test_cell_profile_loads_and_its_channels_are_form_values(two_channel_dock):
    """The built-in cell_profile in the dock: the same pipeline back, the seeds an object
    set chosen in the form, and the group's channel a form value."""
    from napari_openhcs.pipeline import load_pipeline

    _viewer, dock, _nav = two_channel_dock
    builtin = load_pipeline("cell_profile")
    dock.set_steps(builtin)
    assert dock.pipeline() == builtin
    assert [m.name for m in dock.steps] == ["project", "nuclei", "cells", "cytoplasm"]
    dock.step_list.setCurrentRow(2)  # cells: grown in channel 2 from the nuclei of channel 1
    assert len(dock.form.chain_forms) == 3  # identify_secondary_objects, two measure_cells
    seeds = dock.form.params["seeds"]  # an object set: the earlier labels steps only
    assert seeds.value == {"objects": "nuclei"}
    assert {"objects": "nuclei"} in list(seeds.choices)
    assert {"objects": "project"} not in list(seeds.choices)  # project gives an image
    assert dock.steps[2].group_value == "2"
    step = dock.pipeline().steps[2]
    assert list(step.pattern) == ["2"]
    assert step.pattern["2"][0][1]["seeds"] == {"objects": "nuclei"}
