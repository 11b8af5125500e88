"""Shared by the GPU measurement tests: the CuPy backend's code on NumPy, and the comparison
with cp_measure's columns."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from napari_openhcs.functions import gpumeasure

#: Exact on every backend: counts, pixel coordinates and single pixel values.
EXACT = (
    "AreaShape_Area",
    "AreaShape_BoundingBox",
    "AreaShape_Extent",
    "AreaShape_EquivalentDiameter",
    "Intensity_MinIntensity",
    "Intensity_MaxIntensity",
)


def numpy_measure(labels, intensity, **options):
    """The CuPy backend's code on NumPy and SciPy."""
    return gpumeasure.measure_planes(
        labels,
        intensity,
        lambda lab, planes: gpumeasure.array_statistics(lab, planes, np, ndimage),
        lambda array, index: array[index],
        **options,
    )


def assert_matches_cpu(gpu, cpu, *, rtol: float, atol: float, pixels: float = 1e-9) -> None:
    """Every GPU column CellProfiler defines equals cp_measure's; the rest are ours.

    ``MassDisplacement``, a difference of two nearby positions, is compared in ``pixels``
    (absolute): in float32 a position of a few hundred pixels is only known to about 1e-5 px.
    """
    assert gpu.column("ObjectNumber").to_pylist() == cpu.column("ObjectNumber").to_pylist()
    shared = [c for c in gpu.column_names if c != "ObjectNumber" and "_Clesperanto_" not in c]
    missing = set(shared) - set(cpu.column_names)
    assert not missing, f"GPU columns the CPU path does not have: {sorted(missing)}"
    for name in shared:
        got = gpu.column(name).to_numpy(zero_copy_only=False)
        want = cpu.column(name).to_numpy(zero_copy_only=False)
        if name.endswith("_Orientation"):  # an axis: -90 and 90 degrees are the same
            got = (got - want + 90.0) % 180.0 - 90.0 + want
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-6, err_msg=name)
        elif "MassDisplacement" in name:
            np.testing.assert_allclose(got, want, rtol=0, atol=pixels, err_msg=name)
        elif any(key in name for key in EXACT):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=0, err_msg=name)
        else:
            np.testing.assert_allclose(got, want, rtol=rtol, atol=atol, err_msg=name)
