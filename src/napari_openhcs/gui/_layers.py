"""Adding or updating layers by name (main thread only)."""

from __future__ import annotations

from typing import Any


def set_layer(viewer: Any, name: str, data: Any, kind: str = "image", **kwargs: Any) -> Any:
    """Set ``data`` on the layer ``name`` in place, or add it when absent or of another kind.

    An image layer whose data changes shape is updated in place too (napari accepts it); its
    contrast limits are reset to the new data's range.
    """
    import numpy as np

    layer = viewer.layers[name] if name in viewer.layers else None  # noqa: SIM401
    if layer is not None and layer._type_string != kind:
        viewer.layers.remove(layer)
        layer = None
    if kind == "labels":
        data = np.asarray(data)
        if data.dtype.kind not in "iu":
            data = data.astype(np.int32)
    if layer is None:
        add = viewer.add_labels if kind == "labels" else viewer.add_image
        return add(data, name=name, **kwargs)
    layer.data = data
    if kind == "image":
        layer.reset_contrast_limits()
    return layer


def show_output_well(viewer: Any, out_dir: Any, well: str, index: Any) -> list:
    """Show ``well`` of a run's output plate with the raw layers' axes ``(site, t, z, y, x)``.

    Every field of the well lands on the site slider (field ``i`` is the plate's ``i``-th
    site), and an output with one plane (a projection, its labels) is repeated lazily along
    ``t``/``z`` so it shows whatever plane the sliders are on. Output layers are named
    ``"output: A01 ..."``; those of the previously shown well are removed.

    Parameters
    ----------
    viewer : napari.Viewer
    out_dir : str or Path
        The run folder (holding ``<plate>.ome.zarr``).
    well : str
    index : PlateIndex
        The raw plate (its sites, timepoints, z planes, z step and pixel size).

    Raises
    ------
    InputError
        If the well was not written (failed or not run).
    """
    from pathlib import Path

    from napari_openhcs.errors import InputError
    from napari_openhcs.gui._launch import OUTPUT_PREFIX, output_plate
    from napari_openhcs.gui._reader import read_image_layers
    from napari_openhcs.plates.omezarr import read_plate

    plate = output_plate(out_dir)
    info = read_plate(plate)
    if well not in info["wells"]:
        raise InputError(f"{plate}: well {well} was not written (failed or not run)")
    well_dir = Path(plate) / info["wells"][well]
    fields = sorted((p for p in well_dir.iterdir() if p.is_dir() and p.name.isdigit()), key=_num)
    n = (len(index.sites) or 1, len(index.timepoints) or 1, len(index.z) or 1)
    # one entry per output layer: name, kind, kwargs, and its (t, z, y, x) array per field
    found: dict[str, tuple[str, dict, dict[int, Any]]] = {}
    for field in fields:
        for data, kwargs, kind in read_image_layers(field):
            for name, array, extra in _split_channels(data, kwargs):
                entry = found.setdefault(name, (kind, extra, {}))
                entry[2][int(field.name)] = _tzyx(array, kwargs["axis_labels"], n[1:])
    for layer in [x for x in viewer.layers if x.name.startswith(OUTPUT_PREFIX)]:
        viewer.layers.remove(layer)
    z_step = float(index.z_step or 1.0)
    added = []
    for name, (kind, extra, per_field) in found.items():
        data, yx_scale = _stack_sites(per_field, n[0])
        kwargs = {
            **extra,
            "name": f"{OUTPUT_PREFIX}{well} {name}",
            "scale": (1.0, 1.0, z_step, *yx_scale),
            "axis_labels": ("site", "t", "z", "y", "x"),
            "metadata": {"openhcs": {"output": str(plate), "output_well": well}},
        }
        add = viewer.add_labels if kind == "labels" else viewer.add_image
        added.append(add(data, **kwargs))
    return added


def _num(path) -> int:
    return int(path.name)


def _split_channels(data: Any, kwargs: dict):
    """(name, array, kwargs for napari) per channel of one layer tuple from the reader."""
    if isinstance(data, list):  # a pyramid: the full-resolution level
        data = data[0]
    scale = tuple(kwargs.get("scale") or ())
    axis = kwargs.get("channel_axis")
    if axis is None:
        yield kwargs["name"], (data, scale), {}
        return
    names = kwargs["name"] if isinstance(kwargs["name"], list) else [kwargs["name"]]
    colormaps = kwargs.get("colormap") or [None] * len(names)
    for c, name in enumerate(names):
        extra = {"blending": "additive"}
        if colormaps[c]:
            extra["colormap"] = colormaps[c]
        index = tuple(c if i == axis else slice(None) for i in range(data.ndim))
        yield name, (data[index], scale), extra


def _tzyx(array_scale: tuple, labels: tuple, n_tz: tuple[int, int]):
    """An output array as ``(t, z, y, x)``, one-plane axes repeated to the raw counts."""
    import dask.array as da

    array, scale = array_scale
    array = da.asarray(array)
    labels = tuple(labels)[-array.ndim :]
    for axis in ("z", "t"):  # missing axes become length 1
        if axis not in labels:
            array = array[None]
            labels = (axis, *labels)
    array = array[tuple(0 if a not in ("t", "z", "y", "x") else slice(None) for a in labels)]
    shape = list(array.shape)
    for k, count in enumerate(n_tz):
        if shape[k] == 1 and count > 1:
            shape[k] = count
    return da.broadcast_to(array, tuple(shape)), tuple(scale[-2:]) if scale else (1.0, 1.0)


def _stack_sites(per_field: dict[int, tuple], n_sites: int):
    """Fields stacked on a site axis (a site without output is blank)."""
    import dask.array as da

    first, yx_scale = next(iter(per_field.values()))
    planes = [
        per_field[i][0] if i in per_field else da.zeros(first.shape, first.dtype)
        for i in range(max(n_sites, max(per_field) + 1))
    ]
    return da.stack(planes), yx_scale
