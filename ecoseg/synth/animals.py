"""The animals: how each one moves through the clip and what its body looks like.

:func:`swim` simulates a fish's path (smooth random yaw and pitch, cruising speed, steering back
towards the view), :func:`creep` an invertebrate's slow drift; :func:`signed_distance` gives an
animal's shape in a frame as a signed distance field and :func:`fish_colour` /
:func:`invertebrate_colour` its pattern. A pixel's label is decided by +, -, *, / and square
roots of float64 numbers only (see :mod:`ecoseg.synth`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ecoseg.synth.species import (
    BODY_HALF,
    FISH_CLASSES,
    INVERTEBRATE_CLASSES,
    MIN_SCALE,
    TAIL_BASE,
    TAIL_BEAT,
    TAIL_LEN,
)

__all__ = ["Organism"]


@dataclass(frozen=True, eq=False)
class Organism:
    """One animal and its path through the clip.

    Positions are world pixels of the body centre for every frame. Fish carry the screen
    orientation of their body axis (``cos``, ``sin``), its foreshortening ``scale`` (1 seen
    side-on, down to 0.35 seen head-on), ``flip`` (True when swimming leftwards, so the back
    stays up) and the tail stroke (``beat_cos``, ``beat_sin``). Invertebrates use ``cos`` and
    ``sin`` as their slow rotation.
    """

    id: int
    cls: str
    kind: str
    length: float  # px: total length (fish) or diameter (invertebrates)
    aspect: float
    depth: float  # distance from the camera, 0..1: larger is farther and drawn first
    palette: np.ndarray = field(repr=False)  # (3, 3) float32 body, accent, extra colours
    notch: float = field(repr=False)
    x: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    cos: np.ndarray = field(repr=False)
    sin: np.ndarray = field(repr=False)
    scale: np.ndarray = field(repr=False)
    flip: np.ndarray = field(repr=False)
    beat_cos: np.ndarray = field(repr=False)
    beat_sin: np.ndarray = field(repr=False)
    speed: np.ndarray = field(repr=False)  # (frames,) mean px/s on screen into frame i
    spines: np.ndarray | None = field(default=None, repr=False)  # urchin: (K, 3) cos, sin, len


def fish_classes(rng, n: int) -> list[str]:
    names = list(FISH_CLASSES)
    first = [names[i] for i in rng.permutation(len(names))]
    weights = np.array([FISH_CLASSES[c].weight for c in names])
    rest = rng.choice(len(names), size=max(0, n - len(names)), p=weights / weights.sum())
    return (first + [names[i] for i in rest])[:n]


def swim(rng, oid, cls, depth, frames, fps, width, height, cam, s, mm_per_px, k) -> Organism:
    """Simulate one fish: smooth random yaw and pitch, cruising speed, steering back when far."""
    sp = FISH_CLASSES[cls]
    length = max(6.0, rng.uniform(*sp.length_mm) / mm_per_px)
    aspect = rng.uniform(*sp.aspect)
    v0 = rng.uniform(*sp.speed_bl) * length  # px/s
    palette = np.array(sp.palettes[rng.integers(len(sp.palettes))], np.float32)
    palette *= rng.uniform(0.9, 1.1, size=(3, 1)).astype(np.float32)
    dt = 1.0 / fps
    cx0, cy0 = cam[0]
    # every other fish starts in view; the rest swim in from a side
    if k % 2 == 0 or rng.random() < 0.25:
        x = cx0 + rng.uniform(0.05, 0.95) * width
        y = cy0 + rng.uniform(0.15, 0.85) * height
        psi = (0.0 if rng.random() < 0.5 else math.pi) + rng.normal(0, 0.5)
    else:
        left = rng.random() < 0.5
        off = 0.6 * length + rng.uniform(0, 0.1) * width
        x = cx0 - off if left else cx0 + width + off
        y = cy0 + rng.uniform(0.2, 0.8) * height
        psi = (0.0 if left else math.pi) + rng.normal(0, 0.25)
    phi = rng.normal(0, 0.1)
    speed, omega, phase = v0, 0.0, rng.uniform(0, 2 * np.pi)
    leash = 0.7 * length + rng.uniform(0.02, 0.25) * width  # how far out before turning back
    tau_w, sigma_w = 1.0, rng.uniform(0.5, 1.0)  # turning: rad/s, random but smooth
    sub = max(1, math.ceil(30.0 / fps))  # integrate at >= 30 Hz whatever the frame rate
    h = dt / sub
    noise = rng.standard_normal((frames * sub, 3))
    out = np.empty((9, frames))
    travelled = speed * math.hypot(math.cos(psi) * math.cos(phi), math.sin(phi)) * dt
    for i in range(frames):
        dir_x = math.cos(psi) * math.cos(phi)
        dir_y = -math.sin(phi)
        norm = math.hypot(dir_x, dir_y)
        if norm > 1e-9:
            ca, sa = dir_x / norm, dir_y / norm
        else:
            ca, sa = (1.0 if math.cos(psi) >= 0 else -1.0), 0.0
        beat = TAIL_BEAT * math.sin(phase)
        out[:, i] = (
            x,
            y,
            ca,
            sa,
            max(norm, MIN_SCALE),
            math.cos(psi) < 0,
            math.cos(beat),
            math.sin(beat),
            travelled / dt,  # mean screen speed of the step into this frame
        )
        travelled = 0.0
        for j in range(i * sub, (i + 1) * sub):
            # turn rate: Ornstein-Uhlenbeck, plus steering back towards the view when far out
            omega += -omega * h / tau_w + sigma_w * math.sqrt(2 * h / tau_w) * noise[j, 0]
            rel_x = x - (cam[i, 0] + width / 2)
            steer = 0.0
            if abs(rel_x) > width / 2 + leash:
                want = math.pi if rel_x > 0 else 0.0
                diff = (want - psi + math.pi) % (2 * math.pi) - math.pi
                steer = max(-2.0, min(2.0, 2.5 * diff))
            psi += (omega + steer) * h
            rel_y = (y - cam[i, 1]) / height
            target = 0.0
            if rel_y < 0.12:
                target = -0.4
            elif rel_y > 0.88:
                target = 0.4
            phi += (target - phi) * h / 0.8 + 0.25 * math.sqrt(h) * noise[j, 1]
            phi = max(-0.6, min(0.6, phi))
            speed += (v0 - speed) * h + 0.2 * v0 * math.sqrt(2 * h) * noise[j, 2]
            speed = max(0.3 * v0, min(1.8 * v0, speed))
            vx = speed * math.cos(psi) * math.cos(phi)
            vy = -speed * math.sin(phi)
            x += vx * h
            y += vy * h
            travelled += math.hypot(vx, vy) * h
            phase += 2 * math.pi * (1.2 + 1.5 * speed / length) * h
    return Organism(
        id=oid,
        cls=cls,
        kind="fish",
        length=float(length),
        aspect=float(aspect),
        depth=depth,
        palette=palette,
        notch=sp.notch,
        x=out[0],
        y=out[1],
        cos=out[2],
        sin=out[3],
        scale=out[4],
        flip=out[5].astype(bool),
        beat_cos=out[6],
        beat_sin=out[7],
        speed=out[8],
    )


def creep(rng, oid, cls, depth, frames, fps, width, height, cam, mm_per_px, rng_place):
    """An invertebrate: a nearly static position with a slow smooth drift and rotation."""
    sp = INVERTEBRATE_CLASSES[cls]
    diameter = max(6.0, rng.uniform(*sp.length_mm) / mm_per_px)
    palette = np.array(sp.palettes[rng.integers(len(sp.palettes))], np.float32)
    palette *= rng.uniform(0.9, 1.1, size=(3, 1)).astype(np.float32)
    # spread along what the camera sees, so a transect meets them one after another
    x_lo, x_hi = cam[0, 0] + 0.12 * width, cam[-1, 0] + 0.88 * width
    x0 = rng_place.uniform(x_lo, x_hi)
    y0 = cam[0, 1] + rng_place.uniform(0.5, 0.88) * height
    t = np.arange(frames) / fps
    v = rng.uniform(*sp.speed_bl) * diameter  # px/s
    heading = rng.uniform(0, 2 * np.pi) + 0.3 * np.sin(0.2 * t + rng.uniform(0, 6))
    step = v / fps
    x = x0 + np.concatenate([[0.0], np.cumsum(step * np.cos(heading[:-1]))])
    y = y0 + np.concatenate([[0.0], np.cumsum(step * np.sin(heading[:-1]))])
    rot = rng.uniform(0, 2 * np.pi) + rng.uniform(-0.05, 0.05) * t
    spines = None
    if cls == "sea_urchin":
        n = int(rng.integers(22, 30))
        a = np.sort(rng.uniform(0, 2 * np.pi, n))
        spines = np.stack([np.cos(a), np.sin(a), rng.uniform(0.72, 1.0, n)], axis=1)
    speed = np.full(frames, v)
    return Organism(
        id=oid,
        cls=cls,
        kind="invertebrate",
        length=float(diameter),
        aspect=1.0,
        depth=depth,
        palette=palette,
        notch=0.0,
        x=x,
        y=y,
        cos=np.cos(rot),
        sin=np.sin(rot),
        scale=np.ones(frames),
        flip=np.zeros(frames, bool),
        beat_cos=np.ones(frames),
        beat_sin=np.zeros(frames),
        speed=speed,
        spines=spines,
    )


# --------------------------------------------------------------------------- shapes
def _fish_field(o: Organism, i: int, dx, dy):
    """Signed distance (negative inside) of a fish and its body coordinates.

    ``dx``, ``dy`` are pixel offsets from the fish's centre. Only +, -, *, / and sqrt are used.
    """
    ca, sa = o.cos[i], o.sin[i]
    u = (dx * ca + dy * sa) / o.scale[i]
    v = dy * ca - dx * sa
    if not o.flip[i]:
        v = -v  # v points to the back (up on screen) whichever way the fish swims
    L = o.length
    a, b = BODY_HALF * L, 0.5 * o.aspect * L
    ua, vb = u / a, v / b
    q2 = ua * ua + vb * vb
    gu, gv = u / (a * a), v / (b * b)
    body = (q2 - 1) / np.maximum(2 * np.sqrt(gu * gu + gv * gv), 1e-9)
    du = u - TAIL_BASE * L
    bc, bs = o.beat_cos[i], o.beat_sin[i]
    ru = du * bc + v * bs
    rv = v * bc - du * bs
    wt = -ru  # distance behind the hinge along the tail
    tl = TAIL_LEN * L
    half = b * (0.12 + 0.78 * wt / tl)
    arv = np.abs(rv)
    end = tl - o.notch * L * (1 - np.minimum(arv / (0.9 * b), 1))
    tail = np.maximum(np.maximum(-wt, wt - end), arv - half)
    return np.minimum(body, tail), ua, vb, tail < body


def _inv_field(o: Organism, i: int, dx, dy):
    """Signed distance of an invertebrate (sea star: 5 arms; sea urchin: disc and spines)."""
    c, sn = o.cos[i], o.sin[i]
    x = dx * c + dy * sn
    y = dy * c - dx * sn
    r2 = x * x + y * y
    rho = np.sqrt(r2)
    R = 0.5 * o.length
    if o.cls == "sea_star":
        # cos(5 theta) = Re((x + iy)^5) / rho^5, without trigonometry
        x2, y2 = x * x, y * y
        re5 = x * (x2 * x2 - 10 * x2 * y2 + 5 * y2 * y2)
        r5 = np.maximum(r2 * r2 * rho, 1e-12)
        arm2 = np.clip(0.5 * (1 + re5 / r5), 0, 1)  # cos^2(5 theta / 2)
        edge = R * (0.3 + 0.7 * arm2 * np.sqrt(arm2))
        return 0.6 * (rho - edge), rho / R, arm2, None
    core = rho - 0.5 * R
    sp = o.spines  # (K, 3): direction cos, sin and length of every spine
    dc, ds, ln = sp[:, 0, None, None], sp[:, 1, None, None], R * sp[:, 2, None, None]
    along = x * dc + y * ds
    across = np.abs(x * ds - y * dc)
    width = max(0.55, 0.05 * R) * (1 - along / ln) + 0.25
    spine = np.maximum(np.maximum(across - width, along - ln), -along)
    sdf = np.minimum(core, spine.min(axis=0))
    return sdf, rho / R, core < 0, None


def extent(o: Organism, i: int) -> tuple[float, float, float, float]:
    """A box (x0, x1, y0, y1), relative to the centre, that contains the whole animal."""
    if o.kind != "fish":
        r = 0.5 * o.length + 1.5
        return -r, r, -r, r
    L = o.length
    b = 0.5 * o.aspect * L
    sb = math.sin(TAIL_BEAT)
    u0 = (TAIL_BASE - TAIL_LEN) * L - 0.9 * b * sb  # tail tip, stroke included
    u1 = BODY_HALF * L
    vm = max(b, TAIL_LEN * L * sb + 0.9 * b)
    ca, sa, sc = o.cos[i], o.sin[i], o.scale[i]
    # screen x = u * scale * cos - v' * sin, y = u * scale * sin + v' * cos (v' = +-v)
    hx = abs(vm * sa)
    hy = abs(vm * ca)
    xs = (u0 * sc * ca, u1 * sc * ca)
    ys = (u0 * sc * sa, u1 * sc * sa)
    m = 1.5
    return min(xs) - hx - m, max(xs) + hx + m, min(ys) - hy - m, max(ys) + hy + m


def signed_distance(o: Organism, i: int, dx, dy):
    return _fish_field(o, i, dx, dy) if o.kind == "fish" else _inv_field(o, i, dx, dy)


def fish_colour(o: Organism, ua, vb, in_tail) -> np.ndarray:
    body, acc, ext = o.palette
    cls = o.cls
    col = np.broadcast_to(body, ua.shape + (3,)).copy()
    if cls == "parrotfish":
        net = np.abs(np.sin(ua * 11.0 + vb * 3.0)) * np.abs(np.sin(vb * 4.5 - ua * 3.0))
        mix = (0.35 * (net < 0.18))[..., None]
        col += mix * (acc - col)
        head = (ua > 0.5) & (np.abs(vb + 0.15 - 0.5 * (ua - 0.5)) < 0.12)
        col[head] = acc
        col[in_tail & (np.abs(vb) > 0.55)] = ext
    elif cls == "surgeonfish":
        col[in_tail] = acc
        col[(ua < -0.78) & (np.abs(vb) < 0.3) & ~in_tail] = acc
        col[(np.abs(vb - 0.3 - 0.3 * ua) < 0.16) & (ua > -0.75) & (ua < 0.62) & ~in_tail] = ext
    elif cls == "wrasse":
        stripe = np.abs(vb - 0.05) < 0.2
        col[stripe] = acc
        col[(ua > 0.55) & (np.abs(vb - 0.5) < 0.1)] = ext
    elif cls == "damselfish":
        bars = (np.abs(ua - 0.6) < 0.13) | (np.abs(ua - 0.02) < 0.16) | (ua < -0.62)
        col[bars | in_tail] = acc
    shade = 1.08 - 0.25 * vb - 0.12 * np.maximum(ua * ua + vb * vb - 0.6, 0)
    col *= shade[..., None]
    a, b = BODY_HALF * o.length, 0.5 * o.aspect * o.length
    eye = (a * (ua - 0.7)) ** 2 + (b * (vb - 0.2)) ** 2 < max(1.0, 0.045 * o.length) ** 2
    col[eye & ~in_tail] = (15, 15, 20)
    return col


def invertebrate_colour(o: Organism, rn, extra) -> np.ndarray:
    body, acc, ext = o.palette
    if o.cls == "sea_star":
        arm = extra
        col = body * (0.75 + 0.3 * arm + 0.15 * (1 - rn))[..., None]
        dots = (np.sin(rn * 19.0) * np.sin(arm * 13.0) > 0.55)[..., None]
        col = np.where(dots, acc, col)
        return col.astype(np.float32)
    core = extra
    col = np.where(
        core[..., None], body * (1.15 - 0.5 * rn)[..., None], acc * (0.7 + 0.8 * rn)[..., None]
    )
    return col.astype(np.float32)
