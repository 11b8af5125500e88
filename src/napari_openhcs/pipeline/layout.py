"""The output layout, checked when a pipeline is compiled: every well it will run can be written.

A well outside the output plate's grid, or a name the OME-Zarr writer cannot place, would be
computed and then lost at write time; the compiler refuses it before any pixel is read.
"""

from __future__ import annotations

from napari_openhcs.errors import PlateError
from napari_openhcs.pipeline.units import OutputSpec
from napari_openhcs.wells import parse_well


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
