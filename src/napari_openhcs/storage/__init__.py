"""Storage: backends for arrays (memory, disk TIFF, Zarr) and OME-Zarr images and HCS plates.

Outputs are written atomically: a field into a temporary folder renamed into place, a well
listed in its plate only once finished, metadata files replaced whole. zarr and dask are
imported only when used.
"""

from napari_openhcs.storage.backends import (
    DiskBackend,
    MemoryBackend,
    StorageBackend,
    ZarrBackend,
    get_backend,
)
from napari_openhcs.storage.checks import check_plate
from napari_openhcs.storage.images import read_image, write_image, write_labels
from napari_openhcs.storage.omezarr import (
    OmeZarrPlateWriter,
    read_plate,
    read_plate_well,
)

__all__ = [
    "DiskBackend",
    "MemoryBackend",
    "OmeZarrPlateWriter",
    "StorageBackend",
    "ZarrBackend",
    "check_plate",
    "get_backend",
    "read_image",
    "read_plate",
    "read_plate_well",
    "write_image",
    "write_labels",
]
