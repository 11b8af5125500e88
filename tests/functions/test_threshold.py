"""threshold (NumPy version)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.functions import threshold
from napari_openhcs.functions._stack import THRESHOLD_METHODS


def _two_classes(dark: float = 100, bright: float = 900, seed: int = 0) -> np.ndarray:
    """A plane with a bright square (foreground) on a darker noisy background."""
    rng = np.random.default_rng(seed)
    plane = rng.normal(dark, 10, (64, 64))
    plane[16:48, 16:48] = rng.normal(bright, 10, (32, 32))
    return plane.astype(np.float32)


@pytest.mark.parametrize("method", THRESHOLD_METHODS)
def test_every_method_separates_a_bright_square_from_a_dark_background(method):
    plane = _two_classes()
    mask = threshold(plane[None], method=method)
    assert mask.dtype == bool
    assert mask.shape == (1, 64, 64)
    square = np.zeros((64, 64), bool)
    square[16:48, 16:48] = True
    assert mask[0][square].all()
    # Yen cuts into the noisy background's upper tail; the others leave it all out.
    assert mask[0][~square].mean() < (0.2 if method == "yen" else 0.01)


@pytest.mark.parametrize("method", ["otsu", "li", "triangle", "yen", "isodata"])
def test_methods_are_scikit_image_thresholds(method):
    from skimage import filters

    plane = _two_classes(seed=2)
    limit = getattr(filters, f"threshold_{method}")(plane)
    np.testing.assert_array_equal(threshold(plane[None], method=method)[0], plane > limit)


def test_positive_offset_makes_the_mask_stricter():
    plane = np.linspace(0, 1000, 100, dtype=np.float32).reshape(1, 10, 10)
    plain = threshold(plane, method="mean")
    strict = threshold(plane, method="mean", offset=200.0)
    assert strict.sum() < plain.sum()
    assert not (strict & ~plain).any()
    # 'mean' threshold of 0..1000 is 500: offset 200 moves it to 700.
    assert plain.sum() == (plane > 500).sum()
    assert strict.sum() == (plane > 700).sum()


def test_per_plane_false_uses_one_threshold_for_the_whole_stack():
    dim = _two_classes(100, 300)
    bright = _two_classes(1000, 3000, seed=1)
    stack = np.stack([dim, bright])
    separate = threshold(stack, per_plane=True)
    together = threshold(stack, per_plane=False)
    assert separate[0].sum() == pytest.approx(32 * 32, rel=0.01)
    # One threshold for both planes falls above the whole dim plane.
    assert together[0].sum() == 0
    assert together[1].sum() == pytest.approx(32 * 32, rel=0.01)


def test_a_constant_plane_has_no_foreground():
    mask = threshold(np.full((1, 8, 8), 5, dtype=np.uint16))
    assert not mask.any()


def test_an_unknown_method_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="otsu"):
        threshold(np.zeros((1, 4, 4)), method="magic")
