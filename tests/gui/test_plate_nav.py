"""The Plate navigator: well grid, selectors, lazy well layers, clear refusal of non-plates."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("nav") / "plate"
    return write_plate(
        root, "imagexpress", wells=["A01", "B03"], sites=2, channels=2, z=2, size=64, seed=1
    )


@pytest.fixture
def nav(make_napari_viewer):
    from napari_openhcs.gui._plate_nav import PlateNavigator

    return PlateNavigator(make_napari_viewer())


def test_opening_a_plate_fills_the_grid_and_loads_the_first_well_lazily(nav, plate):
    import dask.array as da

    assert nav.open_path(plate)
    assert nav.grid.item(0, 0).text() == "A01" and nav.grid.item(1, 2).text() == "B03"
    assert nav.grid.item(0, 1) is None  # no such well in the plate
    layers = [x for x in nav.viewer.layers if "channel" in x.metadata.get("openhcs", {})]
    assert len(layers) == 2
    assert isinstance(layers[0].data, da.Array)  # read on demand
    assert layers[0].metadata["openhcs"]["well"] == "A01"
    assert [nav.site.itemText(i) for i in range(nav.site.count())] == ["1", "2"]
    assert nav.session.well == "A01"


def test_choosing_a_well_updates_layers_in_place_and_the_selection(nav, plate):
    assert nav.open_path(plate)
    layer = nav.viewer.layers[0]
    nav.grid.cellClicked.emit(1, 2)
    assert nav.viewer.layers[0] is layer and layer.metadata["openhcs"]["well"] == "B03"
    assert nav.session.well == "B03"
    nav.site.setCurrentText("2")
    assert nav.session.site == 2
    assert nav.viewer.dims.current_step[0] == 1
    nav.channel.setCurrentIndex(2)  # channel 2 only
    visible = [x.visible for x in nav.viewer.layers if "channel" in x.metadata.get("openhcs", {})]
    assert visible == [False, True]


def test_a_folder_that_is_not_a_plate_gives_a_clear_message(nav, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    assert not nav.open_path(tmp_path)
    assert nav.message.text().startswith("Not a plate napari-openhcs can read")
    assert str(tmp_path) in nav.message.text()
    assert nav.session.plate_path is None
    assert not nav.open_path(tmp_path / "missing")
    assert "does not exist" in nav.message.text()
