"""Synthetic plates: they index back to what was written, match their ground truth, repeat."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from helpers import tree_checksum
from napari_openhcs.errors import InputError
from napari_openhcs.plates import open_plate, read_plane
from napari_openhcs.plates.synthetic import write_plate

FORMATS = ["imagexpress", "operaphenix", "omezarr"]


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "layout",
    [
        dict(wells=["A01", "B03"], sites=2, channels=2, z=3, timepoints=1),
        dict(wells=["P24"], sites=1, channels=1, z=1, timepoints=2),
        dict(wells=["C05", "AF48"], sites=3, channels=3, z=2, timepoints=1),
    ],
)
def test_plate_indexes_back_to_exactly_the_components_written(tmp_path, fmt, layout):
    plate = write_plate(tmp_path / "p", fmt=fmt, size=64, **layout)
    index = open_plate(plate)
    assert index.format == fmt
    assert index.wells == sorted(layout["wells"], key=lambda w: (len(w), w))
    assert index.sites == list(range(1, layout["sites"] + 1))
    assert index.channels == list(range(1, layout["channels"] + 1))
    assert index.z == list(range(1, layout["z"] + 1))
    assert index.timepoints == list(range(1, layout["timepoints"] + 1))
    n = len(layout["wells"]) * layout["sites"] * layout["channels"] * layout["z"]
    assert len(index.images) == n * layout["timepoints"]
    assert index.missing == []
    assert index.shape == (64, 64) and index.dtype == "uint16"
    assert index.channel_names[1] == "DAPI"
    assert index.pixel_size == pytest.approx((0.65, 0.65))
    if "AF48" in layout["wells"]:
        assert (index.rows, index.columns) == (32, 48)


def test_plate_size_fills_every_well_on_its_grid(tmp_path):
    plate = write_plate(
        tmp_path / "p", plate=24, sites=1, channels=1, z=1, size=32, fmt="operaphenix"
    )
    index = open_plate(plate)
    assert (index.rows, index.columns) == (4, 6) and len(index.wells) == 24


def _components(image: np.ndarray) -> np.ndarray:
    smooth = ndimage.gaussian_filter(image.astype(np.float32), 1.0)
    background = np.percentile(smooth, 20)
    return ndimage.label(smooth > background + 250)[0]


@pytest.mark.parametrize("size", [128, 256])
def test_ground_truth_counts_every_drawn_nucleus_and_its_touching_pairs(tmp_path, size):
    plate = write_plate(tmp_path / "p", wells=["A01", "D07"], sites=2, z=3, size=size, seed=3)
    truth = json.loads((plate / "ground_truth.json").read_text())
    assert truth["nuclei_channel"] == 1
    index = open_plate(plate)
    for well in ("A01", "D07"):
        for site in ("1", "2"):
            focus = [k for k in index.keys_for(well, int(site)) if k.channel == 1 and k.z == 2]
            labels = _components(read_plane(index.format, index.images[focus[0]]))
            centroids = truth["centroids_yx_t1"][well][site]
            assert len(centroids) == truth["counts"][well][site] >= 3
            hit = [labels[int(round(y)), int(round(x))] for y, x in centroids]
            assert all(hit), "every drawn nucleus is a bright object"
            per_object = np.bincount(hit)[1:]
            # every object holds one nucleus, or two for a touching pair; nothing undrawn shows
            assert labels.max() == np.count_nonzero(per_object)
            assert set(per_object[per_object > 0]) <= {1, 2}
            assert np.count_nonzero(per_object == 2) == truth["touching_pairs"][well][site] >= 1


def test_nuclei_are_sharpest_in_the_middle_plane(tmp_path):
    plate = write_plate(tmp_path / "p", wells=["A01"], sites=1, channels=1, z=5, size=128)
    index = open_plate(plate)
    sharpness = [
        float(
            np.var(
                ndimage.laplace(
                    ndimage.gaussian_filter(
                        read_plane(index.format, index.images[k]).astype(np.float32), 1.0
                    )
                )
            )
        )
        for k in index.keys_for("A01")
    ]
    assert int(np.argmax(sharpness)) == 2
    assert sharpness[2] > 1.5 * max(sharpness[0], sharpness[4])


def test_timepoints_drift_by_a_few_pixels(tmp_path):
    plate = write_plate(
        tmp_path / "p", wells=["A01"], sites=1, channels=1, z=1, timepoints=3, size=128, seed=1
    )
    index = open_plate(plate)
    planes = [
        read_plane(index.format, index.images[k]).astype(np.float32) for k in index.keys_for("A01")
    ]
    a = planes[0] - planes[0].mean()
    for later in planes[1:]:
        b = later - later.mean()
        corr = np.fft.irfft2(np.fft.rfft2(a) * np.conj(np.fft.rfft2(b)), s=a.shape)
        dy, dx = np.unravel_index(np.argmax(corr), corr.shape)
        dy, dx = (d if d < 64 else d - 128 for d in (dy, dx))
        assert max(abs(dy), abs(dx)) <= 4
    assert not np.array_equal(planes[0], planes[2])


@pytest.mark.parametrize("fmt", FORMATS)
def test_same_seed_gives_byte_identical_plates_and_another_seed_does_not(tmp_path, fmt):
    kwargs = dict(fmt=fmt, wells=["A01", "B02"], sites=2, z=2, timepoints=2, size=64)
    one = write_plate(tmp_path / "one", seed=7, **kwargs)
    two = write_plate(tmp_path / "two", seed=7, **kwargs)
    other = write_plate(tmp_path / "other", seed=8, **kwargs)
    assert tree_checksum(one) == tree_checksum(two)
    assert tree_checksum(one) != tree_checksum(other)


def test_a_well_looks_the_same_whichever_wells_are_written_with_it(tmp_path):
    alone = write_plate(tmp_path / "a", wells=["B02"], size=64)
    together = write_plate(tmp_path / "b", wells=["A01", "B02"], size=64)
    name = "TimePoint_1/ZStep_2/synthetic_B02_s2_w1.tif"
    assert (alone / name).read_bytes() == (together / name).read_bytes()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(fmt="cellomics"), "unknown synthetic plate format"),
        (dict(wells=["a01"]), "bad well name"),
        (dict(wells=["A01", "A01"]), "named twice"),
        (dict(wells=["I01"], plate=96), "outside a plate of 8 rows"),
        (dict(plate=100), "not a standard plate size"),
        (dict(sites=0), "--sites must be"),
        (dict(size=8), "--size must be"),
    ],
)
def test_bad_arguments_raise_input_error_and_write_nothing(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        write_plate(tmp_path / "p", **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_an_existing_non_empty_folder_is_not_overwritten(tmp_path):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("mine")
    before = tree_checksum(tmp_path)
    with pytest.raises(InputError, match="already exists and is not empty"):
        write_plate(tmp_path / "p", size=32)
    assert tree_checksum(tmp_path) == before


def test_every_format_holds_the_same_pixels_for_one_seed(tmp_path):
    kwargs = dict(wells=["B02"], sites=2, channels=2, z=2, timepoints=2, size=48, seed=5)
    indexes = [open_plate(write_plate(tmp_path / f, fmt=f, **kwargs)) for f in FORMATS]
    assert all(ix.images.keys() == indexes[0].images.keys() for ix in indexes)
    for key in indexes[0].images:
        planes = [read_plane(ix.format, ix.images[key]) for ix in indexes]
        for plane in planes[1:]:
            np.testing.assert_array_equal(plane, planes[0])


@pytest.mark.parametrize("ngff", ["0.4", "0.5"])
def test_omezarr_plate_records_ngff_version_pixel_size_and_colours(tmp_path, ngff):
    plate = write_plate(tmp_path / "p.ome.zarr", fmt="omezarr", ngff=ngff, wells=["A01"], size=32)
    index = open_plate(plate)
    assert index.metadata["ngff_version"] == ngff
    assert index.pixel_size == pytest.approx((0.65, 0.65)) and index.z_step == pytest.approx(2.0)
    assert index.channel_names == {1: "DAPI", 2: "FITC"} and len(index.channel_colors) == 2
    assert (plate / "ground_truth.json").is_file()
