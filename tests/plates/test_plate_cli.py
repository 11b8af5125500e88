"""``synth`` and ``inspect`` on the command line: output, exit codes, read-only input."""

from __future__ import annotations

import json

import pytest

from helpers import tree_checksum
from napari_openhcs.cli import main
from napari_openhcs.plates.synthetic import write_plate


@pytest.fixture
def ix_plate(tmp_path):
    return write_plate(tmp_path / "ix", wells=["A01", "B02"], sites=2, channels=2, z=2, size=32)


def test_synth_writes_a_plate_and_prints_its_path(tmp_path, capsys):
    out = tmp_path / "new"
    code = main(
        [
            "synth",
            str(out),
            "--format",
            "operaphenix",
            "--wells",
            "A01,C03",
            "--sites",
            "1",
            "--channels",
            "3",
            "--z",
            "1",
            "--timepoints",
            "2",
            "--size",
            "32",
            "--seed",
            "4",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    truth = json.loads((out / "ground_truth.json").read_text())
    assert truth["wells"] == ["A01", "C03"] and truth["seed"] == 4
    assert len(list((out / "Images").glob("*.tiff"))) == 2 * 3 * 2


def test_inspect_json_describes_the_plate_and_leaves_it_untouched(ix_plate, capsys):
    before = tree_checksum(ix_plate)
    assert main(["inspect", str(ix_plate), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["format"] == "imagexpress"
    assert info["wells"] == ["A01", "B02"]
    assert (info["sites"], info["channels"], info["z"], info["timepoints"]) == (
        [1, 2],
        [1, 2],
        [1, 2],
        [1],
    )
    assert info["shape"] == [32, 32] and info["dtype"] == "uint16"
    assert info["missing"] == [] and info["channel_names"] == {"1": "DAPI", "2": "FITC"}
    assert tree_checksum(ix_plate) == before


def test_inspect_reports_missing_images_by_component(ix_plate, capsys):
    (ix_plate / "TimePoint_1" / "ZStep_2" / "synthetic_B02_s1_w2.tif").unlink()
    before = tree_checksum(ix_plate)
    assert main(["inspect", str(ix_plate), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["missing"] == [{"well": "B02", "site": 1, "channel": 2, "z": 2, "timepoint": 1}]
    assert main(["inspect", str(ix_plate)]) == 0
    text = capsys.readouterr().out
    assert "missing     1 images" in text and "well B02 site 1 channel 2 z 2 timepoint 1" in text
    assert tree_checksum(ix_plate) == before


@pytest.mark.parametrize("fmt", ["imagexpress", "operaphenix"])
def test_inspect_plain_text_is_a_readable_summary(tmp_path, fmt, capsys):
    plate = write_plate(tmp_path / "p", fmt=fmt, wells=["A01"], sites=3, z=1, size=32)
    before = tree_checksum(plate)
    assert main(["inspect", str(plate)]) == 0
    text = capsys.readouterr().out
    assert f"({fmt}, 8 x 12 grid)" in text
    assert "sites       1-3" in text and "channels    1 (DAPI), 2 (FITC)" in text
    assert "images      6 planes of 32x32 uint16" in text and "missing     none" in text
    assert tree_checksum(plate) == before


def _bad_plate(kind, tmp_path):
    plate = tmp_path / "plate"
    plate.mkdir()
    if kind == "missing index":
        (plate / "r01c01f01p01-ch1sk1fk1fl1.tiff").write_bytes(b"")
        return plate, "no Index.xml or Index.idx.xml"
    if kind == "empty":
        (plate / "synthetic.HTD").write_text('"HTSInfoFile", Version 1.0\r\n"EndFile"\r\n')
        return plate, "no ImageXpress images found"
    if kind == "unknown":
        (plate / "photo.jpg").write_bytes(b"\xff\xd8")
        return plate, "not a plate layout napari-openhcs knows"
    if kind == "outside":
        (plate / "Index.xml").write_text(
            "<EvaluationInputData><Images><Image><URL>../secret.tiff</URL><Row>1</Row>"
            "<Col>1</Col></Image></Images></EvaluationInputData>"
        )
        return plate, "Index.xml: image '../secret.tiff' points outside the plate folder"
    if kind == "no such folder":
        plate.rmdir()
        return plate, "no such file or folder"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["missing index", "empty", "unknown", "outside", "no such folder"])
def test_bad_plates_exit_2_with_one_line_naming_file_and_reason(tmp_path, capsys, kind):
    plate, reason = _bad_plate(kind, tmp_path)
    before = tree_checksum(tmp_path)
    assert main(["inspect", str(plate)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: ") and str(plate) in lines[0] and reason in lines[0]
    assert tree_checksum(tmp_path) == before


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--wells", "A01,a02"], "bad well name(s) 'a02'"),
        (["--plate", "96", "--sites", "0"], "--sites must be an integer"),
        (["--size", "4"], "--size must be an integer"),
    ],
)
def test_synth_bad_arguments_exit_2_and_write_nothing(tmp_path, capsys, args, reason):
    assert main(["synth", str(tmp_path / "out"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and reason in err[0]
    assert list(tmp_path.iterdir()) == []
