"""The four memory types, how to recognise them, and which ones work on this machine.

Nothing here imports an array library that is not already imported, except the availability
checks, which import a library once per process to find out whether it runs.
"""

from __future__ import annotations

import functools
import importlib
import sys
from typing import Any

from napari_openhcs.vocabulary import MEMORY_TYPES

# The top-level module name each memory type's array class lives in. pyclesperanto's array
# class lives in its backend package (``pyclesperanto_opencl`` or ``pyclesperanto_cuda``).
_MODULE_PREFIX = {
    "numpy": "numpy",
    "cupy": "cupy",
    "torch": "torch",
    "pyclesperanto": "pyclesperanto",
}


def _memory_type_of_class(cls: type) -> str | None:
    for klass in cls.__mro__:
        top = (klass.__module__ or "").split(".")[0]
        for kind, prefix in _MODULE_PREFIX.items():
            if top == prefix or (kind == "pyclesperanto" and top.startswith(prefix)):
                return kind
    return None


def detect_memory_type(x: Any) -> str:
    """Return the memory type of an array.

    The class's module is looked at first, so no array library is imported to answer.

    Parameters
    ----------
    x : array
        A NumPy array (memory-mapped ones included), a CuPy array, a torch tensor or a
        pyclesperanto array.

    Returns
    -------
    str
        One of ``"numpy"``, ``"cupy"``, ``"torch"``, ``"pyclesperanto"``.

    Raises
    ------
    TypeError
        If ``x`` is not an array of one of the four libraries.

    Examples
    --------
    >>> import numpy as np
    >>> detect_memory_type(np.zeros((2, 2)))
    'numpy'
    """
    kind = _memory_type_of_class(type(x))
    if kind is not None:
        return kind
    # A class from elsewhere that subclasses a library's array (only libraries already loaded
    # can be the base, so sys.modules is enough).
    for kind, module_name in (("numpy", "numpy"), ("cupy", "cupy"), ("torch", "torch")):
        module = sys.modules.get(module_name)
        if module is None:
            continue
        base = module.Tensor if kind == "torch" else module.ndarray
        if isinstance(x, base):
            return kind
    raise TypeError(
        f"expected an image array (numpy, cupy, torch or pyclesperanto), got "
        f"{type(x).__module__}.{type(x).__qualname__}"
    )


def _check_numpy() -> tuple[bool, str]:
    return True, ""


def _import(name: str) -> tuple[Any, str]:
    """Import a library, returning ``(module, "")`` or ``(None, reason)``; never raises."""
    try:
        return importlib.import_module(name), ""
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return None, "not installed"
        return None, f"installed but fails to import: {exc}"
    except Exception as exc:  # a broken install: say why, never crash the caller
        return None, f"installed but fails to import: {exc}"


def _check_torch() -> tuple[bool, str]:
    torch, why = _import("torch")
    if torch is None:
        return False, f"PyTorch is {why} (pip install 'napari-openhcs[torch]')"
    return True, ""


def _check_cupy() -> tuple[bool, str]:
    cupy, why = _import("cupy")
    if cupy is None:
        return False, (
            f"CuPy is {why} (pip install 'napari-openhcs[gpu-cuda12]' or "
            "'napari-openhcs[gpu-cuda13]' on a machine with an NVIDIA GPU)"
        )
    try:
        usable = bool(cupy.is_available())
    except Exception as exc:
        return False, f"CuPy is installed but does not work here: {exc}"
    if not usable:
        return False, "CuPy is installed but no usable NVIDIA GPU / CUDA driver was found"
    return True, ""


def _check_pyclesperanto() -> tuple[bool, str]:
    cle, why = _import("pyclesperanto")
    if cle is None:
        return False, f"pyclesperanto is {why} (pip install 'napari-openhcs[clesperanto]')"
    try:
        devices = list(cle.list_available_devices())
    except Exception as exc:
        return False, f"pyclesperanto is installed but cannot list devices: {exc}"
    if not devices:
        return False, (
            "pyclesperanto is installed but finds no OpenCL or CUDA device "
            "(install a GPU driver, or pocl for the CPU: apt install pocl-opencl-icd)"
        )
    return True, ""


_CHECKS = {
    "numpy": _check_numpy,
    "cupy": _check_cupy,
    "torch": _check_torch,
    "pyclesperanto": _check_pyclesperanto,
}


@functools.cache
def type_status(kind: str) -> tuple[bool, str]:
    """Whether memory type ``kind`` works here, and why not (checked once per process)."""
    return _CHECKS[kind]()


def memory_type_status() -> dict[str, tuple[bool, str]]:
    """Return, for each memory type, whether it works here and why not.

    Each library is checked once per process (the answer is cached). Checking CuPy or
    pyclesperanto imports them: a worker that limits threads with
    :func:`~napari_openhcs.memory.limit_cpu_threads` must do so before calling this.

    Returns
    -------
    dict of str to (bool, str)
        ``{memory_type: (available, reason)}``; ``reason`` is ``""`` when available.

    Examples
    --------
    >>> memory_type_status()["numpy"]
    (True, '')
    """
    return {kind: type_status(kind) for kind in MEMORY_TYPES}


def available_memory_types() -> list[str]:
    """Return the memory types that work on this machine, NumPy always first.

    Examples
    --------
    >>> available_memory_types()[0]
    'numpy'
    """
    return [kind for kind in MEMORY_TYPES if type_status(kind)[0]]


@functools.cache
def gpu_available() -> bool:
    """Return whether an NVIDIA GPU can be used from CuPy or PyTorch here (cached).

    Examples
    --------
    >>> isinstance(gpu_available(), bool)
    True
    """
    if type_status("cupy")[0]:
        return True
    if type_status("torch")[0]:
        import torch

        return bool(torch.cuda.is_available())
    return False


def clear_status_cache() -> None:
    """Forget the cached availability answers (for tests and after installing a library)."""
    type_status.cache_clear()
    gpu_available.cache_clear()
