"""``napari-openhcs convert PLATE --out DIR``: any plate to an OME-Zarr HCS plate.

The plate is indexed and the output checked before anything is written (bad input: exit 2,
nothing created). Each well is then read, checked (every plane present, one shape and dtype)
and written field by field; a well that fails is reported with the file at fault and left
out of the plate, the others are converted (exit 1). Wells already finished in an existing
output are skipped, so an interrupted conversion resumes where it stopped.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

import numpy as np

from napari_openhcs.errors import InputError, PlateError
from napari_openhcs.plates.index import PlateIndex


class WellReadError(Exception):
    """A well that cannot be converted; the message names the file at fault."""


class ProgressBar:
    """A plain-text progress bar on one line of a stream: ``[####    ] 12/96 wells``."""

    def __init__(self, total: int, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.total, self.width, self.done = total, width, 0
        self.stream = stream if stream is not None else sys.stderr

    def show(self, note: str = "") -> None:
        """Redraw the bar (with an optional note after it)."""
        filled = self.width * self.done // self.total if self.total else self.width
        bar = "#" * filled + " " * (self.width - filled)
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} wells {note}".rstrip() + " ")
        self.stream.flush()

    def step(self, note: str = "") -> None:
        """Count one more well done and redraw."""
        self.done += 1
        self.show(note)

    def message(self, text: str) -> None:
        """Print a line of its own (e.g. a failed well) and redraw the bar below it."""
        self.stream.write("\r" + text + "\n")
        self.show()

    def close(self) -> None:
        """End the bar's line."""
        self.stream.write("\n")
        self.stream.flush()


def read_site(plate: PlateIndex, well: str, site: int, reference: dict) -> np.ndarray:
    """All planes of one site as a ``(t, c, z, y, x)`` array, checked plane by plane.

    ``reference`` holds the first plane's file, shape and dtype for the whole well; it is
    filled on the first call.

    Raises
    ------
    WellReadError
        For a missing plane, an unreadable file, or a plane whose shape or dtype differs.
    """
    from napari_openhcs.plates import ImageKey, read_plane

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
                    plane = np.asarray(read_plane(plate.format, locator))
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
    from napari_openhcs.storage.omezarr import _read_layout

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
        if any(target.iterdir()) and _read_layout(target) is None:
            raise InputError(f"{target} exists and is not an OME-Zarr plate; choose another --out")
    return target


def convert_plate(
    plate: PlateIndex,
    target: Path,
    *,
    ngff: str = "0.5",
    compressor: str = "lz4",
    progress: ProgressBar | None = None,
    shards: bool = False,
) -> tuple[list[str], dict[str, str], list[str]]:
    """Convert every well of an indexed plate into the OME-Zarr plate ``target``.

    Returns
    -------
    converted : list of str
        Wells written by this call.
    failed : dict of str to str
        Well -> the reason (naming the file at fault).
    skipped : list of str
        Wells already finished in ``target`` (resumed).
    """
    from napari_openhcs.storage.omezarr import OmeZarrPlateWriter

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
    for well in plate.wells:
        if well in done:
            skipped.append(well)
            if progress:
                progress.step(f"{well} (already converted)")
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
        except WellReadError as exc:
            failed[well] = str(exc)
            if progress:
                progress.message(f"failed: {exc}")
        if progress:
            progress.step(well)
    return converted, failed, skipped


def convert_command(args) -> int:
    """Run ``napari-openhcs convert``; returns the exit code (0, or 1 if some wells failed).

    Bad input raises ``InputError`` (the command line turns it into exit code 2) before
    anything is written.
    """
    from napari_openhcs.plates import open_plate
    from napari_openhcs.storage.ngff import check_compressor, check_ngff, check_shards

    ngff = check_ngff(args.ngff)
    compressor = check_compressor(args.compressor)
    check_shards(args.shards, ngff)
    plate = open_plate(args.plate)
    target = output_path(plate, args.out)
    progress = ProgressBar(len(plate.wells))
    progress.show()
    try:
        converted, failed, skipped = convert_plate(
            plate, target, ngff=ngff, compressor=compressor, progress=progress, shards=args.shards
        )
    finally:
        progress.close()
    parts = [f"converted {len(converted)} wells to {target}"]
    if skipped:
        parts.append(f"{len(skipped)} already there")
    if failed:
        parts.append(f"{len(failed)} failed: {', '.join(failed)}")
    print("; ".join(parts), file=sys.stderr)
    return 1 if failed else 0
