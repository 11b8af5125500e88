"""max_projection and mean_projection (NumPy versions)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.functions import max_projection, mean_projection


@pytest.fixture
def stack() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 60000, size=(4, 16, 20)).astype(np.uint16)


def test_max_projection_takes_the_brightest_plane_per_pixel_and_keeps_dtype(stack):
    out = max_projection(stack)
    assert out.shape == (1, 16, 20)
    assert out.dtype == np.uint16
    np.testing.assert_array_equal(out[0], np.maximum.reduce(list(stack)))


def test_mean_projection_averages_planes_as_float32_without_rounding():
    stack = np.array([[[1, 2]], [[2, 3]]], dtype=np.uint16)
    out = mean_projection(stack)
    assert out.shape == (1, 1, 2)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[[1.5, 2.5]]])


def test_mean_projection_of_large_uint16_values_does_not_overflow():
    stack = np.full((8, 2, 2), 65535, dtype=np.uint16)
    np.testing.assert_array_equal(mean_projection(stack), np.full((1, 2, 2), 65535.0))


@pytest.mark.parametrize("project", [max_projection, mean_projection])
def test_a_2d_image_counts_as_one_plane(project):
    plane = np.arange(12, dtype=np.float32).reshape(3, 4)
    np.testing.assert_array_equal(project(plane), plane[None])


@pytest.mark.parametrize("project", [max_projection, mean_projection])
def test_projection_refuses_4d_input_with_the_shape_in_the_message(project):
    with pytest.raises(ValueError, match=r"\(2, 3, 4, 5\)"):
        project(np.zeros((2, 3, 4, 5)))
