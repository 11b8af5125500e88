"""Memory-type decorators: conversion, slice by slice, metadata, pickling, OOM recovery."""

from __future__ import annotations

import multiprocessing
import pickle
import sys
import textwrap
import types

import numpy as np
import pytest

from napari_openhcs.errors import FunctionUnavailableError, GPUOutOfMemoryError
from napari_openhcs.memory import (
    convert,
    detect_memory_type,
    memory_types,
    to_numpy,
)
from napari_openhcs.memory import numpy as numpy_decorator
from napari_openhcs.memory import pyclesperanto as cle_decorator
from napari_openhcs.memory import torch as torch_decorator
from napari_openhcs.memory import types as memory_type_module

STACK = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)


def test_bare_and_called_forms_record_metadata():
    @numpy_decorator
    def bare(stack):
        return stack

    @numpy_decorator(slice_by_slice=True, output="torch")
    def called(plane):
        return plane

    assert bare.__openhcs__ == {
        "input_memory_type": "numpy",
        "output_memory_type": "numpy",
        "slice_by_slice": False,
    }
    assert called.__openhcs__["output_memory_type"] == "torch"
    assert called.__openhcs__["slice_by_slice"] is True
    assert bare.__name__ == "bare" and bare.__wrapped__ is not None


def test_existing_metadata_is_copied_not_shared():
    def func(stack):
        return stack

    func.__openhcs__ = {"category": "filter"}
    wrapped = numpy_decorator(func)
    assert wrapped.__openhcs__["category"] == "filter"
    wrapped.__openhcs__["category"] = "changed"
    assert func.__openhcs__ == {"category": "filter"}


def test_unknown_memory_type_is_refused_at_decoration():
    with pytest.raises(ValueError, match="unknown memory type 'jax'"):
        memory_types(input="jax")


def test_input_is_converted_and_output_returned_in_output_type():
    torch = pytest.importorskip("torch")
    seen = {}

    @memory_types(input="torch", output="numpy")
    def double(stack, factor=2):
        seen["type"] = type(stack)
        return stack * factor

    result = double(STACK.astype(np.float32), factor=3)
    assert seen["type"] is torch.Tensor
    assert isinstance(result, np.ndarray)
    np.testing.assert_array_equal(result, STACK.astype(np.float32) * 3)


def test_torch_decorator_hands_uint16_as_int32_so_max_works():
    torch = pytest.importorskip("torch")

    @torch_decorator
    def project(stack):
        assert stack.dtype == torch.int32
        return stack.amax(dim=0, keepdim=True)

    result = to_numpy(project(STACK))
    np.testing.assert_array_equal(result, STACK.max(axis=0, keepdims=True))


def test_pyclesperanto_decorator_runs_a_cle_function():
    cle = pytest.importorskip("pyclesperanto")

    @cle_decorator(output="numpy")
    def blur(stack):
        return cle.gaussian_blur(stack, sigma_x=1, sigma_y=1, sigma_z=0)

    img = np.zeros((1, 16, 16), np.float32)
    img[0, 8, 8] = 100
    result = blur(img)
    assert isinstance(result, np.ndarray) and result.shape == (1, 16, 16)
    assert result[0, 8, 8] < 100 and result[0, 8, 9] > 0
    assert result.sum() == pytest.approx(100, rel=1e-3)


@pytest.mark.parametrize("kind", ["numpy", "torch", "pyclesperanto"])
def test_slice_by_slice_calls_once_per_plane_and_stacks(kind):
    if kind != "numpy":
        pytest.importorskip(kind)
    calls = []

    @memory_types(input=kind, slice_by_slice=True)
    def plane_sum(plane):
        calls.append(tuple(plane.shape))
        host = to_numpy(plane)
        return convert(np.full(host.shape, host.sum(), np.float32), kind)

    result = plane_sum(STACK)
    assert detect_memory_type(result) == kind
    assert calls == [(4, 5)] * 3
    expected = np.stack([np.full((4, 5), p.sum(), np.float32) for p in STACK])
    np.testing.assert_array_equal(to_numpy(result), expected)


def test_slice_by_slice_tuple_results_stack_first_and_collect_rest():
    @numpy_decorator(slice_by_slice=True)
    def label_and_count(plane):
        return plane > 30, {"count": int((plane > 30).sum())}

    mask, tables = label_and_count(STACK)
    assert mask.shape == STACK.shape and mask.dtype == bool
    assert tables == [{"count": int((p > 30).sum())} for p in STACK]


def test_slice_by_slice_concatenates_3d_plane_results():
    @numpy_decorator(slice_by_slice=True)
    def keep_dims(plane):
        return plane[None] * 2

    np.testing.assert_array_equal(keep_dims(STACK), STACK * 2)


def test_slice_by_slice_on_a_2d_image_calls_once():
    @numpy_decorator(slice_by_slice=True)
    def inc(plane):
        return plane + 1

    np.testing.assert_array_equal(inc(STACK[0]), STACK[0] + 1)


def test_image_may_be_passed_by_keyword():
    torch = pytest.importorskip("torch")

    @memory_types(input="torch", output="numpy")
    def scale(stack, factor=2):
        assert isinstance(stack, torch.Tensor)
        return stack * factor

    np.testing.assert_array_equal(scale(stack=STACK, factor=3), STACK.astype(np.int32) * 3)
    with pytest.raises(TypeError, match="scale needs an image"):
        scale(factor=3)


def test_non_array_result_is_a_clear_type_error():
    @numpy_decorator
    def threshold_value(stack):
        return 0.5

    with pytest.raises(TypeError, match="threshold_value must return an image array"):
        threshold_value(STACK)


def test_unavailable_memory_type_raises_function_unavailable(monkeypatch):
    monkeypatch.setitem(sys.modules, "cupy", None)
    memory_type_module.clear_status_cache()
    try:

        @memory_types(input="cupy")
        def gpu_blur(stack):
            return stack

        with pytest.raises(FunctionUnavailableError, match="gpu_blur needs cupy.*CuPy is not"):
            gpu_blur(STACK)
    finally:
        monkeypatch.undo()
        memory_type_module.clear_status_cache()


def test_decorated_function_holds_no_device_state():
    @numpy_decorator
    def f(stack):
        return stack

    cells = [c.cell_contents for c in f.__closure__]
    assert {type(c).__name__ for c in cells} == {"function", "_Spec", "str"}
    spec = next(c for c in cells if type(c).__name__ == "_Spec")
    assert all(isinstance(getattr(spec, s), (str, bool)) for s in spec.__slots__)


MODULE = textwrap.dedent(
    """
    import numpy as np
    from napari_openhcs.memory import numpy as numpy_decorator
    from napari_openhcs.memory import memory_types

    @numpy_decorator(slice_by_slice=True)
    def plane_max(plane):
        return np.full_like(plane, plane.max())

    @memory_types(input="torch", output="numpy")
    def torch_double(stack):
        return stack * 2
    """
)


def _call_in_child(payload):
    func, arg = pickle.loads(payload)
    return func(arg)


@pytest.fixture
def picklable_module(tmp_path, monkeypatch):
    (tmp_path / "openhcs_pickle_target.py").write_text(MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import openhcs_pickle_target

    yield openhcs_pickle_target
    sys.modules.pop("openhcs_pickle_target", None)


def test_decorated_functions_pickle_by_reference_into_a_spawn_child(picklable_module):
    pytest.importorskip("torch")
    funcs = [picklable_module.plane_max, picklable_module.torch_double]
    for func in funcs:
        data = pickle.dumps(func)
        assert b"openhcs_pickle_target" in data and len(data) < 200
        assert pickle.loads(data) is func
    payloads = [pickle.dumps((f, STACK)) for f in funcs]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        results = pool.map(_call_in_child, payloads)
    np.testing.assert_array_equal(results[0], picklable_module.plane_max(STACK))
    np.testing.assert_array_equal(results[1], STACK.astype(np.int32) * 2)


# --- out-of-memory recovery ---------------------------------------------------------------


def _fake_cupy():
    """A stand-in CuPy module: its OOM class and the two memory pools that count frees."""

    class OutOfMemoryError(MemoryError):
        pass

    class Pool:
        def __init__(self):
            self.freed = 0

        def free_all_blocks(self):
            self.freed += 1

    module = types.ModuleType("cupy")
    module.cuda = types.SimpleNamespace(
        memory=types.SimpleNamespace(OutOfMemoryError=OutOfMemoryError)
    )
    module.pool, module.pinned = Pool(), Pool()
    module.get_default_memory_pool = lambda: module.pool
    module.get_default_pinned_memory_pool = lambda: module.pinned
    return module


@pytest.fixture
def fake_cupy(monkeypatch):
    module = _fake_cupy()
    monkeypatch.setitem(sys.modules, "cupy", module)
    return module


def test_oom_once_frees_pools_and_retry_succeeds(fake_cupy):
    calls = []

    @numpy_decorator
    def hungry(stack):
        calls.append(1)
        if len(calls) == 1:
            raise fake_cupy.cuda.memory.OutOfMemoryError("out of memory allocating 8 GB")
        return stack + 1

    np.testing.assert_array_equal(hungry(STACK), STACK + 1)
    assert len(calls) == 2
    assert fake_cupy.pool.freed == 1 and fake_cupy.pinned.freed == 1


def test_oom_twice_raises_gpu_out_of_memory_after_one_retry(fake_cupy):
    calls = []

    @numpy_decorator
    def hungry(stack):
        calls.append(1)
        raise fake_cupy.cuda.memory.OutOfMemoryError("out of memory allocating 8 GB")

    with pytest.raises(
        GPUOutOfMemoryError, match="hungry ran out of memory.*retrying once"
    ) as info:
        hungry(STACK)
    assert "8 GB" in str(info.value)
    assert len(calls) == 2
    assert fake_cupy.pool.freed == 2 and fake_cupy.pinned.freed == 2


def test_torch_oom_class_is_recognised():
    torch = pytest.importorskip("torch")
    calls = []

    @torch_decorator
    def hungry(stack):
        calls.append(1)
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 80.00 GiB")

    with pytest.raises(GPUOutOfMemoryError, match="80.00 GiB"):
        hungry(STACK)
    assert len(calls) == 2


def test_oom_recovery_off_lets_the_original_error_through(fake_cupy):
    calls = []

    @numpy_decorator(oom_recovery=False)
    def hungry(stack):
        calls.append(1)
        raise fake_cupy.cuda.memory.OutOfMemoryError("oom")

    with pytest.raises(fake_cupy.cuda.memory.OutOfMemoryError):
        hungry(STACK)
    assert len(calls) == 1 and fake_cupy.pool.freed == 0


def test_other_errors_are_not_retried(fake_cupy):
    calls = []

    @numpy_decorator
    def broken(stack):
        calls.append(1)
        raise ValueError("sigma must be positive")

    with pytest.raises(ValueError, match="sigma must be positive"):
        broken(STACK)
    assert len(calls) == 1 and fake_cupy.pool.freed == 0
