"""A run's measurements of a synthetic cell plate, set against the plate's truth.

What ``napari-openhcs demo`` prints: per well, the nuclei and cells a run counted (the image
table's ``Count_Nuclei`` and ``Count_Cells``) against the true counts, the median cell area
against the true labels' median, and the fraction of marker-positive cells against the truth
and the plate map. A cell is called positive when its mean cytoplasm-marker intensity
(``Cells_Intensity_MeanIntensity_<marker channel>``) is above one threshold for the whole
plate, Otsu's over every cell of the plate: it falls midway between the negative and the
positive cells when the plate holds both and the marker intensity is the same in every well.
Feature names are found by pattern, so the marker channel may be named as the plate names it
(``Cytoplasm``) or as a pipeline names it (``Cyto``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from napari_openhcs.errors import InputError
from napari_openhcs.plates.synthetic_cellplate import TRUTH_DIR
from napari_openhcs.tables import numeric_values, read_csv, read_table

__all__ = ["WellScore", "marker_feature", "score_cell_run"]

_MEAN = re.compile(r"^Cells_Intensity_MeanIntensity_(?P<channel>[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class WellScore:
    """One well: counted and true nuclei and cells, median cell area (px), positive fraction."""

    well: str
    nuclei: int
    true_nuclei: int
    cells: int
    true_cells: int
    cell_area: float
    true_cell_area: float
    positive: float
    true_positive: float
    map_positive: float

    def count_error(self) -> float:
        """The larger relative error of the nuclei and cell counts (0.1 = 10 %)."""
        errors = [
            abs(got - want) / want if want else float(got != 0)
            for got, want in ((self.nuclei, self.true_nuclei), (self.cells, self.true_cells))
        ]
        return max(errors)


def marker_feature(columns: list[str], marker: str = "Cytoplasm", dna: str = "DNA") -> str:
    """The single-cell column of the cells' mean marker intensity:
    ``Cells_Intensity_MeanIntensity_<marker>`` where the table has it (features named after
    the plate's channels), else the one such column of a channel other than ``dna``.

    Examples
    --------
    >>> marker_feature(["Cells_Intensity_MeanIntensity_DNA", "Cells_Intensity_MeanIntensity_Cyto"])
    'Cells_Intensity_MeanIntensity_Cyto'
    """
    if f"Cells_Intensity_MeanIntensity_{marker}" in columns:
        return f"Cells_Intensity_MeanIntensity_{marker}"
    found = [c for c in columns if (m := _MEAN.match(c)) and m["channel"] != dna]
    if len(found) != 1:
        raise InputError(
            f"the single-cell table needs a Cells_Intensity_MeanIntensity_{marker} column, or "
            f"one of another channel than {dna}; found {found or 'none'}"
        )
    return found[0]


def _column(table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist())


def _by_well(wells: np.ndarray, values: np.ndarray) -> dict[str, np.ndarray]:
    return {w: values[wells == w] for w in np.unique(wells)}


def score_cell_run(plate: str | Path, run: str | Path) -> tuple[list[WellScore], dict]:
    """Score a run's ``image`` and ``single_cell`` tables against a synthetic cell plate.

    Parameters
    ----------
    plate : path
        A plate written by ``write_plate(..., content="cells")``.
    run : path
        The output folder of a run over it that wrote cell tables (``cell_profile``).

    Returns
    -------
    (scores, about)
        One :class:`WellScore` per well the run measured, and ``about``: the marker
        ``feature`` and the plate's ``threshold`` on it.
    """
    from skimage.filters import threshold_otsu

    plate, run = Path(plate), Path(run)
    truth = json.loads((plate / "ground_truth.json").read_text())
    if truth.get("content") != "cells":
        raise InputError(f"{plate}: not a synthetic cell plate (no cell truth)")
    true_cells = read_csv(plate / TRUTH_DIR / "cells.csv")
    images = read_table(run / "image.parquet")
    singles = read_table(run / "single_cell.parquet")
    names = truth["channel_names"]
    feature = marker_feature(singles.column_names, names["2"], names["1"])
    marker = _column(singles, feature).astype(float)
    finite = marker[np.isfinite(marker)]
    threshold = float(threshold_otsu(finite)) if np.ptp(finite) > 0 else float(finite[0])
    cell_wells = _column(singles, "Metadata_Well")
    markers = _by_well(cell_wells, marker)
    areas = _by_well(cell_wells, _column(singles, "Cells_AreaShape_Area").astype(float))
    truth_wells = _column(true_cells, "Metadata_Well")
    true_areas = _by_well(truth_wells, _column(true_cells, "Cells_Area").astype(float))
    image_wells = _column(images, "Metadata_Well")
    nuclei = _by_well(image_wells, numeric_values(images.column("Count_Nuclei")))
    cells = _by_well(image_wells, numeric_values(images.column("Count_Cells")))
    scores = []
    for well in sorted(set(image_wells) & set(truth["counts"])):
        n_true = sum(truth["counts"][well].values())
        values = markers.get(well, np.zeros(0))
        scores.append(
            WellScore(
                well=well,
                nuclei=int(nuclei[well].sum()),
                true_nuclei=n_true,
                cells=int(cells[well].sum()),
                true_cells=n_true,
                cell_area=float(np.median(areas[well])) if well in areas else float("nan"),
                true_cell_area=float(np.median(true_areas[well])),
                positive=float(np.mean(values > threshold)) if len(values) else float("nan"),
                true_positive=sum(truth["positive"][well].values()) / n_true if n_true else 0.0,
                map_positive=truth["phenotypes"][well]["positive_fraction"],
            )
        )
    return scores, {"feature": feature, "threshold": threshold}
