"""Molecular Devices ImageXpress / MetaXpress plate folders.

Layout: an optional ``.HTD`` file (the acquisition's grid), image files directly in the folder
or under ``TimePoint_<t>/`` and ``TimePoint_<t>/ZStep_<z>/``. File names are
``<prefix>_<well>[_s<site>][_w<channel><GUID>][_z<z>][_t<t>][_thumb<GUID>].tif`` with every part
but the well optional; ``_thumb`` files are thumbnails and are skipped. When a folder holds
``ZStep_<z>`` sub-folders, the images directly in it are MetaXpress's projections of the
z-stack and are skipped too (listed in ``metadata["skipped_projections"]``).
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np

from napari_openhcs.errors import PlateError
from napari_openhcs.plates.base import (
    PlateHandler,
    assemble_index,
    metamorph_pixel_size,
    read_tiff_plane,
    tiff_plane_info,
)
from napari_openhcs.plates.index import ImageKey, PlateIndex
from napari_openhcs.wells import grid_for, well_name

_GUID = r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"
NAME_RE = re.compile(
    r"^(?:(?P<prefix>.+?)_)?"
    r"(?P<well>[A-Z]{1,2}\d{2})"
    r"(?:_s(?P<site>\d+))?"
    rf"(?:_w(?P<channel>\d+)(?:{_GUID})?)?"
    r"(?:_z(?P<z>\d+))?"
    r"(?:_t(?P<timepoint>\d+))?"
    r"(?P<thumb>_thumb[0-9A-Fa-f-]*)?"
    r"\.(?:tif|TIF|tiff|TIFF)$"
)
_TIMEPOINT_DIR = re.compile(r"^timepoint_(\d+)$", re.IGNORECASE)
_ZSTEP_DIR = re.compile(r"^zstep_(\d+)$", re.IGNORECASE)
_IMAGE_EXT = (".tif", ".tiff")
_MAX_LISTED = 20


def parse_name(filename: str) -> dict | None:
    """Parse an ImageXpress file name; ``None`` for names that are not ImageXpress images.

    Returns a dict with ``prefix``, ``well``, ``site``, ``channel``, ``z``, ``timepoint``
    (``None`` where the part is absent) and ``thumb`` (bool).

    Examples
    --------
    >>> p = parse_name("MIP-2P-2sub_C05_s1_w146C9B2CD-0BB3-4B8A-9187-2805F4C90506.tif")
    >>> p["well"], p["site"], p["channel"]
    ('C05', 1, 1)
    """
    m = NAME_RE.match(filename)
    if m is None or m["well"].endswith("00"):
        return None
    out: dict = {"prefix": m["prefix"], "well": m["well"], "thumb": m["thumb"] is not None}
    for part in ("site", "channel", "z", "timepoint"):
        out[part] = int(m[part]) if m[part] is not None else None
    return out


def _htd_value(values: list[str]):
    """One HTD value: TRUE/FALSE -> bool, integers -> int, else the stripped string."""
    if len(values) != 1:
        return [_htd_value([v]) for v in values]
    v = values[0].strip()
    if v.upper() in ("TRUE", "FALSE"):
        return v.upper() == "TRUE"
    try:
        return int(v)
    except ValueError:
        return v


def parse_htd(path: Path) -> dict:
    """Read an ``.HTD`` file into a dict keyed by lower-case names (unknown keys kept).

    Values are bools, ints, strings, or lists of those (``WellsSelection1`` etc.). Lines that
    do not parse are skipped and listed under ``"_skipped_lines"``.
    """
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    out: dict = {}
    skipped = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = next(csv.reader([line], skipinitialspace=True))
        except (csv.Error, StopIteration):
            skipped.append(line)
            continue
        if not row or not row[0].strip():
            skipped.append(line)
            continue
        key = row[0].strip().lower()
        out[key] = _htd_value(row[1:]) if len(row) > 1 else None
    if skipped:
        out["_skipped_lines"] = skipped
    return out


def _as_int(htd: dict, key: str) -> int | None:
    v = htd.get(key)
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else None


def _as_bools(v) -> list[bool]:
    if isinstance(v, bool):
        return [v]
    if isinstance(v, list):
        return [x is True for x in v]
    return []


def htd_layout(htd: dict) -> dict:
    """What an HTD promises: grid, wells, sites, channels (with names), z, timepoints.

    Missing or malformed keys leave the corresponding entry out rather than failing.
    """
    layout: dict = {}
    cols, rows = _as_int(htd, "xwells"), _as_int(htd, "ywells")
    if rows and cols:
        layout["rows"], layout["columns"] = rows, cols
        wells = []
        for r in range(1, rows + 1):
            selection = _as_bools(htd.get(f"wellsselection{r}"))
            wells += [well_name(r, c + 1) for c, on in enumerate(selection[:cols]) if on]
        if any(f"wellsselection{r}" in htd for r in range(1, rows + 1)):
            layout["wells"] = wells
    if htd.get("sites") is False:
        layout["sites"] = [1]
    elif htd.get("sites") is True:
        xs, ys = _as_int(htd, "xsites") or 1, _as_int(htd, "ysites") or 1
        selected = sum(sum(_as_bools(htd.get(f"siteselection{r}"))[:xs]) for r in range(1, ys + 1))
        layout["sites"] = list(range(1, (selected or xs * ys) + 1))
    n_waves = _as_int(htd, "nwavelengths")
    if htd.get("waves") is False:
        n_waves = 1  # one wavelength: file names carry no _w part
    if n_waves:
        layout["channels"] = list(range(1, n_waves + 1))
        names = {}
        for w in range(1, n_waves + 1):
            name = htd.get(f"wavename{w}")
            if name not in (None, ""):
                names[w] = str(name)
        layout["channel_names"] = names
    if htd.get("zseries") is True and _as_int(htd, "zsteps"):
        layout["z"] = list(range(1, _as_int(htd, "zsteps") + 1))
    if _as_int(htd, "timepoints"):
        layout["timepoints"] = list(range(1, _as_int(htd, "timepoints") + 1))
    return layout


def _find_htd(root: Path) -> Path | None:
    for folder in (root, root / "TimePoint_1"):
        if folder.is_dir():
            htds = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".htd")
            if htds:
                return htds[0]
    return None


def _scan(root: Path):
    """Yield ``(path, filename, folder_timepoint, folder_z, is_projection)`` for image files."""

    def walk(folder: str, t: int | None, z: int | None, depth: int):
        files, subdirs = [], []
        with os.scandir(folder) as it:
            for entry in it:
                if entry.is_dir():
                    subdirs.append(entry)
                elif entry.name.lower().endswith(_IMAGE_EXT):
                    files.append(entry)
        zdirs = [(d, _ZSTEP_DIR.match(d.name)) for d in subdirs]
        zdirs = [(d, int(m[1])) for d, m in zdirs if m and z is None]
        for entry in files:
            yield entry.path, entry.name, t, z, bool(zdirs)
        for d, zval in zdirs:
            yield from walk(d.path, t, zval, depth + 1)
        if t is None and z is None and depth == 0:
            for d in subdirs:
                m = _TIMEPOINT_DIR.match(d.name)
                if m:
                    yield from walk(d.path, int(m[1]), None, depth + 1)

    yield from walk(str(root), None, None, 0)


class ImageXpressHandler(PlateHandler):
    """ImageXpress / MetaXpress plate folders (``.HTD``, ``TimePoint_t/ZStep_z``)."""

    name = "imagexpress"

    def sniff(self, path: Path) -> bool:
        if not path.is_dir():
            return False
        with os.scandir(path) as it:
            for entry in it:
                if entry.name.lower().endswith(".htd") and entry.is_file():
                    return True
                if _TIMEPOINT_DIR.match(entry.name) and entry.is_dir():
                    return True
                if NAME_RE.match(entry.name):
                    return True
        return False

    def index(self, path: Path) -> PlateIndex:
        root = Path(path).absolute()
        htd_path = _find_htd(root)
        htd = parse_htd(htd_path) if htd_path else {}
        layout = htd_layout(htd)
        images: dict[ImageKey, str] = {}
        thumbs, projections, ignored, prefixes = 0, [], [], set()
        for fpath, fname, t, z, is_projection in _scan(root):
            parsed = parse_name(fname)
            if parsed is None:
                ignored.append(os.path.relpath(fpath, root))
                continue
            if parsed["thumb"]:
                thumbs += 1
                continue
            if is_projection:
                projections.append(os.path.relpath(fpath, root))
                continue
            prefixes.add(parsed["prefix"])
            key = ImageKey(
                parsed["well"],
                parsed["site"] or 1,
                parsed["channel"] or 1,
                z or parsed["z"] or 1,
                t or parsed["timepoint"] or 1,
            )
            if key in images:
                raise PlateError(
                    f"{root}: two files for well {key.well} site {key.site} channel "
                    f"{key.channel} z {key.z} timepoint {key.timepoint}: "
                    f"{os.path.relpath(images[key], root)} and {os.path.relpath(fpath, root)} "
                    "(two plates in one folder?)"
                )
            images[key] = fpath
        if not images:
            reason = (
                f"{len(ignored)} .tif files whose names are not ImageXpress names"
                if (ignored)
                else "no .tif files"
            )
            raise PlateError(f"{root}: no ImageXpress images found ({reason})")
        rows, columns = layout.get("rows"), layout.get("columns")
        if not rows:
            rows, columns = grid_for(sorted({k.well for k in images}))
        name = htd_path.stem if htd_path else root.name
        metadata: dict = {"prefixes": sorted(p for p in prefixes if p)}
        if htd_path:
            metadata["htd"] = str(htd_path)
            if "_skipped_lines" in htd:
                metadata["htd_skipped_lines"] = htd["_skipped_lines"]
        if thumbs:
            metadata["skipped_thumbnails"] = thumbs
        if projections:
            metadata["skipped_projections"] = sorted(projections)[:_MAX_LISTED]
            metadata["skipped_projections_count"] = len(projections)
        if ignored:
            metadata["ignored_files"] = sorted(ignored)[:_MAX_LISTED]
            metadata["ignored_files_count"] = len(ignored)
        promised = {
            comp: layout[key]
            for comp, key in (
                ("site", "sites"),
                ("channel", "channels"),
                ("z", "z"),
                ("timepoint", "timepoints"),
            )
            if key in layout
        }
        return assemble_index(
            format=self.name,
            root=root,
            name=name,
            rows=rows,
            columns=columns,
            images=images,
            promised_wells=layout.get("wells"),
            promised=promised,
            grid_source=f"{htd_path.name} (XWells x YWells)" if layout.get("rows") else "the wells",
            channel_names=layout.get("channel_names", {}),
            metadata=metadata,
        )

    def read(self, locator: str) -> np.ndarray:
        return read_tiff_plane(locator)

    def plane_info(self, locator: str) -> tuple[tuple[int, int], str]:
        return tiff_plane_info(locator)

    def pixel_size(self, locator: str) -> tuple[float, float] | None:
        # MetaXpress keeps the calibration in each TIFF, not in the .HTD
        return metamorph_pixel_size(locator)
