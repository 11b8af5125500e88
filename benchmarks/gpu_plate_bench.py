"""GPU against CPU on one plate: the same pipeline with NumPy functions and with torch/CuPy ones.

Pipeline: z-max projection -> top-hat background (radius 15) -> percentile normalisation,
materialised as float32 OME-Zarr. Both runs use the process executor; the GPU run assigns
units to the visible GPUs (``run_plate(gpus=[...])``) and records each unit's GPU in run.json.
Prints a table and writes ``benchmarks/results/gpu_plate.json``.

Run (on a GPU machine): python benchmarks/gpu_plate_bench.py [--size 2048] [--wells 8]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from napari_openhcs.pipeline import Pipeline, Step


def pipeline(backend: str) -> Pipeline:
    prefix = "napari_openhcs.functions" + ("" if backend == "numpy" else f".{backend}")
    return Pipeline(
        [
            Step(func=f"{prefix}.max_projection", name="project"),
            Step(func=(f"{prefix}.tophat_background", {"radius": 15}), name="background"),
            Step(func=f"{prefix}.percentile_normalize", name="normalize"),
        ],
        name=f"gpu bench ({backend})",
    )


def main() -> None:
    from napari_openhcs.execution.run import run_plate
    from napari_openhcs.plates.synthetic import write_plate

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--wells", type=int, default=8)
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--units-per-gpu", type=int, default=4)
    args = parser.parse_args()
    import torch

    gpus = list(range(torch.cuda.device_count()))
    work = Path(tempfile.mkdtemp(prefix="openhcs-gpu-bench-"))
    wells = [f"{'ABCDEFGH'[i // 12]}{i % 12 + 1:02d}" for i in range(args.wells)]
    plate = write_plate(
        work / "plate",
        "imagexpress",
        wells=wells,
        sites=args.sites,
        channels=2,
        z=3,
        size=args.size,
        seed=2,
    )
    rows = {}
    for label, backend, use in (
        ("numpy (CPU)", "numpy", None),
        ("torch (GPU)", "torch", gpus),
        ("cupy (GPU)", "cupy", gpus),
    ):
        t0 = time.perf_counter()
        report = run_plate(
            plate,
            pipeline(backend),
            work / backend,
            workers=args.workers,
            gpus=use,
            max_units_per_gpu=args.units_per_gpu,
            progress=lambda e: None,
        )
        wall = time.perf_counter() - t0
        assert report.exit_code == 0, report.to_dict()
        used = sorted({g for info in report.wells.values() for g in info.get("gpus", [])})
        phases = {
            phase: round(
                sum(i.get("timings", {}).get(phase, 0.0) for i in report.wells.values()), 2
            )
            for phase in ("read", "compute", "write")
        }
        rows[label] = {"wall_s": round(wall, 2), "gpus_used": used, "unit_seconds": phases}
    images = args.wells * args.sites * 2 * 3
    print(
        f"plate: {args.wells} wells x {args.sites} sites x 2 ch x 3 z at {args.size}^2 = "
        f"{images} images; {args.workers} workers; GPUs visible: {gpus}; "
        f"{args.units_per_gpu} units per GPU at once"
    )
    base = rows["numpy (CPU)"]["wall_s"]
    for label, row in rows.items():
        print(
            f"{label:<14}{row['wall_s']:>8.2f} s  {base / row['wall_s']:>5.2f}x vs CPU  "
            f"GPUs used: {row['gpus_used']}  summed over units: {row['unit_seconds']}"
        )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "gpu_plate.json").write_text(json.dumps({"images": images, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
