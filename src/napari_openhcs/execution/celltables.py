"""The run's cell-level tables: one row per object, one row per site, one profile per well.

A unit joins the tables its steps measured, per site, into the single-cell layout of
:func:`napari_openhcs.storage.profiles.single_cell_table` (CytoTable's: ``Metadata_Plate``,
``Metadata_Well``, ``Metadata_Site``, ``Metadata_ObjectNumber``, the parent numbers, then
``<Compartment>_...`` features) and into one image row per site (``Count_<Compartment>``,
``ExecutionTime_<step>`` in seconds, as CellProfiler's ``Image.csv`` names them). The main
process writes them per well (``single_cell/<well>`` and ``image/<well>``, Parquet and CSV)
and merges them per plate at the end (``single_cell`` and ``image``), from which the per-well
profiles of ``wells.csv`` come (the median of every feature over the well's objects, and
the counts).

Compartments. A table with ``ObjectNumber`` (``measure_cells``) names its compartment in its
feature columns (``Nuclei_AreaShape_Area``: ``Nuclei``), or, with no object measured, by its
``compartment`` keyword. A table keyed by ``label`` (``count_objects``, ``measure_objects``)
is the compartment named after its step (``nuclei``: ``Nuclei``, its columns prefixed:
``Nuclei_area``; ``Nuclei2`` for channel 2 when the step measured several channels). Tables
of one compartment at one site are joined on the object number. The rows are the cells
(``Cells``) when the pipeline has them, else its first compartment (its primary objects).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from napari_openhcs import tables
from napari_openhcs.pipeline.workunits import CompiledStep, WorkUnit, chain_pairs
from napari_openhcs.storage.names import compartment_name
from napari_openhcs.storage.profiles import single_cell_table, well_profiles

#: The tables a run writes per well (``<kind>/<well>.parquet``) and per plate (``<kind>.*``).
SINGLE_CELL, IMAGE = "single_cell", "image"
TABLE_KINDS = (SINGLE_CELL, IMAGE)
#: Columns of a ``label``-keyed table that say where an object is, not what it is.
_OWN_KEYS = ("label", "plane")
#: The rows of the single-cell table when the pipeline finds cells.
CELLS = "Cells"
COUNT_PREFIX, TIME_PREFIX = "Count_", "ExecutionTime_"


def _is_number(kind: pa.DataType) -> bool:
    return pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind)


def _compartment_keyword(step: CompiledStep) -> str | None:
    """The ``compartment`` a step's functions are given (``measure_cells(compartment=...)``)."""
    for _, kwargs in chain_pairs(step):
        value = (kwargs or {}).get("compartment")
        if isinstance(value, str) and value:
            return value
    return None


def step_compartments(step: CompiledStep, table: Any, channel: Any = None) -> list:
    """The ``(compartment, table)`` pairs of one measured table, each table holding
    ``ObjectNumber`` and that compartment's features.

    ``channel`` suffixes a ``label``-keyed table's compartment (the step measured several
    channels). A table whose object numbers repeat (objects measured plane by plane) or that
    names no objects gives none: it stays in the long measurements only.

    Examples
    --------
    >>> step = CompiledStep(name="nuclei", pattern=())
    >>> [(c, t.column_names) for c, t in step_compartments(step, {"label": [1], "area": [9]})]
    [('Nuclei', ['ObjectNumber', 'Nuclei_area'])]
    """
    table = tables.as_table(table)
    names = table.column_names
    if "ObjectNumber" in names:
        numbers = table.column("ObjectNumber").cast(pa.int64())
        features = [n for n in names if n != "ObjectNumber" and "_" in n]
        prefixes = list(dict.fromkeys(n.split("_", 1)[0] for n in features))
        if not prefixes:
            keyword = _compartment_keyword(step)
            prefixes = [keyword] if keyword else []
        own = [(p, [n for n in features if n.split("_", 1)[0] == p]) for p in prefixes]
    elif "label" in names:
        numbers = table.column("label").cast(pa.int64())
        name = compartment_name(step.name if channel is None else f"{step.name}{channel}")
        kept = [n for n in names if n not in _OWN_KEYS and _is_number(table.schema.field(n).type)]
        table = pa.table({f"{name}_{n}": table.column(n) for n in kept})
        own = [(name, table.column_names)]
    else:
        return []
    if len(numbers) != len(pc.unique(numbers)):
        return []
    return [
        (comp, pa.table({"ObjectNumber": numbers, **{n: table.column(n) for n in columns}}))
        for comp, columns in own
    ]


def join_objects(parts: list[pa.Table]) -> pa.Table:
    """Tables of one compartment joined on ``ObjectNumber`` (sorted); a column that two
    tables share keeps the first table's values."""
    if len(parts) == 1:
        return parts[0]
    numbers = np.unique(
        np.concatenate([tables.numeric_values(p.column("ObjectNumber")) for p in parts])
    )
    wanted = tables.column(numbers.astype(np.int64)).combine_chunks()
    columns: dict[str, Any] = {"ObjectNumber": wanted}
    for part in parts:
        own = part.column("ObjectNumber").combine_chunks()
        take = pc.index_in(wanted, value_set=own)  # null where this table lacks the object
        for name in part.column_names:
            if name not in columns:
                columns[name] = part.column(name).take(take)
    return pa.table(columns)


def unit_tables(
    unit: WorkUnit, measured: Iterable[tuple[CompiledStep, dict, Any]], seconds: dict[str, float]
) -> tuple[pa.Table | None, pa.Table]:
    """The single-cell table (``None`` when no step measured objects) and the image table
    (one row per site and timepoint) of one unit.

    ``measured`` holds ``(step, group, table)`` for every table the steps measured, in step
    order; ``seconds`` each step's compute time in the unit.
    """
    measured = list(measured)
    plate = unit.output.plate_name
    timepoints = sorted({k.timepoint for k, _ in unit.images})
    channels_of: dict[tuple, set] = {}
    for step, group, _ in measured:
        channels_of.setdefault((step.name, group.get("site", unit.site)), set()).add(
            group.get("channel")
        )
    by_site: dict[tuple, dict[str, list[pa.Table]]] = {}
    order: list[str] = []
    for step, group, table in measured:
        site = group.get("site", unit.site)
        several = len(channels_of[(step.name, site)]) > 1
        channel = group.get("channel") if several else None
        found = by_site.setdefault((site, group.get("timepoint")), {})
        for comp, part in step_compartments(step, table, channel):
            found.setdefault(comp, []).append(part)
            if comp not in order:
                order.append(comp)
    if not by_site:  # nothing measured: one row per site and timepoint all the same
        by_site = {(unit.site, t): {} for t in timepoints}
    rows = CELLS if CELLS in order else (order[0] if order else None)
    with_time = len(timepoints) > 1
    cells, images = [], []
    for (site, timepoint), found in sorted(by_site.items(), key=_site_order):
        joined = {c: join_objects(found[c]) for c in [rows, *order] if c in found}
        image: dict[str, Any] = {"Metadata_Plate": plate, "Metadata_Well": unit.well}
        image["Metadata_Site"] = site
        if with_time:
            image["Metadata_Timepoint"] = timepoint
        image.update(
            {f"{COUNT_PREFIX}{c}": joined[c].num_rows if c in joined else 0 for c in order}
        )
        image.update({f"{TIME_PREFIX}{s}": round(v, 6) for s, v in seconds.items()})
        images.append(image)
        if rows in joined:
            table = single_cell_table(joined, plate=plate, well=unit.well, site=site, rows=rows)
            if with_time:
                table = table.add_column(
                    3, "Metadata_Timepoint", tables.constant(timepoint, table.num_rows)
                )
            cells.append(table)
    image_table = tables.as_table({k: [row.get(k) for row in images] for k in images[0]})
    return tables.concat(cells), image_table


def _site_order(item: tuple) -> tuple:
    (site, timepoint), _ = item
    return (site is None, site or 0, timepoint is None, timepoint or 0)


# -- files ---------------------------------------------------------------------------------
def write_well_tables(out: Path, well: str, found: dict[str, pa.Table | None]) -> None:
    """``<out>/<kind>/<well>.parquet`` and ``.csv`` for each table in ``found`` (kind:
    ``single_cell``, ``image``), atomically, Parquet first; a kind the well lacks has its
    files of an earlier run removed."""
    for kind in TABLE_KINDS:
        folder = Path(out) / kind
        parquet, csv_path = folder / f"{well}.parquet", folder / f"{well}.csv"
        table = found.get(kind)
        if table is None:
            csv_path.unlink(missing_ok=True)
            parquet.unlink(missing_ok=True)
            continue
        folder.mkdir(parents=True, exist_ok=True)
        tables.write_parquet(table, parquet)
        tables.write_csv(table, csv_path)


def read_well_table(out: Path, kind: str, well: str) -> pa.Table | None:
    """A well's ``kind`` table as ``write_well_tables`` wrote it (typed), or ``None``."""
    path = Path(out) / kind / f"{well}.parquet"
    return tables.read_table(path) if path.exists() else None


def merge_tables(
    out: Path, wells: Iterable[str], plate_map: dict[str, dict[str, str]] | None = None
) -> dict[str, pa.Table | None]:
    """Merge the per-well tables of ``wells`` into ``<out>/single_cell`` and ``<out>/image``
    (``.parquet`` and ``.csv``); returns the merged tables (``None`` for a kind no well has,
    whose plate files are removed).

    ``plate_map`` (``wells.read_plate_map``) joins its columns as text ``Metadata_<column>``
    after ``Metadata_Well`` (a column already named ``Metadata_...`` keeps its name); rows
    of wells the map lacks get nulls. The per-well files stay as measured."""
    out = Path(out)
    merged: dict[str, pa.Table | None] = {}
    for kind in TABLE_KINDS:
        found = [read_well_table(out, kind, well) for well in sorted(wells)]
        table = tables.concat(t for t in found if t is not None)
        if table is not None and plate_map:
            table = annotate(table, plate_map)
        merged[kind] = table
        if table is None:  # none now: an earlier run's plate table would be stale
            (out / f"{kind}.csv").unlink(missing_ok=True)
            (out / f"{kind}.parquet").unlink(missing_ok=True)
            continue
        tables.write_parquet(table, out / f"{kind}.parquet")
        tables.write_csv(table, out / f"{kind}.csv")
    return merged


def annotate(table: pa.Table, plate_map: dict[str, dict[str, str]]) -> pa.Table:
    """``table`` with the plate map's columns as text ``Metadata_<column>`` after
    ``Metadata_Well``, by each row's well (null where the map lacks the well)."""
    names = sorted({k for values in plate_map.values() for k in values})
    wells = table.column("Metadata_Well").to_pylist()
    at = table.column_names.index("Metadata_Well") + 1
    for name in reversed(names):
        column = name if name.startswith("Metadata_") else f"Metadata_{name}"
        if column in table.column_names:  # measured metadata wins; the map is in wells.csv
            continue
        values = [plate_map.get(w, {}).get(name) for w in wells]
        table = table.add_column(at, column, pa.array(values, type=pa.string()))
    return table


def profile_rows(single_cells: pa.Table | None, images: pa.Table | None) -> tuple[list, dict]:
    """Per-well profile columns and values for ``wells.csv``: ``Metadata_Plate``,
    ``Metadata_Well``, ``Metadata_Object_Count`` (rows of the single-cell table),
    ``Metadata_Count_<Compartment>`` (summed over the image table's sites), then the median
    of every feature over the well's objects.

    Returns ``(columns, {well: {column: value}})``.
    """
    rows: dict[str, dict[str, Any]] = {}
    columns = ["Metadata_Plate", "Metadata_Well", "Metadata_Object_Count"]
    if images is not None and images.num_rows:
        counts = [n for n in images.column_names if n.startswith(COUNT_PREFIX)]
        columns += [f"Metadata_{n}" for n in counts]
        wells = images.column("Metadata_Well").to_pylist()
        plates = images.column("Metadata_Plate").to_pylist()
        for i, well in enumerate(wells):
            row = rows.setdefault(well, {"Metadata_Plate": plates[i], "Metadata_Well": well})
            row.setdefault("Metadata_Object_Count", 0)
            for name in counts:
                value = images.column(name)[i].as_py() or 0
                row[f"Metadata_{name}"] = row.get(f"Metadata_{name}", 0) + value
    if single_cells is not None and single_cells.num_rows:
        compartments = sorted(
            {n.split("_", 1)[0] for n in single_cells.column_names if not n.startswith("Metadata_")}
        )
        profiles = well_profiles(single_cells, compartments=compartments)
        features = [n for n in profiles.column_names if not n.startswith("Metadata_")]
        columns += features
        for row in profiles.to_pylist():
            rows.setdefault(row["Metadata_Well"], {}).update(row)
    return columns, rows


__all__ = [
    "IMAGE",
    "SINGLE_CELL",
    "TABLE_KINDS",
    "annotate",
    "compartment_name",
    "join_objects",
    "merge_tables",
    "profile_rows",
    "read_well_table",
    "step_compartments",
    "unit_tables",
    "write_well_tables",
]
