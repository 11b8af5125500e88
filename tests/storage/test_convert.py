"""``napari-openhcs convert``: valid output, input untouched, per-well failures, interruption."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from storage_validation import validate_plate

from helpers import tree_checksum
from napari_openhcs.cli import main
from napari_openhcs.plates.omezarr import read_plate, read_plate_well


def _plate(root, wells=("A01", "A02", "B01"), shape=(32, 32)):
    root.mkdir()
    for i, well in enumerate(wells):
        for s in (1, 2):
            for w in (1, 2):
                data = np.full(shape, 100 * i + 10 * s + w, np.uint16)
                tifffile.imwrite(root / f"{well}_s{s}_w{w}.tif", data)
    return root


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_convert_writes_a_valid_plate_and_leaves_the_input_unchanged(tmp_path, ngff):
    plate = _plate(tmp_path / "plate1")
    before = tree_checksum(plate)
    assert main(["convert", str(plate), "--out", str(tmp_path / "out"), "--ngff", ngff]) == 0
    assert tree_checksum(plate) == before
    out = tmp_path / "out" / "plate1.ome.zarr"
    validate_plate(out, ngff)
    assert list(read_plate(out)["wells"]) == ["A01", "A02", "B01"]
    field = read_plate_well(out, "A02")[1][0][0].compute()
    assert field.shape == (1, 2, 1, 32, 32) and field[0, 1, 0, 0, 0] == 100 + 20 + 2


def test_bad_plate_exits_2_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["convert", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()
    assert capsys.readouterr().err.strip().startswith("error:")


def test_truncated_tiff_fails_its_well_naming_the_file(tmp_path, capsys):
    plate = _plate(tmp_path / "p")
    bad = plate / "A02_s2_w1.tif"
    bad.write_bytes(bad.read_bytes()[:50])
    assert main(["convert", str(plate), "--out", str(tmp_path / "out")]) == 1
    assert "A02_s2_w1.tif" in capsys.readouterr().err
    out = tmp_path / "out" / "p.ome.zarr"
    assert list(read_plate(out)["wells"]) == ["A01", "B01"]
    validate_plate(out, "0.5")


def test_mixed_shapes_fail_the_well(tmp_path, capsys):
    plate = _plate(tmp_path / "p")
    tifffile.imwrite(plate / "B01_s2_w2.tif", np.zeros((16, 32), np.uint16))
    assert main(["convert", str(plate), "--out", str(tmp_path / "out")]) == 1
    assert "B01_s2_w2.tif" in capsys.readouterr().err
    assert list(read_plate(tmp_path / "out" / "p.ome.zarr")["wells"]) == ["A01", "A02"]


def test_interrupted_conversion_leaves_a_valid_plate_and_resumes(tmp_path, monkeypatch):
    plate = _plate(tmp_path / "p")
    import napari_openhcs.plates as plates

    real = plates.read_plane
    calls = {"n": 0}

    def interrupting(fmt, locator):
        calls["n"] += 1
        if calls["n"] > 6:  # 4 planes per well: interrupt inside the second well
            raise KeyboardInterrupt
        return real(fmt, locator)

    monkeypatch.setattr(plates, "read_plane", interrupting)
    assert main(["convert", str(plate), "--out", str(tmp_path / "out")]) == 130
    out = tmp_path / "out" / "p.ome.zarr"
    assert list(read_plate(out)["wells"]) == ["A01"]
    validate_plate(out, "0.5")
    monkeypatch.setattr(plates, "read_plane", real)
    assert main(["convert", str(plate), "--out", str(tmp_path / "out")]) == 0
    assert list(read_plate(out)["wells"]) == ["A01", "A02", "B01"]


def test_sharded_conversion_validates_reads_back_equal_with_far_fewer_files(tmp_path):
    import zarr

    plate = _plate(tmp_path / "plate1")
    assert main(["convert", str(plate), "--out", str(tmp_path / "plain")]) == 0
    assert main(["convert", str(plate), "--out", str(tmp_path / "sharded"), "--shards"]) == 0
    plain = tmp_path / "plain" / "plate1.ome.zarr"
    sharded = tmp_path / "sharded" / "plate1.ome.zarr"
    validate_plate(sharded, "0.5")  # yaozarrs, ome-zarr-models, ome-zarr-py, napari-ome-zarr
    for well in ("A01", "A02", "B01"):
        for field in (0, 1):
            path = sharded / well[0] / str(int(well[1:])) / str(field) / "0"
            meta = zarr.open_array(str(path), mode="r")
            assert meta.shards is not None  # really sharded
            want = zarr.open_array(str(plain / path.relative_to(sharded)), mode="r")[...]
            np.testing.assert_array_equal(meta[...], want)  # zarr-python reads our shards
            ours = read_plate_well(sharded, well)[field][0][0].compute()
            np.testing.assert_array_equal(ours, want)  # and we read them

    def files(root):
        return sum(1 for p in root.rglob("*") if p.is_file())

    assert files(sharded) < files(plain)


def test_shards_need_ngff_05(tmp_path, capsys):
    plate = _plate(tmp_path / "p")
    out = tmp_path / "out"
    assert main(["convert", str(plate), "--out", str(out), "--ngff", "0.4", "--shards"]) == 2
    assert "NGFF 0.5" in capsys.readouterr().err
    assert not out.exists()


def test_convert_writes_no_z_spacing_the_plate_never_recorded(tmp_path, capsys):
    import json as _json

    from napari_openhcs import cli as _cli
    from napari_openhcs.plates.synthetic import write_plate as _write

    plate = _write(tmp_path / "pz", "imagexpress", wells=["A01"], sites=1, channels=1, z=3, size=32)
    assert _cli.main(["convert", str(plate), "--out", str(tmp_path / "conv")]) == 0
    out = next((tmp_path / "conv").glob("*.ome.zarr"))
    field = _json.loads((out / "A" / "1" / "0" / "zarr.json").read_text())["attributes"]["ome"]
    axes = {a["name"]: a for a in field["multiscales"][0]["axes"]}
    assert "unit" not in axes["z"]  # the .HTD records no z spacing: no micrometres invented
    assert axes["y"]["unit"] == axes["x"]["unit"] == "micrometer"
    capsys.readouterr()
    assert _cli.main(["inspect", str(out)]) == 0
    assert "step not recorded" in capsys.readouterr().out
