"""The camera's path over the reef: static, a steady sideways pan, a fast pan, or a hand-held
shake."""

from __future__ import annotations

import math

import numpy as np

__all__: list[str] = []

#: Pan speeds in frame widths per second: a slow transect, and a fast swing of the camera
#: (faster than the fish swim, so a motion tracker cannot tell them from the moving reef).
PAN_SPEEDS = {"pan": 0.1, "fast-pan": 1.0}


def wobble(rng, t, amplitude, band) -> np.ndarray:
    """Smooth random jitter: a sum of sines with random frequencies in ``band`` (Hz)."""
    n = 6
    freqs = rng.uniform(*band, size=n)
    phases = rng.uniform(0, 2 * np.pi, size=n)
    amps = rng.uniform(0.5, 1.0, size=n)
    amps *= amplitude / amps.sum()
    return (amps[:, None] * np.sin(2 * np.pi * freqs[:, None] * t[None] + phases[:, None])).sum(0)


def camera_path(rng, frames: int, fps: float, width: int, camera: str, s: float):
    """Integer world offsets of the view's top-left corner for every frame.

    Returns ``(camera_xy, margin, pan_speed)``: (frames, 2) int64 world x, y, the margin of
    world around the view (room for the shake) and the pan speed in px/s (0 unless panning).
    """
    t = np.arange(frames, dtype=np.float64) / fps
    jitter_amp = 0.0
    if camera == "shake":
        jitter_amp = max(1.0, 5.0 * s)
        jx = wobble(rng, t, jitter_amp, (0.7, 4.5))
        jy = wobble(rng, t, 0.8 * jitter_amp, (0.7, 4.5))
    else:
        jx = jy = np.zeros(frames)
    margin = int(math.ceil(2.0 * jitter_amp)) + 4
    pan_speed = PAN_SPEEDS.get(camera, 0.0) * width
    if pan_speed:
        pan_speed *= 1.0 + 0.2 * rng.uniform(-1, 1)
    cam_x = margin + np.round(pan_speed * t + jx)
    cam_y = margin + np.round(jy)
    camera_xy = np.stack([cam_x, cam_y], axis=1).astype(np.int64)
    return camera_xy, margin, pan_speed
