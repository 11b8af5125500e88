"""The plate handler interface and what the built-in handlers share.

A handler knows one microscope's folder layout. It must be cheap to create and hold no state
between calls: a worker process reads planes with ``read(locator)`` without ever indexing.
"""

from __future__ import annotations

import itertools
import logging
import re
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from napari_openhcs.errors import PlateError
from napari_openhcs.plates.index import ImageKey, PlateIndex
from napari_openhcs.wells import grid_holding, parse_well, well_sort_key

logger = logging.getLogger(__name__)


class PlateHandler(ABC):
    """One plate format: recognise it, index it, read one plane of it.

    Subclasses set ``name`` (the ``PlateIndex.format`` value) and implement the three methods.
    Third-party packages register a subclass (or an instance) under the entry-point group
    ``napari_openhcs.plates``.
    """

    #: Format name, e.g. ``"imagexpress"``.
    name: str = ""

    @abstractmethod
    def sniff(self, path: Path) -> bool:
        """Whether ``path`` looks like this format. Cheap: names and small metadata files only."""

    @abstractmethod
    def index(self, path: Path) -> PlateIndex:
        """Index the plate by file names and metadata alone (no pixels read).

        Raises
        ------
        PlateError
            If the folder looks like this format but cannot be read as one.
        """

    @abstractmethod
    def read(self, locator: str) -> np.ndarray:
        """Read one 2-D plane given its locator from ``PlateIndex.images``."""

    def plane_info(self, locator: str) -> tuple[tuple[int, int], str]:
        """``(shape, dtype)`` of one plane. The default reads the plane; override to be cheaper."""
        plane = self.read(locator)
        return (int(plane.shape[0]), int(plane.shape[1])), plane.dtype.name

    def pixel_size(self, locator: str) -> tuple[float, float] | None:
        """``(y, x)`` pixel size in micrometres recorded in one image file, if any.

        Used when the plate's metadata has none; the default finds none.
        """
        return None


def read_tiff_plane(path: str) -> np.ndarray:
    """Read a single-plane TIFF as a 2-D array (leading length-1 axes are dropped)."""
    import tifffile

    try:
        data = tifffile.imread(path)
    except FileNotFoundError:
        raise PlateError(f"{path}: image file is missing") from None
    except Exception as exc:  # tifffile raises several types for damaged files
        raise PlateError(f"{path}: cannot read as TIFF ({exc})") from exc
    data = np.asarray(data)
    while data.ndim > 2 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2:
        raise PlateError(f"{path}: expected one 2-D plane, found an array of shape {data.shape}")
    return data


def tiff_plane_info(path: str) -> tuple[tuple[int, int], str]:
    """Shape and dtype of a single-plane TIFF from its header (no pixels read)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            shape = tuple(int(s) for s in page.shape if s != 1) or (1, 1)
            dtype = np.dtype(page.dtype).name
    except FileNotFoundError:
        raise PlateError(f"{path}: image file is missing") from None
    except Exception as exc:
        raise PlateError(f"{path}: cannot read as TIFF ({exc})") from exc
    if len(shape) != 2:
        raise PlateError(f"{path}: expected one 2-D plane, found shape {shape}")
    return (shape[0], shape[1]), dtype


_MM_PROP = re.compile(
    r'id="spatial-calibration-(?P<key>x|y|units)"[^>]*?value="(?P<value>[^"]*)"', re.IGNORECASE
)


def metamorph_pixel_size(path: str) -> tuple[float, float] | None:
    """``(y, x)`` micrometres from MetaMorph / MetaXpress ``spatial-calibration`` tags, if any."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            description = tif.pages[0].description or ""
    except Exception:  # no calibration is not an error; reading the pixels will report damage
        return None
    props = {m["key"].lower(): m["value"] for m in _MM_PROP.finditer(description)}
    if props.get("units", "um").lower() not in ("um", "µm", "micron", "microns", "micrometer"):
        return None
    try:
        x, y = float(props["x"]), float(props.get("y", props["x"]))
    except (KeyError, ValueError):
        return None
    return (y, x) if x > 0 and y > 0 else None


def assemble_index(
    *,
    format: str,
    root: Path,
    name: str,
    rows: int,
    columns: int,
    images: dict[ImageKey, str],
    promised_wells: list[str] | None = None,
    promised: dict[str, list[int]] | None = None,
    grid_source: str = "the plate's metadata",
    **extra,
) -> PlateIndex:
    """Build a ``PlateIndex`` and work out which promised images are missing.

    Every well with at least one image is promised the full product of the sites, channels,
    z-planes and timepoints seen anywhere on the plate (or listed in ``promised``, from the
    plate's metadata); ``promised_wells`` from the metadata without any image are promised the
    same. Keys promised but without a file go to ``missing``, sorted.

    ``rows`` x ``columns`` is the grid the plate declares (``grid_source`` says where, for the
    message). When it does not hold every well, the index takes a grid that does (the
    smallest standard plate around both), logs one warning, and keeps the declared grid in
    ``metadata["declared_grid"]`` with the reason in ``metadata["grid_note"]``: what is on
    disk wins, so that every well found can be written.

    Raises
    ------
    PlateError
        If no image at all was found.
    """
    if not images:
        raise PlateError(f"{root}: no image files found in this {format} plate")
    seen = {
        "site": {k.site for k in images},
        "channel": {k.channel for k in images},
        "z": {k.z for k in images},
        "timepoint": {k.timepoint for k in images},
    }
    for comp, values in (promised or {}).items():
        seen[comp] |= set(values)
    sites, channels, zs, tps = (sorted(seen[c]) for c in ("site", "channel", "z", "timepoint"))
    wells = sorted({k.well for k in images}, key=well_sort_key)
    expected_wells = sorted(set(wells) | set(promised_wells or []), key=well_sort_key)
    extra_meta = dict(extra.pop("metadata", None) or {})
    held = grid_holding(rows, columns, expected_wells)
    if held != (rows, columns):
        outside = [w for w in expected_wells if _outside(w, rows, columns)]
        note = (
            f"{grid_source} declares a {rows} x {columns} grid but well(s) "
            f"{', '.join(outside[:8])}{'...' if len(outside) > 8 else ''} lie outside it; "
            f"using a {held[0]} x {held[1]} grid"
        )
        logger.warning("%s: %s", root, note)
        extra_meta["declared_grid"] = [rows, columns]
        extra_meta["grid_note"] = note
        rows, columns = held
    missing = [
        ImageKey(w, s, c, z, t)
        for w in expected_wells
        for s, c, z, t in itertools.product(sites, channels, zs, tps)
        if ImageKey(w, s, c, z, t) not in images
    ]
    return PlateIndex(
        format=format,
        root=str(root),
        name=name,
        rows=rows,
        columns=columns,
        wells=wells,
        sites=sites,
        channels=channels,
        z=zs,
        timepoints=tps,
        images=dict(sorted(images.items(), key=lambda kv: (well_sort_key(kv[0].well), kv[0][1:]))),
        missing=missing,
        metadata=extra_meta,
        **extra,
    )


def _outside(well: str, rows: int, columns: int) -> bool:

    parsed = parse_well(well)
    return parsed is not None and (parsed[0] > rows or parsed[1] > columns)
