"""Single OME-Zarr images (the napari writer's format): exact round trips, valid metadata."""

from __future__ import annotations

import numpy as np
import pytest
from storage_validation import (
    open_with_napari_ome_zarr,
    validate_with_ome_zarr_models,
    validate_with_yaozarrs,
)

from napari_openhcs.errors import InputError
from napari_openhcs.storage import read_image, write_image, write_labels

CASES = [
    ("yx", (40, 56), np.uint8),
    ("zyx", (3, 40, 56), np.uint16),
    ("cyx", (2, 40, 56), np.float32),
    ("tczyx", (2, 3, 2, 24, 20), np.int16),
]


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
@pytest.mark.parametrize(("axes", "shape", "dtype"), CASES)
def test_image_round_trip_is_exact_and_validates(tmp_path, ngff, axes, shape, dtype):
    rng = np.random.default_rng(0)
    data = (rng.random(shape) * 200).astype(dtype)
    scale = [0.5 + i for i in range(len(axes))]
    path = write_image(tmp_path / "img.ome.zarr", data, axes=axes, scale=scale, ngff=ngff, levels=2)
    levels, info = read_image(path)
    assert levels[0].dtype == data.dtype
    np.testing.assert_array_equal(levels[0].compute(), data)
    assert levels[0].chunksize[-2:] == shape[-2:] and set(levels[0].chunksize[:-2]) <= {1}
    assert info["axes"] == axes and info["scale"] == scale and info["ngff"] == ngff
    assert len(levels) == 2 and levels[1].shape[-2:] == (shape[-2] // 2, shape[-1] // 2)
    validate_with_yaozarrs(path)
    validate_with_ome_zarr_models(path, ngff, kind="image")
    assert open_with_napari_ome_zarr(path)[0][2] == "image"


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_labels_round_trip_with_and_without_a_channel_axis(tmp_path, ngff):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 1000, (2, 3, 32, 32)).astype(np.uint16)
    cells = rng.integers(0, 50, (1, 3, 32, 32)).astype(np.uint32)
    nuclei = rng.integers(0, 9, (3, 32, 32)).astype(np.int64)
    path = write_image(
        tmp_path / "img.ome.zarr",
        image,
        axes="czyx",
        channel_names=["a", "b"],
        labels={"cells": cells, "nuclei": nuclei},
        ngff=ngff,
    )
    levels, info = read_image(path)
    assert info["labels"] == ["cells", "nuclei"] and info["channel_names"] == ["a", "b"]
    for name, expected, axes in (("cells", cells, "czyx"), ("nuclei", nuclei, "zyx")):
        lab, lab_info = read_image(path / "labels" / name)
        assert lab_info["kind"] == "labels" and lab_info["axes"] == axes
        assert lab[0].dtype == expected.dtype
        np.testing.assert_array_equal(lab[0].compute(), expected)
    validate_with_yaozarrs(path)
    validate_with_ome_zarr_models(path, ngff, kind="image")
    kinds = [layer[2] for layer in open_with_napari_ome_zarr(path)]
    assert kinds == ["image", "labels", "labels"]


def test_write_labels_adds_to_an_existing_image_and_replaces_by_name(tmp_path):
    image = np.zeros((2, 16, 16), np.uint8)
    path = write_image(tmp_path / "img.ome.zarr", image, axes="zyx", scale=[2, 0.5, 0.5], levels=2)
    first = np.ones((2, 16, 16), np.uint16)
    second = np.full((2, 16, 16), 3, np.uint16)
    write_labels(path, {"a": first, "b": first})
    write_labels(path, {"a": second})
    levels, info = read_image(path)
    assert info["labels"] == ["a", "b"]
    lab, lab_info = read_image(path / "labels" / "a")
    np.testing.assert_array_equal(lab[0].compute(), second)
    assert len(lab) == 2 and lab_info["scale"] == [2, 0.5, 0.5]
    validate_with_yaozarrs(path)
    assert not [p for p in (path / "labels").iterdir() if p.name.startswith(".")]


def test_downsampled_labels_keep_label_values(tmp_path):
    labels = np.zeros((1, 8, 8), np.int32)
    labels[0, :4, :4] = 7
    labels[0, 4:, 4:] = 9
    path = write_image(
        tmp_path / "i.ome.zarr", labels * 0, axes="zyx", labels={"l": labels}, levels=2
    )
    level1 = read_image(path / "labels" / "l")[0][1].compute()
    assert set(np.unique(level1)) == {0, 7, 9}


def test_existing_path_is_refused_unless_overwriting(tmp_path):
    path = write_image(tmp_path / "i.ome.zarr", np.zeros((4, 4), np.uint8), axes="yx")
    with pytest.raises(InputError, match="already exists"):
        write_image(path, np.ones((4, 4), np.uint8), axes="yx")
    write_image(path, np.ones((4, 4), np.uint8), axes="yx", overwrite=True)
    assert read_image(path)[0][0].compute().sum() == 16
    assert [p.name for p in tmp_path.iterdir()] == ["i.ome.zarr"]


@pytest.mark.parametrize(
    ("axes", "shape", "match"),
    [
        ("xy", (4, 4), "ending 'yx'"),
        ("zcyx", (2, 2, 4, 4), "order"),
        ("yx", (2, 4, 4), "dimensions"),
    ],
)
def test_bad_axes_are_refused(tmp_path, axes, shape, match):
    with pytest.raises(InputError, match=match):
        write_image(tmp_path / "i.ome.zarr", np.zeros(shape, np.uint8), axes=axes)
    assert not (tmp_path / "i.ome.zarr").exists()


def test_float_labels_are_refused_and_nothing_is_left(tmp_path):
    with pytest.raises(InputError, match="integers"):
        write_image(
            tmp_path / "i.ome.zarr",
            np.zeros((4, 4), np.uint8),
            axes="yx",
            labels={"l": np.zeros((4, 4), np.float32)},
        )
    assert list(tmp_path.iterdir()) == []
