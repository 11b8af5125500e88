"""One per-plane engine: stacking planes on their device and joining per-plane results."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from napari_openhcs.memory import convert, detect_memory_type, memory_types, to_numpy
from napari_openhcs.memory.planes import gather_planes, gather_values, map_planes, stack_planes
from napari_openhcs.registry.reference import FunctionRef

STACK = np.arange(3 * 4 * 5, dtype=np.float32).reshape(3, 4, 5)


def test_planes_and_blocks_stack_along_the_first_axis():
    out = stack_planes([STACK[0], STACK[1:3]])
    np.testing.assert_array_equal(out, STACK)
    assert stack_planes([np.float32(1), np.float32(2)]).tolist() == [1.0, 2.0]
    assert stack_planes([np.zeros(2), np.ones(2)]).shape == (2, 2)
    with pytest.raises(ValueError, match="no planes"):
        stack_planes([])


@pytest.mark.parametrize("kind", ["torch", "pyclesperanto"])
def test_planes_stay_in_their_memory_type(kind):
    pytest.importorskip(kind)
    planes = [convert(p, kind) for p in STACK]
    out = stack_planes(planes)
    assert detect_memory_type(out) == kind
    np.testing.assert_array_equal(to_numpy(out), STACK)
    blocks = stack_planes([convert(STACK[:2], kind), convert(STACK[2], kind)])
    np.testing.assert_array_equal(to_numpy(blocks), STACK)


def test_planes_of_another_type_are_converted_to_the_first_ones():
    pytest.importorskip("torch")
    out = stack_planes([convert(STACK[0], "torch"), STACK[1], STACK[2]])
    assert detect_memory_type(out) == "torch"
    np.testing.assert_array_equal(to_numpy(out), STACK)
    assert detect_memory_type(stack_planes([convert(STACK[0], "torch")], "numpy")) == "numpy"


def test_extra_results_are_joined_by_kind():
    joined = gather_values([{"area": [1, 2]}, pa.table({"area": [3]})])
    assert joined.to_pydict() == {"plane": [0, 0, 1], "area": [1, 2, 3]}
    assert gather_values([np.zeros((4, 5)), np.ones((4, 5))]).shape == (2, 4, 5)
    assert gather_values([{"count": 1}, {"count": 2}]) == [{"count": 1}, {"count": 2}]
    assert gather_values([3, "x"]) == [3, "x"]


def test_map_planes_slices_image_arguments_with_the_stack():
    seen = []

    def call(plane, planes_of):
        seen.append(float(planes_of["other"][0, 0]))
        return plane + planes_of["other"]

    out = map_planes(call, STACK, {"other": STACK})
    np.testing.assert_array_equal(out, STACK * 2)
    assert seen == [float(p[0, 0]) for p in STACK]
    main, table = gather_planes([(STACK[0], {"n": [1]}), (STACK[1], {"n": [2]})])
    assert main.shape == (2, 4, 5) and table.column("plane").to_pylist() == [0, 1]


def per_plane_areas(plane):
    """A per-plane function returning an image and a table (module level: importable)."""
    return plane > 30, {"area": [int((plane > 30).sum())]}


def test_the_decorator_and_a_function_ref_join_per_plane_tables_alike():
    decorated = memory_types(input="numpy", slice_by_slice=True)(per_plane_areas)
    ref = FunctionRef(
        f"{__name__}.per_plane_areas", "numpy", "slice", special_outputs=("measurements",)
    )
    mask_a, table_a = decorated(STACK)
    mask_b, table_b = ref(STACK)
    np.testing.assert_array_equal(mask_a, mask_b)
    assert table_a.equals(table_b)
    assert table_a.to_pydict() == {
        "plane": [0, 1, 2],
        "area": [int((p > 30).sum()) for p in STACK],
    }
