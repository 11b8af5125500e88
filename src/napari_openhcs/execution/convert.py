"""Converting a plate to an OME-Zarr HCS plate, well by well, resuming an interrupted run.

Each well is read, checked (every plane present, one shape and dtype) and written field by
field; a well that fails is reported with the file at fault and left out of the plate, the
others are converted. Wells already finished in an existing output are skipped, so an
interrupted conversion resumes where it stopped. Progress is reported with the same events
as a run (``run_started``, ``unit_done``, ``unit_failed``; one unit is one well), so one
progress bar serves both.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from napari_openhcs import plates
from napari_openhcs.errors import InputError, PlateError
from napari_openhcs.plates.index import ImageKey, PlateIndex
from napari_openhcs.storage.ngff import read_group_attrs
from napari_openhcs.storage.omezarr import OmeZarrPlateWriter


class WellReadError(Exception):
    """A well that cannot be converted; the message names the file at fault."""


def read_site(plate: PlateIndex, well: str, site: int, reference: dict) -> np.ndarray:
    """All planes of one site as a ``(t, c, z, y, x)`` array, checked plane by plane.

    ``reference`` holds the first plane's file, shape and dtype for the whole well; it is
    filled on the first call.

    Raises
    ------
    WellReadError
        For a missing plane, an unreadable file, or a plane whose shape or dtype differs.
    """
    t_values, c_values, z_values = plate.timepoints, plate.channels, plate.z
    out = None
    for ti, t in enumerate(t_values):
        for ci, c in enumerate(c_values):
            for zi, z in enumerate(z_values):
                key = ImageKey(well, site, c, z, t)
                locator = plate.images.get(key)
                if locator is None:
                    raise WellReadError(
                        f"well {well}: no image for site {site} channel {c} z {z} "
                        f"timepoint {t} (missing file)"
                    )
                try:
                    # looked up on the package at call time: tests replace it there
                    plane = np.asarray(plates.read_plane(plate.format, locator))
                except PlateError as exc:
                    raise WellReadError(f"well {well}: {exc}") from exc
                except Exception as exc:  # a handler's reader may raise anything on bad files
                    raise WellReadError(f"well {well}: {locator}: cannot read ({exc})") from exc
                if plane.ndim != 2:
                    raise WellReadError(
                        f"well {well}: {locator} holds an array of shape {plane.shape}, "
                        "not one 2-D plane"
                    )
                if not reference:
                    reference.update(file=locator, shape=plane.shape, dtype=plane.dtype)
                if plane.shape != reference["shape"] or plane.dtype != reference["dtype"]:
                    raise WellReadError(
                        f"well {well}: {locator} is {plane.shape[0]}x{plane.shape[1]} "
                        f"{plane.dtype}, but {reference['file']} is "
                        f"{reference['shape'][0]}x{reference['shape'][1]} {reference['dtype']} "
                        "(one well must have one image shape)"
                    )
                if out is None:
                    shape = (len(t_values), len(c_values), len(z_values), *plane.shape)
                    out = np.empty(shape, dtype=plane.dtype)
                out[ti, ci, zi] = plane
    return out


def output_path(plate: PlateIndex, out: str | Path) -> Path:
    """``<out>/<plate name>.ome.zarr``, checked to be writable without touching the input.

    Raises
    ------
    InputError
        If the output would lie inside the input plate, ``out`` is a file, or the target
        exists and is not a plate this package can resume.
    """
    out = Path(out)
    name = (plate.name or "plate").replace("/", "_").replace("\\", "_")
    name = name.removesuffix(".zarr").removesuffix(".ome") or "plate"
    target = (out / f"{name}.ome.zarr").absolute()
    root = Path(plate.root).absolute()
    if target == root or root in target.parents:
        raise InputError(
            f"--out {out} is inside the input plate {root}; the input plate is never written "
            "to, choose an output folder outside it"
        )
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out} is a file, not a folder")
    if target.exists():
        if not target.is_dir():
            raise InputError(f"{target} exists and is a file")
        # A Zarr group is checked further by the writer (same plate layout, NGFF version).
        if any(target.iterdir()) and _zarr_group_attrs(target) is None:
            raise InputError(f"{target} exists and is not an OME-Zarr plate; choose another --out")
    return target


def _zarr_group_attrs(path: Path) -> dict | None:
    try:
        return read_group_attrs(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: unreadable Zarr metadata ({exc})") from exc


def convert_plate(
    plate: PlateIndex,
    target: Path,
    *,
    ngff: str = "0.5",
    compressor: str = "lz4",
    progress: Callable[[dict], None] | None = None,
    shards: bool = False,
) -> tuple[list[str], dict[str, str], list[str]]:
    """Convert every well of an indexed plate into the OME-Zarr plate ``target``.

    ``progress`` is called with run events: ``run_started``, then ``unit_done`` (with
    ``skipped=True`` for a well already converted) or ``unit_failed`` (with ``error``) per
    well, each with ``well``, ``done`` and ``total``.

    Returns
    -------
    converted : list of str
        Wells written by this call.
    failed : dict of str to str
        Well -> the reason (naming the file at fault).
    skipped : list of str
        Wells already finished in ``target`` (resumed).
    """
    writer = OmeZarrPlateWriter(
        target,
        plate.rows,
        plate.columns,
        name=plate.name,
        ngff=ngff,
        compressor=compressor,
        shards=shards,
    )
    done = set(writer.finished_wells())
    names = [plate.channel_names.get(c, f"channel {c}") for c in plate.channels]
    colors = [plate.channel_colors.get(c) for c in plate.channels]
    converted, failed, skipped = [], {}, []
    total = len(plate.wells)

    def emit(kind: str, **event) -> None:
        if progress is not None:
            done_count = len(converted) + len(failed) + len(skipped)
            progress({"kind": kind, "done": done_count, "total": total, **event})

    emit("run_started")
    for well in plate.wells:
        if well in done:
            skipped.append(well)
            emit("unit_done", well=well, skipped=True)
            continue
        reference: dict = {}
        sites = plate.sites
        try:
            for site in sites:
                image = read_site(plate, well, site, reference)
                writer.write_field(
                    well,
                    site - 1,
                    image,
                    channel_names=names,
                    channel_colors=colors,
                    pixel_size=plate.pixel_size,
                    z_step=plate.z_step,
                )
            writer.finish_well(well, [s - 1 for s in sites])
            converted.append(well)
            emit("unit_done", well=well)
        except WellReadError as exc:
            failed[well] = str(exc)
            emit("unit_failed", well=well, error=str(exc))
    return converted, failed, skipped
