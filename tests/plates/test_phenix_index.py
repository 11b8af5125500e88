"""Opera Phenix / Operetta exports: Harmony index files, Images/ folders, unsafe paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from napari_openhcs.errors import PlateError
from napari_openhcs.plates import ImageKey, open_plate

NS = "http://www.perkinelmer.com/PEHH/HarmonyV5"


def image_xml(url, row, col, field, plane, channel, tp, name="DAPI", z_m=0.0, x_m=0.0):
    return (
        f'<Image Version="1"><id>x</id><State>Ok</State><URL>{url}</URL><Row>{row}</Row>'
        f"<Col>{col}</Col><FieldID>{field}</FieldID><PlaneID>{plane}</PlaneID>"
        f"<TimepointID>{tp}</TimepointID><ChannelID>{channel}</ChannelID>"
        f"<ChannelName>{name}</ChannelName>"
        f'<ImageResolutionX Unit="m">4.0E-07</ImageResolutionX>'
        f'<ImageResolutionY Unit="m">4.0E-07</ImageResolutionY>'
        f'<PositionX Unit="m">{x_m}</PositionX><PositionY Unit="m">1.0E-05</PositionY>'
        f'<PositionZ Unit="m">{z_m}</PositionZ></Image>'
    )


def write_index(path: Path, images: list[str], rows=16, cols=24) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><EvaluationInputData xmlns="{NS}" Version="2">'
        f"<Plates><Plate><PlateID>42</PlateID><PlateName>screen-7</PlateName>"
        f"<PlateRows>{rows}</PlateRows><PlateColumns>{cols}</PlateColumns></Plate></Plates>"
        f"<Images>{''.join(images)}</Images></EvaluationInputData>"
    )


def phenix_plate(root: Path, index_name="Index.idx.xml", index_in_images=True, drop=()):
    """2 wells x 2 fields x 2 planes x 2 channels x 2 timepoints; files in Images/."""
    images, files = [], []
    for row, col in ((3, 12), (16, 3)):
        for f in (1, 2):
            for p in (1, 2):
                for ch, name in ((1, "Hoechst 33342"), (2, "Alexa 488")):
                    for sk in (1, 2):
                        url = f"r{row:02d}c{col:02d}f{f:02d}p{p:02d}-ch{ch}sk{sk}fk1fl1.tiff"
                        images.append(
                            image_xml(
                                url, row, col, f, p, ch, sk - 1, name, z_m=p * 1.5e-6, x_m=f * 1e-4
                            )
                        )
                        files.append(url)
    folder = root / "Images"
    folder.mkdir(parents=True, exist_ok=True)
    for url in files:
        if url not in drop:
            (folder / url).write_bytes(b"")
    write_index((folder if index_in_images else root) / index_name, images)
    return files


@pytest.mark.parametrize("index_name", ["Index.idx.xml", "Index.xml"])
@pytest.mark.parametrize("index_in_images", [True, False])
def test_harmony_index_is_read_with_images_beside_or_in_images_folder(
    tmp_path, index_name, index_in_images
):
    phenix_plate(tmp_path, index_name, index_in_images)
    index = open_plate(tmp_path, plane_info=False)
    assert index.format == "operaphenix"
    assert index.name == "screen-7" and (index.rows, index.columns) == (16, 24)
    assert index.wells == ["C12", "P03"]
    assert (index.sites, index.channels, index.z, index.timepoints) == (
        [1, 2],
        [1, 2],
        [1, 2],
        [1, 2],
    )
    assert len(index.images) == 32 and index.missing == []
    assert index.channel_names == {1: "Hoechst 33342", 2: "Alexa 488"}
    assert index.pixel_size == pytest.approx((0.4, 0.4))
    assert index.z_step == pytest.approx(1.5)
    assert index.metadata["field_positions_um"]["2"] == pytest.approx([200.0, 10.0])
    key = ImageKey("C12", 2, 1, 2, 2)
    assert index.images[key] == str(tmp_path / "Images" / "r03c12f02p02-ch1sk2fk1fl1.tiff")


def test_images_listed_but_absent_are_missing(tmp_path):
    gone = "r16c03f02p01-ch2sk1fk1fl1.tiff"
    phenix_plate(tmp_path, drop=(gone,))
    index = open_plate(tmp_path, plane_info=False)
    assert index.missing == [ImageKey("P03", 2, 2, 1, 1)]
    assert len(index.images) == 31


def test_file_names_win_over_xml_fields_and_xml_fields_fill_in(tmp_path):
    (tmp_path / "plain_name.tiff").write_bytes(b"")
    (tmp_path / "r01c02f03p04-ch5sk6fk1fl1.tiff").write_bytes(b"")
    write_index(
        tmp_path / "Index.xml",
        [
            image_xml("plain_name.tiff", 2, 5, 1, 1, 1, 0),
            image_xml("r01c02f03p04-ch5sk6fk1fl1.tiff", 9, 9, 9, 9, 9, 9),
        ],
    )
    index = open_plate(tmp_path, plane_info=False)
    assert set(index.images) >= {ImageKey("B05", 1, 1, 1, 1), ImageKey("A02", 3, 5, 4, 6)}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("../outside.tiff", "points outside the plate folder"),
        ("../../etc/r01c01f01p01-ch1sk1fk1fl1.tiff", "points outside the plate folder"),
        ("/tmp/r01c01f01p01-ch1sk1fk1fl1.tiff", "absolute path"),
        ("C:\\data\\r01c01f01p01-ch1sk1fk1fl1.tiff", "absolute path"),
        ("http://example.org/r01c01f01p01-ch1sk1fk1fl1.tiff", "is a URL"),
    ],
)
def test_index_pointing_outside_the_plate_is_refused(tmp_path, url, reason):
    plate = tmp_path / "plate"
    write_index(plate / "Index.xml", [image_xml(url, 1, 1, 1, 1, 1, 0)])
    (tmp_path / "outside.tiff").write_bytes(b"")
    with pytest.raises(PlateError, match=reason) as err:
        open_plate(plate, plane_info=False)
    assert str(plate / "Index.xml") in str(err.value)


def test_phenix_looking_folder_without_index_is_an_error(tmp_path):
    (tmp_path / "Images").mkdir()
    (tmp_path / "Images" / "r01c01f01p01-ch1sk1fk1fl1.tiff").write_bytes(b"")
    with pytest.raises(PlateError, match="no Index.xml or Index.idx.xml"):
        open_plate(tmp_path, plane_info=False)


def test_broken_xml_names_the_file(tmp_path):
    (tmp_path / "Index.xml").write_text("<EvaluationInputData><Images><Image>")
    with pytest.raises(PlateError, match="Index.xml: not a readable Harmony index file"):
        open_plate(tmp_path, plane_info=False)


def test_index_whose_files_are_all_absent_is_an_error(tmp_path):
    write_index(
        tmp_path / "Index.xml", [image_xml("r01c01f01p01-ch1sk1fk1fl1.tiff", 1, 1, 1, 1, 1, 0)]
    )
    with pytest.raises(PlateError, match="lists 1 images but none of their files exist"):
        open_plate(tmp_path, plane_info=False)


def test_index_file_path_opens_its_plate(tmp_path):
    phenix_plate(tmp_path)
    index = open_plate(tmp_path / "Images" / "Index.idx.xml", plane_info=False)
    assert index.root == str(tmp_path)
