"""What conversions and memory-type decorators cost, next to the libraries' own calls.

For one ``(n, y, x)`` uint16 stack, times side by side (median of repeats, in this process):

- ``convert`` on the paths the rule shares (NumPy <-> torch CPU) and on those it copies
  (negative strides, memory-mapped, pyclesperanto), each beside the bare library call or a
  plain ``np.array`` copy of the same bytes (the floor for a copy);
- the decorators' overhead: a ``@numpy`` / ``@torch`` identity function against calling the
  function itself, and ``slice_by_slice`` against a hand-written loop over the planes;
- GPU rows (host <-> CuPy / torch CUDA, CuPy <-> torch) where a CUDA device is present.

Prints a table and writes JSON (``benchmarks/results/memory_convert[_small].json``). Run::

    PYTHONPATH=src python3 benchmarks/memory_convert_bench.py           # 16 x 1024 x 1024
    PYTHONPATH=src python3 benchmarks/memory_convert_bench.py --small   # 4 x 128 x 128
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from napari_openhcs.memory import available_memory_types, convert, memory_types


def timed(func: Callable[[], object], repeats: int) -> float:
    func()  # warm-up (imports, kernel compilation)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a tiny stack (CI smoke run)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    shape = (4, 128, 128) if args.small else (16, 1024, 1024)
    stack = (np.arange(np.prod(shape)) % 4000).astype(np.uint16).reshape(shape)
    rows: list[dict] = []

    def row(
        name: str, ours: Callable[[], object], baseline_name: str, baseline: Callable[[], object]
    ):
        t_ours, t_base = timed(ours, args.repeats), timed(baseline, args.repeats)
        rows.append(
            {
                "case": name,
                "ours_ms": t_ours * 1e3,
                "baseline": baseline_name,
                "baseline_ms": t_base * 1e3,
            }
        )

    available = available_memory_types()
    tmp = tempfile.TemporaryDirectory()
    mm_path = Path(tmp.name) / "stack.raw"
    stack.tofile(mm_path)
    memmap = np.memmap(mm_path, dtype=stack.dtype, mode="r", shape=shape)

    if "torch" in available:
        import torch

        tensor = torch.from_numpy(stack.copy())
        float_tensor = tensor.float()
        row(
            "numpy -> torch (shared)",
            lambda: convert(stack, "torch"),
            "torch.from_numpy",
            lambda: torch.from_numpy(stack),
        )
        row(
            "torch -> numpy (shared)",
            lambda: convert(tensor, "numpy"),
            "tensor.numpy()",
            lambda: tensor.numpy(),
        )
        row(
            "numpy[::-1] -> torch (copy)",
            lambda: convert(stack[::-1], "torch"),
            "np.array copy",
            lambda: np.array(stack[::-1]),
        )
        row(
            "read-only memmap -> torch (copy)",
            lambda: convert(memmap, "torch"),
            "np.array copy",
            lambda: np.array(memmap),
        )

        @memory_types(input="torch")
        def torch_identity(x):
            return x

        row(
            "@torch identity call (float32)",
            lambda: torch_identity(float_tensor),
            "plain call",
            lambda: (lambda x: x)(float_tensor),
        )
        row(
            "@torch identity, uint16 -> int32 cast",
            lambda: torch_identity(tensor),
            "tensor.to(int32)",
            lambda: tensor.to(torch.int32),
        )

    if "pyclesperanto" in available:
        import pyclesperanto as cle

        on_device = cle.push(stack)
        row(
            "numpy -> pyclesperanto",
            lambda: convert(stack, "pyclesperanto"),
            "cle.push",
            lambda: cle.push(stack),
        )
        row(
            "pyclesperanto -> numpy",
            lambda: convert(on_device, "numpy"),
            "cle.pull",
            lambda: cle.pull(on_device),
        )

    @memory_types(input="numpy")
    def numpy_identity(x):
        return x

    @memory_types(input="numpy", slice_by_slice=True)
    def per_plane(plane):
        return plane + 1

    row(
        "@numpy identity call",
        lambda: numpy_identity(stack),
        "plain call",
        lambda: (lambda x: x)(stack),
    )
    row(
        "@numpy slice_by_slice (+1)",
        lambda: per_plane(stack),
        "np.stack loop",
        lambda: np.stack([p + 1 for p in stack]),
    )

    if "cupy" in available:
        import cupy

        def sync(value):
            cupy.cuda.Device().synchronize()
            return value

        on_gpu = cupy.asarray(stack)
        row(
            "numpy -> cupy",
            lambda: sync(convert(stack, "cupy")),
            "cupy.asarray",
            lambda: sync(cupy.asarray(stack)),
        )
        row(
            "cupy -> numpy",
            lambda: convert(on_gpu, "numpy"),
            "cupy.asnumpy",
            lambda: cupy.asnumpy(on_gpu),
        )
        if "torch" in available and torch.cuda.is_available():
            row(
                "cupy -> torch cuda (shared)",
                lambda: convert(on_gpu, "torch"),
                "torch.from_dlpack",
                lambda: torch.from_dlpack(on_gpu),
            )
            row(
                "numpy -> torch cuda (copy)",
                lambda: sync(convert(stack, "torch", gpu=0)),
                "from_numpy().cuda()",
                lambda: sync(torch.from_numpy(stack).cuda()),
            )

    print(f"stack {shape} uint16 ({stack.nbytes / 2**20:.0f} MiB), median of {args.repeats}")
    print(f"{'case':36} {'ours ms':>10} {'baseline':>22} {'base ms':>10} {'ratio':>7}")
    for r in rows:
        ratio = r["ours_ms"] / r["baseline_ms"] if r["baseline_ms"] > 0 else float("nan")
        print(
            f"{r['case']:36} {r['ours_ms']:10.4f} {r['baseline']:>22} {r['baseline_ms']:10.4f} {ratio:7.2f}"
        )
    out = args.out or Path(__file__).parent / "results" / (
        "memory_convert_small.json" if args.small else "memory_convert.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "shape": list(shape),
        "dtype": "uint16",
        "repeats": args.repeats,
        "python": sys.version.split()[0],
    }
    meta["machine"] = platform.platform()
    out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2))
    print(f"wrote {out}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
