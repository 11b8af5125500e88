"""CuPy dispatch on a machine without a GPU, against a small stand-in ``cupy`` module.

The stand-in records what it is asked for (which device, which host array), so these tests pin
the decisions convert() and the decorators make; the real transfers are tested with the
``gpu`` marker in test_memory_gpu.py.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from napari_openhcs.memory import convert, to_numpy, use_gpu
from napari_openhcs.memory import cupy as cupy_decorator
from napari_openhcs.memory import types as memory_type_module


class FakeCupyArray:
    __module__ = "cupy"

    def __init__(self, host: np.ndarray, device: int):
        self.host = host
        self.device = device
        self.shape, self.dtype, self.ndim, self.strides = (
            host.shape,
            host.dtype,
            host.ndim,
            host.strides,
        )

    def __dlpack_device__(self):
        return (2, self.device)

    def get(self):
        return self.host.copy()

    def __getitem__(self, index):
        return FakeCupyArray(self.host[index], self.device)


def _make_fake_cupy():
    module = types.ModuleType("cupy")
    module.ndarray = FakeCupyArray
    module.current = 0
    module.uploads = []

    class Device:
        def __init__(self, index):
            self.index = index

        def __enter__(self):
            self.previous, module.current = module.current, self.index
            return self

        def __exit__(self, *exc):
            module.current = self.previous

    def asarray(host):
        module.uploads.append((host, module.current))
        return FakeCupyArray(np.array(host), module.current)

    def from_dlpack(x):
        raise AssertionError("host arrays must never reach cupy.from_dlpack")

    module.asarray = asarray
    module.from_dlpack = from_dlpack
    module.is_available = lambda: True
    module.cuda = types.SimpleNamespace(
        Device=Device,
        runtime=types.SimpleNamespace(getDevice=lambda: module.current),
        memory=types.SimpleNamespace(OutOfMemoryError=type("OutOfMemoryError", (MemoryError,), {})),
    )
    return module


@pytest.fixture
def fake_cupy(monkeypatch):
    module = _make_fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", module)
    memory_type_module.clear_status_cache()
    yield module
    monkeypatch.undo()
    memory_type_module.clear_status_cache()


def test_numpy_to_cupy_uploads_a_contiguous_copy_to_the_current_device(fake_cupy):
    values = np.arange(12, dtype=np.uint16).reshape(3, 4)
    result = convert(values[::-1], "cupy")
    ((host, device),) = fake_cupy.uploads
    assert device == 0 and result.device == 0
    assert host.flags.c_contiguous and host.flags.writeable
    np.testing.assert_array_equal(host, values[::-1])


def test_plain_numpy_is_uploaded_without_an_extra_host_copy(fake_cupy):
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    convert(values, "cupy")
    ((host, _),) = fake_cupy.uploads
    assert host is values  # the upload is the copy


def test_memmap_is_copied_on_the_host_before_upload(fake_cupy, tmp_path):
    m = np.memmap(tmp_path / "a.raw", dtype=np.uint8, mode="w+", shape=(4, 4))
    convert(m, "cupy")
    ((host, _),) = fake_cupy.uploads
    assert not isinstance(host, np.memmap) and host.base is None


def test_gpu_argument_and_use_gpu_pick_the_device(fake_cupy):
    values = np.ones((2, 2), np.float32)
    assert convert(values, "cupy", gpu=1).device == 1
    with use_gpu(2):
        assert convert(values, "cupy").device == 2
    assert fake_cupy.current == 0  # the device context was left


def test_cupy_array_on_the_wanted_device_is_returned_as_is(fake_cupy):
    x = FakeCupyArray(np.ones(3), device=1)
    assert convert(x, "cupy") is x
    with use_gpu(1):
        assert convert(x, "cupy") is x


def test_cupy_array_moved_to_another_device_goes_through_the_host(fake_cupy):
    x = FakeCupyArray(np.arange(3.0), device=0)
    y = convert(x, "cupy", gpu=1)
    assert y.device == 1
    np.testing.assert_array_equal(y.host, [0, 1, 2])


def test_cupy_to_numpy_is_an_owned_writable_copy(fake_cupy):
    x = FakeCupyArray(np.arange(6, dtype=np.uint16).reshape(2, 3)[:, ::-1], device=0)
    a = to_numpy(x)
    assert a.flags.writeable and a.flags.c_contiguous and a.dtype == np.uint16
    np.testing.assert_array_equal(a, [[2, 1, 0], [5, 4, 3]])


def test_cupy_decorator_runs_inside_the_chosen_device(fake_cupy):
    seen = []

    @cupy_decorator
    def where(stack):
        seen.append((type(stack), fake_cupy.current))
        return stack

    with use_gpu(1):
        result = where(np.zeros((2, 4, 4), np.float32))
    assert seen == [(FakeCupyArray, 1)]
    assert result.device == 1 and fake_cupy.current == 0


def test_cupy_decorator_with_numpy_output_returns_host_array(fake_cupy):
    @cupy_decorator(output="numpy", slice_by_slice=True)
    def identity(plane):
        return plane

    stack = np.arange(2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    result = identity(stack)
    assert isinstance(result, np.ndarray)
    np.testing.assert_array_equal(result, stack)
