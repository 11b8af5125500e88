"""ImageXpress folders: flat, TimePoint_t/ZStep_z, .HTD grids, thumbnails, missing images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from napari_openhcs.errors import PlateError
from napari_openhcs.plates import ImageKey, open_plate, read_plane
from napari_openhcs.plates.imagexpress import ImageXpressHandler, htd_layout, parse_htd


def touch(folder: Path, *names: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_bytes(b"")


def htd_text(rows=8, cols=12, wells=("A01",), sites=1, waves=("DAPI",), z=1, t=1) -> str:
    chosen = set(wells)
    lines = ['"HTSInfoFile", Version 1.0', f'"TimePoints", {t}']
    lines += [f'"ZSeries", {"TRUE" if z > 1 else "FALSE"}', f'"ZSteps", {z}']
    lines += [f'"XWells", {cols}', f'"YWells", {rows}']
    for r in range(rows):
        flags = ["TRUE" if f"{chr(65 + r)}{c + 1:02d}" in chosen else "FALSE" for c in range(cols)]
        lines.append(f'"WellsSelection{r + 1}", ' + ", ".join(flags))
    lines += [f'"Sites", {"TRUE" if sites > 1 else "FALSE"}', f'"XSites", {sites}', '"YSites", 1']
    lines.append('"SiteSelection1", ' + ", ".join(["TRUE"] * sites))
    lines += [f'"Waves", {"TRUE" if len(waves) > 1 else "FALSE"}', f'"NWavelengths", {len(waves)}']
    for i, w in enumerate(waves, 1):
        lines += [f'"WaveName{i}", "{w}"', f'"WaveCollect{i}", 1']
    return "\r\n".join([*lines, '"EndFile"']) + "\r\n"


def test_flat_folder_with_guid_channels_skips_thumbnails(tmp_path):
    guid = "46C9B2CD-0BB3-4B8A-9187-2805F4C90506"
    names = [f"MIP-2P-2sub_C05_s{s}_w{c}{guid}.tif" for s in (1, 2) for c in (1, 2)]
    names += ["MIP-2P-2sub_C05_s1_w1_thumb6EFE77C6-0BB3-4B8A-9187-2805F4C90506.tif"]
    names += ["notes.txt", "overview.tif"]
    touch(tmp_path, *names)
    index = open_plate(tmp_path, plane_info=False)
    assert index.format == "imagexpress"
    assert index.wells == ["C05"]
    assert (index.sites, index.channels, index.z, index.timepoints) == ([1, 2], [1, 2], [1], [1])
    assert len(index.images) == 4
    assert all("thumb" not in p for p in index.images.values())
    assert index.metadata["skipped_thumbnails"] == 1
    assert index.metadata["ignored_files"] == ["overview.tif"]
    assert index.missing == []


def test_single_site_single_channel_names(tmp_path):
    touch(tmp_path, "A01.tif", "A02.tif", "B01.tif")
    index = open_plate(tmp_path, plane_info=False)
    assert index.wells == ["A01", "A02", "B01"]
    assert index.images[ImageKey("B01", 1, 1, 1, 1)] == str(tmp_path / "B01.tif")
    assert (index.rows, index.columns) == (2, 3)


def test_timepoint_and_zstep_folders_give_t_and_z(tmp_path):
    for t in (1, 2):
        for z in (1, 2, 3):
            touch(tmp_path / f"TimePoint_{t}" / f"ZStep_{z}", "P_A01_s1_w1.tif", "P_A01_s1_w2.tif")
        touch(tmp_path / f"TimePoint_{t}", "P_A01_s1_w1.tif", "P_A01_s1_w2.tif")  # projections
    index = open_plate(tmp_path, plane_info=False)
    assert index.z == [1, 2, 3] and index.timepoints == [1, 2] and index.channels == [1, 2]
    assert len(index.images) == 12
    key = ImageKey("A01", 1, 2, 3, 2)
    assert index.images[key] == str(tmp_path / "TimePoint_2" / "ZStep_3" / "P_A01_s1_w2.tif")
    assert index.metadata["skipped_projections_count"] == 4
    assert index.missing == []


def test_timepoint_folders_without_zsteps_and_z_in_names(tmp_path):
    for t in (1, 2, 3):
        touch(tmp_path / f"TimePoint_{t}", *[f"B03_s2_w1_z{z}.tif" for z in (1, 2)])
    index = open_plate(tmp_path, plane_info=False)
    assert index.timepoints == [1, 2, 3] and index.z == [1, 2] and index.sites == [2]


def test_htd_grid_names_channels_and_missing_images(tmp_path):
    (tmp_path / "exp.HTD").write_text(
        htd_text(rows=16, cols=24, wells=("A01", "B02", "P24"), sites=2, waves=("DAPI", "GFP"))
    )
    names = [f"exp_{w}_s{s}_w{c}.tif" for w in ("A01", "B02") for s in (1, 2) for c in (1, 2)]
    names.remove("exp_B02_s2_w2.tif")  # an autofocus failure
    touch(tmp_path, *names)
    index = open_plate(tmp_path, plane_info=False)
    assert (index.rows, index.columns, index.name) == (16, 24, "exp")
    assert index.channel_names == {1: "DAPI", 2: "GFP"}
    assert index.wells == ["A01", "B02"]  # P24 was selected but has no images
    assert ImageKey("B02", 2, 2, 1, 1) in index.missing
    p24 = [k for k in index.missing if k.well == "P24"]
    assert len(p24) == 4 and len(index.missing) == 5


def test_htd_promises_more_channels_than_present_are_missing(tmp_path):
    (tmp_path / "p.HTD").write_text(htd_text(wells=("A01",), waves=("DAPI", "GFP", "RFP")))
    touch(tmp_path, "p_A01_w1.tif", "p_A01_w2.tif")
    index = open_plate(tmp_path, plane_info=False)
    assert index.channels == [1, 2, 3]
    assert index.missing == [ImageKey("A01", 1, 3, 1, 1)]


def test_malformed_htd_lines_are_skipped_not_fatal(tmp_path):
    (tmp_path / "bad.htd").write_bytes(
        b'"HTSInfoFile", Version 1.0\r\n"XWells", twelve\r\n"Unclosed, "q\r\n,,,\r\n'
        b'"NWavelengths", 2\r\n"WaveName1", "DAPI"\r\n"Waves", TRUE\r\n\xff\xfe junk\r\n'
    )
    touch(tmp_path, "A01_w1.tif", "A01_w2.tif")
    index = open_plate(tmp_path, plane_info=False)
    assert index.channel_names == {1: "DAPI"}
    assert (index.rows, index.columns) == (2, 3)  # XWells unreadable: grid from the wells
    layout = htd_layout(parse_htd(tmp_path / "bad.htd"))
    assert "rows" not in layout


def test_two_files_for_one_image_is_an_error_naming_both(tmp_path):
    touch(tmp_path, "P1_A01_s1_w1.tif", "P2_A01_s1_w1.tif")
    with pytest.raises(PlateError, match=r"two files for well A01.*P1_A01_s1_w1\.tif"):
        open_plate(tmp_path, plane_info=False)


def test_read_plane_and_plane_info_from_a_tiff(tmp_path):
    data = np.arange(48, dtype=np.uint16).reshape(6, 8)
    tifffile.imwrite(tmp_path / "A01_s1_w1.tif", data)
    index = open_plate(tmp_path)
    assert index.shape == (6, 8) and index.dtype == "uint16"
    plane = read_plane("imagexpress", index.images[ImageKey("A01", 1, 1, 1, 1)])
    np.testing.assert_array_equal(plane, data)


def test_sniff_ignores_unrelated_folders(tmp_path):
    touch(tmp_path, "holiday.jpg", "r01c01f01p01-ch1sk1fk1fl1.tiff")
    assert not ImageXpressHandler().sniff(tmp_path)


def test_htd_file_path_opens_its_plate(tmp_path):
    (tmp_path / "p.HTD").write_text(htd_text(wells=("A01",)))
    touch(tmp_path, "p_A01.tif")
    assert open_plate(tmp_path / "p.HTD", plane_info=False).root == str(tmp_path)


def test_damaged_image_names_the_file_when_read(tmp_path):
    (tmp_path / "A01_s1_w1.tif").write_bytes(b"not a tiff at all")
    index = open_plate(tmp_path, plane_info=False)
    with pytest.raises(PlateError, match=r"A01_s1_w1\.tif: cannot read as TIFF"):
        read_plane("imagexpress", index.images[ImageKey("A01", 1, 1, 1, 1)])
    with pytest.raises(PlateError, match=r"A01_s1_w1\.tif: cannot read as TIFF"):
        open_plate(tmp_path)  # the header read for shape and dtype
