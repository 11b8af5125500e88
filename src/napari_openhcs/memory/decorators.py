"""Memory-type decorators: ``@numpy``, ``@cupy``, ``@torch``, ``@pyclesperanto``, ``@memory_types``.

A decorated function receives its first argument in its input memory type and returns its
first result in its output memory type. Everything device-related (which GPU, streams, the
out-of-memory exception classes) is looked up when the function is called; the decorator
itself stores nothing but three plain values, so a decorated module-level function pickles by
reference and runs in a fresh worker process.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from napari_openhcs.errors import FunctionUnavailableError, GPUOutOfMemoryError
from napari_openhcs.memory.convert import convert, dlpack_device, to_torch
from napari_openhcs.memory.devices import current_gpu, free_gpu_memory, on_gpu
from napari_openhcs.memory.planes import map_planes
from napari_openhcs.memory.types import MEMORY_TYPES, detect_memory_type, type_status

F = TypeVar("F", bound=Callable[..., Any])

_GPU_TYPES = ("cupy", "torch")


def _oom_exception_types() -> tuple[type[BaseException], ...]:
    """CuPy's and torch's out-of-memory classes, for the libraries already imported."""
    found: list[type[BaseException]] = []
    cupy = sys.modules.get("cupy")
    if cupy is not None:
        cls = getattr(
            getattr(getattr(cupy, "cuda", None), "memory", None), "OutOfMemoryError", None
        )
        if isinstance(cls, type):
            found.append(cls)
    torch = sys.modules.get("torch")
    if torch is not None:
        cls = getattr(torch, "OutOfMemoryError", None)
        if isinstance(cls, type):
            found.append(cls)
    return tuple(found)


def _resolve_gpu(image: Any, kinds: tuple[str, str]) -> int | None:
    """The GPU this call runs on: use_gpu's choice, else the input's GPU, else GPU 0 for torch."""
    if not any(kind in _GPU_TYPES for kind in kinds):
        return None
    chosen = current_gpu()
    if chosen is not None:
        return chosen
    device = dlpack_device(image) if detect_memory_type(image) != "pyclesperanto" else None
    if device is not None and device[0] == 2:
        return device[1]
    if "cupy" in kinds:
        import cupy

        return int(cupy.cuda.runtime.getDevice())
    if "torch" in kinds:
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            return 0
    return None


def _check_available(kind: str, name: str) -> None:
    ok, reason = type_status(kind)
    if not ok:
        raise FunctionUnavailableError(f"{name} needs {kind}, which cannot be used here: {reason}")


class _Spec:
    """What one decorated function declared (plain values only)."""

    __slots__ = ("input", "output", "slice_by_slice", "oom_recovery", "name")

    def __init__(
        self, input: str, output: str, slice_by_slice: bool, oom_recovery: bool, name: str
    ):
        self.input = input
        self.output = output
        self.slice_by_slice = slice_by_slice
        self.oom_recovery = oom_recovery
        self.name = name


def _run_once(
    func: Callable[..., Any], spec: _Spec, x: Any, args: tuple, kwargs: dict, gpu: int | None
) -> Any:
    if not spec.slice_by_slice or x.ndim != 3:
        return _converted(func(x, *args, **kwargs), spec, gpu)
    return map_planes(
        lambda plane, _: _converted(func(plane, *args, **kwargs), spec, gpu), x, kind=spec.output
    )


def _converted(result: Any, spec: _Spec, gpu: int | None) -> Any:
    """The result with its first item (the image) in the output memory type."""
    if isinstance(result, tuple):
        return (_to_output(result[0], spec, gpu), *result[1:])
    return _to_output(result, spec, gpu)


def _to_output(result: Any, spec: _Spec, gpu: int | None) -> Any:
    try:
        detect_memory_type(result)
    except TypeError:
        raise TypeError(
            f"{spec.name} must return an image array (or a tuple starting with one), got "
            f"{type(result).__qualname__}"
        ) from None
    return convert(result, spec.output, gpu=gpu)


def _call(func: Callable[..., Any], spec: _Spec, image: Any, args: tuple, kwargs: dict) -> Any:
    kinds = (spec.input, spec.output)
    for kind in dict.fromkeys(kinds):
        _check_available(kind, spec.name)
    gpu = _resolve_gpu(image, kinds)
    attempts = 2 if spec.oom_recovery else 1
    detail = ""
    for attempt in range(attempts):
        try:
            with on_gpu(gpu, kinds):
                if spec.input == "torch":
                    x = to_torch(image, gpu=gpu)
                else:
                    x = convert(image, spec.input, gpu=gpu)
                return _run_once(func, spec, x, args, kwargs, gpu)
        except Exception as exc:
            oom_types = _oom_exception_types()
            if not spec.oom_recovery or not oom_types or not isinstance(exc, oom_types):
                raise
            detail = f"{type(exc).__name__}: {exc}"
            exc.__traceback__ = None  # drop the frames that still hold device arrays
        # Outside the except block, so the failed attempt's arrays can be released.
        x = None
        free_gpu_memory()
        if attempt + 1 == attempts:
            break
    where = f"GPU {gpu}" if gpu is not None else "the GPU"
    raise GPUOutOfMemoryError(
        f"{spec.name} ran out of memory on {where}, even after freeing cached GPU memory and "
        f"retrying once ({detail}). Process smaller images or fewer at a time (fewer workers "
        f"per GPU), or run this step on a GPU with more memory."
    )


def _first_parameter(func: Callable[..., Any]) -> str | None:
    """Name of the function's first parameter, so the image may also be passed by keyword."""
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return None
    if params and params[0].kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
        return params[0].name
    return None


def memory_types(
    input: str,
    output: str | None = None,
    *,
    slice_by_slice: bool = False,
    oom_recovery: bool = True,
) -> Callable[[F], F]:
    """Declare the memory types a function takes and returns.

    Parameters
    ----------
    input : str
        Memory type of the first argument (``"numpy"``, ``"cupy"``, ``"torch"``,
        ``"pyclesperanto"``); the argument is converted to it on each call (``"torch"`` also
        casts uint16/uint32 to int32/int64, see :func:`~napari_openhcs.memory.torch_safe_dtype`).
    output : str, optional
        Memory type of the first result (default: ``input``).
    slice_by_slice : bool
        Call the function once per 2-D plane of an ``(n, y, x)`` stack and stack the results
        (3-D results are concatenated). For tuple results the first items are stacked and
        each further item is joined as :func:`~napari_openhcs.memory.planes.gather_values`
        joins it: tables into one table with a ``plane`` column, arrays stacked, anything
        else a list with one entry per plane.
    oom_recovery : bool
        On a CuPy or torch out-of-memory error, free the GPU caches and retry once; if it
        fails again raise :class:`~napari_openhcs.errors.GPUOutOfMemoryError`.

    Returns
    -------
    callable
        A decorator. The decorated function carries ``__openhcs__``, a dict with
        ``input_memory_type``, ``output_memory_type`` and ``slice_by_slice``.

    Examples
    --------
    >>> import numpy as np
    >>> @memory_types(input="numpy", slice_by_slice=True)
    ... def plane_max(plane):
    ...     return np.full_like(plane, plane.max())
    >>> plane_max(np.arange(8).reshape(2, 2, 2))[:, 0, 0].tolist()
    [3, 7]
    """
    for kind in (input, output):
        if kind is not None and kind not in MEMORY_TYPES:
            raise ValueError(
                f"unknown memory type {kind!r}; expected one of {', '.join(MEMORY_TYPES)}"
            )
    output = output or input

    def decorate(func: F) -> F:
        spec = _Spec(input, output, bool(slice_by_slice), bool(oom_recovery), func.__qualname__)

        first = _first_parameter(func)

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if args:
                return _call(func, spec, args[0], args[1:], kwargs)
            if first is not None and first in kwargs:
                image = kwargs.pop(first)
                return _call(func, spec, image, (), kwargs)
            raise TypeError(f"{spec.name} needs an image as its first argument")

        meta = dict(getattr(func, "__openhcs__", None) or {})
        meta.update(
            input_memory_type=input,
            output_memory_type=output,
            slice_by_slice=bool(slice_by_slice),
        )
        wrapper.__openhcs__ = meta  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def _single_type(kind: str) -> Callable[..., Any]:
    def decorator(
        func: Callable[..., Any] | None = None,
        /,
        *,
        output: str | None = None,
        slice_by_slice: bool = False,
        oom_recovery: bool = True,
    ) -> Any:
        make = memory_types(
            kind, output or kind, slice_by_slice=slice_by_slice, oom_recovery=oom_recovery
        )
        return make if func is None else make(func)

    decorator.__name__ = decorator.__qualname__ = kind
    decorator.__doc__ = (
        f"Declare a function that takes and returns {kind} arrays.\n\n"
        f"Use bare (``@{kind}``) or with options (``@{kind}(slice_by_slice=True)``); the "
        f"options are those of :func:`memory_types`.\n\n"
        f"Examples\n--------\n>>> @{kind}\n... def identity(stack):\n...     return stack\n"
        f">>> identity.__openhcs__['input_memory_type']\n'{kind}'\n"
    )
    return decorator


numpy = _single_type("numpy")
cupy = _single_type("cupy")
torch = _single_type("torch")
pyclesperanto = _single_type("pyclesperanto")
