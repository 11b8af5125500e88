"""Intensity, size and shape of one site's cells: cp_measure on one CPU core against the GPU.

One synthetic 1080x1080 site with about 240 cells (``make_cells``), measured on the cells'
labels in the DNA channel. Rows, each the best of ``--repeat`` runs after one warm-up
(pyclesperanto compiles its kernels on the first call):

- CPU: cp_measure's intensity function; its size and shape functions (``sizeshape``,
  ``zernike``, ``feret``, as ``measure_cells`` calls them) and ``sizeshape`` alone; and
  ``napari_openhcs.functions.measure_cells`` with its default families (numpy in, table out);
  and the CuPy backend's reductions run on NumPy and SciPy;
- pyclesperanto (where it finds a device): ``statistics_of_labelled_pixels`` and
  ``labels_statistics`` on arrays already on the device; our
  ``functions.pyclesperanto.measure_cells`` on device arrays, and from NumPy arrays (the
  upload included);
- CuPy (where a CUDA GPU is usable): ``gpumeasure.array_statistics`` on device arrays, and
  ``functions.cupy.measure_cells`` from NumPy arrays.

GPU times are wall-clock and include synchronisation (the statistics come back to the host).
Each GPU table is also compared with the CPU table: the largest relative difference over the
columns both have (and the largest absolute difference of ``MassDisplacement``). Prints a table and writes ``benchmarks/results/gpu_measure.json``.

Usage: ``python benchmarks/gpu_measure_bench.py [--size 1080] [--cells 240] [--repeat 5]``
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from napari_openhcs.atomic import write_text

RESULTS = Path(__file__).resolve().parent / "results"


def _best(func, repeat: int) -> float:
    func()  # warm-up: imports, kernel compilation, memory pools
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def _differences(gpu, cpu) -> str:
    """The largest relative difference over the columns both tables have (NaN equal to NaN),
    and the largest absolute ones of ``MassDisplacement`` (a small difference of positions)
    and of ``Orientation`` (an angle, near 0 for many objects, so relative errors mislead)."""
    relative = displacement = orientation = 0.0
    for name in gpu.column_names:
        if name == "ObjectNumber" or name not in cpu.column_names:
            continue
        got = gpu.column(name).to_numpy(zero_copy_only=False)
        want = cpu.column(name).to_numpy(zero_copy_only=False)
        both = ~(np.isnan(got) & np.isnan(want))
        error = np.abs(got[both] - want[both])
        if name.endswith("_Orientation"):  # degrees of an axis: -90 and 90 are the same
            error = np.abs((error + 90.0) % 180.0 - 90.0)
            orientation = max(orientation, float(np.max(error, initial=0.0)))
            continue
        if "MassDisplacement" in name:
            displacement = max(displacement, float(np.max(error, initial=0.0)))
            continue
        scale = np.maximum(np.abs(want[both]), 1e-12)
        relative = max(relative, float(np.max(error / scale, initial=0.0)))
    return (
        f"largest relative difference to cp_measure {relative:.1e}, "
        f"MassDisplacement {displacement:.1e} px, Orientation {orientation:.1e} degrees"
    )


def _cpu_rows(labels, image, repeat):
    from cp_measure.bulk import get_core_measurements
    from scipy import ndimage

    from napari_openhcs.functions import measure_cells
    from napari_openhcs.functions._cellprofiler import scale_like_cellprofiler
    from napari_openhcs.functions.gpumeasure import array_statistics

    core = get_core_measurements(legacy=True, sanitize=False)
    scaled = scale_like_cellprofiler(image)
    rows = [
        ("cpu", "cp_measure intensity", _best(lambda: core["intensity"](labels, scaled), repeat)),
        (
            "cpu",
            "cp_measure size and shape (sizeshape, zernike, feret)",
            _best(lambda: [core[p](labels, None) for p in ("sizeshape", "zernike", "feret")], 1),
        ),
        ("cpu", "cp_measure sizeshape alone", _best(lambda: core["sizeshape"](labels, None), 1)),
    ]
    rows.append(
        (
            "cpu",
            "gpumeasure.array_statistics on NumPy/SciPy (the CuPy code)",
            _best(lambda: array_statistics(labels, [image], np, ndimage), repeat),
        )
    )
    options = dict(channels=("DNA",))
    rows.append(
        (
            "cpu",
            "measure_cells (intensity + sizeshape)",
            _best(lambda: measure_cells(labels[None], image[None], **options), 1),
        )
    )
    return rows, measure_cells(labels[None], image[None], **options)[1]


def _cle_rows(labels, image, cpu_table, repeat):
    import warnings

    import pyclesperanto as cle

    from napari_openhcs.functions.pyclesperanto import measure_cells
    from napari_openhcs.memory import memory_type_status

    ok, reason = memory_type_status()["pyclesperanto"]
    if not ok:
        return [], f"pyclesperanto: {reason}"
    device = cle.get_device().name
    lab, pix = cle.push(labels.astype(np.uint32)), cle.push(image)
    lab3, pix3 = cle.push(labels[None].astype(np.uint32)), cle.push(image[None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statistics_of_labelled_pixels is deprecated
        legacy = _best(lambda: cle.statistics_of_labelled_pixels(pix, lab), repeat)
    rows = [
        ("pyclesperanto", "statistics_of_labelled_pixels (on device)", legacy),
        (
            "pyclesperanto",
            "labels_statistics (on device)",
            _best(lambda: cle.labels_statistics(lab, pix), repeat),
        ),
        (
            "pyclesperanto",
            "measure_cells, device arrays in",
            _best(lambda: measure_cells(lab3, pix3, channels=("DNA",)), repeat),
        ),
        (
            "pyclesperanto",
            "measure_cells, numpy in (with upload)",
            _best(lambda: measure_cells(labels[None], image[None], channels=("DNA",)), repeat),
        ),
    ]
    table = measure_cells(labels[None], image[None], channels=("DNA",))[1]
    return rows, f"pyclesperanto on {device}: {_differences(table, cpu_table)}"


def _cupy_rows(labels, image, cpu_table, repeat):
    from napari_openhcs.memory import memory_type_status

    ok, reason = memory_type_status()["cupy"]
    if not ok:
        return [], f"cupy: {reason}"
    import cupy as cp
    from cupyx.scipy import ndimage

    from napari_openhcs.functions.cupy import measure_cells
    from napari_openhcs.functions.gpumeasure import array_statistics

    lab, pix = cp.asarray(labels), cp.asarray(image)
    rows = [
        (
            "cupy",
            "array_statistics (on device)",
            _best(lambda: array_statistics(lab, [pix], cp, ndimage), repeat),
        ),
        (
            "cupy",
            "measure_cells, device arrays in",
            _best(lambda: measure_cells(lab[None], pix[None], channels=("DNA",)), repeat),
        ),
        (
            "cupy",
            "measure_cells, numpy in (with upload)",
            _best(lambda: measure_cells(labels[None], image[None], channels=("DNA",)), repeat),
        ),
    ]
    table = measure_cells(labels[None], image[None], channels=("DNA",))[1]
    name = cp.cuda.runtime.getDeviceProperties(cp.cuda.runtime.getDevice())["name"]
    name = name.decode() if isinstance(name, bytes) else name
    return rows, f"cupy on {name}: {_differences(table, cpu_table)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1080)
    parser.add_argument("--cells", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from napari_openhcs.plates.synthetic_cells import make_cells

    site = make_cells(args.size, count=args.cells, seed=0)
    labels, image = site.cells.astype(np.int32), site.image[0]
    objects = int(len(np.unique(labels)) - 1)
    rows, cpu_table = _cpu_rows(labels, image, args.repeat)
    notes = []
    for backend in (_cle_rows, _cupy_rows):
        try:
            more, note = backend(labels, image, cpu_table, args.repeat)
        except ImportError as exc:
            more, note = [], f"{backend.__name__[1:-5]}: not installed ({exc})"
        rows += more
        notes.append(note)

    print(f"site {args.size}x{args.size}, {objects} cells, DNA channel, best of {args.repeat}")
    print(f"{'backend':<14} {'step':<60} {'ms':>9}")
    for backend, step, seconds in rows:
        print(f"{backend:<14} {step:<60} {1000 * seconds:9.2f}")
    for note in notes:
        print(note)
    RESULTS.mkdir(exist_ok=True)
    out = {
        "size": args.size,
        "objects": objects,
        "repeat": args.repeat,
        "rows": [{"backend": b, "step": s, "seconds": t} for b, s, t in rows],
        "notes": notes,
    }
    write_text(RESULTS / "gpu_measure.json", json.dumps(out, indent=2))
    print(f"wrote {RESULTS / 'gpu_measure.json'}")


if __name__ == "__main__":
    main()
