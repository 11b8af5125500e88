"""GPU paths of the registry: CuPy and pyclesperanto-CUDA functions, pickled into a GPU worker.

Run on the GPU machine (``-m gpu``); skipped where there is no NVIDIA GPU.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle

import numpy as np
import pytest

from napari_openhcs.memory import to_numpy
from napari_openhcs.registry import fn, get_info

pytestmark = pytest.mark.gpu


def _stack() -> np.ndarray:
    rng = np.random.default_rng(3)
    return rng.random((3, 64, 64)).astype(np.float32)


def test_cupy_ndimage_function_runs_on_the_gpu_and_matches_scipy():
    import cupy
    from scipy import ndimage

    info = get_info("cupyx.scipy.ndimage.gaussian_filter")
    assert info.available and info.memory_type == "cupy"
    out = fn(info.ref)(_stack(), sigma=2.0)
    assert isinstance(out, cupy.ndarray)
    want = np.stack([ndimage.gaussian_filter(p, 2.0) for p in _stack()])
    np.testing.assert_allclose(out.get(), want, rtol=1e-4, atol=1e-5)


def test_own_cupy_and_torch_functions_run_on_the_gpu():
    stack = (_stack() * 1000).astype(np.uint16)
    for ref in (
        "napari_openhcs.functions.cupy.max_projection",
        "napari_openhcs.functions.torch.max_projection",
    ):
        out = fn(ref)(stack)
        assert to_numpy(out).max() == stack.max(), ref
        device = getattr(out, "device", None)
        assert device is not None and ("cuda" in str(device) or "Device" in repr(device)), ref


def test_pyclesperanto_cuda_function_runs():
    import pyclesperanto as cle

    info = get_info("pyclesperanto.gaussian_blur")
    assert info.available, info.reason
    out = fn(info.ref)(_stack(), sigma_x=1.0, sigma_y=1.0)
    assert to_numpy(out).shape == (3, 64, 64)
    assert "cuda" in repr(cle.get_device()).lower()


def test_second_images_reach_gpu_functions_from_any_memory_type():
    import cupy
    import torch

    a = _stack()
    b = a[:, ::-1, ::-1].copy()
    want = a - b
    for second in (b, cupy.asarray(b), torch.from_numpy(b).cuda()):
        out = fn("pyclesperanto.subtract_images")(a, input_image1=second)
        np.testing.assert_allclose(to_numpy(out), want, rtol=1e-6, err_msg=type(second).__name__)
    # a CuPy stack as the image, a NumPy second image: converted to the function's type
    out = fn("pyclesperanto.mask")(cupy.asarray(a), mask=(b > 0.5))
    np.testing.assert_allclose(to_numpy(out), a * (b > 0.5), rtol=1e-6)


def _run_on_gpu(payload: bytes):
    import cupy

    refs, data = pickle.loads(payload)
    results = []
    for ref, kwargs in refs:
        out = ref(data, **kwargs)
        results.append((ref.ref, type(out).__module__, to_numpy(out)))
    return results, cupy.cuda.runtime.getDeviceCount()


def test_gpu_functions_pickle_into_a_spawn_worker_and_run_there():
    from napari_openhcs.registry import call_defaults

    refs = [
        (fn(r), call_defaults(get_info(r)))
        for r in (
            "cupyx.scipy.ndimage.median_filter",
            "napari_openhcs.functions.torch.mean_projection",
            "napari_openhcs.functions.cupy.percentile_normalize",
        )
    ]
    data = _stack()
    local = [to_numpy(r(data, **kw)) for r, kw in refs]
    with mp.get_context("spawn").Pool(1) as pool:
        results, devices = pool.apply(_run_on_gpu, (pickle.dumps((refs, data)),))
    assert devices >= 1
    for (ref, module, got), want in zip(results, local, strict=True):
        assert module.split(".")[0] in ("cupy", "torch"), (ref, module)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=ref)
