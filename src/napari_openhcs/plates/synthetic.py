"""Deterministic synthetic plates in the ImageXpress, Opera Phenix and OME-Zarr layouts.

Channel 1 shows nuclei (ellipses of radius 6-10 px at 256 px, some in touching pairs), the
other channels cytoplasm-like rings around them; z-planes are sharp in the middle plane and
blurred away from it; timepoints drift by a pixel or so. ``ground_truth.json`` in the output
folder records how many nuclei each site holds. The same arguments and seed give
byte-identical files.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from napari_openhcs.atomic import new_tmp_dir, swap_into_place
from napari_openhcs.errors import InputError
from napari_openhcs.plates import synthetic_layouts as layouts
from napari_openhcs.plates.synthetic_images import make_site, render_stack
from napari_openhcs.wells import PLATE_GRIDS, grid_for, parse_well, plate_wells

FORMATS = ("imagexpress", "operaphenix", "omezarr")
DEFAULT_WELLS = ("A01", "A02", "B01", "B02")
PIXEL_SIZE_UM = 0.65
Z_STEP_UM = 2.0
# The plate's name and channel names are the layouts' (they write them into each format).
PLATE_NAME, CHANNEL_NAMES, channel_name = (
    layouts.PLATE_NAME,
    layouts.CHANNEL_NAMES,
    layouts.channel_name,
)


def _check_args(fmt, wells, plate, sites, channels, z, timepoints, size) -> tuple[list, tuple]:
    if fmt not in FORMATS:
        raise InputError(
            f"unknown synthetic plate format {fmt!r} (choose from {', '.join(FORMATS)})"
        )
    for label, value, low, high in (
        ("sites", sites, 1, 100),
        ("channels", channels, 1, 9),
        ("z", z, 1, 200),
        ("timepoints", timepoints, 1, 1000),
        ("size", size, 32, 8192),
    ):
        if not isinstance(value, int) or not low <= value <= high:
            raise InputError(f"--{label} must be an integer from {low} to {high}, got {value!r}")
    if plate is not None and plate not in PLATE_GRIDS:
        sizes = ", ".join(str(s) for s in PLATE_GRIDS)
        raise InputError(f"--plate {plate} is not a standard plate size ({sizes})")
    if wells is None:
        wells = plate_wells(plate) if plate is not None else list(DEFAULT_WELLS)
    if isinstance(wells, str):
        wells = [w.strip() for w in wells.split(",") if w.strip()]
    bad = [w for w in wells if parse_well(w) is None]
    if bad or not wells:
        raise InputError(
            f"bad well name(s) {', '.join(map(repr, bad)) or '(none given)'}: use a row of one "
            "or two capital letters and a two-digit column, e.g. A01 or AF48"
        )
    if len(set(wells)) != len(wells):
        raise InputError("a well is named twice in --wells")
    grid = PLATE_GRIDS[plate] if plate is not None else grid_for(wells)
    if plate is None and grid[0] * grid[1] < 96:
        grid = PLATE_GRIDS[96]
    outside = [w for w in wells if parse_well(w)[0] > grid[0] or parse_well(w)[1] > grid[1]]
    if outside:
        raise InputError(
            f"well(s) {', '.join(outside)} lie outside a plate of {grid[0]} rows and "
            f"{grid[1]} columns"
        )
    return list(wells), grid


def write_plate(
    out: str | Path,
    fmt: str = "imagexpress",
    wells: list[str] | None = None,
    plate: int | None = None,
    sites: int = 2,
    channels: int = 2,
    z: int = 3,
    timepoints: int = 1,
    size: int = 256,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    **writer_options,
) -> Path:
    """Write a synthetic plate into the new folder ``out`` and return the plate's path.

    Parameters
    ----------
    out : str or Path
        A folder that does not exist yet (or is empty). It becomes the plate folder (for
        ``omezarr``: the Zarr plate root) and holds ``ground_truth.json``.
    fmt : {"imagexpress", "operaphenix", "omezarr"}
        Layout to write.
    wells : list of str, optional
        Wells to fill; by default A01, A02, B01, B02, or every well of ``plate``.
    plate : int, optional
        Plate size (6 ... 1536); sets the grid and, without ``wells``, fills every well.
    sites, channels, z, timepoints : int
        Counts per well (channels: 1 = nuclei, 2+ = cytoplasm rings).
    size : int
        Image side in pixels (objects scale with it).
    seed : int
        Random seed; a well's content depends only on the seed and the well, site and size.
    progress : callable, optional
        Called as ``progress(done, total)`` with the number of wells written so far.
    **writer_options
        For ``omezarr``: passed to ``OmeZarrPlateWriter`` (``ngff``, ``compressor``).

    Returns
    -------
    Path
        The plate (``out``).

    Raises
    ------
    InputError
        Bad arguments, or ``out`` exists and is not empty. Nothing is written then.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_plate(pathlib.Path(tempfile.mkdtemp()) / "plate", wells=["A01"], size=64)
    >>> sorted(x.name for x in p.iterdir())
    ['TimePoint_1', 'ground_truth.json', 'synthetic.HTD']
    """
    wells, grid = _check_args(fmt, wells, plate, sites, channels, z, timepoints, size)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: already exists and is not empty; choose a new folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = new_tmp_dir(out.parent, out.name)
    try:
        writer = {
            "imagexpress": layouts.ImageXpressLayout,
            "operaphenix": layouts.PhenixLayout,
            "omezarr": layouts.OmeZarrLayout,
        }[fmt](partial, grid, wells, sites, channels, z, timepoints, size, **writer_options)
        counts: dict[str, dict[str, int]] = {}
        pairs: dict[str, dict[str, int]] = {}
        centroids: dict[str, dict[str, list]] = {}
        for well in wells:
            row, col = parse_well(well)
            stacks = []
            for s in range(1, sites + 1):
                rng = np.random.default_rng([seed, row, col, s, size])
                site = make_site(rng, size, timepoints)
                counts.setdefault(well, {})[str(s)] = len(site.nuclei)
                pairs.setdefault(well, {})[str(s)] = site.touching_pairs
                centroids.setdefault(well, {})[str(s)] = [
                    [round(n.y, 2), round(n.x, 2)] for n in site.nuclei
                ]
                # (t, c, z, y, x) for this site
                stack = np.stack(
                    [
                        render_stack(rng, site, c, size, z, timepoints)
                        for c in range(1, channels + 1)
                    ],
                    axis=1,
                )
                stacks.append(stack)
            writer.write_well(well, stacks)
            if progress is not None:
                progress(len(counts), len(wells))
        writer.finish()
        truth = {
            "format": fmt,
            "seed": seed,
            "size": size,
            "plate": PLATE_NAME,
            "rows": grid[0],
            "columns": grid[1],
            "wells": wells,
            "sites": sites,
            "channels": channels,
            "z": z,
            "timepoints": timepoints,
            "channel_names": {str(c): channel_name(c) for c in range(1, channels + 1)},
            "pixel_size_um": PIXEL_SIZE_UM,
            "nuclei_channel": 1,
            "counts": counts,
            "touching_pairs": pairs,
            "centroids_yx_t1": centroids,
        }
        (partial / "ground_truth.json").write_text(json.dumps(truth, indent=1) + "\n")
        if out.exists():
            out.rmdir()  # empty (checked above); fails if another writer filled it meanwhile
        swap_into_place(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return out
