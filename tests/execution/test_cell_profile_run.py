"""The built-in ``cell_profile`` pipeline on a small plate of synthetic cells: the single-cell,
image and per-well tables a run writes, equal on every executor and after a resume, read by
pycytominer as they are, features named with the plate's channel names, each nucleus's
child count, and labels in which every cell holds exactly its nucleus."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pycytominer
import pytest
import zarr
from pycytominer.cyto_utils import infer_cp_features
from scipy import ndimage as ndi

from napari_openhcs.execution.run import run_plate
from napari_openhcs.plates import open_plate
from napari_openhcs.plates.synthetic_cells import make_cells
from napari_openhcs.plates.synthetic_layouts import PLATE_NAME, ImageXpressLayout, channel_name
from napari_openhcs.storage.profiles import feature_columns
from pipeline.run_outputs import assert_same_outputs, snapshot

WELLS = ["A01", "A02", "B01"]
SIZE = 160
#: The per-plate tables, each written as Parquet and CSV.
TABLES = ("single_cell", "image", "wells")
#: The plate's channel names (the synthetic layout's), which the features carry.
DNA, CYTO = channel_name(1), channel_name(2)


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    """An ImageXpress plate of one site per well: DNA (w1) and cytoplasm (w2) of make_cells."""
    root = tmp_path_factory.mktemp("cells") / "plate"
    layout = ImageXpressLayout(root, (2, 2), WELLS, 1, 2, 1, 1, SIZE)
    for i, well in enumerate(WELLS):
        site = make_cells(SIZE, count=12, seed=i, marker=(0.8, 1.2 + i))
        layout.write_well(well, [site.image[:2][None, :, None]])  # (t, c, z, y, x)
    layout.finish()
    return root


def _run(plate, out, **kwargs):
    report = run_plate(plate, "cell_profile", out, **kwargs)
    assert report.exit_code == 0, report.wells
    return out


@pytest.fixture(scope="module")
def serial(plate, tmp_path_factory):
    return _run(plate, tmp_path_factory.mktemp("serial") / "out", executor="serial")


def _floats(column) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=float)


def _read(out, name):
    return pq.read_table(out / f"{name}.parquet")


def _labels(out, well, name):
    root = zarr.open_group(str(out / f"{PLATE_NAME}.ome.zarr"), mode="r")
    return np.asarray(root[f"{well[0]}/{int(well[1:])}/0/labels/{name}/0"][0, 0, 0])


def _image(plate, well, channel):
    import tifffile

    return tifffile.imread(plate / "TimePoint_1" / f"{PLATE_NAME}_{well}_w{channel}.tif")


def _tables(out) -> dict:
    """The run's per-plate and per-well tables, seconds left out (they differ between runs)."""
    found = {}
    for path in sorted(out.glob("*.parquet")) + sorted(out.glob("*/*.parquet")):
        table = pq.read_table(path)
        keep = [n for n in table.column_names if not n.startswith("ExecutionTime_")]
        found[str(path.relative_to(out))] = table.select(keep)
    found["wells.csv"] = (out / "wells.csv").read_text()
    return found


def _assert_same_tables(a: dict, b: dict) -> None:
    """Same names, columns, types and values (NaN where the other has NaN)."""
    assert sorted(a) == sorted(b)
    for name, table in a.items():
        if isinstance(table, str):
            assert table == b[name], name
        else:
            assert table.schema == b[name].schema, name
            pd.testing.assert_frame_equal(table.to_pandas(), b[name].to_pandas(), check_exact=True)


def test_the_run_writes_single_cell_image_and_well_tables_as_parquet_and_csv(serial):
    for name in TABLES:  # the CSV holds the Parquet file's values, read back exactly
        typed = _read(serial, name)
        text = pacsv.read_csv(serial / f"{name}.csv")
        assert text.column_names == typed.column_names, name
        for column in typed.column_names:
            want, got = typed.column(column), text.column(column)
            if pa.types.is_integer(want.type) or pa.types.is_floating(want.type):
                np.testing.assert_array_equal(_floats(got), _floats(want), err_msg=column)
            else:
                assert [str(v) for v in got.to_pylist()] == [str(v) for v in want.to_pylist()]
    for well in WELLS:
        for kind in ("single_cell", "image"):
            assert (serial / kind / f"{well}.parquet").is_file()
            assert (serial / kind / f"{well}.csv").is_file()
    cells = _read(serial, "single_cell")
    assert cells.column_names[:7] == [
        "Metadata_Plate",
        "Metadata_Well",
        "Metadata_Site",
        "Metadata_ObjectNumber",
        "Metadata_Cells_Parent_Nuclei",
        "Metadata_Cytoplasm_Parent_Cells",
        "Metadata_Cytoplasm_Parent_Nuclei",
    ]
    for family in (f"Intensity_MeanIntensity_{DNA}", f"Intensity_MeanIntensity_{CYTO}"):
        for compartment in ("Nuclei", "Cells", "Cytoplasm"):
            assert f"{compartment}_{family}" in cells.column_names
    assert "Cells_AreaShape_Area" in cells.column_names
    assert not [n for n in cells.column_names if "_Texture_" in n]  # texture is opt-in
    image = _read(serial, "image")
    assert image.column("Metadata_Well").to_pylist() == WELLS
    assert image.column("Count_Nuclei").to_pylist() == image.column("Count_Cells").to_pylist()
    assert min(image.column("Count_Cells").to_pylist()) >= 5
    assert {"ExecutionTime_nuclei", "ExecutionTime_cells"} <= set(image.column_names)
    wells = _read(serial, "wells")
    assert wells.column("well").to_pylist() == WELLS
    assert wells.column("Metadata_Object_Count").to_pylist() == (
        image.column("Count_Cells").to_pylist()
    )
    assert wells.column("status").to_pylist() == ["done"] * len(WELLS)
    # each step measures its objects in two channels: two long rows, one object
    for step in ("nuclei", "cells"):
        counts = image.column(f"Count_{step.title()}").to_pylist()
        assert wells.column(f"{step}_count").to_pylist() == counts
        assert wells.column(f"Metadata_Count_{step.title()}").to_pylist() == counts


def test_each_row_holds_its_objects_measurements(plate, serial):
    """Areas and mean intensities against the run's own label outputs and the plate's pixels."""
    cells = _read(serial, "single_cell").to_pandas()
    for well in WELLS:
        rows = cells[cells["Metadata_Well"] == well]
        numbers = rows["Metadata_ObjectNumber"].to_numpy()
        for compartment in ("Nuclei", "Cells", "Cytoplasm"):
            labels = _labels(serial, well, compartment.lower())
            area = np.bincount(labels.ravel(), minlength=numbers.max() + 1)[numbers]
            measured = rows[f"{compartment}_AreaShape_Area"].to_numpy()
            present = area > 0
            np.testing.assert_array_equal(measured[present], area[present])
            assert np.isnan(measured[~present]).all()  # a cell without cytoplasm
            for channel, name in ((1, DNA), (2, CYTO)):
                pixels = _image(plate, well, channel) / 65535.0
                want = ndi.mean(pixels, labels, numbers[present])
                got = rows[f"{compartment}_Intensity_MeanIntensity_{name}"].to_numpy()[present]
                np.testing.assert_allclose(got, want, rtol=1e-9)


def test_features_carry_the_plates_channel_names(plate, serial):
    names = open_plate(plate).channel_names
    assert (names[1], names[2]) == (DNA, CYTO) == ("DAPI", "FITC")
    cells = _read(serial, "single_cell").column_names
    intensity = {n.rsplit("_", 1)[1] for n in cells if "_Intensity_MeanIntensity_" in n}
    assert intensity == {names[1], names[2]}
    for compartment in ("Nuclei", "Cells", "Cytoplasm"):
        assert f"{compartment}_Intensity_MeanIntensity_{names[1]}" in cells


def test_each_nucleus_child_count_is_its_number_of_cells_in_the_label_outputs(serial):
    cells = _read(serial, "single_cell").to_pandas()
    for well in WELLS:
        rows = cells[cells["Metadata_Well"] == well]
        nuclei, grown = _labels(serial, well, "nuclei"), _labels(serial, well, "cells")
        # each cell's parent: the nucleus under most of its nucleus pixels
        parents = [
            np.bincount(nuclei[(grown == k) & (nuclei > 0)]).argmax()
            for k in np.unique(grown[grown > 0])
        ]
        per_nucleus = np.bincount(parents, minlength=nuclei.max() + 1)
        numbers = rows["Metadata_Cells_Parent_Nuclei"].to_numpy()
        got = rows["Nuclei_Children_Cells_Count"].to_numpy()
        np.testing.assert_array_equal(got, per_nucleus[numbers])
        assert rows["Metadata_Cells_Parent_Nuclei"].tolist() == [
            parents[i] for i in range(len(parents))
        ]


def test_every_cell_contains_exactly_its_nucleus_in_the_label_outputs(serial):
    root = zarr.open_group(str(serial / f"{PLATE_NAME}.ome.zarr"), mode="r")
    for well in WELLS:
        field = root[f"{well[0]}/{int(well[1:])}/0/labels"]
        assert sorted(field.group_keys()) == ["cells", "cytoplasm", "nuclei"]
        nuclei = _labels(serial, well, "nuclei")
        cells = _labels(serial, well, "cells")
        cytoplasm = _labels(serial, well, "cytoplasm")
        assert nuclei.max() > 0
        assert np.array_equal(cells[nuclei > 0], nuclei[nuclei > 0])  # the whole nucleus
        for k in np.unique(cells[cells > 0]):
            assert set(np.unique(nuclei[cells == k])) - {0} == {k}  # and no other
        assert np.array_equal(cytoplasm, np.where(nuclei > 0, 0, cells))


def test_pycytominer_takes_the_run_tables_as_they_are(serial):
    cells = _read(serial, "single_cell")
    frame = cells.to_pandas()
    ours = [n for n in cells.column_names if not n.startswith("Metadata_")]
    assert infer_cp_features(frame) == ours == feature_columns(cells)
    theirs = pycytominer.aggregate(
        frame,
        strata=["Metadata_Plate", "Metadata_Well"],
        operation="median",
        compute_object_count=True,
    )
    for wells in (
        _read(serial, "wells").to_pandas(),
        pacsv.read_csv(serial / "wells.csv").to_pandas(),
    ):
        assert list(theirs["Metadata_Well"]) == list(wells["Metadata_Well"]) == WELLS
        np.testing.assert_allclose(
            theirs[ours].to_numpy(float), wells[ours].to_numpy(float), rtol=1e-12
        )
        assert list(theirs["Metadata_Object_Count"]) == list(wells["Metadata_Object_Count"])


@pytest.mark.parametrize("executor", ["processes", "dask"])
def test_every_executor_writes_the_same_tables(plate, serial, executor, tmp_path):
    out = _run(plate, tmp_path / "out", executor=executor, workers=2)
    _assert_same_tables(_tables(out), _tables(serial))
    assert_same_outputs(snapshot(out), snapshot(serial))


def test_a_resumed_run_equals_a_clean_one(plate, serial, tmp_path):
    out = tmp_path / "out"
    _run(plate, out, executor="serial", wells=["A02"])
    report = run_plate(plate, "cell_profile", out, executor="serial")
    assert report.exit_code == 0 and report.earlier == {"A02"}
    _assert_same_tables(_tables(out), _tables(serial))
    assert_same_outputs(snapshot(out), snapshot(serial))


def test_a_plate_without_the_cytoplasm_channel_is_refused_before_any_pixel_is_read(tmp_path):
    from napari_openhcs.errors import PipelineError
    from napari_openhcs.plates.synthetic import write_plate

    one_channel = write_plate(tmp_path / "plate", wells=["A01"], sites=1, channels=1, size=32)
    with pytest.raises(PipelineError, match="asks for channel 2, which the plate does not have"):
        run_plate(one_channel, "cell_profile", tmp_path / "out", executor="serial")
    assert not (tmp_path / "out").exists()


def test_the_plate_map_is_joined_into_the_plate_tables_as_metadata(plate, tmp_path):
    mapping = tmp_path / "map.csv"
    mapped = WELLS[:-1]  # the last well is not in the map
    mapping.write_text(
        "well,treatment,control_type\n"
        + "".join(f"{w},drug{i},{'negative' if i else 'positive'}\n" for i, w in enumerate(mapped))
    )
    out = _run(plate, tmp_path / "out", executor="serial", plate_map=mapping)
    expected = {w: (f"drug{i}", "negative" if i else "positive") for i, w in enumerate(mapped)}
    for name in ("single_cell", "image"):
        for table in (_read(out, name), pacsv.read_csv(out / f"{name}.csv")):
            names = table.column_names
            at = names.index("Metadata_Well")
            assert names[at + 1 : at + 3] == ["Metadata_control_type", "Metadata_treatment"]
            wells = table.column("Metadata_Well").to_pylist()
            got = zip(
                table.column("Metadata_treatment").to_pylist(),
                table.column("Metadata_control_type").to_pylist(),
                strict=True,
            )
            for well, pair in zip(wells, got, strict=True):
                # an unmapped well is null (an empty field in the CSV)
                assert tuple(v or None for v in pair) == expected.get(well, (None, None))
            assert set(wells) == set(WELLS)
    cells = _read(out, "single_cell").to_pandas()
    # pycytominer still finds exactly the features, and groups by the joined metadata
    assert infer_cp_features(cells) == feature_columns(_read(out, "single_cell"))
    profiles = pycytominer.aggregate(
        cells.dropna(subset=["Metadata_treatment"]),
        strata=["Metadata_Well", "Metadata_treatment"],
        operation="median",
    )
    assert sorted(profiles["Metadata_treatment"]) == sorted(v[0] for v in expected.values())
