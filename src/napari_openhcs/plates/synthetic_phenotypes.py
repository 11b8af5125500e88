"""Per-well phenotypes of synthetic cell plates, read from a plate map.

A plate map is the CSV ``napari_openhcs.wells.read_plate_map`` reads (a ``well`` column, or
pycytominer's ``well_position``) with any of these numeric columns; an empty cell, or a well
the map does not name, takes the default:

=====================  =======  ===========  ==================================================
column                 default  range        meaning
=====================  =======  ===========  ==================================================
``cell_size``          1.0      0.25 - 2.5   scale of how far cells reach beyond their nuclei
                                             (margins 6-12 px at 1.0); nuclei keep their size
``marker_intensity``   1.0      0 - 4        cytoplasm marker brightness of positive cells
                                             (negative cells show a quarter of it)
``positive_fraction``  1.0      0 - 1        probability that a cell is marker-positive
=====================  =======  ===========  ==================================================

Every other column (``treatment``, ``control_type``, ...) is an annotation: the generator
keeps it in ``ground_truth.json`` untouched, so the same file can be given to
``napari-openhcs run --plate-map``. A column whose name is one letter or two away from a
phenotype's (``cell_sise``) is refused as a likely typo. New phenotypes (controls, effect
sizes) are new entries of :data:`PHENOTYPES`.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

from napari_openhcs.errors import InputError
from napari_openhcs.wells import parse_well, read_plate_map

__all__ = ["PHENOTYPES", "Phenotype", "defaults", "well_phenotypes"]


@dataclass(frozen=True)
class Phenotype:
    """One numeric plate-map column the generator obeys: its default and allowed range."""

    name: str
    default: float
    low: float
    high: float
    doc: str


PHENOTYPES: dict[str, Phenotype] = {
    p.name: p
    for p in (
        Phenotype("cell_size", 1.0, 0.25, 2.5, "scale of the cell margin beyond the nucleus"),
        Phenotype("marker_intensity", 1.0, 0.0, 4.0, "cytoplasm marker of positive cells"),
        Phenotype("positive_fraction", 1.0, 0.0, 1.0, "fraction of marker-positive cells"),
    )
}


def defaults() -> dict[str, float]:
    """The phenotype of a well no plate map names.

    Examples
    --------
    >>> defaults()
    {'cell_size': 1.0, 'marker_intensity': 1.0, 'positive_fraction': 1.0}
    """
    return {name: p.default for name, p in PHENOTYPES.items()}


def _value(where: str, column: str, text, spec: Phenotype) -> float:
    if text is None or (isinstance(text, str) and not text.strip()):
        return spec.default
    try:
        value = float(text.strip() if isinstance(text, str) else text)
    except (TypeError, ValueError):
        raise InputError(f"{where}: {column} {text!r} is not a number") from None
    if not math.isfinite(value) or not spec.low <= value <= spec.high:
        raise InputError(
            f"{where}: {column} {value:g} is outside {spec.low:g} to {spec.high:g} ({spec.doc})"
        )
    return value


def _check_columns(source: str, columns: set[str]) -> None:
    for column in sorted(columns - set(PHENOTYPES)):
        close = difflib.get_close_matches(column, PHENOTYPES, n=1, cutoff=0.8)
        if close:
            raise InputError(
                f"plate map {source}: unknown column {column!r}; did you mean {close[0]!r}? "
                f"(phenotype columns: {', '.join(PHENOTYPES)})"
            )


def well_phenotypes(
    plate_map: str | os.PathLike | Mapping[str, Mapping[str, object]] | None,
    wells: list[str],
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, str]]]:
    """Phenotypes and annotations of each well written, from a plate map.

    Parameters
    ----------
    plate_map : path, mapping or None
        A plate-map CSV, or the mapping ``read_plate_map`` returns (well -> column -> value).
    wells : list of str
        The wells being written; the map may name no other well.

    Returns
    -------
    (phenotypes, annotations)
        ``phenotypes[well]`` holds every :data:`PHENOTYPES` column (defaults where not given);
        ``annotations[well]`` the map's other columns, for the wells the map names.

    Raises
    ------
    InputError
        One line naming the map, the well and the column: a well not written, a value that
        is not a number or is out of range, a misspelt phenotype column.

    Examples
    --------
    >>> pheno, notes = well_phenotypes({"A01": {"cell_size": "1.5", "treatment": "DMSO"}},
    ...                                ["A01", "A02"])
    >>> pheno["A01"]["cell_size"], pheno["A02"]["cell_size"], notes
    (1.5, 1.0, {'A01': {'treatment': 'DMSO'}})
    """
    phenotypes = {well: defaults() for well in wells}
    if plate_map is None:
        return phenotypes, {}
    if isinstance(plate_map, Mapping):
        source, rows = "(in memory)", plate_map
    else:
        source, rows = os.fspath(plate_map), read_plate_map(plate_map)
    _check_columns(source, {c for values in rows.values() for c in values})
    written = set(wells)
    annotations: dict[str, dict[str, str]] = {}
    for well, values in rows.items():
        if parse_well(well) is None:
            raise InputError(
                f"plate map {source}: {well!r} is not a well name (use e.g. A01 or AF48)"
            )
        if well not in written:
            raise InputError(
                f"plate map {source}: well {well} is not on the plate being written "
                f"({len(wells)} wells: {', '.join(wells[:6])}{', ...' if len(wells) > 6 else ''})"
            )
        where = f"plate map {source}, well {well}"
        for column, text in values.items():
            if column in PHENOTYPES:
                phenotypes[well][column] = _value(where, column, text, PHENOTYPES[column])
        notes = {c: str(v) for c, v in values.items() if c not in PHENOTYPES}
        if notes:
            annotations[well] = notes
    return phenotypes, annotations
