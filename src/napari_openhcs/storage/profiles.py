"""Single-cell tables and per-well profiles in the layout pycytominer reads.

The single-cell table follows what CytoTable produces from CellProfiler output: one row per
cell, ``Metadata_Plate``, ``Metadata_Well``, ``Metadata_Site``, ``Metadata_ObjectNumber``,
the parent numbers (``Metadata_Cells_Parent_Nuclei``, ``Metadata_Cytoplasm_Parent_Cells``,
``Metadata_Cytoplasm_Parent_Nuclei``), then every compartment's features, already named
``<Compartment>_<Family>_...`` (see ``functions.cellmeasure``), each parent compartment's
followed by its children counts (``Nuclei_Children_Cells_Count``, as CellProfiler's
IdentifySecondaryObjects and IdentifyTertiaryObjects record them). pycytominer's
``infer_cp_features`` finds exactly those feature columns, and ``aggregate``, ``annotate``,
``normalize`` and ``feature_select`` take the tables as they are.

Compartments join on the object number: the object functions number a cell like the
nucleus it grew from and its cytoplasm like the cell, so the parent numbers are the
cell's own number wherever that nucleus or cytoplasm exists.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from napari_openhcs import tables

__all__ = [
    "METADATA_COLUMNS",
    "feature_columns",
    "single_cell_table",
    "well_profiles",
]

METADATA_COLUMNS = ("Metadata_Plate", "Metadata_Well", "Metadata_Site", "Metadata_ObjectNumber")
#: Parent columns of the joined layout: (child compartment, parent compartment).
_PARENTS = (("Cells", "Nuclei"), ("Cytoplasm", "Cells"), ("Cytoplasm", "Nuclei"))


def feature_columns(
    table: pa.Table, compartments: Sequence[str] = ("Cells", "Cytoplasm", "Nuclei")
):
    """The columns of ``table`` that are features (``<Compartment>_...``), in order."""
    prefixes = tuple(f"{c}_" for c in compartments)
    return [n for n in table.column_names if n.startswith(prefixes)]


def single_cell_table(
    compartments: Mapping[str, pa.Table],
    *,
    plate: str,
    well: str,
    site: int | None,
    rows: str = "Cells",
) -> pa.Table:
    """Join one site's per-compartment measurements into one row per ``rows`` object.

    Parameters
    ----------
    compartments : mapping of str to pyarrow.Table
        ``{"Nuclei": ..., "Cells": ..., "Cytoplasm": ...}``, each with ``ObjectNumber`` and
        features named with that compartment's prefix (``measure_cells`` tables).
    plate, well, site
        Where the site is: plate name, well (``B03``) and site number (``None``: a null
        ``Metadata_Site``, for objects of a whole well's stacked sites).
    rows : str
        The compartment whose objects are the rows (``Cells``; a pipeline without cells
        uses its primary objects).

    Returns
    -------
    pyarrow.Table
        Metadata columns, parent numbers (0 where a cell has no such object, e.g. a cell
        that equals its nucleus has no cytoplasm), then the features of ``rows`` and of the
        other compartments in the order given, each parent's with its children counts
        (``Nuclei_Children_Cells_Count``); features of a missing object are null.

    Examples
    --------
    >>> cells = pa.table({"ObjectNumber": [1, 2], "Cells_AreaShape_Area": [50.0, 60.0]})
    >>> nuclei = pa.table({"ObjectNumber": [1, 2], "Nuclei_AreaShape_Area": [20.0, 25.0]})
    >>> t = single_cell_table({"Cells": cells, "Nuclei": nuclei}, plate="P1", well="A01", site=1)
    >>> t.column_names[:5]
    ['Metadata_Plate', 'Metadata_Well', 'Metadata_Site', 'Metadata_ObjectNumber', 'Metadata_Cells_Parent_Nuclei']
    """
    if rows not in compartments:
        raise ValueError(f"no {rows!r} table among the compartments {sorted(compartments)}")
    # NumPy in and out over the buffers (tables.column, tables.numeric_values): pyarrow's
    # own conversions import pandas, ~0.3 s in every worker.
    numbers = _object_numbers(compartments[rows])
    n = numbers.size
    columns: dict[str, object] = {
        "Metadata_Plate": tables.constant(plate, n),
        "Metadata_Well": tables.constant(well, n),
        "Metadata_Site": tables.constant(None if site is None else int(site), n),
        "Metadata_ObjectNumber": tables.column(numbers),
    }
    present = {name: _object_numbers(table) for name, table in compartments.items()}
    for child, parent in _PARENTS:
        if child in compartments and parent in compartments:
            parent_of = (
                numbers if child == rows else np.where(np.isin(numbers, present[child]), numbers, 0)
            )
            mine = np.where(np.isin(numbers, present[parent]), parent_of, 0)
            columns[f"Metadata_{child}_Parent_{parent}"] = tables.column(mine.astype(np.int64))
    wanted = columns["Metadata_ObjectNumber"].combine_chunks()
    order = [rows] + [name for name in compartments if name != rows]
    for name in order:
        table = compartments[name]
        own = table.column("ObjectNumber").cast(pa.int64()).combine_chunks()
        take = pc.index_in(wanted, value_set=own)  # null where the object has no such part
        for column in table.column_names:
            if column != "ObjectNumber":
                columns[column] = table.column(column).take(take)
        columns.update(_children_counts(name, numbers, present))
    return pa.table(columns)


def _children_counts(parent: str, numbers: np.ndarray, present: Mapping[str, np.ndarray]):
    """``<Parent>_Children_<Child>_Count`` per row, as CellProfiler records it for the
    parent objects: how many ``child`` objects have this row's ``parent`` object as their
    parent (children are numbered like their parent); null where the row has no such
    parent object."""
    found = {}
    for child, of in _PARENTS:
        if of != parent or child not in present:
            continue
        children = present[child]
        top = int(max(numbers.max(initial=0), children.max(initial=0)))
        per_parent = np.bincount(children[children > 0], minlength=top + 1)
        counts = per_parent[numbers].astype(np.int64)
        has_parent = np.isin(numbers, present[parent])
        values = (
            counts
            if has_parent.all()
            else [int(n) if has else None for n, has in zip(counts, has_parent, strict=True)]
        )
        found[f"{parent}_Children_{child}_Count"] = tables.column(values)
    return found


def _object_numbers(table: pa.Table) -> np.ndarray:
    """The ``ObjectNumber`` column of ``table`` as int64 NumPy values."""
    values = tables.numeric_values(table.column("ObjectNumber").cast(pa.int64()))
    return np.zeros(0, np.int64) if values is None else values.astype(np.int64, copy=False)


def _float_values(column) -> np.ndarray:
    """A column as float64 NumPy values, NaN where it is null."""
    column = column.cast(pa.float64())
    out = np.full(len(column), np.nan)
    out[tables.numeric_values(column.is_valid())] = tables.numeric_values(column)
    return out


def well_profiles(
    single_cells: pa.Table,
    *,
    strata: Sequence[str] = ("Metadata_Plate", "Metadata_Well"),
    operation: str = "median",
    compartments: Sequence[str] = ("Cells", "Cytoplasm", "Nuclei"),
) -> pa.Table:
    """Per-well profiles: the median (or mean) of every feature over the well's cells, and
    ``Metadata_Object_Count``, one row per well in sorted order (as pycytominer's
    ``aggregate`` gives them). Nulls are skipped (a feature null in every cell of a well is
    null, NaN, there). ``compartments`` are the feature prefixes (``feature_columns``).

    Examples
    --------
    >>> t = pa.table({"Metadata_Plate": ["P"] * 3, "Metadata_Well": ["A01", "A01", "B02"],
    ...               "Cells_AreaShape_Area": [1.0, 3.0, 5.0]})
    >>> well_profiles(t).column("Cells_AreaShape_Area").to_pylist()
    [2.0, 5.0]
    """
    if operation not in ("median", "mean"):
        raise ValueError(f"operation must be 'median' or 'mean', got {operation!r}")
    reduce = np.nanmedian if operation == "median" else np.nanmean
    keys = [single_cells.column(s).to_pylist() for s in strata]
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(*keys, strict=True)):
        groups.setdefault(key, []).append(i)
    ordered = sorted(groups)
    columns: dict[str, list | np.ndarray] = {
        s: [key[j] for key in ordered] for j, s in enumerate(strata)
    }
    for name in feature_columns(single_cells, compartments):
        values = _float_values(single_cells.column(name))
        with warnings.catch_warnings():  # an all-NaN group is NaN, said once in the docstring
            warnings.simplefilter("ignore", RuntimeWarning)
            columns[name] = np.array([reduce(values[groups[key]]) for key in ordered])
    columns["Metadata_Object_Count"] = np.array([len(groups[k]) for k in ordered], np.int64)
    return tables.as_table(columns)
