"""PerkinElmer / Revvity Opera Phenix and Operetta exports (Harmony ``Index.xml``).

The index file (``Index.idx.xml`` or ``Index.xml``, in the plate folder or its ``Images/``
folder) lists every image with its row, column, field, plane, channel and timepoint, the channel
names, the pixel size and the field positions. Image names are
``r03c12f025p10-ch4sk2fk1fl1.tiff``: row 3, column 12, field 25, plane 10, channel 4,
timepoint 2 (``sk``). Harmony's ``TimepointID`` elements are 0-based; keys here are 1-based.
"""

from __future__ import annotations

import os
import re
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from napari_openhcs.errors import PlateError
from napari_openhcs.plates.base import (
    PlateHandler,
    assemble_index,
    read_tiff_plane,
    tiff_plane_info,
)
from napari_openhcs.plates.index import ImageKey, PlateIndex
from napari_openhcs.wells import grid_for, well_name

NAME_RE = re.compile(
    r"^r(?P<row>\d+)c(?P<column>\d+)f(?P<field>\d+)p(?P<plane>\d+)"
    r"-ch(?P<channel>\d+)sk(?P<timepoint>\d+)fk(?P<fk>\d+)fl(?P<fl>\d+)\.tiff?$"
)
INDEX_NAMES = ("Index.idx.xml", "Index.xml")
_PLAIN_NAME = re.compile(r"^(?!\.\.?$)[^/\\:]+$")
_UNIT_TO_UM = {"m": 1e6, "mm": 1e3, "um": 1.0, "µm": 1.0, "nm": 1e-3}


def parse_name(filename: str) -> dict | None:
    """Parse a Harmony image name; ``None`` for other names.

    Examples
    --------
    >>> p = parse_name("r03c12f025p10-ch4sk2fk1fl1.tiff")
    >>> p["well"], p["field"], p["plane"], p["channel"], p["timepoint"]
    ('C12', 25, 10, 4, 2)
    """
    m = NAME_RE.match(filename)
    if m is None:
        return None
    out = {k: int(v) for k, v in m.groupdict().items()}
    if out["row"] < 1 or out["column"] < 1:
        return None
    out["well"] = well_name(out["row"], out["column"])
    return out


def find_index_file(root: Path) -> Path | None:
    """The Harmony index file of a plate folder (or its ``Images/`` folder), if any."""
    for folder in (root, root / "Images"):
        for name in INDEX_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def _looks_like_phenix(folder: Path) -> bool:
    if not folder.is_dir():
        return False
    with os.scandir(folder) as it:
        return any(NAME_RE.match(entry.name) for entry in it)


def _tag(el: ET.Element) -> str:
    return el.tag.rpartition("}")[2]


def _children(el: ET.Element) -> dict[str, ET.Element]:
    return {c.tag.rpartition("}")[2]: c for c in el}


def _text(fields: dict[str, ET.Element], name: str) -> str | None:
    el = fields.get(name)
    return el.text.strip() if el is not None and el.text else None


def _int(fields: dict[str, ET.Element], name: str) -> int | None:
    v = _text(fields, name)
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def _micrometres(fields: dict[str, ET.Element], name: str) -> float | None:
    el = fields.get(name)
    if el is None or not el.text:
        return None
    try:
        value = float(el.text)
    except ValueError:
        return None
    return value * _UNIT_TO_UM.get(el.get("Unit", "m"), 1e6)


def _check_inside(url: str, index_path: Path, root: Path) -> str:
    """The file an image URL names, refusing URLs that leave the plate folder."""
    if _PLAIN_NAME.match(url):  # the usual case, a bare file name: no path to check
        return f"{index_path.parent}{os.sep}{url}"
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", url):
        raise PlateError(
            f"{index_path}: image {url!r} is a URL; only files inside the plate are read"
        )
    if os.path.isabs(url) or url.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", url):
        raise PlateError(
            f"{index_path}: image {url!r} is an absolute path; images must lie inside the plate "
            f"folder {root}"
        )
    target = os.path.normpath(os.path.join(index_path.parent, url.replace("\\", "/")))
    if os.path.commonpath([str(root), target]) != str(root):
        raise PlateError(f"{index_path}: image {url!r} points outside the plate folder {root}")
    return target


class OperaPhenixHandler(PlateHandler):
    """Opera Phenix / Operetta exports with a Harmony ``Index.xml`` / ``Index.idx.xml``."""

    name = "operaphenix"

    def sniff(self, path: Path) -> bool:
        if not path.is_dir():
            return False
        if find_index_file(path) is not None:
            return True
        return _looks_like_phenix(path) or _looks_like_phenix(path / "Images")

    def index(self, path: Path) -> PlateIndex:
        root = Path(os.path.normpath(Path(path).absolute()))
        index_path = find_index_file(root)
        if index_path is None:
            raise PlateError(
                f"{root}: looks like an Opera Phenix / Operetta export but has no Index.xml or "
                "Index.idx.xml (copy it from the Harmony export into this folder)"
            )
        try:
            tree = ET.parse(index_path)
        except ET.ParseError as exc:
            raise PlateError(f"{index_path}: not a readable Harmony index file ({exc})") from exc
        top = _children(tree.getroot())
        if "Images" not in top:
            raise PlateError(f"{index_path}: no <Images> list; not a Harmony index file")

        # Directory listings instead of one stat per image: much faster on network drives.
        listings: dict[str, set[str]] = {}

        def exists(target: str) -> bool:
            folder, name = os.path.split(target)
            if folder not in listings:
                try:
                    listings[folder] = set(os.listdir(folder))
                except OSError:
                    listings[folder] = set()
            return name in listings[folder]

        images: dict[ImageKey, str] = {}
        listed: set[ImageKey] = set()
        channel_names: dict[int, str] = {}
        fields_xy: dict[int, tuple[float, float]] = {}
        plane_z: dict[int, list[float]] = {}
        pixel_size = None
        first: ImageKey | None = None
        for image in top["Images"]:
            fields = _children(image)
            url = _text(fields, "URL")
            parsed = parse_name(os.path.basename(url)) if url else None
            if parsed is not None:
                key = ImageKey(
                    parsed["well"],
                    parsed["field"],
                    parsed["channel"],
                    parsed["plane"],
                    parsed["timepoint"],
                )
            else:
                row, col = _int(fields, "Row"), _int(fields, "Col")
                if not row or not col:
                    continue
                tp = _int(fields, "TimepointID")
                key = ImageKey(
                    well_name(row, col),
                    _int(fields, "FieldID") or 1,
                    _int(fields, "ChannelID") or 1,
                    _int(fields, "PlaneID") or 1,
                    (tp + 1) if tp is not None else 1,
                )
            listed.add(key)
            name = _text(fields, "ChannelName")
            if name and key.channel not in channel_names:
                channel_names[key.channel] = name
            if pixel_size is None:
                px, py = (
                    _micrometres(fields, "ImageResolutionX"),
                    _micrometres(fields, "ImageResolutionY"),
                )
                if px and py:
                    pixel_size = (py, px)
            if key.site not in fields_xy:
                x, y = _micrometres(fields, "PositionX"), _micrometres(fields, "PositionY")
                if x is not None and y is not None:
                    fields_xy[key.site] = (x, y)
            z = _micrometres(fields, "PositionZ")
            first = first or key
            if z is not None and (key.well, key.site, key.channel, key.timepoint) == (
                first.well,
                first.site,
                first.channel,
                first.timepoint,
            ):
                plane_z.setdefault(key.z, []).append(z)
            if not url:
                continue
            target = _check_inside(url, index_path, root)
            if not exists(target):
                alt = os.path.join(index_path.parent, "Images", os.path.basename(target))
                if not exists(alt):
                    continue
                target = alt
            if key in images and images[key] != target:
                raise PlateError(
                    f"{index_path}: two images for well {key.well} field {key.site} channel "
                    f"{key.channel} plane {key.z} timepoint {key.timepoint}"
                )
            images[key] = target
        if not listed:
            raise PlateError(f"{index_path}: lists no images")
        if not images:
            raise PlateError(
                f"{index_path}: lists {len(listed)} images but none of their files exist "
                f"beside it or in {index_path.parent / 'Images'}"
            )
        for entry in tree.getroot().iter():
            if _tag(entry) == "Entry" and entry.get("ChannelID"):
                name = _text(_children(entry), "ChannelName")
                if name:
                    channel_names.setdefault(int(entry.get("ChannelID")), name)

        plate_el = top.get("Plates")
        plate_fields = (
            _children(next(iter(plate_el))) if plate_el is not None and len(plate_el) else {}
        )
        rows, columns = _int(plate_fields, "PlateRows"), _int(plate_fields, "PlateColumns")
        if not rows or not columns:
            rows, columns = grid_for(sorted({k.well for k in listed}))
        plate_name = _text(plate_fields, "PlateName") or _text(plate_fields, "PlateID") or root.name

        promised_wells = sorted({k.well for k in listed})
        promised = {
            "site": sorted({k.site for k in listed}),
            "channel": sorted({k.channel for k in listed}),
            "z": sorted({k.z for k in listed}),
            "timepoint": sorted({k.timepoint for k in listed}),
        }
        z_means = [statistics.fmean(v) for _, v in sorted(plane_z.items())]
        steps = [round(b - a, 6) for a, b in zip(z_means, z_means[1:], strict=False)]
        metadata = {
            "index_file": str(index_path),
            "field_positions_um": {str(f): list(xy) for f, xy in sorted(fields_xy.items())},
        }
        return assemble_index(
            format=self.name,
            root=root,
            name=plate_name,
            rows=rows,
            columns=columns,
            images=images,
            promised_wells=promised_wells,
            promised=promised,
            grid_source=f"{index_path.name} (PlateRows x PlateColumns)",
            channel_names=dict(sorted(channel_names.items())),
            pixel_size=pixel_size,
            z_step=abs(statistics.median(steps)) if steps else None,
            metadata=metadata,
        )

    def read(self, locator: str) -> np.ndarray:
        return read_tiff_plane(locator)

    def plane_info(self, locator: str) -> tuple[tuple[int, int], str]:
        return tiff_plane_info(locator)
