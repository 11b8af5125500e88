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
- totals for the default families (intensity, size and shape) and with texture.

Seconds are the best of ``--repeat`` runs (one core: the machine's other cores are left
alone); "per object" divides by the compartment's object count. Prints a table and writes
JSON to ``benchmarks/results/cell_profile.json``.

Usage: ``python benchmarks/cell_profile_bench.py [--size 1080] [--cells 240] [--repeat 2]``
"""

from __future__ import annotations

import argparse
import json
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1080)
    parser.add_argument("--cells", type=int, default=240)
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()

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
    for name, labels in sets.items():
        masks = relabel_sequential(labels)[0]
        count = int(len(np.unique(labels)) - 1)
        for family in FAMILIES:
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
    rows += totals

    print(f"site {args.size}x{args.size}, 3 channels, {n_cells} cells, best of {args.repeat}")
    print(
        f"{'set':<10} {'step':<40} {'objects':>7} {'ours s':>8} {'ms/obj':>7} "
        f"{'cp_measure s':>12} {'overhead':>9}"
    )
    for group, step, count, ours, direct in rows:
        per = 1000 * ours / max(count, 1)
        extra = "" if direct is None else f"{direct:12.3f} {100 * (ours / direct - 1):8.1f}%"
        print(f"{group:<10} {step:<40} {count:>7} {ours:8.3f} {per:7.2f} {extra}")
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
    }
    (RESULTS / "cell_profile.json").write_text(json.dumps(out, indent=2))
    print(f"wrote {RESULTS / 'cell_profile.json'}")


if __name__ == "__main__":
    main()
