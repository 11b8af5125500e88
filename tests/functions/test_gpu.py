"""GPU versions (torch on CUDA, CuPy) give the NumPy results. Run on the GPU machine.

Same tolerances as test_torch.py: exact for max_projection and tophat_background, 1e-5
relative / 1e-6 absolute for the float computations.
"""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import napari_openhcs.functions as numpy_functions

pytestmark = pytest.mark.gpu


def _stack(dtype, seed: int = 0, shape=(3, 96, 112)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 60000, size=shape).astype(dtype)
    return rng.random(shape).astype(dtype)


CASES = [
    ("max_projection", {}, "exact"),
    ("mean_projection", {}, "close"),
    ("percentile_normalize", {"low": 1.0, "high": 99.0}, "close"),
    ("percentile_normalize", {"per_plane": True, "clip": False}, "close"),
    ("tophat_background", {"radius": 15}, "exact"),
    ("composite", {"weights": (1.0, 2.0, 3.0), "rescale": True}, "close"),
]


def _compare(got: np.ndarray, expected: np.ndarray, how: str) -> None:
    if how == "exact":
        np.testing.assert_array_equal(got, expected)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize(("name", "kwargs", "how"), CASES)
def test_torch_on_cuda_matches_numpy(name, kwargs, how, dtype):
    torch = pytest.importorskip("torch")
    import napari_openhcs.functions.torch as torch_functions

    assert torch.cuda.is_available(), "the gpu marker promised CUDA"
    stack = _stack(dtype)
    result = getattr(torch_functions, name)(torch.from_numpy(stack).cuda(), **kwargs)
    assert result.is_cuda
    _compare(result.cpu().numpy(), getattr(numpy_functions, name)(stack, **kwargs), how)


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize(("name", "kwargs", "how"), CASES)
def test_cupy_matches_numpy(name, kwargs, how, dtype):
    cupy = pytest.importorskip("cupy", reason="install the gpu-cuda12 or gpu-cuda13 extra")
    import napari_openhcs.functions.cupy as cupy_functions

    stack = _stack(dtype)
    result = getattr(cupy_functions, name)(cupy.asarray(stack), **kwargs)
    assert isinstance(result, cupy.ndarray)
    expected = getattr(numpy_functions, name)(stack, **kwargs)
    assert result.dtype == expected.dtype
    _compare(cupy.asnumpy(result), expected, how)


def test_cupy_docstring_examples_run():
    pytest.importorskip("cupy", reason="install the gpu-cuda12 or gpu-cuda13 extra")
    module = importlib.import_module("napari_openhcs.functions.cupy")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
