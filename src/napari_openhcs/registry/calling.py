"""The call engine of registered functions: how a ``FunctionRef`` runs on an image.

The input is converted to the function's memory type, keyword values are resolved
(footprint specs become arrays, image arguments are converted), and a function with the
``slice`` contract (or ``volume`` without ``whole_volume``) is mapped over the planes of an
``(n, y, x)`` stack with :func:`~napari_openhcs.memory.planes.map_planes`, which joins the
results (images stacked on their device, tables with a ``plane`` column). Adapters turn
results that are not images into pipeline results (a threshold into a mask, blob
coordinates into a table).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from napari_openhcs.errors import PipelineError
from napari_openhcs.memory.convert import convert, to_numpy
from napari_openhcs.memory.planes import map_planes
from napari_openhcs.tables import as_table
from napari_openhcs.vocabulary import image_ref, is_footprint_spec

if TYPE_CHECKING:
    from napari_openhcs.registry.reference import FunctionRef


def call_function(ref: FunctionRef, image: Any, whole_volume: bool, kwargs: dict) -> Any:
    """Run ``ref`` on ``image`` (a 2-D plane or an ``(n, y, x)`` stack) with ``kwargs``.

    Returns the function's result as one call on ``image`` would: the image (checked to keep
    the input's y, x), followed by the declared special outputs if there are any.
    """
    data = convert(image, ref.memory_type)
    kwargs = {k: resolve_value(v, ref.memory_type, data, ref.ref) for k, v in kwargs.items()}
    per_plane = getattr(data, "ndim", 0) == 3 and (
        ref.contract == "slice" or (ref.contract == "volume" and not whole_volume)
    )
    if per_plane:
        sliced = stacked_image_args(kwargs, data, ref.ref)
        result = map_planes(
            lambda plane, planes_of: _call_once(ref, plane, {**kwargs, **planes_of}),
            data,
            sliced,
        )
    else:
        result = _call_once(ref, data, kwargs)
    check_shape(ref.ref, data, result)
    return result


def _call_once(ref: FunctionRef, data: Any, kwargs: dict) -> Any:
    target = ref.target
    if ref.adapter == "threshold_mask":
        return data > target(data, **kwargs)
    if ref.adapter == "blobs_table":
        return data, blobs_table(target(data, **kwargs))
    result = target(data, **kwargs)
    if ref.special_outputs and not isinstance(result, tuple):
        raise PipelineError(
            f"{ref.ref} declares special outputs {ref.special_outputs} but returned "
            f"a single {type(result).__name__}"
        )
    return result


def check_shape(name: str, data: Any, result: Any) -> None:
    """Raise unless the (first) result is an image with the input's y, x."""
    main = result[0] if isinstance(result, tuple) else result
    shape = getattr(main, "shape", None)
    if shape is None or len(shape) < 2:
        raise PipelineError(
            f"{name} returned {type(main).__name__} "
            f"{'' if shape is None else shape}, not an image: register it with an "
            "adapter or leave it out of the pipeline"
        )
    if tuple(shape[-2:]) != tuple(data.shape[-2:]):
        raise PipelineError(
            f"{name} returned y, x = {tuple(shape[-2:])} for an input of "
            f"{tuple(data.shape[-2:])}; pipeline steps must keep the image size"
        )


def footprint_array(spec: dict) -> np.ndarray:
    """Turn ``{"disk": 5}``, ``{"rectangle": [3, 5]}``, ... into a NumPy footprint."""
    ((shape, size),) = spec.items()
    args = list(size) if isinstance(size, (list, tuple)) else [size]
    if shape == "square":
        return np.ones((args[0], args[0]), dtype=np.uint8)
    if shape == "rectangle":
        return np.ones((args[0], args[-1]), dtype=np.uint8)
    if shape == "cube":
        return np.ones((args[0],) * 3, dtype=np.uint8)
    from skimage import morphology  # lazy: scikit-image is heavy, needed for few shapes

    return getattr(morphology, shape)(*args).astype(np.uint8)


def is_image_arg(value: Any, data: Any) -> bool:
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


def resolve_value(value: Any, memory_type: str, data: Any = None, ref: str = "") -> Any:
    """A keyword value as the function takes it: footprint specs become arrays, image
    arguments are converted to the function's memory type."""
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
    if data is not None and is_image_arg(value, data):
        return convert(value, memory_type)
    return value


def stacked_image_args(kwargs: dict, data: Any, ref: str) -> dict:
    """Image arguments with one plane per plane of ``data``: sliced along with it.

    A 2-D image argument is passed unchanged with every plane.
    """
    stacked = {}
    for key, value in kwargs.items():
        if not is_image_arg(value, data) or len(value.shape) != 3:
            continue
        if value.shape[0] != data.shape[0]:
            raise PipelineError(
                f"{ref}: image argument {key!r} has {value.shape[0]} planes for a stack of "
                f"{data.shape[0]}; give one plane or one per plane"
            )
        stacked[key] = value
    return stacked


def blobs_table(blobs: Any) -> Any:
    """Blob coordinates ``(n, 2)`` or ``(n, 3)`` as a table: ``y``, ``x`` and ``sigma``."""
    blobs = np.asarray(to_numpy(blobs)).reshape(
        -1, np.shape(blobs)[-1] if np.ndim(blobs) == 2 else 3
    )
    table = {"y": blobs[:, 0].tolist(), "x": blobs[:, 1].tolist()}
    if blobs.shape[1] > 2:
        table["sigma"] = blobs[:, 2].tolist()
    return as_table(table)
