"""The writer as plain functions: layers written as OME-Zarr reopen equal."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.errors import InputError
from napari_openhcs.gui._reader import get_reader
from napari_openhcs.gui._writer import write_image, write_labels
from napari_openhcs.storage import read_image


def _image(shape=(3, 40, 56)):
    return np.random.default_rng(0).integers(0, 4000, size=shape, dtype=np.uint16)


def test_image_layer_reopens_equal(tmp_path):
    data = _image()
    attrs = {
        "name": "DAPI",
        "scale": [2.0, 0.5, 0.25],
        "colormap": {"colors": [[0, 0, 0, 1], [0, 0, 1, 1]]},
    }
    [path] = write_image(str(tmp_path / "out"), data, attrs)
    assert path.endswith("out.zarr")
    levels, info = read_image(path)
    assert info["axes"] == "czyx"
    assert info["channel_names"] == ["DAPI"]
    assert info["channel_colors"] == ["0000FF"]
    layers = get_reader(path)(path)
    [(reopened, kwargs, kind)] = layers
    assert kind == "image" and kwargs["name"] == "DAPI"
    assert kwargs["scale"] == [2.0, 0.5, 0.25]
    # napari splits the channel axis into one layer per channel
    assert kwargs["channel_axis"] == 0
    np.testing.assert_array_equal(np.asarray(reopened)[0], data)


def test_plate_layer_with_one_site_drops_the_site_axis(tmp_path):
    data = _image((1, 2, 3, 32, 32))  # site, t, z, y, x
    attrs = {
        "name": "A01 DAPI",
        "scale": [1, 1, 2, 0.65, 0.65],
        "axis_labels": ("site", "t", "z", "y", "x"),
    }
    [path] = write_image(str(tmp_path / "a01.zarr"), data, attrs)
    levels, info = read_image(path)
    assert info["axes"] == "tczyx"
    assert info["scale"] == [1, 1, 2, 0.65, 0.65]
    np.testing.assert_array_equal(np.asarray(levels[0])[:, 0], data[0])


def test_plate_layer_with_several_sites_is_refused(tmp_path):
    attrs = {"name": "x", "axis_labels": ("site", "t", "z", "y", "x")}
    with pytest.raises(InputError, match="site"):
        write_image(str(tmp_path / "a.zarr"), _image((2, 1, 1, 16, 16)), attrs)
    assert not (tmp_path / "a.zarr").exists()


def test_existing_path_is_refused(tmp_path):
    write_image(str(tmp_path / "a.zarr"), _image((16, 16)), {"name": "a"})
    with pytest.raises(InputError, match="already exists"):
        write_image(str(tmp_path / "a.zarr"), _image((16, 16)), {"name": "a"})


def test_labels_layer_reopens_equal_as_labels(tmp_path):
    labels = np.zeros((2, 30, 40), np.int32)
    labels[0, 3:9, 4:12] = 1
    labels[1, 10:20, 5:30] = 7
    [path] = write_labels(
        str(tmp_path / "nuclei"), labels, {"name": "nuclei", "scale": [2, 0.5, 0.5]}
    )
    [(reopened, kwargs, kind)] = get_reader(path)(path)
    assert kind == "labels"
    assert kwargs["name"] == "nuclei"
    assert list(kwargs["scale"]) == [2, 0.5, 0.5]
    np.testing.assert_array_equal(np.asarray(reopened), labels)


def test_labels_added_to_an_existing_image(tmp_path):
    data = _image((32, 32))
    [image] = write_image(str(tmp_path / "img.zarr"), data, {"name": "DAPI"})
    labels = (data > 2000).astype(np.uint16)
    [path] = write_labels(image, labels, {"name": "mask"})
    assert path == image
    layers = get_reader(path)(path)
    assert [(kw["name"], kind) for _, kw, kind in layers] == [("DAPI", "image"), ("mask", "labels")]
    np.testing.assert_array_equal(np.asarray(layers[1][0]), labels)
