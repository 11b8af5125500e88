"""The reviewed override table: parameter facts the signatures and docstrings do not give.

``OVERRIDES[ref][param]`` is a dict of ``ParamSpec`` fields to set, or ``None`` to leave the
parameter out. ``COMMON[param]`` fills in fields that signature and docstring left unknown
(``annotation`` "any", no choices, no default), for every function.
"""

from __future__ import annotations

_MODES = ("reflect", "constant", "nearest", "mirror", "wrap")

COMMON: dict[str, dict | None] = {
    "mode": {"annotation": "str", "choices": _MODES},
    "footprint": {"annotation": "footprint", "default": {"disk": 1}},
    "sigma": {"bounds": (0.0, 100.0)},
    "preserve_range": {"annotation": "bool"},
}

OVERRIDES: dict[str, dict[str, dict | None]] = {
    "skimage.filters.gaussian": {"sigma": {"annotation": "float", "default": 1.0}},
    "skimage.measure.label": {
        "connectivity": {"annotation": "int", "bounds": (1, 2), "optional": True}
    },
}


def overrides_for(ref: str) -> dict[str, dict | None]:
    """The reviewed overrides of one function (``COMMON`` is applied separately)."""
    return {k: (dict(v) if v is not None else None) for k, v in OVERRIDES.get(ref, {}).items()}
