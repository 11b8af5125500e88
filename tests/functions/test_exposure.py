"""percentile_normalize (NumPy version)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.functions import percentile_normalize


def test_low_and_high_percentiles_map_to_zero_and_one():
    stack = np.arange(101, dtype=np.uint16).reshape(1, 1, 101) * 100  # 0..10000
    out = percentile_normalize(stack, low=10, high=90)
    assert out.dtype == np.float32
    assert out.shape == stack.shape
    # 10th percentile is 1000, 90th is 9000: 5000 is halfway.
    assert out[0, 0, 50] == pytest.approx(0.5)
    assert out[0, 0, 10] == pytest.approx(0.0)
    assert out[0, 0, 90] == pytest.approx(1.0)
    # clipped outside the range
    assert out.min() == 0.0 and out.max() == 1.0


def test_without_clip_values_beyond_the_percentiles_leave_zero_to_one():
    stack = np.arange(101, dtype=np.float32).reshape(1, 1, 101)
    out = percentile_normalize(stack, low=10, high=90, clip=False)
    assert out[0, 0, 0] == pytest.approx(-0.125)
    assert out[0, 0, 100] == pytest.approx(1.125)


def test_per_plane_rescales_each_plane_by_its_own_percentiles():
    dim = np.linspace(0, 100, 64, dtype=np.float32).reshape(8, 8)
    stack = np.stack([dim, dim * 10])
    separate = percentile_normalize(stack, 0, 100, per_plane=True)
    np.testing.assert_allclose(separate[0], separate[1], atol=1e-6)
    together = percentile_normalize(stack, 0, 100, per_plane=False)
    # One pair of percentiles for the stack: the dim plane stays dim.
    assert together[0].max() == pytest.approx(0.1, abs=1e-6)
    assert together[1].max() == pytest.approx(1.0)


def test_a_constant_image_becomes_zeros_not_nan():
    out = percentile_normalize(np.full((2, 4, 4), 7, dtype=np.uint16))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out, 0.0)


@pytest.mark.parametrize(("low", "high"), [(50, 50), (60, 40), (-1, 99), (1, 101)])
def test_bad_percentiles_are_refused(low, high):
    with pytest.raises(ValueError, match="percentiles"):
        percentile_normalize(np.zeros((1, 4, 4)), low, high)
