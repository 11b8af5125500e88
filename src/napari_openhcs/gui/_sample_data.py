"""Sample data: a small synthetic ImageXpress plate, opened through the plate reader."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from napari_openhcs.atomic import new_tmp_dir
from napari_openhcs.gui._reader import LayerData, read_plate_layers, show_plate_dock
from napari_openhcs.plates.synthetic import write_plate

#: Folder (under the system temp folder) holding the sample plate once written.
SAMPLE_NAME = "napari-openhcs-sample-plate"


def sample_plate() -> list[LayerData]:
    """A synthetic one-well plate (2 sites, 2 channels, 3 z planes, 256 px), as napari layers.

    The plate is written once into a temporary folder and reused; its first well opens
    lazily exactly as a real plate does (``read_plate_layers``).

    Returns
    -------
    list of (data, kwargs, "image")
        One lazy image layer per channel, axes ``(site, t, z, y, x)``.
    """
    layers = read_plate_layers(sample_plate_path())
    show_plate_dock()
    return layers


def sample_plate_path(folder: str | Path | None = None) -> Path:
    """Write the sample plate into ``folder`` (default: the temp folder) unless it is there."""
    root = Path(folder) if folder is not None else Path(tempfile.gettempdir()) / SAMPLE_NAME
    plate = root / "plate"
    if not (plate / "ground_truth.json").is_file():
        root.mkdir(parents=True, exist_ok=True)
        tmp = new_tmp_dir(root, "sample")
        written = write_plate(tmp / "plate", "imagexpress", wells=["A01"], size=256)
        try:
            written.rename(plate)  # atomic: another process may have written it meanwhile
        except OSError:
            pass
        shutil.rmtree(tmp, ignore_errors=True)
    return plate
