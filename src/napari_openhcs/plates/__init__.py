"""Microscope plates: handlers that index plate folders, and a synthetic plate generator.

``open_plate(path)`` finds the handler of a plate (ImageXpress, Opera Phenix / Operetta,
OME-Zarr HCS, or a third-party one from the ``napari_openhcs.plates`` entry points) and returns
its ``PlateIndex``; ``read_plane(format, locator)`` reads one plane of it.
"""

from napari_openhcs.plates.base import PlateHandler
from napari_openhcs.plates.discovery import (
    ENTRY_POINT_GROUP,
    fill_plane_info,
    get_handler,
    open_plate,
    plate_handlers,
    read_plane,
    read_planes,
)
from napari_openhcs.plates.index import COMPONENTS, ImageKey, PlateIndex

__all__ = [
    "COMPONENTS",
    "ENTRY_POINT_GROUP",
    "ImageKey",
    "PlateHandler",
    "PlateIndex",
    "fill_plane_info",
    "get_handler",
    "open_plate",
    "plate_handlers",
    "read_plane",
    "read_planes",
]
