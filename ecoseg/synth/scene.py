"""A synthetic reef scene: everything needed to render any frame of a clip, from a seed.

:func:`make_scene` draws the camera path (:mod:`~ecoseg.synth.camera`), the painted reef
(:mod:`~ecoseg.synth.reef`), the animals and their paths (:mod:`~ecoseg.synth.animals`), the
caustics, marine snow and sensor noise, each from its own :class:`numpy.random.Generator`.

Examples
--------
>>> scene = make_scene(seed=1, frames=4, size=(64, 36), n_fish=2, n_invertebrates=1)
>>> [o.cls for o in scene.organisms][-1], float(scene.times[1])
('sea_urchin', 0.03333333333333333)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np

from ecoseg.errors import ConfigError
from ecoseg.synth.animals import Organism, creep, fish_classes, swim
from ecoseg.synth.camera import camera_path
from ecoseg.synth.reef import caustic_tile, paint_reef, water
from ecoseg.synth.species import INVERTEBRATE_CLASSES

__all__ = [
    "CAMERAS",
    "MAX_FRAMES",
    "MM_PER_PX_AT_REFERENCE",
    "REFERENCE_WIDTH",
    "Scene",
    "make_scene",
]

CAMERAS = ("static", "pan", "shake", "fast-pan")
REFERENCE_WIDTH = 640
MM_PER_PX_AT_REFERENCE = 2.5  # a 640 px wide frame covers 1.6 m of reef
#: The most frames one clip may have: a mistyped ``--frames`` (a zero too many) was taken,
#: and 10**8 frames ran for minutes on per-frame tables before writing the first frame.
MAX_FRAMES = 100_000


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
        return frame_rate(self.fps)

    @property
    def times(self) -> np.ndarray:
        """(frames,) float64 frame times ``index / fps`` in seconds (the video's PTS times)."""
        rate = self.rate  # i / (p / q) = (i * q) / p: an exact product, one correctly rounded /
        return np.arange(self.frames, dtype=np.float64) * rate.denominator / rate.numerator

    @property
    def objects(self) -> list[dict]:
        """Every organism's object record, ``{"id", "class", "source": "truth"}``.

        :func:`~ecoseg.synth.synth` lists in the truth store only those a frame shows.
        """
        return [{"id": o.id, "class": o.cls, "source": "truth"} for o in self.organisms]


def frame_rate(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001000)


def check_parameters(seed, frames, size, fps, camera, n_fish, n_inv) -> tuple[int, int]:
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ConfigError(f"seed (--seed) must be an integer >= 0, got {seed!r}")
    try:
        width, height = (int(v) for v in size)
        if (width, height) != tuple(size):
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(
            f"size (--size) must be (width, height) in whole pixels, got {size!r}"
        ) from None
    if width < 16 or height < 16:
        raise ConfigError(f"size (--size) must be at least 16x16 pixels, got {width}x{height}")
    if width % 2 or height % 2:
        raise ConfigError(
            f"size (--size) must have an even width and height (H.264 4:2:0), got {width}x{height}"
        )
    if width * height > 4096 * 4096:
        raise ConfigError(f"size (--size) must be at most 4096x4096, got {width}x{height}")
    if (
        isinstance(frames, bool)
        or not isinstance(frames, int | np.integer)
        or not 1 <= frames <= MAX_FRAMES
    ):
        raise ConfigError(
            f"frames (--frames) must be an integer from 1 to {MAX_FRAMES} (about 55 minutes at "
            f"30 fps), got {frames!r}"
        )
    try:  # text ("25") and bool are refused like seed's; numpy numbers are numbers
        fps_ok = not isinstance(fps, str | bytes | bool) and 0.1 <= float(fps) <= 1000
    except (TypeError, ValueError):
        fps_ok = False
    if not fps_ok:
        raise ConfigError(f"fps (--fps) must be a number between 0.1 and 1000, got {fps!r}")
    if camera not in CAMERAS:
        raise ConfigError(f"camera (--camera) must be one of {', '.join(CAMERAS)}; got {camera!r}")
    for name, n in (("n_fish (--fish)", n_fish), ("n_invertebrates (--invertebrates)", n_inv)):
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
        Seed of every random choice (>= 0); the same seed and parameters give the same clip.
    frames : int
        Number of frames (1 to :data:`MAX_FRAMES`).
    size : (int, int)
        ``(width, height)`` in pixels, both even (H.264 4:2:0 needs it). Animals and reef
        scale with the width: the frame always covers 1.6 m of reef, so the calibration is
        ``2.5 * 640 / width`` mm per pixel.
    fps : float
        Frame rate; animals move in real time (mm/s), whatever the rate.
    camera : {"static", "pan", "shake", "fast-pan"}
        A fixed camera (remote video), a steady sideways transect (a tenth of the frame per
        second), a hand-held jitter, or a fast pan (a frame width per second: faster than the
        fish, footage the motion tracker warns about).
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
    camera = camera.lower() if isinstance(camera, str) else camera  # "Pan" is "pan"
    width, height = check_parameters(seed, frames, size, fps, camera, n_fish, n_invertebrates)
    frames, n_fish, n_invertebrates = int(frames), int(n_fish), int(n_invertebrates)
    fps = float(fps)
    s = width / REFERENCE_WIDTH  # pixels per reference pixel
    mm_per_px = MM_PER_PX_AT_REFERENCE / s
    seeds = np.random.SeedSequence(int(seed)).spawn(7)
    rng_cam, rng_world, rng_fish, rng_inv, rng_caus, rng_part, rng_noise = (
        np.random.default_rng(q) for q in seeds
    )

    # camera path: integer world offsets of the top-left corner of the view
    camera_xy, margin, pan_speed = camera_path(rng_cam, frames, fps, width, camera, s)
    t = np.arange(frames, dtype=np.float64) / fps
    world_w = width + 2 * margin + (int(math.ceil(pan_speed * t[-1])) + 1 if pan_speed else 0)
    world_w = min(world_w, max(8192, width + 2 * margin))  # long transects wrap around
    world_h = height + 2 * margin
    world = paint_reef(rng_world, world_h, world_w, s)
    world = np.concatenate([world, world[:, :width]], axis=1)

    organisms = []
    kinds = fish_classes(rng_fish, n_fish)
    depths = rng_fish.uniform(0.0, 0.6, n_fish)  # distinct (almost surely), all above the bottom
    fish_seeds = np.random.SeedSequence(int(seed)).spawn(7 + n_fish + n_invertebrates)[7:]
    for k in range(n_fish):
        organisms.append(
            swim(
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
            creep(
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
    caustics = np.stack([caustic_tile(rng_caus, height, width, s) for _ in range(2)])
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

    transmission, veil = water(height, width)

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
