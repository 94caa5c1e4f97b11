"""The classical engine: a motion tracker that needs no model weights.

For static and slowly moving cameras (remote underwater video, transects, a hand-held camera that
shakes). Per frame, with memory that does not grow with the length of the video:

1. **Work image.** The frame is block-averaged to about ``work_width`` pixels wide and turned
   into luminance + two chroma channels (:func:`~ecoseg.engine.background.downscale_opponent`).
2. **Camera motion.** Phase correlation of the work image against the background model gives
   the picture's translation (pans, shake); the model is shifted by it and the accumulated
   camera offset turns screen positions into world positions for the tracker.
3. **Background.** A per-pixel running mean and variance per channel, started from the median
   of the first ``warmup`` frames (looked ahead, aligned for camera motion) and updated fast on
   background pixels and slowly under animals. A pixel's score is its noise-normalised distance
   from the background, so the threshold adapts to noisy luminance (caustics) and quiet chroma.
4. **Foreground cleanup.** Hysteresis threshold (seeds above ``threshold`` sigmas grown through
   pixels above ``threshold_low``), opening, closing, hole filling, minimum area.
5. **Masks at video resolution.** Inside each blob's bounding box only, the score is upsampled
   bilinearly and cut at half the blob's own contrast, which puts the edge where a pixel is half
   covered (an unbiased area) without full-size float work.
6. **Splitting.** A blob whose distance transform has two or more strong peaks separated by a
   narrow neck (two animals touching) is split by a watershed, on its connected work-resolution
   outline (:mod:`~ecoseg.engine.classical.fragments`), so an animal whose mask is in pieces
   stays one; the cut is carried to the video-resolution mask.
7. **Linking** (:class:`~ecoseg.engine.linking.Linker`): constant-velocity prediction in world
   coordinates, gated assignment on distance + box overlap, gaps of up to ``max_gap`` frames
   closed, new tracks confirmed after ``min_hits`` frames. Output is therefore delayed by
   ``min_hits - 1`` frames, which lets a confirmed track keep its first detections.
8. **Moving camera check** (:mod:`~ecoseg.engine.classical.motion`): the camera motion of step
   2 is added up; a camera that sweeps more than 1 % of the frame width per frame is too fast
   for motion segmentation, and the run warns once (:class:`FastCameraWarning`; the CLI, napari
   and the store's provenance say it too) that the sam2 engine is the tool for such footage.

Limits: animals that do not move (most invertebrates, a fish that hovers) become background
after a while — that is what a background model does; the SAM 2 engine handles them. Fast pans
are flagged (step 8); zoom and rotation are not compensated.

Examples
--------
>>> import numpy as np
>>> frames = np.full((30, 64, 96, 3), 90, np.uint8)
>>> for t in range(30):
...     frames[t, 20:34, 10 + 2 * t : 24 + 2 * t] = (230, 200, 40)
>>> results = list(track(frames, fps=10))
>>> len(results), sorted({int(i) for r in results for i in r.object_ids})
(30, [1])

Modules: :mod:`~ecoseg.engine.classical.params` (:class:`ClassicalParams`),
:mod:`~ecoseg.engine.classical.tracker` (:class:`ClassicalTracker`, per frame),
:mod:`~ecoseg.engine.classical.splitting` (touching and overlapping animals),
:mod:`~ecoseg.engine.classical.motion` (the moving-camera check),
:mod:`~ecoseg.engine.classical.video` (:func:`track`, :func:`segment_classical`), with
:mod:`ecoseg.engine.background` (background model, camera motion) and
:mod:`ecoseg.engine.linking` (tracks).
"""

from ecoseg.engine.classical.motion import FastCameraWarning
from ecoseg.engine.classical.params import ClassicalParams
from ecoseg.engine.classical.splitting import split_touching
from ecoseg.engine.classical.tracker import ClassicalTracker, Detection
from ecoseg.engine.classical.video import TrackRun, segment_classical, track

__all__ = [
    "ClassicalParams",
    "ClassicalTracker",
    "Detection",
    "FastCameraWarning",
    "TrackRun",
    "segment_classical",
    "split_touching",
    "track",
]
