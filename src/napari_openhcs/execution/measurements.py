"""A unit's measurement table: the steps' tables in long format, one row per object.

Each row names where it was measured (plate, well, row, column, site, timepoint, channel,
step) and, as ``intensity_channel``, the channel whose intensities were measured (another
channel when the step takes it as an image argument). The unit's result carries the rows as
one column table (name -> list).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from napari_openhcs.pipeline.workunits import CompiledStep, WorkUnit, chain_pairs
from napari_openhcs.wells import parse_well, row_letters


def step_rows(unit: WorkUnit, step: CompiledStep, tables: list[tuple[dict, dict]]) -> list[dict]:
    """The long rows of the tables one step measured (``(group, table)`` pairs)."""
    other = _intensity_channel(step)
    rows: list[dict] = []
    for group, table in tables:
        new_rows = long_rows(unit, step.name, group, table)
        for r in new_rows:  # which channel the intensities were measured in
            r["intensity_channel"] = other if other is not None else r["channel"]
        rows.extend(new_rows)
    return rows


def long_rows(unit: WorkUnit, step: str, group: dict, table: dict) -> list[dict]:
    """One row per entry of a column table, with the unit's and the group's components."""
    row_number, col = parse_well(unit.well)
    row = row_letters(row_number)
    columns = {k: list(np.asarray(v).tolist()) for k, v in table.items()}
    n = max((len(v) for v in columns.values()), default=0)
    rows = []
    for i in range(n):
        r = {
            "plate": unit.output.plate_name,
            "well": unit.well,
            "row": row,
            "column": col,
            "site": group.get("site", unit.site),
            "timepoint": group.get("timepoint"),
            "channel": group.get("channel"),
            "label": None,
            "step": step,
        }
        for k, v in columns.items():
            r[k] = v[i] if i < len(v) else None
        rows.append(r)
    return rows


def columns_of(rows: list[dict]) -> dict[str, list]:
    """Rows as one column table; a column a row lacks is ``None`` there.

    Examples
    --------
    >>> columns_of([{"a": 1}, {"a": 2, "b": 3}])
    {'a': [1, 2], 'b': [None, 3]}
    """
    columns: dict[str, list] = {}
    for i, r in enumerate(rows):
        for k in r:
            columns.setdefault(k, [None] * i)
        for k in columns:
            columns[k].append(r.get(k))
    return columns


def _intensity_channel(step: CompiledStep) -> Any:
    """The channel named by an image reference among a step's keywords, else ``None``."""
    for _, kwargs in chain_pairs(step):
        for value in (kwargs or {}).values():
            if isinstance(value, dict) and "image" in value and value.get("channel") is not None:
                return value["channel"]
    return None
