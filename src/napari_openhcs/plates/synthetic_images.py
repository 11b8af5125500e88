"""Synthetic widefield images of nuclei and cytoplasm rings (NumPy only, deterministic).

One site is a set of elliptical nuclei (some in touching pairs) drawn once at focus; each
channel is rendered from it, then blurred per z-plane (sharp in the middle plane) and shifted
per timepoint (a small drift) in Fourier space, lit unevenly, and given Poisson photon noise
plus Gaussian read noise on a camera offset, as uint16.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

CAMERA_OFFSET = 100.0
READ_NOISE = 4.0
BACKGROUND = 150.0
DRIFT_PER_TIMEPOINT = 1.5  # pixels at 256 px, at most, per axis


@dataclass(frozen=True)
class Nucleus:
    """One drawn nucleus: centre (y, x) at timepoint 1, semi-axes and orientation."""

    y: float
    x: float
    ry: float
    rx: float
    angle: float
    brightness: float

    def radius_towards(self, theta: float) -> float:
        """Distance from the centre to the ellipse edge in direction ``theta`` (radians)."""
        t = theta - self.angle
        return (self.ry * self.rx) / math.hypot(self.ry * math.cos(t), self.rx * math.sin(t))


@dataclass(frozen=True)
class Site:
    """The objects of one site and its drift over time."""

    nuclei: tuple[Nucleus, ...]
    touching_pairs: int
    drift: tuple[tuple[float, float], ...]  # (dy, dx) per timepoint, the first (0, 0)


def make_site(
    rng: np.random.Generator, size: int, timepoints: int, nuclei_range: tuple[int, int] = (18, 30)
) -> Site:
    """Place nuclei on one site: some isolated, some in touching pairs, none at the border."""
    scale = size / 256
    area = scale * scale
    target = max(3, int(round(rng.integers(*nuclei_range) * area)))
    pairs_wanted = max(1, target // 8)
    max_drift = DRIFT_PER_TIMEPOINT * scale * (timepoints - 1)
    margin = 11 * scale + max_drift + 2
    nuclei: list[Nucleus] = []
    pairs = 0

    def new_nucleus(y: float, x: float) -> Nucleus:
        ry, rx = rng.uniform(6, 10, 2) * scale
        return Nucleus(
            float(y),
            float(x),
            float(ry),
            float(rx),
            float(rng.uniform(0, math.pi)),
            float(rng.uniform(0.7, 1.3)),
        )

    def fits(n: Nucleus, ignore: tuple[Nucleus, ...] = ()) -> bool:
        if not (margin <= n.y <= size - margin and margin <= n.x <= size - margin):
            return False
        gap = 4.0 + 2.0 * scale  # isolated nuclei stay clearly apart, even at small sizes
        for m in nuclei:
            if m in ignore:
                continue
            if math.hypot(n.y - m.y, n.x - m.x) < max(n.ry, n.rx) + max(m.ry, m.rx) + gap:
                return False
        return True

    attempts = 0
    while len(nuclei) < target and attempts < 400:
        attempts += 1
        a = new_nucleus(*rng.uniform(margin, size - margin, 2))
        if not fits(a):
            continue
        if pairs < pairs_wanted and len(nuclei) + 2 <= target:
            theta = float(rng.uniform(0, 2 * math.pi))
            b = new_nucleus(0, 0)
            # centres at the sum of the radii along the joining line, less 1 px: the two
            # ellipses touch over a short boundary, as dividing or crowded nuclei do.
            d = a.radius_towards(theta) + b.radius_towards(theta + math.pi) - 1.0 * scale
            b = Nucleus(
                a.y + d * math.sin(theta),
                a.x + d * math.cos(theta),
                b.ry,
                b.rx,
                b.angle,
                b.brightness,
            )
            if fits(b):
                nuclei += [a, b]
                pairs += 1
            continue
        nuclei.append(a)
    drift = [(0.0, 0.0)]
    for _ in range(timepoints - 1):
        dy, dx = rng.uniform(-DRIFT_PER_TIMEPOINT, DRIFT_PER_TIMEPOINT, 2) * scale
        drift.append((drift[-1][0] + float(dy), drift[-1][1] + float(dx)))
    return Site(tuple(nuclei), pairs, tuple(drift))


def _ellipse_distance(n: Nucleus, size: int, reach: float):
    """Normalised elliptical distance (1 on the edge) over the nucleus's bounding box."""
    r = max(n.ry, n.rx) * reach + 2
    y0, y1 = max(0, int(n.y - r)), min(size, int(n.y + r) + 2)
    x0, x1 = max(0, int(n.x - r)), min(size, int(n.x + r) + 2)
    yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    dy, dx = yy - n.y, xx - n.x
    c, s = math.cos(n.angle), math.sin(n.angle)
    u, v = dy * c + dx * s, -dy * s + dx * c
    q = np.sqrt((u / n.ry) ** 2 + (v / n.rx) ** 2)
    return (slice(y0, y1), slice(x0, x1)), q


def render_channel(site: Site, channel: int, size: int) -> np.ndarray:
    """Clean in-focus signal of one channel: nuclei (channel 1) or rings (channels 2+)."""
    img = np.zeros((size, size), np.float32)
    mean_r = 8.0 * size / 256
    for n in site.nuclei:
        if channel == 1:
            box, q = _ellipse_distance(n, size, 1.3)
            # a soft edge ~1 px wide; np.maximum keeps a dim neck between touching nuclei
            # (the exponent is capped: far from the edge the value is 0 either way)
            value = (2000 * n.brightness) / (1 + np.exp(np.minimum((q - 1) * mean_r / 0.8, 80)))
            np.maximum(img[box], value, out=img[box])
        else:
            centre = 1.5 + 0.25 * (channel - 2)
            box, q = _ellipse_distance(n, size, centre + 1.0)
            img[box] += (800 * n.brightness / channel) * np.exp(-(((q - centre) / 0.3) ** 2))
    return img


def _illumination(size: int) -> np.ndarray:
    """Widefield vignetting: bright off-centre, about 35% dimmer in the corners."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    r2 = (yy - 0.45) ** 2 + (xx - 0.55) ** 2
    return (1.0 - 0.7 * r2 - 0.08 * yy).astype(np.float32)


def render_stack(
    rng: np.random.Generator,
    site: Site,
    channel: int,
    size: int,
    z: int,
    timepoints: int,
) -> np.ndarray:
    """The ``(timepoints, z, size, size)`` uint16 images of one site and channel."""
    clean = render_channel(site, channel, size)
    spectrum = np.fft.rfft2(clean)
    fy = np.fft.fftfreq(size)[:, None]
    fx = np.fft.rfftfreq(size)[None, :]
    f2 = fy * fy + fx * fx
    focus = (z - 1) // 2
    illum = _illumination(size)
    out = np.empty((timepoints, z, size, size), np.uint16)
    for t in range(timepoints):
        dy, dx = site.drift[t]
        shift = np.exp(-2j * np.pi * (fy * dy + fx * dx))
        for zi in range(z):
            sigma = 1.6 * abs(zi - focus) * size / 256
            transfer = shift * np.exp(-2 * np.pi**2 * sigma**2 * f2)
            signal = np.fft.irfft2(spectrum * transfer, s=(size, size)).astype(np.float32)
            photons = np.clip((signal + BACKGROUND) * illum, 0, None)
            noisy = rng.poisson(photons).astype(np.float32)
            noisy += CAMERA_OFFSET + rng.normal(0, READ_NOISE, noisy.shape).astype(np.float32)
            out[t, zi] = np.clip(np.rint(noisy), 0, 65535)
    return out
