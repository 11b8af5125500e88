"""Storage backends: the same save/load/exists/list/delete contract for memory, disk and zarr."""

from __future__ import annotations

import numpy as np
import pytest

from napari_openhcs.errors import InputError
from napari_openhcs.storage import get_backend

BACKENDS = ["memory", "disk", "zarr"]
ARRAYS = {
    "A01/s1/raw": np.arange(2 * 3 * 8, dtype=np.uint16).reshape(2, 3, 8),
    "A01/s1/float": np.linspace(0, 1, 20, dtype=np.float32).reshape(4, 5),
    "B02/labels": np.arange(16, dtype=np.int32).reshape(1, 4, 4),
}


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    return get_backend(request.param, None if request.param == "memory" else tmp_path / "s")


def test_arrays_round_trip_exactly(backend):
    for key, data in ARRAYS.items():
        backend.save(key, data)
    for key, data in ARRAYS.items():
        loaded = backend.load(key)
        assert loaded.dtype == data.dtype and loaded.shape == data.shape
        np.testing.assert_array_equal(loaded, data)


def test_list_exists_and_delete(backend):
    for key, data in ARRAYS.items():
        backend.save(key, data)
    assert backend.list() == sorted(ARRAYS)
    assert backend.list("A01/") == ["A01/s1/float", "A01/s1/raw"]
    assert backend.exists("B02/labels") and not backend.exists("B02/other")
    backend.delete("B02/labels")
    assert not backend.exists("B02/labels")
    with pytest.raises(KeyError):
        backend.load("B02/labels")


def test_saving_again_replaces(backend):
    backend.save("k", np.zeros((2, 2), np.uint8))
    backend.save("k", np.ones((3, 3), np.uint8))
    np.testing.assert_array_equal(backend.load("k"), np.ones((3, 3), np.uint8))
    assert backend.list() == ["k"]


@pytest.mark.parametrize("key", ["", "/abs", "a/../b", "a//b", ".openhcs-tmp-x"])
def test_keys_that_could_escape_the_root_are_refused(backend, key):
    with pytest.raises(InputError):
        backend.save(key, np.zeros((2, 2)))


def test_memory_backend_keeps_a_copy():
    store = get_backend("memory")
    data = np.zeros((2, 2))
    store.save("k", data)
    data[0, 0] = 5
    assert store.load("k")[0, 0] == 0


@pytest.mark.parametrize("name", ["disk", "zarr"])
def test_an_interrupted_save_leaves_the_old_array(tmp_path, name, monkeypatch):
    store = get_backend(name, tmp_path)
    store.save("k", np.zeros((4, 4), np.uint16))
    import os

    import napari_openhcs.storage.backends as backends

    def interrupted(src, dst):
        raise KeyboardInterrupt

    # Interrupt the final rename only (zarr itself also renames files while writing chunks).
    if name == "disk":
        monkeypatch.setattr(os, "replace", interrupted)
    else:
        monkeypatch.setattr(backends, "swap_into_place", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save("k", np.ones((4, 4), np.uint16))
    monkeypatch.undo()
    np.testing.assert_array_equal(store.load("k"), np.zeros((4, 4), np.uint16))
    assert store.list() == ["k"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        f"k.{'tif' if name == 'disk' else 'zarr'}"
    ]


def test_disk_backend_writes_tiff_files_and_refuses_non_images(tmp_path):
    store = get_backend("disk", tmp_path)
    store.save("A01/x", np.zeros((4, 4), np.uint8))
    assert (tmp_path / "A01" / "x.tif").is_file()
    with pytest.raises(InputError, match="images"):
        store.save("v", np.zeros(4))


def test_unknown_backend_or_missing_folder_is_an_input_error():
    with pytest.raises(InputError, match="unknown"):
        get_backend("s3")
    with pytest.raises(InputError, match="folder"):
        get_backend("disk")
