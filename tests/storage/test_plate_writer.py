"""The OME-Zarr HCS plate writer: valid plates in NGFF 0.4 and 0.5, exact round trips, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from storage_validation import (
    open_with_napari_ome_zarr,
    open_with_ome_zarr_py,
    validate_plate,
    validate_with_yaozarrs,
)

from napari_openhcs.errors import InputError, RunError
from napari_openhcs.plates.omezarr import read_plate, read_plate_well
from napari_openhcs.storage import OmeZarrPlateWriter, check_plate

NGFF = ["0.5", "0.4"]


def _field(seed: int, shape=(1, 2, 3, 32, 48), dtype=np.uint16) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 4000, shape).astype(dtype)


def _labels(seed: int, shape=(1, 1, 3, 32, 48)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 7, shape).astype(np.int32)


def _write(path, ngff, wells=("A01", "B03"), sites=2, levels=1, **kw):
    writer = OmeZarrPlateWriter(path, 8, 12, name="test", ngff=ngff, levels=levels, **kw)
    data = {}
    for i, well in enumerate(wells):
        for f in range(sites):
            image, labels = _field(10 * i + f), _labels(10 * i + f)
            writer.write_field(
                well,
                f,
                image,
                labels={"nuclei": labels},
                channel_names=["DAPI", "GFP"],
                channel_colors=["blue", "#00ff00"],
                pixel_size=(0.65, 0.65),
                z_step=2.0,
            )
            data[well, f] = (image, labels)
        writer.finish_well(well, sites)
    return writer, data


@pytest.mark.parametrize("ngff", NGFF)
@pytest.mark.parametrize("levels", [1, 2])
def test_written_plate_validates_and_opens_in_ome_zarr_py_and_napari_ome_zarr(
    tmp_path, ngff, levels
):
    path = tmp_path / "p.ome.zarr"
    _write(path, ngff, levels=levels)
    validate_plate(path, ngff)


@pytest.mark.parametrize("ngff", NGFF)
def test_round_trip_of_images_and_labels_is_exact(tmp_path, ngff):
    path = tmp_path / "p.ome.zarr"
    _, data = _write(path, ngff, levels=2)
    for well in ("A01", "B03"):
        fields = read_plate_well(path, well)
        assert [info["field"] for _, info in fields] == ["0", "1"]
        for f, (levels, info) in enumerate(fields):
            image, labels = data[well, f]
            assert levels[0].dtype == image.dtype
            np.testing.assert_array_equal(levels[0].compute(), image)
            assert levels[1].shape == (1, 2, 3, 16, 24)
            assert info["axes"] == "tczyx"
            assert info["channel_names"] == ["DAPI", "GFP"]
            assert info["channel_colors"] == ["0000FF", "00FF00"]
            assert info["scale"] == [1.0, 1.0, 2.0, 0.65, 0.65]
            assert info["units"] == {"z": "micrometer", "y": "micrometer", "x": "micrometer"}
            assert info["labels"] == ["nuclei"]
            assert info["contrast_limits"] == [(0.0, 65535.0)] * 2
            from napari_openhcs.storage import read_image

            lab_levels, lab_info = read_image(
                path / read_plate(path)["wells"][well] / str(f) / "labels" / "nuclei"
            )
            assert lab_info["kind"] == "labels"
            np.testing.assert_array_equal(lab_levels[0].compute(), labels)
            assert lab_levels[0].dtype == np.int32


@pytest.mark.parametrize("ngff", NGFF)
def test_metadata_follows_the_ngff_version(tmp_path, ngff):
    path = tmp_path / "p.ome.zarr"
    _write(path, ngff, wells=("A01",), sites=1)
    if ngff == "0.5":
        root = json.loads((path / "zarr.json").read_text())
        assert root["zarr_format"] == 3
        assert root["attributes"]["ome"]["version"] == "0.5"
        field = json.loads((path / "A/1/0/zarr.json").read_text())["attributes"]["ome"]
        array = json.loads((path / "A/1/0/0/zarr.json").read_text())
        assert array["dimension_names"] == list("tczyx")
        assert array["chunk_grid"]["configuration"]["chunk_shape"] == [1, 1, 1, 32, 48]
        blosc = [c for c in array["codecs"] if c["name"] == "blosc"][0]["configuration"]
        assert (blosc["cname"], blosc["shuffle"]) == ("lz4", "shuffle")
    else:
        assert json.loads((path / ".zgroup").read_text()) == {"zarr_format": 2}
        assert json.loads((path / ".zattrs").read_text())["plate"]["version"] == "0.4"
        field = json.loads((path / "A/1/0/.zattrs").read_text())
        assert field["multiscales"][0]["version"] == "0.4"
        array = json.loads((path / "A/1/0/0/.zarray").read_text())
        assert array["chunks"] == [1, 1, 1, 32, 48]
        assert array["dimension_separator"] == "/"
        assert (array["compressor"]["id"], array["compressor"]["cname"]) == ("blosc", "lz4")
    axes = field["multiscales"][0]["axes"]
    assert [(a["name"], a["type"]) for a in axes] == [
        ("t", "time"),
        ("c", "channel"),
        ("z", "space"),
        ("y", "space"),
        ("x", "space"),
    ]
    assert all(a.get("unit") == "micrometer" for a in axes if a["type"] == "space")
    window = field["omero"]["channels"][0]["window"]
    assert (window["start"], window["end"]) == (0, 65535)


@pytest.mark.parametrize("compressor", ["zstd", "gzip", "none"])
def test_other_compressors_write_valid_plates_that_read_back_exactly(tmp_path, compressor):
    path = tmp_path / "p.ome.zarr"
    _, data = _write(path, "0.5", wells=("A01",), sites=1, compressor=compressor)
    validate_with_yaozarrs(path)
    codecs = json.loads((path / "A/1/0/0/zarr.json").read_text())["codecs"]
    names = [c["name"] for c in codecs]
    expected = {"zstd": "blosc", "gzip": "gzip", "none": None}[compressor]
    assert names[-1] == expected if expected else names == ["bytes"]
    np.testing.assert_array_equal(
        read_plate_well(path, "A01")[0][0][0].compute(), data["A01", 0][0]
    )


def test_zlib_is_refused():
    with pytest.raises(InputError, match="zlib"):
        OmeZarrPlateWriter("unused", 8, 12, compressor="zlib")


def test_well_a01_is_row_a_column_1_and_site_n_is_field_n_minus_1(tmp_path):
    path = tmp_path / "p.ome.zarr"
    writer = OmeZarrPlateWriter(path, 16, 24, ngff="0.5")
    writer.write_field("P24", 2, _field(0))
    writer.finish_well("P24", [2])
    plate = json.loads((path / "zarr.json").read_text())["attributes"]["ome"]["plate"]
    assert plate["wells"] == [{"path": "P/24", "rowIndex": 15, "columnIndex": 23}]
    assert [r["name"] for r in plate["rows"]][:3] == ["A", "B", "C"]
    assert [c["name"] for c in plate["columns"]][:3] == ["1", "2", "3"]
    assert (path / "P" / "24" / "2").is_dir()
    assert writer.finished_wells() == ["P24"]


def test_unfinished_wells_are_not_listed_and_the_plate_stays_valid(tmp_path):
    path = tmp_path / "p.ome.zarr"
    writer, _ = _write(path, "0.5", wells=("A01",), sites=1)
    writer.write_field("C05", 0, _field(1))  # written but never finished (as if killed here)
    assert writer.finished_wells() == ["A01"]
    validate_plate(path, "0.5")
    assert list(read_plate(path)["wells"]) == ["A01"]


def test_a_plate_without_finished_wells_has_no_plate_metadata_yet(tmp_path):
    # NGFF requires at least one well in a plate, so the plate metadata waits for the first.
    path = tmp_path / "p.ome.zarr"
    writer = OmeZarrPlateWriter(path, 8, 12)
    writer.write_field("A01", 0, _field(1))
    attrs = json.loads((path / "zarr.json").read_text())["attributes"]
    assert "ome" not in attrs and writer.finished_wells() == []
    with pytest.raises(InputError, match="no well yet"):
        read_plate(path)


def test_reopening_resumes_with_finished_wells_kept(tmp_path):
    path = tmp_path / "p.ome.zarr"
    _, data = _write(path, "0.4", wells=("A01",), sites=1)
    writer = OmeZarrPlateWriter(path, 8, 12, ngff="0.4")
    assert writer.finished_wells() == ["A01"]
    writer.write_field("H12", 0, _field(5))
    writer.finish_well("H12", 1)
    assert writer.finished_wells() == ["A01", "H12"]
    validate_plate(path, "0.4")
    np.testing.assert_array_equal(
        read_plate_well(path, "A01")[0][0][0].compute(), data["A01", 0][0]
    )


def test_reopening_with_another_version_or_grid_is_refused(tmp_path):
    path = tmp_path / "p.ome.zarr"
    _write(path, "0.5", wells=("A01",), sites=1)
    with pytest.raises(InputError, match="NGFF 0.5"):
        OmeZarrPlateWriter(path, 8, 12, ngff="0.4")
    with pytest.raises(InputError, match="grid"):
        OmeZarrPlateWriter(path, 16, 24, ngff="0.5")


def test_a_non_empty_folder_that_is_not_a_plate_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not an OME-Zarr plate"):
        OmeZarrPlateWriter(tmp_path, 8, 12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_rewriting_a_field_replaces_it_whole(tmp_path):
    path = tmp_path / "p.ome.zarr"
    writer = OmeZarrPlateWriter(path, 8, 12)
    writer.write_field("A01", 0, _field(1), labels={"old": _labels(1)})
    writer.write_field("A01", 0, _field(2, shape=(1, 1, 1, 16, 16)))
    writer.finish_well("A01", 1)
    levels, info = read_plate_well(path, "A01")[0]
    np.testing.assert_array_equal(levels[0].compute(), _field(2, shape=(1, 1, 1, 16, 16)))
    assert info["labels"] == []
    assert [p.name for p in (path / "A" / "1").iterdir() if p.name.startswith(".")] == []


def test_a_field_write_that_fails_leaves_no_field_behind(tmp_path, monkeypatch):
    path = tmp_path / "p.ome.zarr"
    writer = OmeZarrPlateWriter(path, 8, 12)
    import napari_openhcs.storage.images as images

    def broken(*args, **kwargs):
        raise KeyboardInterrupt  # stopped half-way through the field

    # omezarr writes labels through images.write_image_group, which calls this one
    monkeypatch.setattr(images, "write_label_images", broken)
    with pytest.raises(KeyboardInterrupt):
        writer.write_field("A01", 0, _field(1), labels={"nuclei": _labels(1)})
    assert sorted(p.name for p in (path / "A" / "1").iterdir()) == ["zarr.json"]
    with pytest.raises(RunError, match="field 0 was not written"):
        writer.finish_well("A01", 1)


def test_finish_well_refuses_a_field_that_was_never_written(tmp_path):
    writer = OmeZarrPlateWriter(tmp_path / "p.ome.zarr", 8, 12)
    writer.write_field("A01", 0, _field(1))
    with pytest.raises(RunError, match="field 1"):
        writer.finish_well("A01", 2)
    assert writer.finished_wells() == []


def test_wells_outside_the_grid_and_bad_shapes_are_refused(tmp_path):
    writer = OmeZarrPlateWriter(tmp_path / "p.ome.zarr", 2, 3)
    with pytest.raises(InputError, match="outside"):
        writer.write_field("C01", 0, _field(1))
    with pytest.raises(InputError, match="t, c, z, y, x"):
        writer.write_field("A01", 0, np.zeros((4, 4), np.uint8))


def test_check_plate_finds_a_well_path_that_disagrees_with_its_indices(tmp_path):
    path = tmp_path / "p.ome.zarr"
    _write(path, "0.5", wells=("A01", "B03"), sites=1)
    doc = json.loads((path / "zarr.json").read_text())
    wells = doc["attributes"]["ome"]["plate"]["wells"]
    wells[1]["rowIndex"] = 2  # says C, path says B
    wells.append({"path": "D/4", "rowIndex": 3, "columnIndex": 3})  # listed, never written
    (path / "zarr.json").write_text(json.dumps(doc))
    problems = check_plate(path)
    assert any("B/3: path disagrees" in p for p in problems)
    assert any("D/4: no well group" in p for p in problems)


def test_plate_without_spatial_calibration_leaves_units_out(tmp_path):
    path = tmp_path / "p.ome.zarr"
    writer = OmeZarrPlateWriter(path, 8, 12)
    writer.write_field("A01", 0, _field(1))
    writer.finish_well("A01", 1)
    validate_plate(path, "0.5")
    info = read_plate_well(path, "A01")[0][1]
    assert info["units"] == {} and info["scale"] == [1.0] * 5


def test_napari_ome_zarr_layers_carry_channel_names_scale_and_labels(tmp_path):
    path = tmp_path / "p.ome.zarr"
    _write(path, "0.5", wells=("A01",), sites=1)
    layers = open_with_napari_ome_zarr(path)
    image, meta, kind = layers[0]
    assert kind == "image" and meta["name"] == ["DAPI", "GFP"]
    assert meta["scale"] == [1.0, 2.0, 0.65, 0.65]
    assert [layer[2] for layer in layers[1:]] == ["labels"]
    assert open_with_ome_zarr_py(path)[0].data[0].shape == (1, 2, 3, 8 * 32, 12 * 48)
