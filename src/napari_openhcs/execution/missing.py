"""Image planes a plate promised but does not have: which sites they stop, and how to say so.

The rule: a site (or, when a step stacks sites, a whole well) whose stacks lack a plane is not
computed. The run records the missing planes per well (``run.json``'s ``missing`` and
``missing_sites``, the ``missing`` column of ``wells.csv``), warns once per well, and exits 1
unless missing planes are allowed.
"""

from __future__ import annotations

from collections.abc import Sequence

from napari_openhcs.plates.index import ImageKey, PlateIndex
from napari_openhcs.vocabulary import WellStatus
from napari_openhcs.wells import well_sort_key

#: Planes named in one console line before "and N more".
SHOWN_IN_A_LINE = 4


def plane_label(key: ImageKey, timepoints: bool = False) -> str:
    """``"site 2 channel 1 z 3"`` (plus ``" timepoint 2"`` when the plate has several)."""
    label = f"site {key.site} channel {key.channel} z {key.z}"
    return f"{label} timepoint {key.timepoint}" if timepoints else label


def missing_by_well(index: PlateIndex, wells: Sequence[str] | None) -> dict[str, list[ImageKey]]:
    """The missing keys of the chosen wells (every well of the plate when ``wells`` is None,
    including wells the metadata promised that have no image at all), by well."""
    chosen = None if wells is None else set(wells)
    found: dict[str, list[ImageKey]] = {}
    for key in index.missing:
        if chosen is None or key.well in chosen:
            found.setdefault(key.well, []).append(key)
    return {w: sorted(found[w]) for w in sorted(found, key=well_sort_key)}


def drop_incomplete_units(plan, index: PlateIndex, wells: Sequence[str] | None) -> dict:
    """Remove from ``plan.units`` every unit whose stacks lack a plane, in place.

    Returns ``{well: {"missing": [labels], "missing_sites": [sites]}}`` for each chosen well
    with a missing plane. A unit of one site is dropped when that site lacks a plane; a unit of
    a whole well (a step stacks sites) when any of its sites does.
    """
    missing = missing_by_well(index, wells)
    if not missing:
        return {}
    several_t = len(index.timepoints) > 1
    sites_lacking = {w: {k.site for k in keys} for w, keys in missing.items()}
    plan.units = [
        u
        for u in plan.units
        if u.well not in sites_lacking
        or (u.site is not None and u.site not in sites_lacking[u.well])
    ]
    return {
        well: {
            "missing": [plane_label(k, several_t) for k in keys],
            "missing_sites": sorted(sites_lacking[well]),
        }
        for well, keys in missing.items()
    }


def warning_line(well: str, info: dict) -> str:
    """One console line for a well with missing planes."""
    planes = list(info.get("missing") or [])
    sites = ", ".join(str(s) for s in info.get("missing_sites") or [])
    what = (
        "not computed"
        if info.get("status") == WellStatus.MISSING
        else f"site(s) {sites} not computed"
    )
    shown = "; ".join(planes[:SHOWN_IN_A_LINE])
    if len(planes) > SHOWN_IN_A_LINE:
        shown += f"; and {len(planes) - SHOWN_IN_A_LINE} more (see run.json)"
    return f"WARNING well {well}: {what}, image planes missing: {shown}"


def event(well: str, info: dict) -> dict:
    """The progress event of one well with missing planes (the dock shows ``message``)."""
    return {
        "kind": "missing_planes",
        "well": well,
        "missing": list(info.get("missing") or []),
        "sites": list(info.get("missing_sites") or []),
        "message": warning_line(well, info),
    }
