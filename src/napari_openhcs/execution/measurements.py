"""A unit's measurement table: the steps' tables in long format, one row per object.

Each row names where it was measured (plate, well, row, column, site, timepoint, channel,
step) and, as ``intensity_channel``, the channel whose intensities were measured (another
channel when the step takes it as an image argument). Tables are ``pyarrow.Table``
(:mod:`napari_openhcs.tables`) from the measuring function to the file.
"""

from __future__ import annotations

from typing import Any

from napari_openhcs import tables
from napari_openhcs.pipeline.workunits import CompiledStep, WorkUnit, chain_pairs
from napari_openhcs.wells import parse_well, row_letters


def step_tables(unit: WorkUnit, step: CompiledStep, found: list[tuple[dict, Any]]) -> list:
    """The long tables of the tables one step measured (``(group, table)`` pairs)."""
    other = _intensity_channel(step)
    return [long_table(unit, step.name, group, table, other) for group, table in found]


def long_table(unit: WorkUnit, step: str, group: dict, table: Any, intensity_channel: Any):
    """A step's table in the long measurement format: key columns, then the measurements.

    The key columns (plate, well, row, column, site, timepoint, channel, label, step) lead;
    a column of the same name in ``table`` keeps its values in that place, and a table's
    ``ObjectNumber`` (``measure_cells``) fills ``label``.
    ``intensity_channel`` follows the measurements: the channel the intensities were
    measured in (``intensity_channel``, else each row's ``channel``).
    """
    row_number, col = parse_well(unit.well)
    keys = {
        "plate": unit.output.plate_name,
        "well": unit.well,
        "row": row_letters(row_number),
        "column": col,
        "site": group.get("site", unit.site),
        "timepoint": group.get("timepoint"),
        "channel": group.get("channel"),
        "label": None,
        "step": step,
    }
    table = tables.as_table(table)
    out = tables.prepend_columns(table, keys)
    if "ObjectNumber" in table.column_names and "label" not in table.column_names:
        # CellProfiler's tables (measure_cells) number their objects: that is the label
        index = out.column_names.index("label")
        out = out.set_column(index, "label", out.column("ObjectNumber"))
    if intensity_channel is None:
        channel = out.column("channel")
    else:
        channel = tables.constant(intensity_channel, out.num_rows)
    if "intensity_channel" in out.column_names:
        return out.set_column(
            out.column_names.index("intensity_channel"), "intensity_channel", channel
        )
    return out.append_column("intensity_channel", channel)


def _intensity_channel(step: CompiledStep) -> Any:
    """The channel named by an image reference among a step's keywords, else ``None``."""
    for _, kwargs in chain_pairs(step):
        for value in (kwargs or {}).values():
            if isinstance(value, dict) and "image" in value and value.get("channel") is not None:
                return value["channel"]
    return None
