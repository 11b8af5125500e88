"""CellProfiler measurements through cp_measure: hand-computed values, scaling and names."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

from napari_openhcs.functions import measure_cells
from napari_openhcs.functions.cellmeasure import FAMILIES, FAMILIES_3D, object_features
from napari_openhcs.plates.synthetic_cells import make_cells

#: CellProfiler's column names: compartment, family, feature, then channel and parameters.
NAME = re.compile(
    r"^(?P<compartment>Nuclei|Cells|Cytoplasm)_"
    r"(?P<family>Intensity|Location|AreaShape|Texture|Granularity|RadialDistribution"
    r"|Correlation|Neighbors)_"
    r"(?P<rest>[A-Za-z0-9]+(_[A-Za-z0-9]+)*)$"
)
CHANNELS = ("DNA", "Actin", "Membrane")


def _four_pixels(dtype, values):
    labels = np.zeros((6, 6), dtype=np.int32)
    labels[2:4, 2:4] = 1
    pixels = np.zeros((6, 6), dtype=dtype)
    pixels[2:4, 2:4] = np.array(values, dtype=dtype).reshape(2, 2)
    return labels, pixels


def _row(table, name):
    return table.column(name).to_pylist()[0]


def test_uint8_intensities_are_divided_by_255_with_cellprofiler_quartiles():
    labels, pixels = _four_pixels(np.uint8, [10, 40, 30, 20])
    table = object_features(labels, pixels, channels=["DNA"], compartment="Nuclei")
    values = {
        k: _row(table, f"Nuclei_Intensity_{k}_DNA")
        for k in (
            "MeanIntensity",
            "IntegratedIntensity",
            "MinIntensity",
            "MaxIntensity",
            "LowerQuartileIntensity",
            "MedianIntensity",
            "UpperQuartileIntensity",
        )
    }
    # Sorted 10, 20, 30, 40 (/255). CellProfiler's quantile sits at position n * q = 1, 2, 3.
    expected = {
        "MeanIntensity": 25,
        "IntegratedIntensity": 100,
        "MinIntensity": 10,
        "MaxIntensity": 40,
        "LowerQuartileIntensity": 20,
        "MedianIntensity": 30,
        "UpperQuartileIntensity": 40,
    }
    for key, value in expected.items():
        assert values[key] == pytest.approx(value / 255), key


def test_numpy_percentiles_differ_from_cellprofilers_where_they_should():
    labels, pixels = _four_pixels(np.uint8, [10, 40, 30, 20])
    table = object_features(labels, pixels, channels=["DNA"], legacy=False)
    # NumPy's linear quantile sits at (n - 1) * q = 0.75, 1.5, 2.25.
    assert _row(table, "Cells_Intensity_LowerQuartileIntensity_DNA") == pytest.approx(17.5 / 255)
    assert _row(table, "Cells_Intensity_MedianIntensity_DNA") == pytest.approx(25 / 255)
    assert _row(table, "Cells_Intensity_UpperQuartileIntensity_DNA") == pytest.approx(32.5 / 255)


def test_uint16_is_divided_by_65535_and_floats_are_kept():
    labels, pixels = _four_pixels(np.uint16, [13107] * 4)  # 0.2 of 65535
    table = object_features(labels, pixels, channels=["DNA"])
    assert _row(table, "Cells_Intensity_MeanIntensity_DNA") == pytest.approx(0.2)
    assert _row(table, "Cells_Intensity_IntegratedIntensity_DNA") == pytest.approx(0.8)
    labels, floats = _four_pixels(np.float32, [2.5] * 4)
    table = object_features(labels, floats, channels=["DNA"])
    assert _row(table, "Cells_Intensity_IntegratedIntensity_DNA") == pytest.approx(10.0)


def test_area_perimeter_and_feret_of_a_square():
    labels = np.zeros((20, 20), dtype=np.int32)
    labels[5:15, 5:15] = 3
    table = object_features(labels, families=("sizeshape",))
    assert table.column("ObjectNumber").to_pylist() == [3]
    assert _row(table, "Cells_AreaShape_Area") == 100
    # The outline through the centres of the boundary pixels: four sides of 9 pixels.
    assert _row(table, "Cells_AreaShape_Perimeter") == pytest.approx(36.0)
    assert _row(table, "Cells_AreaShape_MinFeretDiameter") == pytest.approx(9.0)
    assert _row(table, "Cells_AreaShape_MaxFeretDiameter") == pytest.approx(9 * math.sqrt(2))
    assert "Cells_AreaShape_Zernike_0_0" in table.column_names


def test_disk_area_and_form_factor():
    yy, xx = np.mgrid[:61, :61]
    labels = ((yy - 30) ** 2 + (xx - 30) ** 2 <= 20**2).astype(np.int32)
    table = object_features(labels, families=("sizeshape",))
    area = _row(table, "Cells_AreaShape_Area")
    assert area == int(labels.sum())
    assert area == pytest.approx(math.pi * 20**2, rel=0.01)
    assert _row(table, "Cells_AreaShape_FormFactor") == pytest.approx(1.0, abs=0.1)


@pytest.fixture(scope="module")
def measured_site():
    site = make_cells(160, count=10, seed=2)
    return site, object_features(
        site.cells, site.image, channels=CHANNELS, families=FAMILIES, compartment="Cells"
    )


def test_every_feature_name_follows_cellprofilers_naming(measured_site):
    _, table = measured_site
    names = table.column_names
    assert names[0] == "ObjectNumber"
    bad = [n for n in names[1:] if not NAME.match(n)]
    assert not bad
    families = {NAME.match(n)["family"] for n in names[1:]}
    assert families == {
        "Intensity",
        "Location",
        "AreaShape",
        "Texture",
        "Granularity",
        "RadialDistribution",
        "Correlation",
        "Neighbors",
    }
    # Channels sit where CellProfiler puts them.
    for expected in (
        "Cells_Intensity_MeanIntensity_DNA",
        "Cells_Location_CenterMassIntensity_X_DNA",
        "Cells_AreaShape_Area",
        "Cells_AreaShape_Zernike_0_0",
        "Cells_Texture_Contrast_Actin_3_00_256",
        "Cells_Granularity_1_DNA",
        "Cells_RadialDistribution_FracAtD_Membrane_1of4",
        "Cells_RadialDistribution_ZernikeMagnitude_DNA_0_0",
        "Cells_Correlation_Correlation_DNA_Actin",
        "Cells_Correlation_Manders_DNA_Actin",
        "Cells_Correlation_Manders_Actin_DNA",
        "Cells_Neighbors_NumberOfNeighbors_Expanded",
    ):
        assert expected in names
    # No bare cp_measure name slipped through without its family.
    assert not [
        n for n in names if re.match(r"Cells_(Area|Contrast_.*|Zernike_.*|Granularity_\d+)$", n)
    ]
    assert all(table.column(n).type == "double" for n in names[1:])


def test_one_row_per_cell_in_label_order(measured_site):
    site, table = measured_site
    assert table.column("ObjectNumber").to_pylist() == sorted(np.unique(site.cells)[1:])
    areas = np.bincount(site.cells.ravel())[1:]
    assert table.column("Cells_AreaShape_Area").to_pylist() == areas[areas > 0].tolist()


def test_identical_channels_correlate_perfectly():
    site = make_cells(128, count=6, seed=4)
    pixels = np.stack([site.image[1], site.image[1]])
    table = object_features(site.cells, pixels, channels=["A", "B"], families=("colocalization",))
    assert np.allclose(table.column("Cells_Correlation_Correlation_A_B").to_numpy(), 1.0)


def test_adjacent_neighbors_are_counted():
    labels = np.zeros((20, 40), dtype=np.int32)
    labels[5:10, 5:10] = 1
    labels[5:10, 10:15] = 2  # touches 1
    labels[5:10, 30:35] = 3  # alone
    table = object_features(labels, families=("neighbors",), neighbor_method="adjacent")
    counts = table.column("Cells_Neighbors_NumberOfNeighbors_Adjacent").to_pylist()
    assert counts == [1.0, 1.0, 0.0]


def test_volumes_are_measured_in_3d():
    zz, yy, xx = np.mgrid[:12, :30, :30]
    labels = ((zz - 6) ** 2 + (yy - 15) ** 2 + (xx - 15) ** 2 <= 5**2).astype(np.int32)
    pixels = (labels * 32768).astype(np.uint16)
    table = object_features(labels, pixels, channels=["DNA"], families=FAMILIES_3D, volumetric=True)
    assert _row(table, "Cells_Neighbors_NumberOfNeighbors_Expanded") == 0  # a lone object
    assert _row(table, "Cells_AreaShape_Volume") == int(labels.sum())
    assert _row(table, "Cells_Intensity_MeanIntensity_DNA") == pytest.approx(32768 / 65535)
    with pytest.raises(ValueError, match="2-D only"):
        object_features(labels, pixels, families=("radial_distribution",), volumetric=True)


def test_measure_cells_is_a_step_that_passes_labels_through():
    site = make_cells(128, count=6, seed=4)
    labels, table = measure_cells(
        site.nuclei[None], site.image, compartment="Nuclei", channels=CHANNELS
    )
    assert np.array_equal(labels[0], site.nuclei)
    assert table.num_rows == site.nuclei.max()
    assert "Nuclei_Intensity_MeanIntensity_DNA" in table.column_names
    assert not [n for n in table.column_names if "Texture" in n]  # texture is opt-in


def test_measure_cells_measures_a_stack_plane_by_plane():
    labels = np.zeros((2, 10, 10), dtype=np.int32)
    labels[0, 1:3, 1:3] = 1
    labels[1, 4:8, 4:8] = 2  # objects are numbered across the stack
    intensity = np.stack([np.full((10, 10), 255, np.uint8), np.full((10, 10), 51, np.uint8)])
    _, table = measure_cells(labels, intensity, channels=("DNA",))
    assert table.column("ObjectNumber").to_pylist() == [1, 2]
    assert table.column("Cells_AreaShape_Area").to_pylist() == [4.0, 16.0]
    means = table.column("Cells_Intensity_MeanIntensity_DNA").to_numpy()
    np.testing.assert_allclose(means, [1.0, 0.2])
