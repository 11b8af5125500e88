"""Opening a run's results in napari (``napari-openhcs demo --gui``, the run panel)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from napari_openhcs.errors import InputError

OUTPUT_PREFIX = "output: "


def output_plate(out_dir: str | Path) -> Path:
    """The main output plate ``<out>/<plate>.ome.zarr`` of a run folder."""
    out_dir = Path(out_dir)
    plates = sorted(out_dir.glob("*.ome.zarr"), key=lambda p: len(p.name))
    if not plates:
        raise InputError(f"{out_dir}: no output plate (*.ome.zarr) in this folder")
    return plates[0]


def add_output_well(viewer: Any, out_dir: str | Path, well: str) -> list:
    """Show the first field of ``well`` of a run's output plate: images and labels.

    Output layers are named ``"output: ..."``; those of a previously shown well are removed.
    """
    from napari_openhcs.gui._reader import read_image_layers
    from napari_openhcs.plates.omezarr import read_plate

    plate = output_plate(out_dir)
    info = read_plate(plate)
    if well not in info["wells"]:
        raise InputError(f"{plate}: well {well} was not written (failed or not run)")
    well_dir = plate / info["wells"][well]
    fields = sorted(p for p in well_dir.iterdir() if p.is_dir() and p.name.isdigit())
    for layer in [x for x in viewer.layers if x.name.startswith(OUTPUT_PREFIX)]:
        viewer.layers.remove(layer)
    added = []
    for data, kwargs, kind in read_image_layers(fields[0]):
        kwargs = dict(kwargs)
        names = kwargs.get("name")
        if isinstance(names, list | tuple):
            kwargs["name"] = [f"{OUTPUT_PREFIX}{well} {n}" for n in names]
        else:
            kwargs["name"] = f"{OUTPUT_PREFIX}{well} {names}"
        add = viewer.add_labels if kind == "labels" else viewer.add_image
        kwargs.pop("axis_labels", None)
        result = add(data, **kwargs)
        added.extend(result if isinstance(result, list) else [result])
    return added


def check_napari() -> None:
    """``demo --gui`` needs napari and a Qt binding: say so before any work is done.

    Raises
    ------
    InputError
        If napari or a Qt binding cannot be imported (naming the extra to install).
    """
    try:
        import napari  # noqa: F401
        import qtpy.QtCore  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - qtpy raises its own error for no Qt binding
        raise InputError(
            f"--gui needs napari with a Qt binding ({type(exc).__name__}: {exc}): "
            "pip install 'napari-openhcs[napari]'"
        ) from None


def open_results(out_dir: str | Path) -> None:
    """Open a viewer with the output plate's first well and the dock, then run napari."""
    import napari

    from napari_openhcs.gui._dock import PipelineDock
    from napari_openhcs.gui._plate_nav import PlateNavigator
    from napari_openhcs.plates.omezarr import read_plate

    viewer = napari.Viewer(title="napari-openhcs results")
    plate = output_plate(out_dir)
    nav = PlateNavigator(viewer)
    viewer.window.add_dock_widget(nav, name="Plate", area="right")
    viewer.window.add_dock_widget(PipelineDock(viewer), name="Pipeline", area="right")
    wells = list(read_plate(plate)["wells"])
    if wells:
        add_output_well(viewer, out_dir, wells[0])
    napari.run()
