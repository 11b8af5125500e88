"""Every handler's grid holds every well it found, whatever the plate's metadata declare."""

from __future__ import annotations

import logging

from napari_openhcs.plates import open_plate
from napari_openhcs.wells import parse_well
from plates.test_omezarr_plate import make_plate
from plates.test_phenix_index import image_xml, write_index


def _holds(index) -> bool:
    return all(
        r <= index.rows and c <= index.columns for r, c in (parse_well(w) for w in index.wells)
    )


def test_grid_holding_keeps_a_grid_that_holds_the_wells_and_grows_one_that_does_not():
    from napari_openhcs.wells import grid_holding

    assert grid_holding(16, 24, ["A01", "P24"]) == (16, 24)
    assert grid_holding(3, 4, ["A01", "D04"]) == (4, 6)
    assert grid_holding(8, 12, ["A13"]) == (16, 24)
    assert grid_holding(0, 0, ["B03"]) == (2, 3)


def _phenix(root, row: int, col: int, rows: int, cols: int):
    url = f"r{row:02d}c{col:02d}f01p01-ch1sk1fk1fl1.tiff"
    (root / "Images").mkdir(parents=True)
    (root / "Images" / url).write_bytes(b"")
    write_index(
        root / "Images" / "Index.idx.xml", [image_xml(url, row, col, 1, 1, 1, 0)], rows, cols
    )
    return open_plate(root, plane_info=False)


def test_phenix_plate_dimensions_smaller_than_its_wells(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="napari_openhcs"):
        index = _phenix(tmp_path / "small", 5, 7, 4, 6)
    assert index.wells == ["E07"]
    assert (index.rows, index.columns) == (6, 8) and _holds(index)  # a 48-well grid
    assert index.metadata["declared_grid"] == [4, 6]
    notes = [r.getMessage() for r in caplog.records if "declares a 4 x 6 grid" in r.getMessage()]
    assert len(notes) == 1 and "E07" in notes[0] and "Index.idx.xml" in notes[0]
    # dimensions that hold the wells are kept as they are, without a warning
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="napari_openhcs"):
        index = _phenix(tmp_path / "fits", 2, 3, 16, 24)
    assert (index.rows, index.columns) == (16, 24) and "declared_grid" not in index.metadata
    assert not [r for r in caplog.records if "grid" in r.getMessage()]


def test_omezarr_rows_and_columns_that_do_not_reach_its_wells(tmp_path):
    # rows [C], columns [5]: the well is C05, outside a 1 x 1 grid of that many names
    root = tmp_path / "sparse.ome.zarr"
    make_plate(root, "0.5", "czyx", ["C/5"], fields=1)
    index = open_plate(root, plane_info=False)
    assert index.wells == ["C05"]
    assert (index.rows, index.columns) == (4, 6) and _holds(index)
    assert index.metadata["declared_grid"] == [1, 1]
