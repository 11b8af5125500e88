"""The reader as plain functions: which paths it takes, and the layers it gives."""

from __future__ import annotations

import json

import numpy as np
import pytest

from helpers import tree_checksum
from napari_openhcs.errors import PlateError
from napari_openhcs.gui._reader import get_reader, read_openhcs
from napari_openhcs.plates import open_plate, read_plane
from napari_openhcs.plates.synthetic import write_plate
from napari_openhcs.storage import write_image

FORMATS = ["imagexpress", "operaphenix", "omezarr"]


@pytest.fixture(scope="module", params=FORMATS)
def plate(request, tmp_path_factory):
    out = tmp_path_factory.mktemp(request.param) / "plate"
    return write_plate(out, request.param, wells=["B02", "A01"], sites=2, channels=2, z=2, size=64)


def test_reader_opens_first_well_one_layer_per_channel(plate):
    index = open_plate(plate)
    reader = get_reader(str(plate))
    assert reader is not None
    layers = reader(str(plate))
    assert [kind for _, _, kind in layers] == ["image", "image"]
    names = [kw["name"] for _, kw, _ in layers]
    assert names == [f"A01 s1 {index.channel_names[c]}" for c in index.channels]
    for (data, kwargs, _), channel in zip(layers, index.channels, strict=True):
        assert data.shape == (2, 1, 2, 64, 64)
        assert kwargs["scale"][3:] == pytest.approx(index.pixel_size)
        assert kwargs["scale"][2] == pytest.approx(index.z_step or 1.0)
        assert kwargs["metadata"]["openhcs"]["well"] == "A01"
        assert kwargs["metadata"]["openhcs"]["wells"] == ["A01", "B02"]
        # site 2, z 2 of the layer is that plane of the plate
        key = [k for k in index.keys_for("A01", 2) if k.channel == channel and k.z == 2][0]
        expected = read_plane(index.format, index.images[key])
        np.testing.assert_array_equal(np.asarray(data[1, 0, 1]), expected)


def test_reader_accepts_the_plate_file(tmp_path):
    plate = write_plate(tmp_path / "p", "imagexpress", wells=["A01"], sites=1, z=1, size=64)
    htd = next(plate.glob("*.HTD"))
    assert get_reader(str(htd)) is not None
    assert len(read_openhcs(str(htd))) == 2


def test_reader_is_lazy(tmp_path, monkeypatch):
    plate = write_plate(tmp_path / "p", "imagexpress", wells=["A01"], sites=2, z=2, size=64)
    calls = []
    import napari_openhcs.plates.discovery as discovery

    real = discovery.get_handler

    def counting(name):
        handler = real(name)
        original = handler.read

        class Wrapped:
            def __getattr__(self, attr):
                return getattr(handler, attr)

            def read(self, locator):
                calls.append(locator)
                return original(locator)

        return Wrapped()

    monkeypatch.setattr(discovery, "get_handler", counting)
    layers = read_openhcs(str(plate))
    assert calls == []  # building the layers reads no pixels
    np.asarray(layers[0][0][0, 0, 0])
    assert len(calls) == 1


def test_reader_declines_what_is_not_ours(tmp_path):
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("hello")
    (tmp_path / "image.tif").write_bytes(b"II*\x00")
    plain_zarr = tmp_path / "plain.zarr"
    plain_zarr.mkdir()
    (plain_zarr / "zarr.json").write_text(json.dumps({"zarr_format": 3, "node_type": "group"}))
    broken = tmp_path / "broken.zarr"
    broken.mkdir()
    (broken / "zarr.json").write_text("{not json")
    for path in ["folder", "image.tif", "plain.zarr", "broken.zarr", "absent"]:
        assert get_reader(str(tmp_path / path)) is None, path
    assert get_reader([str(tmp_path / "folder"), str(tmp_path / "plain.zarr")]) is None


def test_reader_leaves_the_plate_unchanged(plate):
    before = tree_checksum(plate)
    for data, _, _ in read_openhcs(str(plate)):
        np.asarray(data)
    assert tree_checksum(plate) == before


def test_reader_opens_our_ome_zarr_image_with_labels(tmp_path):
    image = np.arange(2 * 32 * 48, dtype=np.uint16).reshape(2, 32, 48)
    labels = np.zeros((32, 48), np.uint32)
    labels[4:10, 5:20] = 3
    path = write_image(
        tmp_path / "cells.ome.zarr",
        image,
        axes="cyx",
        channel_names=["DAPI", "GFP"],
        channel_colors=["0000FF", "00FF00"],
        scale=[1, 0.5, 0.25],
        labels={"nuclei": labels},
    )
    layers = get_reader(str(path))(str(path))
    assert [kind for _, _, kind in layers] == ["image", "labels"]
    data, kwargs, _ = layers[0]
    assert kwargs["channel_axis"] == 0
    assert kwargs["name"] == ["DAPI", "GFP"]
    assert kwargs["colormap"] == ["#0000FF", "#00FF00"]
    assert kwargs["scale"] == [0.5, 0.25]
    np.testing.assert_array_equal(np.asarray(data), image)
    label_data, label_kwargs, _ = layers[1]
    assert label_kwargs["name"] == "nuclei"
    np.testing.assert_array_equal(np.asarray(label_data), labels)


def test_reader_error_for_a_broken_plate_names_the_problem(tmp_path):
    plate = write_plate(tmp_path / "p", "operaphenix", wells=["A01"], sites=1, z=1, size=64)
    index_file = next(plate.rglob("Index*.xml"))
    index_file.write_text("<broken")
    with pytest.raises(PlateError):
        read_openhcs(str(plate))
