"""The napari writer: image and labels layers to OME-Zarr images.

npe2 calls each writer as ``writer(path, data, attributes) -> list[str]``. Axes come from the
layer's ``axis_labels`` when they are OME-NGFF names (``t``, ``c``, ``z``, ``y``, ``x``),
otherwise from the number of dimensions (``yx``, ``zyx``, ``tzyx``, ``tczyx``); a length-1
axis with another name (a plate's ``site`` slider with one site) is dropped.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from napari_openhcs.errors import InputError

_NGFF_AXES = "tczyx"
_BY_NDIM = {2: "yx", 3: "zyx", 4: "tzyx", 5: "tczyx"}


def write_image(path: str, data: Any, attributes: dict) -> list[str]:
    """Write an image layer as an OME-Zarr image at ``path`` (a ``.zarr`` folder).

    Parameters
    ----------
    path : str
        Where to write (``.zarr`` is added when missing).
    data : array or list of arrays
        The layer data (a multiscale layer's full-resolution level is written).
    attributes : dict
        The layer's state (``name``, ``scale``, ``axis_labels``, ``colormap``, ``rgb``...).

    Returns
    -------
    list of str
        The written path.

    Raises
    ------
    InputError
        If the layer's axes cannot be written as OME-Zarr (more than 5, or a named extra
        axis longer than 1) or ``path`` exists.
    """
    import numpy as np

    from napari_openhcs.storage import write_image as store_image

    path = _zarr_path(path)
    array = np.asarray(data[0] if isinstance(data, list) else data)
    scale = list(attributes.get("scale") or [1.0] * array.ndim)
    if attributes.get("rgb"):  # (..., y, x, rgb) -> (c, ..., y, x)
        array = np.moveaxis(array, -1, 0)
        axes = "c" + _axes(array.ndim - 1, attributes.get("axis_labels"))
        scale = [1.0, *scale[: array.ndim - 1]]
        names = ["red", "green", "blue", "alpha"][: array.shape[0]]
        colors = ["FF0000", "00FF00", "0000FF", "FFFFFF"][: array.shape[0]]
    else:
        array, axes, scale = _ngff_axes(array, attributes.get("axis_labels"), scale)
        if "c" not in axes and len(axes) < 5:  # a length-1 channel keeps the layer's name
            at = 1 if axes.startswith("t") else 0
            array = np.expand_dims(array, at)
            axes = axes[:at] + "c" + axes[at:]
            scale.insert(at, 1.0)
        names = colors = None
        if "c" in axes and array.shape[axes.index("c")] == 1:
            names = [str(attributes.get("name") or "image")]
            colors = [_hex_color(attributes.get("colormap"))]
    store_image(
        path,
        array,
        axes=axes,
        scale=scale,
        channel_names=names,
        channel_colors=colors,
        spatial_unit="micrometer",
    )
    return [str(path)]


def write_labels(path: str, data: Any, attributes: dict) -> list[str]:
    """Write a labels layer as an OME-Zarr label image at ``path``.

    When ``path`` is an existing OME-Zarr image, the labels are added to it under
    ``labels/<layer name>``; otherwise a new label image is written at ``path``.

    Returns
    -------
    list of str
        The written path (the image the labels were added to, or the new label image).
    """
    import numpy as np

    from napari_openhcs.atomic import new_tmp_dir, swap_into_place
    from napari_openhcs.storage import write_labels as add_labels
    from napari_openhcs.storage.images import write_label_images
    from napari_openhcs.storage.ngff import image_metadata

    array = np.asarray(data[0] if isinstance(data, list) else data)
    label_name = _label_name(attributes.get("name"))
    target = Path(path)
    if target.is_dir():
        try:
            image_metadata(target)
        except InputError:
            raise InputError(
                f"{target} exists and is not an OME-Zarr image (choose a new name)"
            ) from None
        add_labels(target, {label_name: array})
        return [str(target)]
    target = _zarr_path(path)
    array, axes, scale = _ngff_axes(
        array, attributes.get("axis_labels"), list(attributes.get("scale") or [1] * array.ndim)
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_tmp_dir(target.parent, target.name)
    try:
        write_label_images(
            tmp,
            {label_name: array},
            image_axes=axes,
            scale=scale,
            ngff="0.5",
            compressor="lz4",
            levels=1,
            spatial_unit="micrometer",
        )
        swap_into_place(tmp / "labels" / label_name, target)
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return [str(target)]


def _zarr_path(path: str) -> Path:
    target = Path(path)
    if not target.name.endswith(".zarr"):
        target = target.with_name(target.name + ".zarr")
    if target.exists():
        raise InputError(f"{target} already exists (choose another name)")
    return target


def _label_name(name: Any) -> str:
    text = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name or "labels"))
    return text.strip("._") or "labels"


def _axes(ndim: int, labels: Any) -> str:
    if labels and len(labels) == ndim:
        names = "".join(str(a) for a in labels)
        if len(names) == ndim and set(names) <= set(_NGFF_AXES) and len(set(names)) == ndim:
            return names
    if ndim not in _BY_NDIM:
        raise InputError(f"a layer with {ndim} dimensions cannot be saved as OME-Zarr (2 to 5)")
    return _BY_NDIM[ndim]


def _ngff_axes(array, labels: Any, scale: list) -> tuple[Any, str, list]:
    """Drop length-1 axes whose names are not OME-NGFF ones, then name the rest."""
    if labels and len(labels) == array.ndim:
        keep = [i for i, a in enumerate(labels) if not _named_other(a) or array.shape[i] != 1]
        extra = [str(labels[i]) for i in keep if _named_other(labels[i])]
        if extra:
            raise InputError(
                f"axis {extra[0]!r} has no OME-Zarr equivalent; keep one position of it "
                "(e.g. one site) before saving"
            )
        if len(keep) != array.ndim:
            index = tuple(slice(None) if i in keep else 0 for i in range(array.ndim))
            array = array[index]
            labels = [labels[i] for i in keep]
            scale = [scale[i] for i in keep]
    axes = _axes(array.ndim, labels)
    # NGFF wants t, c, z, y, x order
    order = sorted(range(len(axes)), key=lambda i: _NGFF_AXES.index(axes[i]))
    if order != list(range(len(axes))):
        import numpy as np

        array = np.transpose(array, order)
        axes = "".join(axes[i] for i in order)
        scale = [scale[i] for i in order]
    return array, axes, [float(s) for s in scale]


def _named_other(label: Any) -> bool:
    """Whether an axis label is a real name (not napari's default ``"-1"``) outside NGFF's."""
    text = str(label)
    return text not in _NGFF_AXES and not text.lstrip("-").isdigit()


def _hex_color(colormap: Any) -> str | None:
    """The brightest colour of a napari colormap as ``RRGGBB``, if it can be found."""
    colors = None
    if isinstance(colormap, dict):
        colors = colormap.get("colors")
    elif colormap is not None and hasattr(colormap, "colors"):
        colors = colormap.colors
    if colors is None or len(colors) == 0:
        return None
    r, g, b = (max(0, min(255, round(float(v) * 255))) for v in list(colors[-1])[:3])
    return f"{r:02X}{g:02X}{b:02X}"
