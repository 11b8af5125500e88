"""Torch versions agree with the NumPy versions.

Where CUDA is available the ``@torch`` decorator runs these on the GPU; test_gpu.py checks
that CUDA tensors stay on the GPU.

Tolerances: max_projection and tophat_background are exact (min/max/subtract of the same
values); mean_projection, percentile_normalize and composite compute in float32 where NumPy
uses float64, so they agree to 1e-5 relative / 1e-6 absolute on [0, 1] results.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is an optional extra")

import napari_openhcs.functions as numpy_functions  # noqa: E402
import napari_openhcs.functions.torch as torch_functions  # noqa: E402

DTYPES = [np.uint16, np.uint8, np.float32]


def _stack(dtype, seed: int = 0, shape=(3, 48, 56)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        top = min(np.iinfo(dtype).max, 60000)
        return rng.integers(0, top, size=shape).astype(dtype)
    return rng.random(shape).astype(dtype)


def _numpy(result) -> np.ndarray:
    assert isinstance(result, torch.Tensor)
    return result.cpu().numpy()


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_projection_matches_numpy_exactly(dtype):
    stack = _stack(dtype)
    expected = numpy_functions.max_projection(stack)
    got = _numpy(torch_functions.max_projection(torch.from_numpy(stack)))
    np.testing.assert_array_equal(got, expected)


def test_uint16_input_is_computed_as_int32_with_the_same_values():
    stack = _stack(np.uint16)
    got = torch_functions.max_projection(stack)  # a NumPy array in: the decorator converts
    assert got.dtype == torch.int32
    assert int(got.max()) == int(stack.max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_mean_projection_matches_numpy(dtype):
    stack = _stack(dtype)
    got = _numpy(torch_functions.mean_projection(torch.from_numpy(stack)))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, numpy_functions.mean_projection(stack), rtol=1e-5)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("per_plane", [False, True])
@pytest.mark.parametrize("clip", [False, True])
def test_percentile_normalize_matches_numpy(dtype, per_plane, clip):
    stack = _stack(dtype, seed=1)
    kwargs = {"low": 2.0, "high": 97.5, "per_plane": per_plane, "clip": clip}
    got = _numpy(torch_functions.percentile_normalize(torch.from_numpy(stack), **kwargs))
    assert got.dtype == np.float32
    expected = numpy_functions.percentile_normalize(stack, **kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_percentile_normalize_of_a_constant_image_is_zeros():
    got = torch_functions.percentile_normalize(torch.full((2, 5, 5), 3.0))
    assert torch.equal(got.cpu(), torch.zeros((2, 5, 5)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("radius", [1, 4, 15])
def test_tophat_background_matches_numpy_exactly(dtype, radius):
    stack = _stack(dtype, seed=radius)
    expected = numpy_functions.tophat_background(stack, radius=radius)
    got = _numpy(torch_functions.tophat_background(torch.from_numpy(stack), radius=radius))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("rescale", [False, True])
def test_composite_matches_numpy(rescale):
    stack = _stack(np.uint16, seed=2)
    kwargs = {"weights": (1.0, 2.0, 0.5), "rescale": rescale}
    got = _numpy(torch_functions.composite(torch.from_numpy(stack), **kwargs))
    np.testing.assert_allclose(got, numpy_functions.composite(stack, **kwargs), rtol=1e-5)


def test_torch_functions_check_their_parameters_like_numpy():
    stack = torch.zeros((1, 8, 8))
    with pytest.raises(ValueError, match="percentiles"):
        torch_functions.percentile_normalize(stack, 90, 10)
    with pytest.raises(ValueError, match="radius"):
        torch_functions.tophat_background(stack, radius=0)
    with pytest.raises(ValueError, match="1 planes"):
        torch_functions.composite(stack, weights=(1, 2))


def test_a_2d_tensor_counts_as_one_plane():
    plane = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    assert torch.equal(torch_functions.max_projection(plane).cpu(), plane[None])
