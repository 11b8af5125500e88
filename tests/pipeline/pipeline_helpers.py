"""Helpers shared by the pipeline tests."""

from __future__ import annotations


def output_spec(index, out):
    from napari_openhcs.storage.layout import OutputSpec

    return OutputSpec(
        out_dir=str(out),
        plate_name=index.name,
        rows=index.rows,
        columns=index.columns,
        channel_names=tuple(sorted(index.channel_names.items())),
        pixel_size=index.pixel_size,
        plate_dtype=index.dtype,
    )
