"""The output dtype rule: how a step's result is cast when it is written, never before.

``output_dtype`` on a step is one of:

- ``"keep"``: the dtype the function returned (booleans become ``uint8``, which Zarr readers
  display as 0/1).
- ``"plate"``: the plate's own dtype (e.g. ``uint16``), range-aware.
- a NumPy dtype name (``"uint8"``, ``"uint16"``, ``"float32"``, ...), range-aware.

Range-aware casting to an integer dtype: floats in [0, 1] (what scikit-image returns) are
scaled to the full integer range; values that already fit are rounded; wider integers are
scaled by the ratio of the two ranges when both are unsigned (``uint16`` → ``uint8`` divides by 257); anything else
(negative floats into an unsigned dtype, floats beyond the range) is rescaled linearly from
its own minimum and maximum onto the target range. Nothing is silently clipped to zero.
"""

from __future__ import annotations

import numpy as np

from napari_openhcs.errors import PipelineError

RULES = ("keep", "plate")


def check_output_dtype(rule: str) -> None:
    """Raise ``PipelineError`` unless ``rule`` is ``keep``, ``plate`` or a NumPy dtype name."""

    if rule in RULES:
        return
    try:
        dtype = np.dtype(rule)
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in "uif":
        raise PipelineError(
            f"output_dtype {rule!r} is not 'keep', 'plate' or a numeric dtype such as "
            "'uint8', 'uint16' or 'float32'"
        )


def cast_for_output(array: np.ndarray, rule: str, plate_dtype: str | None = None) -> np.ndarray:
    """Cast ``array`` for writing by the rule above.

    Examples
    --------
    >>> cast_for_output(np.array([0.0, 0.5, 1.0]), "uint8").tolist()
    [0, 128, 255]
    >>> cast_for_output(np.array([0, 65535], np.uint16), "uint8").tolist()
    [0, 255]
    """
    array = np.asarray(array)
    if array.dtype == bool:
        array = array.astype(np.uint8)
    if rule == "keep":
        return array
    target = np.dtype(plate_dtype or array.dtype) if rule == "plate" else np.dtype(rule)
    if array.dtype == target:
        return array
    if target.kind == "f":
        return array.astype(target)
    info = np.iinfo(target)
    if array.size == 0:
        return array.astype(target)
    lo, hi = float(np.nanmin(array)), float(np.nanmax(array))
    if array.dtype.kind == "f" and lo >= 0.0 and hi <= 1.0:
        return np.round(np.nan_to_num(array) * info.max).astype(target)
    if lo >= info.min and hi <= info.max:
        return np.round(array).astype(target) if array.dtype.kind == "f" else array.astype(target)
    if array.dtype.kind == "u" and target.kind == "u":
        source_max = np.iinfo(array.dtype).max
        return np.round(array.astype(np.float64) * (info.max / source_max)).astype(target)
    floor = 0.0 if lo >= 0 or target.kind == "u" else float(info.min)
    scaled = (array.astype(np.float64) - lo) / (hi - lo) * (info.max - floor) + floor
    return np.round(np.nan_to_num(scaled, nan=floor)).astype(target)
