"""Time the own functions' backends side by side on one stack; print a table, write JSON.

Compares, on the same ``(n, size, size)`` uint16 stack:

- ``tophat_background``: scikit-image's exact-disk ``white_tophat`` (the slow baseline the
  NumPy version replaces) against the decomposed-disk NumPy, torch-CPU, torch-CUDA and CuPy
  versions;
- ``max_projection``, ``percentile_normalize``: NumPy against torch and CuPy;
- ``count_objects`` (NumPy only) for scale.

GPU rows appear only where CUDA / CuPy work; GPU timings include the host-device copy of the
input and the result (what a pipeline step pays when its neighbours run on the CPU) and, in a
second row, the compute alone on data already on the GPU.

Usage::

    python benchmarks/bench_functions.py --size 512 --planes 3 --repeats 3 --out bench.json
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from collections.abc import Callable

import numpy as np


def _best(func: Callable[[], object], repeats: int, sync: Callable[[], None]) -> float:
    func()  # warm-up (imports, kernel compilation, caches)
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        sync()
        times.append(time.perf_counter() - start)
    return min(times)


def _stack(planes: int, size: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    background = 300 + 400 * xx / size
    spots = (np.sin(yy / 5.0) * np.sin(xx / 7.0) > 0.8) * 1200
    noise = rng.normal(0, 40, (planes, size, size))
    return np.clip(background + spots + noise, 0, 65535).astype(np.uint16)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--planes", type=int, default=3)
    parser.add_argument("--radius", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default="bench_functions.json")
    parser.add_argument("--skip-exact", action="store_true", help="skip the slow exact disk")
    args = parser.parse_args()

    import napari_openhcs.functions as nf

    stack = _stack(args.planes, args.size)
    rows: list[dict] = []

    def record(function: str, backend: str, seconds: float) -> None:
        rows.append({"function": function, "backend": backend, "seconds": seconds})

    def nothing() -> None:
        return None

    r = args.radius
    if not args.skip_exact:
        from skimage.morphology import disk, white_tophat

        footprint = disk(r)
        record(
            "tophat_background",
            "skimage white_tophat, exact disk",
            _best(lambda: [white_tophat(p, footprint) for p in stack], args.repeats, nothing),
        )
    record(
        "tophat_background",
        "numpy (decomposed disk)",
        _best(lambda: nf.tophat_background(stack, radius=r), args.repeats, nothing),
    )
    record("max_projection", "numpy", _best(lambda: nf.max_projection(stack), 5, nothing))
    record(
        "percentile_normalize",
        "numpy",
        _best(lambda: nf.percentile_normalize(stack), args.repeats, nothing),
    )
    record(
        "count_objects",
        "numpy",
        _best(lambda: nf.count_objects(stack[:1]), args.repeats, nothing),
    )

    try:
        import torch

        import napari_openhcs.functions.torch as tf
    except ImportError:
        torch = None
    if torch is not None:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for device in devices:
            sync = torch.cuda.synchronize if device == "cuda" else nothing
            on_device = torch.from_numpy(stack).to(device)
            for name, kwargs in [
                ("tophat_background", {"radius": r}),
                ("max_projection", {}),
                ("percentile_normalize", {}),
            ]:
                func = getattr(tf, name)
                if device == "cpu":
                    # On a CUDA machine @torch moves CPU tensors to the GPU; the function
                    # it wraps runs where its input is.
                    func = func.__wrapped__
                if device == "cuda":
                    record(
                        name,
                        "torch cuda, with copies",
                        _best(
                            lambda f=func, k=kwargs: f(torch.from_numpy(stack).cuda(), **k).cpu(),
                            args.repeats,
                            sync,
                        ),
                    )
                record(
                    name,
                    f"torch {device}",
                    _best(lambda f=func, k=kwargs, x=on_device: f(x, **k), args.repeats, sync),
                )

    try:
        import cupy

        ok = cupy.is_available()
    except ImportError:
        ok = False
    if ok:
        import napari_openhcs.functions.cupy as cf

        def sync() -> None:
            cupy.cuda.Device().synchronize()

        on_gpu = cupy.asarray(stack)
        for name, kwargs in [
            ("tophat_background", {"radius": r}),
            ("max_projection", {}),
            ("percentile_normalize", {}),
        ]:
            func = getattr(cf, name)
            record(
                name,
                "cupy, with copies",
                _best(
                    lambda f=func, k=kwargs: cupy.asnumpy(f(cupy.asarray(stack), **k)),
                    args.repeats,
                    sync,
                ),
            )
            record(name, "cupy", _best(lambda f=func, k=kwargs: f(on_gpu, **k), args.repeats, sync))

    print(f"stack {stack.shape} uint16, radius {r}, best of {args.repeats}")
    print(f"{'function':<22} {'backend':<36} {'ms':>10}")
    for row in rows:
        print(f"{row['function']:<22} {row['backend']:<36} {row['seconds'] * 1000:>10.2f}")
    result = {
        "shape": list(stack.shape),
        "radius": r,
        "repeats": args.repeats,
        "machine": platform.platform(),
        "python": platform.python_version(),
        "rows": rows,
    }
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
