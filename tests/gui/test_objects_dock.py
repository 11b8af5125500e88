"""The dock's objects parameters, opened from the Plugins menu, on cell_profile."""

from __future__ import annotations

import json

import pytest
from docks import docks_on

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def plate(tmp_path_factory):
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("objects") / "plate"
    return write_plate(root, "imagexpress", wells=["A01"], sites=1, channels=2, z=1, size=64)


@pytest.fixture
def docks(make_napari_viewer, plate, qtbot):
    yield from docks_on(make_napari_viewer, plate)


def test_the_cells_step_offers_nuclei_as_seeds_and_a_choice_updates_the_pipeline(docks, tmp_path):
    from napari_openhcs.pipeline import load_pipeline

    _viewer, dock, _nav = docks
    dock.set_steps(load_pipeline("cell_profile"))
    names = [m.name for m in dock.steps]
    assert names == ["project", "nuclei", "cells", "cytoplasm"]
    dock.step_list.setCurrentRow(names.index("cells"))
    seeds = dock.form.params["seeds"]
    assert isinstance(seeds.choices[0], dict)
    offered = [c["objects"] for c in seeds.choices if "objects" in c]
    assert offered == ["nuclei"]  # not the image step "project"

    dock.step_list.setCurrentRow(names.index("cytoplasm"))
    nuclei = dock.form.params["nuclei"]
    assert [c["objects"] for c in nuclei.choices if "objects" in c] == ["nuclei", "cells"]
    nuclei.value = {"objects": "cells"}  # a user's choice, as the combo box sets it
    (step,) = [d for d in dock.pipeline_dict()["steps"] if d["name"] == "cytoplasm"]
    chain = next(iter(step["func"]["groups"].values()))
    assert json.dumps(chain[0]).count('"objects": "cells"') == 1
