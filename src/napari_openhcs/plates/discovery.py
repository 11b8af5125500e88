"""Finding the handler of a plate: built-in handlers first, then third-party ones.

Third-party packages add a microscope by registering a ``PlateHandler`` subclass (or instance)
under the entry-point group ``napari_openhcs.plates``::

    [project.entry-points."napari_openhcs.plates"]
    mymicroscope = "my_package.plates:MyMicroscopeHandler"

Entry points are loaded once per process; a handler that fails to load is skipped with one
log line naming it.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from napari_openhcs.errors import PlateError
from napari_openhcs.plates.base import PlateHandler
from napari_openhcs.plates.imagexpress import ImageXpressHandler
from napari_openhcs.plates.index import PlateIndex
from napari_openhcs.plates.omezarr import OmeZarrHandler
from napari_openhcs.plates.operaphenix import OperaPhenixHandler

logger = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "napari_openhcs.plates"
# Files a user may point at instead of the plate folder that holds them.
_PLATE_FILES = ("index.xml", "index.idx.xml", "zarr.json", ".zattrs", ".zgroup")


def _builtin_handlers() -> list[PlateHandler]:
    # Most specific first: zarr metadata, then a Harmony index, then ImageXpress names.
    return [OmeZarrHandler(), OperaPhenixHandler(), ImageXpressHandler()]


@functools.cache
def plate_handlers() -> tuple[PlateHandler, ...]:
    """Every registered handler, built-ins first, then entry points sorted by name."""
    from importlib.metadata import entry_points

    handlers = _builtin_handlers()
    names = {h.name for h in handlers}
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        try:
            obj = ep.load()
            handler = obj() if isinstance(obj, type) else obj
            if not isinstance(handler, PlateHandler) or not handler.name:
                raise TypeError("not a PlateHandler with a name")
        except Exception as exc:  # a broken plugin must not break plate opening
            logger.warning("plate handler %r (%s) skipped: %s", ep.name, ep.value, exc)
            continue
        if handler.name in names:
            logger.warning("plate handler %r skipped: format %r exists", ep.name, handler.name)
            continue
        names.add(handler.name)
        handlers.append(handler)
    return tuple(handlers)


def get_handler(name: str) -> PlateHandler:
    """The handler of a format name (``PlateIndex.format``).

    Raises
    ------
    PlateError
        If no handler of that name is registered.
    """
    for handler in plate_handlers():
        if handler.name == name:
            return handler
    known = ", ".join(h.name for h in plate_handlers())
    raise PlateError(f"no plate handler named {name!r} (known: {known})")


def read_plane(format: str, locator: str) -> np.ndarray:
    """Read one 2-D plane of a plate, given the plate's format name and the plane's locator.

    This is what a worker calls: it needs no index, only what a work unit carries.
    """
    return get_handler(format).read(locator)


#: Planes read at once by ``read_planes``: the reads wait on the disk (or network) far more
#: than on the CPU, so a few in flight overlap their latency even on 2 cores.
READ_THREADS = 4


def read_planes(format: str, locators, threads: int = READ_THREADS) -> list[np.ndarray]:
    """Read several planes of a plate concurrently; the result is in the order given.

    A unit's planes are separate files (or chunks); reading them a few at a time overlaps
    the storage's latency, which matters on cold disks and network file systems. A reading
    error of any plane is raised, as ``read_plane`` raises it.
    """
    locators = list(locators)
    handler = get_handler(format)
    if threads <= 1 or len(locators) <= 1:
        return [handler.read(loc) for loc in locators]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(threads, len(locators)), thread_name_prefix="openhcs-read") as ex:
        return list(ex.map(handler.read, locators))


def fill_plane_info(index: PlateIndex) -> PlateIndex:
    """Fill ``shape``, ``dtype`` (and a missing ``pixel_size``) from the first image, in place.

    Only that image's header is read.
    """
    handler = get_handler(index.format)
    first = next(iter(index.images.values()))
    if index.shape is None or index.dtype is None:
        index.shape, index.dtype = handler.plane_info(first)
    if index.pixel_size is None:
        index.pixel_size = handler.pixel_size(first)
    return index


def _plate_folder(path: Path) -> Path:
    if path.is_file() and (path.suffix.lower() == ".htd" or path.name.lower() in _PLATE_FILES):
        folder = path.parent
        return folder.parent if folder.name == "Images" else folder
    return path


def open_plate(path: str | Path, *, plane_info: bool = True) -> PlateIndex:
    """Index a plate folder or OME-Zarr plate, whatever its format.

    Parameters
    ----------
    path : str or Path
        The plate folder (or its ``.HTD`` / ``Index.xml`` / ``zarr.json`` file).
    plane_info : bool
        Read one image's header to fill ``shape`` and ``dtype`` (the only file opened).

    Returns
    -------
    PlateIndex

    Raises
    ------
    PlateError
        If the path does not exist, no handler recognises it, or its handler cannot index it.

    Examples
    --------
    >>> from napari_openhcs.plates.synthetic import write_plate
    >>> import tempfile, pathlib
    >>> plate = write_plate(pathlib.Path(tempfile.mkdtemp()) / "p", wells=["A01"], size=64)
    >>> open_plate(plate).wells
    ['A01']
    """
    path = Path(path)
    if not path.exists():
        raise PlateError(f"{path}: no such file or folder")
    path = _plate_folder(path)
    if not path.is_dir():
        raise PlateError(f"{path}: not a plate folder (give the folder that holds the images)")
    for handler in plate_handlers():
        if handler.sniff(path):
            index = handler.index(path)
            return fill_plane_info(index) if plane_info else index
    formats = ", ".join(h.name for h in plate_handlers())
    raise PlateError(
        f"{path}: not a plate layout napari-openhcs knows (formats: {formats}); no .HTD, "
        "Index.xml, OME-Zarr plate metadata or microscope image names found"
    )
