"""OME-Zarr HCS plates (NGFF 0.4 and 0.5) built by hand with zarr, indexed and read back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import zarr

from napari_openhcs.errors import PlateError
from napari_openhcs.plates import ImageKey, open_plate, read_plane

AXES = {
    "t": {"name": "t", "type": "time"},
    "c": {"name": "c", "type": "channel"},
    "z": {"name": "z", "type": "space", "unit": "micrometer"},
    "y": {"name": "y", "type": "space", "unit": "micrometer"},
    "x": {"name": "x", "type": "space", "unit": "micrometer"},
}
SCALE = {"t": 1.0, "c": 1.0, "z": 2.5, "y": 0.325, "x": 0.325}


def _attrs(version: str, content: dict) -> dict:
    return {"ome": {"version": "0.5", **content}} if version == "0.5" else content


def make_plate(root: Path, version: str, axes: str, wells, fields=2, data_seed=0, drop_field=None):
    """A plate with the given wells (e.g. "A/1"); each field's array has the given axes."""
    fmt = 3 if version == "0.5" else 2
    rows = sorted({w.split("/")[0] for w in wells})
    cols = sorted({w.split("/")[1] for w in wells}, key=int)
    plate = zarr.open_group(root, mode="w", zarr_format=fmt)
    plate.attrs.update(
        _attrs(
            version,
            {
                "plate": {
                    **({"version": "0.4"} if version == "0.4" else {}),
                    "name": "handmade",
                    "rows": [{"name": r} for r in rows],
                    "columns": [{"name": c} for c in cols],
                    "wells": [
                        {
                            "path": w,
                            "rowIndex": rows.index(w.split("/")[0]),
                            "columnIndex": cols.index(w.split("/")[1]),
                        }
                        for w in wells
                    ],
                    "field_count": fields,
                }
            },
        )
    )
    shape = {"t": 2, "c": 3, "z": 4, "y": 16, "x": 12}
    rng = np.random.default_rng(data_seed)
    truth = {}
    for w in wells:
        well = plate.require_group(w)
        well.attrs.update(
            _attrs(version, {"well": {"images": [{"path": str(f)} for f in range(fields)]}})
        )
        for f in range(fields):
            if f == drop_field:
                continue
            field = well.require_group(str(f))
            data = rng.integers(0, 4000, [shape[a] for a in axes], dtype=np.uint16)
            arr = field.create_array("0", shape=data.shape, dtype=data.dtype, chunks=data.shape)
            arr[...] = data
            truth[(w, f)] = data
            field.attrs.update(
                _attrs(
                    version,
                    {
                        "multiscales": [
                            {
                                **({"version": "0.4"} if version == "0.4" else {}),
                                "axes": [AXES[a] for a in axes],
                                "datasets": [
                                    {
                                        "path": "0",
                                        "coordinateTransformations": [
                                            {"type": "scale", "scale": [SCALE[a] for a in axes]}
                                        ],
                                    }
                                ],
                            }
                        ],
                        "omero": {
                            "channels": [
                                {"label": n, "color": col}
                                for n, col in (
                                    ("DAPI", "0000FF"),
                                    ("GFP", "00FF00"),
                                    ("RFP", "FF0000"),
                                )
                            ][: shape["c"] if "c" in axes else 1]
                        },
                    },
                )
            )
    return truth


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_plate_metadata_indexes_every_plane_and_reads_it_back(tmp_path, version):
    root = tmp_path / "plate.ome.zarr"
    truth = make_plate(root, version, "tczyx", ["A/1", "B/3"])
    index = open_plate(root)
    assert index.format == "omezarr" and index.metadata["ngff_version"] == version
    # the metadata list rows A, B and columns 1, 3: a grid holding B03 is 2 x 3
    assert index.name == "handmade" and (index.rows, index.columns) == (2, 3)
    assert index.wells == ["A01", "B03"]
    assert (index.sites, index.channels, index.z, index.timepoints) == (
        [1, 2],
        [1, 2, 3],
        [1, 2, 3, 4],
        [1, 2],
    )
    assert len(index.images) == 2 * 2 * 2 * 3 * 4 and index.missing == []
    assert index.shape == (16, 12) and index.dtype == "uint16"
    assert index.pixel_size == pytest.approx((0.325, 0.325)) and index.z_step == pytest.approx(2.5)
    assert index.channel_names == {1: "DAPI", 2: "GFP", 3: "RFP"}
    assert index.channel_colors[3] == "FF0000"
    plane = read_plane("omezarr", index.images[ImageKey("B03", 2, 3, 4, 2)])
    np.testing.assert_array_equal(plane, truth[("B/3", 1)][1, 2, 3])


@pytest.mark.parametrize(
    ("axes", "components"), [("czyx", (1, 3, 4)), ("cyx", (1, 3, 1)), ("yx", (1, 1, 1))]
)
def test_fewer_axes_give_single_values_for_absent_components(tmp_path, axes, components):
    truth = make_plate(tmp_path / "p.zarr", "0.5", axes, ["C/12"], fields=1)
    index = open_plate(tmp_path / "p.zarr")
    assert (len(index.timepoints), len(index.channels), len(index.z)) == components
    key = max(index.images)
    data = truth[("C/12", 0)]
    expected = data[tuple(-1 for _ in axes[:-2])] if len(axes) > 2 else data
    np.testing.assert_array_equal(read_plane("omezarr", index.images[key]), expected)


def test_field_listed_but_absent_is_missing(tmp_path):
    make_plate(tmp_path / "p.zarr", "0.5", "cyx", ["A/1", "A/2"], fields=2, drop_field=1)
    index = open_plate(tmp_path / "p.zarr")
    assert index.sites == [1, 2]
    assert {(k.well, k.site) for k in index.missing} == {("A01", 2), ("A02", 2)}


def test_plate_with_no_wells_yet_is_an_error(tmp_path):
    make_plate(tmp_path / "p.zarr", "0.5", "cyx", [], fields=1)
    with pytest.raises(PlateError, match="holds no images yet"):
        open_plate(tmp_path / "p.zarr")


def test_a_zarr_image_that_is_not_a_plate_is_not_taken_for_one(tmp_path):
    g = zarr.open_group(tmp_path / "img.zarr", mode="w", zarr_format=3)
    g.attrs["ome"] = {"version": "0.5", "multiscales": []}
    with pytest.raises(PlateError, match="not a plate layout"):
        open_plate(tmp_path / "img.zarr")


def test_axes_with_unusual_names_are_placed_by_their_types(tmp_path):
    truth = make_plate(tmp_path / "p.zarr", "0.5", "tczyx", ["A/1"], fields=1)
    meta = tmp_path / "p.zarr" / "A" / "1" / "0" / "zarr.json"
    doc = json.loads(meta.read_text())
    renamed = ["time", "channel", "depth", "row", "col"]
    for axis, name in zip(doc["attributes"]["ome"]["multiscales"][0]["axes"], renamed, strict=True):
        axis["name"] = name
    meta.write_text(json.dumps(doc))
    index = open_plate(tmp_path / "p.zarr")
    assert (len(index.timepoints), len(index.channels), len(index.z)) == (2, 3, 4)
    assert index.pixel_size == pytest.approx((0.325, 0.325))
    plane = read_plane("omezarr", index.images[ImageKey("A01", 1, 2, 3, 2)])
    np.testing.assert_array_equal(plane, truth[("A/1", 0)][1, 1, 2])
