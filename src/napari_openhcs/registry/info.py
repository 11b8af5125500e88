"""Plain data describing a registered function: what the registry indexes and caches.

Everything here is JSON-serialisable (``to_dict``/``from_dict``) so the index can be cached
on disk and listed by ``napari-openhcs functions --json`` without importing any library.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class ParamSpec:
    """One keyword parameter of a registered function, enough to build a form and validate.

    ``annotation`` is one of ``"int"``, ``"float"``, ``"bool"``, ``"str"``, ``"footprint"``,
    ``"tuple[float, ...]"``, ``"tuple[int, ...]"``, ``"image"`` (a second image, given as
    ``{"image": source, "channel": c}``, see ``vocabulary.image_ref``), ``"objects"`` (a
    second object set, given as ``{"objects": step}``, see ``vocabulary.objects_ref``) or
    ``"any"``; ``choices`` lists allowed values (string choices such as ``mode``); ``bounds``
    is ``(min, max)`` with either side ``None``; ``optional`` says ``None`` is an allowed
    value. A footprint default is a small dict such as ``{"disk": 5}`` that the function
    reference turns into an array at call time.
    """

    name: str
    annotation: str = "any"
    default: Any = None
    required: bool = False
    optional: bool = False
    choices: tuple | None = None
    bounds: tuple | None = None
    doc: str = ""

    def to_dict(self) -> dict:
        d = asdict(self)
        d["choices"] = list(self.choices) if self.choices is not None else None
        d["bounds"] = list(self.bounds) if self.bounds is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict) -> ParamSpec:
        d = dict(d)
        for key in ("choices", "bounds"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)


@dataclass(frozen=True)
class FunctionInfo:
    """Everything the registry knows about one function, without importing its library.

    ``ref`` is the public import path (``skimage.filters.gaussian``), ``target`` the path that
    is actually imported and called when it differs (rare; e.g. a torch backend of an own
    function). ``adapter`` names an explicit adaptation of the raw result (``"threshold_mask"``:
    a scalar threshold becomes ``image > t``; ``"blobs_table"``: coordinates become a table).
    """

    ref: str
    library: str
    memory_type: str
    contract: str = "slice"
    category: str = "filter"
    doc: str = ""
    available: bool = True
    reason: str = ""
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)
    output_kind: str = "image"
    special_outputs: tuple[str, ...] = ()
    adapter: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        d["params"] = [p.to_dict() for p in self.params]
        d["special_outputs"] = list(self.special_outputs)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> FunctionInfo:
        d = dict(d)
        d["params"] = tuple(ParamSpec.from_dict(p) for p in d.get("params", ()))
        d["special_outputs"] = tuple(d.get("special_outputs", ()))
        return cls(**d)
