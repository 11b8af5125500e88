"""Plate-run benchmark: ``napari-openhcs run`` against hand-written loops, whole processes.

Plate: synthetic ImageXpress, 16 wells x 4 sites x 2 channels x 3 z at 1024^2 (uint16).
Pipeline: z-max projection -> Gaussian sigma=2 -> Otsu threshold -> label (materialised), i.e.
label and count. Compared side by side in one run, each as a fresh process, start-up included:

- ours, ``processes`` executor with 2 workers, and ours with the ``serial`` executor;
- (a) a hand-written loop doing the same reads, calls and writes in one process;
- (b) the same loop over a 2-process ``multiprocessing`` pool;
- the 2-core compute limit: the functions' own time summed over the plate / 2, plus the
  measured read and write time (both from the loop's own per-phase timers).

Also reported: ``napari-openhcs demo`` wall time, worker start time and peak memory per
worker (resident set size sampled every 20 ms). Prints a table and writes JSON to
``benchmarks/results/plate_run.json``.

With ``--cold`` the plate's files are dropped from the page cache before every run, so the
reads go to the disk (a plate larger than memory, or a fresh mount).

Run: python benchmarks/plate_run_bench.py [--size 1024] [--wells 16] [--repeat 1] [--cold]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from pagecache import evict  # beside this script

HERE = Path(__file__).resolve().parent

PIPELINE = {
    "format": "napari-openhcs.pipeline",
    "version": 1,
    "name": "benchmark: project, blur, threshold, label",
    "steps": [
        {
            "name": "project",
            "func": "napari_openhcs.functions.max_projection",
            "variable_components": ["z"],
        },
        {
            "name": "blur",
            "func": {
                "function": "skimage.filters.gaussian",
                "kwargs": {"sigma": 2, "preserve_range": True},
            },
        },
        {"name": "threshold", "func": "skimage.filters.threshold_otsu"},
        {"name": "label", "func": "skimage.measure.label", "materialize": True},
    ],
}


def _sample_memory(pid: int, stop: threading.Event, peaks: dict) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    while not stop.is_set():
        try:
            for child in root.children(recursive=True):
                try:
                    rss = child.memory_info().rss
                    peaks[child.pid] = max(peaks.get(child.pid, 0), rss)
                except psutil.NoSuchProcess:
                    pass
        except psutil.NoSuchProcess:
            break
        stop.wait(0.02)


def timed(cmd: list[str], env=None) -> tuple[float, str, dict]:
    """Wall time of a whole process, its stdout, and the peak RSS of its child processes."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peaks: dict = {}
    stop = threading.Event()
    sampler = threading.Thread(target=_sample_memory, args=(proc.pid, stop, peaks))
    sampler.start()
    out, err = proc.communicate()
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return wall, out, peaks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=1024)
    parser.add_argument("--wells", type=int, default=16)
    parser.add_argument("--sites", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="drop the plate's files from the page cache before every run (reads hit the disk)",
    )
    args = parser.parse_args()

    from napari_openhcs.plates.synthetic import write_plate

    work = Path(tempfile.mkdtemp(prefix="openhcs-bench-"))
    rows = "ABCDEFGH"
    wells = [f"{rows[i // 12]}{i % 12 + 1:02d}" for i in range(args.wells)]
    plate = write_plate(
        work / "plate",
        "imagexpress",
        wells=wells,
        sites=args.sites,
        channels=2,
        z=3,
        size=args.size,
        seed=1,
    )
    pipeline = work / "bench.json"
    pipeline.write_text(json.dumps(PIPELINE))
    exe = [sys.executable, "-m", "napari_openhcs.cli"]
    loop = [sys.executable, str(HERE / "handwritten_loop.py"), str(plate)]

    rows_out = {}
    for r in range(args.repeat):
        for name, cmd in [
            (
                "ours: processes, 2 workers",
                exe
                + [
                    "run",
                    str(plate),
                    "--pipeline",
                    str(pipeline),
                    "--out",
                    str(work / f"ours{r}"),
                    "--workers",
                    "2",
                    "--json",
                ],
            ),
            (
                "ours: serial executor",
                exe
                + [
                    "run",
                    str(plate),
                    "--pipeline",
                    str(pipeline),
                    "--out",
                    str(work / f"serial{r}"),
                    "--executor",
                    "serial",
                    "--json",
                ],
            ),
            ("(a) hand-written loop, 1 process", loop + [str(work / f"loop{r}")]),
            (
                "(b) hand-written loop, 2-process pool",
                loop + [str(work / f"pool{r}"), "--pool", "2"],
            ),
        ]:
            if args.cold:
                evict(plate)
            wall, out, peaks = timed(cmd)
            entry = rows_out.setdefault(name, {"wall": [], "peak_rss_mb": []})
            entry["wall"].append(wall)
            entry["peak_rss_mb"].append(round(max(peaks.values(), default=0) / 2**20, 1))
            if name.startswith("(a)"):
                entry["phases"] = json.loads(out.strip().splitlines()[-1])
            if name.startswith("ours: processes"):
                report = json.loads(out.strip().splitlines()[-1])
                entry["worker_start_s"] = report["executor"].get("start_times")
                entry["workers_peak_rss_mb"] = sorted(round(v / 2**20, 1) for v in peaks.values())
    demo_wall, _, _ = timed(exe + ["demo", "--out", str(work / "demo")])

    phases = rows_out["(a) hand-written loop, 1 process"]["phases"]
    limit = phases["compute"] / 2 + phases["read"] + phases["write"]
    best = {name: min(v["wall"]) for name, v in rows_out.items()}
    a = best["(a) hand-written loop, 1 process"]
    b = best["(b) hand-written loop, 2-process pool"]
    ours = best["ours: processes, 2 workers"]
    serial = best["ours: serial executor"]
    images = args.wells * args.sites * 2 * 3
    print(
        f"\nplate: {args.wells} wells x {args.sites} sites x 2 channels x 3 z at "
        f"{args.size}^2 = {images} images; cores: {os.cpu_count()}"
    )
    print(f"{'run':<40}{'wall s':>9}{'peak RSS MB':>13}")
    for name, v in rows_out.items():
        print(f"{name:<40}{min(v['wall']):>9.2f}{max(v['peak_rss_mb']):>13.0f}")
    print(f"{'2-core compute limit':<40}{limit:>9.2f}")
    print(f"{'napari-openhcs demo':<40}{demo_wall:>9.2f}")
    ratios = {
        "ours vs (a): speed-up (goal >= 1.7)": a / ours,
        "ours vs (b): speed-up (goal > 1.0)": b / ours,
        "ours / compute limit (goal <= 1.25)": ours / limit,
        "serial / (a) (goal <= 1.1)": serial / a,
    }
    for k, v in ratios.items():
        print(f"{k:<40}{v:>9.2f}")
    ours_row = rows_out["ours: processes, 2 workers"]
    print(
        f"worker start (s): {ours_row.get('worker_start_s')}; "
        f"worker peak RSS (MB): {ours_row.get('workers_peak_rss_mb')}"
    )
    result = {
        "plate_images": images,
        "size": args.size,
        "runs": rows_out,
        "compute_limit_s": limit,
        "demo_s": demo_wall,
        "ratios": ratios,
    }
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    name = "plate_run_cold.json" if args.cold else "plate_run.json"
    (out / name).write_text(json.dumps(result, indent=2))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
