"""The ``synth`` and ``inspect`` sub-commands."""

from __future__ import annotations

import argparse
import json
import sys

from napari_openhcs.execution.progress import ProgressBar
from napari_openhcs.plates.discovery import open_plate
from napari_openhcs.plates.index import COMPONENTS, PlateIndex
from napari_openhcs.plates.synthetic import write_plate


def synth_command(args: argparse.Namespace) -> int:
    """``napari-openhcs synth OUT``: write a deterministic synthetic plate."""
    bar = ProgressBar(noun="wells")
    plate = write_plate(
        args.out,
        fmt=args.format,
        wells=args.wells,
        plate=args.plate,
        sites=args.sites,
        channels=args.channels,
        z=args.z,
        timepoints=args.timepoints,
        size=args.size,
        seed=args.seed,
        content="cells" if args.cells else "nuclei",
        plate_map=args.plate_map,
        progress=lambda done, total: bar.draw(done, total, force=done == total),
    )
    print(plate)
    return 0


def describe(index: PlateIndex) -> dict:
    """A JSON-able summary of a plate index (what ``inspect --json`` prints)."""
    return {
        "format": index.format,
        "name": index.name,
        "root": index.root,
        "rows": index.rows,
        "columns": index.columns,
        "wells": index.wells,
        "sites": index.sites,
        "channels": index.channels,
        "z": index.z,
        "timepoints": index.timepoints,
        "shape": list(index.shape) if index.shape else None,
        "dtype": index.dtype,
        "images": len(index.images),
        "missing": [dict(zip(COMPONENTS, key, strict=True)) for key in index.missing],
        "channel_names": {str(c): n for c, n in index.channel_names.items()},
        "channel_colors": {str(c): n for c, n in index.channel_colors.items()},
        "pixel_size": list(index.pixel_size) if index.pixel_size else None,
        "z_step": index.z_step,
        "metadata": index.metadata,
    }


def _ranges(values: list[int]) -> str:
    """``[1, 2, 3, 5]`` -> ``"1-3, 5"``."""
    parts, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            parts.append(str(start) if start == v else f"{start}-{v}")
            start = None
    return ", ".join(parts)


def format_summary(info: dict, max_missing: int = 10) -> str:
    """The plain-text ``inspect`` report."""
    wells = info["wells"]
    shown = ", ".join(wells[:12]) + (f", ... ({len(wells)} wells)" if len(wells) > 12 else "")
    names = info["channel_names"]
    channels = ", ".join(
        f"{c} ({names[str(c)]})" if str(c) in names else str(c) for c in info["channels"]
    )
    shape = "x".join(str(s) for s in info["shape"]) if info["shape"] else "unknown"
    px = info["pixel_size"]
    lines = [
        f"plate       {info['name']}  ({info['format']}, {info['rows']} x {info['columns']} grid)",
        f"folder      {info['root']}",
        f"wells       {shown}",
        f"sites       {_ranges(info['sites'])}",
        f"channels    {channels}",
        f"z-planes    {_ranges(info['z'])}"
        + (
            f"  (step {info['z_step']:g} um)"
            if info["z_step"]
            else ("  (step not recorded)" if len(info["z"]) > 1 else "")
        ),
        f"timepoints  {_ranges(info['timepoints'])}",
        f"images      {info['images']} planes of {shape} {info['dtype'] or ''}".rstrip(),
        f"pixel size  {f'{px[0]:g} x {px[1]:g} um (y x)' if px else 'not recorded'}",
    ]
    missing = info["missing"]
    if not missing:
        lines.append("missing     none")
    else:
        lines.append(f"missing     {len(missing)} images:")
        for m in missing[:max_missing]:
            lines.append(
                f"  well {m['well']} site {m['site']} channel {m['channel']} z {m['z']} "
                f"timepoint {m['timepoint']}"
            )
        if len(missing) > max_missing:
            lines.append(f"  ... and {len(missing) - max_missing} more (see --json)")
    return "\n".join(lines)


def inspect_command(args: argparse.Namespace) -> int:
    """``napari-openhcs inspect PLATE [--json]``: describe a plate (never writes to it)."""
    info = describe(open_plate(args.plate))
    if args.json:
        json.dump(info, sys.stdout)
        sys.stdout.write("\n")
    else:
        print(format_summary(info))
    return 0
