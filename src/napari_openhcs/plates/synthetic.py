"""Deterministic synthetic plates in the ImageXpress, Opera Phenix and OME-Zarr layouts.

Two contents. ``nuclei`` (the default): channel 1 shows nuclei (ellipses of radius 6-10 px at
256 px, some in touching pairs), the other channels cytoplasm-like rings around them;
z-planes are sharp in the middle plane and blurred away from it; timepoints drift by a pixel
or so. ``cells``: cells with known nuclei and cell masks in three stains named DNA,
Cytoplasm and Membrane, each well with the phenotype a plate map gives it (cell size, marker
intensity, fraction of positive cells: ``synthetic_phenotypes``), the true labels under
``truth/`` (``synthetic_cellplate``). ``ground_truth.json`` in the output folder records how
many nuclei each site holds (and, for cells, the phenotypes and positive cells). The same
arguments and seed give byte-identical files.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from napari_openhcs.atomic import new_tmp_dir, swap_into_place, write_json
from napari_openhcs.errors import InputError
from napari_openhcs.plates import synthetic_layouts as layouts
from napari_openhcs.plates.synthetic_cellplate import CELL_CHANNELS, CellTruth, render_cell_site
from napari_openhcs.plates.synthetic_images import make_site, render_stack
from napari_openhcs.plates.synthetic_phenotypes import well_phenotypes
from napari_openhcs.wells import PLATE_GRIDS, grid_for, parse_well, plate_wells

FORMATS = ("imagexpress", "operaphenix", "omezarr")
CONTENTS = ("nuclei", "cells")
DEFAULT_WELLS = ("A01", "A02", "B01", "B02")
PIXEL_SIZE_UM = 0.65
Z_STEP_UM = 2.0
# The plate's name and channel names are the layouts' (they write them into each format).
PLATE_NAME, CHANNEL_NAMES, channel_name = (
    layouts.PLATE_NAME,
    layouts.CHANNEL_NAMES,
    layouts.channel_name,
)


def _check_content(content, channels, timepoints, plate_map) -> int:
    """The channel count of the content (``channels`` or its default), after its checks."""
    if content not in CONTENTS:
        raise InputError(f"unknown synthetic content {content!r} (choose from nuclei, cells)")
    if content == "nuclei":
        if plate_map is not None:
            raise InputError("a plate map sets the phenotypes of cells: add --cells to use one")
        return 2 if channels is None else channels
    if timepoints != 1:
        raise InputError(
            f"--timepoints {timepoints}: a cell plate has one timepoint (its truth labels are of "
            "one moment); leave out --timepoints or --cells"
        )
    if channels is None:
        return len(CELL_CHANNELS)
    if isinstance(channels, int) and not 1 <= channels <= len(CELL_CHANNELS):
        raise InputError(
            f"--channels {channels}: a cell plate has 1 to 3 channels ({', '.join(CELL_CHANNELS)})"
        )
    return channels


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
    channels: int | None = None,
    z: int = 3,
    timepoints: int = 1,
    size: int = 256,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    *,
    content: str = "nuclei",
    plate_map: str | Path | Mapping | None = None,
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
        Counts per well. ``nuclei``: channel 1 = nuclei, 2+ = cytoplasm rings (default 2
        channels). ``cells``: 1 to 3 of DNA, Cytoplasm, Membrane (default 3), one timepoint.
    size : int
        Image side in pixels (nuclei objects scale with it; cells keep their size in pixels,
        their number scales with the area).
    seed : int
        Random seed; a well's content depends only on the seed and the well, site and size
        (and, for cells, its phenotype).
    progress : callable, optional
        Called as ``progress(done, total)`` with the number of wells written so far.
    content : {"nuclei", "cells"}
        What the images show (see the module docstring).
    plate_map : path or mapping, optional
        ``cells`` only: per-well phenotypes (``synthetic_phenotypes``: ``cell_size``,
        ``marker_intensity``, ``positive_fraction``); wells it does not name get defaults.
    **writer_options
        For ``omezarr``: passed to ``OmeZarrPlateWriter`` (``ngff``, ``compressor``).

    Returns
    -------
    Path
        The plate (``out``).

    Raises
    ------
    InputError
        Bad arguments or plate map, or ``out`` exists and is not empty. Nothing is written then.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = write_plate(pathlib.Path(tempfile.mkdtemp()) / "plate", wells=["A01"], size=64)
    >>> sorted(x.name for x in p.iterdir())
    ['TimePoint_1', 'ground_truth.json', 'synthetic.HTD']
    >>> c = write_plate(pathlib.Path(tempfile.mkdtemp()) / "cells", wells=["A01"], sites=1,
    ...                 z=1, size=64, content="cells", plate_map={"A01": {"cell_size": "1.5"}})
    >>> sorted(x.name for x in c.iterdir())
    ['TimePoint_1', 'ground_truth.json', 'synthetic.HTD', 'truth']
    """
    channels = _check_content(content, channels, timepoints, plate_map)
    wells, grid = _check_args(fmt, wells, plate, sites, channels, z, timepoints, size)
    phenotypes, annotations = well_phenotypes(plate_map, wells) if content == "cells" else ({}, {})
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise InputError(f"{out}: already exists and is not empty; choose a new folder")
    names = (
        list(CELL_CHANNELS[:channels])
        if content == "cells"
        else [channel_name(c) for c in range(1, channels + 1)]
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = new_tmp_dir(out.parent, out.name)
    try:
        writer = {
            "imagexpress": layouts.ImageXpressLayout,
            "operaphenix": layouts.PhenixLayout,
            "omezarr": layouts.OmeZarrLayout,
        }[fmt](
            partial,
            grid,
            wells,
            sites,
            channels,
            z,
            timepoints,
            size,
            channel_names=names,
            **writer_options,
        )
        make_well = _cell_well if content == "cells" else _nuclei_well
        truth = CellTruth(partial) if content == "cells" else _NucleiTruth()
        for done, well in enumerate(wells, start=1):
            row, col = parse_well(well)
            stacks = []
            for s in range(1, sites + 1):
                rng = np.random.default_rng([seed, row, col, s, size])
                stacks.append(
                    make_well(
                        rng, truth, well, s, phenotypes.get(well), size, channels, z, timepoints
                    )
                )
            writer.write_well(well, stacks)
            if progress is not None:
                progress(done, len(wells))
        writer.finish()
        truth.finish()
        record = {
            "format": fmt,
            "content": content,
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
            "channel_names": {str(c): n for c, n in enumerate(names, start=1)},
            "pixel_size_um": PIXEL_SIZE_UM,
            "nuclei_channel": 1,
            "counts": truth.counts,
            **truth.extra(phenotypes, annotations),
        }
        write_json(partial / "ground_truth.json", record, indent=1)
        if out.exists():
            out.rmdir()  # empty (checked above); fails if another writer filled it meanwhile
        swap_into_place(partial, out)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return out


class _NucleiTruth:
    """Counts, touching pairs and centroids of the nuclei plate's sites."""

    def __init__(self) -> None:
        self.counts: dict[str, dict[str, int]] = {}
        self.pairs: dict[str, dict[str, int]] = {}
        self.centroids: dict[str, dict[str, list]] = {}

    def finish(self) -> None:
        """Nothing to write beside ``ground_truth.json``."""

    def extra(self, phenotypes, annotations) -> dict:
        """The nuclei plate's part of ``ground_truth.json``."""
        return {"touching_pairs": self.pairs, "centroids_yx_t1": self.centroids}


def _nuclei_well(rng, truth, well, s, phenotype, size, channels, z, timepoints) -> np.ndarray:
    site = make_site(rng, size, timepoints)
    truth.counts.setdefault(well, {})[str(s)] = len(site.nuclei)
    truth.pairs.setdefault(well, {})[str(s)] = site.touching_pairs
    truth.centroids.setdefault(well, {})[str(s)] = [
        [round(n.y, 2), round(n.x, 2)] for n in site.nuclei
    ]
    # (t, c, z, y, x) for this site
    return np.stack(
        [render_stack(rng, site, c, size, z, timepoints) for c in range(1, channels + 1)],
        axis=1,
    )


def _cell_well(rng, truth, well, s, phenotype, size, channels, z, timepoints) -> np.ndarray:
    stack, site = render_cell_site(rng, phenotype, size, channels, z)
    truth.add(well, s, site)
    return stack
