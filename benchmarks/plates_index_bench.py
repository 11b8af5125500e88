"""How long indexing a large plate takes, by file names and metadata alone.

Builds a 384-well x 9-site x 4-channel plate of EMPTY image files (13,824 files) in the
ImageXpress layout (with an .HTD) and in the Opera Phenix layout (with Index.idx.xml), then
times, side by side:

- ``listing``: a bare ``os.scandir`` of the image folder (the floor: the file system's cost);
- ``index``: ``open_plate(path, plane_info=False)`` in this process (median of the repeats);
- ``process``: a fresh ``python -c "open_plate(...)"`` (interpreter start and imports included).

The goal is at most 2 s per index. Prints a table and writes JSON to
``benchmarks/results/plates_index.json``. Run::

    PYTHONPATH=src python3 benchmarks/plates_index_bench.py            # full size
    PYTHONPATH=src python3 benchmarks/plates_index_bench.py --small    # CI-sized smoke run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GOAL_S = 2.0


def make_imagexpress(root: Path, wells: list[str], sites: int, channels: int) -> int:
    from napari_openhcs.wells import grid_for, parse_well

    rows, cols = grid_for(wells)
    chosen = {parse_well(w) for w in wells}
    lines = ['"HTSInfoFile", Version 1.0', '"TimePoints", 1', '"ZSeries", FALSE']
    lines += [f'"XWells", {cols}', f'"YWells", {rows}']
    for r in range(1, rows + 1):
        flags = ["TRUE" if (r, c) in chosen else "FALSE" for c in range(1, cols + 1)]
        lines.append(f'"WellsSelection{r}", ' + ", ".join(flags))
    lines += ['"Sites", TRUE', f'"XSites", {sites}', '"YSites", 1']
    lines += ['"SiteSelection1", ' + ", ".join(["TRUE"] * sites)]
    lines += ['"Waves", TRUE', f'"NWavelengths", {channels}', '"EndFile"']
    (root / "bench.HTD").write_text("\r\n".join(lines) + "\r\n")
    folder = root / "TimePoint_1"
    folder.mkdir()
    guid = "46C9B2CD-0BB3-4B8A-9187-2805F4C90506"
    n = 0
    for w in wells:
        for s in range(1, sites + 1):
            for c in range(1, channels + 1):
                (folder / f"bench-plate_{w}_s{s}_w{c}{guid}.tif").touch()
                n += 1
    return n


def make_phenix(root: Path, wells: list[str], sites: int, channels: int) -> int:
    from napari_openhcs.wells import grid_for, parse_well

    rows, cols = grid_for(wells)
    folder = root / "Images"
    folder.mkdir()
    entries = []
    for w in wells:
        r, c = parse_well(w)
        for f in range(1, sites + 1):
            for ch in range(1, channels + 1):
                url = f"r{r:02d}c{c:02d}f{f:02d}p01-ch{ch}sk1fk1fl1.tiff"
                (folder / url).touch()
                entries.append(
                    f'<Image Version="1"><id>{r:02d}{c:02d}K1F{f}P1R{ch}</id><State>Ok</State>'
                    f"<URL>{url}</URL><Row>{r}</Row><Col>{c}</Col><FieldID>{f}</FieldID>"
                    f"<PlaneID>1</PlaneID><TimepointID>0</TimepointID><ChannelID>{ch}</ChannelID>"
                    f"<ChannelName>ch{ch}</ChannelName>"
                    f'<ImageResolutionX Unit="m">6.5E-07</ImageResolutionX>'
                    f'<ImageResolutionY Unit="m">6.5E-07</ImageResolutionY>'
                    f'<PositionX Unit="m">{f * 1e-4:.4E}</PositionX>'
                    f'<PositionY Unit="m">0</PositionY><PositionZ Unit="m">0</PositionZ></Image>'
                )
    (folder / "Index.idx.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<EvaluationInputData xmlns="http://www.perkinelmer.com/PEHH/HarmonyV5" Version="2">'
        f"<Plates><Plate><PlateID>bench</PlateID><PlateRows>{rows}</PlateRows>"
        f"<PlateColumns>{cols}</PlateColumns></Plate></Plates>"
        "<Images>\n" + "\n".join(entries) + "\n</Images></EvaluationInputData>\n"
    )
    return len(entries)


def time_listing(folder: Path) -> float:
    start = time.perf_counter()
    with os.scandir(folder) as it:
        for _ in it:
            pass
    return time.perf_counter() - start


def time_index(root: Path, repeats: int) -> tuple[float, float, int]:
    from napari_openhcs.plates import discovery, open_plate

    times = []
    index = None
    for i in range(repeats):
        if i == 0:
            discovery.plate_handlers.cache_clear()  # first run pays handler discovery
        start = time.perf_counter()
        index = open_plate(root, plane_info=False)
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times), len(index.images)


def time_process(root: Path) -> float:
    code = (
        "import sys; from napari_openhcs.plates import open_plate; "
        "open_plate(sys.argv[1], plane_info=False)"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, str(root)], check=True)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="8 wells x 2 sites x 2 channels")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    from napari_openhcs.wells import plate_wells

    wells, sites, channels = plate_wells(384), 9, 4
    if args.small:
        wells, sites, channels = wells[:8], 2, 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="plates-bench-") as tmp:
        for fmt, make, image_dir in (
            ("imagexpress", make_imagexpress, "TimePoint_1"),
            ("operaphenix", make_phenix, "Images"),
        ):
            root = Path(tmp) / fmt
            root.mkdir()
            start = time.perf_counter()
            files = make(root, wells, sites, channels)
            build_s = time.perf_counter() - start
            listing = time_listing(root / image_dir)
            first, median, indexed = time_index(root, args.repeats)
            assert indexed == files, (fmt, indexed, files)
            rows.append(
                {
                    "format": fmt,
                    "wells": len(wells),
                    "sites": sites,
                    "channels": channels,
                    "files": files,
                    "build_s": round(build_s, 3),
                    "listing_s": round(listing, 4),
                    "index_first_s": round(first, 3),
                    "index_median_s": round(median, 3),
                    "process_s": round(time_process(root), 3),
                    "goal_s": GOAL_S,
                }
            )
    header = f"{'format':<12} {'files':>6} {'listing s':>10} {'index 1st s':>12} "
    header += f"{'index med s':>12} {'process s':>10} {'goal s':>7}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['format']:<12} {r['files']:>6} {r['listing_s']:>10.4f} {r['index_first_s']:>12.3f} "
            f"{r['index_median_s']:>12.3f} {r['process_s']:>10.3f} {r['goal_s']:>7.1f}"
        )
    result = {
        "benchmark": "plates_index",
        "small": args.small,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "note": "empty files, just created (warm file-system cache)",
        "rows": rows,
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    name = "plates_index_small.json" if args.small else "plates_index.json"
    (out / name).write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
