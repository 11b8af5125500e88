"""NGFF metadata read back the way each version stores it: 0.5 under ``ome`` in ``zarr.json``,
0.4 at the top of ``.zattrs``."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.storage import ngff
from napari_openhcs.storage.zarrio import write_array, write_group


@pytest.mark.parametrize("version", ["0.5", "0.4"])
def test_group_metadata_round_trips_through_read_ngff(tmp_path, version):
    body = {"well": ngff.well_metadata(version, ["0", "1"])}
    attrs = ngff.wrap(version, body)
    attrs["napari_openhcs"] = {"layout": {}}
    write_group(tmp_path / "w", attrs, ngff=version)
    found = ngff.read_ngff(tmp_path / "w")
    assert found.version == version
    assert found.body["well"]["images"] == [{"path": "0"}, {"path": "1"}]
    assert found.attributes["napari_openhcs"] == {"layout": {}}
    assert ngff.read_group_attrs(tmp_path / "w") == attrs
    assert ngff.unwrap(attrs) == (found.body, version)


@pytest.mark.parametrize(("version", "fmt"), [("0.5", 3), ("0.4", 2)])
def test_array_metadata_is_read_for_both_zarr_formats(tmp_path, version, fmt):
    data = np.zeros((1, 2, 1, 8, 9), np.uint16)
    write_array(tmp_path / "a", data, dimension_names="tczyx", compressor="lz4", ngff=version)
    found = ngff.read_array_meta(tmp_path / "a")
    assert (found.zarr_format, found.shape, found.dtype) == (fmt, data.shape, data.dtype)
    assert ngff.read_group_attrs(tmp_path / "a") is None  # an array is no group
    assert ngff.read_ngff(tmp_path / "a") is None
    assert ngff.read_array_meta(tmp_path) is None
    assert ngff.metadata_stamp(tmp_path / "a")[0] in (ngff.V3_FILE, ngff.V2_ARRAY)
