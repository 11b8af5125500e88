"""OME-Zarr HCS plates (OME-NGFF 0.4 ``.zattrs`` and 0.5 ``zarr.json`` with an ``ome`` key):
the package's one OME-Zarr plate reader.

Indexing reads only the JSON metadata, through ``storage.ngff`` (which knows where each NGFF
version keeps it): plate (rows, columns, wells), each well's fields, each field's multiscales
(level 0 array's shape and dtype, axes, pixel size) and omero channels. Site ``n`` is the
well's ``n``-th field (field path ``n-1`` in plates this package writes). Locators are
``"<field path>#t,c,z"`` with 0-based array indices (0 for an absent axis). Planes are read
through ``storage.zarrio.open_array``.

``read_plate`` and ``read_plate_well`` read a plate as the writer
(``storage.omezarr.OmeZarrPlateWriter``) leaves it: its finished wells, and one well's fields
as lazy arrays with their metadata.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np

from napari_openhcs.errors import InputError, PlateError
from napari_openhcs.plates.base import PlateHandler, assemble_index
from napari_openhcs.plates.index import ImageKey, PlateIndex
from napari_openhcs.storage import ngff
from napari_openhcs.storage.images import read_image
from napari_openhcs.storage.omezarr import OWN_KEY
from napari_openhcs.storage.zarrio import open_array
from napari_openhcs.wells import parse_well, well_name

_ROW_NAME = re.compile(r"^[A-Z]{1,2}$")


def read_ome_attrs(path: Path) -> tuple[dict, str] | None:
    """The OME attributes of a Zarr group and the NGFF version, or ``None`` if not a group.

    The attributes are the NGFF body (``storage.ngff.read_ngff``) with the plate writer's own
    key (``storage.omezarr.OWN_KEY``) beside them when the group has it.
    """
    try:
        found = ngff.read_ngff(path)
    except (OSError, ValueError) as exc:
        raise PlateError(f"{path}: unreadable Zarr metadata ({exc})") from exc
    if found is None:
        return None
    body = found.body
    if OWN_KEY in found.attributes and OWN_KEY not in body:
        body = {**body, OWN_KEY: found.attributes[OWN_KEY]}
    return body, found.version


def _array_info(path: Path) -> tuple[list[int], str] | None:
    """Shape and dtype of a Zarr array from its metadata file (v3 or v2)."""
    try:
        found = ngff.read_array_meta(path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PlateError(f"{path}: unreadable Zarr array metadata ({exc})") from exc
    return None if found is None else (list(found.shape), found.dtype.name)


def _axis_names(multiscale: dict, ndim: int) -> list[str]:
    """Axis names as ``t``, ``c``, ``z``, ``y``, ``x``, from names or, failing that, types."""
    axes = multiscale.get("axes")
    if not axes:
        return list("tczyx")[-ndim:]  # NGFF 0.3 and earlier: implicit tczyx
    axes = [a if isinstance(a, dict) else {"name": str(a)} for a in axes]
    spatial = [i for i, a in enumerate(axes) if a.get("type") == "space"]
    by_type = {"time": "t", "channel": "c"}
    names = []
    for i, a in enumerate(axes):
        name = str(a.get("name", ""))
        if name in ("t", "c", "z", "y", "x"):
            names.append(name)
        elif a.get("type") in by_type:
            names.append(by_type[a["type"]])
        elif i in spatial and len(spatial) - spatial.index(i) <= 3:
            # the last spatial axes are y and x, the one before them z
            names.append("zyx"[spatial.index(i) - len(spatial)])
        else:
            names.append(name)
    return names


def _well_name(plate: dict, well: dict) -> str | None:
    rows, cols = plate.get("rows", []), plate.get("columns", [])
    r, c = well.get("rowIndex"), well.get("columnIndex")
    parts = str(well.get("path", "")).split("/")
    if r is None and len(parts) == 2:
        names = [x.get("name") for x in rows]
        r = names.index(parts[0]) if parts[0] in names else None
    if c is None and len(parts) == 2:
        names = [x.get("name") for x in cols]
        c = names.index(parts[1]) if parts[1] in names else None
    if r is None or c is None:
        return None
    row_label = str(rows[r]["name"]) if r < len(rows) else ""
    col_label = str(cols[c]["name"]) if c < len(cols) else ""
    if _ROW_NAME.match(row_label) and col_label.isdigit():
        name = f"{row_label}{int(col_label):02d}"
        if parse_well(name):
            return name
    return well_name(r + 1, c + 1)


class OmeZarrHandler(PlateHandler):
    """OME-Zarr HCS plates, NGFF 0.4 and 0.5."""

    name = "omezarr"

    def sniff(self, path: Path) -> bool:
        if not path.is_dir():
            return False
        try:
            found = read_ome_attrs(path)
        except PlateError:
            return (path / ngff.V3_FILE).is_file() or (path / ngff.V2_ATTRS).is_file()
        # a plate this package is still writing has no "plate" key until its first well is done
        return found is not None and ("plate" in found[0] or OWN_KEY in found[0])

    def index(self, path: Path) -> PlateIndex:
        root = Path(path).absolute()
        found = read_ome_attrs(root)
        if found is None:
            raise PlateError(f"{root}: not an OME-Zarr HCS plate (no Zarr group metadata)")
        if "plate" not in found[0]:
            raise PlateError(f"{root}: this OME-Zarr plate holds no images yet (no finished well)")
        attrs, version = found
        plate = attrs["plate"]
        images: dict[ImageKey, str] = {}
        promised_wells: list[str] = []
        channel_names: dict[int, str] = {}
        channel_colors: dict[int, str] = {}
        pixel_size = z_step = shape = dtype = None
        max_fields = 0
        for well in plate.get("wells", []):
            name = _well_name(plate, well)
            if name is None:
                raise PlateError(f"{root}: plate metadata names a well it cannot place: {well}")
            promised_wells.append(name)
            well_attrs = read_ome_attrs(root / well["path"])
            if well_attrs is None:
                continue
            fields = well_attrs[0].get("well", {}).get("images", [])
            max_fields = max(max_fields, len(fields))
            for site, field in enumerate(fields, start=1):
                field_path = root / well["path"] / field["path"]
                image_attrs = read_ome_attrs(field_path)
                if image_attrs is None or not image_attrs[0].get("multiscales"):
                    continue
                multiscale = image_attrs[0]["multiscales"][0]
                dataset = multiscale["datasets"][0]
                info = _array_info(field_path / dataset["path"])
                if info is None:
                    continue
                arr_shape, arr_dtype = info
                axes = _axis_names(multiscale, len(arr_shape))
                sizes = dict(zip(axes, arr_shape, strict=False))
                for t in range(sizes.get("t", 1)):
                    for c in range(sizes.get("c", 1)):
                        for z in range(sizes.get("z", 1)):
                            key = ImageKey(name, site, c + 1, z + 1, t + 1)
                            images[key] = f"{field_path}#{t},{c},{z}"
                if shape is None:
                    shape = (int(sizes.get("y", 1)), int(sizes.get("x", 1)))
                    dtype = arr_dtype
                    scale = _scale(dataset, multiscale, axes)
                    if "y" in scale and "x" in scale:
                        pixel_size = (scale["y"], scale["x"])
                    z_axis = next(
                        (
                            a
                            for a in multiscale.get("axes", [])
                            if isinstance(a, dict) and a.get("name") == "z"
                        ),
                        {},
                    )
                    # a z scale without a unit is a placeholder, not a recorded spacing
                    z_step = (
                        scale.get("z") if sizes.get("z", 1) > 1 and z_axis.get("unit") else None
                    )
                    for i, ch in enumerate(image_attrs[0].get("omero", {}).get("channels", [])):
                        if ch.get("label"):
                            channel_names[i + 1] = str(ch["label"])
                        if ch.get("color"):
                            channel_colors[i + 1] = str(ch["color"])
        if not images:
            raise PlateError(f"{root}: this OME-Zarr plate holds no images yet")
        return assemble_index(
            format=self.name,
            root=root,
            name=str(plate.get("name") or root.name.removesuffix(".zarr").removesuffix(".ome")),
            rows=len(plate.get("rows", [])),
            columns=len(plate.get("columns", [])),
            images=images,
            promised_wells=promised_wells,
            promised={"site": list(range(1, max_fields + 1))},
            grid_source="the plate's rows and columns",
            channel_names=channel_names,
            channel_colors=channel_colors,
            pixel_size=pixel_size,
            z_step=z_step,
            shape=shape,
            dtype=dtype,
            metadata={"ngff_version": version},
        )

    def read(self, locator: str) -> np.ndarray:
        field_path, _, index = locator.rpartition("#")
        try:
            t, c, z = (int(v) for v in index.split(","))
        except ValueError:
            raise PlateError(f"{locator!r} is not an OME-Zarr plane locator") from None
        array, axes = _open_field(field_path)
        wanted = {"t": t, "c": c, "z": z}
        selection = tuple(slice(None) if a in ("y", "x") else wanted.get(a, 0) for a in axes)
        return np.asarray(array[selection])

    def plane_info(self, locator: str) -> tuple[tuple[int, int], str]:
        array, axes = _open_field(locator.rpartition("#")[0])
        sizes = dict(zip(axes, array.shape, strict=False))
        return (int(sizes.get("y", 1)), int(sizes.get("x", 1))), np.dtype(array.dtype).name


def _scale(dataset: dict, multiscale: dict, axes: list[str]) -> dict[str, float]:
    """Per-axis scale of a dataset (its own scale times the multiscale's, when given)."""
    out = dict.fromkeys(axes, 1.0)
    found = False
    for transforms in (
        dataset.get("coordinateTransformations", []),
        multiscale.get("coordinateTransformations", []),
    ):
        for tr in transforms:
            if tr.get("type") == "scale" and len(tr.get("scale", [])) == len(axes):
                found = True
                for a, s in zip(axes, tr["scale"], strict=False):
                    out[a] *= float(s)
    return out if found else {}


def _open_field(field_path: str):
    """Level 0 array of one field and its axis names, opened once per process.

    The cache key includes the metadata file's modification time, so a field rewritten in
    place (a re-run into the same plate) is opened afresh.
    """
    return _open_field_cached(field_path, ngff.metadata_stamp(field_path))


@functools.lru_cache(maxsize=256)
def _open_field_cached(field_path: str, stamp):
    attrs = read_ome_attrs(Path(field_path))
    if attrs is None or not attrs[0].get("multiscales"):
        raise PlateError(f"{field_path}: not an OME-Zarr image (no multiscales metadata)")
    multiscale = attrs[0]["multiscales"][0]
    level0 = f"{field_path}/{multiscale['datasets'][0]['path']}"
    try:
        array = open_array(level0)
    except Exception as exc:  # zarr raises several types for missing or damaged arrays
        raise PlateError(f"{field_path}: cannot open the level 0 array ({exc})") from exc
    return array, _axis_names(multiscale, array.ndim)


def read_plate(path: str | Path) -> dict:
    """Plate metadata of an OME-Zarr plate: ``name``, ``ngff``, ``rows``, ``columns``, ``wells``.

    ``wells`` maps each listed well's name (``"A01"``) to its path (``"A/1"``).

    Raises
    ------
    InputError
        If ``path`` is not an OME-Zarr plate, or lists no well yet.
    """
    path = Path(path)
    found = read_ome_attrs(path)
    plate = found[0].get("plate") if found else None
    if not plate:
        raise InputError(f"{path}: not an OME-Zarr plate (no plate metadata, or no well yet)")
    wells = {}
    for well in plate["wells"]:
        name = _well_name(plate, well)
        if name is None:
            raise PlateError(f"{path}: plate metadata names a well it cannot place: {well}")
        wells[name] = well["path"]
    return {
        "name": plate.get("name"),
        "ngff": found[1],
        "rows": [r["name"] for r in plate["rows"]],
        "columns": [c["name"] for c in plate["columns"]],
        "wells": wells,
    }


def read_plate_well(path: str | Path, well: str) -> list[tuple[list, dict]]:
    """The fields of one well of an OME-Zarr plate, each as ``storage.read_image`` returns it.

    Returns
    -------
    list of (levels, info)
        One entry per field in the well's order; ``info["field"]`` is the field path.

    Raises
    ------
    InputError
        If the plate does not list ``well``.
    """
    path = Path(path)
    plate = read_plate(path)
    if well not in plate["wells"]:
        raise InputError(f"{path}: well {well} is not in this plate (or not finished)")
    well_dir = path / plate["wells"][well]
    found = read_ome_attrs(well_dir)
    out = []
    for image in (found[0] if found else {}).get("well", {}).get("images", []):
        levels, info = read_image(well_dir / image["path"])
        info["field"] = image["path"]
        out.append((levels, info))
    return out
