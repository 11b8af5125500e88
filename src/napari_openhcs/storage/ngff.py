"""OME-NGFF metadata as plain dicts, for NGFF 0.5 (Zarr v3) and 0.4 (Zarr v2).

Everything here is pure: it builds the JSON the spec asks for and never touches a disk.
The two versions differ only in where the metadata lives and where ``version`` goes:

* 0.5: one ``ome`` object in the group's ``zarr.json`` attributes, with ``version: "0.5"``;
* 0.4: the keys at the top level of ``.zattrs``, with ``version: "0.4"`` inside
  ``multiscales[i]``, ``plate``, ``well`` and ``image-label``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from napari_openhcs.errors import InputError

NGFF_VERSIONS = ("0.4", "0.5")
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
    ngff = str(ngff)
    if ngff not in NGFF_VERSIONS:
        raise InputError(f"OME-NGFF version {ngff!r} is not supported (use 0.4 or 0.5)")
    return ngff


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
    if shards and str(ngff) != "0.5":
        raise InputError("sharding (one file per field) needs NGFF 0.5 (Zarr v3)")
    return bool(shards)


def zarr_format(ngff: str) -> int:
    """The Zarr format of an NGFF version: 3 for 0.5, 2 for 0.4."""
    return 3 if check_ngff(ngff) == "0.5" else 2


def wrap(ngff: str, body: dict) -> dict:
    """Group attributes holding ``body`` the way ``ngff`` wants it."""
    if check_ngff(ngff) == "0.5":
        return {"ome": {"version": "0.5", **body}}
    return dict(body)


def unwrap(attrs: dict) -> tuple[dict, str | None]:
    """The NGFF body of a group's attributes and its version (``None`` if not NGFF).

    The version of 0.4 metadata is looked up in the places 0.4 puts it.
    """
    if isinstance(attrs.get("ome"), dict):
        ome = attrs["ome"]
        return ome, str(ome.get("version", "0.5"))
    for key in ("plate", "well", "image-label"):
        if isinstance(attrs.get(key), dict) and "version" in attrs[key]:
            return attrs, str(attrs[key]["version"])
    multiscales = attrs.get("multiscales")
    if isinstance(multiscales, list) and multiscales:
        return attrs, str(multiscales[0].get("version", "0.4"))
    if "labels" in attrs:
        return attrs, "0.4"
    return attrs, None


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
    if check_ngff(ngff) == "0.4":
        entry["version"] = "0.4"
    return [entry]


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
    if check_ngff(ngff) == "0.4":
        body["version"] = "0.4"
    return body


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
    if check_ngff(ngff) == "0.4":
        body["version"] = "0.4"
    return body
