"""Shared checks for the reviewed catalogue tests (scikit-image, pyclesperanto)."""

from __future__ import annotations

import importlib

import numpy as np

from napari_openhcs.registry.info import FunctionInfo
from napari_openhcs.registry.reference import FunctionRef


def inputs() -> dict[str, np.ndarray]:
    """One-plane ``(1, y, x)`` stacks of each reviewed test-input kind (y != x on purpose)."""
    rng = np.random.default_rng(3)
    img = rng.random((1, 24, 32)).astype(np.float32) * 0.3
    img[:, 6:12, 8:16] += 0.6
    img[:, 15:21, 20:28] += 0.5
    mask = img > 0.5
    from skimage.measure import label

    labels = np.stack([label(m) for m in mask]).astype(np.int32)
    return {
        "float": img,
        "uint8": (img / img.max() * 255).astype(np.uint8),
        "mask": mask,
        "labels": labels,
    }


def resolve(ref: str):
    """Import ``module`` and ``getattr`` the name of a public reference."""
    module, _, name = ref.rpartition(".")
    return getattr(importlib.import_module(module), name)


def second_inputs(kinds: tuple[str, ...], stacks: dict) -> list[np.ndarray]:
    """Inputs for a function's image parameters: each of its kind, flipped so that it differs
    from the image itself."""
    return [np.ascontiguousarray(stacks[k][:, ::-1, ::-1]) for k in kinds[1:]]


def run_with_form_defaults(
    info: FunctionInfo, stack: np.ndarray, images: list | None = None
) -> np.ndarray:
    """Call the function as a form would: every parameter at its spec default, except image
    parameters, which get ``images`` in order (when given)."""
    from napari_openhcs.memory import to_numpy

    kwargs = {p.name: p.default for p in info.params}
    if images is not None:
        image_params = [p for p in info.params if p.annotation in ("image", "objects")]
        for p, image in zip(image_params, images, strict=True):
            kwargs[p.name] = image
    ref = FunctionRef(info.ref, info.memory_type, info.contract, info.adapter, info.output_kind)
    result = ref(stack, **kwargs)
    return np.asarray(to_numpy(result))


def check_result(info: FunctionInfo, stack: np.ndarray, out: np.ndarray) -> str | None:
    """Why ``out`` is not a per-plane image/labels/mask of ``stack``, or None."""
    if out.shape != stack.shape:
        return f"shape {out.shape} from {stack.shape}"
    if info.output_kind == "labels" and not (
        np.issubdtype(out.dtype, np.integer) or out.dtype == bool
    ):
        return f"labels of dtype {out.dtype}"
    if info.output_kind == "mask" and not np.isin(np.unique(out), (0, 1)).all():
        return "mask with values other than 0 and 1"
    return None
