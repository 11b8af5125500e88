"""File-name parsers of ImageXpress and Opera Phenix, over real-world names, and well names."""

from __future__ import annotations

import pytest

from napari_openhcs.plates import imagexpress, operaphenix
from napari_openhcs.wells import grid_for, parse_well, row_letters, well_name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "MIP-2P-2sub_C05_s1_w146C9B2CD-0BB3-4B8A-9187-2805F4C90506.tif",
            {"prefix": "MIP-2P-2sub", "well": "C05", "site": 1, "channel": 1, "z": None},
        ),
        ("Plate1_B12_s10_w3.TIF", {"prefix": "Plate1", "well": "B12", "site": 10, "channel": 3}),
        ("A01.tif", {"prefix": None, "well": "A01", "site": None, "channel": None}),
        (
            "A01_s001_w2_z003_t001.tif",
            {"well": "A01", "site": 1, "channel": 2, "z": 3, "timepoint": 1},
        ),
        ("AF48_s1_w1.tif", {"well": "AF48", "site": 1, "channel": 1}),
        ("my_plate-2024_01_D07_s3.tiff", {"prefix": "my_plate-2024_01", "well": "D07", "site": 3}),
        ("P_H12_w12.tif", {"well": "H12", "site": None, "channel": 12}),
        (
            "X_B02_s2_w20123ABCD-0BB3-4B8A-9187-2805F4C90506_z4_t7.tif",
            {"well": "B02", "site": 2, "channel": 2, "z": 4, "timepoint": 7},
        ),
    ],
)
def test_imagexpress_names_parse_to_their_components(name, expected):
    parsed = imagexpress.parse_name(name)
    assert parsed is not None
    assert not parsed["thumb"]
    for key, value in expected.items():
        assert parsed[key] == value, key


def test_imagexpress_thumbnails_are_recognised_as_thumbnails():
    parsed = imagexpress.parse_name(
        "MIP-2P-2sub_C05_s1_w1_thumb6EFE77C6-0BB3-4B8A-9187-2805F4C90506.tif"
    )
    assert parsed is not None and parsed["thumb"]
    assert parsed["well"] == "C05"


@pytest.mark.parametrize(
    "name",
    [
        "a01_s1_w1.tif",  # lower-case row
        "Plate_c05_s1.tif",
        "AAA01_s1_w1.tif",  # three-letter row
        "Plate_AAA01_s1_w1.tif",
        "A1_s1_w1.tif",  # one-digit column
        "A001_s1.tif",  # three-digit column
        "A00_s1.tif",  # column 0
        "A01_s1_w1.png",
        "A01_s1_w1.tif.bak",
        "r01c01f01p01-ch1sk1fk1fl1.tiff",  # a Phenix name
    ],
)
def test_imagexpress_parser_rejects_names_that_are_not_imagexpress(name):
    assert imagexpress.parse_name(name) is None


@pytest.mark.parametrize(
    ("name", "row", "column", "field", "plane", "channel", "timepoint", "well"),
    [
        ("r03c12f025p10-ch4sk2fk1fl1.tiff", 3, 12, 25, 10, 4, 2, "C12"),
        ("r16c03f06p01-ch3sk1fk1fl1.tiff", 16, 3, 6, 1, 3, 1, "P03"),
        ("r01c01f01p01-ch1sk1fk1fl1.tif", 1, 1, 1, 1, 1, 1, "A01"),
    ],
)
def test_phenix_names_parse_to_their_components(
    name, row, column, field, plane, channel, timepoint, well
):
    parsed = operaphenix.parse_name(name)
    assert parsed is not None
    assert (parsed["row"], parsed["column"], parsed["field"]) == (row, column, field)
    assert (parsed["plane"], parsed["channel"], parsed["timepoint"]) == (plane, channel, timepoint)
    assert parsed["well"] == well


@pytest.mark.parametrize(
    "name", ["R03C12F025P10-CH4SK2FK1FL1.tiff", "r03c12f025p10.tiff", "A01_s1_w1.tif"]
)
def test_phenix_parser_rejects_other_names(name):
    assert operaphenix.parse_name(name) is None


def test_well_names_round_trip_including_1536_well_rows():
    assert row_letters(1) == "A" and row_letters(26) == "Z"
    assert row_letters(27) == "AA" and row_letters(32) == "AF"
    assert parse_well("AF48") == (32, 48)
    assert well_name(32, 48) == "AF48"
    assert all(parse_well(well_name(r, c)) == (r, c) for r in range(1, 33) for c in (1, 48))
    for bad in ("a01", "AAA01", "A1", "A001", "A00", "01A"):
        assert parse_well(bad) is None, bad


def test_grid_for_picks_the_smallest_standard_plate():
    assert grid_for(["A01", "B02"]) == (2, 3)
    assert grid_for(["H12"]) == (8, 12)
    assert grid_for(["P24"]) == (16, 24)
    assert grid_for(["AF48"]) == (32, 48)
