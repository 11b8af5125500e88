"""``napari-openhcs convert PLATE --out DIR``: any plate to an OME-Zarr HCS plate.

The plate is indexed and the output checked before anything is written (bad input: exit 2,
nothing created). Wells that fail are reported with the file at fault and left out of the
plate, the others are converted (exit 1); an interrupted conversion resumes where it stopped
(``execution/convert.py`` does the work).
"""

from __future__ import annotations

import sys

from napari_openhcs.execution.convert import convert_plate, output_path
from napari_openhcs.execution.progress import ProgressBar
from napari_openhcs.plates import open_plate
from napari_openhcs.storage.ngff import check_compressor, check_ngff, check_shards


def convert_command(args) -> int:
    """Run ``napari-openhcs convert``; returns the exit code (0, or 1 if some wells failed).

    Bad input raises ``InputError`` (the command line turns it into exit code 2) before
    anything is written.
    """
    ngff = check_ngff(args.ngff)
    compressor = check_compressor(args.compressor)
    check_shards(args.shards, ngff)
    plate = open_plate(args.plate)
    target = output_path(plate, args.out)
    converted, failed, skipped = convert_plate(
        plate,
        target,
        ngff=ngff,
        compressor=compressor,
        progress=ProgressBar(noun="wells"),
        shards=args.shards,
    )
    for reason in failed.values():  # each names its well and the file at fault
        print(f"failed: {reason}", file=sys.stderr)
    parts = [f"converted {len(converted)} wells to {target}"]
    if skipped:
        parts.append(f"{len(skipped)} already there")
    if failed:
        parts.append(f"{len(failed)} failed: {', '.join(failed)}")
    print("; ".join(parts), file=sys.stderr)
    return 1 if failed else 0
