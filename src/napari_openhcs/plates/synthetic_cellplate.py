"""Sites of synthetic cells for a plate, and the truth written beside them.

Each site is one ``make_cells`` field: a DNA, a cytoplasm-marker and a membrane stain, with
its well's phenotype (``synthetic_phenotypes``). Cells keep their size in pixels whatever the
image size (a smaller image is a smaller field of view, holding fewer cells), so the same
segmentation settings find them. Out-of-focus z-planes blur the clean signal before the noise
is added, as the nuclei plates do; the middle plane is in focus.

The truth lies in ``truth/`` inside the plate folder, where no plate reader looks:
``truth/<well>_s<site>_nuclei.tif`` and ``..._cells.tif`` (uint16 labels, cell ``k`` contains
nucleus ``k``) and ``truth/cells.csv`` (one row per cell: well, site, object number, areas,
marker factor, whether positive).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from napari_openhcs.atomic import replace_file
from napari_openhcs.plates.synthetic_cells import SyntheticCells, add_noise, make_cells
from napari_openhcs.plates.synthetic_phenotypes import PHENOTYPES
from napari_openhcs.tables import write_csv

#: The stains of a cell plate, in channel order (1 = DNA, 2 = cytoplasm marker, 3 = membrane).
CELL_CHANNELS = ("DNA", "Cytoplasm", "Membrane")
#: Cells per 256 x 256 px site (drawn per site; fewer when large cells do not fit).
CELLS_PER_SITE = (24, 36)
NUCLEUS_RADIUS = (7.0, 10.0)
CELL_MARGIN = (6.0, 12.0)
#: Rounded nuclei (half as bright at the edge): one DNA peak each, as declumping expects.
DOME = 0.5
TRUTH_DIR = "truth"


def truth_label_path(well: str, site: int, kind: str) -> str:
    """Where a site's true ``nuclei`` or ``cells`` labels lie, relative to the plate folder.

    Examples
    --------
    >>> truth_label_path("B02", 1, "cells")
    'truth/B02_s1_cells.tif'
    """
    return f"{TRUTH_DIR}/{well}_s{site}_{kind}.tif"


def render_cell_site(
    rng: np.random.Generator, phenotype: dict[str, float], size: int, channels: int, z: int
) -> tuple[np.ndarray, SyntheticCells]:
    """One site of a well with ``phenotype``: its ``(1, channels, z, y, x)`` uint16 stack and
    the ``make_cells`` site (the truth)."""
    low, high = CELLS_PER_SITE
    count = max(1, int(round(rng.integers(low, high + 1) * (size / 256) ** 2)))
    scale = phenotype["cell_size"]
    marker = phenotype["marker_intensity"]
    site = make_cells(
        size,
        count=count,
        nucleus_radius=NUCLEUS_RADIUS,
        cell_margin=(CELL_MARGIN[0] * scale, CELL_MARGIN[1] * scale),
        marker=(0.8 * marker, 1.2 * marker),
        positive_fraction=phenotype["positive_fraction"],
        dome=DOME,
        seed=int(rng.integers(2**63)),
    )
    focus = (z - 1) // 2
    planes = []
    for zi in range(z):
        if zi == focus:
            planes.append(site.image[:channels])
        else:
            planes.append(_out_of_focus(site.signal[:channels], 1.6 * abs(zi - focus), rng))
    return np.stack(planes, axis=1)[None], site


def _out_of_focus(signal: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    from scipy import ndimage as ndi

    blurred = np.stack([ndi.gaussian_filter(plane, sigma) for plane in signal])
    return add_noise(blurred, rng)


@dataclass
class CellTruth:
    """What a cell plate's sites hold, gathered while they are written."""

    root: Path
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    positive: dict[str, dict[str, int]] = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)

    def add(self, well: str, site_number: int, site: SyntheticCells) -> None:
        """Record one site and write its true labels."""
        s = str(site_number)
        n = len(site.marker)
        self.counts.setdefault(well, {})[s] = n
        self.positive.setdefault(well, {})[s] = int(np.count_nonzero(site.positive))
        for kind, labels in (("nuclei", site.nuclei), ("cells", site.cells)):
            _write_labels(self.root / truth_label_path(well, site_number, kind), labels)
        nuclei_area = np.bincount(site.nuclei.ravel(), minlength=n + 1)[1:]
        cells_area = np.bincount(site.cells.ravel(), minlength=n + 1)[1:]
        for k in range(n):
            self.rows.append(
                {
                    "Metadata_Well": well,
                    "Metadata_Site": site_number,
                    "ObjectNumber": k + 1,
                    "Nuclei_Area": int(nuclei_area[k]),
                    "Cells_Area": int(cells_area[k]),
                    "Marker": round(float(site.marker[k]), 4),
                    "Positive": bool(site.positive[k]),
                }
            )

    def extra(self, phenotypes: dict, annotations: dict) -> dict:
        """The cell plate's part of ``ground_truth.json``."""
        return {
            "cells_channel": 2,
            "positive": self.positive,
            "phenotypes": phenotypes,
            "annotations": annotations,
            "phenotype_columns": {
                p.name: {"default": p.default, "range": [p.low, p.high], "meaning": p.doc}
                for p in PHENOTYPES.values()
            },
            "truth": {
                "nuclei": truth_label_path("{well}", "{site}", "nuclei"),
                "cells": truth_label_path("{well}", "{site}", "cells"),
                "cells_table": f"{TRUTH_DIR}/cells.csv",
            },
        }

    def finish(self) -> None:
        """Write ``truth/cells.csv``."""
        columns = ["Metadata_Well", "Metadata_Site", "ObjectNumber", "Nuclei_Area"]
        columns += ["Cells_Area", "Marker", "Positive"]
        write_csv(
            {c: [r[c] for r in self.rows] for c in columns}, self.root / TRUTH_DIR / "cells.csv"
        )


def _write_labels(path: Path, labels: np.ndarray) -> None:
    import tifffile

    with replace_file(path) as tmp:
        tifffile.imwrite(tmp, labels.astype(np.uint16), compression="zlib", metadata=None)
