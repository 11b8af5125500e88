"""The reader, writer and sample data inside napari (npe2 finds them through the manifest)."""

from __future__ import annotations

import numpy as np
import pytest

from helpers import tree_checksum
from napari_openhcs.plates import open_plate
from napari_openhcs.plates.synthetic import write_plate

pytestmark = pytest.mark.gui

PLUGIN = "napari-openhcs"


@pytest.fixture(scope="module", params=["imagexpress", "operaphenix", "omezarr"])
def plate(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "plate"
    return write_plate(out, request.param, wells=["A01", "A02"], sites=2, channels=2, z=2, size=64)


def test_viewer_opens_a_plate_with_channels_and_scale(make_napari_viewer, plate):
    index = open_plate(plate)
    before = tree_checksum(plate)
    viewer = make_napari_viewer()
    layers = viewer.open(str(plate), plugin=PLUGIN)
    names = [f"A01 s1 {index.channel_names[c]}" for c in index.channels]
    assert [layer.name for layer in layers] == names
    assert [layer.name for layer in viewer.layers] == names
    for layer in layers:
        assert layer._type_string == "image"
        assert layer.data.shape == (2, 1, 2, 64, 64)
        np.testing.assert_allclose(layer.scale[3:], index.pixel_size)
        assert layer.metadata["openhcs"]["well"] == "A01"
    assert viewer.dims.axis_labels == ("site", "t", "z", "y", "x")
    # what napari shows is the plate's pixels
    viewer.dims.current_step = (1, 0, 1, 0, 0)
    shown = np.asarray(layers[0]._slice.image.view)
    expected = np.asarray(layers[0].data[1, 0, 1])
    np.testing.assert_array_equal(shown, expected)
    assert tree_checksum(plate) == before  # the input plate is read-only


def test_viewer_declines_a_folder_that_is_not_a_plate(make_napari_viewer, tmp_path):
    (tmp_path / "notes.txt").write_text("not a plate")
    viewer = make_napari_viewer()
    with pytest.raises(ValueError, match=PLUGIN):
        viewer.open(str(tmp_path), plugin=PLUGIN)
    assert len(viewer.layers) == 0


def test_viewer_writer_round_trip(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    image = np.random.default_rng(1).integers(0, 999, (3, 32, 40), dtype=np.uint16)
    labels = (image > 500).astype(np.int32)
    viewer.add_image(image, name="DAPI", scale=(2, 0.5, 0.5))
    viewer.add_labels(labels, name="cells", scale=(2, 0.5, 0.5))
    [image_path] = viewer.layers["DAPI"].save(str(tmp_path / "dapi.zarr"), plugin=PLUGIN)
    [labels_path] = viewer.layers["cells"].save(str(tmp_path / "cells.zarr"), plugin=PLUGIN)
    viewer.layers.clear()
    [reopened] = viewer.open(image_path, plugin=PLUGIN)
    assert reopened.name == "DAPI" and reopened._type_string == "image"
    np.testing.assert_array_equal(np.asarray(reopened.data), image)
    np.testing.assert_allclose(reopened.scale, (2, 0.5, 0.5))
    [reopened_labels] = viewer.open(labels_path, plugin=PLUGIN)
    assert reopened_labels._type_string == "labels"
    np.testing.assert_array_equal(np.asarray(reopened_labels.data), labels)
    np.testing.assert_allclose(reopened_labels.scale, (2, 0.5, 0.5))


def test_viewer_loads_the_sample_plate(make_napari_viewer, tmp_path, monkeypatch):
    from napari_openhcs.gui import _sample_data

    monkeypatch.setattr(_sample_data.tempfile, "gettempdir", lambda: str(tmp_path))
    viewer = make_napari_viewer()
    viewer.open_sample(PLUGIN, "synthetic_plate")
    assert [layer.name for layer in viewer.layers] == ["A01 s1 DAPI", "A01 s1 FITC"]
    assert viewer.layers[0].data.shape == (2, 1, 3, 256, 256)
