"""Synthetic cell plates: the truth beside them holds, the phenotypes follow the plate map,
bad plate maps are refused in one line, and every reader still sees only the plate."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.csv as pacsv
import pytest
import tifffile
from scipy import ndimage
from skimage.measure import regionprops_table

from helpers import tree_checksum
from napari_openhcs.cli import main
from napari_openhcs.errors import InputError
from napari_openhcs.plates import open_plate, read_plane
from napari_openhcs.plates.synthetic import write_plate
from napari_openhcs.plates.synthetic_score import marker_feature

FORMATS = ["imagexpress", "operaphenix", "omezarr"]
STAINS = {1: "DNA", 2: "Cytoplasm", 3: "Membrane"}
#: Four wells that differ in one phenotype each from A01 (the defaults).
PLATE_MAP = {
    "A02": {"cell_size": "1.8"},
    "B01": {"marker_intensity": "2.5"},
    "B02": {"positive_fraction": "0.3", "treatment": "drug X"},
}
WELLS = ["A01", "A02", "B01", "B02"]


@pytest.fixture(scope="module")
def cell_plate(tmp_path_factory):
    root = tmp_path_factory.mktemp("cells") / "plate"
    return write_plate(
        root, wells=WELLS, sites=3, z=1, size=256, seed=2, content="cells", plate_map=PLATE_MAP
    )


def _truth(plate) -> dict:
    return json.loads((plate / "ground_truth.json").read_text())


def _labels(plate, well, site, kind) -> np.ndarray:
    return tifffile.imread(plate / "truth" / f"{well}_s{site}_{kind}.tif")


def _plane(plate, well, site, channel) -> np.ndarray:
    index = open_plate(plate)
    key = next(k for k in index.keys_for(well, site) if k.channel == channel)
    return read_plane(index.format, index.images[key])


def test_every_true_cell_contains_exactly_its_own_nucleus(cell_plate):
    for well in WELLS:
        for site in (1, 2, 3):
            nuclei = _labels(cell_plate, well, site, "nuclei")
            cells = _labels(cell_plate, well, site, "cells")
            assert nuclei.shape == cells.shape == (256, 256)
            inside = nuclei > 0
            np.testing.assert_array_equal(cells[inside], nuclei[inside])  # nucleus k in cell k
            numbers = np.unique(nuclei[inside])
            np.testing.assert_array_equal(numbers, np.unique(cells[cells > 0]))
            for k in numbers:  # one nucleus per cell, in one piece
                assert ndimage.label(nuclei == k)[1] == 1


def test_counts_in_ground_truth_equal_the_truth_label_images_and_table(cell_plate):
    truth = _truth(cell_plate)
    table = pacsv.read_csv(cell_plate / "truth" / "cells.csv").to_pydict()
    for well in WELLS:
        for site in ("1", "2", "3"):
            nuclei = _labels(cell_plate, well, int(site), "nuclei")
            cells = _labels(cell_plate, well, int(site), "cells")
            n = truth["counts"][well][site]
            assert n >= 10
            assert len(np.unique(nuclei)) - 1 == n == nuclei.max()
            assert len(np.unique(cells)) - 1 == n == cells.max()
            rows = [
                i
                for i, (w, s) in enumerate(
                    zip(table["Metadata_Well"], table["Metadata_Site"], strict=True)
                )
                if w == well and s == int(site)
            ]
            assert [table["ObjectNumber"][i] for i in rows] == list(range(1, n + 1))
            assert [table["Cells_Area"][i] for i in rows] == np.bincount(cells.ravel())[1:].tolist()
            positive = sum(table["Positive"][i] for i in rows)
            assert truth["positive"][well][site] == positive


def _cell_measurements(plate, well) -> dict[str, np.ndarray]:
    """Per true cell of a well, measured by scikit-image on the plate's images: cell area and
    the mean cytoplasm stain over the cytoplasm (cell minus nucleus), less the background."""
    area, marker = [], []
    for site in (1, 2, 3):
        nuclei = _labels(plate, well, site, "nuclei")
        cells = _labels(plate, well, site, "cells")
        stain = _plane(plate, well, site, 2).astype(float)
        background = np.median(stain[cells == 0])
        cyto = np.where(nuclei > 0, 0, cells)
        props = regionprops_table(cells, properties=("label", "area"))
        inner = regionprops_table(cyto, stain, properties=("label", "intensity_mean"))
        assert props["label"].tolist() == inner["label"].tolist()
        area += props["area"].tolist()
        marker += (inner["intensity_mean"] - background).tolist()
    return {"area": np.array(area), "marker": np.array(marker)}


def test_phenotypes_follow_the_plate_map(cell_plate):
    truth = _truth(cell_plate)
    assert truth["phenotypes"]["A01"] == {
        "cell_size": 1.0,
        "marker_intensity": 1.0,
        "positive_fraction": 1.0,
    }  # a well the map does not name gets the defaults
    assert truth["phenotypes"]["A02"]["cell_size"] == 1.8
    assert truth["annotations"] == {"B02": {"treatment": "drug X"}}
    measured = {w: _cell_measurements(cell_plate, w) for w in WELLS}
    # larger cells where cell_size is larger (their nuclei keep their size)
    assert np.median(measured["A02"]["area"]) > 1.6 * np.median(measured["A01"]["area"])
    # marker intensity 2.5 x brighter (A01 and B01: every cell positive)
    ratio = np.median(measured["B01"]["marker"]) / np.median(measured["A01"]["marker"])
    assert ratio == pytest.approx(2.5, rel=0.1)
    # positive fraction 0.3: cells above the midway level between negative and positive
    midway = (0.25 + 1.0) / 2 * np.median(measured["A01"]["marker"])
    positive = np.mean(measured["B02"]["marker"] > midway)
    n = len(measured["B02"]["marker"])
    assert abs(positive - 0.3) < 3 * np.sqrt(0.3 * 0.7 / n)  # within 3 binomial sd
    true_fraction = sum(truth["positive"]["B02"].values()) / sum(truth["counts"]["B02"].values())
    assert positive == pytest.approx(true_fraction, abs=0.02)
    assert np.mean(measured["A01"]["marker"] > midway) == 1.0


@pytest.mark.parametrize("fmt", FORMATS)
def test_cell_plates_index_with_stain_names_and_the_truth_unseen_by_discovery(tmp_path, fmt):
    plate = write_plate(
        tmp_path / "p", fmt, wells=["A01", "C03"], sites=2, z=3, size=64, content="cells"
    )
    assert (plate / "truth" / "C03_s2_cells.tif").is_file()
    index = open_plate(plate)
    assert index.format == fmt
    assert index.channel_names == STAINS
    assert index.wells == ["A01", "C03"] and index.sites == [1, 2] and index.z == [1, 2, 3]
    assert len(index.images) == 2 * 2 * 3 * 3 and index.missing == []
    assert not any("truth" in str(locator) for locator in index.images.values())
    assert "ignored_files" not in index.metadata
    assert _truth(plate)["channel_names"] == {str(c): n for c, n in STAINS.items()}


def test_the_middle_plane_of_a_cell_plate_is_in_focus(tmp_path):
    plate = write_plate(tmp_path / "p", wells=["A01"], sites=1, z=5, size=128, content="cells")
    index = open_plate(plate)
    keys = [k for k in index.keys_for("A01") if k.channel == 3]
    sharpness = [
        float(np.var(ndimage.laplace(read_plane(index.format, index.images[k]).astype(float))))
        for k in keys
    ]
    assert int(np.argmax(sharpness)) == 2


def test_same_seed_gives_byte_identical_cell_plates(tmp_path):
    kwargs = dict(wells=WELLS, sites=1, z=2, size=64, content="cells", plate_map=PLATE_MAP)
    one = write_plate(tmp_path / "one", seed=3, **kwargs)
    two = write_plate(tmp_path / "two", seed=3, **kwargs)
    three = write_plate(tmp_path / "three", seed=4, **kwargs)
    assert tree_checksum(one) == tree_checksum(two) != tree_checksum(three)


def test_fewer_channels_keep_the_first_stains(tmp_path):
    plate = write_plate(tmp_path / "p", wells=["A01"], sites=1, z=1, size=64, channels=2,
                        content="cells")  # fmt: skip
    assert open_plate(plate).channel_names == {1: "DNA", 2: "Cytoplasm"}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("well,cell_size\nH12,1.2\n", "well H12 is not on the plate being written"),
        ("well,cell_size\na01,1.2\n", "'a01' is not a well name"),
        ("well,marker_intensity\nA01,bright\n", "well A01: marker_intensity 'bright' is not"),
        ("well,positive_fraction\nB02,1.5\n", "well B02: positive_fraction 1.5 is outside 0 to 1"),
        ("well_position,cell_size\nA01,0\n", "well A01: cell_size 0 is outside 0.25 to 2.5"),
        ("well,postive_fraction\nA01,0.5\n", "did you mean 'positive_fraction'"),
        ("well,cell_size\nA01,1\nA01,2\n", "well A01 is named twice (line 3)"),
        ("plate,cell_size\nP1,1\n", "needs a 'well' (or 'well_position') column"),
        ("well,cell_size\nA01,1,2\n", "line 2 has more fields than the header"),
    ],
)
def test_bad_plate_maps_are_refused_in_one_line_and_nothing_is_written(
    tmp_path, capsys, text, reason
):
    plate_map = tmp_path / "map.csv"
    plate_map.write_text(text)
    out = tmp_path / "out"
    args = ["synth", str(out), "--cells", "--plate-map", str(plate_map), "--wells", "A01,B02"]
    assert main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: plate map "), lines
    assert reason in lines[0] and str(plate_map) in lines[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(plate_map={"A01": {"cell_size": "2"}}), "add --cells"),
        (dict(content="cells", timepoints=2), "a cell plate has one timepoint"),
        (dict(content="cells", channels=4), "a cell plate has 1 to 3 channels"),
        (dict(content="spheroids"), "unknown synthetic content"),
    ],
)
def test_what_cell_plates_do_not_support_is_refused(tmp_path, kwargs, message):
    with pytest.raises(InputError, match=message):
        write_plate(tmp_path / "p", wells=["A01"], size=64, **kwargs)
    assert list(tmp_path.iterdir()) == []


def test_synth_cells_with_a_pycytominer_plate_map_on_the_command_line(tmp_path, capsys):
    plate_map = tmp_path / "platemap.csv"
    plate_map.write_text("well_position,positive_fraction,pert_iname\nA01,0.5,DMSO\n")
    out = tmp_path / "plate"
    args = ["synth", str(out), "--cells", "--plate-map", str(plate_map), "--wells", "A01,A02"]
    assert main([*args, "--sites", "1", "--z", "1", "--size", "64"]) == 0
    assert capsys.readouterr().out.strip() == str(out)
    truth = _truth(out)
    assert truth["content"] == "cells"
    assert truth["phenotypes"]["A01"]["positive_fraction"] == 0.5
    assert truth["phenotypes"]["A02"]["positive_fraction"] == 1.0
    assert truth["annotations"] == {"A01": {"pert_iname": "DMSO"}}


@pytest.mark.parametrize(
    ("columns", "chosen"),
    [
        (["DNA", "Cyto"], "Cyto"),  # a pipeline's own channel names
        (["DNA", "Cytoplasm", "Membrane"], "Cytoplasm"),  # the plate's channel names
    ],
)
def test_the_demo_finds_the_marker_feature_by_pattern(columns, chosen):
    names = [f"Cells_Intensity_MeanIntensity_{c}" for c in columns] + ["Cells_AreaShape_Area"]
    assert marker_feature(names) == f"Cells_Intensity_MeanIntensity_{chosen}"
    with pytest.raises(InputError, match="found none"):
        marker_feature(["Cells_Intensity_MeanIntensity_DNA"])
