"""The painted reef: a world texture of sand, rock, algae and coral colonies, caustics and water.

The reef is static in the world and periodic in x, so a long transect wraps around;
:func:`paint_reef` draws it once per scene, :func:`caustic_tile` the drifting webs of light,
:func:`water` the blue-green attenuation and veiling light.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage

__all__: list[str] = []


def _noise(rng, shape, sigma: float, lo: float = 0.0) -> np.ndarray:
    """Periodic smooth noise (zero mean, unit std): white noise low-passed at ``sigma`` px,
    high-passed at ``lo`` px (band-pass when ``lo > 0``)."""
    h, w = shape
    spec = np.fft.rfft2(rng.standard_normal(shape))
    k2 = np.fft.fftfreq(h)[:, None] ** 2 + np.fft.rfftfreq(w)[None, :] ** 2
    filt = np.exp(-2 * np.pi**2 * sigma**2 * k2)
    if lo > 0:
        filt -= np.exp(-2 * np.pi**2 * lo**2 * k2)
    out = np.fft.irfft2(spec * filt, s=shape)
    out -= out.mean()
    out /= out.std() + 1e-12
    return out.astype(np.float32)


def _smoothstep(a, b, x):
    t = np.clip((x - a) / (b - a), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def paint_reef(rng, h, w, s) -> np.ndarray:
    """World texture (h, w, 3) uint8, periodic in x: sand, rock, algae and coral colonies."""
    shape = (h, w)
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    large = _noise(rng, shape, 60 * s)
    mid = _noise(rng, shape, 12 * s)
    fine = _noise(rng, shape, 1.2 * s)
    warp = _noise(rng, shape, 25 * s)
    algae = _noise(rng, shape, 8 * s)

    # sand with ripples (periodic in x: an integer number of ripples across the world)
    n_rip = max(1, round(w / (16 * s)))
    ripple = np.sin(2 * np.pi * n_rip * xx / w + 0.35 * yy / s + 2.0 * warp)
    sand_col = np.array([200, 186, 150], np.float32)
    sand = sand_col * (0.9 + 0.05 * mid + 0.05 * fine + 0.05 * ripple)[..., None]

    # rock: patches of rubble and pavement, covered with turf and coralline algae
    rockiness = _smoothstep(0.35, 0.95, large + 0.35 * mid)
    rock = np.array([118, 108, 92], np.float32) * (0.8 + 0.1 * mid + 0.12 * fine)[..., None]
    turf = _smoothstep(0.2, 0.9, algae)[..., None]
    rock = rock * (1 - 0.6 * turf) + np.array([92, 102, 58], np.float32) * 0.6 * turf
    pink = _smoothstep(1.4, 1.9, algae * -1.0 + 0.4 * mid)[..., None]
    rock = rock * (1 - pink) + np.array([190, 120, 140], np.float32) * pink
    rh = rockiness + 0.15 * mid
    gy, gx = np.gradient(rh)
    rshade = np.clip(1.0 - 5.0 * (gy + 0.5 * gx) / s, 0.6, 1.3)
    img = sand * (1 - rockiness[..., None]) + (rock * rshade[..., None]) * rockiness[..., None]

    # coral colonies, drawn back (top) to front (bottom), each casting a soft shadow
    area = h * w / (s * s)
    n_col = max(2, int(rng.poisson(area / 11000)))
    cols = []
    for _ in range(n_col):
        cols.append((rng.uniform(0, h), rng.uniform(0, w)))
    cols.sort()
    meander = _noise(rng, shape, 1.6 * s, 4.0 * s)
    cover = np.zeros(shape, np.float32)
    patches = []
    for cy, cx in cols:
        kind = rng.choice(["boulder", "brain", "branching", "plate"], p=[0.25, 0.22, 0.33, 0.2])
        r = rng.uniform(16, 46) * s
        patches.append(_colony(rng, kind, cy, cx, r, h, w, s, fine, meander))
    for ys, xs, alpha, _col in patches:
        cover[np.ix_(ys, xs)] = np.maximum(cover[np.ix_(ys, xs)], alpha)
    shadow = ndimage.gaussian_filter(np.roll(cover, int(round(4 * s)), axis=0), 5 * s, mode="wrap")
    img *= (1 - 0.45 * np.clip(shadow, 0, 1))[..., None]
    for ys, xs, alpha, col in patches:
        region = img[np.ix_(ys, xs)]
        img[np.ix_(ys, xs)] = region + alpha[..., None] * (col - region)
    return np.clip(img, 0, 255).astype(np.uint8)


def _colony(rng, kind, cy, cx, r, h, w, s, fine, meander):
    """One coral colony: (rows, cols, alpha, colour) for a patch of the world (x wraps)."""
    pad = int(math.ceil(1.3 * r)) + 2
    ys = np.arange(max(0, int(cy) - pad), min(h, int(cy) + pad + 1))
    xs_raw = np.arange(int(cx) - pad, int(cx) + pad + 1)
    xs = xs_raw % w
    dy = (ys[:, None] - cy).astype(np.float32)
    dx = (xs_raw[None, :] - cx).astype(np.float32)
    if kind == "plate":
        dy = dy / 0.55  # seen obliquely: a flattened table
    rho = np.sqrt(dx * dx + dy * dy)
    theta = np.arctan2(dy, dx)
    wob = np.ones_like(theta)
    for k in (2, 3, 5):
        wob += rng.uniform(0.02, 0.09) * np.sin(k * theta + rng.uniform(0, 2 * np.pi))
    edge = r * wob
    f = fine[np.ix_(ys, xs)]
    m = meander[np.ix_(ys, xs)]
    if kind == "branching":
        n = int(20 + 0.09 * (r / s) ** 2)
        rr = r * np.sqrt(rng.uniform(0, 1, n))
        aa = rng.uniform(0, 2 * np.pi, n)
        tx, ty = rr * np.cos(aa), rr * np.sin(aa)
        tr = rng.uniform(2.2, 4.2, n) * s
        height = np.zeros(dx.shape, np.float32)
        for i in range(n):
            d2 = ((dx - tx[i]) ** 2 + (dy - ty[i]) ** 2) / tr[i] ** 2
            tip = np.sqrt(np.clip(1 - d2, 0, 1)) * (0.55 + 0.45 * (1 - rr[i] / r))
            height = np.maximum(height, tip)
        base = np.array(
            [(150, 100, 140), (195, 160, 115), (115, 125, 175), (170, 120, 90)][rng.integers(4)],
            np.float32,
        )
        gy, gx = np.gradient(height)
        shade = np.clip(0.8 + 0.9 * (-gy - 0.4 * gx) / max(s, 0.5) + 0.35 * height, 0.35, 1.5)
        col = base * shade[..., None] * (0.9 + 0.1 * f)[..., None]
        inside = _smoothstep(0.0, 1.0, edge + 2 * s - rho)
        alpha = np.where(height > 0, np.clip(0.4 + height * 2, 0, 1), 0.55 * inside)
        col[height <= 0] = 40.0  # dark gaps between the branches
        return ys, xs, alpha.astype(np.float32), col.astype(np.float32)
    dome = np.sqrt(np.clip(1 - (rho / edge) ** 2, 0, 1))
    alpha = _smoothstep(0.0, 1.5, edge - rho).astype(np.float32)
    if kind == "plate":
        height = 0.6 * np.clip((edge - rho) / (0.15 * r), 0, 1)
        base = np.array(
            [(125, 150, 125), (165, 145, 105), (140, 120, 150)][rng.integers(3)], np.float32
        )
        tex = 0.92 + 0.06 * np.sin(theta * rng.integers(40, 70)) + 0.05 * np.sin(rho / s * 0.9)
    elif kind == "brain":
        height = dome
        base = np.array(
            [(155, 160, 95), (175, 135, 95), (130, 150, 110)][rng.integers(3)], np.float32
        )
        tex = 0.62 + 0.45 * _smoothstep(0.05, 0.6, np.abs(m))
    else:  # boulder (massive)
        height = dome
        base = np.array(
            [(175, 150, 90), (150, 125, 100), (120, 135, 95)][rng.integers(3)], np.float32
        )
        tex = 0.85 + 0.08 * f + 0.06 * np.sin(dx / s * 1.3) * np.sin(dy / s * 1.3)
    gy, gx = np.gradient(height * r)
    shade = np.clip(0.95 - 0.5 * (gy + 0.4 * gx) / max(s, 0.5) * 0.5, 0.45, 1.35)
    col = base * (tex * shade)[..., None]
    return ys, xs, alpha, col.astype(np.float32)


def caustic_tile(rng, h, w, s) -> np.ndarray:
    """A periodic (h, w) web of bright lines, tiled 2 x 2 so that any window is a slice."""
    n = _noise(rng, (h, w), 9 * s, 30 * s)
    web = np.exp(-((n / 0.2) ** 2)).astype(np.float32)
    return np.tile(web, (2, 2))


def water(h, w) -> tuple[np.ndarray, np.ndarray]:
    """Per-pixel transmission and veiling light: blue-green cast, contrast falling with the
    distance (the top of the frame is farther), and a vignette."""
    yn = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None, None]
    xn = np.linspace(-1.0, 1.0, w, dtype=np.float32)[None, :, None]
    dist = 1.15 - 0.6 * yn  # relative path length through the water
    k = np.array([1.35, 0.42, 0.5], np.float32)  # red is absorbed first
    trans = np.exp(-k * dist)
    water = np.array([18, 112, 128], np.float32) * (1.08 - 0.25 * yn)
    veil = water * (1 - trans)
    yc = np.linspace(-1.0, 1.0, h, dtype=np.float32)[:, None, None]
    vignette = 1.0 - 0.32 * (xn * xn * 0.8 + yc * yc * 0.6)
    trans = (trans * vignette).astype(np.float32)
    veil = (veil * vignette).astype(np.float32)
    return np.broadcast_to(trans, (h, w, 3)).copy(), np.broadcast_to(veil, (h, w, 3)).copy()
