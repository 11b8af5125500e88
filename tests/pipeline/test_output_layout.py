"""The compiler refuses, before reading a pixel, a plate the output writer could not lay out."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pipeline_helpers import output_spec

from napari_openhcs import cli
from napari_openhcs.errors import InputError, PlateError
from napari_openhcs.pipeline import Pipeline, Step
from napari_openhcs.pipeline.compiler import compile_pipeline
from napari_openhcs.plates.index import ImageKey

MAXP = "napari_openhcs.functions.max_projection"


@pytest.fixture
def no_reads(monkeypatch):
    """Fail the test if anything reads a pixel."""
    import napari_openhcs.plates as plates
    import napari_openhcs.plates.discovery as discovery

    def refuse(*args, **kwargs):
        raise AssertionError("a pixel was read")

    for module in (plates, discovery):
        monkeypatch.setattr(module, "read_plane", refuse)
        monkeypatch.setattr(module, "read_planes", refuse)


def _renamed(index, old: str, new: str):
    images = {
        (ImageKey(new, *k[1:]) if k.well == old else k): loc for k, loc in index.images.items()
    }
    wells = [new if w == old else w for w in index.wells]
    return dataclasses.replace(index, images=images, wells=wells)


def test_a_well_outside_the_output_grid_is_refused_at_compile_time(tiny_index, tmp_path, no_reads):
    index = dataclasses.replace(tiny_index, rows=1, columns=1)  # B02 does not fit
    with pytest.raises(PlateError, match=r"B02.*outside the output plate's 1 x 1 grid"):
        compile_pipeline(Pipeline([Step(MAXP, name="p")]), index, output_spec(index, tmp_path))
    # only the wells chosen to run need to fit
    plan = compile_pipeline(
        Pipeline([Step(MAXP, name="p")]), index, output_spec(index, tmp_path), wells=["A01"]
    )
    assert {u.well for u in plan.units} == {"A01"}


@pytest.mark.parametrize("name", ["well-2", "B2", "b02"])
def test_a_well_name_the_writer_cannot_place_is_refused(tiny_index, tmp_path, no_reads, name):
    index = _renamed(tiny_index, "B02", name)
    with pytest.raises(InputError, match=rf"{name}.*cannot be written"):
        compile_pipeline(Pipeline([Step(MAXP, name="p")]), index, output_spec(index, tmp_path))


def test_cli_run_exits_2_and_writes_nothing(tiny_plate, tiny_index, tmp_path, monkeypatch, capsys):
    import napari_openhcs.plates as plates

    bad = dataclasses.replace(tiny_index, rows=1, columns=1)
    monkeypatch.setattr(plates, "open_plate", lambda *a, **k: bad)
    pipe = tmp_path / "p.json"
    pipe.write_text(
        json.dumps(
            {
                "format": "napari-openhcs.pipeline",
                "version": 1,
                "name": "project",
                "steps": [{"name": "project", "func": MAXP}],
            }
        )
    )
    out = tmp_path / "out"
    code = cli.main(
        ["run", str(tiny_plate), "--pipeline", str(pipe), "--out", str(out)]
        + ["--executor", "serial"]
    )
    assert code == 2
    assert "outside the output plate's 1 x 1 grid" in capsys.readouterr().err
    assert not out.exists()
