"""The baseline a user would write by hand: the plate-run benchmark's pipeline as a plain loop.

For every (well, site, channel): read the z-planes (tifffile), max-project, Gaussian sigma=2,
Otsu threshold, label, count; write the blurred image and the labels as Zarr arrays with one
chunk per plane and Blosc-LZ4 (the same bytes napari-openhcs writes: its main plate holds the
last image output, the labels go under labels/). ``--pool N`` runs the same function over a
``multiprocessing`` pool of N processes. Prints one JSON line: wall time, per-phase sums
(read / compute / write, measured inside the function) and the object count.

Run: python benchmarks/handwritten_loop.py PLATE OUT [--pool 2]
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

NAME = re.compile(
    r"_(?P<well>[A-P]\d\d)_s(?P<site>\d+)_w(?P<channel>\d+)(?:_z(?P<z>\d+))?\.tif", re.I
)
ZSTEP = re.compile(r"ZStep_(\d+)")


def find_stacks(plate: Path) -> list[tuple[str, int, int, list[str]]]:
    groups = defaultdict(list)
    for path in sorted(plate.rglob("*.tif")):
        m = NAME.search(path.name)
        if m and "_thumb" not in path.name:
            key = (m["well"], int(m["site"]), int(m["channel"]))
            folder = ZSTEP.search(str(path.parent))
            z = int(m["z"]) if m["z"] else int(folder.group(1)) if folder else 1
            groups[key].append((z, str(path)))
    return [(w, s, c, [p for _, p in sorted(zs)]) for (w, s, c), zs in sorted(groups.items())]


def process(job) -> dict:
    import tifffile
    import zarr
    from skimage.filters import gaussian, threshold_otsu
    from skimage.measure import label
    from zarr.codecs import BloscCodec

    (well, site, channel, paths), out = job
    t0 = time.perf_counter()
    planes = np.stack([tifffile.imread(p) for p in paths])
    t1 = time.perf_counter()
    projected = planes.max(axis=0)
    blurred = gaussian(projected, sigma=2, preserve_range=True)
    mask = blurred > threshold_otsu(blurred)
    labels = label(mask).astype(np.int32)
    count = int(labels.max())
    t2 = time.perf_counter()
    for name, data in (("image", blurred), ("labels", labels)):
        array = zarr.create_array(
            store=f"{out}/{well}/{site}/{channel}/{name}",
            shape=(1, 1, 1) + data.shape,
            chunks=(1, 1, 1) + data.shape,
            dtype=data.dtype,
            compressors=[BloscCodec(cname="lz4", clevel=5, shuffle="shuffle")],
            overwrite=True,
        )
        array[...] = data[None, None, None]
    t3 = time.perf_counter()
    return {"read": t1 - t0, "compute": t2 - t1, "write": t3 - t2, "count": count}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("plate")
    parser.add_argument("out")
    parser.add_argument("--pool", type=int, default=0)
    args = parser.parse_args()
    t0 = time.perf_counter()
    jobs = [(stack, args.out) for stack in find_stacks(Path(args.plate))]
    if args.pool:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(args.pool) as pool:
            results = pool.map(process, jobs, chunksize=1)
    else:
        results = [process(job) for job in jobs]
    wall = time.perf_counter() - t0
    summary = {k: sum(r[k] for r in results) for k in ("read", "compute", "write", "count")}
    print(json.dumps({"wall": wall, "stacks": len(jobs), **summary}))


if __name__ == "__main__":
    main()
