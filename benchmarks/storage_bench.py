"""OME-Zarr plate write/read throughput vs copying the same bytes as raw files, side by side.

Writes N fields of (1, C, Z, Y, X) uint16 through ``OmeZarrPlateWriter`` (Blosc-LZ4, one chunk
per plane) and reads them back with ``read_plate_well``; as the baseline, writes and reads the
same planes as raw ``.npy``-free byte files (one per plane). Goal: >= 0.8x raw both ways.
Reading is timed plane by plane as a plate run reads an OME-Zarr input plate, through the
lazy dask arrays napari gets (both warm: from the page cache, where the raw baseline is a
memory copy and a compressed store is bounded by its decompression speed), and plane by
plane cold: every file written back and dropped from the page cache first (``fsync`` +
``posix_fadvise(DONTNEED)``), as for a plate larger than memory.

    python benchmarks/storage_bench.py --wells 8 --sites 2 --size 1024
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from pagecache import evict  # beside this script

from napari_openhcs.plates.omezarr import read_plate_well
from napari_openhcs.storage import OmeZarrPlateWriter


def _fields(n, c, z, size, seed=0):
    rng = np.random.default_rng(seed)
    base = rng.normal(500, 50, (1, c, z, size, size)).clip(0, 65535).astype(np.uint16)
    return [np.roll(base, i, axis=-1) for i in range(n)]


def bench(
    wells: int, sites: int, channels: int, z: int, size: int, compressor: str, shards: bool = False
) -> dict:
    names = [f"A{c:02d}" for c in range(1, wells + 1)]
    data = _fields(sites, channels, z, size)
    nbytes = sum(d.nbytes for d in data) * wells
    tmp = Path(tempfile.mkdtemp(prefix="storage-bench-"))
    import dask.array  # noqa: F401  (imports outside the timed sections)
    import zarr  # noqa: F401

    try:
        t0 = time.perf_counter()
        writer = OmeZarrPlateWriter(
            tmp / "p.ome.zarr", 1, wells, compressor=compressor, shards=shards
        )
        for well in names:
            for s, field in enumerate(data):
                writer.write_field(well, s, field)
            writer.finish_well(well, sites)
        zarr_write = time.perf_counter() - t0
        from napari_openhcs.plates import open_plate, read_planes

        index = open_plate(tmp / "p.ome.zarr")
        units: dict = {}  # a run's units: the planes of one well and site
        for key, locator in index.images.items():
            units.setdefault((key.well, key.site), []).append(locator)
        t0 = time.perf_counter()
        for locators in units.values():  # as a plate run reads an OME-Zarr plate
            read_planes(index.format, locators)
        zarr_read = time.perf_counter() - t0
        t0 = time.perf_counter()
        for well in names:  # as napari reads it: lazily, through dask
            for levels, _ in read_plate_well(tmp / "p.ome.zarr", well):
                levels[0].compute(scheduler="threads")
        dask_read = time.perf_counter() - t0
        raw = tmp / "raw"
        t0 = time.perf_counter()
        for well in names:
            for s, field in enumerate(data):
                folder = raw / well / str(s)
                folder.mkdir(parents=True)
                for ci in range(channels):
                    for zi in range(z):
                        (folder / f"{ci}_{zi}.raw").write_bytes(field[0, ci, zi].tobytes())
        raw_write = time.perf_counter() - t0
        t0 = time.perf_counter()
        for root, _, files in os.walk(raw):
            for f in files:
                np.frombuffer(Path(root, f).read_bytes(), np.uint16)
        raw_read = time.perf_counter() - t0
        # Cold: every file written back and dropped from the page cache first, so both
        # read from the disk (a plate larger than memory); each read twice, the best kept.
        cold_zarr, cold_raw = float("inf"), float("inf")
        for _ in range(2):
            evict(tmp)
            t0 = time.perf_counter()
            for locators in units.values():
                read_planes(index.format, locators)
            cold_zarr = min(cold_zarr, time.perf_counter() - t0)
            evict(tmp)
            t0 = time.perf_counter()
            for root, _, files in os.walk(raw):
                for f in files:
                    np.frombuffer(Path(root, f).read_bytes(), np.uint16)
            cold_raw = min(cold_raw, time.perf_counter() - t0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mb = nbytes / 1e6
    return {
        "params": {
            "wells": wells,
            "sites": sites,
            "channels": channels,
            "z": z,
            "size": size,
            "compressor": compressor,
            "shards": shards,
            "megabytes": mb,
        },
        "omezarr_write_MBps": mb / zarr_write,
        "raw_write_MBps": mb / raw_write,
        "omezarr_read_MBps": mb / zarr_read,
        "raw_read_MBps": mb / raw_read,
        "write_ratio": raw_write / zarr_write,
        "read_ratio": raw_read / zarr_read,
        "dask_read_MBps": mb / dask_read,
        "cold_read_MBps": mb / cold_zarr,
        "raw_cold_read_MBps": mb / cold_raw,
        "cold_read_ratio": cold_raw / cold_zarr,
        "dask_read_ratio": raw_read / dask_read,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--wells", type=int, default=8)
    p.add_argument("--sites", type=int, default=2)
    p.add_argument("--channels", type=int, default=2)
    p.add_argument("--z", type=int, default=3)
    p.add_argument("--size", type=int, default=512)
    p.add_argument(
        "--compressor", action="append", help="default: lz4 and none, each also with shards"
    )
    p.add_argument("--repeat", type=int, default=3, help="best of N for every figure")
    a = p.parse_args()
    compressors = a.compressor or ["lz4", "none"]
    cases = [(c, False) for c in compressors] + [(c, True) for c in compressors]
    results = []
    print(f"{'layout':16s}{'':12s}{'OME-Zarr MB/s':>15s}{'raw MB/s':>12s}{'ratio':>8s}")
    for compressor, shards in cases:
        runs = [
            bench(a.wells, a.sites, a.channels, a.z, a.size, compressor, shards)
            for _ in range(a.repeat)
        ]
        r = dict(runs[0])
        for key in [k for k in r if k.endswith("MBps")]:
            r[key] = max(run[key] for run in runs)  # best of N: the machine is shared
        r["write_ratio"] = r["omezarr_write_MBps"] / r["raw_write_MBps"]
        r["read_ratio"] = r["omezarr_read_MBps"] / r["raw_read_MBps"]
        r["dask_read_ratio"] = r["dask_read_MBps"] / r["raw_read_MBps"]
        r["cold_read_ratio"] = r["cold_read_MBps"] / r["raw_cold_read_MBps"]
        r["repeats"] = a.repeat
        results.append(r)
        layout = compressor + (" + shards" if shards else "")
        for way, label in (
            ("write", "write"),
            ("read", "read planes"),
            ("dask_read", "read dask"),
            ("cold_read", "read cold"),
        ):
            ours = (
                r[f"{way}_MBps"] if way in ("dask_read", "cold_read") else r[f"omezarr_{way}_MBps"]
            )
            raw = {"write": r["raw_write_MBps"], "cold_read": r["raw_cold_read_MBps"]}.get(
                way, r["raw_read_MBps"]
            )
            print(f"{layout:16s}{label:12s}{ours:15.1f}{raw:12.1f}{r[f'{way}_ratio']:8.2f}")
    out = Path(__file__).parent / "results" / "storage_bench.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
