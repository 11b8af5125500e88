"""Storage: OME-Zarr images and HCS plates written atomically, NGFF metadata, Zarr arrays.

Outputs are written atomically: a field into a temporary folder renamed into place, a well
listed in its plate only once finished, metadata files replaced whole (``napari_openhcs.atomic``).
NGFF version differences live in ``storage.ngff``; arrays are opened through
``storage.zarrio.open_array``. Plates are read by the plate layer (``plates.omezarr``), which
sits above storage. zarr and dask are imported only when used.
"""

from napari_openhcs.storage.checks import check_plate
from napari_openhcs.storage.images import read_image, write_image, write_labels
from napari_openhcs.storage.omezarr import OmeZarrPlateWriter

__all__ = [
    "OmeZarrPlateWriter",
    "check_plate",
    "read_image",
    "write_image",
    "write_labels",
]
