"""Test data for the own functions: small deterministic synthetic nuclei."""

from __future__ import annotations

import numpy as np
import pytest


def make_nuclei(
    size: int = 192,
    *,
    singles: int = 24,
    pairs: int = 6,
    noise: float = 60.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """A uint16 plane of disk-shaped nuclei and their ``(k, 2)`` centres ``(y, x)``.

    Nuclei have radii of 6 to 9 px and varied brightness; ``pairs`` pairs of nuclei touch
    (centres closer than the sum of their radii, as dividing or crowded nuclei do). The
    background rises from left to right with a broad bright patch (uneven illumination),
    and Gaussian noise of standard deviation ``noise`` covers everything.
    """
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size].astype(np.float64)
    placed: list[tuple[float, float, float]] = []

    def fits(cy: float, cx: float, r: float) -> bool:
        return all(np.hypot(cy - y, cx - x) > r + rr + 4 for y, x, rr in placed)

    def place(group: list[tuple[float, float, float]]) -> bool:
        if all(
            r + 2 <= cy <= size - r - 3 and r + 2 <= cx <= size - r - 3 and fits(cy, cx, r)
            for cy, cx, r in group
        ):
            placed.extend(group)
            return True
        return False

    made_pairs = made_singles = 0
    for _ in range(5000):
        if made_pairs == pairs:
            break
        r1, r2 = rng.uniform(6, 9, 2)
        cy, cx = rng.uniform(12, size - 12, 2)
        angle = rng.uniform(0, np.pi)
        gap = 0.85 * (r1 + r2)  # overlapping edges: a neck, not a gap
        second = (cy + gap * np.sin(angle), cx + gap * np.cos(angle), r2)
        made_pairs += place([(cy, cx, r1), second])
    for _ in range(5000):
        if made_singles == singles:
            break
        r = rng.uniform(6, 9)
        cy, cx = rng.uniform(10, size - 10, 2)
        made_singles += place([(cy, cx, r)])
    assert made_pairs == pairs and made_singles == singles, "test image too small to place"

    signal = np.zeros((size, size))
    for cy, cx, r in placed:
        # A soft edge (about 1 px) and a brightness that varies between nuclei.
        dist = np.hypot(yy - cy, xx - cx)
        disk = np.clip(r + 0.5 - dist, 0.0, 1.0)
        signal = np.maximum(signal, disk * rng.uniform(900, 1600))
    patch = np.exp(-((yy - size * 0.3) ** 2 + (xx - size * 0.7) ** 2) / (2 * (size * 0.25) ** 2))
    background = 300 + 400 * xx / size + 300 * patch
    image = signal + background + rng.normal(0, noise, (size, size))
    centres = np.array([(cy, cx) for cy, cx, _ in placed])
    return np.clip(image, 0, 65535).astype(np.uint16), centres


@pytest.fixture
def nuclei():
    """``make_nuclei`` as a fixture: call it with the keyword arguments you need."""
    return make_nuclei
