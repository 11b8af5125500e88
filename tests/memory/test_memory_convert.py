"""Conversion between the installed memory types, and the zero-copy rule."""

from __future__ import annotations

import itertools
import mmap

import numpy as np
import pytest

from napari_openhcs.memory import (
    available_memory_types,
    convert,
    detect_memory_type,
    is_memory_mapped,
    to_numpy,
    to_torch,
    torch_safe_dtype,
)

CPU_TYPES = [t for t in ("numpy", "torch", "pyclesperanto") if t in available_memory_types()]
# dtypes every CPU type stores unchanged (pyclesperanto narrows float64, int64 and bool)
DTYPES = [np.uint8, np.uint16, np.float32]


def _make(kind, values):
    return convert(values, kind)


@pytest.mark.parametrize("source,target", list(itertools.product(CPU_TYPES, CPU_TYPES)))
@pytest.mark.parametrize("dtype", DTYPES)
def test_every_pair_keeps_values_dtype_and_shape(source, target, dtype):
    values = (np.arange(2 * 3 * 5) % 200).astype(dtype).reshape(2, 3, 5)
    x = _make(source, values)
    y = convert(x, target)
    assert detect_memory_type(y) == target
    back = to_numpy(y)
    assert back.dtype == dtype
    assert back.shape == (2, 3, 5)
    np.testing.assert_array_equal(back, values)


def test_same_type_on_same_device_is_returned_unchanged():
    a = np.arange(6)[::-1]
    assert convert(a, "numpy") is a


def test_unknown_target_is_refused():
    with pytest.raises(ValueError, match="unknown memory type 'jax'"):
        convert(np.zeros(2), "jax")


# --- numpy <-> torch (CPU): shared memory where the rule allows it -------------------------


def test_numpy_to_torch_shares_memory():
    torch = pytest.importorskip("torch")
    a = np.zeros((4, 4), np.float32)
    t = convert(a, "torch")
    assert t.device == torch.device("cpu")
    t[1, 2] = 7
    assert a[1, 2] == 7


def test_torch_to_numpy_shares_memory_and_is_writable():
    torch = pytest.importorskip("torch")
    t = torch.zeros(4, 4)
    a = to_numpy(t)
    assert a.flags.writeable
    a[0, 0] = 3
    assert t[0, 0].item() == 3


def test_tensor_requiring_grad_converts_without_copy():
    torch = pytest.importorskip("torch")
    t = torch.ones(3, requires_grad=True)
    a = to_numpy(t)
    np.testing.assert_array_equal(a, [1, 1, 1])
    assert a.ctypes.data == t.data_ptr()


def test_strided_positive_view_is_shared():
    pytest.importorskip("torch")
    a = np.zeros((6, 6), np.float32)
    t = convert(a[::2, 1:], "torch")
    t[0, 0] = 5
    assert a[0, 1] == 5


@pytest.mark.parametrize(
    "make_unsafe",
    [
        pytest.param(lambda a: a[::-1], id="negative-strides"),
        pytest.param(lambda a: a[:, ::-2], id="negative-column-strides"),
        pytest.param(lambda a: _read_only(a), id="read-only"),
        pytest.param(lambda a: a.astype(a.dtype.newbyteorder(">")), id="big-endian"),
    ],
)
def test_unsafe_numpy_arrays_are_copied_to_torch(make_unsafe):
    pytest.importorskip("torch")
    base = np.arange(16, dtype=np.uint16).reshape(4, 4)
    src = make_unsafe(base)
    expected = np.array(src)
    t = convert(src, "torch")
    np.testing.assert_array_equal(t.numpy(), expected)
    assert t.numpy().dtype == np.uint16
    assert not np.shares_memory(t.numpy(), base)
    t.zero_()  # an in-place write on the result
    np.testing.assert_array_equal(src, expected)  # the source is untouched


def _read_only(a):
    a = a.copy()
    a.flags.writeable = False
    return a


def test_memmap_is_copied_and_file_untouched(tmp_path):
    pytest.importorskip("torch")
    path = tmp_path / "plane.raw"
    np.arange(16, dtype=np.float32).tofile(path)
    before = path.read_bytes()
    for src in (
        np.memmap(path, dtype=np.float32, mode="r+", shape=(4, 4)),
        np.asarray(np.memmap(path, dtype=np.float32, mode="r+", shape=(4, 4)))[1:],
    ):
        assert is_memory_mapped(src)
        t = convert(src, "torch")
        t.mul_(2)
        assert not np.shares_memory(t.numpy(), src)
    assert path.read_bytes() == before


def test_frombuffer_over_mmap_counts_as_memory_mapped(tmp_path):
    path = tmp_path / "plane.raw"
    np.arange(8, dtype=np.uint8).tofile(path)
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        arr = np.frombuffer(mm, dtype=np.uint8)
        assert is_memory_mapped(arr)
        assert is_memory_mapped(arr[2:])
        del arr
    assert not is_memory_mapped(np.zeros(3))
    assert not is_memory_mapped(np.zeros(3)[1:])


def test_memmap_to_numpy_stays_as_is(tmp_path):
    m = np.memmap(tmp_path / "a.raw", dtype=np.uint8, mode="w+", shape=(3,))
    assert convert(m, "numpy") is m


# --- pyclesperanto: always through cle.pull / cle.push ---------------------------------------


def test_pyclesperanto_to_torch_is_a_host_copy():
    pytest.importorskip("torch")
    cle = pytest.importorskip("pyclesperanto")
    values = np.arange(12, dtype=np.float32).reshape(3, 4)
    g = cle.push(values)
    t = convert(g, "torch")
    t.add_(1)
    np.testing.assert_array_equal(cle.pull(g), values)
    np.testing.assert_array_equal(t.numpy(), values + 1)


def test_negative_strides_to_pyclesperanto_keep_order():
    cle = pytest.importorskip("pyclesperanto")
    values = np.arange(12, dtype=np.uint16).reshape(3, 4)
    np.testing.assert_array_equal(
        cle.pull(convert(values[::-1, ::-1], "pyclesperanto")), values[::-1, ::-1]
    )


def test_pyclesperanto_narrows_float64_to_float32():
    pytest.importorskip("pyclesperanto")
    g = convert(np.linspace(0, 1, 6).reshape(2, 3), "pyclesperanto")
    assert to_numpy(g).dtype == np.float32


def test_pulled_pyclesperanto_array_is_writable_and_owned():
    cle = pytest.importorskip("pyclesperanto")
    g = cle.push(np.ones((2, 2), np.float32))
    a = to_numpy(g)
    a[0, 0] = 5
    assert a.flags.writeable and a.flags.c_contiguous
    assert cle.pull(g)[0, 0] == 1


# --- torch dtypes -----------------------------------------------------------------------------


def test_torch_safe_dtype_widens_unsupported_unsigned_types():
    assert torch_safe_dtype(np.uint16) == np.int32
    assert torch_safe_dtype(np.uint32) == np.int64
    for kept in (np.uint8, np.int16, np.int32, np.float32, np.float64, np.bool_):
        assert torch_safe_dtype(kept) == np.dtype(kept)


def test_torch_safe_dtype_accepts_torch_dtypes():
    torch = pytest.importorskip("torch")
    assert torch_safe_dtype(torch.uint16) == np.int32
    assert torch_safe_dtype(torch.float32) == np.float32


def test_to_torch_casts_uint16_so_max_and_conv_work():
    torch = pytest.importorskip("torch")
    values = np.array([[0, 65535], [1, 40000]], dtype=np.uint16)
    t = to_torch(values)
    assert t.dtype == torch.int32
    assert t.max().item() == 65535  # torch has no max for uint16
    conv = torch.nn.functional.conv2d(t[None, None].float(), torch.ones(1, 1, 1, 1))
    np.testing.assert_array_equal(conv[0, 0].numpy(), values.astype(np.float32))
    np.testing.assert_array_equal(t.numpy(), values.astype(np.int32))


def test_to_torch_without_safe_dtype_keeps_uint16_and_shares():
    torch = pytest.importorskip("torch")
    values = np.arange(4, dtype=np.uint16)
    t = to_torch(values, safe_dtype=False)
    assert t.dtype == torch.uint16
    assert np.shares_memory(t.numpy(), values)


def test_to_torch_keeps_uint8_zero_copy():
    pytest.importorskip("torch")
    values = np.arange(4, dtype=np.uint8)
    assert np.shares_memory(to_torch(values).numpy(), values)
