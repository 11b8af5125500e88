"""The preview's object sets carry their measurements: Labels layers with ``features``."""

from __future__ import annotations

import numpy as np
import pytest
from docks import docks_on, wait_preview

COMPARTMENTS = {"nuclei": "Nuclei", "cells": "Cells", "cytoplasm": "Cytoplasm"}


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("features") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "A02"], sites=1, channels=2, z=1, size=192, seed=3
    )


@pytest.fixture
def docks(make_napari_viewer, plate, qtbot):
    yield from docks_on(make_napari_viewer, plate)


def _labels_layer(viewer, step):
    (layer,) = [
        x for x in viewer.layers if x.name.startswith(f"preview: {step} [") and x.visible
    ] or [x for x in viewer.layers if x.name.startswith(f"preview: {step} [")]
    return layer


def _measure_calls(plate, step):
    """The step's measure_cells calls as the compiler resolves them (names filled in)."""
    from napari_openhcs.pipeline import load_pipeline
    from napari_openhcs.pipeline.compiler import compile_pipeline
    from napari_openhcs.pipeline.workunits import chain_pairs
    from napari_openhcs.plates import open_plate
    from napari_openhcs.storage.layout import OutputSpec

    index = open_plate(plate)
    spec = OutputSpec(out_dir="", plate_name=index.name, rows=index.rows, columns=index.columns)
    plan = compile_pipeline(load_pipeline("cell_profile"), index, spec, wells=["A01"])
    (compiled,) = [s for s in plan.steps if s.name == step]
    return [k for f, k in chain_pairs(compiled) if f.ref.endswith(".measure_cells")]


def _direct_measurements(plate, step, labels, projections):
    """measure_cells called directly on the preview's labels and projected channels, with
    the pipeline's arguments."""
    from napari_openhcs.functions import measure_cells

    found = []
    for kwargs in _measure_calls(plate, step):
        kwargs = dict(kwargs)
        intensity = kwargs.pop("intensity")
        assert intensity["image"] == "project"
        image = projections[intensity["channel"]]
        found.append(measure_cells(labels[None], image[None], **kwargs)[1])
    assert found
    return found


@pytest.mark.gui
def test_cell_profile_preview_labels_carry_their_compartments_measurements(docks, plate, qtbot):
    from napari_openhcs.pipeline import load_pipeline

    viewer, dock, nav = docks
    nav.session.select(well="A01", site=1)
    dock.set_steps(load_pipeline("cell_profile"))
    dock.preview_box.setChecked(True)
    wait_preview(qtbot, dock)
    projections = {  # uint16, as measured
        1: np.asarray(viewer.layers["preview: project [DAPI]"].data),
        2: np.asarray(viewer.layers["preview: project [FITC]"].data),
    }
    for step, compartment in COMPARTMENTS.items():
        layer = _labels_layer(viewer, step)
        assert layer._type_string == "labels"
        labels = np.asarray(layer.data)
        objects = np.unique(labels[labels > 0])
        assert len(objects) > 3, step
        features = layer.features
        assert layer.metadata["openhcs"]["compartment"] == compartment
        np.testing.assert_array_equal(np.sort(features["index"].to_numpy()), objects)
        own = [c for c in features.columns if c != "index"]
        assert own and all(c.startswith(compartment + "_") for c in own)
        compared = 0
        for table in _direct_measurements(plate, step, labels, projections):
            numbers = table.column("ObjectNumber").to_numpy()
            rows = {int(n): i for i, n in enumerate(numbers)}
            order = [rows[int(v)] for v in features["index"]]
            for name in table.column_names:
                if name == "ObjectNumber":
                    continue
                expected = table.column(name).to_numpy()[order].astype(float)
                np.testing.assert_allclose(
                    features[name].to_numpy(dtype=float), expected, rtol=1e-12, err_msg=name
                )
                compared += 1
        assert compared == len(own)


@pytest.mark.gui
def test_hovering_a_cell_shows_its_measurements_in_the_status_bar(docks, qtbot):
    from napari_openhcs.pipeline import load_pipeline

    viewer, dock, nav = docks
    nav.session.select(well="A01", site=1)
    dock.set_steps(load_pipeline("cell_profile"))
    dock.preview_box.setChecked(True)
    wait_preview(qtbot, dock)
    cells = _labels_layer(viewer, "cells")
    labels = np.asarray(cells.data)
    value = int(np.bincount(labels[labels > 0]).argmax())  # the largest cell
    y, x = np.argwhere(labels == value)[0]
    area = cells.features.set_index("index").loc[value, "Cells_AreaShape_Area"]
    assert area == (labels == value).sum()

    cells.visible = True  # the last step (cytoplasm) is the one shown
    viewer.layers.selection.active = cells
    viewer.mouse_over_canvas = True
    viewer.cursor.position = tuple(cells.data_to_world((y, x)))
    viewer.update_status_from_cursor()
    status = viewer.status
    text = status["coordinates"] if isinstance(status, dict) else status
    assert f"{value}; " in text
    assert f"Cells_AreaShape_Area: {int(area)}" in text
