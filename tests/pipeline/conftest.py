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


def output_spec(index, out):
    from napari_openhcs.pipeline.units import OutputSpec

    return OutputSpec(
        out_dir=str(out),
        plate_name=index.name,
        rows=index.rows,
        columns=index.columns,
        channel_names=tuple(sorted(index.channel_names.items())),
        pixel_size=index.pixel_size,
        plate_dtype=index.dtype,
    )
