"""The per-plate single-cell table's CSV: the formatter before and after, side by side.

A run writes each well's single-cell table (``single_cell/<well>.parquet`` and ``.csv``,
``celltables.write_well_tables``) and at its end the plate's (``celltables.merge_tables``:
read the wells' Parquet, concatenate, write ``single_cell.parquet`` and ``.csv``). This
script times both stages over ``--wells`` wells of ``--cells`` cells with ``--columns``
float features, once with ``tables.write_csv`` as it is and once with the earlier
row-by-row formatter (Python's ``csv`` module over ``to_pylist`` values, kept here only for
the comparison), checks that the two CSV texts are identical and that pandas reads the
merged CSV back with the Parquet's column order and exactly its values.

The feature values are real: a ``cell_profile`` run (serial) over one 384 px ``make_cells``
site gives a single-cell table (about 460 features: 20 % whole numbers, 7 % below 1e-4, the
layouts where ``repr`` and pyarrow's text differ); each well samples its rows from it.

Prints a table and writes ``benchmarks/results/single_cell_csv.json``.

Usage: ``python benchmarks/single_cell_csv_bench.py [--wells 384] [--cells 300] [--columns 150]``
(``--columns 0``: all the features).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from napari_openhcs import atomic, tables
from napari_openhcs.execution import celltables
from napari_openhcs.execution.run import run_plate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cell_tables_bench import cells_plate  # noqa: E402 - the benchmarks' own helper

RESULTS = Path(__file__).resolve().parent / "results"
ROWS = "ABCDEFGHIJKLMNOP"


def old_csv_text(table) -> str:
    """The row-by-row formatter this tree replaced: ``csv.writer`` over Python values."""
    table = tables.as_table(table)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(table.column_names)
    if table.num_rows:
        columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
        writer.writerows(zip(*columns, strict=True))
    return buf.getvalue()


def old_write_csv(table, path) -> None:
    """``tables.write_csv`` as it was: the old text, written atomically."""
    atomic.write_text(path, old_csv_text(table))


def source_table(work: Path) -> pa.Table:
    """The single-cell table of one ``cell_profile`` site (real feature values)."""
    plate = cells_plate(work / "source", ["A01"], 384, 60)
    report = run_plate(plate, "cell_profile", work / "source_out", executor="serial")
    assert report.exit_code == 0, report.wells
    return tables.read_table(work / "source_out" / "single_cell.parquet")


def well_tables(source: pa.Table, wells: list[str], cells: int, columns: int) -> dict:
    """Per-well single-cell tables: ``cells`` rows sampled from ``source`` per well."""
    meta = [n for n in source.column_names if n.startswith("Metadata_")]
    features = [n for n in source.column_names if n not in meta]
    if columns:
        step = max(len(features) // columns, 1)  # spread over the compartments and families
        features = features[::step][:columns]
    rng = np.random.default_rng(0)
    out = {}
    for well in wells:
        rows = source.take(pa.array(rng.integers(0, source.num_rows, cells)))
        rows = rows.select(meta + features)
        rows = rows.set_column(
            rows.column_names.index("Metadata_Well"), "Metadata_Well", tables.constant(well, cells)
        )
        number = tables.column(np.arange(1, cells + 1, dtype=np.int64))
        rows = rows.set_column(
            rows.column_names.index("Metadata_ObjectNumber"), "Metadata_ObjectNumber", number
        )
        out[well] = rows
    return out


def stages(out: Path, found: dict) -> dict:
    """Seconds of the per-well files and of the plate merge, with the current write_csv."""
    start = time.perf_counter()
    for well, table in found.items():
        celltables.write_well_tables(out, well, {celltables.SINGLE_CELL: table})
    wells_s = time.perf_counter() - start
    start = time.perf_counter()
    celltables.merge_tables(out, list(found))
    merge_s = time.perf_counter() - start
    start = time.perf_counter()
    plate = tables.read_table(out / "single_cell.parquet")
    tables.write_csv(plate, out / "csv_only.csv")
    return {
        "well_files_s": wells_s,
        "merge_s": merge_s,
        "merge_csv_only_s": time.perf_counter() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wells", type=int, default=384)
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--columns", type=int, default=150, help="float features; 0: all")
    args = parser.parse_args()
    wells = [f"{ROWS[i // 24]}{i % 24 + 1:02d}" for i in range(args.wells)]
    work = Path(tempfile.mkdtemp(prefix="single_cell_csv_bench_"))
    try:
        found = well_tables(source_table(work), wells, args.cells, args.columns)
        results = {}
        for name, writer in (("before", old_write_csv), ("after", tables.write_csv)):
            saved = tables.write_csv
            tables.write_csv = writer  # celltables calls tables.write_csv at call time
            try:
                results[name] = stages(work / name, found)
            finally:
                tables.write_csv = saved
        before, after = (work / n / "single_cell.csv" for n in ("before", "after"))
        identical = before.read_bytes() == after.read_bytes()
        plate = tables.read_table(work / "after" / "single_cell.parquet")
        frame = pd.read_csv(after)
        order = list(frame.columns) == plate.column_names
        exact = order and all(
            np.array_equal(
                frame[n].to_numpy(dtype=float), plate.column(n).to_numpy(), equal_nan=True
            )
            for n in plate.column_names
            if pa.types.is_floating(plate.schema.field(n).type)
        )
        size_mb = after.stat().st_size / 1e6
        print(
            f"single-cell table: {args.wells} wells x {args.cells} cells = {plate.num_rows} rows, "
            f"{plate.num_columns} columns, plate CSV {size_mb:.0f} MB"
        )
        print(f"{'stage':<34}{'before s':>10}{'after s':>10}{'speed-up':>10}")
        labels = {
            "well_files_s": "per-well files (Parquet + CSV)",
            "merge_s": "plate merge (read, Parquet + CSV)",
            "merge_csv_only_s": "plate CSV alone",
        }
        for key, label in labels.items():
            b, a = results["before"][key], results["after"][key]
            print(f"{label:<34}{b:>10.2f}{a:>10.2f}{b / a:>9.1f}x")
        print(
            f"CSV text identical before/after: {identical}; pandas reads it back with the "
            f"Parquet's column order: {order}, float values equal: {exact}"
        )
        RESULTS.mkdir(exist_ok=True)
        out = {
            "wells": args.wells,
            "cells": args.cells,
            "rows": plate.num_rows,
            "columns": plate.num_columns,
            "csv_MB": round(size_mb, 1),
            "before": results["before"],
            "after": results["after"],
            "identical_text": identical,
            "pandas_column_order": order,
            "pandas_values_exact": exact,
        }
        (RESULTS / "single_cell_csv.json").write_text(json.dumps(out, indent=2))
        print(f"wrote {RESULTS / 'single_cell_csv.json'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
