"""Structural checks of an OME-Zarr plate that schema validators do not make.

Schema validators (yaozarrs, ome-zarr-models) check each metadata document; they do not
check that a well's ``path`` is the row and column its indices point at, or (ome-zarr-models)
that every listed well and field exists. Readers such as ome-zarr-py and napari-ome-zarr
build well paths from the row and column names, so a disagreement shows the wrong well.
"""

from __future__ import annotations

from pathlib import Path

from napari_openhcs.storage import ngff as meta
from napari_openhcs.storage.ngff import read_group_attrs


def check_plate(path: str | Path) -> list[str]:
    """Problems found in an OME-Zarr plate (an empty list when there are none).

    Checks that each listed well's path is ``<row name>/<column name>`` of its ``rowIndex``
    and ``columnIndex``, that no well is listed twice, that each well group exists with
    ``well`` metadata, and that each listed field exists with ``multiscales`` whose level
    arrays exist.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from napari_openhcs.storage.omezarr import OmeZarrPlateWriter
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "p.ome.zarr"
    >>> w = OmeZarrPlateWriter(out, 2, 3)
    >>> _ = w.write_field("B03", 0, np.zeros((1, 1, 1, 8, 8), np.uint8))
    >>> w.finish_well("B03", 1)
    >>> check_plate(out)
    []
    """
    path = Path(path)
    body, version = meta.unwrap(read_group_attrs(path) or {})
    plate = body.get("plate")
    if not plate:
        return [f"{path}: no plate metadata"]
    problems = []
    rows = [r.get("name") for r in plate.get("rows", [])]
    cols = [c.get("name") for c in plate.get("columns", [])]
    seen = set()
    for well in plate.get("wells", []):
        wpath, r, c = well.get("path"), well.get("rowIndex"), well.get("columnIndex")
        if wpath in seen:
            problems.append(f"well {wpath} is listed twice")
        seen.add(wpath)
        if not (
            isinstance(r, int) and 0 <= r < len(rows) and isinstance(c, int) and 0 <= c < len(cols)
        ):
            problems.append(f"well {wpath}: rowIndex {r} / columnIndex {c} outside the grid")
            continue
        if wpath != f"{rows[r]}/{cols[c]}":
            problems.append(
                f"well {wpath}: path disagrees with rowIndex {r} ({rows[r]}) and "
                f"columnIndex {c} ({cols[c]})"
            )
        well_body, well_version = meta.unwrap(read_group_attrs(path / wpath) or {})
        if "well" not in well_body:
            problems.append(f"well {wpath}: no well group with well metadata")
            continue
        if well_version != version:
            problems.append(f"well {wpath}: NGFF {well_version}, plate is {version}")
        for image in well_body["well"].get("images", []):
            fpath = path / wpath / image.get("path", "")
            fbody, _ = meta.unwrap(read_group_attrs(fpath) or {})
            multiscales = fbody.get("multiscales")
            if not multiscales:
                problems.append(f"field {wpath}/{image.get('path')}: missing or not an image")
                continue
            for dataset in multiscales[0].get("datasets", []):
                level = fpath / dataset.get("path", "")
                if not ((level / meta.V3_FILE).is_file() or (level / meta.V2_ARRAY).is_file()):
                    problems.append(
                        f"field {wpath}/{image.get('path')}: no array {dataset.get('path')}"
                    )
    return problems
