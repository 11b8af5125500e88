"""Nuclei found by ``identify_primary_objects`` against ground-truth masks.

The images are DSB2018 fluorescent nuclei with their annotated masks: by default the
pairs ``img*.tif`` / ``mask*.tif`` in ``tests/data/dsb2018`` (the one 2-D sample that the
stardist wheel ships, 512 x 512, 125 nuclei); ``--pair IMAGE MASK`` adds others (e.g.
from the DSB2018 stage-1 training set). Each row runs the primary-objects function with
the package's defaults, which are CellProfiler 4's own (see its docstring), except the
setting named in the row, and reports per image and over all images the count against
the truth and F1 at IoU 0.5 (a found object matches a true one when their intersection
over union exceeds 0.5, which makes matches one-to-one).

The masks annotate nuclei cut by the image border too, so the first row, the defaults
(border objects discarded, as CellProfiler does), is compared with the true nuclei that
do not touch the border; the other rows keep border objects and compare with all true
nuclei. The rows other than the defaults show how far single settings move the result;
they are not a tuning. Prints a table and writes JSON to
``benchmarks/results/nuclei_accuracy.json``.

Usage: ``python benchmarks/nuclei_accuracy_bench.py [--pair IMAGE MASK ...]``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tifffile
from skimage.segmentation import clear_border

from napari_openhcs.atomic import write_json
from napari_openhcs.functions.objects import identify_primary_objects

ROOT = Path(__file__).resolve().parent
DATA = ROOT.parent / "tests" / "data" / "dsb2018"
KEPT = {"exclude_border": False}
ROWS = {
    "defaults (border objects discarded)": {},
    "defaults, border objects kept": KEPT,
    "otsu": {**KEPT, "threshold_method": "otsu"},
    "adaptive threshold": {**KEPT, "threshold_scope": "adaptive"},
    "declump by shape, lines by shape": {**KEPT, "declump": "shape", "dividing_lines": "shape"},
    "declump by shape, lines by intensity": {**KEPT, "declump": "shape"},
    "no declumping": {**KEPT, "declump": "none"},
}


def match_counts(found: np.ndarray, truth: np.ndarray, iou: float = 0.5) -> tuple[int, int, int]:
    """(found objects, true objects, pairs matched at IoU > ``iou``) of two label images."""
    from skimage.metrics import contingency_table

    table = contingency_table(truth.ravel(), found.ravel()).toarray()
    t_area, f_area = table.sum(1), table.sum(0)
    inter = table[1:, 1:]
    union = t_area[1:, None] + f_area[None, 1:] - inter
    n_true = int((t_area[1:] > 0).sum())
    n_found = int((f_area[1:] > 0).sum())
    return n_found, n_true, int((inter / np.maximum(union, 1) > iou).sum())


def f1(n_found: int, n_true: int, matched: int) -> float:
    """F1 of ``matched`` one-to-one matches among ``n_found`` and ``n_true`` objects."""
    return 2 * matched / (n_found + n_true) if n_found + n_true else 1.0


def pairs(extra: list[list[str]]) -> list[tuple[str, Path, Path]]:
    """(name, image, mask) of the shipped pairs and of ``extra``."""
    found = [
        (image.stem, image, image.with_name(image.name.replace("img", "mask", 1)))
        for image in sorted(DATA.glob("img*.tif"))
    ]
    return found + [(Path(i).stem, Path(i), Path(m)) for i, m in extra]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", nargs=2, action="append", default=[], metavar=("IMAGE", "MASK"))
    args = parser.parse_args()
    images = [(n, tifffile.imread(i), tifffile.imread(m)) for n, i, m in pairs(args.pair)]
    rows = []
    print(f"{'setting':38} {'image':10} {'found':>6} {'truth':>6} {'error':>8} {'F1@0.5':>7}")
    for setting, kwargs in ROWS.items():
        totals = np.zeros(3, dtype=int)
        for name, image, truth in images:
            if kwargs.get("exclude_border", True):
                truth = clear_border(truth)
            labels = identify_primary_objects(image, **kwargs)[0]
            counts = match_counts(labels, truth)
            totals += counts
            rows.append(_row(setting, name, *counts))
        if len(images) > 1:
            rows.append(_row(setting, "all", *totals.tolist()))
    write_json(ROOT / "results" / "nuclei_accuracy.json", rows, indent=1)


def _row(setting: str, name: str, n_found: int, n_true: int, matched: int) -> dict:
    error = (n_found - n_true) / n_true
    score = f1(n_found, n_true, matched)
    print(f"{setting:38} {name:10} {n_found:6d} {n_true:6d} {error:+8.1%} {score:7.3f}")
    return dict(setting=setting, image=name, found=n_found, truth=n_true, error=error, f1=score)


if __name__ == "__main__":
    main()
