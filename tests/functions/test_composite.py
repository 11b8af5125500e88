"""composite (NumPy version)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.functions import composite


def test_default_weights_give_the_mean_of_the_planes():
    stack = np.array([[[0, 10]], [[20, 30]], [[40, 50]]], dtype=np.uint16)
    out = composite(stack)
    assert out.shape == (1, 1, 2)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[[20, 30]]])


def test_weights_are_divided_by_their_sum():
    stack = np.array([[[0.0]], [[100.0]]])
    np.testing.assert_allclose(composite(stack, weights=(1, 3)), [[[75.0]]])
    np.testing.assert_allclose(composite(stack, weights=(2, 6)), [[[75.0]]])


def test_rescale_makes_dim_and_bright_planes_contribute_by_weight():
    ramp = np.linspace(0, 1, 10)
    stack = np.stack([ramp * 10, ramp[::-1] * 10000])[:, None, :]
    out = composite(stack, rescale=True)[0, 0]
    # After rescaling each plane to [0, 1], the two opposite ramps average to 0.5.
    np.testing.assert_allclose(out, 0.5, atol=1e-6)


def test_one_weight_per_plane_is_required():
    with pytest.raises(ValueError, match="3 planes"):
        composite(np.zeros((3, 4, 4)), weights=(1, 2))


@pytest.mark.parametrize("weights", [(1, -1), (0, 0)])
def test_negative_or_all_zero_weights_are_refused(weights):
    with pytest.raises(ValueError, match="non-negative"):
        composite(np.zeros((2, 4, 4)), weights=weights)
