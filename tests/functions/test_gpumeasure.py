"""The GPU measurements against cp_measure (through ``measure_cells``) and hand-known shapes.

pyclesperanto runs here on pocl (OpenCL on the CPU); the CuPy backend's code
(``gpumeasure.array_statistics``) runs here on NumPy and SciPy, and on CuPy in
test_gpumeasure_gpu.py. Tolerances: float64 backends (NumPy/SciPy, CuPy) 1e-9 relative;
pyclesperanto sums in float32, so sums, means, standard deviations and weighted centres to
1e-4 relative (1e-7 absolute, for values near 0) and mass displacements to 2e-3 px; areas,
boxes, minima and maxima exactly.
"""

from __future__ import annotations

import doctest
import math
from pathlib import Path

import numpy as np
import pytest
from gpumeasure_helpers import assert_matches_cpu, numpy_measure

from napari_openhcs.errors import FunctionUnavailableError
from napari_openhcs.functions import gpumeasure, measure_cells
from napari_openhcs.functions import pyclesperanto as cle_functions
from napari_openhcs.plates.synthetic_cells import make_cells
from napari_openhcs.registry import fn, get_info

DATA = Path(__file__).resolve().parents[1] / "data"
CLE_REF = "napari_openhcs.functions.pyclesperanto.measure_cells"


def cle_measure(labels, intensity, **options):
    return cle_functions.measure_cells(labels, intensity, **options)[1]


BACKENDS = {
    "pyclesperanto": (cle_measure, 1e-4, 1e-7, 2e-3),
    "numpy": (numpy_measure, 1e-9, 1e-12, 1e-9),
}


def _rectangle_and_ell():
    labels = np.zeros((12, 14), dtype=np.int32)
    labels[1:4, 2:6] = 2  # 3 rows x 4 columns
    labels[6:11, 8] = 5  # an L: a column of 5 and a foot of 3 (label 3 absent)
    labels[10, 9:12] = 5
    pixels = np.zeros((12, 14), dtype=np.uint16)
    pixels[1:4, 2:6] = np.arange(12).reshape(3, 4) * 1000 + 1000  # 1000 .. 12000
    pixels[labels == 5] = 6553  # 0.1 of 65535, rounded
    return labels, pixels


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_hand_known_areas_boxes_and_intensities(backend):
    measure = BACKENDS[backend][0]
    labels, pixels = _rectangle_and_ell()
    table = measure(labels[None], pixels[None], channels=("DNA",), compartment="Nuclei")
    row = {name: table.column(name).to_pylist() for name in table.column_names}
    assert row["ObjectNumber"] == [2, 5]
    approx = lambda values: pytest.approx(values, rel=1e-6)  # noqa: E731
    assert row["Nuclei_AreaShape_Area"] == [12.0, 8.0]
    assert row["Nuclei_AreaShape_BoundingBoxMinimum_X"] == [2.0, 8.0]
    assert row["Nuclei_AreaShape_BoundingBoxMaximum_X"] == [6.0, 12.0]  # one past the end
    assert row["Nuclei_AreaShape_BoundingBoxMinimum_Y"] == [1.0, 6.0]
    assert row["Nuclei_AreaShape_BoundingBoxMaximum_Y"] == [4.0, 11.0]
    assert row["Nuclei_AreaShape_BoundingBoxArea"] == [12.0, 20.0]
    assert row["Nuclei_AreaShape_Extent"] == approx([1.0, 0.4])
    assert row["Nuclei_AreaShape_Center_X"] == approx([3.5, (8 * 5 + 9 + 10 + 11) / 8])
    assert row["Nuclei_AreaShape_Center_Y"] == approx([2.0, (6 + 7 + 8 + 9 + 10 * 4) / 8])
    assert row["Nuclei_AreaShape_EquivalentDiameter"] == approx(
        [math.sqrt(48 / math.pi), math.sqrt(32 / math.pi)]
    )
    if backend == "numpy":  # the CuPy code: axes from the variances 15/12 (x) and 8/12 (y)
        assert row["Nuclei_AreaShape_MajorAxisLength"][0] == approx(4 * math.sqrt(15 / 12))
        assert row["Nuclei_AreaShape_MinorAxisLength"][0] == approx(4 * math.sqrt(8 / 12))
        assert row["Nuclei_AreaShape_Eccentricity"][0] == approx(math.sqrt(1 - 8 / 15))
    else:  # labels_statistics has no second moments
        assert "Nuclei_AreaShape_MajorAxisLength" not in row
    values = np.arange(1, 13) * 1000 / 65535
    assert row["Nuclei_Intensity_IntegratedIntensity_DNA"] == approx(
        [values.sum(), 8 * 6553 / 65535]
    )
    assert row["Nuclei_Intensity_MeanIntensity_DNA"] == approx([values.mean(), 6553 / 65535])
    assert row["Nuclei_Intensity_StdIntensity_DNA"][0] == pytest.approx(values.std(), rel=1e-5)
    assert row["Nuclei_Intensity_StdIntensity_DNA"][1] == pytest.approx(0.0, abs=1e-7)
    assert row["Nuclei_Intensity_MinIntensity_DNA"] == [1000 / 65535, 6553 / 65535]
    assert row["Nuclei_Intensity_MaxIntensity_DNA"] == [12000 / 65535, 6553 / 65535]
    # Uniform intensity: the weighted centre is the centroid.
    assert row["Nuclei_Intensity_MassDisplacement_DNA"][1] == pytest.approx(0.0, abs=1e-5)
    weights = values.reshape(3, 4)
    centre_x = (weights * np.arange(2, 6)).sum() / weights.sum()
    assert row["Nuclei_Location_CenterMassIntensity_X_DNA"][0] == pytest.approx(centre_x)


def test_pyclesperanto_shape_descriptors_are_named_apart_and_mean_what_it_says():
    labels = np.zeros((5, 7), dtype=np.int32)
    labels[2, 1:6] = 1  # a row of 5: distances 2, 1, 0, 1, 2 to the centroid
    table = cle_measure(labels[None], None, families=("sizeshape",))
    assert table.column("Cells_Clesperanto_MaxDistanceToCentroid").to_pylist() == [2.0]
    mean = table.column("Cells_Clesperanto_MeanDistanceToCentroid").to_pylist()[0]
    assert mean == pytest.approx(6 / 5)
    ratio = table.column("Cells_Clesperanto_MeanMaxDistanceToCentroidRatio").to_pylist()[0]
    assert ratio == pytest.approx(2 / (6 / 5), rel=1e-5)
    assert not any("Intensity" in name for name in table.column_names)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_synthetic_cells_match_cp_measure_in_three_channels(backend):
    measure, rtol, atol, px = BACKENDS[backend]
    site = make_cells(256, count=30, seed=3)
    for name, labels in (("Nuclei", site.nuclei), ("Cells", site.cells)):
        options = dict(compartment=name, channels=site.channels)
        _, cpu = measure_cells(labels[None], site.image, **options)
        gpu = measure(labels[None], site.image, **options)
        assert gpu.num_rows == int(labels.max()) > 20
        assert_matches_cpu(gpu, cpu, rtol=rtol, atol=atol, pixels=px)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_real_nuclei_match_cp_measure(backend):
    """DSB 2018 nuclei (8-bit image, ground-truth labels): the uint8 / 255 scaling too."""
    import tifffile

    measure, rtol, atol, px = BACKENDS[backend]
    image = tifffile.imread(DATA / "dsb2018" / "img2d.tif")
    labels = tifffile.imread(DATA / "dsb2018" / "mask2d.tif").astype(np.int32)
    assert image.dtype == np.uint8
    _, cpu = measure_cells(labels[None], image[None], compartment="Nuclei", channels=("DNA",))
    gpu = measure(labels[None], image[None], compartment="Nuclei", channels=("DNA",))
    assert gpu.num_rows > 50
    assert_matches_cpu(gpu, cpu, rtol=rtol, atol=atol, pixels=px)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_float_pixels_are_kept_and_planes_of_a_stack_each_get_their_own(backend):
    measure, rtol, atol, px = BACKENDS[backend]
    site = make_cells(128, count=8, seed=1)
    labels = np.stack([site.nuclei, np.where(site.nuclei > 4, site.nuclei, 0)])
    pixels = np.stack([site.image[0], site.image[1]]).astype(np.float32) / 4096
    _, cpu = measure_cells(labels, pixels, channels=("DNA",))
    gpu = measure(labels, pixels, channels=("DNA",))
    expected = [*np.unique(labels[0])[1:].tolist(), *np.unique(labels[1])[1:].tolist()]
    assert gpu.column("ObjectNumber").to_pylist() == expected
    assert_matches_cpu(gpu, cpu, rtol=rtol, atol=atol, pixels=px)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_dark_object_has_no_weighted_centre_as_in_cp_measure(backend):
    measure, rtol, atol, px = BACKENDS[backend]
    labels, pixels = _rectangle_and_ell()
    pixels[labels == 5] = 0
    _, cpu = measure_cells(labels[None], pixels[None], channels=("DNA",))
    gpu = measure(labels[None], pixels[None], channels=("DNA",))
    centre = gpu.column("Cells_Location_CenterMassIntensity_X_DNA").to_pylist()
    assert not math.isnan(centre[0]) and math.isnan(centre[1])
    assert_matches_cpu(gpu, cpu, rtol=rtol, atol=atol, pixels=px)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_a_nan_pixel_makes_the_sums_nan_where_cp_measure_skips_it(backend):
    labels, pixels = _rectangle_and_ell()
    floats = pixels.astype(np.float32) / 65535
    floats[2, 3] = np.nan  # inside object 2
    _, cpu = measure_cells(labels[None], floats[None], channels=("DNA",))
    gpu = BACKENDS[backend][0](labels[None], floats[None], channels=("DNA",))
    for name in (
        "IntegratedIntensity",
        "MeanIntensity",
        "StdIntensity",
        "MassDisplacement",
    ):
        column = f"Cells_Intensity_{name}_DNA"
        assert math.isnan(gpu.column(column)[0].as_py()), column
        assert not math.isnan(cpu.column(column)[0].as_py()), column
        assert gpu.column(column)[1].as_py() == pytest.approx(cpu.column(column)[1].as_py())
    for axis in "XYZ":
        assert math.isnan(gpu.column(f"Cells_Location_CenterMassIntensity_{axis}_DNA")[0].as_py())


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_no_objects_give_an_empty_table(backend):
    measure = BACKENDS[backend][0]
    table = measure(np.zeros((1, 16, 16), np.int32), np.ones((1, 16, 16), np.uint16))
    assert table.column_names == ["ObjectNumber"] and table.num_rows == 0


def test_families_the_gpu_does_not_measure_are_refused_with_the_alternative():
    labels, pixels = _rectangle_and_ell()
    with pytest.raises(ValueError, match="measure_cells"):
        cle_measure(labels[None], pixels[None], families=("intensity", "texture"))
    with pytest.raises(ValueError, match="intensity"):
        cle_measure(labels[None], None)
    with pytest.raises(ValueError, match="channel names"):
        cle_measure(labels[None], pixels[None], channels=("DNA", "Actin"))


def test_registry_lists_it_as_an_available_measurement_and_fn_runs_it():
    info = get_info(CLE_REF)
    assert info.available, info.reason
    assert (info.memory_type, info.category, info.contract) == (
        "pyclesperanto",
        "measurement",
        "stack",
    )
    assert info.special_outputs == ("measurements",)
    assert [p.name for p in info.params] == ["intensity", "compartment", "channels", "families"]
    labels, pixels = _rectangle_and_ell()
    _, table = fn(CLE_REF)(labels[None], intensity=pixels[None], channels=("DNA",))
    assert table.column("Cells_AreaShape_Area").to_pylist() == [12.0, 8.0]


def test_without_a_device_the_call_says_why(monkeypatch):
    from napari_openhcs.memory import decorators

    monkeypatch.setattr(decorators, "type_status", lambda kind: (False, "no OpenCL device"))
    labels, pixels = _rectangle_and_ell()
    with pytest.raises(FunctionUnavailableError, match="no OpenCL device"):
        cle_functions.measure_cells(labels[None], pixels[None])


@pytest.mark.parametrize("module", [gpumeasure, cle_functions], ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
