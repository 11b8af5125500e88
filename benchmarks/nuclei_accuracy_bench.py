"""Nuclei found by ``identify_primary_objects`` against ground-truth masks, and why some
are missed.

The images are fluorescent nuclei with their annotated masks: by default the pairs
``img*.tif`` / ``mask*.tif`` in ``tests/data/dsb2018`` (the one 2-D DSB2018 sample that
the stardist wheel ships, 512 x 512, 125 nuclei); ``--pair IMAGE MASK`` adds others (a
3-D pair counts by its middle plane, or by every plane with ``--planes all``). Each row
runs the primary-objects function with the package's defaults, which are CellProfiler
4's own (see its docstring), except the setting named in the row, and reports per image
and over all images the count against the truth and F1 at IoU 0.5 (a found object
matches a true one when their intersection over union exceeds 0.5, which makes matches
one-to-one).

The masks annotate nuclei cut by the image border too, so the first row, the defaults
(border objects discarded, as CellProfiler does), is compared with the true nuclei that
do not touch the border; the other rows keep border objects and compare with all true
nuclei. The rows other than the defaults show how far single settings move the result;
they are not a tuning.

For the first two rows every true nucleus that no found object matches is given its
cause, in this order: *not thresholded* (under half of it is foreground); *merged* (the
object covering most of it after declumping also covers at least 30% of another true
nucleus); *no seed* (of the merged ones: no intensity maximum that declumping seeds
from lies in it); *size* or *border* (declumping delineated it, IoU > 0.5, and the size
or border filter removed it); *over-split* (two or more pieces each cover 20% of it);
*boundary* (one piece, IoU 0.5 or less).

``--cellprofiler`` also runs CellProfiler's own IdentifyPrimaryObjects (the
``cellprofiler_library`` package, where installed, with CellProfiler 4's basic-mode
settings written out) on each image and reports how many pixels differ from ours;
``--write-reference`` then stores CellProfiler's labels of the shipped image in
``tests/data/dsb2018`` for the tests. Prints tables and writes JSON to
``benchmarks/results/nuclei_accuracy.json``.

Usage: ``python benchmarks/nuclei_accuracy_bench.py [--pair IMAGE MASK ...]
[--planes middle|all] [--cellprofiler [--write-reference]]``
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np
import tifffile
from centrosome.cpmorphology import fill_labeled_holes
from scipy import ndimage as ndi
from skimage.metrics import contingency_table
from skimage.segmentation import clear_border

from napari_openhcs.atomic import replace_file, write_json
from napari_openhcs.functions._cellprofiler import (
    _maxima,
    foreground,
    scale_like_cellprofiler,
    smooth_edge_corrected,
    split_clumps,
)
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
#: Settings of the stored CellProfiler references (file stem -> our keyword arguments).
REFERENCES = {
    "cellprofiler_defaults": {"exclude_border": False},
    "cellprofiler_shape": {"exclude_border": False, "declump": "shape", "dividing_lines": "shape"},
}


def match_counts(found: np.ndarray, truth: np.ndarray, iou: float = 0.5) -> tuple[int, int, int]:
    """(found objects, true objects, pairs matched at IoU > ``iou``) of two label images."""
    inter, ious, t_area, f_area = _overlaps(truth, found)
    n_true = int((t_area > 0).sum())
    n_found = int((f_area > 0).sum())
    return n_found, n_true, int((ious > iou).sum())


def f1(n_found: int, n_true: int, matched: int) -> float:
    """F1 of ``matched`` one-to-one matches among ``n_found`` and ``n_true`` objects."""
    return 2 * matched / (n_found + n_true) if n_found + n_true else 1.0


def _overlaps(truth: np.ndarray, found: np.ndarray):
    """Intersections and IoUs (true x found, background left out) and both sets' areas."""
    table = contingency_table(truth.ravel(), found.ravel()).toarray()
    t_area, f_area = table.sum(1)[1:], table.sum(0)[1:]
    inter = table[1:, 1:]
    return inter, inter / np.maximum(t_area[:, None] + f_area[None, :] - inter, 1), t_area, f_area


def missed_causes(image: np.ndarray, truth: np.ndarray, exclude_border: bool) -> Counter:
    """Why the true nuclei that the defaults miss are missed (see the module docstring):
    the defaults' steps are rerun one by one to see where each nucleus is lost."""
    plane = scale_like_cellprofiler(image)
    mask = foreground(
        plane,
        1.0,
        method="minimum_cross_entropy",
        scope="global",
        adaptive_window=50,
        correction_factor=1.0,
        lower_bound=0.0,
        upper_bound=1.0,
        manual_threshold=0.5,
        middle_class="foreground",
    )
    mask = fill_labeled_holes(mask, size_fn=lambda size, is_foreground: size < 40 * 40) > 0
    regions, _ = ndi.label(mask, np.ones((3, 3), dtype=bool))
    split = split_clumps(
        plane,
        regions,
        declump="intensity",
        dividing_lines="intensity",
        min_diameter=10.0,
        filter_size=None,
        seed_distance=None,
        low_res_maxima=True,
        holes_filled=True,
    )
    size = 2.35 * 10 / 3.5
    seeds = _maxima(
        smooth_edge_corrected(plane, size / 2.35, int(size / 2)), regions, 10 / 1.5 - 0.5, 1
    )
    final = identify_primary_objects(image, exclude_border=exclude_border)[0]
    if exclude_border:
        truth = clear_border(truth)
    _, final_iou, t_area, _ = _overlaps(truth, final)
    inter, split_iou, _, s_area = _overlaps(truth, split)
    cover = inter / np.maximum(t_area[:, None], 1)
    kept_after_border = set(np.unique(clear_border(split) if exclude_border else split).tolist())
    causes = Counter()
    for index in np.flatnonzero(t_area):
        if final_iou.shape[1] and final_iou[index].max() > 0.5:
            causes["matched"] += 1
            continue
        inside = truth == index + 1
        best = int(np.argmax(inter[index]))
        if mask[inside].mean() < 0.5:
            cause = "not thresholded"
        elif split_iou[index, best] > 0.5:
            cause = "size" if best + 1 in kept_after_border else "border"
        elif (cover[:, best] > 0.3).sum() >= 2:
            cause = "merged, no seed" if not seeds[inside].any() else "merged, seeded"
        elif (inter[index] > 0.2 * t_area[index]).sum() >= 2:
            cause = "over-split"
        else:
            cause = "boundary"
        causes[cause] += 1
    return causes


def cellprofiler_labels(image: np.ndarray, **kwargs) -> np.ndarray | None:
    """CellProfiler's own IdentifyPrimaryObjects (``cellprofiler_library``) of ``image``
    with CellProfiler 4's basic-mode settings (sigma-1 threshold smoothing, minimum
    cross-entropy without log transform, declumping by intensity, automatic sizes);
    ``kwargs`` are ours (``exclude_border``, ``declump``/``dividing_lines`` 'shape').
    None where the package is not installed."""
    try:
        # cellprofiler_library still names np.float_ in type hints (removed in NumPy 2).
        if not hasattr(np, "float_"):
            np.float_ = np.float64
        from cellprofiler_library.modules._identifyprimaryobjects import identifyprimaryobjects
        from cellprofiler_library.opts import identifyprimaryobjects as opts
        from cellprofiler_library.opts import threshold as cp_threshold
    except ImportError:
        return None
    shape = kwargs.get("declump") == "shape"
    return identifyprimaryobjects(
        scale_like_cellprofiler(image),
        mask=np.ones(image.shape, dtype=bool),
        threshold_method=cp_threshold.Method.MINIMUM_CROSS_ENTROPY,
        threshold_scope=cp_threshold.Scope.GLOBAL,
        threshold_smoothing=1.3488,  # CellProfiler's scale; sigma = 1.3488 / 0.6744 / 2 = 1
        log_transform=False,
        min_size=10,
        max_size=40,
        exclude_border_objects=kwargs.get("exclude_border", True),
        unclump_method=opts.UnclumpMethod.SHAPE if shape else opts.UnclumpMethod.INTENSITY,
        watershed_method=opts.WatershedMethod.SHAPE if shape else opts.WatershedMethod.INTENSITY,
        fill_holes_method=opts.FillHolesMethod.THRESHOLDING,
        low_res_maxima=True,
        automatic_suppression=True,
    )


def pairs(extra: list[list[str]], planes: str) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(name, image, mask) of the shipped pairs and of ``extra``, 3-D ones as planes."""
    found = [
        (image, image.with_name(image.name.replace("img", "mask", 1)))
        for image in sorted(DATA.glob("img*.tif"))
    ]
    out = []
    for image, mask in found + [(Path(i), Path(m)) for i, m in extra]:
        pixels, truth = tifffile.imread(image), tifffile.imread(mask)
        if pixels.ndim == 2:
            out.append((image.stem, pixels, truth))
            continue
        chosen = range(pixels.shape[0]) if planes == "all" else [pixels.shape[0] // 2]
        out += [(f"{image.stem}[z={z}]", pixels[z], truth[z]) for z in chosen]
    return out


def main() -> None:
    """Print the rows, the causes of the misses and (optionally) CellProfiler's parity."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pair", nargs=2, action="append", default=[], metavar=("IMAGE", "MASK"))
    parser.add_argument("--planes", choices=("middle", "all"), default="middle")
    parser.add_argument("--cellprofiler", action="store_true")
    parser.add_argument("--write-reference", action="store_true")
    args = parser.parse_args()
    images = pairs(args.pair, args.planes)
    rows = []
    print(f"{'setting':38} {'image':14} {'found':>6} {'truth':>6} {'error':>8} {'F1@0.5':>7}")
    for setting, kwargs in ROWS.items():
        totals = np.zeros(3, dtype=int)
        for name, image, truth in images:
            if kwargs.get("exclude_border", True):
                truth = clear_border(truth)
            try:
                labels = identify_primary_objects(image, **kwargs)[0]
            except ValueError as error:  # an adaptive window too large for a small image
                print(f"{setting:38} {name:14} not run: {error}")
                continue
            counts = match_counts(labels, truth)
            totals += counts
            rows.append(_row(setting, name, *counts))
        if len(images) > 1:
            rows.append(_row(setting, "all", *totals.tolist()))
    causes = {}
    for border in (True, False):
        key = "border objects discarded" if border else "border objects kept"
        total = Counter()
        for name, image, truth in images:
            found = missed_causes(image, truth, border)
            total += found
            causes[f"{key}: {name}"] = dict(found)
        print(f"true nuclei by cause, defaults, {key}: {dict(total.most_common())}")
    result = {"rows": rows, "missed": causes}
    if args.cellprofiler:
        result["cellprofiler"] = _parity(images, args.write_reference)
    write_json(ROOT / "results" / "nuclei_accuracy.json", result, indent=1)


def _parity(images, write_reference: bool) -> dict:
    """Pixels where our labels and CellProfiler's own differ, per image and setting."""
    parity = {}
    for stem, kwargs in REFERENCES.items():
        for name, image, _ in images:
            theirs = cellprofiler_labels(image, **kwargs)
            if theirs is None:
                print("cellprofiler_library is not installed: no parity check")
                return parity
            ours = identify_primary_objects(image, **kwargs)[0]
            differ = int((ours != theirs).sum())
            parity[f"{stem}: {name}"] = {
                "ours": int(ours.max()),
                "cp": int(theirs.max()),
                "differ": differ,
            }
            print(
                f"CellProfiler parity {stem:22} {name:14} objects {ours.max()} vs {theirs.max()}, {differ} px differ"
            )
            if write_reference and name == "img2d":
                with replace_file(DATA / f"{stem}.tif") as tmp:
                    tifffile.imwrite(tmp, theirs.astype(np.uint16), compression="zlib")
    return parity


def _row(setting: str, name: str, n_found: int, n_true: int, matched: int) -> dict:
    error = (n_found - n_true) / n_true
    score = f1(n_found, n_true, matched)
    print(f"{setting:38} {name:14} {n_found:6d} {n_true:6d} {error:+8.1%} {score:7.3f}")
    return dict(setting=setting, image=name, found=n_found, truth=n_true, error=error, f1=score)


if __name__ == "__main__":
    main()
