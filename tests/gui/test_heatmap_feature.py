"""The heat map colours the plate by any numeric per-well profile feature of the run."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui

PLUGIN = "napari-openhcs"
WELLS = ["A01", "A02", "B01", "B03"]


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("heatfeature") / "plate"
    return write_plate(root, "imagexpress", wells=WELLS, sites=1, channels=2, z=1, size=128, seed=4)


def _cell_colour(heatmap, well):
    from napari_openhcs.wells import grid_position

    item = heatmap.table.item(*grid_position(well))
    return None if item is None else item.background().color().getRgb()[:3]


def test_choosing_a_feature_recolours_the_plate_with_its_values(
    make_napari_viewer, plate, qtbot, tmp_path
):
    import pyarrow as pa

    from napari_openhcs import tables
    from napari_openhcs.gui._heatmap import ramp
    from napari_openhcs.pipeline import load_pipeline

    viewer = make_napari_viewer()
    _, nav = viewer.window.add_plugin_dock_widget(PLUGIN, "Plate")
    _, dock = viewer.window.add_plugin_dock_widget(PLUGIN, "Pipeline")
    try:
        assert nav.open_path(plate)
        dock.set_steps(load_pipeline("cell_profile"))
        panel = dock.run_panel
        panel.out.setText(str(tmp_path / "out"))
        panel.workers.setValue(1)
        with qtbot.waitSignal(panel.run_finished, timeout=300_000):
            panel.start()
        assert sorted(panel.report.finished) == WELLS
        heatmap = panel.heatmap
        profile = tables.read_table(tmp_path / "out" / "wells.parquet")
        numeric = [  # the numeric columns with a number in some well
            f.name
            for f in profile.schema
            if (pa.types.is_integer(f.type) or pa.types.is_floating(f.type))
            and any(v is not None and v == v for v in profile.column(f.name).to_pylist())
        ]
        offered = heatmap.features()
        assert offered == numeric  # every one, in the table's order
        assert {"Metadata_Count_Cells", "Cells_AreaShape_Area"} <= set(offered)
        assert any(f.startswith("Cytoplasm_Intensity_") for f in offered)
        assert "status" not in offered and "Metadata_Well" not in offered

        heatmap.choose("Cells_AreaShape_Area")
        assert heatmap.feature == "Cells_AreaShape_Area"
        area = dict(
            zip(
                profile.column("well").to_pylist(),
                profile.column("Cells_AreaShape_Area").to_pylist(),
                strict=True,
            )
        )
        assert heatmap.values() == pytest.approx(area)
        lo, hi = min(area.values()), max(area.values())
        assert lo < hi
        for well, v in area.items():
            assert _cell_colour(heatmap, well) == ramp((v - lo) / (hi - lo)).getRgb()[:3]
        assert heatmap.legend_min.text() == f"{lo:.3g}"
        assert heatmap.legend_max.text() == f"{hi:.3g}"

        # choosing another feature recolours; clicking a well still opens its output
        heatmap.choose("Metadata_Count_Nuclei")
        counts = profile.column("Metadata_Count_Nuclei").to_pylist()
        assert sorted(heatmap.values().values()) == sorted(float(c) for c in counts)
        heatmap.table.cellClicked.emit(1, 2)  # B03
        assert nav.session.well == "B03"
        assert any(x.name.startswith("output: B03") for x in viewer.layers)
        assert heatmap.feature == "Metadata_Count_Nuclei"  # the choice is kept
    finally:
        dock.preview.close()
        dock.run_panel.close_executor()
