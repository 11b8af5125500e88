"""tophat_background (NumPy version)."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.functions import tophat_background


def _spots_on_ramp(size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[:size, :size]
    ramp = 200 + 4 * xx + 2 * yy  # smooth uneven illumination
    spots = np.zeros((size, size))
    for cy, cx in [(20, 20), (30, 70), (70, 40), (75, 80)]:
        spots[(yy - cy) ** 2 + (xx - cx) ** 2 <= 4**2] = 1000
    return (ramp + spots).astype(np.uint16)[None], spots.astype(bool)[None]


def test_tophat_removes_a_smooth_background_and_keeps_small_objects():
    image, spots = _spots_on_ramp()
    out = tophat_background(image, radius=10)
    assert out.shape == image.shape
    assert out.dtype == np.uint16
    # Background pixels: what remains is a few grey levels of ramp, not hundreds.
    assert np.percentile(out[~spots], 99) <= 40
    # Objects keep their height above the local background.
    assert np.median(out[spots]) >= 950


def test_tophat_never_wraps_unsigned_values_at_the_border():
    rng = np.random.default_rng(3)
    image = rng.integers(0, 1000, size=(2, 40, 50)).astype(np.uint16)
    out = tophat_background(image, radius=7)
    # out = image - opening, with 0 <= opening <= image: never more than the image.
    assert (out <= image).all()


def test_tophat_is_close_to_an_exact_disk_white_tophat():
    from skimage.morphology import disk, white_tophat

    image, _ = _spots_on_ramp()
    rng = np.random.default_rng(0)
    image = (image + rng.normal(0, 20, image.shape)).clip(0).astype(np.uint16)
    exact = white_tophat(image[0], disk(10)).astype(float)
    fast = tophat_background(image, radius=10)[0].astype(float)
    inner = (slice(12, -12), slice(12, -12))
    # The decomposed disk is a polygon close to the disk: mean difference of a few grey
    # levels on an image whose spots are 1000 high.
    assert np.abs(exact[inner] - fast[inner]).mean() < 10


def test_tophat_treats_planes_independently():
    image, _ = _spots_on_ramp(48)
    stack = np.concatenate([image, image[:, ::-1]])
    out = tophat_background(stack, radius=6)
    np.testing.assert_array_equal(out[0], tophat_background(stack[:1], radius=6)[0])
    np.testing.assert_array_equal(out[1], tophat_background(stack[1:], radius=6)[0])


def test_float_input_stays_float():
    image, _ = _spots_on_ramp(48)
    out = tophat_background(image.astype(np.float32) / 4000, radius=6)
    assert out.dtype == np.float32
    assert out.min() >= 0


@pytest.mark.parametrize("radius", [0, -3, 2.5])
def test_radius_must_be_a_positive_whole_number(radius):
    with pytest.raises(ValueError, match="radius"):
        tophat_background(np.zeros((1, 8, 8)), radius=radius)


def test_tophat_equals_scipy_grey_opening_by_the_same_decomposed_disk():
    from scipy import ndimage as ndi

    from napari_openhcs.functions._stack import disk_sequence

    rng = np.random.default_rng(7)
    plane = rng.integers(0, 5000, size=(45, 61)).astype(np.uint16)
    sequence = disk_sequence(9)
    opened = plane
    for footprint, count in sequence:
        for _ in range(count):
            opened = ndi.grey_erosion(opened, footprint=footprint, mode="reflect")
    for footprint, count in reversed(sequence):
        for _ in range(count):
            opened = ndi.grey_dilation(opened, footprint=footprint, mode="reflect")
    expected = plane - np.minimum(opened, plane)
    np.testing.assert_array_equal(tophat_background(plane[None], radius=9)[0], expected)


def test_a_mask_is_refused():
    with pytest.raises(ValueError, match="mask"):
        tophat_background(np.zeros((1, 8, 8), dtype=bool))
