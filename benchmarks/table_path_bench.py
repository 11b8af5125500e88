"""A unit's measurement table on its way to disk: function output to merged plate table.

Times the table path of a run with wide tables (default 300 feature columns x 20 000 objects
per well): the function's output (a dict of NumPy columns, as a third-party function returns
it) becomes the unit's long table (``unit_table_s``, with its per-step summary), each well's
table is written as CSV (and Parquet, where the tree writes it) with the well's summary
(``well_files_s``), and the wells are merged into the plate table (``merge_s``).

The script works against this tree and against a tree from before the columnar table path
(the row-by-row one), so the two can be compared::

    python benchmarks/table_path_bench.py
    PYTHONPATH=/path/to/old/src python benchmarks/table_path_bench.py

Prints a table and writes ``benchmarks/results/table_path_bench.json``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pyarrow  # noqa: F401 - loaded up front, so neither path's timing includes its import

import napari_openhcs
from napari_openhcs.execution import records

try:  # the columnar path (this tree)
    from napari_openhcs import tables
    from napari_openhcs.execution.measurements import long_table
except ImportError:  # the row-by-row path (older trees)
    tables = None
    from napari_openhcs.execution import unit


def function_output(rows: int, columns: int, seed: int) -> dict[str, np.ndarray]:
    """A measuring function's table: label, area, mean_intensity and float features."""
    rng = np.random.default_rng(seed)
    out = {
        "label": np.arange(1, rows + 1, dtype=np.int64),
        "area": rng.integers(20, 400, rows).astype(np.int64),
        "mean_intensity": rng.random(rows),
    }
    for i in range(columns - len(out)):
        out[f"Cells_Feature_{i:03d}"] = rng.random(rows)
    return out


def _unit(well: str) -> SimpleNamespace:
    return SimpleNamespace(well=well, site=1, output=SimpleNamespace(plate_name="bench"))


def unit_table(well: str, output: dict):
    """The unit's measurements as ``run_unit`` assembles them, and its summary."""
    group = {"site": 1, "channel": 1}
    if tables is not None:
        measured = tables.concat([long_table(_unit(well), "cells", group, output, None)])
        return measured, records.measurement_summary(measured)
    rows = unit._long_rows(_unit(well), "cells", group, output)
    for r in rows:
        r["intensity_channel"] = r["channel"]
    return unit._columns(rows), records.measurement_summary(rows)


def well_files(out: Path, well: str, measurements) -> None:
    """What the run does when a well finishes: summary over the well, the well's files."""
    if tables is not None:
        table = tables.concat([measurements])
        records.measurement_summary(table)
        records.write_well_measurements(out, well, table)
        return
    rows = records.table_rows(measurements)
    records.measurement_summary(rows)
    records.write_well_measurements(out, well, rows)


def run(rows: int, columns: int, wells: int) -> dict:
    """One pass over the table path; returns seconds per stage."""
    names = [f"A{i + 1:02d}" for i in range(wells)]
    outputs = {w: function_output(rows, columns, seed=i) for i, w in enumerate(names)}
    folder = Path(tempfile.mkdtemp(prefix="table-path-bench-"))
    try:
        t = time.perf_counter()
        measured = {w: unit_table(w, outputs[w])[0] for w in names}
        unit_s = time.perf_counter() - t
        t = time.perf_counter()
        for w in names:
            well_files(folder, w, measured[w])
        files_s = time.perf_counter() - t
        t = time.perf_counter()
        target = records.merge_measurements(folder, names)
        merge_s = time.perf_counter() - t
        sizes = {p.name: p.stat().st_size for p in folder.iterdir() if p.is_file()}
        assert target is not None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "unit_table_s": unit_s,
        "well_files_s": files_s,
        "merge_s": merge_s,
        "total_s": unit_s + files_s + merge_s,
        "files_MB": {k: round(v / 1e6, 1) for k, v in sorted(sizes.items())},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=20_000, help="objects per well")
    parser.add_argument("--columns", type=int, default=300, help="columns of the function table")
    parser.add_argument("--wells", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1, help="passes; the best is kept")
    parser.add_argument(
        "--json",
        type=Path,
        default=Path(__file__).parent / "results" / "table_path_bench.json",
    )
    args = parser.parse_args(argv)
    passes = [run(args.rows, args.columns, args.wells) for _ in range(args.repeat)]
    best = min(passes, key=lambda p: p["total_s"])
    result = {
        "tree": str(Path(napari_openhcs.__file__).parents[1]),
        "path": "columnar (pyarrow)" if tables is not None else "row by row",
        "rows_per_well": args.rows,
        "columns": args.columns,
        "wells": args.wells,
        **best,
    }
    print(f"{'stage':<14}{'seconds':>10}   ({result['path']}, {result['tree']})")
    for key in ("unit_table_s", "well_files_s", "merge_s", "total_s"):
        print(f"{key:<14}{best[key]:>10.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
