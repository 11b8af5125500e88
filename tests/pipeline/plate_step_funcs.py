"""Functions the plate-step tests register for the session (importable from this folder)."""

from __future__ import annotations

import numpy as np

from napari_openhcs.memory import numpy as numpy_memory
from napari_openhcs.registry.declare import declare

CALLS = {"estimate": 0}


@declare(contract="stack", category="projection")
@numpy_memory
def estimate_flatfield(stack: np.ndarray) -> np.ndarray:
    """Mean of every plane given, normalised to a mean of 1 (one plane out)."""
    CALLS["estimate"] += 1
    field = stack.astype(np.float32).mean(axis=0, keepdims=True)
    return field / field.mean()


@declare(contract="stack", category="exposure")
@numpy_memory
def divide_by(stack: np.ndarray, flatfield: np.ndarray | None = None) -> np.ndarray:
    """Divide every plane by ``flatfield`` (a plane)."""
    return stack.astype(np.float32) / np.asarray(flatfield, np.float32)


class OutOfMemoryError(RuntimeError):
    """Named like ``torch.OutOfMemoryError`` / ``cupy.cuda.memory.OutOfMemoryError``."""


@declare(contract="stack", category="filter")
@numpy_memory
def run_out_of_memory(stack: np.ndarray) -> np.ndarray:
    """Raise an out-of-memory error, as a GPU library does."""
    raise OutOfMemoryError("out of memory allocating 4.00 GiB")
