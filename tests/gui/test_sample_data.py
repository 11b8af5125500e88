"""The sample plate: written once, opened through the plate reader."""

from __future__ import annotations

import numpy as np

from napari_openhcs.gui import _sample_data
from napari_openhcs.gui._reader import read_plate_layers


def test_sample_plate_is_the_reader_output_of_a_synthetic_plate(tmp_path, monkeypatch):
    monkeypatch.setattr(_sample_data.tempfile, "gettempdir", lambda: str(tmp_path))
    layers = _sample_data.sample_plate()
    plate = tmp_path / _sample_data.SAMPLE_NAME / "plate"
    assert (plate / "ground_truth.json").is_file()
    expected = read_plate_layers(plate)
    assert [kw["name"] for _, kw, _ in layers] == [kw["name"] for _, kw, _ in expected]
    assert [kind for _, _, kind in layers] == ["image", "image"]
    assert layers[0][0].shape == (2, 1, 3, 256, 256)
    np.testing.assert_array_equal(
        np.asarray(layers[0][0][0, 0, 1]), np.asarray(expected[0][0][0, 0, 1])
    )
    # a second call reuses the plate instead of writing another
    mtime = (plate / "ground_truth.json").stat().st_mtime_ns
    _sample_data.sample_plate()
    assert (plate / "ground_truth.json").stat().st_mtime_ns == mtime
    assert sorted(p.name for p in plate.parent.iterdir()) == ["plate"]
