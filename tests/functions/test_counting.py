"""count_objects: segmentation, splitting of touching nuclei, and the measurement table."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.functions import count_objects as count_objects_table
from napari_openhcs.functions import tophat_background


def count_objects(*args, **kwargs):
    """``count_objects`` with its pyarrow table as a dict of NumPy columns."""
    labels, table = count_objects_table(*args, **kwargs)
    return labels, {name: table.column(name).to_numpy() for name in table.column_names}


@pytest.mark.parametrize(("seed", "noise"), [(seed, 60.0) for seed in range(6)] + [(6, 150.0)])
def test_counts_touching_noisy_nuclei_within_5_percent(nuclei, seed, noise):
    image, centres = nuclei(seed=seed, noise=noise)
    labels, table = count_objects(image[None])
    truth = len(centres)
    assert abs(len(table["label"]) - truth) <= 0.05 * truth
    # Not just the right number: at least 95% of true centres fall in distinct objects.
    hit = labels[0][tuple(np.round(centres).astype(int).T)]
    found = np.unique(hit[hit > 0])
    assert len(found) >= 0.95 * truth


def test_counts_after_tophat_background_subtraction(nuclei):
    image, centres = nuclei(seed=4)
    _, table = count_objects(tophat_background(image[None], radius=15))
    assert abs(len(table["label"]) - len(centres)) <= 0.05 * len(centres)


def test_touching_nuclei_are_only_separated_when_splitting(nuclei):
    image, centres = nuclei(seed=0, singles=10, pairs=8)
    _, split = count_objects(image[None], split_touching=True)
    _, joined = count_objects(image[None], split_touching=False)
    # Without splitting, each touching pair is one object.
    assert len(joined["label"]) <= len(centres) - 8 + 1
    assert len(split["label"]) >= len(centres) - 1


def test_labels_are_int32_and_the_table_describes_them(nuclei):
    image, _ = nuclei(seed=5, size=128, singles=8, pairs=2)
    labels, table = count_objects(image[None])
    assert labels.dtype == np.int32
    assert labels.shape == (1, 128, 128)
    assert list(table) == ["label", "area", "mean_intensity", "centroid_y", "centroid_x"]
    assert len({len(column) for column in table.values()}) == 1
    np.testing.assert_array_equal(table["label"], np.arange(1, labels.max() + 1))
    for row, label in enumerate(table["label"]):
        pixels = labels[0] == label
        assert table["area"][row] == pixels.sum()
        assert table["mean_intensity"][row] == pytest.approx(image[pixels].mean())
        ys, xs = np.nonzero(pixels)
        assert table["centroid_y"][row] == pytest.approx(ys.mean())
        assert table["centroid_x"][row] == pytest.approx(xs.mean())


def test_labels_are_unique_across_planes_and_the_table_names_the_plane(nuclei):
    first, c1 = nuclei(seed=6, size=128, singles=6, pairs=1)
    second, c2 = nuclei(seed=7, size=128, singles=9, pairs=0)
    labels, table = count_objects(np.stack([first, second]))
    assert "plane" in table
    counts = np.bincount(table["plane"])
    assert counts.tolist() == [len(c1), len(c2)]
    in_first = set(np.unique(labels[0])) - {0}
    in_second = set(np.unique(labels[1])) - {0}
    assert not in_first & in_second
    assert set(table["label"][table["plane"] == 1]) == in_second


def test_an_empty_image_gives_no_objects_and_an_empty_table():
    labels, table = count_objects(np.zeros((1, 32, 32), dtype=np.uint16))
    assert not labels.any()
    assert all(len(column) == 0 for column in table.values())
    assert "label" in table and "area" in table


def test_objects_smaller_than_min_area_are_removed():
    plane = np.zeros((40, 40), dtype=np.float32)
    plane[5:15, 5:15] = 1.0  # 100 px
    plane[25:28, 25:28] = 1.0  # 9 px
    _, table = count_objects(plane[None], sigma=0, min_area=20)
    assert table["area"].tolist() == [100]
    _, table = count_objects(plane[None], sigma=0, min_area=5)
    assert sorted(table["area"].tolist()) == [9, 100]


@pytest.mark.parametrize(
    "kwargs", [{"sigma": -1.0}, {"min_distance": 0}, {"min_area": -5}, {"method": "nope"}]
)
def test_bad_parameters_are_refused_before_any_work(kwargs):
    with pytest.raises(ValueError):
        count_objects(np.zeros((1, 16, 16)), **kwargs)
