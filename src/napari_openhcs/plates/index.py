"""The plate index: image files keyed by (well, site, channel, z, timepoint), plus metadata.

A handler builds it from names and metadata alone (no pixels read). It is plain, picklable
data so that work units can carry the part of it they need to a worker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

#: Component names, in index-key order.
COMPONENTS = ("well", "site", "channel", "z", "timepoint")


class ImageKey(NamedTuple):
    """One image plane of a plate. Values are the plate's own (1-based for all but well)."""

    well: str
    site: int
    channel: int
    z: int
    timepoint: int


@dataclass
class PlateIndex:
    """What a handler found in a plate.

    ``images`` maps each key to a locator the handler's ``read`` understands (a file path
    for folder formats; ``"<field path>#t,c,z"`` with 0-based array indices for OME-Zarr).
    ``missing`` lists keys the metadata promised but no file provides (autofocus failures), never filled.
    ``shape``/``dtype`` are of one plane, read from one file on demand (``None`` until then).
    """

    format: str
    root: str
    name: str
    rows: int
    columns: int
    wells: list[str]
    sites: list[int]
    channels: list[int]
    z: list[int]
    timepoints: list[int]
    images: dict[ImageKey, str]
    channel_names: dict[int, str] = field(default_factory=dict)
    channel_colors: dict[int, str] = field(default_factory=dict)
    pixel_size: tuple[float, float] | None = None  # (y, x) in micrometres
    z_step: float | None = None  # micrometres
    missing: list[ImageKey] = field(default_factory=list)
    shape: tuple[int, int] | None = None
    dtype: str | None = None
    metadata: dict = field(default_factory=dict)

    def keys_for(self, well: str, site: int | None = None) -> list[ImageKey]:
        """All keys of one well (and one site when given), sorted."""
        return sorted(k for k in self.images if k.well == well and (site is None or k.site == site))
