"""Validate an OME-Zarr plate or image with every tool the project promises to work with."""

from __future__ import annotations

import warnings
from pathlib import Path

import zarr

from napari_openhcs.storage import check_plate


def validate_with_yaozarrs(path: Path) -> None:
    """yaozarrs: metadata and structure; its SHOULD-level warnings count as failures too."""
    import yaozarrs

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yaozarrs.validate_zarr_store(str(path))


def validate_with_ome_zarr_models(path: Path, ngff: str, kind: str = "plate") -> None:
    """ome-zarr-models: the HCS (or Image) model of the group, warnings as failures."""
    if ngff == "0.5":
        from ome_zarr_models.v05 import HCS, Image
    else:
        from ome_zarr_models.v04 import HCS, Image
    model = HCS if kind == "plate" else Image
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.from_zarr(zarr.open_group(str(path), mode="r"))


def open_with_ome_zarr_py(path: Path) -> list:
    """ome-zarr-py's reader: the nodes it finds (the first holds the data)."""
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Reader

    location = parse_url(str(path))
    assert location is not None, f"ome-zarr-py does not recognise {path}"
    return list(Reader(location)())


def open_with_napari_ome_zarr(path: Path) -> list:
    """napari-ome-zarr's reader function, called directly (no viewer): layer data tuples."""
    from napari_ome_zarr._reader import napari_get_reader

    reader = napari_get_reader(str(path))
    assert reader is not None, f"napari-ome-zarr offers no reader for {path}"
    return reader(str(path))


def validate_plate(path: Path, ngff: str) -> None:
    """All of the above for a plate, plus our own structural checks."""
    validate_with_yaozarrs(path)
    validate_with_ome_zarr_models(path, ngff)
    assert check_plate(path) == []
    nodes = open_with_ome_zarr_py(path)
    assert nodes and nodes[0].data, "ome-zarr-py read no data"
    layers = open_with_napari_ome_zarr(path)
    assert layers and layers[0][2] == "image"
