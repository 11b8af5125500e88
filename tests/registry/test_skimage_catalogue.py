"""The reviewed scikit-image catalogue: size, public references, specs, and that every entry
really takes a plane and returns an image, mask or labels of the same y, x."""

from __future__ import annotations

import pytest

from napari_openhcs.registry.libraries import skimage as sk_lib
from napari_openhcs.registry.libraries._reviewed import read_reviewed

pytest.importorskip("skimage")

from catalogue_helpers import (
    check_result,
    inputs,
    resolve,
    run_with_form_defaults,
    second_inputs,
)  # noqa: E402

CATEGORIES = {
    "filter",
    "morphology",
    "exposure",
    "restoration",
    "segmentation",
    "measurement",
    "feature",
    "transform",
    "threshold",
}


@pytest.fixture(scope="module")
def infos():
    return sk_lib.discover()


def test_at_least_110_available_functions_all_from_the_reviewed_file(infos):
    available = [i for i in infos if i.available]
    assert len(available) >= 110
    reviewed = [e.ref for e in read_reviewed("skimage")]
    assert len(reviewed) == len(set(reviewed)), "duplicates in reviewed/skimage.tsv"
    assert [i.ref for i in infos] == [r for r in reviewed if r in {i.ref for i in infos}]
    assert len({i.ref for i in infos}) == len(infos)


def test_entries_are_public_references_that_resolve(infos):
    for info in infos:
        assert "._" not in info.ref and info.ref.startswith("skimage."), info.ref
        assert callable(resolve(info.ref)), info.ref
        assert info.memory_type == "numpy" and info.contract == "slice"
        assert info.category in CATEGORIES, (info.ref, info.category)
        assert info.doc, f"{info.ref} has no first doc line"


def test_scalar_thresholds_are_adapted_to_masks_and_segmentations_give_labels(infos):
    import numpy as np

    plane = inputs()["float"][0]
    for info in infos:
        if not info.ref.startswith("skimage.filters.threshold_"):
            continue
        raw = resolve(info.ref)(plane)
        if np.ndim(raw) == 0:
            assert info.adapter == "threshold_mask" and info.output_kind == "mask", info.ref
        else:
            assert info.adapter is None and np.shape(raw) == plane.shape, info.ref
    by_ref = {i.ref: i for i in infos}
    assert by_ref["skimage.measure.label"].output_kind == "labels"
    assert by_ref["skimage.segmentation.watershed"].output_kind == "labels"


def test_parameters_parse_without_pipeline_owned_names(infos):
    for info in infos:
        names = [p.name for p in info.params]
        assert len(names) == len(set(names)), info.ref
        assert not {"channel_axis", "out", "rng"} & set(names), info.ref
        for p in info.params:
            if p.choices is not None and p.default is not None:
                assert p.default in p.choices, (info.ref, p.name)
            if p.bounds is not None and isinstance(p.default, (int, float)):
                lo, hi = p.bounds
                assert lo <= p.default <= hi, (info.ref, p.name, p.bounds)


def test_every_function_runs_on_a_plane_with_its_form_defaults(infos):
    kinds = {e.ref: e.input_kinds for e in read_reviewed("skimage")}
    stacks = inputs()
    problems = []
    for info in infos:
        stack = stacks[kinds[info.ref][0]]
        try:
            out = run_with_form_defaults(info, stack, second_inputs(kinds[info.ref], stacks))
        except Exception as exc:  # noqa: BLE001 - collect all failures with their names
            problems.append(f"{info.ref}: {exc!r}"[:300])
            continue
        if (why := check_result(info, stack, out)) is not None:
            problems.append(f"{info.ref}: {why}")
    assert not problems, "\n".join(problems)
