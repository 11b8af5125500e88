"""Reading one OME-Zarr field: ``storage/planes.py`` against zarr-python and zarrs, side by side.

Writes one field of (1, C, Z, Y, X) uint16 through ``OmeZarrPlateWriter`` (Blosc-LZ4, one chunk
per plane; ``--shards`` for one shard per field), then reads its planes back, warm (from the
page cache), with each reader in turn, interleaved, ``--repeat`` times:

- ``planes.py``: ``PlaneArray`` (the package's direct reader), plane by plane and whole;
- ``zarr``: zarr-python's default ``BatchedCodecPipeline`` with default settings;
- ``zarr tuned``: the same pipeline with ``codec_pipeline.batch_size``, ``async.concurrency``
  and ``threading.max_workers`` raised (``--batch``, ``--concurrency``, ``--threads``);
- ``zarrs``: the Rust ``zarrs.ZarrsCodecPipeline`` plugged in through ``codec_pipeline.path``
  (skipped with a note when ``zarrs`` is not installed).

Each reader reads the field three ways: one plane from an array already open (``a[0, 0, 0]``:
the plate handler keeps its fields open), plane by plane after opening (``a[0, c, z]``, as a
plate run reads a field's input) and as one ``a[:]`` after opening. The table gives median seconds and the ratio to ``planes.py``
(above 1: slower than ``planes.py``); ``--json`` writes the numbers.

    python benchmarks/zarr_read_bench.py --channels 3 --z 5 --size 1024 --repeat 7
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import zarr

from napari_openhcs.storage import OmeZarrPlateWriter
from napari_openhcs.storage.planes import PlaneArray

#: The three reads: one plane of an open array, every plane after opening, the whole array.
HOWS = ("one", "planes", "whole")


def _write_field(root: Path, channels: int, z: int, size: int, compressor: str, shards: bool):
    rng = np.random.default_rng(0)
    field = rng.normal(500, 50, (1, channels, z, size, size)).clip(0, 65535).astype(np.uint16)
    writer = OmeZarrPlateWriter(root / "p.ome.zarr", 1, 1, compressor=compressor, shards=shards)
    writer.write_field("A01", 0, field)
    writer.finish_well("A01", 1)
    arrays = [
        p.parent
        for p in (root / "p.ome.zarr").rglob("zarr.json")
        if json.loads(p.read_text()).get("node_type") == "array"
    ]
    # the full-resolution level of the one field: the array whose shape is the field's
    for path in sorted(arrays):
        if tuple(zarr.open_array(path, mode="r").shape) == field.shape:
            return path, field
    raise RuntimeError("the writer wrote no full-resolution array")


def _zarrs_available() -> bool:
    try:
        import zarrs  # noqa: F401
    except ImportError:
        return False
    return True


def _readers(args) -> dict[str, contextlib.AbstractContextManager | None]:
    """Reader name -> the zarr config it runs under (``None``: ``planes.py``)."""
    readers: dict = {"planes.py": None, "zarr": {}}
    readers["zarr tuned"] = {
        "codec_pipeline.batch_size": args.batch,
        "async.concurrency": args.concurrency,
        "threading.max_workers": args.threads,
    }
    if _zarrs_available():
        readers["zarrs"] = {"codec_pipeline.path": "zarrs.ZarrsCodecPipeline"}
    return readers


def _read_planes(arr, shape) -> None:
    for c in range(shape[1]):
        for zi in range(shape[2]):
            np.asarray(arr[0, c, zi])


def _open(path: Path, config: dict | None):
    if config is None:
        return PlaneArray.open(path)
    with zarr.config.set(config):
        return zarr.open_array(path, mode="r")


def _time_one_plane(path: Path, config: dict | None, expected: np.ndarray) -> float:
    """One plane from an open array: the fastest of a few reads, so a tick counts little."""
    arr = _open(path, config)
    best = float("inf")
    with zarr.config.set(config or {}):
        for _ in range(5):
            t0 = time.perf_counter()
            plane = np.asarray(arr[0, 0, 0])
            best = min(best, time.perf_counter() - t0)
    if not np.array_equal(plane, expected[0, 0, 0]):
        raise AssertionError(f"reader {config!r} read wrong pixels")
    return best


def _time_once(path: Path, config: dict | None, how: str, expected: np.ndarray) -> float:
    if how == "one":
        return _time_one_plane(path, config, expected)
    if config is None:
        t0 = time.perf_counter()
        arr = PlaneArray.open(path)
        if arr is None:
            raise RuntimeError(f"planes.py cannot read {path}")
        if how == "planes":
            _read_planes(arr, expected.shape)
        else:
            out = arr[:]
        elapsed = time.perf_counter() - t0
    else:
        with zarr.config.set(config):
            t0 = time.perf_counter()
            arr = zarr.open_array(path, mode="r")
            if how == "planes":
                _read_planes(arr, expected.shape)
            else:
                out = arr[:]
            elapsed = time.perf_counter() - t0
    if how == "whole" and not np.array_equal(out, expected):
        raise AssertionError(f"reader {config!r} read wrong pixels")
    return elapsed


def bench(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="zarr-read-bench-"))
    try:
        path, field = _write_field(
            tmp, args.channels, args.z, args.size, args.compressor, args.shards
        )
        readers = _readers(args)
        times: dict[tuple[str, str], list[float]] = {}
        for how in HOWS:  # one untimed pass each warms caches and imports
            for config in readers.values():
                _time_once(path, config, how, field)
        for _ in range(args.repeat):  # interleaved: drift hits every reader alike
            for how in HOWS:
                for name, config in readers.items():
                    times.setdefault((name, how), []).append(_time_once(path, config, how, field))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    rows = []
    for how in HOWS:
        base = statistics.median(times[("planes.py", how)])
        for name in readers:
            median = statistics.median(times[(name, how)])
            rows.append(
                {
                    "reader": name,
                    "read": how,
                    "median_s": median,
                    "MBps": (field[0, 0, 0] if how == "one" else field).nbytes / 1e6 / median,
                    "ratio_to_planes_py": median / base,
                }
            )
    return {
        "params": {
            "channels": args.channels,
            "z": args.z,
            "size": args.size,
            "compressor": args.compressor,
            "shards": args.shards,
            "repeat": args.repeat,
            "batch": args.batch,
            "concurrency": args.concurrency,
            "threads": args.threads,
            "zarr": zarr.__version__,
            "zarrs": _zarrs_available(),
            "megabytes": field.nbytes / 1e6,
        },
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=3)
    parser.add_argument("--z", type=int, default=5)
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--compressor", default="lz4")
    parser.add_argument("--shards", action="store_true")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    result = bench(args)
    p = result["params"]
    print(
        f"one field {p['channels']}x{p['z']} planes of {p['size']}^2 uint16 "
        f"({p['megabytes']:.1f} MB, {p['compressor']}, shards={p['shards']}), "
        f"zarr {p['zarr']}, median of {p['repeat']} interleaved repeats, warm"
    )
    print(f"{'reader':<12} {'read':<7} {'median s':>9} {'MB/s':>8} {'x planes.py':>12}")
    for row in result["rows"]:
        print(
            f"{row['reader']:<12} {row['read']:<7} {row['median_s']:>9.4f} "
            f"{row['MBps']:>8.0f} {row['ratio_to_planes_py']:>12.2f}"
        )
    if not p["zarrs"]:
        print("zarrs is not installed: pip install zarrs")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
