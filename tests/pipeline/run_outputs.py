"""Read back what a run wrote, for comparing runs (import as ``from pipeline.run_outputs``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def zarr_arrays(plate: str | Path) -> dict[str, np.ndarray]:
    """Every array of an OME-Zarr plate (images and labels, all levels) by its path."""
    import zarr

    root = zarr.open_group(str(plate), mode="r")
    out: dict[str, np.ndarray] = {}
    for path, array in _walk(root, ""):
        out[path] = np.asarray(array[...])
    return out


def _walk(group, prefix: str):
    for name, array in group.arrays():
        yield f"{prefix}{name}", array
    for name, sub in group.groups():
        yield from _walk(sub, f"{prefix}{name}/")


def listed_wells(plate: str | Path) -> list[str]:
    """Wells listed in the plate's metadata (the wells a run finished)."""
    attrs = json.loads((Path(plate) / "zarr.json").read_text())["attributes"]
    plate_meta = attrs.get("ome", attrs).get("plate", {})
    return sorted(w["path"] for w in plate_meta.get("wells", []))


def snapshot(out: str | Path) -> dict:
    """Arrays of every output plate, the listed wells, and every measurement CSV's text."""
    out = Path(out)
    snap: dict = {"arrays": {}, "wells": {}, "csv": {}}
    for plate in sorted(out.glob("*.ome.zarr")):
        snap["wells"][plate.name] = listed_wells(plate)
        for path, arr in zarr_arrays(plate).items():
            snap["arrays"][f"{plate.name}/{path}"] = arr
    for csv in sorted(out.glob("measurements/*.csv")) + [out / "measurements.csv"]:
        if csv.exists():
            snap["csv"][str(csv.relative_to(out))] = csv.read_text()
    return snap


def assert_same_outputs(a: dict, b: dict) -> None:
    """Bitwise-equal arrays (same dtype, shape and values), same wells, same CSV text."""
    assert a["wells"] == b["wells"]
    assert sorted(a["arrays"]) == sorted(b["arrays"])
    for key, arr in a["arrays"].items():
        other = b["arrays"][key]
        assert arr.dtype == other.dtype, key
        assert arr.shape == other.shape, key
        assert np.array_equal(arr, other), key
    assert a["csv"] == b["csv"]
    assert a["arrays"], "the run wrote no arrays"
    assert a["csv"], "the run wrote no measurements"


#: Per-well keys of run.json that differ between two runs of the same work.
RUN_SPECIFIC = ("seconds", "timings", "run_id", "gpus")


def well_records(out: str | Path) -> dict:
    """``wells.csv``'s text and run.json's per-well entries, without timings and run ids."""
    out = Path(out)
    wells = json.loads((out / "run.json").read_text())["wells"]
    entries = {
        well: {k: v for k, v in info.items() if k not in RUN_SPECIFIC}
        for well, info in wells.items()
    }
    return {"wells.csv": (out / "wells.csv").read_text(), "run.json wells": entries}
