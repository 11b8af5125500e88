"""Synthetic cells with known masks: nucleus, cytoplasm and membrane stains of one site.

Nuclei are ellipses placed apart from each other; each cell is its nucleus grown by a
random margin and cut where it meets its neighbours (the way cells in a dense culture
share borders), so the truth holds the property the object functions promise: every cell
contains exactly its nucleus and carries its number. The three stains are

* DNA: bright nuclei with a little texture,
* cytoplasm: a diffuse stain over the cell, dimmer over the nucleus, scaled per cell by
  ``marker`` (a per-cell phenotype), and
* membrane: the cell outlines,

on a slightly uneven background with Poisson-like noise, as uint16.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["SyntheticCells", "add_noise", "make_cells"]


@dataclass(frozen=True)
class SyntheticCells:
    """One synthetic site: ``image`` is ``(3, y, x)`` uint16 (DNA, cytoplasm, membrane);
    ``nuclei`` and ``cells`` are the true labels (cell ``k`` contains nucleus ``k``);
    ``marker`` is the cytoplasm brightness factor of each cell (index ``k - 1``) and
    ``positive`` whether that cell is marker-positive; ``signal`` is ``image`` before its
    noise (float, ``(3, y, x)``), for rendering the same site out of focus."""

    image: np.ndarray
    nuclei: np.ndarray
    cells: np.ndarray
    marker: np.ndarray
    positive: np.ndarray | None = None
    signal: np.ndarray | None = None

    channels: tuple[str, ...] = ("DNA", "Cytoplasm", "Membrane")

    @property
    def cytoplasm(self) -> np.ndarray:
        """True cytoplasm: cell minus nucleus, with the cell's number."""
        return np.where(self.nuclei > 0, 0, self.cells)


def make_cells(
    size: int | tuple[int, int] = 256,
    *,
    count: int = 30,
    nucleus_radius: tuple[float, float] = (7.0, 10.0),
    cell_margin: tuple[float, float] = (6.0, 12.0),
    marker: float | tuple[float, float] = 1.0,
    positive_fraction: float = 1.0,
    over_nucleus: float = 0.35,
    dome: float = 0.0,
    noise: float = 1.0,
    seed: int = 0,
) -> SyntheticCells:
    """Make one site of ``count`` cells (fewer if they do not fit).

    Parameters
    ----------
    size : int or (int, int)
        Image height and width in pixels.
    count : int
        Cells to place.
    nucleus_radius : (float, float)
        Range of nucleus semi-axes in pixels.
    cell_margin : (float, float)
        Range of how far a cell extends beyond its nucleus, in pixels.
    marker : float or (float, float)
        Cytoplasm brightness factor of positive cells (a range draws one per cell);
        negative cells get a quarter of it.
    positive_fraction : float
        Fraction of cells that are marker-positive.
    over_nucleus : float
        Cytoplasm stain over the nucleus, relative to the rest of the cell.
    dome : float
        How much dimmer a nucleus's DNA stain is at its edge than at its centre (0: flat, as
        in a thin spread nucleus; 0.5: half as bright at the edge, as in a rounded one, which
        keeps one brightness peak per nucleus for declumping).
    noise : float
        Noise scale (0 for none).
    seed : int
        Random seed; the same arguments give the same site.

    Examples
    --------
    >>> site = make_cells(128, count=8)
    >>> site.image.shape, site.image.dtype.name
    ((3, 128, 128), 'uint16')
    >>> bool(((site.cells > 0) >= (site.nuclei > 0)).all())
    True
    """
    from scipy import ndimage as ndi
    from skimage.segmentation import expand_labels, find_boundaries

    rng = np.random.default_rng(seed)
    height, width = (size, size) if isinstance(size, int) else size
    yy, xx = np.mgrid[:height, :width].astype(np.float64)
    nuclei = np.zeros((height, width), dtype=np.int32)
    height_map = np.zeros((height, width))  # 1 at each nucleus's centre, 0 at its edge
    centres: list[tuple[float, float, float]] = []
    spacing = 2 * nucleus_radius[1] + cell_margin[0]
    for _ in range(count * 200):
        if len(centres) == count:
            break
        r = rng.uniform(*nucleus_radius)
        reach = r + cell_margin[1] + 2
        if 2 * reach >= min(height, width):
            continue  # the field is too small for this cell
        cy, cx = rng.uniform(reach, height - reach), rng.uniform(reach, width - reach)
        if any(np.hypot(cy - y, cx - x) < spacing + 0.3 * (r + rr) for y, x, rr in centres):
            continue
        centres.append((cy, cx, r))
        a, b = r, r * rng.uniform(0.75, 1.0)
        angle = rng.uniform(0, np.pi)
        dy, dx = yy - cy, xx - cx
        u = dy * np.cos(angle) + dx * np.sin(angle)
        v = -dy * np.sin(angle) + dx * np.cos(angle)
        q2 = (u / a) ** 2 + (v / b) ** 2
        inside = q2 <= 1.0
        nuclei[inside] = len(centres)
        height_map[inside] = np.sqrt(1.0 - q2[inside])
    n = len(centres)
    # Cells: nuclei grown until they meet, then each trimmed to its own margin.
    grown = expand_labels(nuclei, distance=cell_margin[1])
    margins = np.concatenate([[0.0], rng.uniform(*cell_margin, n)])
    distance = ndi.distance_transform_edt(nuclei == 0)
    cells = np.where(distance <= margins[grown], grown, 0).astype(np.int32)
    cells[nuclei > 0] = nuclei[nuclei > 0]

    low, high = (marker, marker) if np.isscalar(marker) else marker
    factors = rng.uniform(low, high, n)
    positive = rng.random(n) < positive_fraction
    factors = np.where(positive, factors, factors / 4.0)
    per_cell = np.concatenate([[0.0], factors])

    background = 300.0 + 200.0 * (xx / width) + 100.0 * (yy / height)
    texture = ndi.gaussian_filter(rng.normal(0, 1, (height, width)), 1.5)
    profile = 1.0 - dome + dome * height_map
    dna = background + (nuclei > 0) * (9000.0 * profile + 2500.0 * texture)
    dna = ndi.gaussian_filter(dna, 1.0)
    cyto_level = 4000.0 * per_cell[cells] * np.where(nuclei > 0, over_nucleus, 1.0)
    cytoplasm = ndi.gaussian_filter(background + cyto_level, 1.0)
    outline = find_boundaries(cells, mode="inner")
    membrane = ndi.gaussian_filter(background + 6000.0 * outline, 0.8)

    signal = np.stack([dna, cytoplasm, membrane])
    return SyntheticCells(
        image=add_noise(signal, rng, noise),
        nuclei=nuclei,
        cells=cells,
        marker=factors.astype(np.float64),
        positive=positive,
        signal=signal,
    )


def add_noise(signal: np.ndarray, rng: np.random.Generator, noise: float = 1.0) -> np.ndarray:
    """Planes of clean ``signal`` with Poisson-like (signal-dependent Gaussian) noise, as uint16.

    Examples
    --------
    >>> add_noise(np.full((1, 2, 2), 100.0), np.random.default_rng(0), noise=0).tolist()
    [[[100, 100], [100, 100]]]
    """
    planes = []
    for plane in signal:
        if noise > 0:
            plane = plane + rng.normal(0, noise * np.sqrt(np.maximum(plane, 1.0)))
        planes.append(np.clip(plane, 0, 65535).astype(np.uint16))
    return np.stack(planes)
