"""Automatic discovery: find and track organisms that nobody clicked.

:class:`DiscoveryEngine` runs the SAM 2 video tracker (:class:`~ecoseg.engine.tracker.
VideoTracker`) forward through a video and, every ``key_interval`` frames, looks for new
objects:

1. **Proposals** on the key frame, from two sources, on the image features the tracker has
   already computed for that frame (only the prompt encoder and mask decoder run again):

   - the **motion tracker's detections** (:mod:`ecoseg.engine.classical`, a separate quick
     pass over the video that keeps only the boxes of key frames) used as box prompts: moving
     animals, found first;
   - the **automatic mask generator** (:class:`~ecoseg.sam2.automatic.AutomaticMaskGenerator`):
     a grid of clicks with predicted-IoU and stability filters, size limits and box NMS: still
     animals, colonies, anything with an edge.

   Proposals are masks at a work resolution (``mask_size`` pixels on the long side).
2. **Association.** A proposal whose pixels are covered by more than ``max_overlap`` by the
   masks of live tracks (or by proposals accepted before it on this frame) is the same object
   and is dropped; the others seed new tracks (a mask prompt on the key frame, SAM 2's
   ``add_new_mask``), up to ``max_objects`` live discovered tracks.
3. **Ending.** A discovered track whose presence score (sigmoid of SAM 2's object-score logit)
   stays below ``score_thresh``, or whose mask stays empty, for ``end_after`` consecutive
   frames ends: it is removed from the tracker (its memories are freed) and its id is not used
   again. Objects from a prompt file never end (they keep their ids when they leave the frame
   and come back).

Objects from a prompt file start on their first prompted frame (all their prompts are added
then); they keep their ids and classes. Discovered objects get ids above every prompted id, the
source ``"discovered"``, and a class from the first matching :class:`ClassRule` (area in video
pixels and mean colour of the mask on the frame where it was found), else ``"unknown"``.

Tracking of every object is independent of the others (SAM 2 tracks each object with its own
memories), so prompted objects get the same masks with or without discovery.

Memory is bounded: the tracker keeps only what SAM 2 attends to, the motion pass keeps only the
boxes of key frames, and frames are decoded a few (``prefetch``) ahead in a background thread.
On CUDA the network runs under bf16 autocast and label images are resolved on the device
(``run(output="labels")``).

Examples
--------
>>> import numpy as np
>>> from ecoseg import sam2
>>> net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
>>> frames = [np.full((48, 64, 3), 100, np.uint8)] * 3
>>> engine = DiscoveryEngine(net, frames, params=DiscoveryParams(points_per_side=4,
...                          motion=False, pred_iou_thresh=0.0, stability_score_thresh=0.0))
>>> [r.index for r in engine.run()]
[0, 1, 2]
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ecoseg.engine._runtime import (
    OUTPUTS,
    FrameEncoder,
    as_video,
    bf16_autocast,
    fast_bf16,
    fetch,
    is_cancelled,
    prefetch,
)
from ecoseg.engine.discovery_params import ClassRule, DiscoveryParams
from ecoseg.engine.results import FrameResult
from ecoseg.engine.tracker import VideoTracker

__all__ = [
    "ClassRule",
    "DiscoveryEngine",
    "DiscoveryParams",
    "coverage",
    "discover",
    "motion_boxes",
    "work_size",
]


# ---------------------------------------------------------------------------------------
# pure helpers
# ---------------------------------------------------------------------------------------
def work_size(height: int, width: int, long_side: int) -> tuple[int, int]:
    """``(h, w)`` of a frame scaled so its long side is at most ``long_side`` (never up).

    Examples
    --------
    >>> work_size(1080, 1920, 512)
    (288, 512)
    >>> work_size(60, 80, 512)
    (60, 80)
    """
    scale = min(1.0, long_side / max(height, width))
    return max(1, round(height * scale)), max(1, round(width * scale))


def coverage(masks: np.ndarray, occupied: np.ndarray) -> np.ndarray:
    """Fraction of each mask's pixels inside ``occupied``.

    Parameters
    ----------
    masks : ndarray of bool, shape (N, H, W)
    occupied : ndarray of bool, shape (H, W)

    Returns
    -------
    ndarray of float64, shape (N,)
        0 for empty masks.

    Examples
    --------
    >>> m = np.zeros((1, 2, 2), bool); m[0, 0] = True
    >>> coverage(m, np.array([[True, False], [False, False]])).tolist()
    [0.5]
    """
    masks = np.asarray(masks, bool)
    area = masks.reshape(len(masks), -1).sum(1)
    inside = (masks & np.asarray(occupied, bool)[None]).reshape(len(masks), -1).sum(1)
    return np.where(area > 0, inside / np.maximum(area, 1), 0.0)


def _resize_nearest(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = mask.shape[-2:]
    rows = (np.arange(size[0]) * h) // size[0]
    cols = (np.arange(size[1]) * w) // size[1]
    return mask[..., rows[:, None], cols[None, :]]


def _label_boxes(labels: np.ndarray) -> list[tuple[int, list[float]]]:
    """``(id, [x0, y0, x1, y1])`` (ends exclusive) of every id in a label image."""
    from scipy import ndimage

    out = []
    for i, sl in enumerate(ndimage.find_objects(labels), start=1):
        if sl is not None:
            out.append(
                (i, [float(sl[1].start), float(sl[0].start), float(sl[1].stop), float(sl[0].stop)])
            )
    return out


def motion_boxes(
    video, key_frames: set[int] | None = None, params: dict[str, Any] | None = None
) -> dict[int, list[list[float]]]:
    """Boxes of the animals the motion tracker detects, on the given frames.

    A pass of :func:`ecoseg.engine.classical.track` over the whole video that keeps only the
    boxes of ``key_frames`` (memory: a few boxes per key frame).

    Parameters
    ----------
    video : VideoReader or sequence of ndarray
    key_frames : set of int, optional
        Frames to keep boxes of (default all).
    params : dict, optional
        :class:`~ecoseg.engine.classical.ClassicalParams` fields.

    Returns
    -------
    dict of int to list of [x0, y0, x1, y1]
        Video pixels, ends exclusive, ordered by track id.

    Examples
    --------
    >>> frames = np.full((12, 48, 64, 3), 60, np.uint8)
    >>> for t in range(12):
    ...     frames[t, 10:20, 4 + 3 * t : 14 + 3 * t] = 220
    >>> motion_boxes(frames, {11}, {"warmup": 12})
    {11: [[37.0, 10.0, 47.0, 20.0]]}
    """
    from ecoseg.engine.classical import track

    source = video
    if isinstance(video, np.ndarray) or (
        isinstance(video, list | tuple) and len(video) and isinstance(video[0], np.ndarray)
    ):
        source = np.asarray(video)
    out: dict[int, list[list[float]]] = {}
    for r in track(source, params=dict(params or {})):
        if key_frames is not None and r.index not in key_frames:
            continue
        boxes = [b for _, b in _label_boxes(r.label_image())]
        if boxes:
            out[r.index] = boxes
    return out


# ---------------------------------------------------------------------------------------
# the engine
# ---------------------------------------------------------------------------------------
@dataclass
class _Discovered:
    first_frame: int
    low_frames: int = 0


class DiscoveryEngine:
    """SAM 2 tracking with automatic discovery of new objects (see the module docstring).

    Parameters
    ----------
    model : SAM2Model
    video : VideoReader or sequence of ndarray
    prompts : Prompts, optional
        Clicked objects (tracked from their first prompted frame, never ended).
    params : DiscoveryParams or dict, optional
    device : str or torch.device, optional
    motion : dict of int to list of boxes, optional
        Motion-tracker boxes per frame (default: computed with :func:`motion_boxes` when
        ``params.motion``).
    autocast : bool, optional
        bfloat16 autocast for the network, as in
        :class:`~ecoseg.engine.session.StreamingSession` (default: on CUDA only).
    fast : bool
        bf16 as with ``StreamingSession(fast=True)``: on any device, but fp32 (with a
        warning) on a CPU without bf16 instructions. An explicit ``autocast`` wins.
    prefetch : int
        Frames decoded and preprocessed ahead in a background thread.

    Attributes
    ----------
    objects : dict of int to dict
        ``{"class", "source"}`` of every object so far (prompted ones from the start,
        discovered ones as they are found); the store writer reads it as it goes.
    ended : dict of int to int
        Discovered objects that ended, and the last frame they were reported on.
    log : list of dict
        Per key frame: ``frame``, proposals from ``motion`` and the ``generator``, how many
        were ``dropped`` as already tracked, and the ids of the ``new`` objects.
    """

    def __init__(
        self,
        model,
        video,
        prompts=None,
        *,
        params: DiscoveryParams | dict | None = None,
        device: str | torch.device | None = None,
        motion: dict[int, list[list[float]]] | None = None,
        autocast: bool | None = None,
        fast: bool = False,
        prefetch: int = 4,
    ):
        from ecoseg.sam2.automatic import AutomaticMaskGenerator

        if isinstance(params, dict):
            params = DiscoveryParams.from_dict(params)
        self.params = p = params or DiscoveryParams()
        self.video = as_video(video)
        n = len(self.video)
        self.height, self.width = int(self.video.height), int(self.video.width)
        if prompts is not None:
            prompts = prompts.validate(self.width, self.height, n)
        self.prompts = prompts
        if device is not None:
            model = model.to(device)
        self.model = model.eval()
        cuda = model.device.type == "cuda"
        if autocast is None:
            autocast = cuda or fast_bf16(fast, model.device)
        self.autocast = bool(autocast)
        self.prefetch = int(prefetch)
        self.tracker = VideoTracker(model, n, (self.height, self.width))
        self.encoder = FrameEncoder(model, model.device)
        self.work = work_size(self.height, self.width, p.mask_size)
        area = self.work[0] * self.work[1]
        self.generator = AutomaticMaskGenerator(
            model,
            min_area=p.min_area_fraction * area,
            max_area=p.max_area_fraction * area,
            **p.generator_kwargs(),
        )
        self._motion = motion
        self.objects: dict[int, dict[str, str]] = {}
        self._starts: dict[int, list] = {}
        if prompts is not None:
            for o in prompts.objects:
                self.objects[o.id] = {"class": o.class_, "source": "prompt"}
                self._starts.setdefault(o.prompts[0].frame, []).append(o)
        self._next_id = max(self.objects, default=0) + 1
        self.discovered: dict[int, _Discovered] = {}
        self.ended: dict[int, int] = {}
        self.log: list[dict[str, Any]] = []

    # -- helpers ----------------------------------------------------------------------
    def _amp(self):
        return bf16_autocast(self.autocast, self.model.device)

    def _key(self, t: int) -> bool:
        return t % self.params.key_interval == 0

    def _class_of(self, mask_work: np.ndarray, image: np.ndarray) -> str:
        if not self.params.classes:
            return "unknown"
        full = _resize_nearest(mask_work, (self.height, self.width))
        area = float(full.sum())
        mean = image[full].reshape(-1, 3).mean(0) if area else np.zeros(3)
        for rule in self.params.classes:
            if rule.matches(area, mean):
                return rule.name
        return "unknown"

    def _box_proposals(self, t: int, feats) -> np.ndarray:
        """Masks (work size) of the motion tracker's boxes on frame ``t``, via box prompts."""
        from ecoseg.sam2.model import upsample_logits

        boxes = (self._motion or {}).get(t, [])
        h, w = self.work
        if not boxes:
            return np.zeros((0, h, w), bool)
        model = self.model
        b = torch.as_tensor(np.asarray(boxes, np.float32)).reshape(-1, 2, 2)
        scale = torch.tensor([model.image_size / self.width, model.image_size / self.height])
        corners = (b * scale).to(model.device)
        labels = torch.tensor([[2, 3]], dtype=torch.int32, device=model.device)
        labels = labels.expand(len(boxes), 2)
        f = feats.expand(len(boxes))
        cond = model.condition_without_memory(f.features, f.pos)
        heads = model.run_heads(
            cond, f.high_res, points=corners, labels=labels, multimask=model.use_multimask(True, 2)
        )
        masks = (upsample_logits(heads.mask_logits, (h, w))[:, 0] > 0).cpu().numpy()
        # a box prompt says the animal is inside the box: clip to it (plus a margin)
        p = self.params
        inside = np.zeros_like(masks)
        sy, sx = h / self.height, w / self.width
        for k, (x0, y0, x1, y1) in enumerate(boxes):
            mx, my = p.box_margin * (x1 - x0), p.box_margin * (y1 - y0)
            c0, c1 = int(max(0, (x0 - mx) * sx)), int(math.ceil(min(w, (x1 + mx) * sx)))
            r0, r1 = int(max(0, (y0 - my) * sy)), int(math.ceil(min(h, (y1 + my) * sy)))
            inside[k, r0:r1, c0:c1] = True
        masks &= inside
        area = masks.reshape(len(masks), -1).sum(1)
        ok = (
            (area > 0)
            & (area >= p.min_area_fraction * h * w)
            & (area <= p.max_area_fraction * h * w)
        )
        return masks[ok]

    def _discover(self, t: int, image: np.ndarray, feats, live) -> None:
        """Seed tracks from the proposals on key frame ``t`` that no live track covers."""
        from ecoseg.prompts import FramePrompt
        from ecoseg.sam2.model import upsample_logits

        p = self.params
        room = p.max_objects - len(self.discovered)
        if room <= 0:
            return
        h, w = self.work
        occupied = np.zeros((h, w), bool)
        present = (torch.sigmoid(live.scores[:, 0]) >= p.score_thresh).cpu().numpy()
        if present.any():
            masks = upsample_logits(live.mask_logits[torch.from_numpy(present)], (h, w))
            occupied |= (masks[:, 0] > 0).any(0).cpu().numpy()
        candidates = []
        if p.motion:
            candidates.extend(self._box_proposals(t, feats))
        n_motion = len(candidates)
        if p.generator:
            candidates.extend(self.generator.generate_from_features(feats, (h, w)).masks)
        new = []
        dropped = 0
        for mask in candidates:
            if len(new) >= room:
                break
            if coverage(mask[None], occupied)[0] > p.max_overlap:
                dropped += 1
                continue
            occupied |= mask
            oid = self._next_id
            self._next_id += 1
            new.append((oid, FramePrompt(frame=t, mask=mask)))
            self.objects[oid] = {"class": self._class_of(mask, image), "source": "discovered"}
            self.discovered[oid] = _Discovered(t)
        if new:
            self.tracker.add_prompts(t, new, feats)
        self.log.append(
            {
                "frame": t,
                "motion": n_motion,
                "generator": len(candidates) - n_motion,
                "dropped": dropped,
                "new": [oid for oid, _ in new],
            }
        )

    def _start_prompted(self, t: int, feats) -> None:
        for o in self._starts.get(t, []):
            for prompt in reversed(o.prompts):  # latest first, as propagate does
                f = (
                    feats
                    if prompt.frame == t
                    else self.encoder(prompt.frame, self.video.read(prompt.frame).image)
                )
                self.tracker.add_prompts(prompt.frame, [(o.id, prompt)], f)

    def _end_absent(self, tracked) -> None:
        p = self.params
        scores = torch.sigmoid(tracked.scores[:, 0].float()).cpu().numpy()
        nonempty = (tracked.mask_logits > 0).flatten(1).any(1).cpu().numpy()
        for oid, s, ne in zip(tracked.object_ids, scores, nonempty):
            d = self.discovered.get(int(oid))
            if d is None:
                continue
            d.low_frames = d.low_frames + 1 if (s < p.score_thresh or not ne) else 0
            if d.low_frames >= p.end_after:
                self.tracker.remove_object(int(oid))
                del self.discovered[int(oid)]
                self.ended[int(oid)] = tracked.index

    # -- the run ----------------------------------------------------------------------
    @torch.inference_mode()
    def run(
        self,
        progress: Callable[[int, int], Any] | None = None,
        *,
        output: str = "logits",
        cancel=None,
    ) -> Iterator[FrameResult]:
        """Track and discover through the whole video, yielding one result per frame.

        Parameters
        ----------
        progress : callable, optional
            ``progress(done, total)`` after each frame.
        output : {"logits", "labels"}
            Mask logits at video resolution, or the label image resolved on the device (much
            less to copy from a GPU; ``logits`` is then None).
        cancel : threading.Event or callable, optional
            Checked before every frame; when set the run stops.

        Yields
        ------
        FrameResult
            ``object_ids`` (objects alive on the frame, in order of appearance), ``scores``
            (N,) float32 and ``logits`` (N, H, W) float32 at video resolution, or
            ``labels`` (H, W) uint32.
        """
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        p = self.params
        n = len(self.video)
        if p.motion and self._motion is None:
            keys = {t for t in range(n) if self._key(t)}
            self._motion = motion_boxes(self.video, keys, p.motion_params)
        tracker = self.tracker
        decoded = ((f, self.encoder.pixels(f.image)) for f in self.video.frames(0))
        for frame, pixels in prefetch(decoded, self.prefetch, "ecoseg-decode"):
            if is_cancelled(cancel):
                return
            t = int(frame.index)
            key = self._key(t)
            with self._amp():
                feats = None
                if key or t in self._starts or tracker.needs_features(t):
                    feats = self.encoder(t, pixels=pixels)
                self._start_prompted(t, feats)
                tracked = tracker.track(t, feats)
                if key:
                    self._discover(t, frame.image, feats, tracked)
                    tracked = tracker.collect(t)
            yield fetch(tracked, float(frame.time), (self.height, self.width), output).get()
            self._end_absent(tracked)
            if progress is not None:
                progress(t + 1, n)


def discover(
    model,
    video,
    prompts=None,
    *,
    params: DiscoveryParams | dict | None = None,
    device: str | torch.device | None = None,
    progress: Callable[[int, int], Any] | None = None,
) -> Iterator[FrameResult]:
    """Segment and track clicked and automatically discovered objects through a video.

    A shortcut for ``DiscoveryEngine(model, video, prompts, ...).run(progress)``; use the
    engine to read the object table (:attr:`DiscoveryEngine.objects`).

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg import sam2
    >>> net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
    >>> frames = [np.full((48, 64, 3), 100, np.uint8)] * 2
    >>> out = list(discover(net, frames, params={"motion": False, "points_per_side": 2}))
    >>> [r.logits.shape[1:] for r in out]
    [(48, 64), (48, 64)]
    """
    engine = DiscoveryEngine(model, video, prompts, params=params, device=device)
    return engine.run(progress)
