"""Tiny synthetic plates shared by the pipeline tests (64-128 px, built once per session)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_plate(tmp_path_factory):
    """An ImageXpress plate: wells A01, B02; 2 sites, 2 channels, 3 z, 64 px."""
    from napari_openhcs.plates.synthetic import write_plate

    root = tmp_path_factory.mktemp("tiny") / "plate"
    return write_plate(root, "imagexpress", wells=["A01", "B02"], sites=2, channels=2, z=3, size=64)


@pytest.fixture(scope="session")
def tiny_index(tiny_plate):
    from napari_openhcs.plates import open_plate

    return open_plate(tiny_plate)


@pytest.fixture
def plate_funcs(monkeypatch):
    """Register ``plate_step_funcs``' functions for one test; returns their module path."""
    import plate_step_funcs

    from napari_openhcs.registry.catalog import load_index
    from napari_openhcs.registry.libraries._common import info_from_declared

    index = load_index()
    for name in ("estimate_flatfield", "divide_by", "run_out_of_memory"):
        ref = f"plate_step_funcs.{name}"
        info = info_from_declared(getattr(plate_step_funcs, name), ref, "tests")
        monkeypatch.setitem(index, ref, info)
    plate_step_funcs.CALLS["estimate"] = 0
    return "plate_step_funcs"
