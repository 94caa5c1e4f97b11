"""Rendering: any frame of a :class:`~ecoseg.synth.scene.Scene` with its exact instance labels.

A frame is the painted reef seen by the camera and lit by the caustics (:func:`_lit_reef`), the
animals painted far to near over it, then the water, marine snow and sensor noise on top.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ecoseg.synth.animals import extent, fish_colour, invertebrate_colour, signed_distance
from ecoseg.synth.scene import Scene
from ecoseg.synth.species import HAZE

__all__ = ["RenderLayers", "SynthFrame", "render", "render_layers", "synth_frames"]


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
    reef : ndarray of uint8, shape (H, W, 3)
        The same frame rendered without any organism: the painted reef under the same
        caustics, particles and noise.
    silhouettes : dict of int to ndarray of bool, shape (H, W)
        Each organism's full shape, evaluated over the whole frame, before occlusion.
    depth : dict of int to float
        Each organism's distance (larger is farther).
    """

    image: np.ndarray
    labels: np.ndarray
    reef: np.ndarray
    silhouettes: dict
    depth: dict


def _frame_check(scene: Scene, index) -> int:
    if isinstance(index, bool) or not isinstance(index, int | np.integer):
        raise IndexError(f"frame index must be an integer, got {index!r}")
    if not 0 <= index < scene.frames:
        raise IndexError(f"frame {index} out of range (the scene has {scene.frames} frames)")
    return int(index)


def _lit_reef(scene: Scene, i: int) -> np.ndarray:
    """The painted reef in view, lit by the caustics, before the organisms.

    Returns (H, W, 3) float32 on the 0-255 scale.
    """
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
        ex0, ex1, ey0, ey1 = extent(o, i)
        x0, x1 = max(0, int(math.floor(px + ex0))), min(w, int(math.ceil(px + ex1)) + 1)
        y0, y1 = max(0, int(math.floor(py + ey0))), min(h, int(math.ceil(py + ey1)) + 1)
        if x0 >= x1 or y0 >= y1:
            continue
        dx = np.arange(x0, x1, dtype=np.float64)[None, :] - px
        dy = np.arange(y0, y1, dtype=np.float64)[:, None] - py
        sdf, f1, f2, f3 = signed_distance(o, i, dx, dy)
        inside = sdf < 0
        if not inside.any():
            continue
        alpha = np.minimum(0.5 - sdf[inside], 1.0).astype(np.float32)[:, None]
        if o.kind == "fish":
            col = fish_colour(o, f1[inside], f2[inside], f3[inside])
        else:
            col = invertebrate_colour(o, f1[inside], f2[inside])
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
    >>> from ecoseg.synth import make_scene
    >>> scene = make_scene(seed=0, frames=3, size=(64, 36), n_fish=2, n_invertebrates=0)
    >>> image, labels = render(scene, 2)
    >>> set(np.unique(labels).tolist()) <= {0, 1, 2}
    True
    """
    image, labels, _ = _render(scene, _frame_check(scene, index))
    return image, labels


def _render(scene: Scene, i: int) -> tuple[np.ndarray, np.ndarray, tuple[int, ...]]:
    img = _lit_reef(scene, i)
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
    >>> from ecoseg.synth import make_scene
    >>> scene = make_scene(seed=0, frames=2, size=(64, 36), n_fish=2, n_invertebrates=0)
    >>> layers = render_layers(scene, 1)
    >>> sorted(layers.silhouettes) == [o.id for o in scene.organisms]
    True
    """
    i = _frame_check(scene, index)
    image, labels = render(scene, i)
    reef = _finish(scene, i, _lit_reef(scene, i))
    cx, cy = scene.camera_xy[i]
    dxs = np.arange(scene.width, dtype=np.float64)[None, :]
    dys = np.arange(scene.height, dtype=np.float64)[:, None]
    silhouettes, depth = {}, {}
    for o in scene.organisms:
        px, py = o.x[i] - cx, o.y[i] - cy
        sdf = signed_distance(o, i, dxs - px, dys - py)[0]
        silhouettes[o.id] = sdf < 0
        depth[o.id] = o.depth
    return RenderLayers(image, labels, reef, silhouettes, depth)


def synth_frames(scene: Scene, start: int = 0, stop: int | None = None) -> Iterator[SynthFrame]:
    """Render frames ``start:stop`` of ``scene`` in memory.

    Yields
    ------
    SynthFrame
        ``index``, ``time`` (``index / fps`` s), ``image`` (H, W, 3) uint8, ``labels`` (H, W)
        uint32, ``ids`` (visible organisms).

    Examples
    --------
    >>> from ecoseg.synth import make_scene
    >>> scene = make_scene(seed=0, frames=4, size=(64, 36))
    >>> [f.time for f in synth_frames(scene, 1, 3)]
    [0.03333333333333333, 0.06666666666666667]
    """
    start, stop, _ = slice(start, stop).indices(scene.frames)
    times = scene.times
    for i in range(start, stop):
        image, labels, ids = _render(scene, i)
        yield SynthFrame(i, float(times[i]), image, labels, ids)
