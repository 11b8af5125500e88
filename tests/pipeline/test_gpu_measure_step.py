"""A pipeline step can measure on the GPU: the pyclesperanto ``measure_cells`` (pocl here)
beside the CPU one in the same unit gives the same rows and values."""

from __future__ import annotations

import numpy as np
from pipeline_helpers import output_spec

from napari_openhcs.execution.unitrun import run_unit
from napari_openhcs.pipeline import Pipeline, Step
from napari_openhcs.pipeline.compiler import compile_pipeline

COUNT = "napari_openhcs.functions.count_objects"
CPU = "napari_openhcs.functions.measure_cells"
GPU = "napari_openhcs.functions.pyclesperanto.measure_cells"


def test_a_gpu_measure_step_gives_the_cpu_steps_values(tiny_index, tmp_path):
    # one compartment for both (left out, each step's name would be its compartment)
    marker = {
        "intensity": {"image": "project", "channel": 2},
        "channels": ("Marker",),
        "compartment": "Cells",
    }
    steps = [
        Step("napari_openhcs.functions.max_projection", name="project"),
        Step({"1": COUNT}, name="nuclei", group_by="channel"),
        Step({"1": (CPU, marker)}, name="cpu", group_by="channel"),
        Step({"1": (GPU, marker)}, name="gpu", group_by="channel"),
    ]
    plan = compile_pipeline(Pipeline(steps), tiny_index, output_spec(tiny_index, tmp_path))
    result = run_unit(plan.units[0])
    assert result.ok, result.error
    table = result.measurements.to_pydict()
    rows = {s: [i for i, v in enumerate(table["step"]) if v == s] for s in ("cpu", "gpu")}
    assert len(rows["gpu"]) == len(rows["cpu"]) > 0
    for name in ("Cells_AreaShape_Area", "Cells_Intensity_MeanIntensity_Marker"):
        cpu = [table[name][i] for i in rows["cpu"]]
        gpu = [table[name][i] for i in rows["gpu"]]
        np.testing.assert_allclose(gpu, cpu, rtol=1e-4, err_msg=name)
