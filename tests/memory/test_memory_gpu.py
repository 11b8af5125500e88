"""Real GPU tests (NVIDIA, CUDA): CuPy and torch on the device, zero-copy and OOM recovery.

Skipped where no CUDA device is found (tests/conftest.py). Work with whichever CuPy and
torch builds are installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.errors import GPUOutOfMemoryError
from napari_openhcs.memory import (
    convert,
    detect_memory_type,
    free_gpu_memory,
    to_numpy,
    use_gpu,
)
from napari_openhcs.memory import (
    cupy as cupy_decorator,
)
from napari_openhcs.memory import (
    torch as torch_decorator,
)

pytestmark = pytest.mark.gpu

DTYPES = [np.uint8, np.uint16, np.int32, np.float32, np.float64]


def _cupy():
    cupy = pytest.importorskip("cupy")
    if not cupy.is_available():
        pytest.skip("CuPy finds no GPU")
    return cupy


def _torch_cuda():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch finds no CUDA device")
    return torch


def test_cupy_to_torch_shares_device_memory():
    cupy, torch = _cupy(), _torch_cuda()
    c = cupy.arange(12, dtype=cupy.float32).reshape(3, 4)
    t = convert(c, "torch")
    assert t.device.type == "cuda" and t.device.index == c.device.id
    assert t.data_ptr() == c.data.ptr
    t[0, 0] = 42
    torch.cuda.synchronize()
    assert float(c[0, 0]) == 42


def test_torch_cuda_to_cupy_shares_device_memory():
    cupy, torch = _cupy(), _torch_cuda()
    t = torch.arange(10, dtype=torch.float32, device="cuda")
    c = convert(t, "cupy")
    assert isinstance(c, cupy.ndarray) and c.data.ptr == t.data_ptr()
    c[3] = -1
    cupy.cuda.Device().synchronize()
    assert t[3].item() == -1


def test_negative_stride_cupy_to_torch_is_a_correct_copy():
    cupy, _ = _cupy(), _torch_cuda()
    c = cupy.arange(24, dtype=cupy.float32).reshape(4, 6)
    view = c[::-1, ::-2]
    t = convert(view, "torch")
    np.testing.assert_array_equal(t.cpu().numpy(), cupy.asnumpy(view))
    t.zero_()
    assert float(c.sum()) == float(sum(range(24)))


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_cupy_round_trip(dtype):
    cupy = _cupy()
    values = (np.arange(2 * 8 * 8) % 250).astype(dtype).reshape(2, 8, 8)
    c = convert(values[:, ::-1], "cupy")
    assert isinstance(c, cupy.ndarray) and c.dtype == dtype
    back = to_numpy(c)
    assert back.flags.writeable and back.dtype == dtype
    np.testing.assert_array_equal(back, values[:, ::-1])


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_torch_cuda_round_trip(dtype):
    torch = _torch_cuda()
    values = (np.arange(2 * 8 * 8) % 250).astype(dtype).reshape(2, 8, 8)
    t = convert(values, "torch", gpu=0)
    assert t.device == torch.device("cuda", 0)
    with use_gpu(0):
        assert convert(values, "torch").device == torch.device("cuda", 0)
    assert convert(values, "torch").device.type == "cpu"  # no GPU asked for: stays on the host
    back = to_numpy(t)
    assert back.dtype == dtype
    np.testing.assert_array_equal(back, values)


def test_cupy_pyclesperanto_round_trip():
    cupy = _cupy()
    cle = pytest.importorskip("pyclesperanto")
    values = np.arange(64, dtype=np.float32).reshape(8, 8)
    g = convert(cupy.asarray(values), "pyclesperanto")
    assert detect_memory_type(g) == "pyclesperanto"
    np.testing.assert_array_equal(cle.pull(g), values)
    c = convert(g, "cupy")
    assert isinstance(c, cupy.ndarray)
    np.testing.assert_array_equal(cupy.asnumpy(c), values)


def test_torch_decorator_runs_on_the_gpu_with_safe_dtype():
    torch = _torch_cuda()
    seen = {}

    @torch_decorator
    def project(stack):
        seen["device"], seen["dtype"] = stack.device.type, stack.dtype
        return stack.amax(dim=0, keepdim=True)

    stack = np.arange(3 * 16 * 16, dtype=np.uint16).reshape(3, 16, 16)
    result = project(stack)
    assert seen == {"device": "cuda", "dtype": torch.int32}
    np.testing.assert_array_equal(to_numpy(result), stack.max(axis=0, keepdims=True))


def test_cupy_decorator_converts_in_and_out():
    cupy = _cupy()

    @cupy_decorator(output="numpy", slice_by_slice=True)
    def invert(plane):
        assert isinstance(plane, cupy.ndarray)
        return plane.max() - plane

    stack = np.arange(2 * 8 * 8, dtype=np.float32).reshape(2, 8, 8)
    result = invert(stack)
    assert isinstance(result, np.ndarray)
    np.testing.assert_array_equal(result, np.stack([p.max() - p for p in stack]))


def test_use_gpu_places_work_on_the_second_gpu():
    cupy, torch = _cupy(), _torch_cuda()
    if cupy.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two GPUs")

    @cupy_decorator
    def where(stack):
        assert cupy.cuda.Device().id == 1
        return stack + 1

    with use_gpu(1):
        c = where(np.zeros((1, 4, 4), np.float32))
        t = convert(np.zeros(3), "torch")
    assert c.device.id == 1 and t.device == torch.device("cuda", 1)
    assert cupy.cuda.Device().id == 0


def _total_memory():
    cupy = _cupy()
    free_gpu_memory()
    return cupy.cuda.Device().mem_info[1]


def test_real_cupy_oom_raises_after_one_retry_and_process_recovers():
    cupy = _cupy()
    total = _total_memory()
    calls = []

    @cupy_decorator
    def too_big(stack):
        calls.append(1)
        return cupy.empty(int(total * 1.5), dtype=cupy.uint8)

    with pytest.raises(GPUOutOfMemoryError, match="too_big ran out of memory on GPU 0"):
        too_big(np.zeros((1, 8, 8), np.float32))
    assert len(calls) == 2
    still = cupy.ones((1024, 1024), dtype=cupy.float32)
    assert float(still.sum()) == 1024 * 1024


def test_real_torch_oom_raises_after_one_retry_and_process_recovers():
    torch = _torch_cuda()
    total = torch.cuda.get_device_properties(0).total_memory
    calls = []

    @torch_decorator
    def too_big(stack):
        calls.append(1)
        return torch.empty(int(total * 1.5), dtype=torch.uint8, device=stack.device)

    with pytest.raises(GPUOutOfMemoryError, match="too_big ran out of memory"):
        too_big(np.zeros((1, 8, 8), np.float32))
    assert len(calls) == 2
    assert torch.ones(1024, device="cuda").sum().item() == 1024


def test_freeing_cupy_pool_lets_a_torch_retry_succeed():
    cupy, torch = _cupy(), _torch_cuda()
    total = _total_memory()
    size = int(total * 0.6)
    block = cupy.empty(size, dtype=cupy.uint8)
    del block  # CuPy's pool keeps the 60 % cached, so torch cannot have it
    assert cupy.get_default_memory_pool().total_bytes() >= size
    calls = []

    @torch_decorator
    def needs_most_of_the_gpu(stack):
        calls.append(1)
        big = torch.empty(size, dtype=torch.uint8, device=stack.device)
        del big
        return stack

    needs_most_of_the_gpu(np.zeros((1, 8, 8), np.float32))
    assert len(calls) == 2  # the first try ran out, the retry after freeing worked
    assert cupy.get_default_memory_pool().total_bytes() == 0
    free_gpu_memory()
