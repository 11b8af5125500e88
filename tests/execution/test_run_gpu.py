"""A unit assigned to a GPU keeps all its work there (run on the GPU machine, ``-m gpu``)."""

from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.gpu


def test_a_unit_on_the_second_gpu_stacks_and_writes_there(tmp_path, monkeypatch):
    import cupy

    if cupy.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs two GPUs")
    from napari_openhcs.execution import engine
    from napari_openhcs.execution.unitrun import run_unit
    from napari_openhcs.memory import planes
    from napari_openhcs.pipeline import Pipeline, Step
    from napari_openhcs.pipeline.compiler import compile_pipeline
    from napari_openhcs.plates import open_plate
    from napari_openhcs.plates.synthetic import write_plate
    from napari_openhcs.storage.layout import OutputSpec, open_output_plates

    plate = write_plate(tmp_path / "plate", "imagexpress", wells=["A01"], sites=2, size=64)
    index = open_plate(plate)
    spec = OutputSpec(out_dir=str(tmp_path / "out"), plate_name=index.name)
    pipe = Pipeline(
        [
            Step("napari_openhcs.functions.cupy.max_projection", name="project"),
            Step(("cupyx.scipy.ndimage.gaussian_filter", {"sigma": 1.0}), name="blur"),
        ]
    )
    plan = compile_pipeline(pipe, index, spec, gpus=[0, 1])
    unit = plan.units[1]
    assert unit.gpu == 1
    seen = []
    real_stack = planes.stack_planes

    def recording_stack(arrays, kind=None):
        seen.append((cupy.cuda.Device().id, {getattr(a, "device", None) for a in arrays}))
        return real_stack(arrays, kind)

    monkeypatch.setattr(planes, "stack_planes", recording_stack)
    monkeypatch.setattr(engine, "stack_planes", recording_stack)
    open_output_plates(plan.output, plan.intermediate_plates)
    result = run_unit(unit)
    assert result.ok, result.error
    assert result.gpu == 1
    assert seen, "the per-plane function stacked nothing"
    for current, devices in seen:
        assert current == 1 and devices == {cupy.cuda.Device(1)}, (current, devices)
    assert cupy.cuda.Device().id == 0  # restored after the unit
    assert np.isfinite(result.timings["total"])
