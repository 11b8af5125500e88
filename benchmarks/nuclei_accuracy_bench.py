"""Nuclei found by ``identify_primary_objects`` against ground-truth masks.

The image is the DSB2018 fluorescent-nuclei sample in ``tests/data/dsb2018`` (512 x 512,
125 annotated nuclei). Each row runs the primary-objects function with the package's
default parameters except the one setting named in the row, and reports the count against
the truth and F1 at IoU 0.5 (a found object matches a true one when their intersection
over union exceeds 0.5; each true object matches at most once).

The defaults were fixed before this image was looked at; the rows other than "defaults"
show how far single settings move the result, not a tuning. Prints a table and writes
JSON to ``benchmarks/results/nuclei_accuracy.json``.

Usage: ``python benchmarks/nuclei_accuracy_bench.py``
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tifffile

from napari_openhcs.functions.objects import identify_primary_objects

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent / "tests" / "data" / "dsb2018"
ROWS = {
    "defaults (border objects kept)": {},
    "adaptive threshold": {"threshold_scope": "adaptive"},
    "otsu3": {"threshold_method": "otsu3"},
    "minimum cross-entropy": {"threshold_method": "minimum_cross_entropy"},
    "declump by intensity": {"declump": "intensity"},
}


def f1_at_iou(found: np.ndarray, truth: np.ndarray, iou: float = 0.5) -> float:
    """F1 of ``found`` labels against ``truth`` labels, a match being IoU > ``iou``."""
    f_ids, t_ids = np.unique(found[found > 0]), np.unique(truth[truth > 0])
    if not len(f_ids) or not len(t_ids):
        return 0.0
    pairs = np.stack([found.ravel(), truth.ravel()], axis=1)
    pairs = pairs[(pairs[:, 0] > 0) & (pairs[:, 1] > 0)]
    overlap, counts = np.unique(pairs, axis=0, return_counts=True)
    f_area = dict(zip(*np.unique(found[found > 0], return_counts=True), strict=True))
    t_area = dict(zip(*np.unique(truth[truth > 0], return_counts=True), strict=True))
    matched_t: set[int] = set()
    tp = 0
    for (f, t), n in zip(overlap.tolist(), counts.tolist(), strict=True):
        if t not in matched_t and n / (f_area[f] + t_area[t] - n) > iou:
            matched_t.add(t)
            tp += 1
    return 2 * tp / (len(f_ids) + len(t_ids))


def main() -> None:
    image = tifffile.imread(DATA / "img2d.tif")
    truth = tifffile.imread(DATA / "mask2d.tif")
    n_true = len(np.unique(truth)) - 1
    rows = []
    print(f"{'setting':34} {'found':>6} {'truth':>6} {'error':>8} {'F1@0.5':>7}")
    for name, kwargs in ROWS.items():
        labels = identify_primary_objects(image, exclude_border=False, **kwargs)[0]
        found = len(np.unique(labels)) - 1
        err = (found - n_true) / n_true
        f1 = f1_at_iou(labels, truth)
        rows.append({"setting": name, "found": found, "truth": n_true, "error": err, "f1": f1})
        print(f"{name:34} {found:6d} {n_true:6d} {err:+8.1%} {f1:7.3f}")
    out = ROOT / "results" / "nuclei_accuracy.json"
    out.parent.mkdir(exist_ok=True)
    tmp = out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(rows, indent=1))
    tmp.replace(out)


if __name__ == "__main__":
    main()
