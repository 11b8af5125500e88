"""Applying a function plane by plane: one map over the planes, one way to join the results.

Both the memory-type decorators (``slice_by_slice=True``) and registered functions
(``FunctionRef`` with the ``slice`` contract) call a function once per plane of an
``(n, y, x)`` stack and join the results here, with one meaning:

- the image (the first result) and any further array results are stacked along a new first
  axis (3-D results are concatenated) on the device they are on (:func:`stack_planes`);
- table results (pyarrow tables, DataFrames, dicts of columns) become one ``pyarrow.Table``
  with a leading ``plane`` column;
- anything else (numbers, dicts of numbers, ...) becomes a list with one entry per plane.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from napari_openhcs.memory.convert import convert
from napari_openhcs.memory.types import detect_memory_type
from napari_openhcs.tables import concat_planes, is_table


def stack_planes(planes: Sequence[Any], kind: str | None = None) -> Any:
    """Stack 2-D planes (or concatenate 3-D blocks) along a new first axis, on their device.

    Parameters
    ----------
    planes : sequence of arrays
        Planes ``(y, x)`` or blocks ``(k, y, x)``, in any mix; 0-D and 1-D values are stacked
        into ``(n,)`` and ``(n, m)``.
    kind : str, optional
        Memory type of the result (default: that of the first plane). Planes of another
        type are converted to it first; CuPy, torch and pyclesperanto planes stay on the GPU.

    Returns
    -------
    array
        ``(sum of k, y, x)`` in memory type ``kind``.

    Examples
    --------
    >>> import numpy as np
    >>> stack_planes([np.zeros((2, 3)), np.ones((1, 2, 3))]).shape
    (2, 2, 3)
    """
    if not planes:
        raise ValueError("no planes to stack")
    kind = kind or detect_memory_type(planes[0])
    planes = [p if detect_memory_type(p) == kind else convert(p, kind) for p in planes]
    if kind == "pyclesperanto":
        return _stack_cle(planes)
    blocks = [_block(p) for p in planes]
    if kind == "numpy":
        return np.concatenate(blocks)
    if kind == "cupy":
        import cupy  # lazy: a GPU library, imported only for CuPy planes

        return cupy.concatenate(blocks)
    if kind == "torch":
        import torch  # lazy: a GPU library, imported only for torch planes

        return torch.cat(blocks)
    raise ValueError(f"cannot stack planes of memory type {kind!r}")


def _block(plane: Any) -> Any:
    """A plane as a ``(k, ...)`` block: 3-D and larger as ``(-1, y, x)``, else one more axis."""
    shape = tuple(plane.shape)
    if len(shape) >= 3:
        return plane.reshape((-1, *shape[-2:]))
    return plane.reshape((1, *shape))


def _stack_cle(planes: list[Any]) -> Any:
    """pyclesperanto planes stacked into a new OpenCL array (copies on the device)."""
    import pyclesperanto as cle  # lazy: OpenCL, imported only for pyclesperanto planes

    blocks = [_block(p) for p in planes]
    depth = sum(b.shape[0] for b in blocks)
    out = cle.create((depth, *blocks[0].shape[1:]), dtype=blocks[0].dtype)
    start = 0
    for block in blocks:
        for i in range(block.shape[0]):
            out[start + i] = block[i]
        start += block.shape[0]
    return out


def is_array(value: Any) -> bool:
    """Whether ``value`` is an array of one of the memory types."""
    try:
        detect_memory_type(value)
    except TypeError:
        return False
    return True


def gather_planes(results: Sequence[Any], kind: str | None = None) -> Any:
    """Join the results of one call per plane into the result of one call on the stack.

    A tuple result is joined item by item: the first (the image) with :func:`stack_planes`
    (into memory type ``kind``), each further one with :func:`gather_values`.

    Examples
    --------
    >>> import numpy as np
    >>> main, table = gather_planes([(np.zeros((2, 2)), {"area": [4]})] * 2)
    >>> main.shape, table.column("plane").to_pylist()
    ((2, 2, 2), [0, 1])
    """
    if not isinstance(results[0], tuple):
        return stack_planes(results, kind)
    items = list(zip(*results, strict=True))
    return (stack_planes(items[0], kind), *(gather_values(values) for values in items[1:]))


def gather_values(values: Sequence[Any]) -> Any:
    """One extra result per plane joined: tables with a ``plane`` column, arrays stacked,
    anything else as a list (one entry per plane).

    Examples
    --------
    >>> gather_values([{"count": 3}, {"count": 4}])
    [{'count': 3}, {'count': 4}]
    """
    if all(is_table(v) for v in values):
        return concat_planes(values)
    if all(is_array(v) for v in values):
        return stack_planes(values)
    return list(values)


def map_planes(
    call: Callable[[Any, dict], Any],
    stack: Any,
    sliced: Mapping[str, Any] | None = None,
    kind: str | None = None,
) -> Any:
    """Call ``call(plane, arguments)`` once per plane of ``stack`` and gather the results.

    ``arguments`` holds plane ``i`` of each stack in ``sliced`` (image arguments with one
    plane per plane of ``stack``); see :func:`gather_planes` for how results are joined.

    Examples
    --------
    >>> import numpy as np
    >>> map_planes(lambda plane, _: plane * 2, np.ones((3, 2, 2)))[:, 0, 0].tolist()
    [2.0, 2.0, 2.0]
    """
    sliced = sliced or {}
    results = [
        call(stack[i], {name: value[i] for name, value in sliced.items()})
        for i in range(stack.shape[0])
    ]
    return gather_planes(results, kind)
