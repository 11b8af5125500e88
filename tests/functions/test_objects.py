"""Primary, secondary and tertiary objects against known truth (synthetic and real images)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from napari_openhcs.functions import (
    filter_objects,
    identify_primary_objects,
    identify_secondary_objects,
    identify_tertiary_objects,
    relate_objects,
)
from napari_openhcs.plates.synthetic_cells import make_cells

DATA = Path(__file__).resolve().parents[1] / "data"


def matched_iou(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, int]:
    """For each true object the best IoU with a predicted object; and the number of true
    objects matched at IoU > 0.5 (a one-to-one match at that threshold)."""
    from skimage.metrics import contingency_table

    table = contingency_table(truth.ravel(), pred.ravel()).toarray()
    inter = table[1:, 1:]
    union = table.sum(1)[1:, None] + table.sum(0)[None, 1:] - inter
    iou = inter / np.maximum(union, 1)
    present = table.sum(1)[1:] > 0
    best = iou.max(axis=1)[present] if iou.shape[1] else np.zeros(present.sum())
    return best, int((iou > 0.5).sum())


def assert_cells_hold_their_nuclei(cells: np.ndarray, nuclei: np.ndarray) -> None:
    """Every cell contains all of its nucleus and no other; cells and nuclei share numbers."""
    assert set(np.unique(cells)) == set(np.unique(nuclei))
    inside = nuclei > 0
    assert np.array_equal(cells[inside], nuclei[inside])


@pytest.fixture(scope="module")
def site():
    return make_cells(256, count=30, seed=3, marker=(0.5, 1.5))


@pytest.mark.parametrize("method", ["otsu", "otsu3", "minimum_cross_entropy", "robust_background"])
@pytest.mark.parametrize("scope", ["global", "adaptive"])
def test_primary_objects_find_each_synthetic_nucleus(site, method, scope):
    labels = identify_primary_objects(
        site.image[0], threshold_method=method, threshold_scope=scope, exclude_border=False
    )[0]
    best, matched = matched_iou(labels, site.nuclei)
    truth = int(site.nuclei.max())
    assert abs(int(labels.max()) - truth) <= max(1, round(0.05 * truth))
    assert matched >= truth - 1
    assert np.median(best) > 0.7  # the stain's blurred rim is split differently by each


def test_adaptive_threshold_recovers_nuclei_dimmed_by_uneven_illumination(site):
    ramp = np.linspace(0.1, 1.0, site.nuclei.shape[1])[None, :]  # 10x dimmer on the left
    dna = (site.image[0] * ramp).astype(np.uint16)
    found = {
        scope: matched_iou(
            identify_primary_objects(dna, threshold_scope=scope, exclude_border=False)[0],
            site.nuclei,
        )[1]
        for scope in ("global", "adaptive")
    }
    assert found["global"] < site.nuclei.max()
    assert found["adaptive"] > found["global"]


def test_manual_threshold_is_in_cellprofiler_units():
    plane = np.zeros((60, 60), dtype=np.uint8)
    yy, xx = np.mgrid[:60, :60]
    plane[(yy - 30) ** 2 + (xx - 30) ** 2 <= 8**2] = 102  # 102 / 255 = 0.4
    found = identify_primary_objects(plane, threshold_method="manual", manual_threshold=0.35)
    missed = identify_primary_objects(plane, threshold_method="manual", manual_threshold=0.45)
    assert found.max() == 1 and missed.max() == 0


def test_threshold_bounds_and_correction_factor_raise_the_threshold(site):
    dna = site.image[0]
    plain = identify_primary_objects(dna, exclude_border=False)
    strict = identify_primary_objects(dna, exclude_border=False, correction_factor=3.0)
    # A threshold above every nucleus (uint16 / 65535 of ~10000 is ~0.15) finds nothing.
    bounded = identify_primary_objects(dna, exclude_border=False, lower_bound=0.9)
    assert (strict > 0).sum() < (plain > 0).sum()
    assert bounded.max() == 0


def _disks(centres_radii, shape=(80, 120), value=200):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    plane = np.zeros(shape, dtype=np.uint8)
    for cy, cx, r in centres_radii:
        plane[(yy - cy) ** 2 + (xx - cx) ** 2 <= r**2] = value
    return plane


@pytest.mark.parametrize("declump", ["shape", "intensity"])
@pytest.mark.parametrize("lines", ["shape", "intensity", "propagate"])
def test_declumping_splits_touching_nuclei(declump, lines):
    pair = _disks([(40, 45, 10), (40, 62, 10)])  # overlapping: a neck between two seeds
    if declump == "intensity":
        from scipy import ndimage as ndi

        pair = ndi.gaussian_filter(pair.astype(float), 3).astype(np.uint8)
    split = identify_primary_objects(pair, declump=declump, dividing_lines=lines)[0]
    joined = identify_primary_objects(pair, declump="none", max_diameter=60)
    assert split.max() == 2
    assert joined.max() == 1
    # The dividing line runs through the neck, between the two centres.
    assert split[40, 45] != split[40, 62]
    assert abs(np.argwhere(split == split[40, 45])[:, 1].max() - 53.5) <= 2


def test_low_resolution_maxima_split_large_nuclei_like_full_resolution():
    """For min_diameter above 10 CellProfiler looks for maxima on the image shrunk by
    10 / min_diameter; for well separated maxima both views agree."""
    from scipy import ndimage as ndi

    pair = _disks([(60, 60, 20), (60, 95, 20)], shape=(120, 160))
    pair = ndi.gaussian_filter(pair.astype(float), 5).astype(np.uint8)
    kwargs = dict(min_diameter=25, max_diameter=80)
    low = identify_primary_objects(pair, **kwargs)[0]
    full = identify_primary_objects(pair, low_res_maxima=False, **kwargs)[0]
    assert low.max() == full.max() == 2
    assert (low == 0).sum() == (full == 0).sum()


def test_real_nuclei_with_cellprofilers_defaults_are_counted_within_ten_percent_of_their_masks():
    """DSB2018 fluorescent nuclei (tests/data/dsb2018) against their annotated masks, with
    the function's defaults (CellProfiler 4's) except that border objects are kept, since
    the masks annotate the nuclei cut by the border too. CellProfiler's algorithm counts
    114 of the 125 nuclei (-8.8%, F1 0.74 at IoU 0.5), exactly as CellProfiler itself does
    (next test). Of the 37 true nuclei that no object matches, 24 are merged with a
    touching neighbour (11 have no intensity maximum of their own: the smoothed intensity
    rises all the way into the brighter neighbour), 6 are delineated at IoU <= 0.5, 3 are
    over-split, 2 are not thresholded and 2 lie in clumps over 40 px that the size filter
    removes; the clumps and the pieces are found objects too, so the count misses less
    than the matches do (``benchmarks/nuclei_accuracy_bench.py`` gives the causes). The
    issue's 5% is not reached with these defaults; this guards the 10% they reach."""
    import tifffile

    image = tifffile.imread(DATA / "dsb2018" / "img2d.tif")
    truth = tifffile.imread(DATA / "dsb2018" / "mask2d.tif")
    labels = identify_primary_objects(image, exclude_border=False)[0]
    n_true, n_found = len(np.unique(truth)) - 1, len(np.unique(labels)) - 1
    assert abs(n_found - n_true) <= 0.10 * n_true
    _, matched = matched_iou(labels, truth)
    assert 2 * matched / (n_found + n_true) > 0.7


@pytest.mark.parametrize(
    "reference, kwargs",
    [
        ("cellprofiler_defaults", {}),
        ("cellprofiler_shape", {"declump": "shape", "dividing_lines": "shape"}),
    ],
)
def test_primary_objects_are_cellprofilers_own_on_real_nuclei(reference, kwargs):
    """The labels that CellProfiler's own IdentifyPrimaryObjects gives the DSB2018 image
    (cellprofiler-library 5.0.0.dev784 with CellProfiler 4's basic-mode settings: minimum
    cross-entropy, threshold smoothing scale 1.3488, diameters 10-40, holes filled after
    thresholding and declumping, border objects kept; declumping by intensity, or by
    shape with shape dividing lines), stored by ``benchmarks/nuclei_accuracy_bench.py
    --cellprofiler --write-reference``: ours are the same, pixel for pixel and number for
    number."""
    import tifffile

    image = tifffile.imread(DATA / "dsb2018" / "img2d.tif")
    theirs = tifffile.imread(DATA / "dsb2018" / f"{reference}.tif")
    ours = identify_primary_objects(image, exclude_border=False, **kwargs)[0]
    assert np.array_equal(ours, theirs)


def test_diameter_range_discards_small_and_large_objects():
    plane = _disks([(20, 20, 3), (40, 60, 9), (40, 95, 22)], shape=(90, 130))
    labels = identify_primary_objects(plane, min_diameter=10, max_diameter=40, declump="none")
    assert labels.max() == 1
    assert labels[0, 40, 60] == 1


def test_border_objects_are_discarded_unless_asked_to_keep_them():
    plane = _disks([(40, 5, 9), (40, 60, 9)])
    assert identify_primary_objects(plane).max() == 1
    assert identify_primary_objects(plane, exclude_border=False).max() == 2


def test_holes_are_filled():
    plane = _disks([(40, 60, 12)])
    plane[_disks([(40, 60, 4)]) > 0] = 0
    filled = identify_primary_objects(plane, declump="none")
    open_ = identify_primary_objects(plane, declump="none", fill_holes=False)
    assert filled[0, 40, 60] == 1 and open_[0, 40, 60] == 0


def test_propagated_cells_match_the_true_cells(site):
    nuclei = site.nuclei[None]
    cells = identify_secondary_objects(site.image[1][None], nuclei, method="propagation")
    best, matched = matched_iou(cells[0], site.cells)
    assert matched == site.cells.max()
    assert np.median(best) > 0.85
    assert_cells_hold_their_nuclei(cells, nuclei)


def test_watershed_cells_match_the_true_cells_in_a_stain_without_nuclear_dip():
    # Watershed on the inverted image floods from each nucleus; a stain that is dim over
    # the nuclei would wall every seed in (propagation is the method for that stain).
    site = make_cells(256, count=30, seed=3, marker=(0.5, 1.5), over_nucleus=1.0)
    nuclei = site.nuclei[None]
    cells = identify_secondary_objects(site.image[1][None], nuclei, method="watershed_image")
    best, matched = matched_iou(cells[0], site.cells)
    assert matched == site.cells.max()
    assert np.median(best) > 0.85
    assert_cells_hold_their_nuclei(cells, nuclei)


def test_secondary_objects_by_distance_grow_each_nucleus_by_that_distance(site):
    from scipy import ndimage as ndi

    cells = identify_secondary_objects(
        site.image[1][None], site.nuclei, method="distance", distance=4
    )[0]
    near = ndi.distance_transform_edt(site.nuclei == 0) <= 4
    assert np.array_equal(cells > 0, near)
    assert_cells_hold_their_nuclei(cells, site.nuclei)


@pytest.mark.parametrize("method", ["propagation", "watershed_image", "distance"])
def test_every_cell_contains_exactly_its_nucleus_even_where_the_stain_is_dark(method):
    # Nuclei where the cytoplasm stain is black still get a cell: the nucleus itself.
    site = make_cells(160, count=12, seed=5, positive_fraction=0.5)
    stain = site.image[1].copy()
    stain[:, :80] = 0
    nuclei = identify_primary_objects(site.image[0], exclude_border=False)
    cells = identify_secondary_objects(stain[None], nuclei, method=method)
    assert_cells_hold_their_nuclei(cells, nuclei)


def test_cytoplasm_is_cell_minus_nucleus_with_the_cells_numbers(site):
    cytoplasm = identify_tertiary_objects(site.cells, site.nuclei)[0]
    assert np.array_equal(cytoplasm, site.cytoplasm)
    assert set(np.unique(cytoplasm)) == set(np.unique(site.cells))


def test_shrunk_nuclei_leave_a_ring_of_cytoplasm_where_cell_equals_nucleus():
    nuclei = np.zeros((1, 20, 20), dtype=np.int32)
    nuclei[0, 5:12, 5:12] = 4
    cells = nuclei.copy()  # a cell no larger than its nucleus
    assert identify_tertiary_objects(cells, nuclei).max() == 0
    ring = identify_tertiary_objects(cells, nuclei, shrink_nuclei=True)
    assert ring.max() == 4
    assert (ring == 4).sum() < (cells == 4).sum()
    assert np.all(nuclei[ring > 0] == 4)


def test_filter_objects_keeps_numbers_and_filters_by_measurement():
    labels = np.zeros((1, 30, 30), dtype=np.int32)
    labels[0, 1:3, 1:3] = 1  # area 4
    labels[0, 10:20, 10:20] = 2  # area 100
    labels[0, 22:28, 2:8] = 3  # area 36
    assert sorted(np.unique(filter_objects(labels, minimum=30))) == [0, 2, 3]
    assert sorted(np.unique(filter_objects(labels, minimum=30, maximum=50))) == [0, 3]
    by_value = filter_objects(labels, [0.9, 0.1, 0.5], maximum=0.5)
    assert sorted(np.unique(by_value)) == [0, 2, 3]


def test_relate_objects_gives_each_child_its_parent_and_each_parent_its_count():
    cells = np.zeros((1, 20, 20), dtype=np.int32)
    cells[0, :, :10] = 1
    cells[0, :, 10:] = 2
    spots = np.zeros_like(cells)
    spots[0, 2:4, 2:4] = 1
    spots[0, 12:14, 3:5] = 2
    spots[0, 5:7, 8:13] = 3  # straddles; mostly in cell 2
    spots[0, 15:17, 15:17] = 5  # number 4 is absent
    _, parents, counts = relate_objects(cells, spots)
    assert parents.column("ObjectNumber").to_pylist() == [1, 2, 3, 5]
    assert parents.column("Parent").to_pylist() == [1, 1, 2, 2]
    assert counts.column("ChildCount").to_pylist() == [2, 2]


def _examplefly() -> dict[str, np.ndarray]:
    import tifffile

    return {ch: tifffile.imread(DATA / "examplefly" / f"01_POS002_{ch}_crop.tif") for ch in "DFR"}


def test_examplefly_cells_hold_their_nuclei_and_cytoplasm_is_the_rest():
    """CellProfiler's ExampleFly site (DNA, FITC cytoplasm, rhodamine; the pipeline's own
    200 x 200 crop), segmented with ExampleFly.cppipe's nuclei settings: minimum
    cross-entropy, diameters 10-40, declumping by shape with shape dividing lines, border
    objects discarded. CellProfiler's own IdentifyPrimaryObjects (cellprofiler-library
    with those settings) finds 20 nuclei here; then cells by propagation in the cytoplasm
    stain and cytoplasm between them."""
    images = _examplefly()
    nuclei = identify_primary_objects(images["D"], declump="shape", dividing_lines="shape")
    cells = identify_secondary_objects(images["F"][None], nuclei)
    cytoplasm = identify_tertiary_objects(cells, nuclei)
    assert nuclei.max() == 20
    assert_cells_hold_their_nuclei(cells, nuclei)
    assert np.array_equal(cytoplasm, np.where(nuclei > 0, 0, cells))
    assert (cells > 0).sum() > 1.5 * (nuclei > 0).sum()


def test_object_functions_are_listed_with_their_choices_and_bounds(tmp_path):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path))
    out = subprocess.run(
        ["napari-openhcs", "functions", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = {f["ref"].rsplit(".", 1)[-1]: f for f in json.loads(out.stdout)}
    primary = {p["name"]: p for p in listed["identify_primary_objects"]["params"]}
    assert primary["threshold_method"]["choices"] == [
        "otsu",
        "otsu3",
        "minimum_cross_entropy",
        "robust_background",
        "manual",
    ]
    assert primary["min_diameter"]["bounds"] == [1.0, 1000.0]
    assert primary["manual_threshold"]["bounds"] == [0.0, 1.0]
    secondary = {p["name"]: p for p in listed["identify_secondary_objects"]["params"]}
    assert (
        secondary["seeds"]["annotation"] == "objects"
    )  # an object set: {"objects": "<earlier step>"}
    assert secondary["method"]["choices"] == ["propagation", "watershed_image", "distance"]
    for name in ("identify_tertiary_objects", "filter_objects", "relate_objects", "measure_cells"):
        assert listed[name]["available"]


def test_filter_objects_passes_empty_labels_through():
    empty = np.zeros((1, 8, 8), dtype=np.int32)
    assert not filter_objects(empty, minimum=5).any()
