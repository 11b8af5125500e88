"""OME-NGFF metadata, for NGFF 0.5 (Zarr v3) and 0.4 (Zarr v2): the one place that knows
how the two versions differ.

The two versions differ only in where the metadata lives and where ``version`` goes:

* 0.5: one ``ome`` object in the group's ``zarr.json`` attributes, with ``version: "0.5"``;
* 0.4: the keys at the top level of ``.zattrs`` (beside ``.zgroup``), with ``version: "0.4"``
  inside ``multiscales[i]``, ``plate``, ``well`` and ``image-label``.

The builders (``multiscales_metadata``, ``plate_metadata``, ``group_documents``, ...) are pure:
they make the JSON the spec asks for. The readers at the end (``read_group_attrs``,
``read_ngff``, ``read_array_meta``, ``image_metadata``) read a node's metadata files and
nothing else; the plate reader (``plates.omezarr``), the plate writer, the checks and the
direct plane reader (``storage.planes``) all read metadata through them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from napari_openhcs.errors import InputError


class NgffFormat(NamedTuple):
    """What one NGFF version changes: the Zarr format under it, and where ``version`` goes."""

    version: str
    zarr_format: int
    """2 (``.zgroup``, ``.zattrs``, ``.zarray``) or 3 (``zarr.json``)."""
    in_ome: bool
    """0.5: the NGFF keys sit in one ``ome`` object that carries ``version``."""
    in_blocks: bool
    """0.4: ``version`` is inside ``multiscales[i]``, ``well`` and ``image-label``."""


#: The versions this package reads and writes, by version string.
FORMATS = {
    "0.4": NgffFormat("0.4", zarr_format=2, in_ome=False, in_blocks=True),
    "0.5": NgffFormat("0.5", zarr_format=3, in_ome=True, in_blocks=False),
}
NGFF_VERSIONS = tuple(FORMATS)
COMPRESSORS = ("lz4", "zstd", "gzip", "none")

#: Axis name -> NGFF axis type.
AXIS_TYPES = {"t": "time", "c": "channel", "z": "space", "y": "space", "x": "space"}

#: Default channel colours (hex RRGGBB), cycled; a single channel is shown in white.
DEFAULT_COLORS = ("0000FF", "00FF00", "FF0000", "FF00FF", "00FFFF", "FFFF00", "FFFFFF")
_NAMED_COLORS = {
    "red": "FF0000",
    "green": "00FF00",
    "blue": "0000FF",
    "cyan": "00FFFF",
    "magenta": "FF00FF",
    "yellow": "FFFF00",
    "white": "FFFFFF",
    "gray": "FFFFFF",
    "grey": "FFFFFF",
}


def check_ngff(ngff: str) -> str:
    """Return ``ngff`` as a supported version string, or raise ``InputError``."""
    return ngff_format(ngff).version


def ngff_format(ngff: str) -> NgffFormat:
    """The ``NgffFormat`` of a version string, or raise ``InputError``."""
    found = FORMATS.get(str(ngff))
    if found is None:
        raise InputError(f"OME-NGFF version {str(ngff)!r} is not supported (use 0.4 or 0.5)")
    return found


def check_compressor(compressor: str | None) -> str:
    """Return the compressor name, or raise ``InputError`` for one we do not write."""
    name = "none" if compressor is None else str(compressor).lower()
    if name not in COMPRESSORS:
        raise InputError(
            f"compressor {compressor!r} is not supported (use {', '.join(COMPRESSORS)}; "
            "zlib is not defined by Zarr v3, use gzip)"
        )
    return name


def check_shards(shards: bool, ngff: str) -> bool:
    """Return ``shards`` as a bool, or raise ``InputError`` if it is asked for below NGFF 0.5
    (sharding is a Zarr v3 codec)."""
    if shards and (str(ngff) not in FORMATS or FORMATS[str(ngff)].zarr_format != 3):
        raise InputError("sharding (one file per field) needs NGFF 0.5 (Zarr v3)")
    return bool(shards)


def zarr_format(ngff: str) -> int:
    """The Zarr format of an NGFF version: 3 for 0.5, 2 for 0.4."""
    return ngff_format(ngff).zarr_format


def wrap(ngff: str, body: dict) -> dict:
    """Group attributes holding ``body`` the way ``ngff`` wants it."""
    fmt = ngff_format(ngff)
    if fmt.in_ome:
        return {"ome": {"version": fmt.version, **body}}
    return dict(body)


def _versioned(ngff: str, block: dict) -> dict:
    """``block`` with ``version`` inside it where the version wants it there (0.4)."""
    fmt = ngff_format(ngff)
    if fmt.in_blocks:
        block["version"] = fmt.version
    return block


def axes_metadata(axes: str, *, spatial_unit: str | None = "micrometer") -> list[dict]:
    """NGFF ``axes`` for axis names like ``"tczyx"`` (types from the name).

    Space axes get ``spatial_unit`` when given (``None`` when the pixel size is unknown; a
    dict ``{axis: unit}`` names it per axis, e.g. no unit for a z spacing nobody recorded).
    """
    out = []
    for name in axes:
        if name not in AXIS_TYPES:
            raise InputError(f"axis {name!r} is not one of t, c, z, y, x")
        axis = {"name": name, "type": AXIS_TYPES[name]}
        unit = spatial_unit.get(name) if isinstance(spatial_unit, dict) else spatial_unit
        if AXIS_TYPES[name] == "space" and unit:
            axis["unit"] = unit
        out.append(axis)
    return out


def multiscales_metadata(
    ngff: str,
    axes: str,
    scale: Sequence[float],
    n_levels: int,
    *,
    name: str | None = None,
    spatial_unit: str | None = "micrometer",
) -> list[dict]:
    """One ``multiscales`` entry with ``n_levels`` datasets ``"0"``, ``"1"``, ...

    Level ``k`` is downsampled ``2**k`` times in y and x (not in z, c or t).
    """
    datasets = []
    for level in range(n_levels):
        factor = [2.0**level if a in "yx" else 1.0 for a in axes]
        level_scale = [float(s) * f for s, f in zip(scale, factor, strict=True)]
        datasets.append(
            {
                "path": str(level),
                "coordinateTransformations": [{"type": "scale", "scale": level_scale}],
            }
        )
    entry: dict = {
        "axes": axes_metadata(axes, spatial_unit=spatial_unit),
        "datasets": datasets,
    }
    if n_levels > 1:
        entry["type"] = "mean"
    if name:
        entry["name"] = name
    return [_versioned(ngff, entry)]


def normalize_color(color: str | None, index: int, n_channels: int) -> str:
    """A colour as NGFF wants it (``RRGGBB`` hex, upper case); defaults by channel index."""
    if color:
        text = str(color).strip().lstrip("#")
        if text.lower() in _NAMED_COLORS:
            return _NAMED_COLORS[text.lower()]
        if len(text) == 6 and all(ch in "0123456789abcdefABCDEF" for ch in text):
            return text.upper()
        if len(text) == 8 and all(ch in "0123456789abcdefABCDEF" for ch in text):
            return text[:6].upper()  # RRGGBBAA: drop alpha
        raise InputError(f"channel colour {color!r} is not a colour name or RRGGBB hex")
    if n_channels == 1:
        return "FFFFFF"
    return DEFAULT_COLORS[index % len(DEFAULT_COLORS)]


def dtype_window(dtype: np.dtype, data: np.ndarray | None = None) -> tuple[float, float]:
    """Display range of a dtype: its full range for integers, data min/max for floats."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return 0.0, 1.0
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return float(info.min), float(info.max)
    if data is not None and data.size:
        lo, hi = float(np.nanmin(data)), float(np.nanmax(data))
        if np.isfinite(lo) and np.isfinite(hi):
            return lo, hi if hi > lo else lo + 1.0
    return 0.0, 1.0


def omero_metadata(
    n_channels: int,
    dtype: np.dtype,
    *,
    channel_names: Sequence[str] | None = None,
    channel_colors: Sequence[str | None] | None = None,
    window: tuple[float, float] | None = None,
) -> dict:
    """The ``omero`` block: one entry per channel with label, colour and display window."""
    lo, hi = window if window is not None else dtype_window(dtype)
    channels = []
    for i in range(n_channels):
        label = channel_names[i] if channel_names and i < len(channel_names) else f"ch{i + 1}"
        color = channel_colors[i] if channel_colors and i < len(channel_colors) else None
        channels.append(
            {
                "label": str(label),
                "color": normalize_color(color, i, n_channels),
                "window": {"min": lo, "max": hi, "start": lo, "end": hi},
                "active": True,
                "coefficient": 1.0,
                "family": "linear",
                "inverted": False,
            }
        )
    return {"channels": channels, "rdefs": {"model": "color", "defaultT": 0, "defaultZ": 0}}


def image_label_metadata(ngff: str) -> dict:
    """The ``image-label`` block of a label image (source: the image two levels up)."""
    body: dict = {"source": {"image": "../../"}}
    return _versioned(ngff, body)


def plate_metadata(
    ngff: str,
    row_names: Sequence[str],
    column_names: Sequence[str],
    wells: Sequence[tuple[str, int, int]],
    *,
    name: str | None = None,
    field_count: int | None = None,
) -> dict:
    """The ``plate`` block; ``wells`` are ``(path, row index, column index)`` triples."""
    body: dict = {
        "columns": [{"name": c} for c in column_names],
        "rows": [{"name": r} for r in row_names],
        "wells": [{"path": p, "rowIndex": r, "columnIndex": c} for p, r, c in wells],
    }
    if name:
        body["name"] = name
    if field_count:
        body["field_count"] = int(field_count)
    # 0.5 moved ``version`` up to ``ome``, but readers built on ome-zarr-models still look for
    # it in ``plate`` (ome-zarr-py writes it there too), and the 0.5 schema allows it.
    body["version"] = check_ngff(ngff)
    return body


def well_metadata(ngff: str, fields: Sequence[str]) -> dict:
    """The ``well`` block listing field paths."""
    body: dict = {"images": [{"path": str(f)} for f in fields]}
    return _versioned(ngff, body)


# -- metadata files: where each Zarr format keeps a node's metadata ------------------------

#: Zarr v3: one document per node (group or array), attributes inside it.
V3_FILE = "zarr.json"
#: Zarr v2: a group's marker, its attributes, an array's metadata.
V2_GROUP, V2_ATTRS, V2_ARRAY = ".zgroup", ".zattrs", ".zarray"


def group_documents(attributes: dict, *, ngff: str) -> list[tuple[str, dict]]:
    """The metadata files of a Zarr group holding ``attributes``: ``(file name, document)``.

    NGFF 0.5 (Zarr v3) is one ``zarr.json``; 0.4 (Zarr v2) is ``.zgroup`` and ``.zattrs``.
    """
    if zarr_format(ngff) == 3:
        return [(V3_FILE, {"zarr_format": 3, "node_type": "group", "attributes": attributes})]
    return [(V2_GROUP, {"zarr_format": 2}), (V2_ATTRS, attributes)]


def _read_json(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path} holds no JSON object")
    return doc


def _read_group(path: Path) -> tuple[int, dict] | None:
    """``(zarr format, attributes)`` of the Zarr group at ``path``, ``None`` if none."""
    v3 = path / V3_FILE
    if v3.is_file():
        doc = _read_json(v3)
        if doc.get("node_type") != "group":
            return None
        return 3, dict(doc.get("attributes") or {})
    attrs = path / V2_ATTRS
    if (path / V2_GROUP).is_file():
        return 2, (_read_json(attrs) if attrs.is_file() else {})
    if attrs.is_file() and not (path / V2_ARRAY).is_file():
        return 2, _read_json(attrs)
    return None


def read_group_attrs(path: str | Path) -> dict | None:
    """The attributes of the Zarr group at ``path`` (v3 or v2), or ``None`` if there is none.

    A v2 folder with ``.zattrs`` but neither ``.zgroup`` nor ``.zarray`` counts as a group
    (some writers leave ``.zgroup`` out). Unreadable JSON raises ``OSError`` or ``ValueError``.
    """
    found = _read_group(Path(path))
    return None if found is None else found[1]


def _v04_version(attrs: dict) -> str | None:
    """The version NGFF 0.4 metadata gives inside its blocks, or ``None``."""
    for key in ("plate", "well", "image-label"):
        if isinstance(attrs.get(key), dict) and "version" in attrs[key]:
            return str(attrs[key]["version"])
    multiscales = attrs.get("multiscales")
    if isinstance(multiscales, list) and multiscales and isinstance(multiscales[0], dict):
        return str(multiscales[0].get("version", "0.4"))
    if "labels" in attrs:
        return "0.4"
    return None


def unwrap(attrs: dict) -> tuple[dict, str | None]:
    """The NGFF body of a group's attributes and its version (``None`` if not NGFF).

    The version of 0.4 metadata is looked up in the places 0.4 puts it.
    """
    if isinstance(attrs.get("ome"), dict):
        ome = attrs["ome"]
        return ome, str(ome.get("version", "0.5"))
    return attrs, _v04_version(attrs)


class NgffGroup(NamedTuple):
    """A Zarr group's NGFF metadata, as ``read_ngff`` finds it."""

    body: dict
    """The NGFF keys (``plate``, ``well``, ``multiscales``, ``omero``, ...)."""
    version: str
    """``"0.5"`` for a Zarr v3 group, else the 0.4 version its blocks give (``"0.4"``)."""
    attributes: dict
    """All the group's attributes (other tools' keys and ours beside ``ome``)."""


def read_ngff(path: str | Path) -> NgffGroup | None:
    """The NGFF metadata of the Zarr group at ``path``, ``None`` if it is no group.

    A Zarr v3 group keeps NGFF under ``attributes.ome`` (``{}`` when absent); a v2 group at the
    top level of ``.zattrs``, with the version ``"0.4"`` unless its blocks say otherwise.
    Unreadable JSON raises ``OSError`` or ``ValueError``.
    """
    found = _read_group(Path(path))
    if found is None:
        return None
    fmt, attrs = found
    if fmt == 3:
        ome = attrs.get("ome")
        body = dict(ome) if isinstance(ome, dict) else {}
        return NgffGroup(body, str(body.get("version", "0.5")), attrs)
    return NgffGroup(attrs, _v04_version(attrs) or "0.4", attrs)


class ArrayMeta(NamedTuple):
    """A Zarr array's metadata document, as ``read_array_meta`` finds it."""

    zarr_format: int
    shape: tuple[int, ...]
    dtype: np.dtype
    doc: dict
    """The whole metadata document (``zarr.json`` or ``.zarray``)."""


def read_array_meta(path: str | Path) -> ArrayMeta | None:
    """The metadata of the Zarr array at ``path`` (v3 or v2), ``None`` if there is none.

    Unreadable or incomplete metadata raises ``OSError``, ``ValueError``, ``KeyError`` or
    ``TypeError`` (a data type numpy does not know).
    """
    path = Path(path)
    if (path / V3_FILE).is_file():
        doc = _read_json(path / V3_FILE)
        if doc.get("node_type") != "array":
            return None
        dtype = np.dtype(doc["data_type"])
        return ArrayMeta(3, tuple(int(n) for n in doc["shape"]), dtype, doc)
    if (path / V2_ARRAY).is_file():
        doc = _read_json(path / V2_ARRAY)
        return ArrayMeta(2, tuple(int(n) for n in doc["shape"]), np.dtype(doc["dtype"]), doc)
    return None


def metadata_stamp(path: str | Path) -> tuple[str, int] | None:
    """``(file name, modification time in ns)`` of a node's metadata file, ``None`` if none.

    Caches key on it, so a node rewritten in place is read afresh."""
    for name in (V3_FILE, V2_ARRAY, V2_ATTRS):
        try:
            return name, os.stat(os.path.join(path, name)).st_mtime_ns
        except OSError:
            continue
    return None


def image_metadata(path: str | Path) -> dict:
    """Axes, scale, units, levels, channel info and NGFF version of an OME-Zarr image group.

    Returns
    -------
    dict
        ``ngff``, ``name``, ``axes`` (e.g. ``"tczyx"``), ``scale`` (level 0, per axis),
        ``units`` (axis -> unit), ``levels``, ``paths`` (the level arrays),
        ``channel_names``, ``channel_colors``, ``contrast_limits``, ``kind``
        (``"image"`` or ``"labels"``).

    Raises
    ------
    InputError
        If ``path`` is not an OME-Zarr image (no ``multiscales``).
    """
    path = Path(path)
    body, version = unwrap(read_group_attrs(path) or {})
    multiscales = body.get("multiscales")
    if not multiscales or version is None:
        raise InputError(f"{path}: not an OME-Zarr image (no multiscales metadata)")
    ms = multiscales[0]
    axes = "".join(a["name"] if isinstance(a, dict) else str(a) for a in ms["axes"])
    units = {a["name"]: a.get("unit") for a in ms["axes"] if isinstance(a, dict) and a.get("unit")}
    dataset = ms["datasets"][0]
    scale = [1.0] * len(axes)
    for transforms in (
        dataset.get("coordinateTransformations", []),
        ms.get("coordinateTransformations", []),
    ):
        for tr in transforms:
            if tr.get("type") == "scale":
                scale = [s * float(v) for s, v in zip(scale, tr["scale"], strict=True)]
    channels = body.get("omero", {}).get("channels", [])
    return {
        "ngff": version,
        "name": ms.get("name"),
        "axes": axes,
        "scale": scale,
        "units": units,
        "levels": len(ms["datasets"]),
        "paths": [d["path"] for d in ms["datasets"]],
        "channel_names": [str(ch.get("label", f"ch{i + 1}")) for i, ch in enumerate(channels)],
        "channel_colors": [str(ch.get("color", "FFFFFF")) for i, ch in enumerate(channels)],
        "contrast_limits": [
            (ch["window"]["start"], ch["window"]["end"]) for ch in channels if "window" in ch
        ],
        "kind": "labels" if "image-label" in body else "image",
    }
