"""The words every layer shares: memory types, contracts, output kinds, parameter values,
statuses.

Defined once here, at the bottom (standard library only, no NumPy), so that ``memory/``,
``registry/`` (whose import stays NumPy-free) and the command line all use the same tuples.
"""

from __future__ import annotations

import enum

#: Every memory type a function can declare, in a fixed order (the host's preference order).
MEMORY_TYPES: tuple[str, ...] = ("numpy", "cupy", "torch", "pyclesperanto")

#: How a function meets an ``(n, y, x)`` stack.
#: ``slice``: a 2-D function, called once per plane (default for library functions).
#: ``volume``: declared 3-D; gets the whole stack when the step stacks ``z``, else per plane.
#: ``stack``: takes the ``(n, y, x)`` stack itself (projections, own stack-aware functions).
CONTRACTS: tuple[str, ...] = ("slice", "volume", "stack")

#: What the first result of a function is.
OUTPUT_KINDS: tuple[str, ...] = ("image", "labels", "mask")

#: Footprint shapes a ``{"disk": 5}``-style parameter value may name.
FOOTPRINT_SHAPES: tuple[str, ...] = (
    "disk",
    "square",
    "rectangle",
    "diamond",
    "octagon",
    "star",
    "ball",
    "cube",
)

#: Where an image-valued parameter takes its image from (``{"image": source}``): the image
#: the function receives, the plate's raw images, or (any other name) an earlier step's output.
IMAGE_SOURCES: tuple[str, ...] = ("previous", "start")


def is_footprint_spec(value: object) -> bool:
    """``{"disk": 5}``-style footprint specs (one key naming a shape).

    Examples
    --------
    >>> is_footprint_spec({"disk": 5}), is_footprint_spec({"image": "start"})
    (True, False)
    """
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in FOOTPRINT_SHAPES


def image_ref(value: object) -> dict | None:
    """``value`` if it names an image for an image-valued parameter, else ``None``.

    The form is ``{"image": source}`` with an optional ``"channel": c``. ``source`` is
    ``"previous"`` (the image the function receives; with a channel, the step's input of
    that channel), ``"start"`` (the plate's raw images) or the name of an earlier step
    (its output). Planes are matched on site, z and timepoint, and on channel unless one is
    given. Only ``{"image": "previous"}`` resolves outside a pipeline.

    Examples
    --------
    >>> image_ref({"image": "start", "channel": 2}), image_ref({"disk": 3})
    ({'image': 'start', 'channel': 2}, None)
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


def objects_ref(value: object) -> str | None:
    """The object set ``value`` names for an objects-valued parameter, else ``None``.

    The form is ``{"objects": name}``, with an optional ``"channel": c`` when the step
    ``name`` makes labels in several channel groups: ``name`` is an earlier per-well step
    whose result is labels (an object set such as ``nuclei`` or ``cells``). The compiler
    checks that the step exists before the one that asks, and that its result is labels,
    before any pixel is read; it then resolves the reference to that step's labels
    (``{"image": name, "channel": c}``).

    Examples
    --------
    >>> objects_ref({"objects": "nuclei"}), objects_ref({"image": "nuclei"})
    ('nuclei', None)
    >>> objects_ref({"objects": "cells", "channel": 2})
    'cells'
    """
    if not isinstance(value, dict) or "objects" not in value:
        return None
    if not set(value) <= {"objects", "channel"}:
        return None
    channel = value.get("channel")
    if channel is not None and (isinstance(channel, bool) or not isinstance(channel, (int, str))):
        return None
    name = value["objects"]
    return name if isinstance(name, str) and name else None


class TextEnum(str, enum.Enum):
    """An enum whose members are their string values (in JSON, CSV and ``==``).

    >>> WellStatus.DONE == "done", str(WellStatus.DONE), f"{WellStatus.NOT_RUN}"
    (True, 'done', 'not run')
    """

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class WellStatus(TextEnum):
    """A well's status in ``run.json``, ``wells.csv`` and ``RunReport.wells``."""

    PENDING = "pending"  # to run in this run, not finished yet
    DONE = "done"
    FAILED = "failed"
    SKIPPED = "skipped"  # finished by an earlier run into the same folder, kept (events only)
    MISSING = "missing"  # every site lacks an image plane: nothing computed
    CANCELLED = "cancelled"  # the run was cancelled before the well finished
    NOT_RUN = "not run"  # the run stopped on an error before the well finished


#: Statuses of a well whose results are in the output.
FINISHED_STATUSES: frozenset[WellStatus] = frozenset({WellStatus.DONE, WellStatus.SKIPPED})


class UnitStatus(TextEnum):
    """How a work unit ended; its progress event is ``unit_<status>`` (``event_kind``)."""

    DONE = "done"
    FAILED = "failed"

    @classmethod
    def of(cls, ok: bool) -> UnitStatus:
        """``DONE`` for a unit that succeeded, ``FAILED`` otherwise."""
        return cls.DONE if ok else cls.FAILED

    @property
    def event_kind(self) -> str:
        """The progress event's ``kind``: ``"unit_done"`` or ``"unit_failed"``."""
        return f"unit_{self.value}"
