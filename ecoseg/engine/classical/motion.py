"""How fast the camera moves against the animals: the motion tracker's moving-camera check.

The tracker estimates the camera's motion anyway (it shifts its background model with it);
:class:`CameraMeter` adds up that motion, measured between frames two apart whether or not the
background model could follow it, and the speeds over the scene of the animals it tracks.
Motion segmentation finds animals by their motion *relative to the scene*. When the
camera sweeps more than :data:`LIMIT` of the frame width per frame (faster than reef fish swim
on screen: 1.3-2.2 px per frame on the 640 px synthetic clips, ~0.3 %), every frame exposes a
new strip of reef and the background model is a blur of interpolated, just-seen pixels, so
the tracker cannot tell the animals from the moving scene. The run is then flagged
(:attr:`~ecoseg.provenance.CameraMotion.too_fast`) and the user told, once, that the sam2
engine (prompts or ``--auto``) is the tool for such footage.

The animals' speed is measured and reported (the camera's speed as a multiple of it) but not
part of the limit: in a fast pan, misaligned background is itself tracked as "animals" moving
at about half the camera's speed (13.4 px per frame on the 640 px fast-pan clip, seed 0, where
the fish swim 2.2 and the camera 25), so it cannot be trusted exactly when it would matter.
Figures: docs/classical.md.
"""

from __future__ import annotations

import math

import numpy as np

from ecoseg.provenance import CameraMotion

__all__ = ["LIMIT", "CameraMeter", "FastCameraWarning"]

#: Mean camera motion per frame, as a fraction of the frame width, above which the tracker
#: warns: a slow transect (a tenth of the frame per second, 0.35-0.4 % per frame at 30 fps)
#: and hand-held shake (0.1-0.17 %) stay under it; a pan of a frame width per second (3.4-3.9 %
#: measured) is over it.
LIMIT = 0.01


class FastCameraWarning(UserWarning):
    """The camera moved too fast for the motion tracker (see :mod:`.motion`)."""


class CameraMeter:
    """Running sums of the camera's and the tracked animals' motion (constant memory).

    Examples
    --------
    >>> meter = CameraMeter(640)
    >>> for _ in range(10):
    ...     meter.camera(0.0, 21.0)
    ...     meter.animals(np.array([2.0, 3.0]))
    >>> m = meter.record()
    >>> m.camera_speed, m.animal_speed, m.limit, m.too_fast
    (21.0, 2.5, 6.4, True)
    >>> CameraMeter(640).record().too_fast
    False
    """

    def __init__(self, width: int):
        self.width = int(width)
        self.frames = 0
        self.path = 0.0
        self.animal_sum = 0.0
        self.animal_n = 0

    def camera(self, dy: float, dx: float, frames: int = 1) -> None:
        """The camera's motion over ``frames`` frames, in video pixels (0, 0: none found)."""
        self.frames += int(frames)
        self.path += math.hypot(dy, dx)

    def animals(self, speeds: np.ndarray) -> None:
        """Speeds over the scene (video pixels per frame) of the animals tracked in a frame."""
        speeds = np.asarray(speeds, np.float64)
        self.animal_sum += float(speeds.sum())
        self.animal_n += int(speeds.size)

    def record(self) -> CameraMotion:
        """What was measured, the limit and whether the camera exceeded it."""
        camera = self.path / self.frames if self.frames else 0.0
        animal = self.animal_sum / self.animal_n if self.animal_n else None
        limit = LIMIT * self.width
        return CameraMotion(
            camera_speed=round(camera, 3),
            animal_speed=None if animal is None else round(animal, 3),
            limit=round(limit, 3),
            too_fast=bool(camera > limit),
            frames=self.frames,
            frame_width=self.width,
        )
