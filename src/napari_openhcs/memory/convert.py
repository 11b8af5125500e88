"""Conversion between NumPy, CuPy, torch and pyclesperanto arrays, by one rule.

The rule
--------
An array is handed over without copying (through DLPack) only when that is possible and safe:
the source exports ``__dlpack_device__``, sits on the device the target wants, has no negative
strides, is writable, is in native byte order and is not memory-mapped (an ``np.memmap``, or a
view whose base chain reaches a memory map, as tifffile returns). Everything else goes through
the host: a C-contiguous, writable, native-order NumPy array that owns its memory, which the
target then wraps (NumPy, torch on the CPU) or uploads (CuPy, torch on a GPU). pyclesperanto
arrays never use DLPack: they are read with ``cle.pull`` and written with ``cle.push``.

This covers the cases that kill the process when DLPack is used blindly: torch from a
negative-stride NumPy view (abort), torch from a pyclesperanto OpenCL array (segfault), and an
in-place torch op on a tensor sharing a read-only memory map (segfault).

Moving between the host and a GPU is a copy by nature. NumPy to torch on the CPU, torch on
the CPU to NumPy, and CuPy to torch on the same GPU (and back) share memory.

pyclesperanto stores float64 as float32, int64 as int32 and bool as uint8 (its own rule).
"""

from __future__ import annotations

import mmap
import sys
from typing import Any

import numpy as np

from napari_openhcs.memory.devices import current_gpu
from napari_openhcs.memory.types import MEMORY_TYPES, detect_memory_type

_CPU = (1, 0)  # DLPack kDLCPU
_CUDA = 2  # DLPack kDLCUDA

# torch has no max, add or convolution for these unsigned types (torch 2.13, CPU); the cast
# below is exact: every value of the source type fits the target type.
_TORCH_SAFE = {
    np.dtype(np.uint16): np.dtype(np.int32),
    np.dtype(np.uint32): np.dtype(np.int64),
}


def _check_target(target: str) -> None:
    if target not in MEMORY_TYPES:
        raise ValueError(
            f"unknown memory type {target!r}; expected one of {', '.join(MEMORY_TYPES)}"
        )


def dlpack_device(x: Any) -> tuple[int, int] | None:
    """``x.__dlpack_device__()`` as ``(device type, index)``; ``None`` where it has none."""
    get = getattr(x, "__dlpack_device__", None)
    if get is None:
        return None
    try:
        kind, index = get()
        return int(kind), int(index)
    except Exception:
        return None


def is_memory_mapped(x: Any) -> bool:
    """Return whether a NumPy array's memory belongs to a memory-mapped file.

    Follows the ``.base`` chain (and memoryviews' ``.obj``), so views of an ``np.memmap`` and
    arrays made with ``np.frombuffer`` over an ``mmap.mmap`` count.

    Examples
    --------
    >>> import numpy as np
    >>> is_memory_mapped(np.zeros(3))
    False
    """
    seen = 0
    base = x
    while base is not None and seen < 100:
        if isinstance(base, (np.memmap, mmap.mmap)):
            return True
        base = base.obj if isinstance(base, memoryview) else getattr(base, "base", None)
        seen += 1
    return False


def _strides(x: Any, kind: str) -> tuple[int, ...]:
    return tuple(x.stride()) if kind == "torch" else tuple(x.strides)


def _can_share(x: Any, kind: str, device: tuple[int, int]) -> bool:
    """The rule: may ``x`` be handed to a library on ``device`` without a copy?"""
    if kind == "pyclesperanto" or dlpack_device(x) != device:
        return False
    if any(s < 0 for s in _strides(x, kind)):
        return False
    if kind == "numpy":
        return bool(x.flags.writeable) and x.dtype.isnative and not is_memory_mapped(x)
    return True  # CuPy and torch arrays are always writable and never memory-mapped here


def _plain_tensor(t: Any) -> Any:
    """A tensor without autograd, conjugate or negative views (no copy unless those are set)."""
    t = t.detach()
    if t.is_conj():
        t = t.resolve_conj()
    if t.is_neg():
        t = t.resolve_neg()
    return t


def _host_array(x: Any, kind: str, *, own: bool) -> np.ndarray:
    """A contiguous, writable, native-order NumPy array with the values of ``x``.

    With ``own=True`` the result never shares memory with ``x``.
    """
    if kind == "numpy":
        arr, fresh = x, False
    elif kind == "cupy":
        arr, fresh = x.get(), True
    elif kind == "torch":
        fresh = x.device.type != "cpu"
        arr = x.cpu().numpy()
    else:  # pyclesperanto
        arr, fresh = np.asarray(_cle().pull(x)), True
    reusable = (
        arr.flags.c_contiguous
        and arr.flags.writeable
        and arr.dtype.isnative
        and not is_memory_mapped(arr)
    )
    if reusable and (fresh or not own):
        return arr
    return np.array(arr, dtype=arr.dtype.newbyteorder("="), order="C", copy=True)


def _cle() -> Any:
    import pyclesperanto

    return pyclesperanto


def _target_device(x: Any, kind: str, target: str, gpu: int | None) -> tuple[int, int] | None:
    """Where the converted array will live (a DLPack device), or None for pyclesperanto."""
    if target == "numpy":
        return _CPU
    if target == "pyclesperanto":
        return None
    if gpu is None:
        gpu = current_gpu()
    if gpu is not None:
        return (_CUDA, gpu)
    source = dlpack_device(x) if kind != "pyclesperanto" else None
    if source is not None and source[0] == _CUDA:
        return source
    if target == "torch":
        return _CPU
    import cupy

    return (_CUDA, int(cupy.cuda.runtime.getDevice()))


def _from_dlpack(x: Any, target: str) -> Any:
    if target == "numpy":
        return np.from_dlpack(x)
    if target == "torch":
        import torch

        return torch.from_dlpack(x)
    import cupy

    return cupy.from_dlpack(x)


def _from_host(host: np.ndarray, target: str, device: tuple[int, int] | None) -> Any:
    if target == "numpy":
        return host
    if target == "pyclesperanto":
        return _cle().push(host)
    if target == "torch":
        import torch

        tensor = torch.from_numpy(host)
        if device != _CPU:
            tensor = tensor.to(f"cuda:{device[1]}")
        return tensor
    import cupy

    with cupy.cuda.Device(device[1]):
        return cupy.asarray(host)


def convert(x: Any, target: str, *, gpu: int | None = None) -> Any:
    """Convert an array to another memory type, sharing memory only where that is safe.

    See the module docstring for the rule. The dtype and shape are kept (pyclesperanto
    narrows float64, int64 and bool, see above).

    Parameters
    ----------
    x : array
        A NumPy, CuPy, torch or pyclesperanto array.
    target : str
        ``"numpy"``, ``"cupy"``, ``"torch"`` or ``"pyclesperanto"``.
    gpu : int, optional
        CUDA device for CuPy and torch results. ``None``: the device chosen with
        :func:`~napari_openhcs.memory.use_gpu` if any, else where the data already is (a GPU
        array stays on its GPU, a host array gives a CPU tensor; CuPy uses its current device).

    Returns
    -------
    array
        ``x`` itself when it already is of that type on that device, else the converted array.

    Examples
    --------
    >>> import numpy as np
    >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> convert(a, "numpy") is a  # already NumPy: returned as is
    True
    >>> t = convert(a, "torch")  # doctest: +SKIP
    >>> t[0, 0] = 9; float(a[0, 0])  # shared memory  # doctest: +SKIP
    9.0
    >>> t = convert(a[::-1], "torch")  # doctest: +SKIP
    >>> np.shares_memory(t.numpy(), a)  # negative strides: a copy  # doctest: +SKIP
    False
    """
    _check_target(target)
    kind = detect_memory_type(x)
    if kind == "torch":
        x = _plain_tensor(x)
    device = _target_device(x, kind, target, gpu)
    if kind == target and (kind == "pyclesperanto" or dlpack_device(x) == device):
        return x
    if device is not None and _can_share(x, kind, device):
        try:
            return _from_dlpack(x, target)
        except (BufferError, TypeError, ValueError, RuntimeError):
            pass  # a dtype DLPack cannot carry (e.g. bfloat16 to NumPy): copy instead
    own = device == _CPU  # a CPU result wraps the host array, so it must own its memory
    return _from_host(_host_array(x, kind, own=own), target, device)


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a NumPy array (zero-copy from CPU tensors, a copy from GPU arrays).

    Examples
    --------
    >>> import numpy as np
    >>> to_numpy(np.ones(2)).tolist()
    [1.0, 1.0]
    """
    return convert(x, "numpy")


def torch_safe_dtype(dtype: Any) -> np.dtype:
    """Return the NumPy dtype a torch function should compute in for input of ``dtype``.

    torch (2.13 on the CPU) implements neither ``max`` nor convolutions nor even ``+`` for
    uint16 and uint32 tensors. Those map to the next wider signed integer type (uint16 to
    int32, uint32 to int64), which holds every value exactly, so labels and intensities keep
    their values. Every other dtype is returned unchanged (uint8 and the float types work).

    Parameters
    ----------
    dtype : dtype-like
        A NumPy dtype, or a torch dtype.

    Returns
    -------
    numpy.dtype

    Examples
    --------
    >>> import numpy as np
    >>> torch_safe_dtype(np.uint16)
    dtype('int32')
    >>> torch_safe_dtype(np.float32)
    dtype('float32')
    """
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(dtype, torch.dtype):
        dtype = torch.empty(0, dtype=dtype).numpy().dtype
    dtype = np.dtype(dtype)
    return _TORCH_SAFE.get(dtype, dtype)


def to_torch(x: Any, *, gpu: int | None = None, safe_dtype: bool = True) -> Any:
    """Convert ``x`` to a torch tensor, casting dtypes torch cannot compute with.

    This is what the ``@torch`` decorator hands a function. With ``safe_dtype`` (the
    default) uint16 and uint32 become int32 and int64 (see :func:`torch_safe_dtype`), a
    copy; other dtypes follow :func:`convert` and may share memory.

    Examples
    --------
    >>> import numpy as np
    >>> to_torch(np.zeros(2, dtype=np.uint16)).dtype  # doctest: +SKIP
    torch.int32
    """
    tensor = convert(x, "torch", gpu=gpu)
    if not safe_dtype:
        return tensor
    import torch

    if tensor.dtype in (torch.uint16, torch.uint32):
        wanted = torch_safe_dtype(tensor.dtype)
        tensor = tensor.to(torch.from_numpy(np.empty(0, dtype=wanted)).dtype)
    return tensor
