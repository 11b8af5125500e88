"""The output layout of a run: which plates and files go where, and whether every well fits.

A run writes ``<out>/<plate>.ome.zarr`` (the main plate), one ``<out>/<plate>_<step>.ome.zarr``
per materialised image step that is not the last, and each plate-scope step's result as
``<out>/.openhcs/plate_steps/<step>.npy``. The grid is checked when a pipeline is compiled:
a well outside the output plate's grid, or a name the OME-Zarr writer cannot place, would be
computed and then lost at write time, so it is refused before any pixel is read.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from napari_openhcs.errors import PlateError
from napari_openhcs.storage.omezarr import OmeZarrPlateWriter
from napari_openhcs.wells import parse_well


@dataclass(frozen=True)
class OutputSpec:
    """Where and how a run writes: ``<out_dir>/<plate_name>.ome.zarr`` and measurements."""

    out_dir: str
    plate_name: str
    ngff: str = "0.5"
    compressor: str = "lz4"
    rows: int = 8
    columns: int = 12
    channel_names: tuple[tuple[int, str], ...] = ()
    pixel_size: tuple[float, float] | None = None
    plate_dtype: str | None = None
    #: one file per field (Zarr v3 sharding, NGFF 0.5) instead of one per plane
    shards: bool = False


def output_plate_paths(output: OutputSpec, intermediate: list[str]) -> list[Path]:
    """``<out>/<plate>.ome.zarr`` then ``<out>/<plate>_<step>.ome.zarr`` per image step kept.

    Examples
    --------
    >>> [p.name for p in output_plate_paths(OutputSpec("out", "p1"), ["project"])]
    ['p1.ome.zarr', 'p1_project.ome.zarr']
    """
    out = Path(output.out_dir)
    return [out / f"{output.plate_name}.ome.zarr"] + [
        out / f"{output.plate_name}_{step}.ome.zarr" for step in intermediate
    ]


def open_output_plates(output: OutputSpec, intermediate: list[str]) -> list[OmeZarrPlateWriter]:
    """Create (or reopen, to resume) the output plates; returns their writers, main first."""
    return [
        OmeZarrPlateWriter(
            path,
            output.rows,
            output.columns,
            name=output.plate_name,
            ngff=output.ngff,
            compressor=output.compressor,
            shards=output.shards,
        )
        for path in output_plate_paths(output, intermediate)
    ]


def plate_step_result_path(output: OutputSpec, step: str) -> Path:
    """Where a plate-scope step's result is saved: ``<out>/.openhcs/plate_steps/<step>.npy``.

    Examples
    --------
    >>> plate_step_result_path(OutputSpec("out", "p1"), "flat").as_posix()
    'out/.openhcs/plate_steps/flat.npy'
    """
    return Path(output.out_dir) / ".openhcs" / "plate_steps" / f"{step}.npy"


def check_output_grid(wells: list[str], output: OutputSpec) -> None:
    """Every well to run has a name the plate writer understands and fits the output grid.

    Checked at compile time so that no computed well is lost at write time.

    Raises
    ------
    PlateError
        A well name that is not a plate well (``A01`` .. ``AF48``), or a well outside the
        ``output.rows`` x ``output.columns`` grid.
    """
    bad = [w for w in wells if parse_well(w) is None]
    if bad:
        raise PlateError(
            f"well name(s) {', '.join(bad[:8])} cannot be written to an OME-Zarr plate "
            "(well names are a row of one or two letters and a two-digit column, like A01)"
        )
    outside = [w for w in wells if _beyond(parse_well(w), output.rows, output.columns)]
    if outside:
        raise PlateError(
            f"well(s) {', '.join(outside[:8])}{'...' if len(outside) > 8 else ''} lie outside "
            f"the output plate's {output.rows} x {output.columns} grid: they could be computed "
            "but not written (the plate's grid does not hold its wells)"
        )


def _beyond(position: tuple[int, int], rows: int, columns: int) -> bool:
    return position[0] > rows or position[1] > columns
