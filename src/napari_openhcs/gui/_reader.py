"""The napari reader: plate folders, OME-Zarr plates and our OME-Zarr images.

npe2 offers every folder to every reader that accepts folders, so :func:`get_reader` only
looks at names and small metadata files, and returns ``None`` for anything that is not ours.

A plate opens its first well lazily: one image layer per channel, with axes
``(site, t, z, y, x)`` (every field of the well on the leading ``site`` slider). Each plane
is read from disk only when napari shows it. The plate path, format and well are kept in
``layer.metadata["openhcs"]`` so other wells can be loaded later.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from napari_openhcs.storage import ngff

LayerData = tuple[Any, dict, str]

#: Colours for channels whose plate metadata names none (channel 1 is usually nuclei).
DEFAULT_COLORS = ("blue", "green", "red", "magenta", "cyan", "yellow")

_PLATE_FILES = {"index.xml", "index.idx.xml"}
_HEX = re.compile(r"^#?[0-9a-fA-F]{6}$")


def get_reader(path: str | list[str]):
    """Return a reader for ``path`` if it is a plate or one of our OME-Zarr images, else None.

    Parameters
    ----------
    path : str or list of str
        What napari was asked to open. Lists are accepted only with one entry.

    Returns
    -------
    callable or None
        ``read_openhcs`` for plates and OME-Zarr images; ``None`` for anything else (cheap:
        only names and small metadata files are looked at, never pixels, and nothing raises).
    """
    if isinstance(path, list | tuple):
        if len(path) != 1:
            return None
        path = path[0]
    try:
        kind = sniff(Path(path))
        parent = plate_above(Path(path)) if kind != "image" else None
    except Exception:  # a reader must decline quietly, whatever the folder holds
        return None
    if parent is not None:  # a folder inside a plate (TimePoint_1, ZStep_2): name the plate
        return _inside_plate_reader(parent)
    return read_openhcs if kind is not None else None


def plate_above(path: Path, levels: int = 3) -> Path | None:
    """The plate folder ``path`` lies inside (up to ``levels`` folders up), else None.

    ImageXpress keeps its images in ``TimePoint_1/ZStep_2`` subfolders; opening one of them
    is almost always meant as opening the plate.
    """
    path = Path(path).absolute()
    if not path.is_dir():
        return None
    for parent in list(path.parents)[:levels]:
        if parent == parent.parent:  # the file-system root is never a plate
            break
        if sniff(parent) == "plate":
            return parent
    return None


def inside_plate_message(path: str | Path, parent: Path) -> str:
    return f"{path} is a folder inside the plate {parent}: open {parent} instead."


def _inside_plate_reader(parent: Path):
    def refuse(path):
        from napari_openhcs.errors import PlateError

        if isinstance(path, list | tuple):
            path = path[0]
        raise PlateError(inside_plate_message(path, parent))

    return refuse


def sniff(path: Path) -> str | None:
    """``"plate"``, ``"image"`` or ``None`` for ``path``, by names and metadata alone."""
    if path.is_file():
        if path.suffix.lower() == ".htd" or path.name.lower() in _PLATE_FILES:
            return "plate"
        if path.name in ("zarr.json", ".zattrs", ".zgroup"):
            return sniff(path.parent)
        return None
    if not path.is_dir():
        return None
    attrs = ngff.read_group_attrs(path)
    if attrs is not None:
        body = ngff.unwrap(attrs)[0]
        if "multiscales" in body:
            return "image"
        from napari_openhcs.plates import get_handler

        return "plate" if get_handler("omezarr").sniff(path) else None
    from napari_openhcs.plates import plate_handlers

    for handler in plate_handlers():
        if handler.name != "omezarr" and handler.sniff(path):
            return "plate"
    return None


def read_openhcs(path: str | list[str]) -> list[LayerData]:
    """Read a plate (its first well) or an OME-Zarr image as napari layer data tuples.

    Raises
    ------
    PlateError, InputError
        If ``path`` looks like a plate or image but cannot be read as one.
    """
    if isinstance(path, list | tuple):
        path = path[0]
    path = Path(path)
    if sniff(path) == "image":
        return read_image_layers(path)
    layers = read_plate_layers(path)
    show_plate_dock()
    return layers


def show_plate_dock() -> None:
    """Open (or raise) the Plate dock of the current viewer, so File → Open fills it.

    The dock adopts the plate when napari adds the layers this reader returns; outside a
    napari window (scripts, tests of the reader alone) this does nothing.
    """
    try:
        import napari

        viewer = napari.current_viewer()
        if viewer is not None and getattr(viewer, "window", None) is not None:
            viewer.window.add_plugin_dock_widget("napari-openhcs", "Plate")
    except Exception:  # noqa: BLE001 - the layers still open without the dock
        return


def read_plate_layers(path: str | Path, well: str | None = None) -> list[LayerData]:
    """One well of a plate as lazy image layers, one per channel.

    Parameters
    ----------
    path : str or Path
        The plate (folder, ``.HTD``/``Index.xml`` file, or OME-Zarr plate).
    well : str, optional
        The well to show (``"B03"``); the plate's first well by default.

    Returns
    -------
    list of (data, kwargs, "image")
        ``data`` is a dask array ``(site, t, z, y, x)``; ``kwargs`` hold ``name`` (well,
        first site and channel name: ``"A01 s1 DAPI"``), ``colormap``, ``blending``, ``scale`` (z step and pixel size in
        micrometres where the plate gives them, else 1), ``axis_labels`` and ``metadata``.

    Raises
    ------
    PlateError
        If the plate cannot be indexed or has no such well.
    """
    from napari_openhcs.errors import PlateError
    from napari_openhcs.plates import open_plate

    index = open_plate(path)
    if not index.wells:
        raise PlateError(f"{path}: the plate has no images")
    well = well or index.wells[0]
    if well not in index.wells:
        raise PlateError(f"{path}: well {well} is not in this plate (it has {len(index.wells)})")
    pixel = index.pixel_size or (1.0, 1.0)
    scale = (1.0, 1.0, float(index.z_step or 1.0), float(pixel[0]), float(pixel[1]))
    layers = []
    for i, channel in enumerate(index.channels):
        data = _well_channel_array(index, well, channel)
        name = index.channel_names.get(channel) or f"ch{channel}"
        kwargs = {
            "name": layer_name(well, index.sites[0] if index.sites else 1, name),
            "colormap": _colormap(index.channel_colors.get(channel), i),
            "blending": "additive",
            "scale": scale,
            "axis_labels": ("site", "t", "z", "y", "x"),
            "metadata": {
                "openhcs": {
                    "plate": str(index.root),
                    "format": index.format,
                    "well": well,
                    "wells": list(index.wells),
                    "channel": channel,
                    "channel_name": name,
                    "sites": list(index.sites),
                }
            },
        }
        layers.append((data, kwargs, "image"))
    return layers


def layer_name(well: str, site: int, channel_name: str) -> str:
    """The name of a plate layer: where it is and what it shows (``"A01 s1 DAPI"``)."""
    return f"{well} s{site} {channel_name}"


def plate_layer_meta(layer: Any) -> dict | None:
    """The ``openhcs`` metadata of a raw plate layer (one channel of one well), else None."""
    meta = getattr(layer, "metadata", {}).get("openhcs", {})
    if "plate" in meta and "channel" in meta and "well" in meta:
        return meta
    return None


def _well_channel_array(index, well: str, channel: int):
    """A lazy ``(site, t, z, y, x)`` dask array of one channel of one well."""
    import dask
    import dask.array as da
    import numpy as np

    from napari_openhcs.plates import ImageKey, fill_plane_info, read_plane

    if index.shape is None or index.dtype is None:
        fill_plane_info(index)
    shape, dtype = tuple(index.shape), np.dtype(index.dtype)
    read = dask.delayed(read_plane, pure=True)
    sites = []
    for site in index.sites:
        times = []
        for t in index.timepoints:
            planes = []
            for z in index.z:
                locator = index.images.get(ImageKey(well, site, channel, z, t))
                if locator is None:  # missing in the plate (e.g. autofocus failure): blank
                    planes.append(da.zeros(shape, dtype=dtype))
                else:
                    planes.append(da.from_delayed(read(index.format, locator), shape, dtype))
            times.append(da.stack(planes))
        sites.append(da.stack(times))
    return da.stack(sites)


def _colormap(color: str | None, position: int) -> str:
    if color and _HEX.match(color):
        return "#" + color.lstrip("#")
    if color:
        return color
    return DEFAULT_COLORS[position % len(DEFAULT_COLORS)]


def read_image_layers(path: str | Path) -> list[LayerData]:
    """One of our OME-Zarr images (or label images) as napari layer data tuples.

    An image gives one image layer per channel (``channel_axis``), followed by a labels
    layer per label image under ``labels/``; a label image alone gives one labels layer.
    """
    from napari_openhcs.storage import read_image

    path = Path(path)
    levels, info = read_image(path)
    data = levels if len(levels) > 1 else levels[0]
    axes = info["axes"]
    name = info.get("name") or path.name.removesuffix(".zarr").removesuffix(".ome")
    meta = {"openhcs": {"image": str(path), "axes": axes}}
    if info["kind"] == "labels":
        kwargs = {"name": name, "scale": info["scale"], "axis_labels": tuple(axes)}
        return [(data, {**kwargs, "metadata": meta}, "labels")]
    kwargs: dict = {"metadata": meta}
    if "c" in axes:
        c = axes.index("c")
        n = (levels[0]).shape[c]
        names = info["channel_names"] or [f"ch{i + 1}" for i in range(n)]
        kwargs.update(
            channel_axis=c,
            name=names if n > 1 else names[0],
            colormap=[_colormap(col, i) for i, col in enumerate(info["channel_colors"])] or None,
            scale=[s for a, s in zip(axes, info["scale"], strict=True) if a != "c"],
            axis_labels=tuple(a for a in axes if a != "c"),
        )
        if info["contrast_limits"] and len(info["contrast_limits"]) == n:
            kwargs["contrast_limits"] = [list(cl) for cl in info["contrast_limits"]]
        if kwargs["colormap"] is None:
            del kwargs["colormap"]
    else:
        kwargs.update(name=name, scale=info["scale"], axis_labels=tuple(axes))
    layers: list[LayerData] = [(data, kwargs, "image")]
    for label_name in info.get("labels", []):
        label_levels, label_info = read_image(path / "labels" / label_name)
        label_data = label_levels if len(label_levels) > 1 else label_levels[0]
        label_axes = label_info["axes"]
        label_scale = list(label_info["scale"])
        if "c" in label_axes:  # a channel axis of length 1: not a napari dimension
            c = label_axes.index("c")
            index = tuple(0 if i == c else slice(None) for i in range(len(label_axes)))
            if isinstance(label_data, list):
                label_data = [level[index] for level in label_data]
            else:
                label_data = label_data[index]
            label_scale.pop(c)
            label_axes = label_axes.replace("c", "")
        layers.append(
            (
                label_data,
                {
                    "name": label_name,
                    "scale": label_scale,
                    "axis_labels": tuple(label_axes),
                    "metadata": {"openhcs": {"image": str(path), "labels": label_name}},
                },
                "labels",
            )
        )
    return layers
