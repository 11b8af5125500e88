"""What the cell-level tables cost a run: ``cell_profile`` over a plate of synthetic cells.

One serial run (in this process, one core) of the built-in ``cell_profile`` pipeline over
``--wells`` wells of one ``--size`` px site of ``make_cells`` (DNA and cytoplasm stains),
timing, beside the whole run and the steps themselves (the image table's
``ExecutionTime_<step>`` summed):

- ``unit_tables_s``: every unit joining its compartments into single-cell and image rows;
- ``well_files_s``: the per-well ``single_cell/`` and ``image/`` files (Parquet and CSV);
- ``merge_profile_s``: the end of the run: the plate's merged tables and the per-well
  profiles of ``wells.csv``.

``--pipeline nuclei_count`` runs that pipeline on ``write_plate``'s nuclei instead (its
nuclei are the rows). Prints a table and writes ``benchmarks/results/cell_tables.json``.

Usage: ``python benchmarks/cell_tables_bench.py [--wells 8] [--size 512] [--cells 120]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from napari_openhcs.execution import celltables, plate_run, unitrun
from napari_openhcs.execution.run import run_plate
from napari_openhcs.plates.synthetic import write_plate
from napari_openhcs.plates.synthetic_cells import make_cells
from napari_openhcs.plates.synthetic_layouts import ImageXpressLayout

RESULTS = Path(__file__).resolve().parent / "results"
ROWS = "ABCDEFGH"


def cells_plate(root: Path, wells: list[str], size: int, cells: int) -> Path:
    """An ImageXpress plate of one site per well: make_cells' DNA (w1) and cytoplasm (w2)."""
    layout = ImageXpressLayout(root, (8, 12), wells, 1, 2, 1, 1, size)
    for i, well in enumerate(wells):
        site = make_cells(size, count=cells, seed=i)
        layout.write_well(well, [site.image[:2][None, :, None]])
    layout.finish()
    return root


def timed(owner, name: str, spent: list[float]):
    """Replace ``owner.name`` by a wrapper adding its seconds to ``spent``; returns the original."""
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    setattr(owner, name, wrapper)
    return original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wells", type=int, default=8)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--cells", type=int, default=120)
    parser.add_argument(
        "--pipeline", default="cell_profile", choices=["cell_profile", "nuclei_count"]
    )
    args = parser.parse_args()
    wells = [f"{ROWS[i // 12]}{i % 12 + 1:02d}" for i in range(args.wells)]
    work = Path(tempfile.mkdtemp(prefix="cell_tables_bench_"))
    try:
        if args.pipeline == "cell_profile":
            plate = cells_plate(work / "plate", wells, args.size, args.cells)
        else:
            plate = write_plate(work / "plate", wells=wells, sites=1, z=1, size=args.size)
        spent: dict[str, list[float]] = {"unit": [], "files": [], "merge": []}
        timed(celltables, "unit_tables", spent["unit"])
        timed(celltables, "write_well_tables", spent["files"])
        timed(celltables, "merge_tables", spent["merge"])
        timed(celltables, "profile_rows", spent["merge"])
        assert unitrun.celltables is celltables and plate_run.celltables is celltables
        start = time.perf_counter()
        report = run_plate(plate, args.pipeline, work / "out", executor="serial")
        total = time.perf_counter() - start
        assert report.exit_code == 0, report.wells
        image = pq.read_table(work / "out" / "image.parquet")
        cells = pq.read_table(work / "out" / "single_cell.parquet")
        steps = sum(
            sum(image.column(n).to_pylist())
            for n in image.column_names
            if n.startswith("ExecutionTime_")
        )
        rows = {
            "run_s": total,
            "steps_s": steps,
            "unit_tables_s": sum(spent["unit"]),
            "well_files_s": sum(spent["files"]),
            "merge_profile_s": sum(spent["merge"]),
        }
        print(
            f"{args.pipeline}: {args.wells} wells x 1 site {args.size} px, {cells.num_rows} "
            f"objects, {cells.num_columns} columns, serial"
        )
        for name, seconds in rows.items():
            print(f"  {name:<16} {seconds:8.3f} s  {100 * seconds / total:5.1f}% of the run")
        RESULTS.mkdir(exist_ok=True)
        out = {
            "pipeline": args.pipeline,
            "wells": args.wells,
            "size": args.size,
            "objects": cells.num_rows,
            "columns": cells.num_columns,
            **rows,
        }
        (RESULTS / "cell_tables.json").write_text(json.dumps(out, indent=2))
        print(f"wrote {RESULTS / 'cell_tables.json'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
