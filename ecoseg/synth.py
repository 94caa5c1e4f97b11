"""Procedural reef footage with exact ground truth, for tests, the demo and benchmarks.

A :class:`Scene` is made from a seed by :func:`make_scene`: a textured reef that is static in
the world (sand, rock, algae and coral colonies of four growth forms), fish of four classes
that swim with smooth random headings, turn, occlude one another and enter or leave the frame,
slow invertebrates on the bottom, and a camera that is static, pans along a transect or shakes.
:func:`render` draws any frame of it, with blue-green depth attenuation, flickering caustics,
drifting marine snow and sensor noise, together with its exact instance labels: a pixel carries
an organism's id exactly where that organism was painted and not covered by a nearer one, and
ids never change during a clip (also when an animal leaves and comes back).

:func:`synth` writes the clip as H.264 ``video.mp4`` and the truth as a mask store
``truth.zarr`` (the engines' layout) with the calibration used. :func:`synth_frames` renders in
memory, without files.

Everything is a pure function of the seed and the parameters (a :class:`numpy.random.Generator`
per part of the scene, no global state), so the same call gives the same frames and labels. A
pixel's label is decided by +, -, *, / and square roots of float64 numbers only, which IEEE 754
rounds identically everywhere; the animals' paths use sines and cosines, which another CPU or
C library may round differently in the last bit, moving a label boundary only with negligible
probability. The images may differ more across machines (texture noise, colours), and the H.264
bytes depend on the encoder version.

Examples
--------
>>> scene = make_scene(seed=1, frames=10, size=(96, 64))
>>> image, labels = render(scene, 0)
>>> image.shape, image.dtype, labels.dtype
((64, 96, 3), dtype('uint8'), dtype('uint32'))
"""

from __future__ import annotations

import math
import os
import sys
import types
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage

from ecoseg.errors import ConfigError

__all__ = [
    "CAMERAS",
    "FISH_CLASSES",
    "INVERTEBRATE_CLASSES",
    "Organism",
    "RenderLayers",
    "Scene",
    "SynthFrame",
    "SynthResult",
    "make_scene",
    "render",
    "render_layers",
    "synth",
    "synth_frames",
]

CAMERAS = ("static", "pan", "shake")
REFERENCE_WIDTH = 640
MM_PER_PX_AT_REFERENCE = 2.5  # a 640 px wide frame covers 1.6 m of reef
GENERATOR = "ecoseg.synth"
GENERATOR_VERSION = 1  # bump when the same parameters would render different frames


@dataclass(frozen=True)
class _Species:
    kind: str  # "fish" or "invertebrate"
    length_mm: tuple[float, float]  # total length (fish) or diameter (invertebrates)
    aspect: tuple[float, float]  # body height / length (fish)
    speed_bl: tuple[float, float]  # cruising speed, body lengths per second
    palettes: tuple  # choices of (body, accent, extra) RGB colours, 0-255
    notch: float  # depth of the tail fork, fraction of the length
    weight: float  # how common, when classes are drawn at random


FISH_CLASSES: dict[str, _Species] = {
    "parrotfish": _Species(
        "fish",
        (240, 330),
        (0.36, 0.41),
        (0.6, 1.0),
        (
            ((45, 165, 135), (235, 125, 165), (250, 200, 90)),
            ((70, 140, 200), (240, 150, 170), (230, 210, 120)),
        ),
        0.0,
        0.15,
    ),
    "surgeonfish": _Species(
        "fish",
        (170, 240),
        (0.50, 0.56),
        (0.8, 1.3),
        (
            ((40, 55, 150), (245, 210, 40), (15, 15, 30)),
            ((95, 80, 105), (250, 235, 210), (20, 20, 25)),
        ),
        0.11,
        0.2,
    ),
    "wrasse": _Species(
        "fish",
        (110, 175),
        (0.24, 0.29),
        (1.2, 2.0),
        (
            ((200, 205, 60), (25, 35, 80), (60, 160, 230)),
            ((90, 185, 215), (20, 30, 55), (240, 220, 90)),
        ),
        0.0,
        0.3,
    ),
    "damselfish": _Species(
        "fish",
        (60, 90),
        (0.55, 0.62),
        (1.2, 2.0),
        (
            ((236, 236, 230), (18, 18, 22), (60, 60, 70)),
            ((240, 240, 236), (25, 25, 30), (80, 80, 90)),
        ),
        0.12,
        0.35,
    ),
}
INVERTEBRATE_CLASSES: dict[str, _Species] = {
    "sea_urchin": _Species(
        "invertebrate",
        (80, 110),
        (1.0, 1.0),
        (0.004, 0.012),
        (((55, 30, 62), (25, 20, 35), (125, 90, 140)),),
        0.0,
        0.5,
    ),
    "sea_star": _Species(
        "invertebrate",
        (110, 160),
        (1.0, 1.0),
        (0.01, 0.025),
        (
            ((215, 85, 40), (245, 160, 90), (150, 45, 25)),
            ((60, 90, 190), (150, 180, 240), (30, 45, 110)),
        ),
        0.0,
        0.5,
    ),
}

# fish geometry, in units of the total length L: the body ellipse is centred on the organism's
# position, nose at +BODY_HALF; the tail hinges at TAIL_BASE and reaches TAIL_LEN further back
BODY_HALF = 0.39
TAIL_BASE = -0.31
TAIL_LEN = 0.30
TAIL_BEAT = 0.28  # radians, amplitude of the tail stroke
MIN_SCALE = 0.35  # shortest apparent length (fish seen head-on) as a fraction of the length

HAZE = np.array([40, 120, 135], np.float32)  # colour distant animals fade towards


# --------------------------------------------------------------------------- data types
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


@dataclass(frozen=True, eq=False)
class Scene:
    """Everything needed to render any frame of a clip, deterministically.

    Made by :func:`make_scene`; the arrays are precomputed so that :func:`render` is cheap.
    """

    seed: int
    frames: int
    width: int
    height: int
    fps: float
    camera: str
    mm_per_px: float
    organisms: tuple[Organism, ...]
    params: dict = field(repr=False)
    camera_xy: np.ndarray = field(repr=False)  # (frames, 2) int64 world x, y of the top left
    world: np.ndarray = field(repr=False)  # (Hw, Ww + W, 3) uint8, periodic in x
    world_width: int = field(repr=False)  # period of the world texture in x
    caustics: np.ndarray = field(repr=False)  # (2, 2H, 2W) float32 periodic patterns
    caustic_offsets: np.ndarray = field(repr=False)  # (frames, 2, 2) int64 y, x per layer
    caustic_weights: np.ndarray = field(repr=False)  # (frames, 2) float32
    caustic_gain: np.ndarray = field(repr=False)  # (H, 1) float32
    transmission: np.ndarray = field(repr=False)  # (H, W, 3) float32
    veil: np.ndarray = field(repr=False)  # (H, W, 3) float32 scattered light added
    particles: dict = field(repr=False)
    noise: np.ndarray = field(repr=False)  # (H + 64, W + 64, 3) float32 sensor noise tile
    noise_offsets: np.ndarray = field(repr=False)  # (frames, 2) int64

    @property
    def rate(self) -> Fraction:
        """The frame rate as the exact fraction the video is encoded with."""
        return _rate(self.fps)

    @property
    def times(self) -> np.ndarray:
        """(frames,) float64 frame times ``index / fps`` in seconds (the video's PTS times)."""
        rate = self.rate  # i / (p / q) = (i * q) / p: an exact product, one correctly rounded /
        return np.arange(self.frames, dtype=np.float64) * rate.denominator / rate.numerator

    @property
    def objects(self) -> list[dict]:
        """Object table for a mask store: ``{"id", "class", "source": "truth"}``."""
        return [{"id": o.id, "class": o.cls, "source": "truth"} for o in self.organisms]


@dataclass(frozen=True, eq=False)
class SynthFrame:
    """One rendered frame: ``index``, ``time`` (s), ``image`` (H, W, 3) uint8, ``labels`` (H, W)
    uint32 and ``ids``, the sorted ids of the organisms visible in it."""

    index: int
    time: float
    image: np.ndarray
    labels: np.ndarray
    ids: tuple[int, ...]


@dataclass(frozen=True, eq=False)
class RenderLayers:
    """A frame taken apart, to check the truth (see :func:`render_layers`).

    Attributes
    ----------
    image, labels : ndarray
        As returned by :func:`render`.
    background : ndarray of uint8, shape (H, W, 3)
        The same frame rendered without any organism (same caustics, particles and noise).
    silhouettes : dict of int to ndarray of bool, shape (H, W)
        Each organism's full shape, evaluated over the whole frame, before occlusion.
    depth : dict of int to float
        Each organism's distance (larger is farther).
    """

    image: np.ndarray
    labels: np.ndarray
    background: np.ndarray
    silhouettes: dict
    depth: dict


@dataclass(frozen=True, eq=False)
class SynthResult:
    """What :func:`synth` wrote.

    Attributes
    ----------
    video, truth : Path
        ``out/video.mp4`` and ``out/truth.zarr``.
    mm_per_px : float
        Calibration of the clip.
    frames, size, fps
        Number of frames, (width, height), frame rate.
    objects : pandas.DataFrame
        One row per organism: id, class, kind, length_px, length_mm, depth, frames_visible,
        first_frame, last_frame (-1 when never visible).
    maxn : dict of str to int
        MaxN per class in the truth: the most individuals of the class visible in one frame.
    """

    video: Path
    truth: Path
    mm_per_px: float
    frames: int
    size: tuple[int, int]
    fps: float
    objects: Any
    maxn: dict


# --------------------------------------------------------------------------- scene
def _rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001000)


def _check(frames, size, fps, camera, n_fish, n_inv) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in size)
        if (width, height) != tuple(size):
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"size must be (width, height) in whole pixels, got {size!r}") from None
    if width < 16 or height < 16:
        raise ConfigError(f"size must be at least 16x16 pixels, got {width}x{height}")
    if width % 2 or height % 2:
        raise ConfigError(
            f"size must have an even width and height (H.264 4:2:0), got {width}x{height}"
        )
    if width * height > 4096 * 4096:
        raise ConfigError(f"size {width}x{height} is larger than 4096x4096")
    if isinstance(frames, bool) or not isinstance(frames, int | np.integer) or frames < 1:
        raise ConfigError(f"frames must be an integer >= 1, got {frames!r}")
    try:
        fps_ok = math.isfinite(float(fps)) and 0.1 <= float(fps) <= 1000
    except (TypeError, ValueError):
        fps_ok = False
    if not fps_ok:
        raise ConfigError(f"fps must be a number between 0.1 and 1000, got {fps!r}")
    if camera not in CAMERAS:
        raise ConfigError(f"camera must be one of {', '.join(CAMERAS)}; got {camera!r}")
    for name, n in (("n_fish", n_fish), ("n_invertebrates", n_inv)):
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 0 <= n <= 1000:
            raise ConfigError(f"{name} must be an integer between 0 and 1000, got {n!r}")
    return width, height


def make_scene(
    seed: int = 0,
    *,
    frames: int = 150,
    size: tuple[int, int] = (640, 360),
    fps: float = 30.0,
    camera: str = "static",
    n_fish: int = 6,
    n_invertebrates: int = 2,
) -> Scene:
    """Build a deterministic synthetic reef scene.

    Parameters
    ----------
    seed : int
        Seed of every random choice; the same seed and parameters give the same clip.
    frames : int
        Number of frames (>= 1).
    size : (int, int)
        ``(width, height)`` in pixels, both even (H.264 4:2:0 needs it). Animals and reef
        scale with the width: the frame always covers 1.6 m of reef, so the calibration is
        ``2.5 * 640 / width`` mm per pixel.
    fps : float
        Frame rate; animals move in real time (mm/s), whatever the rate.
    camera : {"static", "pan", "shake"}
        A fixed camera (remote video), a steady sideways transect, or a hand-held jitter.
    n_fish, n_invertebrates : int
        How many fish (classes drawn so that the first four are all different) and slow
        invertebrates (sea urchins and sea stars, alternating).

    Returns
    -------
    Scene

    Raises
    ------
    ConfigError
        A parameter is out of range.

    Examples
    --------
    >>> scene = make_scene(seed=3, frames=5, size=(128, 72), n_fish=4)
    >>> sorted({o.cls for o in scene.organisms})[:2]
    ['damselfish', 'parrotfish']
    >>> scene.mm_per_px
    12.5
    """
    width, height = _check(frames, size, fps, camera, n_fish, n_invertebrates)
    frames, n_fish, n_invertebrates = int(frames), int(n_fish), int(n_invertebrates)
    fps = float(fps)
    s = width / REFERENCE_WIDTH  # pixels per reference pixel
    mm_per_px = MM_PER_PX_AT_REFERENCE / s
    seeds = np.random.SeedSequence(int(seed)).spawn(7)
    rng_cam, rng_world, rng_fish, rng_inv, rng_caus, rng_part, rng_noise = (
        np.random.default_rng(q) for q in seeds
    )

    # camera path: integer world offsets of the top-left corner of the view
    t = np.arange(frames, dtype=np.float64) / fps
    jitter_amp = 0.0
    if camera == "shake":
        jitter_amp = max(1.0, 5.0 * s)
        jx = _wobble(rng_cam, t, jitter_amp, (0.7, 4.5))
        jy = _wobble(rng_cam, t, 0.8 * jitter_amp, (0.7, 4.5))
    else:
        jx = jy = np.zeros(frames)
    margin = int(math.ceil(2.0 * jitter_amp)) + 4
    pan_speed = 0.1 * width * (1.0 + 0.2 * rng_cam.uniform(-1, 1)) if camera == "pan" else 0.0
    cam_x = margin + np.round(pan_speed * t + jx)
    cam_y = margin + np.round(jy)
    camera_xy = np.stack([cam_x, cam_y], axis=1).astype(np.int64)
    world_w = width + 2 * margin + (int(math.ceil(pan_speed * t[-1])) + 1 if camera == "pan" else 0)
    world_w = min(world_w, max(8192, width + 2 * margin))  # long transects wrap around
    world_h = height + 2 * margin
    world = _reef(rng_world, world_h, world_w, s)
    world = np.concatenate([world, world[:, :width]], axis=1)

    organisms = []
    kinds = _fish_classes(rng_fish, n_fish)
    depths = rng_fish.uniform(0.0, 0.6, n_fish)  # distinct (almost surely), all above the bottom
    fish_seeds = np.random.SeedSequence(int(seed)).spawn(7 + n_fish + n_invertebrates)[7:]
    for k in range(n_fish):
        organisms.append(
            _swim(
                np.random.default_rng(fish_seeds[k]),
                k + 1,
                kinds[k],
                float(depths[k]),
                frames,
                fps,
                width,
                height,
                camera_xy.astype(np.float64),
                s,
                mm_per_px,
                k,
            )
        )
    inv_names = list(INVERTEBRATE_CLASSES)
    for k in range(n_invertebrates):
        organisms.append(
            _creep(
                np.random.default_rng(fish_seeds[n_fish + k]),
                n_fish + k + 1,
                inv_names[k % len(inv_names)],
                0.7 + 0.05 * k / max(1, n_invertebrates),
                frames,
                fps,
                width,
                height,
                camera_xy,
                mm_per_px,
                rng_inv,
            )
        )

    # caustics: two periodic webs of light drifting in different directions, their weights
    # flickering; attached to the bottom, so they move with the camera too
    caustics = np.stack([_caustic_tile(rng_caus, height, width, s) for _ in range(2)])
    drift = rng_caus.uniform(12, 24, size=(2,)) * s
    angle = rng_caus.uniform(0, 2 * np.pi) + np.array([0.0, 2.2])
    caustic_offsets = np.empty((frames, 2, 2), np.int64)
    for layer in range(2):
        caustic_offsets[:, layer, 0] = np.round(
            camera_xy[:, 1] + drift[layer] * np.sin(angle[layer]) * t
        )
        caustic_offsets[:, layer, 1] = np.round(
            camera_xy[:, 0] + drift[layer] * np.cos(angle[layer]) * t
        )
    caustic_offsets[:, :, 0] %= height
    caustic_offsets[:, :, 1] %= width
    flicker = rng_caus.uniform(0, 2 * np.pi, size=(2, 3))
    freqs = np.array([0.9, 2.3, 5.1])
    caustic_weights = np.stack(
        [
            0.55
            + sum(0.15 * np.sin(2 * np.pi * f * t + flicker[k, j]) for j, f in enumerate(freqs))
            for k in range(2)
        ],
        axis=1,
    ).astype(np.float32)
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    caustic_gain = (0.55 * (0.35 + 0.65 * rows)).astype(np.float32)

    transmission, veil = _water(height, width)

    n_part = max(3, int(round(150 * width * height / (640 * 360))))
    particles = {
        "x": rng_part.uniform(0, width, n_part),
        "y": rng_part.uniform(0, height, n_part),
        "vx": rng_part.normal(0, 6 * s, n_part),
        "vy": rng_part.normal(5 * s, 4 * s, n_part),
        "amp": rng_part.uniform(0, 3 * s, n_part),
        "freq": rng_part.uniform(0.2, 1.2, n_part),
        "phase": rng_part.uniform(0, 2 * np.pi, n_part),
        "parallax": rng_part.uniform(1.1, 1.6, n_part),
        "alpha": rng_part.uniform(0.15, 0.6, n_part).astype(np.float32),
        "big": rng_part.random(n_part) < 0.3,
    }
    noise = rng_noise.normal(0, 2.0, size=(height + 64, width + 64, 3)).astype(np.float32)
    noise_offsets = rng_noise.integers(0, 64, size=(frames, 2))

    params = {
        "seed": int(seed),
        "frames": frames,
        "size": [width, height],
        "fps": fps,
        "camera": camera,
        "n_fish": n_fish,
        "n_invertebrates": n_invertebrates,
    }
    return Scene(
        seed=int(seed),
        frames=frames,
        width=width,
        height=height,
        fps=fps,
        camera=camera,
        mm_per_px=float(mm_per_px),
        organisms=tuple(organisms),
        params=params,
        camera_xy=camera_xy,
        world=world,
        world_width=world_w,
        caustics=caustics,
        caustic_offsets=caustic_offsets,
        caustic_weights=caustic_weights,
        caustic_gain=caustic_gain,
        transmission=transmission,
        veil=veil,
        particles=particles,
        noise=noise,
        noise_offsets=noise_offsets,
    )


def _wobble(rng, t, amplitude, band) -> np.ndarray:
    """Smooth random jitter: a sum of sines with random frequencies in ``band`` (Hz)."""
    n = 6
    freqs = rng.uniform(*band, size=n)
    phases = rng.uniform(0, 2 * np.pi, size=n)
    amps = rng.uniform(0.5, 1.0, size=n)
    amps *= amplitude / amps.sum()
    return (amps[:, None] * np.sin(2 * np.pi * freqs[:, None] * t[None] + phases[:, None])).sum(0)


def _fish_classes(rng, n: int) -> list[str]:
    names = list(FISH_CLASSES)
    first = [names[i] for i in rng.permutation(len(names))]
    weights = np.array([FISH_CLASSES[c].weight for c in names])
    rest = rng.choice(len(names), size=max(0, n - len(names)), p=weights / weights.sum())
    return (first + [names[i] for i in rest])[:n]


def _swim(rng, oid, cls, depth, frames, fps, width, height, cam, s, mm_per_px, k) -> Organism:
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


def _creep(rng, oid, cls, depth, frames, fps, width, height, cam, mm_per_px, rng_place):
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


# --------------------------------------------------------------------------- the reef
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


def _reef(rng, h, w, s) -> np.ndarray:
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


def _caustic_tile(rng, h, w, s) -> np.ndarray:
    """A periodic (h, w) web of bright lines, tiled 2 x 2 so that any window is a slice."""
    n = _noise(rng, (h, w), 9 * s, 30 * s)
    web = np.exp(-((n / 0.2) ** 2)).astype(np.float32)
    return np.tile(web, (2, 2))


def _water(h, w) -> tuple[np.ndarray, np.ndarray]:
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


# --------------------------------------------------------------------------- rasterising
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


def _extent(o: Organism, i: int) -> tuple[float, float, float, float]:
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


def _field(o: Organism, i: int, dx, dy):
    return _fish_field(o, i, dx, dy) if o.kind == "fish" else _inv_field(o, i, dx, dy)


def _fish_colour(o: Organism, ua, vb, in_tail) -> np.ndarray:
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


def _inv_colour(o: Organism, rn, extra) -> np.ndarray:
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


def _frame_check(scene: Scene, index) -> int:
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise IndexError(f"frame index must be an integer, got {index!r}")
    if not 0 <= index < scene.frames:
        raise IndexError(f"frame {index} out of range (the scene has {scene.frames} frames)")
    return int(index)


def _background(scene: Scene, i: int) -> np.ndarray:
    """Reef under caustics, before the organisms: (H, W, 3) float32, 0-255 scale."""
    h, w = scene.height, scene.width
    cx, cy = scene.camera_xy[i]
    x0 = int(cx) % scene.world_width
    bg = scene.world[cy : cy + h, x0 : x0 + w]
    (oy0, ox0), (oy1, ox1) = scene.caustic_offsets[i]
    w0, w1 = scene.caustic_weights[i]
    gain = scene.caustic_gain  # (H, 1): weaker far away
    c = scene.caustics[0, oy0 : oy0 + h, ox0 : ox0 + w] * (gain * w0)
    c += scene.caustics[1, oy1 : oy1 + h, ox1 : ox1 + w] * (gain * w1)
    c += 1.0
    img = bg.astype(np.float32)
    for ch in range(3):  # faster than broadcasting (H, W, 1) against (H, W, 3)
        img[..., ch] *= c
    return img


def _paint(scene: Scene, i: int, img: np.ndarray, labels: np.ndarray) -> dict:
    """Draw the organisms far to near into ``img`` and ``labels`` (within bounding boxes).

    Returns the box ``(y0, y1, x0, x1)`` of every organism painted, by id.
    """
    h, w = scene.height, scene.width
    boxes = {}
    cx, cy = scene.camera_xy[i]
    for o in sorted(scene.organisms, key=lambda o: (-o.depth, o.id)):
        px, py = o.x[i] - cx, o.y[i] - cy
        ex0, ex1, ey0, ey1 = _extent(o, i)
        x0, x1 = max(0, int(math.floor(px + ex0))), min(w, int(math.ceil(px + ex1)) + 1)
        y0, y1 = max(0, int(math.floor(py + ey0))), min(h, int(math.ceil(py + ey1)) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        dx = np.arange(x0, x1, dtype=np.float64)[None, :] - px
        dy = np.arange(y0, y1, dtype=np.float64)[:, None] - py
        sdf, f1, f2, f3 = _field(o, i, dx, dy)
        inside = sdf < 0
        if not inside.any():
            continue
        alpha = np.minimum(0.5 - sdf[inside], 1.0).astype(np.float32)[:, None]
        if o.kind == "fish":
            col = _fish_colour(o, f1[inside], f2[inside], f3[inside])
        else:
            col = _inv_colour(o, f1[inside], f2[inside])
        col = col + np.float32(0.45 * o.depth) * (HAZE - col)
        sub = img[y0:y1, x0:x1]
        under = sub[inside]
        sub[inside] = under + alpha * (col - under)
        labels[y0:y1, x0:x1][inside] = o.id
        boxes[o.id] = (y0, y1, x0, x1)
    return boxes


def _visible(labels: np.ndarray, boxes: dict) -> tuple[int, ...]:
    """Ids of the painted organisms that are still visible (not covered by nearer ones)."""
    return tuple(
        sorted(k for k, (y0, y1, x0, x1) in boxes.items() if (labels[y0:y1, x0:x1] == k).any())
    )


def _finish(scene: Scene, i: int, img: np.ndarray) -> np.ndarray:
    """Water, marine snow and sensor noise on a composed (H, W, 3) float32 frame -> uint8."""
    h, w = scene.height, scene.width
    img *= scene.transmission
    img += scene.veil
    p = scene.particles
    t = i / scene.fps
    cam = scene.camera_xy[i] - scene.camera_xy[0]
    px = p["x"] + p["vx"] * t + p["amp"] * np.sin(2 * np.pi * p["freq"] * t + p["phase"])
    py = p["y"] + p["vy"] * t + p["amp"] * np.cos(2 * np.pi * p["freq"] * t + p["phase"])
    px = np.floor(px - p["parallax"] * cam[0]).astype(np.int64) % w
    py = np.floor(py - p["parallax"] * cam[1]).astype(np.int64) % h
    flat = img.reshape(-1, 3)
    snow = np.array([200, 220, 215], np.float32)
    a = p["alpha"][:, None]
    idx = py * w + px
    flat[idx] += a * (snow - flat[idx])
    big = p["big"]
    for ddx, ddy in ((1, 0), (0, 1), (1, 1)):
        j = ((py[big] + ddy) % h) * w + (px[big] + ddx) % w
        flat[j] += 0.6 * a[big] * (snow - flat[j])
    ny, nx = scene.noise_offsets[i]
    img += scene.noise[ny : ny + h, nx : nx + w]
    np.clip(img, 0, 255, out=img)
    return img.astype(np.uint8)


def render(scene: Scene, index: int) -> tuple[np.ndarray, np.ndarray]:
    """Render frame ``index`` of ``scene`` and its exact instance labels.

    Parameters
    ----------
    scene : Scene
    index : int
        Frame index, ``0 <= index < scene.frames``.

    Returns
    -------
    image : ndarray of uint8, shape (H, W, 3)
        RGB frame.
    labels : ndarray of uint32, shape (H, W)
        Organism id of every pixel where that organism is visible (0 = background).

    Examples
    --------
    >>> scene = make_scene(seed=0, frames=3, size=(64, 36), n_fish=2, n_invertebrates=0)
    >>> image, labels = render(scene, 2)
    >>> set(np.unique(labels).tolist()) <= {0, 1, 2}
    True
    """
    image, labels, _ = _render(scene, _frame_check(scene, index))
    return image, labels


def _render(scene: Scene, i: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    img = _background(scene, i)
    labels = np.zeros((scene.height, scene.width), np.uint32)
    boxes = _paint(scene, i, img, labels)
    return _finish(scene, i, img), labels, _visible(labels, boxes)


def render_layers(scene: Scene, index: int) -> RenderLayers:
    """Render a frame and take it apart, to check the truth.

    Returns the image and labels of :func:`render`, the frame without organisms, and every
    organism's full silhouette evaluated over the whole frame (not only its bounding box) with
    its depth: ``labels == id`` must equal ``silhouettes[id]`` minus the silhouettes of nearer
    organisms. Slow (whole-frame evaluation per organism); meant for tests.

    Examples
    --------
    >>> scene = make_scene(seed=0, frames=2, size=(64, 36), n_fish=2, n_invertebrates=0)
    >>> layers = render_layers(scene, 1)
    >>> sorted(layers.silhouettes) == [o.id for o in scene.organisms]
    True
    """
    i = _frame_check(scene, index)
    image, labels = render(scene, i)
    background = _finish(scene, i, _background(scene, i))
    cx, cy = scene.camera_xy[i]
    dxs = np.arange(scene.width, dtype=np.float64)[None, :]
    dys = np.arange(scene.height, dtype=np.float64)[:, None]
    silhouettes, depth = {}, {}
    for o in scene.organisms:
        px, py = o.x[i] - cx, o.y[i] - cy
        sdf = _field(o, i, dxs - px, dys - py)[0]
        silhouettes[o.id] = sdf < 0
        depth[o.id] = o.depth
    return RenderLayers(image, labels, background, silhouettes, depth)


def synth_frames(scene: Scene, start: int = 0, stop: int | None = None) -> Iterator[SynthFrame]:
    """Render frames ``start:stop`` of ``scene`` in memory.

    Yields
    ------
    SynthFrame
        ``index``, ``time`` (``index / fps`` s), ``image`` (H, W, 3) uint8, ``labels`` (H, W)
        uint32, ``ids`` (visible organisms).

    Examples
    --------
    >>> scene = make_scene(seed=0, frames=4, size=(64, 36))
    >>> [f.time for f in synth_frames(scene, 1, 3)]
    [0.03333333333333333, 0.06666666666666667]
    """
    start, stop, _ = slice(start, stop).indices(scene.frames)
    times = scene.times
    for i in range(start, stop):
        image, labels, ids = _render(scene, i)
        yield SynthFrame(i, float(times[i]), image, labels, ids)


# --------------------------------------------------------------------------- files
def synth(
    out: str | os.PathLike,
    *,
    seed: int = 0,
    frames: int = 150,
    size: tuple[int, int] = (640, 360),
    fps: float = 30.0,
    camera: str = "static",
    n_fish: int = 6,
    n_invertebrates: int = 2,
    overwrite: bool = False,
    crf: int = 20,
    chunk_frames: int = 25,
) -> SynthResult:
    """Write a synthetic reef clip ``out/video.mp4`` and its truth store ``out/truth.zarr``.

    Parameters
    ----------
    out : str or Path
        Output folder (created if missing).
    seed, frames, size, fps, camera, n_fish, n_invertebrates
        The scene, see :func:`make_scene`.
    overwrite : bool
        Replace an existing ``video.mp4`` / ``truth.zarr`` in ``out``.
    crf : int
        H.264 constant rate factor (lower is better quality; 20 is visually clean).
    chunk_frames : int
        Frames per chunk of the truth store's labels.

    Returns
    -------
    SynthResult

    Raises
    ------
    ConfigError
        A parameter is out of range, or ``out/video.mp4`` exists and ``overwrite`` is false.
    StoreError
        ``out/truth.zarr`` exists and ``overwrite`` is false.

    Examples
    --------
    >>> import tempfile
    >>> clip = synth(tempfile.mkdtemp(), seed=2, frames=6, size=(64, 48))
    >>> clip.video.name, clip.truth.name, clip.frames, clip.mm_per_px
    ('video.mp4', 'truth.zarr', 6, 25.0)
    """
    import av
    import pandas as pd

    from ecoseg._hashing import sha256_file
    from ecoseg._version import __version__
    from ecoseg.errors import StoreError
    from ecoseg.store import MaskStore

    if isinstance(crf, bool) or not isinstance(crf, int | np.integer) or not 0 <= crf <= 51:
        raise ConfigError(f"crf must be an integer between 0 and 51, got {crf!r}")
    if (
        isinstance(chunk_frames, bool)
        or not isinstance(chunk_frames, int | np.integer)
        or chunk_frames < 1
    ):
        raise ConfigError(f"chunk_frames must be an integer >= 1, got {chunk_frames!r}")
    scene = make_scene(
        seed,
        frames=frames,
        size=size,
        fps=fps,
        camera=camera,
        n_fish=n_fish,
        n_invertebrates=n_invertebrates,
    )
    out = Path(out)
    video_path, truth_path = out / "video.mp4", out / "truth.zarr"
    if out.exists() and not out.is_dir():
        raise ConfigError(f"{out}: exists and is not a folder")
    if not overwrite:
        if video_path.exists():
            raise ConfigError(f"{video_path}: already exists (use --overwrite / overwrite=True)")
        if truth_path.exists():
            raise StoreError(f"{truth_path}: already exists (use --overwrite / overwrite=True)")
    out.mkdir(parents=True, exist_ok=True)

    params = dict(scene.params, crf=int(crf), chunk_frames=int(chunk_frames))
    provenance = {
        "engine": "truth",
        "generator": GENERATOR,
        "generator_version": GENERATOR_VERSION,
        "ecoseg_version": __version__,
        "seed": scene.seed,
        "parameters": params,
        "video": {
            "path": video_path.name,
            "fps": scene.fps,
            "size": [scene.width, scene.height],
            "frames": scene.frames,
            "codec": "h264",
        },
    }
    calibration = {"mm_per_px": scene.mm_per_px, "method": "synthetic"}
    store = MaskStore.create(
        truth_path,
        height=scene.height,
        width=scene.width,
        chunk_frames=int(chunk_frames),
        objects=scene.objects,
        provenance=provenance,
        calibration=calibration,
        overwrite=overwrite,
    )
    column = {o.id: k for k, o in enumerate(scene.organisms)}
    visible = np.zeros((scene.frames, len(column)), bool)
    tmp = video_path.with_name(video_path.name + ".partial")
    try:
        with av.open(str(tmp), "w", format="mp4") as container:
            stream = container.add_stream("libx264", rate=scene.rate)
            stream.width, stream.height, stream.pix_fmt = scene.width, scene.height, "yuv420p"
            stream.time_base = 1 / scene.rate
            stream.options = {"crf": str(int(crf)), "preset": "veryfast"}
            batch: list[SynthFrame] = []

            def write(frames_: list[SynthFrame]) -> None:  # encoder + store, in a worker
                for f in frames_:
                    vf = av.VideoFrame.from_ndarray(f.image, format="rgb24")
                    vf.pts = f.index
                    container.mux(stream.encode(vf))
                store.append(
                    np.stack([f.labels for f in frames_]),
                    np.array([f.time for f in frames_]),
                    scores=visible[frames_[0].index : frames_[-1].index + 1].astype(np.float32),
                )

            # rendering overlaps encoding and compression (numpy, x264 and blosc release the GIL)
            with ThreadPoolExecutor(max_workers=1) as pool:
                pending = None
                for frame in synth_frames(scene):
                    visible[frame.index, [column[k] for k in frame.ids]] = True
                    batch.append(frame)
                    if len(batch) == chunk_frames or frame.index == scene.frames - 1:
                        if pending is not None:
                            pending.result()
                        pending = pool.submit(write, batch)
                        batch = []
                if pending is not None:
                    pending.result()
            container.mux(stream.encode(None))
    except BaseException:
        tmp.unlink(missing_ok=True)
        store.close()
        raise
    os.replace(tmp, video_path)
    store.set_provenance(video=dict(provenance["video"], sha256=sha256_file(video_path)))
    store.mark_complete()
    store.close()

    rows = []
    for k, o in enumerate(scene.organisms):
        seen = np.flatnonzero(visible[:, k])
        rows.append(
            {
                "id": o.id,
                "class": o.cls,
                "kind": o.kind,
                "length_px": o.length,
                "length_mm": o.length * scene.mm_per_px,
                "depth": o.depth,
                "frames_visible": int(seen.size),
                "first_frame": int(seen[0]) if seen.size else -1,
                "last_frame": int(seen[-1]) if seen.size else -1,
            }
        )
    columns = ["id", "class", "kind", "length_px", "length_mm", "depth", "frames_visible"]
    objects = pd.DataFrame(rows, columns=[*columns, "first_frame", "last_frame"])
    classes = [o.cls for o in scene.organisms]
    maxn = {
        c: int(visible[:, [x == c for x in classes]].sum(axis=1).max())
        for c in dict.fromkeys(classes)
    }
    return SynthResult(
        video=video_path,
        truth=truth_path,
        mm_per_px=scene.mm_per_px,
        frames=scene.frames,
        size=(scene.width, scene.height),
        fps=scene.fps,
        objects=objects,
        maxn=maxn,
    )


class _CallableModule(types.ModuleType):
    """``ecoseg.synth`` is both this module and the public function :func:`synth`.

    Importing the module (``from ecoseg.synth import render``) binds the name ``ecoseg.synth``
    to the module, so the module forwards calls to the function: ``ecoseg.synth(out, ...)``
    works whichever was bound first.
    """

    def __call__(self, *args, **kwargs):
        return synth(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
