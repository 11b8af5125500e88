"""``FunctionRef``: a registered function, addressed and pickled by its public import path.

A ``FunctionRef`` is what ``fn("skimage.filters.gaussian")`` returns and what work units
carry to workers. It pickles to its reference plus the few facts a worker needs to call it
(memory type, contract, adapter, outputs), so a worker imports only this module and the
function's own module: no registry scan, no monkey-patching, no captured process state.
"""

from __future__ import annotations

import importlib
from typing import Any

from napari_openhcs.errors import PipelineError

_SEP = "|"


def resolve_target(ref: str) -> Any:
    """Import the object named by a public dotted path, e.g. ``skimage.filters.gaussian``.

    The longest importable module prefix is imported and the rest looked up as attributes.
    A module that exists but fails to import (a missing dependency) raises its own error.
    """
    parts = ref.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module_name = ".".join(parts[:i])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing == module_name or module_name.startswith(missing + "."):
                continue
            raise
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            raise PipelineError(f"{ref}: {module_name} has no attribute {attr!r}") from None
        return obj
    raise PipelineError(f"{ref}: no importable module in this reference")


class FunctionRef:
    """A registered function; call it like the function, pickle it by reference.

    Parameters
    ----------
    ref : str
        Public import path.
    memory_type : str
        ``numpy``, ``cupy``, ``torch`` or ``pyclesperanto``: input is converted to it.
    contract : {"slice", "volume", "stack"}
        ``slice`` calls the function once per plane of an ``(n, y, x)`` stack; ``volume``
        passes the whole stack when called with ``whole_volume=True`` (the step stacks z),
        else per plane; ``stack`` always passes the whole stack.
    adapter : str, optional
        ``threshold_mask`` (a scalar threshold ``t`` becomes ``image > t``) or
        ``blobs_table`` (coordinates become a table; the image passes through).
    output_kind : {"image", "labels", "mask"}
    special_outputs : tuple of str
        Names of the extra results; the call then returns ``(main, *specials)``.

    Examples
    --------
    >>> import pickle, numpy as np
    >>> f = FunctionRef("numpy.fliplr", "numpy", "slice")
    >>> len(pickle.dumps(f)) <= 200
    True
    >>> f(np.arange(4).reshape(1, 2, 2)).tolist()
    [[[1, 0], [3, 2]]]
    """

    __slots__ = (
        "ref",
        "memory_type",
        "contract",
        "adapter",
        "output_kind",
        "special_outputs",
        "_target",
    )

    def __init__(
        self,
        ref: str,
        memory_type: str = "numpy",
        contract: str = "slice",
        adapter: str | None = None,
        output_kind: str = "image",
        special_outputs: tuple[str, ...] = (),
    ) -> None:
        self.ref = ref
        self.memory_type = memory_type
        self.contract = contract
        self.adapter = adapter or None
        self.output_kind = output_kind
        self.special_outputs = tuple(special_outputs)
        self._target = None

    # -- identity and pickling -----------------------------------------------------------
    def _key(self) -> tuple:
        return (
            self.ref,
            self.memory_type,
            self.contract,
            self.adapter,
            self.output_kind,
            self.special_outputs,
        )

    def __reduce__(self):
        packed = _SEP.join(
            [
                self.ref,
                self.memory_type,
                self.contract,
                self.adapter or "",
                self.output_kind,
                ",".join(self.special_outputs),
            ]
        )
        return (_restore, (packed,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FunctionRef) and self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"fn({self.ref!r})"

    @property
    def __name__(self) -> str:  # noqa: PLW3201 - behaves like the function it names
        return self.ref.rsplit(".", 1)[-1]

    @property
    def target(self) -> Any:
        """The original function, imported on first use."""
        if self._target is None:
            self._target = resolve_target(self.ref)
        return self._target

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return getattr(self.target, "__doc__", None)

    # -- calling ---------------------------------------------------------------------------
    def __call__(self, image: Any, /, *, whole_volume: bool = False, **kwargs: Any) -> Any:
        """Run the function on ``image`` (a 2-D plane or an ``(n, y, x)`` stack)."""
        from napari_openhcs.memory import convert

        data = convert(image, self.memory_type)
        kwargs = {k: _resolve_value(v, self.memory_type, data, self.ref) for k, v in kwargs.items()}
        per_plane = getattr(data, "ndim", 0) == 3 and (
            self.contract == "slice" or (self.contract == "volume" and not whole_volume)
        )
        if not per_plane:
            result = self._call_once(data, kwargs)
            self._check_shape(data, result)
            return result
        stacked = _stacked_image_args(kwargs, data, self.ref)
        results = [
            self._call_once(data[i], {**kwargs, **{k: v[i] for k, v in stacked.items()}})
            for i in range(data.shape[0])
        ]
        if not self.special_outputs and self.adapter != "blobs_table":
            main = _stack(results)
            self._check_shape(data, main)
            return main
        main = _stack([r[0] for r in results])
        self._check_shape(data, main)
        specials = []
        for j in range(1, len(results[0])):
            parts = [r[j] for r in results]
            specials.append(_concat_tables(parts) if isinstance(parts[0], dict) else _stack(parts))
        return (main, *specials)

    def _call_once(self, data: Any, kwargs: dict) -> Any:
        target = self.target
        if self.adapter == "threshold_mask":
            return data > target(data, **kwargs)
        if self.adapter == "blobs_table":
            return data, _blobs_table(target(data, **kwargs))
        result = target(data, **kwargs)
        if self.special_outputs and not isinstance(result, tuple):
            raise PipelineError(
                f"{self.ref} declares special outputs {self.special_outputs} but returned "
                f"a single {type(result).__name__}"
            )
        return result

    def _check_shape(self, data: Any, result: Any) -> None:
        main = result[0] if isinstance(result, tuple) else result
        shape = getattr(main, "shape", None)
        if shape is None or len(shape) < 2:
            raise PipelineError(
                f"{self.ref} returned {type(main).__name__} "
                f"{'' if shape is None else shape}, not an image: register it with an "
                "adapter or leave it out of the pipeline"
            )
        if tuple(shape[-2:]) != tuple(data.shape[-2:]):
            raise PipelineError(
                f"{self.ref} returned y, x = {tuple(shape[-2:])} for an input of "
                f"{tuple(data.shape[-2:])}; pipeline steps must keep the image size"
            )


def _restore(packed: str) -> FunctionRef:
    ref, memory_type, contract, adapter, output_kind, specials = packed.split(_SEP)
    return FunctionRef(
        ref,
        memory_type,
        contract,
        adapter or None,
        output_kind,
        tuple(s for s in specials.split(",") if s),
    )


# -- helpers ---------------------------------------------------------------------------------
FOOTPRINT_SHAPES = ("disk", "square", "rectangle", "diamond", "octagon", "star", "ball", "cube")


def is_footprint_spec(value: Any) -> bool:
    """``{"disk": 5}``-style footprint specs (one key naming a shape)."""
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in FOOTPRINT_SHAPES


def footprint_array(spec: dict):
    """Turn ``{"disk": 5}``, ``{"rectangle": [3, 5]}``, ... into a NumPy footprint."""
    import numpy as np

    ((shape, size),) = spec.items()
    args = list(size) if isinstance(size, (list, tuple)) else [size]
    if shape == "square":
        return np.ones((args[0], args[0]), dtype=np.uint8)
    if shape == "rectangle":
        return np.ones((args[0], args[-1]), dtype=np.uint8)
    if shape == "cube":
        return np.ones((args[0],) * 3, dtype=np.uint8)
    from skimage import morphology

    return getattr(morphology, shape)(*args).astype(np.uint8)


#: Where an image-valued parameter takes its image from (``{"image": source}``): the image
#: the function receives, the plate's raw images, or (any other name) an earlier step's output.
IMAGE_SOURCES = ("previous", "start")


def image_ref(value: Any) -> dict | None:
    """``value`` if it names an image for an image-valued parameter, else ``None``.

    The form is ``{"image": source}`` with an optional ``"channel": c``. ``source`` is
    ``"previous"`` (the image the function receives; with a channel, the step's input of
    that channel), ``"start"`` (the plate's raw images) or the name of an earlier step
    (its output). Planes are matched on site, z and timepoint, and on channel unless one is
    given. Only ``{"image": "previous"}`` resolves outside a pipeline.
    """
    if (
        not isinstance(value, dict)
        or "image" not in value
        or not set(value) <= {"image", "channel"}
    ):
        return None
    if not isinstance(value["image"], str) or not value["image"]:
        return None
    channel = value.get("channel")
    if channel is not None and (isinstance(channel, bool) or not isinstance(channel, (int, str))):
        return None
    return value


def _is_image_arg(value: Any, data: Any) -> bool:
    """An array keyword whose last two axes are the image's: an image argument."""
    shape = getattr(value, "shape", None)
    data_shape = getattr(data, "shape", None)
    return (
        shape is not None
        and data_shape is not None
        and len(shape) >= 2
        and len(data_shape) >= 2
        and tuple(shape[-2:]) == tuple(data_shape[-2:])
    )


def _resolve_value(value: Any, memory_type: str, data: Any = None, ref: str = "") -> Any:
    """A keyword value as the function takes it: footprint specs become arrays, image
    arguments are converted to the function's memory type."""
    from napari_openhcs.memory import convert

    if is_footprint_spec(value):
        return convert(footprint_array(value), memory_type)
    named = image_ref(value)
    if named is not None:
        if named == {"image": "previous"}:
            return data
        raise PipelineError(
            f"{ref}: image {named} can only be resolved inside a pipeline step (outside one, "
            "pass an array or {'image': 'previous'})"
        )
    if data is not None and _is_image_arg(value, data):
        return convert(value, memory_type)
    return value


def _stacked_image_args(kwargs: dict, data: Any, ref: str) -> dict:
    """Image arguments with one plane per plane of ``data``: sliced along with it.

    A 2-D image argument is passed unchanged with every plane.
    """
    stacked = {}
    for key, value in kwargs.items():
        if not _is_image_arg(value, data) or len(value.shape) != 3:
            continue
        if value.shape[0] != data.shape[0]:
            raise PipelineError(
                f"{ref}: image argument {key!r} has {value.shape[0]} planes for a stack of "
                f"{data.shape[0]}; give one plane or one per plane"
            )
        stacked[key] = value
    return stacked


def _stack(arrays: list) -> Any:
    import numpy as np

    from napari_openhcs.memory import detect_memory_type, to_numpy

    kind = detect_memory_type(arrays[0])
    if kind == "torch":
        import torch

        return torch.stack([a if a.ndim == 2 else a.reshape(a.shape[-2:]) for a in arrays])
    if kind == "cupy":
        import cupy

        return cupy.concatenate([a.reshape((-1, *a.shape[-2:])) for a in arrays])
    planes = [to_numpy(a) if kind != "numpy" else a for a in arrays]
    return np.concatenate([np.asarray(p).reshape((-1, *np.shape(p)[-2:])) for p in planes])


def _concat_tables(tables: list[dict]) -> dict:
    import numpy as np

    columns: dict[str, list] = {"plane": []}
    for i, table in enumerate(tables):
        n = max((len(v) for v in table.values()), default=0)
        columns["plane"].extend([i] * n)
        for key, values in table.items():
            columns.setdefault(key, []).extend(np.asarray(values).tolist())
    return columns


def _blobs_table(blobs) -> dict:
    import numpy as np

    from napari_openhcs.memory import to_numpy

    blobs = np.asarray(to_numpy(blobs)).reshape(
        -1, np.shape(blobs)[-1] if np.ndim(blobs) == 2 else 3
    )
    table = {"y": blobs[:, 0].tolist(), "x": blobs[:, 1].tolist()}
    if blobs.shape[1] > 2:
        table["sigma"] = blobs[:, 2].tolist()
    return table
