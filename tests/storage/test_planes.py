"""Direct plane-chunk I/O agrees with zarr-python both ways, and declines what it cannot do."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from napari_openhcs.storage.planes import PlaneArray
from napari_openhcs.storage.zarrio import codecs_for, open_array, write_array

NGFFS = ("0.4", "0.5")
COMPRESSORS = ("lz4", "zstd", "gzip", "none")


def _data(dtype):
    rng = np.random.default_rng(1)
    data = rng.normal(200, 30, (2, 3, 1, 12, 17))
    if np.dtype(dtype) == bool:
        return data > 200
    return data.clip(0, None).astype(dtype)


@pytest.mark.parametrize("ngff", NGFFS)
@pytest.mark.parametrize("compressor", COMPRESSORS)
@pytest.mark.parametrize("dtype", ["uint16", "float32", "int32", "bool", "uint8"])
def test_direct_writes_read_back_equal_with_zarr_python(tmp_path, ngff, compressor, dtype):
    data = _data(dtype)
    write_array(tmp_path / "a", data, dimension_names="tczyx", compressor=compressor, ngff=ngff)
    assert PlaneArray.open(tmp_path / "a") is not None  # the direct path was taken
    back = zarr.open_array(str(tmp_path / "a"), mode="r")[...]
    np.testing.assert_array_equal(back, data)
    assert back.dtype == data.dtype


@pytest.mark.parametrize("ngff", NGFFS)
@pytest.mark.parametrize("compressor", COMPRESSORS)
def test_zarr_python_writes_read_back_equal_directly(tmp_path, ngff, compressor):
    data = _data("uint16")
    fmt = 3 if ngff == "0.5" else 2
    kwargs = {} if fmt == 3 else {"chunk_key_encoding": {"name": "v2", "separator": "/"}}
    arr = zarr.create_array(
        store=str(tmp_path / "z"),
        shape=data.shape,
        chunks=(1, 1, 1, 12, 17),
        dtype=data.dtype,
        compressors=codecs_for(compressor, ngff),
        fill_value=7,
        zarr_format=fmt,
        **kwargs,
    )
    arr[...] = data
    arr[1, 2] = 7  # an all-fill plane: zarr writes no chunk file for it
    direct = PlaneArray.open(tmp_path / "z")
    assert direct is not None
    want = arr[...]
    np.testing.assert_array_equal(direct[...], want)
    np.testing.assert_array_equal(direct[1, 2, 0], want[1, 2, 0])
    np.testing.assert_array_equal(direct[0:1, 1:3, :, 2:9, 3:4], want[0:1, 1:3, :, 2:9, 3:4])


def test_dot_separated_v2_keys_and_zarr_default_codecs_are_read(tmp_path):
    data = _data("uint16")
    arr = zarr.create_array(
        store=str(tmp_path / "z"),
        shape=data.shape,
        chunks=(1, 1, 1, 12, 17),
        dtype=data.dtype,
        zarr_format=2,
        chunk_key_encoding={"name": "v2", "separator": "."},
    )
    arr[...] = data  # zarr's v2 default compressor: Zstandard
    np.testing.assert_array_equal(PlaneArray.open(tmp_path / "z")[...], data)
    v3 = zarr.create_array(
        store=str(tmp_path / "v3"), shape=data.shape, chunks=(1, 1, 1, 12, 17), dtype=data.dtype
    )
    v3[...] = data  # zarr's v3 default codecs: bytes + Zstandard
    np.testing.assert_array_equal(PlaneArray.open(tmp_path / "v3")[...], data)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"chunks": (1, 1, 1, 6, 17)},  # not whole planes
        {"chunks": (1, 1, 1, 6, 17), "shards": (1, 1, 1, 12, 17)},  # shards of half planes
        {"chunks": (1, 1, 1, 12, 17), "order": "F", "zarr_format": 2},  # Fortran chunks
        {"chunks": (1, 1, 1, 12, 17), "filters": "transpose"},  # a transpose codec
    ],
)
def test_arrays_it_cannot_read_exactly_are_declined(tmp_path, kwargs):
    data = _data("uint16")
    if kwargs.get("filters") == "transpose":
        from zarr.codecs import TransposeCodec

        kwargs = {**kwargs, "filters": [TransposeCodec(order=(0, 1, 2, 4, 3))]}
    kwargs.setdefault("zarr_format", 3)
    arr = zarr.create_array(store=str(tmp_path / "z"), shape=data.shape, dtype=data.dtype, **kwargs)
    arr[...] = data
    assert PlaneArray.open(tmp_path / "z") is None
    assert PlaneArray.open(tmp_path / "missing") is None


def test_dask_reader_uses_direct_planes_and_matches(tmp_path):
    from napari_openhcs.plates.omezarr import read_plate_well
    from napari_openhcs.storage import OmeZarrPlateWriter

    data = _data("uint16")[:1]
    writer = OmeZarrPlateWriter(tmp_path / "p.ome.zarr", 1, 1)
    writer.write_field("A01", 0, data)
    writer.finish_well("A01", 1)
    [(levels, _info)] = read_plate_well(tmp_path / "p.ome.zarr", "A01")
    assert levels[0].name.startswith("openhcs-planes-")
    np.testing.assert_array_equal(levels[0].compute(), data)


@pytest.mark.parametrize("compressor", COMPRESSORS)
def test_shards_written_directly_read_back_equal_with_zarr_python(tmp_path, compressor):
    data = _data("uint16")
    write_array(
        tmp_path / "a",
        data,
        dimension_names="tczyx",
        compressor=compressor,
        ngff="0.5",
        shards=True,
    )
    direct = PlaneArray.open(tmp_path / "a")
    assert direct is not None and direct.shard == (2, 3, 1)
    assert [p.name for p in (tmp_path / "a").rglob("*") if p.is_file()] == ["zarr.json", "0"]
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "a"), mode="r")[...], data)
    np.testing.assert_array_equal(direct[...], data)
    np.testing.assert_array_equal(direct[1, 2, 0], data[1, 2, 0])


def test_zarr_python_shards_with_missing_chunks_and_partial_shards_read_directly(tmp_path):
    data = _data("uint16")[:, :3]
    arr = zarr.create_array(
        store=str(tmp_path / "z"),
        shape=data.shape,
        chunks=(1, 1, 1, 12, 17),
        shards=(1, 2, 1, 12, 17),  # 3 channels in shards of 2: the last shard is partial
        dtype=data.dtype,
        fill_value=5,
        zarr_format=3,
    )
    arr[...] = data
    arr[0, 1] = 5  # all fill: zarr leaves that inner chunk out of its shard
    direct = PlaneArray.open(tmp_path / "z")
    assert direct is not None and direct.shard == (1, 2, 1)
    np.testing.assert_array_equal(direct[...], arr[...])


def test_a_damaged_shard_index_is_an_error_not_wrong_data(tmp_path):
    data = _data("uint16")
    write_array(
        tmp_path / "a", data, dimension_names="tczyx", compressor="lz4", ngff="0.5", shards=True
    )
    shard = next(p for p in (tmp_path / "a").rglob("0") if p.is_file())
    raw = bytearray(shard.read_bytes())
    raw[-10] ^= 0xFF  # flip bits inside the index
    shard.write_bytes(bytes(raw))
    with pytest.raises(OSError, match="checksum"):
        PlaneArray.open(tmp_path / "a")[...]


def test_open_array_chooses_the_direct_reader_from_the_metadata(tmp_path):
    data = _data("uint16")
    write_array(tmp_path / "a", data, dimension_names="tczyx", compressor="lz4", ngff="0.5")
    assert isinstance(open_array(tmp_path / "a"), PlaneArray)
    arr = zarr.create_array(
        store=str(tmp_path / "z"), shape=data.shape, chunks=(1, 1, 1, 6, 17), dtype=data.dtype
    )
    arr[...] = data  # half-plane chunks: declined, read by zarr-python
    opened = open_array(tmp_path / "z")
    assert isinstance(opened, zarr.Array)
    np.testing.assert_array_equal(opened[...], data)
