"""Registry costs, measured as whole fresh subprocesses, side by side in one run.

Rows:

- ``import napari_openhcs`` (baseline: ``python -c pass``);
- listing every function from a warm cache (goal <= 0.1 s above the interpreter start);
- listing cold, cache disabled, which imports scikit-image and pyclesperanto (goal <= 5 s);
- a fresh process resolving ``skimage.filters.gaussian`` through ``fn`` and running it on a
  512x512 image, against a fresh process importing ``skimage.filters`` alone and running the
  same call (goal: within 1.2x).

Each row is the median of ``--repeat`` runs. Prints a table and writes JSON to
``benchmarks/results/registry.json``.

Usage: ``python benchmarks/registry_bench.py [--repeat 5] [--size 512]``
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _time(code: str, env: dict, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, env=env, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--size", type=int, default=512)
    args = parser.parse_args()

    cache_home = tempfile.mkdtemp(prefix="openhcs-bench-cache-")
    env = {**os.environ, "XDG_CACHE_HOME": cache_home}
    env.pop("NAPARI_OPENHCS_DISABLE_REGISTRY_CACHE", None)
    cold_env = {**env, "NAPARI_OPENHCS_DISABLE_REGISTRY_CACHE": "1"}
    n = args.size
    make = f"import numpy as np; a = np.random.default_rng(0).random(({n}, {n}), np.float32)\n"
    listing = "from napari_openhcs.registry import list_functions; list_functions()"
    # Warm the cache once (not timed).
    subprocess.run([sys.executable, "-c", listing], check=True, env=env, capture_output=True)

    rows = [
        ("python -c pass", "pass", env, None),
        ("import napari_openhcs", "import napari_openhcs", env, None),
        ("list functions, warm cache", listing, env, "0.1 s over import"),
        ("list functions, cold (no cache)", listing, cold_env, "<= 5 s"),
        (
            f"fresh: skimage.filters alone, gaussian {n}^2",
            make + "import skimage.filters as f; f.gaussian(a, sigma=2.0)",
            env,
            None,
        ),
        (
            f"fresh: fn('skimage.filters.gaussian') {n}^2",
            make + "from napari_openhcs.registry import fn; "
            "fn('skimage.filters.gaussian')(a[None], sigma=2.0)",
            env,
            "<= 1.2x skimage alone",
        ),
    ]
    results = []
    for label, code, row_env, goal in rows:
        repeat = 1 if "cold" in label else args.repeat
        seconds = _time(code, row_env, repeat)
        results.append(
            {"case": label, "seconds": round(seconds, 4), "goal": goal, "repeat": repeat}
        )

    by = {r["case"]: r["seconds"] for r in results}
    base = by["import napari_openhcs"]
    warm = by["list functions, warm cache"] - base
    ratio = (
        by[f"fresh: fn('skimage.filters.gaussian') {n}^2"]
        / by[f"fresh: skimage.filters alone, gaussian {n}^2"]
    )
    print(f"{'case':<48}{'seconds':>10}  goal")
    for r in results:
        print(f"{r['case']:<48}{r['seconds']:>10.3f}  {r['goal'] or ''}")
    print(f"\nwarm listing above import: {warm:.3f} s; fn vs skimage alone: {ratio:.2f}x")
    RESULTS.mkdir(exist_ok=True)
    out = {
        "python": sys.version.split()[0],
        "size": n,
        "rows": results,
        "warm_listing_over_import_s": round(warm, 4),
        "fn_over_plain_ratio": round(ratio, 3),
    }
    (RESULTS / "registry.json").write_text(json.dumps(out, indent=2))
    print(f"wrote {RESULTS / 'registry.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
