"""Finding handlers: built-ins first, third-party ones from entry points, loaded once."""

from __future__ import annotations

import logging
import sys
import textwrap

import numpy as np
import pytest

from napari_openhcs.errors import PlateError
from napari_openhcs.plates import discovery, get_handler, open_plate, plate_handlers, read_plane

PLUGIN = '''
from pathlib import Path
import numpy as np
from napari_openhcs.plates import ImageKey, PlateHandler
from napari_openhcs.plates.base import assemble_index

LOADS = []

class CsvScopeHandler(PlateHandler):
    """A toy microscope: one 'wells.csv' listing well,site per line; planes are constant."""
    name = "csvscope"

    def __init__(self):
        LOADS.append(1)

    def sniff(self, path):
        return (Path(path) / "wells.csv").is_file()

    def index(self, path):
        images = {}
        for line in (Path(path) / "wells.csv").read_text().split():
            well, site = line.split(",")
            images[ImageKey(well, int(site), 1, 1, 1)] = f"{well}:{site}"
        return assemble_index(format=self.name, root=Path(path), name="csv", rows=8,
                              columns=12, images=images)

    def read(self, locator):
        return np.full((4, 5), int(locator.split(":")[1]), np.uint16)
'''


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    """Install a package with a ``napari_openhcs.plates`` entry point on sys.path."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "csvscope_plugin.py").write_text(textwrap.dedent(PLUGIN))
    (site / "broken_plugin.py").write_text("raise ImportError('needs libfoo')\n")
    dist = site / "csvscope-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: csvscope\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[napari_openhcs.plates]\n"
        "csvscope = csvscope_plugin:CsvScopeHandler\n"
        "broken = broken_plugin:Handler\n"
        "impostor = csvscope_plugin:LOADS\n"
    )
    monkeypatch.syspath_prepend(str(site))
    discovery.plate_handlers.cache_clear()
    yield tmp_path
    discovery.plate_handlers.cache_clear()
    sys.modules.pop("csvscope_plugin", None)


def test_built_in_handlers_come_first():
    names = [h.name for h in plate_handlers()]
    assert names[:3] == ["omezarr", "operaphenix", "imagexpress"]


def test_third_party_handler_is_found_loaded_once_and_opens_its_plates(third_party, caplog):
    plate = third_party / "plate"
    plate.mkdir()
    (plate / "wells.csv").write_text("A01,1\nA01,2\nB02,1\n")
    with caplog.at_level(logging.WARNING, logger="napari_openhcs.plates.discovery"):
        names = [h.name for h in plate_handlers()]
    assert names == ["omezarr", "operaphenix", "imagexpress", "csvscope"]
    # the broken plugin and the non-handler are skipped with one line each, naming them
    assert sum("'broken'" in r.message and "needs libfoo" in r.message for r in caplog.records) == 1
    assert sum("'impostor'" in r.message for r in caplog.records) == 1
    index = open_plate(plate)
    assert index.format == "csvscope" and index.wells == ["A01", "B02"]
    assert index.missing == [("B02", 2, 1, 1, 1)]
    assert index.shape == (4, 5) and index.dtype == "uint16"
    np.testing.assert_array_equal(read_plane("csvscope", "A01:2"), np.full((4, 5), 2))
    plate_handlers()
    get_handler("csvscope")
    assert sys.modules["csvscope_plugin"].LOADS == [1]


def test_unknown_format_name_lists_the_known_ones():
    with pytest.raises(PlateError, match=r"no plate handler named 'nikon' \(known: omezarr, "):
        get_handler("nikon")


def test_empty_folder_is_not_a_plate(tmp_path):
    with pytest.raises(PlateError, match="not a plate layout napari-openhcs knows") as err:
        open_plate(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_a_plain_file_is_not_a_plate(tmp_path):
    (tmp_path / "image.tif").write_bytes(b"")
    with pytest.raises(PlateError, match="not a plate folder"):
        open_plate(tmp_path / "image.tif")


def test_importing_plates_pulls_in_no_image_library():
    import subprocess

    code = (
        "import sys, napari_openhcs.plates, napari_openhcs.plates.synthetic;"
        "heavy = {'tifffile', 'zarr', 'skimage', 'torch', 'napari', 'qtpy', 'scipy'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
