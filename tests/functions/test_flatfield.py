"""Flat-field estimation recovers a known shading; correction removes it."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.functions import correct_flatfield, estimate_flatfield


def _shaded_images(n=40, size=64, seed=0, objects=3):
    yy, xx = np.mgrid[:size, :size]
    c = (size - 1) / 2
    shading = 1.0 - 0.4 * ((yy - c) ** 2 + (xx - c) ** 2) / (2 * c**2)
    rng = np.random.default_rng(seed)
    scenes = rng.normal(200, 5, (n, size, size))
    for scene in scenes:  # bright objects at random places, a few per image
        for _ in range(objects):
            y, x = rng.integers(6, size - 6, 2)
            scene[y - 4 : y + 4, x - 4 : x + 4] += 800
    return (scenes * shading).astype(np.uint16), shading


@pytest.mark.parametrize(
    ("method", "objects"),
    [("median", 3), ("mean", 0)],  # the mean is for images with few objects
)
def test_estimate_recovers_the_shading_up_to_scale(method, objects):
    images, shading = _shaded_images(objects=objects)
    flat = estimate_flatfield(images, method=method, sigma=3.0)[0]
    assert flat.dtype == np.float32 and flat.mean() == pytest.approx(1.0, abs=1e-5)
    truth = shading / shading.mean()
    assert np.max(np.abs(flat - truth)[8:-8, 8:-8]) < 0.03


def test_correction_flattens_the_background():
    images, _ = _shaded_images()
    flat = estimate_flatfield(images, sigma=3.0)
    corrected = correct_flatfield(images, flatfield=flat)
    background = np.median(corrected, axis=0)
    raw_background = np.median(images.astype(np.float32), axis=0)
    spread = lambda a: np.std(a) / np.mean(a)  # noqa: E731
    assert spread(background) < 0.25 * spread(raw_background)


def test_bad_inputs_are_refused():
    images, _ = _shaded_images(n=4)
    with pytest.raises(ValueError, match="method"):
        estimate_flatfield(images, method="mode")
    with pytest.raises(ValueError, match="positive"):
        correct_flatfield(images, flatfield=np.zeros(images.shape[-2:]))
    with pytest.raises(ValueError, match="does not match"):  # neither one plane nor one per plane
        correct_flatfield(images, flatfield=np.ones((3, 3)))
    with pytest.raises(ValueError, match="no positive signal"):
        estimate_flatfield(np.zeros((3, 8, 8)))
