"""The compiler: every validation error before any pixel is read, units, GPUs, plate jobs."""

from __future__ import annotations

import dataclasses

import pytest
from pipeline_helpers import output_spec

from napari_openhcs.errors import (
    FunctionUnavailableError,
    PipelineError,
    PlateError,
    UnknownFunctionError,
)
from napari_openhcs.pipeline import Pipeline, Step
from napari_openhcs.pipeline.compiler import compile_pipeline

MAXP = "napari_openhcs.functions.max_projection"
NORM = "napari_openhcs.functions.percentile_normalize"
COUNT = "napari_openhcs.functions.count_objects"


@pytest.fixture
def no_reads(monkeypatch):
    """Fail the test if the compiler reads a pixel."""
    import napari_openhcs.plates as plates

    def refuse(*args, **kwargs):
        raise AssertionError("the compiler read a pixel")

    monkeypatch.setattr(plates, "read_plane", refuse)


def compile_(index, tmp_path, *steps, **kwargs):
    return compile_pipeline(Pipeline(list(steps)), index, output_spec(index, tmp_path), **kwargs)


def test_units_are_well_sites_by_default_and_wells_when_a_step_stacks_sites(
    tiny_index, tmp_path, no_reads
):
    plan = compile_(tiny_index, tmp_path, Step(MAXP))
    assert [(u.well, u.site) for u in plan.units] == [
        ("A01", 1),
        ("A01", 2),
        ("B02", 1),
        ("B02", 2),
    ]
    assert all(len(u.images) == 2 * 3 for u in plan.units)  # channels x z of one site
    plan = compile_(
        tiny_index, tmp_path, Step(MAXP), Step(MAXP, name="s", variable_components=["site"])
    )
    assert [(u.well, u.site) for u in plan.units] == [("A01", None), ("B02", None)]
    assert all(len(u.images) == 2 * 2 * 3 for u in plan.units)


def test_units_are_frozen_and_pickle_small(tiny_index, tmp_path):
    import pickle

    unit = compile_(tiny_index, tmp_path, Step(MAXP), Step([NORM, COUNT])).units[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        unit.well = "B02"
    assert pickle.loads(pickle.dumps(unit)) == unit


def test_requested_wells_only_and_unknown_wells_refused(tiny_index, tmp_path):
    plan = compile_(tiny_index, tmp_path, Step(MAXP), wells=["B02"])
    assert {u.well for u in plan.units} == {"B02"}
    with pytest.raises(PlateError, match="C07"):
        compile_(tiny_index, tmp_path, Step(MAXP), wells=["B02", "C07"])


def test_unknown_functions_and_bad_parameters_are_refused(tiny_index, tmp_path, no_reads):
    with pytest.raises(UnknownFunctionError, match="os.system"):
        compile_(tiny_index, tmp_path, Step("os.system"))
    with pytest.raises(PipelineError, match="no parameter 'radius'"):
        compile_(tiny_index, tmp_path, Step((COUNT, {"radius": 3})))
    with pytest.raises(PipelineError, match="must be int"):
        compile_(tiny_index, tmp_path, Step((COUNT, {"min_area": "big"})))
    with pytest.raises(PipelineError, match="not one of"):
        compile_(tiny_index, tmp_path, Step((COUNT, {"method": "magic"})))


def test_unavailable_functions_are_refused_with_the_reason(tiny_index, tmp_path, monkeypatch):
    import napari_openhcs.registry as registry

    real = registry.get_info

    def fake(ref):
        info = real(ref)
        if ref == MAXP:
            return dataclasses.replace(info, available=False, reason="no CUDA GPU found")
        return info

    monkeypatch.setattr(registry, "get_info", fake)
    with pytest.raises(FunctionUnavailableError, match="no CUDA GPU found"):
        compile_(tiny_index, tmp_path, Step(MAXP, name="project"))


def test_group_values_missing_from_the_plate_are_refused_and_unnamed_ones_listed(
    tiny_index, tmp_path
):
    with pytest.raises(PipelineError, match="channel 5 not in the plate"):
        compile_(tiny_index, tmp_path, Step({"5": NORM}, group_by="channel"))
    plan = compile_(tiny_index, tmp_path, Step({"1": NORM}, name="n", group_by="channel"))
    assert any("channel 2 pass through unchanged" in note for note in plan.notes)


def test_duplicate_step_names_and_all_disabled_are_refused(tiny_index, tmp_path):
    with pytest.raises(PipelineError, match="unique"):
        compile_(tiny_index, tmp_path, Step(MAXP, name="a"), Step(NORM, name="a"))
    with pytest.raises(PipelineError, match="no enabled step"):
        compile_(tiny_index, tmp_path, Step(MAXP, enabled=False))


def test_disabled_steps_are_left_out(tiny_index, tmp_path):
    plan = compile_(tiny_index, tmp_path, Step(MAXP, name="a"), Step(NORM, name="b", enabled=False))
    assert [s.name for s in plan.units[0].steps] == ["a"]


def test_gpu_units_are_assigned_round_robin_with_a_per_gpu_limit(tiny_index, tmp_path):
    torch_max = "napari_openhcs.functions.torch.max_projection"
    plan = compile_(tiny_index, tmp_path, Step(torch_max), gpus=[0, 1], max_units_per_gpu=2)
    assert [u.gpu for u in plan.units] == [0, 1, 0, 1]
    assert plan.per_gpu_limit == 2
    cpu = compile_(tiny_index, tmp_path, Step(MAXP), gpus=[0, 1])
    assert {u.gpu for u in cpu.units} == {None}


def test_plate_step_becomes_one_job_and_every_unit_gets_its_path(tiny_index, tmp_path, plate_funcs):
    plan = compile_(
        tiny_index,
        tmp_path,
        Step(f"{plate_funcs}.estimate_flatfield", name="flat", scope="plate"),
        Step((f"{plate_funcs}.divide_by", {"flatfield": {"plate_step": "flat"}}), name="apply"),
    )
    assert [job.step_name for job in plan.plate_jobs] == ["flat"]
    job = plan.plate_jobs[0]
    assert job.result_path.endswith(".openhcs/plate_steps/flat.npy")
    assert {k.well for k, _ in job.images} == {"A01", "B02"}
    assert all(u.plate_results == (("flat", job.result_path),) for u in plan.units)
    assert [s.name for s in plan.units[0].steps] == ["apply"]


def test_a_plate_step_reference_must_name_an_earlier_plate_step(tiny_index, tmp_path, plate_funcs):
    with pytest.raises(PipelineError, match="not an enabled plate-scope step"):
        compile_(
            tiny_index,
            tmp_path,
            Step((f"{plate_funcs}.divide_by", {"flatfield": {"plate_step": "flat"}})),
        )


def test_a_partial_compile_stops_at_the_first_invalid_step_and_keeps_its_error(
    tiny_index, tmp_path, no_reads
):
    steps = [
        Step(MAXP, name="project"),
        Step(("skimage.filters.gaussian", {"sigmaa": 1.0}), name="blur"),
        Step(MAXP, name="never"),
    ]
    with pytest.raises(PipelineError, match="sigmaa"):
        compile_(tiny_index, tmp_path, *steps)
    plan = compile_(tiny_index, tmp_path, *steps, partial=True, wells=["A01"])
    assert [s.name for s in plan.steps] == ["project"]
    assert all(u.steps == plan.steps for u in plan.units)
    name, error = plan.invalid
    assert name == "blur" and isinstance(error, PipelineError) and "sigmaa" in str(error)
    assert compile_(tiny_index, tmp_path, *steps[:1]).invalid is None


def test_plate_steps_sample_the_wells_asked_for(tiny_index, tmp_path, plate_funcs, no_reads):
    steps = [Step(f"{plate_funcs}.estimate_flatfield", name="flat", scope="plate"), Step(MAXP)]
    (job,) = compile_(tiny_index, tmp_path, *steps, wells=["A01"]).plate_jobs
    assert {k.well for k, _ in job.images} == {"A01"}
    (job,) = compile_(
        tiny_index, tmp_path, *steps, wells=["A01"], plate_step_wells=["A01", "B02"]
    ).plate_jobs
    assert {k.well for k, _ in job.images} == {"A01", "B02"}
