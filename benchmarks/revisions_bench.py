"""Two source trees of this project, benchmarked side by side in one run.

Runs a benchmark script of each tree (its own copy, with that tree's ``src`` first on
``PYTHONPATH``, so the console script and the workers import that tree's code), alternating
before/after for ``--rounds`` rounds so that the machine's noise falls on both alike, then
prints each figure as the median over rounds and the ratio after / before. The figures are
read from the JSON the benchmark writes (``--result`` is its path inside the tree), flattened
to ``a.b.c`` keys; only numeric leaves whose names say seconds, milliseconds or MB/s are compared.

    git worktree add --detach /tmp/before <rev>
    python benchmarks/revisions_bench.py --before /tmp/before --after . --rounds 3 \\
        --script benchmarks/storage_bench.py --result benchmarks/results/storage_bench.json \\
        -- --wells 4 --sites 1 --size 512 --repeat 1

Writes ``benchmarks/results/revisions_<script name>.json`` in the after tree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: Leaf names compared: times (lower is better) and throughputs in MB/s (higher is better).
TIME_WORDS = ("_s", "seconds", "_ms", "wall", "time", "latency", "overhead", "MBps")


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _flatten(v, f"{prefix}{k}.")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            label = None
            if isinstance(v, dict):
                label = v.get("name") or v.get("label")
                if label is None and isinstance(v.get("params"), dict):
                    label = "-".join(str(x) for x in v["params"].values() if isinstance(x, str))
            yield from _flatten(v, f"{prefix}{label or i}.")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield prefix[:-1], float(obj)


def _leaf_name(key: str) -> str:
    """The last part of a flattened key that is not a list index (``runs.x.wall.0`` -> wall)."""
    parts = [p for p in key.split(".") if not p.isdigit()]
    return parts[-1] if parts else key


def _timed_keys(flat: dict[str, float]) -> dict[str, float]:
    return {k: v for k, v in flat.items() if any(w in _leaf_name(k) for w in TIME_WORDS)}


def run_once(tree: Path, script: str, result: str, args: list[str]) -> dict[str, float]:
    """Run ``script`` of ``tree`` once and return its timed figures."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree / "src") + os.pathsep + env.get("PYTHONPATH", "")
    # Each tree keeps its own registry cache: alternating trees must not rebuild each other's.
    cache = (
        Path(tempfile.gettempdir())
        / "revisions-bench-cache"
        / hashlib.sha1(str(tree).encode()).hexdigest()[:12]
    )
    env["XDG_CACHE_HOME"] = str(cache)
    out = tree / result
    if out.exists():
        out.unlink()
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, str(tree / script), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(
            f"{script} failed in {tree}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    figures = _timed_keys(dict(_flatten(json.loads(out.read_text()))))
    figures["script_wall_s"] = wall
    return figures


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--before", type=Path, required=True)
    p.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    p.add_argument("--script", required=True)
    p.add_argument("--result", required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("args", nargs=argparse.REMAINDER)
    a = p.parse_args(argv)
    extra = a.args[1:] if a.args[:1] == ["--"] else a.args
    runs: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for r in range(a.rounds):
        order = ("before", "after") if r % 2 == 0 else ("after", "before")
        for which in order:
            tree = (a.before if which == "before" else a.after).resolve()
            runs[which].append(run_once(tree, a.script, a.result, extra))
            print(f"round {r + 1} {which}: {runs[which][-1]['script_wall_s']:.1f} s", flush=True)
    keys = sorted(set(runs["before"][0]) & set(runs["after"][0]))
    rows = []
    for k in keys:
        b = statistics.median(x[k] for x in runs["before"] if k in x)
        f = statistics.median(x[k] for x in runs["after"] if k in x)
        rows.append({"figure": k, "before": b, "after": f, "ratio": (f / b) if b else None})
    width = max(len(r["figure"]) for r in rows)
    print(f"{'figure':<{width}}  {'before':>10}  {'after':>10}  after/before")
    for r in rows:
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        print(f"{r['figure']:<{width}}  {r['before']:>10.4g}  {r['after']:>10.4g}  {ratio}")
    out = a.after / "benchmarks" / "results" / f"revisions_{Path(a.script).stem}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {"script": a.script, "args": extra, "rounds": a.rounds, "rows": rows, "runs": runs},
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
