"""The GPU measurements on an NVIDIA GPU: CuPy (float64) and pyclesperanto (its device there)
against cp_measure through ``measure_cells``, with test_gpumeasure.py's tolerances.

Run on the GPU machine (``-m gpu``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gpumeasure_helpers import assert_matches_cpu, numpy_measure

from napari_openhcs.functions import measure_cells
from napari_openhcs.plates.synthetic_cells import make_cells

pytestmark = pytest.mark.gpu

DATA = Path(__file__).resolve().parents[1] / "data"


def _cupy_measure(labels, intensity, **options):
    cupy = pytest.importorskip("cupy", reason="install the gpu-cuda12 or gpu-cuda13 extra")
    from napari_openhcs.functions.cupy import measure_cells as cupy_measure_cells

    out, table = cupy_measure_cells(cupy.asarray(labels), cupy.asarray(intensity), **options)
    assert isinstance(out, cupy.ndarray)  # the labels stay on the GPU
    return table


def _cle_measure(labels, intensity, **options):
    from napari_openhcs.functions.pyclesperanto import measure_cells as cle_measure_cells

    return cle_measure_cells(labels, intensity, **options)[1]


BACKENDS = {
    "cupy": (_cupy_measure, 1e-9, 1e-12, 1e-9),
    "pyclesperanto": (_cle_measure, 1e-4, 1e-7, 2e-3),
}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_gpu_matches_cp_measure_on_a_site_of_240_cells(backend):
    measure, rtol, atol, px = BACKENDS[backend]
    site = make_cells(1080, count=240, seed=0)
    for name, labels in (("Nuclei", site.nuclei), ("Cells", site.cells)):
        options = dict(compartment=name, channels=site.channels)
        _, cpu = measure_cells(labels[None], site.image, **options)
        gpu = measure(labels[None], site.image, **options)
        assert gpu.num_rows > 200
        assert_matches_cpu(gpu, cpu, rtol=rtol, atol=atol, pixels=px)


def test_cupy_gives_what_the_same_code_gives_on_numpy():
    site = make_cells(256, count=30, seed=2)
    options = dict(compartment="Cells", channels=site.channels)
    gpu = _cupy_measure(site.cells[None], site.image, **options)
    host = numpy_measure(site.cells[None], site.image, **options)
    assert gpu.column_names == host.column_names
    for name in gpu.column_names:
        np.testing.assert_allclose(
            gpu.column(name).to_numpy(),
            host.column(name).to_numpy(),
            # float64 sums in another order; MassDisplacement is a difference of two centres
            # (in pixels), so its relative error grows where the two nearly coincide
            rtol=1e-9,
            atol=1e-9,
            err_msg=name,
        )


def test_cupy_real_nuclei_match_cp_measure():
    import tifffile

    image = tifffile.imread(DATA / "dsb2018" / "img2d.tif")
    labels = tifffile.imread(DATA / "dsb2018" / "mask2d.tif").astype(np.int32)
    _, cpu = measure_cells(labels[None], image[None], compartment="Nuclei", channels=("DNA",))
    gpu = _cupy_measure(labels[None], image[None], compartment="Nuclei", channels=("DNA",))
    assert_matches_cpu(gpu, cpu, rtol=1e-9, atol=1e-12)
