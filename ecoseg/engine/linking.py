"""Linking detections into tracks: constant-velocity prediction, gated assignment, gap closing.

:class:`Linker` takes, frame after frame, the detections of that frame (centroid in *world*
pixels, i.e. corrected for camera motion, area and bounding box) and assigns each to a track by
solving a linear assignment (:func:`scipy.optimize.linear_sum_assignment`) on a cost that
combines the distance to the track's predicted position with the overlap of their boxes.

- A track that is not seen keeps coasting on its last velocity for up to ``max_gap`` frames, so
  an animal hidden behind another or behind coral keeps its id when it reappears near where it
  was heading; after ``max_gap`` missed frames the track ends.
- A new track is *tentative* until it has been seen on ``min_hits`` consecutive frames; it gets
  its id (1, 2, 3, ... in order of confirmation) only then. A tentative track that misses a frame
  is dropped, which removes one- or two-frame flickers (noise, particles, caustics).
- A confirmed track whose centroid has not moved for ``still_frames`` frames is reported as
  *still* (the engine then folds it into the background; see the docs for this limit).

Memory is bounded by the number of live tracks.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["Linker", "Track"]

_INF = 1e9


@dataclass(eq=False)
class Track:
    """State of one track (positions in world pixels at video resolution)."""

    key: int  # internal serial number
    y: float
    x: float
    area: float
    height: float
    width: float
    last_frame: int
    first_frame: int
    id: int = 0  # 0 while tentative
    vy: float = 0.0
    vx: float = 0.0
    hits: int = 1
    history: deque = field(default_factory=deque, repr=False)
    appearance: Any = field(default=None, repr=False)  # the engine's model of the animal

    @property
    def confirmed(self) -> bool:
        return self.id > 0

    def predict(self, frame: int) -> tuple[float, float]:
        gap = frame - self.last_frame
        return self.y + self.vy * gap, self.x + self.vx * gap

    @property
    def size(self) -> float:
        return max(self.height, self.width)


class Linker:
    """Frame-by-frame assignment of detections to tracks (see module docstring).

    Parameters
    ----------
    max_gap : int
        Frames a track may go unseen and still be continued.
    max_distance : float
        Base gate in pixels: how far a detection may lie from a track's predicted position.
        Half the track's size and half its speed times the gap are added to it.
    min_hits : int
        Consecutive detections that confirm a new track (1 confirms at once).
    still_frames : int
        Window (frames) over which a confirmed track that does not move is reported as still;
        0 disables this.
    still_distance : float
        A track is still if its centroid stayed within this many pixels (or a tenth of its
        size, whichever is larger) over the window.
    velocity_smoothing : float
        Weight of the newest displacement in the velocity estimate (0-1).

    Examples
    --------
    >>> lk = Linker(min_hits=1)
    >>> lk.step(0, np.array([[10.0, 10.0]]), np.array([25.0]), np.array([[5.0, 5.0]]))
    [1]
    >>> lk.step(1, np.array([[10.0, 12.0]]), np.array([25.0]), np.array([[5.0, 5.0]]))
    [1]
    """

    def __init__(
        self,
        *,
        max_gap: int = 10,
        max_distance: float = 20.0,
        min_hits: int = 3,
        still_frames: int = 0,
        still_distance: float = 2.0,
        velocity_smoothing: float = 0.5,
    ):
        self.max_gap = int(max_gap)
        self.max_distance = float(max_distance)
        self.min_hits = max(1, int(min_hits))
        self.still_frames = int(still_frames)
        self.still_distance = float(still_distance)
        self.beta = float(velocity_smoothing)
        self.tracks: list[Track] = []
        self._next_key = 1
        self.next_id = 1
        self.last_assigned: list[Track] = []

    def step(
        self, frame: int, centroids: np.ndarray, areas: np.ndarray, sizes: np.ndarray
    ) -> list[int]:
        """Assign this frame's detections; return the id of each (0 = not yet confirmed).

        Parameters
        ----------
        frame : int
            Frame index (strictly increasing from call to call).
        centroids : ndarray, shape (n, 2)
            ``(y, x)`` of each detection in world pixels.
        areas : ndarray, shape (n,)
        sizes : ndarray, shape (n, 2)
            Bounding-box ``(height, width)`` of each detection.

        Returns
        -------
        list of int
            The track id per detection; the Track objects are in :attr:`last_assigned`.
        """
        centroids = np.asarray(centroids, np.float64).reshape(-1, 2)
        areas = np.asarray(areas, np.float64).reshape(-1)
        sizes = np.asarray(sizes, np.float64).reshape(-1, 2)
        n = len(centroids)
        if len(areas) != n or len(sizes) != n:
            raise ValueError(f"{n} centroids but {len(areas)} areas and {len(sizes)} sizes")
        # tracks that were not continued in time end here
        self.tracks = [
            t
            for t in self.tracks
            if frame - t.last_frame <= (self.max_gap + 1 if t.confirmed else 1)
        ]
        assigned: list[Track | None] = [None] * n
        if self.tracks and n:
            cost = self._cost(frame, centroids, areas, sizes)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] < _INF:
                    assigned[c] = self.tracks[r]
        matched = set()
        for j in range(n):
            t = assigned[j]
            if t is None:
                t = Track(
                    key=self._next_key,
                    y=float(centroids[j, 0]),
                    x=float(centroids[j, 1]),
                    area=float(areas[j]),
                    height=float(sizes[j, 0]),
                    width=float(sizes[j, 1]),
                    last_frame=frame,
                    first_frame=frame,
                )
                self._next_key += 1
                self.tracks.append(t)
                assigned[j] = t
            else:
                self._update(t, frame, centroids[j], areas[j], sizes[j])
            matched.add(t.key)
            if not t.confirmed and t.hits >= self.min_hits:
                t.id = self.next_id
                self.next_id += 1
            if self.still_frames > 0 and t.confirmed:
                t.history.append((frame, t.y, t.x))
                while len(t.history) > self.still_frames:
                    t.history.popleft()
        self.last_assigned = assigned  # type: ignore[assignment]
        return [t.id for t in assigned]  # type: ignore[union-attr]

    def is_still(self, track: Track) -> bool:
        """Whether ``track`` has stayed in place over the last ``still_frames`` frames."""
        if self.still_frames <= 0 or len(track.history) < self.still_frames:
            return False
        first = track.history[0][0]
        if track.history[-1][0] - first != self.still_frames - 1:
            return False  # not seen on every frame of the window
        pos = np.array([(y, x) for _, y, x in track.history])
        spread = np.hypot(*(pos - pos.mean(axis=0)).T).max()
        return bool(spread <= max(self.still_distance, 0.1 * track.size))

    def forget(self, track: Track) -> None:
        """End ``track`` now (e.g. after it was folded into the background)."""
        self.tracks = [t for t in self.tracks if t is not track]

    @property
    def n_tracks(self) -> int:
        return len(self.tracks)

    def _cost(self, frame, centroids, areas, sizes) -> np.ndarray:
        m = len(self.tracks)
        pred = np.empty((m, 2))
        gate = np.empty(m)
        tsize = np.empty((m, 2))
        tarea = np.empty(m)
        gaps = np.empty(m)
        for i, t in enumerate(self.tracks):
            pred[i] = t.predict(frame)
            gap = frame - t.last_frame
            speed = float(np.hypot(t.vy, t.vx))
            gate[i] = self.max_distance + 0.5 * t.size + 0.5 * speed * gap
            tsize[i] = (t.height, t.width)
            tarea[i] = t.area
            gaps[i] = gap
        d = np.hypot(
            pred[:, None, 0] - centroids[None, :, 0], pred[:, None, 1] - centroids[None, :, 1]
        )
        # overlap of the boxes, the track's box placed at its predicted position
        ay0, ax0 = pred[:, 0] - tsize[:, 0] / 2, pred[:, 1] - tsize[:, 1] / 2
        by0, bx0 = centroids[:, 0] - sizes[:, 0] / 2, centroids[:, 1] - sizes[:, 1] / 2
        iy = np.clip(
            np.minimum(ay0[:, None] + tsize[:, None, 0], by0[None] + sizes[None, :, 0])
            - np.maximum(ay0[:, None], by0[None]),
            0,
            None,
        )
        ix = np.clip(
            np.minimum(ax0[:, None] + tsize[:, None, 1], bx0[None] + sizes[None, :, 1])
            - np.maximum(ax0[:, None], bx0[None]),
            0,
            None,
        )
        inter = iy * ix
        union = (tsize[:, 0] * tsize[:, 1])[:, None] + (sizes[:, 0] * sizes[:, 1])[None] - inter
        iou = inter / np.maximum(union, 1e-9)
        ratio = np.maximum(tarea[:, None], areas[None]) / np.maximum(
            np.minimum(tarea[:, None], areas[None]), 1e-9
        )
        cost = d / gate[:, None] + (1.0 - iou) + 0.02 * (gaps[:, None] - 1)
        bad = (d > gate[:, None]) | (ratio > 6.0)
        return np.where(bad, _INF, cost)

    def _update(self, t: Track, frame: int, c: np.ndarray, area: float, size: np.ndarray) -> None:
        gap = frame - t.last_frame
        vy, vx = (c[0] - t.y) / gap, (c[1] - t.x) / gap
        if t.hits == 1:
            t.vy, t.vx = vy, vx
        else:
            b = self.beta
            t.vy, t.vx = (1 - b) * t.vy + b * vy, (1 - b) * t.vx + b * vx
        t.y, t.x = float(c[0]), float(c[1])
        t.area = 0.7 * t.area + 0.3 * float(area)
        t.height, t.width = float(size[0]), float(size[1])
        t.last_frame = frame
        t.hits += 1
