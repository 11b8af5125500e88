"""Cell profiling of one three-channel 1080x1080 synthetic site, step by step.

Rows, in one run on the same site and masks:

- ``identify_primary_objects`` (nuclei in the DNA channel), ``identify_secondary_objects``
  (cells by propagation in the cytoplasm channel), ``identify_tertiary_objects``;
- each measurement family on each compartment (nuclei, cells, cytoplasm) over the three
  channels through ``object_features``, beside the same cp_measure functions called
  directly on the same relabelled masks and scaled pixels: the difference is our overhead
  (naming, scaling, relabelling, the table);
- the opt-in families (granularity, radial distribution and Zernikes, colocalisation of
  the three channel pairs, neighbours) the same way;
- totals for the default families (intensity, size and shape) and with texture;
- GPU rows, where CuPy or pyclesperanto finds a device: the GPU ``measure_cells``
  (``functions.cupy`` / ``functions.pyclesperanto``: intensity, size and shape over the three
  channels) on each compartment, NumPy in and table out (uploads and downloads included),
  beside the CPU ``object_features`` of the same families; skipped with the reason otherwise
  (``--no-gpu`` skips them);
- with ``--plate``: a plate's throughput in sites per second, the built-in ``cell_profile``
  pipeline run by ``run_plate`` (the entry the CLI and the dock use) over a synthetic plate
  (``write_plate``: ``--plate-wells`` wells x ``--plate-sites`` sites, 3 channels, 1 plane,
  ``--plate-size`` px), with the serial executor and with the processes executor and
  ``--workers`` workers (cold: the workers' start included; warm: a second run, overwriting).

Seconds are the best of ``--repeat`` runs (one core: the machine's other cores are left
alone); "per object" divides by the compartment's object count. Prints a table and writes
JSON to ``benchmarks/results/cell_profile.json``.

Usage: ``python benchmarks/cell_profile_bench.py [--size 1080] [--cells 240] [--repeat 2]
[--plate [--plate-wells 8] [--plate-sites 2] [--plate-size 540] [--workers 2]] [--no-site]``
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
CHANNELS = ("DNA", "Cytoplasm", "Membrane")
FAMILIES = (
    "intensity",
    "sizeshape",
    "texture",
    "granularity",
    "radial_distribution",
    "radial_zernikes",
    "colocalization",
    "neighbors",
)


def _best(func, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def _direct(family: str, masks: np.ndarray, scaled: list[np.ndarray]):
    """cp_measure alone: the functions ``object_features`` calls for ``family``."""
    import itertools

    from cp_measure.bulk import (
        get_core_measurements,
        get_correlation_measurements,
        get_multimask_measurements,
    )

    core = get_core_measurements(legacy=True, sanitize=False)
    out = {}
    if family == "colocalization":
        for a, b in itertools.combinations(range(len(scaled)), 2):
            for kind, func in get_correlation_measurements(sanitize=False).items():
                extra = {"scale_max": 65535} if kind == "costes" else {}
                out.update(func(pixels_1=scaled[a], pixels_2=scaled[b], masks=masks, **extra))
        return out
    if family == "neighbors":
        return get_multimask_measurements()["neighbors"](masks, masks)
    if family == "sizeshape":
        for part in ("sizeshape", "zernike", "feret"):
            out.update(core[part](masks, None))
        return out
    for plane in scaled:
        out.update(core[family](masks, plane))
    return out


def _device_name(backend: str) -> str:
    """The device the GPU backend computes on."""
    if backend == "pyclesperanto":
        import pyclesperanto as cle

        return str(cle.get_device().name)
    import cupy as cp

    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.runtime.getDevice())["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def _gpu_rows(sets: dict, image: np.ndarray, cpu: dict, repeat: int) -> tuple[list, list]:
    """GPU ``measure_cells`` (intensity + sizeshape, three channels) on each compartment, NumPy
    in, table out; ``cpu`` holds the CPU seconds of the same families per compartment.
    Returns rows ``(set, backend, objects, gpu seconds, cpu seconds)`` and notes (skips)."""
    from napari_openhcs.memory import memory_type_status

    status, rows, notes = memory_type_status(), [], []
    for backend, module in (("cupy", "cupy"), ("pyclesperanto", "pyclesperanto")):
        ok, reason = status.get(backend, (False, "unknown memory type"))
        if not ok:
            notes.append(f"GPU rows skipped for {backend}: {reason}")
            continue
        try:
            measure = importlib.import_module(f"napari_openhcs.functions.{module}").measure_cells
        except ImportError as exc:
            notes.append(f"GPU rows skipped for {backend}: {exc}")
            continue
        notes.append(f"{backend} device: {_device_name(backend)}")
        for name, labels in sets.items():

            def run(labels=labels, name=name, measure=measure):
                return measure(labels[None], image, compartment=name, channels=CHANNELS)

            run()  # warm-up: kernel compilation, memory pools
            seconds, (_, table) = _best(run, repeat)
            rows.append((name, backend, table.num_rows, seconds, cpu[name]))
    return rows, notes


def _plate_rows(args) -> list[dict]:
    """Sites per second of ``cell_profile`` over a synthetic plate through ``run_plate``."""
    from napari_openhcs.execution.run import run_plate
    from napari_openhcs.plates.synthetic import write_plate

    wells = [f"{'ABCDEFGH'[i // 12]}{i % 12 + 1:02d}" for i in range(args.plate_wells)]
    sites = len(wells) * args.plate_sites
    work = Path(tempfile.mkdtemp(prefix="cell_profile_bench_"))
    rows = []
    try:
        plate = write_plate(
            work / "plate",
            wells=wells,
            sites=args.plate_sites,
            channels=3,
            z=1,
            size=args.plate_size,
        )
        runs = [
            ("serial", None, "serial", False),
            ("processes", args.workers, f"processes, {args.workers} workers, cold", False),
            ("processes", args.workers, f"processes, {args.workers} workers, warm", True),
        ]
        for executor, workers, label, again in runs:
            out = work / f"out_{executor}"
            start = time.perf_counter()
            report = run_plate(
                plate, "cell_profile", out, executor=executor, workers=workers, overwrite=again
            )
            seconds = time.perf_counter() - start
            assert report.exit_code == 0, report.wells
            rows.append(
                {"run": label, "sites": sites, "seconds": seconds, "sites_per_s": sites / seconds}
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1080)
    parser.add_argument("--cells", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument(
        "--families", default=",".join(FAMILIES), help="comma-separated; default: all"
    )
    parser.add_argument("--no-gpu", action="store_true", help="skip the GPU rows")
    parser.add_argument("--plate", action="store_true", help="add the plate throughput rows")
    parser.add_argument("--plate-wells", type=int, default=8)
    parser.add_argument("--plate-sites", type=int, default=2)
    parser.add_argument("--plate-size", type=int, default=540)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    families = [f for f in args.families.split(",") if f]
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        parser.error(f"unknown families {unknown}; choose from {list(FAMILIES)}")

    from skimage.segmentation import relabel_sequential

    from napari_openhcs.functions import (
        identify_primary_objects,
        identify_secondary_objects,
        identify_tertiary_objects,
    )
    from napari_openhcs.functions._cellprofiler import scale_like_cellprofiler
    from napari_openhcs.functions.cellmeasure import object_features
    from napari_openhcs.plates.synthetic_cells import make_cells

    site = make_cells(args.size, count=args.cells, seed=0)
    rows = []
    # Warm the imports once so the first row does not pay for them.
    identify_primary_objects(site.image[0][:128, :128], exclude_border=False)
    object_features(site.nuclei[:64, :64], site.image[:, :64, :64], channels=CHANNELS)

    t, nuclei = _best(
        lambda: identify_primary_objects(site.image[0], exclude_border=False), args.repeat
    )
    rows.append(("objects", "primary (nuclei)", int(nuclei.max()), t, None))
    t, cells = _best(lambda: identify_secondary_objects(site.image[1][None], nuclei), args.repeat)
    rows.append(("objects", "secondary (cells, propagation)", int(cells.max()), t, None))
    t, cytoplasm = _best(lambda: identify_tertiary_objects(cells, nuclei), args.repeat)
    rows.append(("objects", "tertiary (cytoplasm)", int(cytoplasm.max()), t, None))

    scaled = [scale_like_cellprofiler(p) for p in site.image]
    sets = {"Nuclei": nuclei[0], "Cells": cells[0], "Cytoplasm": cytoplasm[0]}
    per_family: dict[str, list[float]] = {f: [0.0, 0.0] for f in FAMILIES}
    gpu_families: dict[str, float] = {}  # CPU seconds of intensity + sizeshape per set
    for name, labels in sets.items():
        masks = relabel_sequential(labels)[0]
        count = int(len(np.unique(labels)) - 1)
        for family in families:
            ours, _ = _best(
                lambda labels=labels, family=family, name=name: object_features(
                    labels, site.image, channels=CHANNELS, families=(family,), compartment=name
                ),
                args.repeat,
            )
            direct, _ = _best(
                lambda masks=masks, family=family: _direct(family, masks, scaled), args.repeat
            )
            rows.append((name, family, count, ours, direct))
            per_family[family][0] += ours
            per_family[family][1] += direct
            if family in ("intensity", "sizeshape"):
                gpu_families[name] = gpu_families.get(name, 0.0) + ours

    objects_total = sum(r[3] for r in rows if r[0] == "objects")
    n_cells = int(cells.max())
    default = [per_family["intensity"][i] + per_family["sizeshape"][i] for i in (0, 1)]
    texture = [default[i] + per_family["texture"][i] for i in (0, 1)]
    totals = [
        ("total", "objects + default families", n_cells, objects_total + default[0], None),
        ("total", "default families: ours vs cp_measure", n_cells, default[0], default[1]),
        ("total", "objects + default + texture", n_cells, objects_total + texture[0], None),
        ("total", "default + texture: ours vs cp_measure", n_cells, texture[0], texture[1]),
    ]
    if {"intensity", "sizeshape"} <= set(families):
        rows += totals[:2] if "texture" not in families else totals
    gpu, notes = ([], ["GPU rows skipped: --no-gpu"]) if args.no_gpu else ([], [])
    if not args.no_gpu and {"intensity", "sizeshape"} <= set(families):
        gpu, notes = _gpu_rows(sets, site.image, gpu_families, args.repeat)
    elif not args.no_gpu:
        notes = ["GPU rows skipped: --families lacks intensity or sizeshape (the CPU side)"]
    plate = _plate_rows(args) if args.plate else []

    print(f"site {args.size}x{args.size}, 3 channels, {n_cells} cells, best of {args.repeat}")
    print(
        f"{'set':<10} {'step':<40} {'objects':>7} {'ours s':>8} {'ms/obj':>7} "
        f"{'cp_measure s':>12} {'overhead':>9}"
    )
    for group, step, count, ours, direct in rows:
        per = 1000 * ours / max(count, 1)
        extra = "" if direct is None else f"{direct:12.3f} {100 * (ours / direct - 1):8.1f}%"
        print(f"{group:<10} {step:<40} {count:>7} {ours:8.3f} {per:7.2f} {extra}")
    if gpu:
        print("GPU measure_cells (intensity + sizeshape, 3 channels, NumPy in, table out)")
        print(
            f"{'set':<10} {'backend':<14} {'objects':>7} {'GPU s':>8} {'ms/obj':>7} "
            f"{'CPU ours s':>10} {'speed-up':>8}"
        )
    for name, backend, count, seconds, cpu in gpu:
        per = 1000 * seconds / max(count, 1)
        print(
            f"{name:<10} {backend:<14} {count:>7} {seconds:8.3f} {per:7.2f} {cpu:10.3f} "
            f"{cpu / seconds:7.1f}x"
        )
    for note in notes:
        print(note)
    if plate:
        print(
            f"plate: cell_profile via run_plate, {args.plate_wells} wells x {args.plate_sites} "
            f"sites, {args.plate_size} px, 3 channels"
        )
        print(f"{'run':<34} {'sites':>5} {'seconds':>8} {'sites/s':>8}")
    for row in plate:
        print(f"{row['run']:<34} {row['sites']:>5} {row['seconds']:8.2f} {row['sites_per_s']:8.3f}")
    RESULTS.mkdir(exist_ok=True)
    out = {
        "size": args.size,
        "channels": list(CHANNELS),
        "cells": n_cells,
        "repeat": args.repeat,
        "rows": [
            {"set": g, "step": s, "objects": c, "seconds": o, "cp_measure_seconds": d}
            for g, s, c, o, d in rows
        ],
        "gpu_rows": [
            {"set": n, "backend": b, "objects": c, "seconds": t, "cpu_seconds": u}
            for n, b, c, t, u in gpu
        ],
        "gpu_notes": notes,
        "plate": {
            "wells": args.plate_wells,
            "sites_per_well": args.plate_sites,
            "size": args.plate_size,
            "rows": plate,
        }
        if plate
        else None,
    }
    (RESULTS / "cell_profile.json").write_text(json.dumps(out, indent=2))
    print(f"wrote {RESULTS / 'cell_profile.json'}")


if __name__ == "__main__":
    main()
