"""Every registered function that can run here pickles small and runs the same in a worker.

One spawn child per library: it unpickles the references (importing only the package core
and each function's module, never scanning the registry), runs them on small stacks, and
must give the parent's results: exactly for integer and boolean results, within
rtol=1e-5 / atol=1e-6 for floating-point ones.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from napari_openhcs.memory import to_numpy
from napari_openhcs.registry import call_defaults, fn, get_info, list_functions
from napari_openhcs.registry.libraries._reviewed import read_reviewed

sys.path.insert(0, str(Path(__file__).parent))
from roundtrip_child import run_pickled  # noqa: E402

MAX_PICKLE_BYTES = 200

#: Test inputs of functions outside the reviewed lists whose image is not a float image (the
#: image, then each image parameter; further image parameters get float images).
OWN_INPUT_KINDS = {
    "napari_openhcs.functions.measure_objects": ("labels", "float"),
    "napari_openhcs.functions.identify_secondary_objects": ("float", "labels"),
    "napari_openhcs.functions.identify_tertiary_objects": ("labels", "labels"),
    "napari_openhcs.functions.filter_objects": ("labels",),
    "napari_openhcs.functions.relate_objects": ("labels", "labels"),
    "napari_openhcs.functions.measure_cells": ("labels", "float"),
    "napari_openhcs.functions.pyclesperanto.measure_cells": ("labels", "float"),
    "napari_openhcs.functions.cupy.measure_cells": ("labels", "float"),
}

#: Functions whose result legitimately differs between two calls (none so far).
NONDETERMINISTIC: set[str] = set()


def _inputs() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    img = rng.random((2, 24, 24)).astype(np.float32)
    img[:, 8:14, 8:14] += 1.0  # an object, so thresholds and labels see something
    img /= img.max()
    mask = img > 0.6
    from skimage.measure import label

    labels = np.stack([label(m) for m in mask]).astype(np.int32)
    return {
        "float": img,
        "uint8": (img * 255).astype(np.uint8),
        "mask": mask,
        "labels": labels,
    }


def _test_input_kinds() -> dict[str, tuple[str, ...]]:
    kinds = {}
    for name in ("skimage", "pyclesperanto"):
        for entry in read_reviewed(name):
            kinds[entry.ref] = entry.input_kinds
    return kinds


def _by_library() -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for info in list_functions():
        if info.available:
            out.setdefault(info.library, []).append(info.ref)
    return out


LIBRARIES = _by_library()


@pytest.mark.parametrize("library", sorted(LIBRARIES))
def test_functions_pickle_small_and_run_identically_in_a_spawn_worker(library):
    inputs = _inputs()
    kinds = _test_input_kinds()
    jobs, expected, refs = [], [], []
    for ref in LIBRARIES[library]:
        f = fn(ref)
        blob = pickle.dumps(f)
        assert len(blob) <= MAX_PICKLE_BYTES, f"{ref} pickles to {len(blob)} bytes"
        input_kinds = kinds.get(ref) or OWN_INPUT_KINDS.get(ref, ("float",))
        data = inputs[input_kinds[0]]
        kwargs = call_defaults(get_info(ref))
        images = [p.name for p in get_info(ref).params if p.annotation in ("image", "objects")]
        image_kinds = list(input_kinds[1:]) + ["float"] * (len(images) - len(input_kinds) + 1)
        for name, kind in zip(images, image_kinds, strict=True):
            kwargs[name] = np.ascontiguousarray(inputs[kind][:, ::-1, ::-1])  # not the image
        out = f(data, **kwargs)
        main = out[0] if isinstance(out, tuple) else out
        expected.append(to_numpy(main))
        jobs.append((blob, data, kwargs))
        refs.append(ref)
    ctx = mp.get_context("spawn")
    with ctx.Pool(1) as pool:
        results, scanned = pool.apply(run_pickled, (pickle.dumps(jobs),))
    assert scanned == [], "the worker built a registry index to unpickle functions"
    for ref, want, got in zip(refs, expected, results, strict=True):
        if ref in NONDETERMINISTIC:
            continue
        assert got.shape == want.shape, ref
        assert got.dtype == want.dtype, ref
        if np.issubdtype(want.dtype, np.floating):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, equal_nan=True, err_msg=ref)
        else:
            np.testing.assert_array_equal(got, want, err_msg=ref)


def test_catalogues_meet_the_reviewed_sizes():
    counts = {lib: len(refs) for lib, refs in LIBRARIES.items()}
    assert counts.get("skimage", 0) >= 110
    assert counts.get("napari_openhcs", 0) >= 7
