"""Runs in a spawn child: unpickle function references, run them, send results back."""

from __future__ import annotations

import pickle
import sys


def run_pickled(payload: bytes) -> tuple[list, list[str]]:
    """``payload`` pickles ``[(pickled FunctionRef, input, kwargs), ...]``; returns numpy results."""
    from napari_openhcs.memory import to_numpy

    jobs = pickle.loads(payload)
    results = []
    for blob, data, kwargs in jobs:
        ref = pickle.loads(blob)
        out = ref(data, **kwargs)
        main = out[0] if isinstance(out, tuple) else out
        results.append(to_numpy(main))
    registry_scanned = "napari_openhcs.registry.catalog" in sys.modules
    return results, sorted(m for m in ("napari_openhcs.registry.catalog",) if registry_scanned)
