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
   narrow neck (two animals touching) is split by a watershed.
7. **Linking** (:class:`~ecoseg.engine.linking.Linker`): constant-velocity prediction in world
   coordinates, gated assignment on distance + box overlap, gaps of up to ``max_gap`` frames
   closed, new tracks confirmed after ``min_hits`` frames. Output is therefore delayed by
   ``min_hits - 1`` frames, which lets a confirmed track keep its first detections.

Limits: animals that do not move (most invertebrates, a fish that hovers) become background
after a while — that is what a background model does; the SAM 2 engine handles them. Fast pans
(more than a quarter of the frame per frame), zoom and rotation are not compensated.

Examples
--------
>>> import numpy as np
>>> frames = np.full((30, 64, 96, 3), 90, np.uint8)
>>> for t in range(30):
...     frames[t, 20:34, 10 + 2 * t : 24 + 2 * t] = (230, 200, 40)
>>> results = list(track(frames, fps=10))
>>> len(results), sorted({int(i) for r in results for i in r.object_ids})
(30, [1])
"""

from __future__ import annotations

import dataclasses
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import ndimage

from ecoseg.engine._runtime import prefetch
from ecoseg.engine.background import (
    BackgroundModel,
    ShiftEstimator,
    downscale_opponent,
    shift_image,
    work_factor,
)
from ecoseg.engine.linking import Linker, Track
from ecoseg.engine.results import FrameResult
from ecoseg.errors import ConfigError, VideoError

_MEDIAN_SAMPLES = 30  # look-ahead frames the initial background median is taken over
_COLOUR_SAMPLES = 192  # colour samples kept per track for splitting overlapping animals
# colour differences in "noise units": luminance changes with caustics, chromaticity less
_COLOUR_SCALE = np.array([1 / 12.0, 1 / 4.0, 1 / 4.0], np.float32)
_COLOUR_CAP = 16.0  # a colour unlike any of the track's costs at most this much
_PLACE_SCALE = 2.0  # work pixels from the predicted mask that cost as much as 1 colour unit

__all__ = ["ClassicalParams", "ClassicalTracker", "Detection", "segment_classical", "track"]


@dataclass(frozen=True)
class ClassicalParams:
    """Parameters of the classical motion tracker (all have working defaults).

    Sizes and distances are in pixels of the video unless the name says otherwise; the ``None``
    defaults scale with the frame size.

    Attributes
    ----------
    work_width : int
        Approximate width of the downscaled image used for background and motion (256; the
        frame is shrunk by the integer factor ``width // work_width``: 2 for 640 px, 5 for
        1280 px). Larger is more precise on small animals and slower.
    warmup : int
        Frames looked ahead to start the background as their per-pixel median (150, at most
        30 of them sampled); results start after these frames have been read.
    learning_rate : float
        How fast the background follows change on background pixels, per frame (0.05,
        a memory of about 20 frames: light, caustics, algae).
    foreground_rate : float
        The same under animals (0.002): slow, so a passing animal does not leave a trail.
    luma_weight : float
        Weight of brightness against chromaticity differences (0.25): caustics and shade
        change brightness; 1 treats both alike (clear water, grey animals).
    threshold : float
        Noise-normalised distance (in standard deviations) that seeds a detection (5.0).
    threshold_low : float
        Distance down to which a seeded detection grows (2.5).
    min_area : float, optional
        Smallest animal in pixels; default 0.02 % of the frame (at least 16 px).
    split : bool
        Split blobs that look like touching animals (True).
    split_saddle : float
        Split only where the neck between two distance-transform peaks is narrower than this
        fraction of the smaller peak (0.6).
    split_min_fraction : float
        Each part of a split must hold at least this fraction of the blob (0.2), so fins and
        tails are not cut off.
    max_gap : int
        Frames an animal may vanish (occlusion, missed detection) and keep its id (10).
    max_distance : float, optional
        Base gate for linking: how far from its predicted position a track may be continued;
        half the animal's size and its speed times the gap are added. Default 2 % of the frame
        diagonal.
    min_hits : int
        Consecutive detections that make a track (3); results lag ``min_hits - 1`` frames.
    motion : bool
        Compensate camera translation (pans, shake) (True). Off for a fixed camera saves a
        little time.
    motion_support : float
        Fraction of the picture that must move together before a motion counts as the
        camera's (0.15): a lone animal moving over plain sand is not a pan. Scenes with
        less texture than this cannot be motion-compensated.
    still_frames : int
        A track that has not moved for this many frames is folded into the background (75,
        2.5 s at 30 fps: a ghost heals, a fish hovering for a moment is kept); 0 keeps still
        animals until the background absorbs them on its own.
    """

    work_width: int = 256
    warmup: int = 150
    learning_rate: float = 0.05
    foreground_rate: float = 0.002
    luma_weight: float = 0.25
    threshold: float = 5.0
    threshold_low: float = 2.5
    min_area: float | None = None
    split: bool = True
    split_saddle: float = 0.6
    split_min_fraction: float = 0.2
    max_gap: int = 10
    max_distance: float | None = None
    min_hits: int = 3
    motion: bool = True
    motion_support: float = 0.15
    still_frames: int = 75

    def __post_init__(self):
        def need(ok: bool, what: str):
            if not ok:
                raise ConfigError(f"classical engine: {what}")

        need(int(self.work_width) >= 16, f"work_width must be >= 16, got {self.work_width}")
        need(int(self.warmup) >= 1, f"warmup must be >= 1, got {self.warmup}")
        need(
            0 < self.learning_rate <= 1,
            f"learning_rate must be in (0, 1], got {self.learning_rate}",
        )
        need(
            0 <= self.foreground_rate <= self.learning_rate,
            f"foreground_rate must be in [0, learning_rate], got {self.foreground_rate}",
        )
        need(0 <= self.luma_weight <= 1, f"luma_weight must be in [0, 1], got {self.luma_weight}")
        need(self.threshold > 0, f"threshold must be > 0, got {self.threshold}")
        need(
            0 < self.threshold_low <= self.threshold,
            f"threshold_low must be in (0, threshold], got {self.threshold_low}",
        )
        need(
            self.min_area is None or self.min_area >= 1,
            f"min_area must be >= 1, got {self.min_area}",
        )
        need(0 < self.split_saddle <= 1, f"split_saddle must be in (0, 1], got {self.split_saddle}")
        need(
            0 <= self.split_min_fraction < 0.5,
            f"split_min_fraction must be in [0, 0.5), got {self.split_min_fraction}",
        )
        need(int(self.max_gap) >= 0, f"max_gap must be >= 0, got {self.max_gap}")
        need(
            self.max_distance is None or self.max_distance > 0,
            f"max_distance must be > 0, got {self.max_distance}",
        )
        need(int(self.min_hits) >= 1, f"min_hits must be >= 1, got {self.min_hits}")
        need(
            0 < self.motion_support <= 1,
            f"motion_support must be in (0, 1], got {self.motion_support}",
        )
        need(int(self.still_frames) >= 0, f"still_frames must be >= 0, got {self.still_frames}")

    @classmethod
    def from_dict(cls, values: dict[str, Any] | None) -> ClassicalParams:
        """Build from a dict, naming any unknown key in a :class:`ConfigError`."""
        values = dict(values or {})
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ConfigError(
                f"classical engine: unknown parameter {unknown[0]!r}; "
                f"known: {', '.join(sorted(names))}"
            )
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of all parameters (for provenance)."""
        return dataclasses.asdict(self)


@dataclass(eq=False)
class Detection:
    """One detected animal in one frame, at video resolution.

    ``mask`` covers rows ``y0 : y0 + mask.shape[0]`` and columns ``x0 : x0 + mask.shape[1]``;
    ``cy, cx`` is the centroid on screen; ``blob`` is the work-resolution blob it came from.
    """

    y0: int
    x0: int
    mask: np.ndarray = field(repr=False)
    area: int
    cy: float
    cx: float
    blob: int
    track: Track | None = None
    wy0: int = 0  # work-resolution mask: rows wy0 : wy0 + wmask.shape[0], screen work pixels
    wx0: int = 0
    wmask: np.ndarray | None = field(default=None, repr=False)
    shared: bool = False  # split from a blob that held several known animals


@dataclass
class _Pending:
    index: int
    time: float
    detections: list[Detection]


class ClassicalTracker:
    """Streaming state of the motion tracker for one video.

    Feed frames in order with :meth:`push` (each call returns the results that became final)
    and call :meth:`finish` at the end. :func:`track` wraps this for whole videos.

    Parameters
    ----------
    height, width : int
        Frame size in pixels.
    params : ClassicalParams, optional
    skip_until : int
        Frames with a smaller index are processed (to rebuild the state) but not rendered or
        returned: resuming a run gives exactly the frames an uninterrupted run would.

    Examples
    --------
    >>> tr = ClassicalTracker(48, 64, ClassicalParams(warmup=2, min_hits=1))
    >>> out = tr.push(0, 0.0, np.zeros((48, 64, 3), np.uint8))
    >>> out += tr.push(1, 0.1, np.zeros((48, 64, 3), np.uint8)) + tr.finish()
    >>> [r.index for r in out]
    [0, 1]
    """

    def __init__(
        self,
        height: int,
        width: int,
        params: ClassicalParams | None = None,
        *,
        skip_until: int = 0,
    ):
        self.params = p = params or ClassicalParams()
        self.height, self.width = int(height), int(width)
        if self.height < 8 or self.width < 8:
            raise VideoError(f"frames of {self.width}x{self.height} are too small to track in")
        self.skip_until = int(skip_until)
        self.factor = s = work_factor(self.width, self.height, p.work_width)
        self.work_shape = (self.height // s, self.width // s)
        frame_area = self.height * self.width
        self.min_area = (
            float(p.min_area) if p.min_area is not None else max(16.0, 2e-4 * frame_area)
        )
        diag = float(np.hypot(self.height, self.width))
        max_distance = p.max_distance if p.max_distance is not None else 0.02 * diag
        self.linker = Linker(
            max_gap=p.max_gap,
            max_distance=max_distance,
            min_hits=p.min_hits,
            still_frames=p.still_frames,
            still_distance=max(1.0, 0.5 * s),
        )
        self.shifts = ShiftEstimator(self.work_shape) if p.motion else None
        self.background: BackgroundModel | None = None
        self.camera = np.zeros(2)  # accumulated camera offset (y, x) in video pixels
        self._warm: list[tuple[int, float, np.ndarray, np.ndarray]] = []
        self._key = None
        self._pending: deque[_Pending] = deque()
        self._last_index: int | None = None
        self._fg_prev: np.ndarray | None = None
        self.frames_seen = 0

    # -- streaming ---------------------------------------------------------------------------
    def push(self, index: int, time: float, image: np.ndarray) -> list[FrameResult]:
        """Process one frame; return the (possibly earlier) frames whose results are final."""
        index = int(index)
        if self._last_index is not None and index <= self._last_index:
            raise VideoError(
                f"frame {index} (t={time:.3f} s) comes after frame {self._last_index}; "
                "frames must arrive in increasing order"
            )
        self._last_index = index
        _check_image(image, self.height, self.width, index, time)
        work = downscale_opponent(image, self.factor)
        self.frames_seen += 1
        if self.background is None:
            self._look_ahead(index, float(time), work)
            if len(self._warm) < self.params.warmup:
                return []
            return self._start()
        return self._step(index, float(time), work)

    def finish(self) -> list[FrameResult]:
        """Flush: results of all frames still held back (warm-up and linking lag)."""
        out = self._start() if self.background is None and self._warm else []
        while self._pending:
            out.extend(self._emit(self._pending.popleft()))
        return out

    @property
    def state_nbytes(self) -> int:
        """Bytes held by the tracker's arrays (flat in the length of the video)."""
        n = sum(w.nbytes for _, _, w, _ in self._warm)
        if self.background is not None:
            n += self.background.nbytes
        if self.shifts is not None:
            n += self.shifts.nbytes
        for pend in self._pending:
            n += sum(d.mask.nbytes for d in pend.detections)
        return n

    @property
    def n_held(self) -> int:
        """Frames held back (warm-up look-ahead or linking lag): bounded by the parameters."""
        return len(self._warm) + len(self._pending)

    # -- warm-up -----------------------------------------------------------------------------
    def _look_ahead(self, index: int, time: float, work: np.ndarray) -> None:
        """Keep a warm-up frame (quantised to uint8) and its camera offset from the first."""
        offset = np.zeros(2)
        if self.shifts is not None:
            # offsets against a key frame, renewed after a tenth of the frame: per-frame
            # estimates would let small biases (drifting caustics) add up over a long pan
            grey = work[0].copy()
            spec = self.shifts.spectrum(grey)
            if self._key is None:
                self._key = (spec, grey, offset)
            else:
                key_spec, key_grey, key_offset = self._key
                d = self.shifts(key_spec, spec)
                offset = key_offset.copy()
                if max(abs(d[0]), abs(d[1])) >= 0.05 and (
                    self.shifts.support(key_grey, grey, d, 1.5) >= self.params.motion_support
                ):
                    offset += d
                    if max(abs(d[0]), abs(d[1])) > 0.1 * min(self.work_shape):
                        self._key = (spec, grey, offset)
        q = np.clip(np.rint(work), 0, 255).astype(np.uint8)
        self._warm.append((index, time, q, offset))

    def _start(self) -> list[FrameResult]:
        """Build the background from the look-ahead frames, then process them."""
        warm, self._warm = self._warm, []
        self._key = None
        stride = -(-len(warm) // _MEDIAN_SAMPLES)
        aligned = []
        for _, _, q, offset in warm[::stride]:
            w = q.astype(np.float32)
            if offset.any():
                w, valid = shift_image(w, -offset[0], -offset[1])
                w[:, ~valid] = np.nan
            aligned.append(w)
        stack = np.stack(aligned)
        del aligned
        floor = np.array([1.0, 0.25, 0.25], np.float32)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN pixels (pans)
            med = _still_median(stack)
            med = np.where(np.isnan(med), warm[0][2], med).astype(np.float32)
            stack -= med
            var = _nanmedian0(np.abs(stack)) ** 2 * np.float32(1.4826**2)
            var = np.maximum(np.nan_to_num(var, nan=0.0), floor[:, None, None])
            # the robust spread misses flicker (caustics) that touches a pixel now and then;
            # learn it from the deviations that are not animal-shaped blobs
            weights = (self.params.luma_weight, 1.0, 1.0)
            model = BackgroundModel(med, var, var_floor=floor, weights=weights)
            for dev in stack:
                fg, _, n = self._foreground(model.distance(dev + med))
                if n:
                    dev[:, _dilate3(fg)] = np.nan
            learnt = np.nanmean(stack * stack, axis=0)
        var = np.where(np.isnan(learnt), var, np.maximum(var, learnt))
        typical = np.maximum(np.median(var.reshape(3, -1), axis=1), floor)[:, None, None]
        var = np.maximum(var, 0.5 * typical).astype(np.float32)
        del stack
        p = self.params
        self.background = BackgroundModel(
            med,
            var,
            rate=p.learning_rate,
            rate_foreground=p.foreground_rate,
            var_floor=floor,
            weights=(p.luma_weight, 1.0, 1.0),
        )
        out: list[FrameResult] = []
        for index, time, q, _ in warm:
            out.extend(self._step(index, time, q.astype(np.float32)))
        return out

    # -- one frame ---------------------------------------------------------------------------
    def _step(self, index: int, time: float, work: np.ndarray) -> list[FrameResult]:
        bg = self.background
        if self.shifts is not None:
            self._follow_camera(work)
        dist = bg.distance(work)
        fg, blobs, n = self._foreground(dist)
        if self.shifts is not None:
            self._fg_prev = _dilate3(_dilate3(fg))
        detections = self._detect(index, work, dist, blobs, n) if n else []
        bg.update(work, _dilate3(fg) if n else fg)
        if detections:
            cent = np.array([(d.cy, d.cx) for d in detections]) + self.camera
            areas = np.array([d.area for d in detections], np.float64)
            sizes = np.array([d.mask.shape for d in detections], np.float64)
            self.linker.step(index, cent, areas, sizes)
            for d, t in zip(detections, self.linker.last_assigned):
                d.track = t
                self._remember(t, d, work, index)
            self._absorb_still(work, blobs, detections)
        else:
            self.linker.step(index, np.zeros((0, 2)), np.zeros(0), np.zeros((0, 2)))
        self._pending.append(_Pending(index, time, detections))
        out = []
        while len(self._pending) > self.params.min_hits - 1:
            out.extend(self._emit(self._pending.popleft()))
        return out

    def _follow_camera(self, work: np.ndarray) -> None:
        """Estimate the camera's motion against the background and shift the model with it."""
        bg = self.background
        ref = bg.mean[0]
        cur = work[0]
        prev = self._fg_prev
        if prev is not None and 0 < np.count_nonzero(prev) < 0.3 * prev.size:
            cur = np.where(prev, ref, cur)  # animals must not drag the estimate along
        d = self.shifts(ref, cur)
        if abs(d[0]) < 0.05 and abs(d[1]) < 0.05:
            return
        tol = 1.5  # levels of luminance: above the noise of a work pixel
        if self.shifts.support(ref, cur, d, tol) < self.params.motion_support:
            return
        bg.shift(d[0], d[1], work)
        self.camera -= np.array(d) * self.factor

    def _foreground(self, dist: np.ndarray):
        """Clean foreground mask, its blobs and their number, at work resolution."""
        p = self.params
        # seeds: above the threshold and at least 3x3 work pixels thick (no thin flicker)
        seeds = _dilate3(_erode3(dist > p.threshold))
        if not seeds.any():
            return seeds, np.zeros(dist.shape, np.int32), 0
        lab, n = ndimage.label(dist > p.threshold_low)
        keep = np.zeros(n + 1, bool)
        keep[lab[seeds]] = True
        keep[0] = False
        fg = keep[lab]
        fg = _fill_holes(_erode3(_dilate3(fg)) | fg)
        blobs, n = ndimage.label(fg)
        if n:
            areas = np.bincount(blobs.ravel(), minlength=n + 1) * float(self.factor**2)
            small = areas < 0.5 * self.min_area
            small[0] = False
            if small.any():
                fg &= ~small[blobs]
                blobs, n = ndimage.label(fg)
        return fg, blobs, n

    def _detect(
        self, index: int, work: np.ndarray, dist: np.ndarray, blobs: np.ndarray, n: int
    ) -> list[Detection]:
        p = self.params
        s = self.factor
        h, w = dist.shape
        out: list[Detection] = []
        known = [(t, self._predict_mask(t, index)) for t in self.linker.tracks if t.appearance]
        # where the live tracks are expected now (screen pixels), to spot merged animals
        expected = np.array(
            [(*t.predict(index), t.area) for t in self.linker.tracks], np.float64
        ).reshape(-1, 3)
        expected[:, :2] -= self.camera
        for k, sl in enumerate(ndimage.find_objects(blobs), start=1):
            if sl is None:
                continue
            r0, r1 = max(sl[0].start - 1, 0), min(sl[0].stop + 1, h)
            c0, c1 = max(sl[1].start - 1, 0), min(sl[1].stop + 1, w)
            blob = blobs[r0:r1, c0:c1] == k
            d = dist[r0:r1, c0:c1]
            inside = d[blob]
            core = inside[inside > p.threshold]
            level = 0.5 * float(np.median(core)) if core.size else p.threshold
            level = max(level, p.threshold_low)
            # video-resolution box of this work box (the last row/column reach the frame edge)
            y0, x0 = r0 * s, c0 * s
            y1 = self.height if r1 == h else r1 * s
            x1 = self.width if c1 == w else c1 * s
            up = _upsample(dist, s, y0, y1, x0, x1)
            zone = _fit(_block_up(_dilate3(blob), s), y1 - y0, x1 - x0)
            # edges where the pixel is half covered; holes of low contrast inside filled
            mask = _fill_holes((up > level) & zone)
            if not mask.any():
                continue
            parts = [mask]
            shared = False
            if p.split:
                inside = self._tracks_in(blob, r0, c0, known)
                if len(inside) >= 2:
                    # a neck between them is the better cut; colour and place where none is
                    parts = self._split(mask, blob)
                    if len(parts) < len(inside):
                        parts = self._split_known(work, mask, blob, r0, c0, inside)
                    shared = len(parts) > 1
                elif self._may_be_merged(mask, expected, y0, y1, x0, x1):
                    parts = self._split(mask, blob)
            for part in parts:
                rows = np.count_nonzero(part, axis=1)
                area = int(rows.sum())
                if area < self.min_area:
                    continue
                cols = np.count_nonzero(part, axis=0)
                ry = np.flatnonzero(rows)
                cx = np.flatnonzero(cols)
                py0, py1, px0, px1 = ry[0], ry[-1] + 1, cx[0], cx[-1] + 1
                wmask = part[s // 2 :: s, s // 2 :: s][: r1 - r0, : c1 - c0] & blob
                out.append(
                    Detection(
                        y0=y0 + int(py0),
                        x0=x0 + int(px0),
                        mask=part[py0:py1, px0:px1],
                        area=area,
                        cy=y0 + float(rows @ np.arange(len(rows))) / area,
                        cx=x0 + float(cols @ np.arange(len(cols))) / area,
                        blob=k,
                        wy0=r0,
                        wx0=c0,
                        wmask=wmask,
                        shared=shared,
                    )
                )
        return out

    # -- animals that touch or overlap: split by what each known track looks like ------------
    def _remember(self, t: Track, d: Detection, work: np.ndarray, index: int) -> None:
        """Keep the track's last work-resolution mask (world position) and colour samples."""
        if d.wmask is None or not d.wmask.any():
            return
        s = self.factor
        pix = work[:, d.wy0 : d.wy0 + d.wmask.shape[0], d.wx0 : d.wx0 + d.wmask.shape[1]]
        pix = pix[:, d.wmask].T  # (n, 3)
        step = max(1, len(pix) // _COLOUR_SAMPLES)
        new = pix[::step][:_COLOUR_SAMPLES] * _COLOUR_SCALE
        old = t.appearance["colours"] if t.appearance else new[:0]
        if d.shared:  # pixels of a shared blob may be the other animal's: keep the old ones
            colours = old if len(old) else new
        else:
            colours = np.concatenate([new, old[: _COLOUR_SAMPLES - len(new) // 2]])
        t.appearance = {
            "colours": np.ascontiguousarray(colours, np.float32),
            "mask": d.wmask,
            "wy": d.wy0 + self.camera[0] / s,
            "wx": d.wx0 + self.camera[1] / s,
            "frame": index,
            "vy": t.vy / s,
            "vx": t.vx / s,
        }

    def _predict_mask(self, t: Track, index: int) -> tuple[int, int, np.ndarray]:
        """Where the track's last mask is expected now: (row, column) on screen, work pixels."""
        a = t.appearance
        gap = index - a["frame"]
        s = self.factor
        wy = a["wy"] + a["vy"] * gap - self.camera[0] / s
        wx = a["wx"] + a["vx"] * gap - self.camera[1] / s
        return int(round(wy)), int(round(wx)), a["mask"]

    @staticmethod
    def _tracks_in(blob, r0, c0, known) -> list:
        """Known tracks whose predicted mask lies mostly within ``blob`` (box at r0, c0)."""
        h, w = blob.shape
        out = []
        for t, (py, px, m) in known:
            oy, ox = py - r0, px - c0
            y0, y1 = max(oy, 0), min(oy + m.shape[0], h)
            x0, x1 = max(ox, 0), min(ox + m.shape[1], w)
            if y0 >= y1 or x0 >= x1:
                continue
            sub = m[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
            hit = np.count_nonzero(sub & blob[y0:y1, x0:x1])
            if hit >= 0.3 * np.count_nonzero(m):
                out.append((t, oy, ox, m))
        return out

    def _split_known(self, work, mask, blob, r0, c0, inside) -> list[np.ndarray]:
        """Share a blob among the known tracks expected in it, by colour and predicted place.

        Each blob pixel goes to the track whose colour samples it resembles most, plus a
        penalty growing with its distance from that track's predicted mask: an animal in front
        of another keeps the pixels of its own colours, two alike animals are cut where their
        predicted outlines meet.
        """
        h, w = blob.shape
        s = self.factor
        pix = work[:, r0 : r0 + h, c0 : c0 + w][:, blob].T * _COLOUR_SCALE  # (n, 3)
        cost = np.empty((len(inside), len(pix)), np.float32)
        for i, (t, oy, ox, m) in enumerate(inside):
            pred = np.zeros((h, w), bool)
            y0, y1 = max(oy, 0), min(oy + m.shape[0], h)
            x0, x1 = max(ox, 0), min(ox + m.shape[1], w)
            pred[y0:y1, x0:x1] = m[y0 - oy : y1 - oy, x0 - ox : x1 - ox]
            away = ndimage.distance_transform_edt(~pred)[blob] if pred.any() else 1e3
            col = t.appearance["colours"]
            # elementwise, not a matrix product: BLAS threads would compete with decoding
            d2 = np.square(pix[:, None, 0] - col[None, :, 0])
            for c in (1, 2):
                d2 += np.square(pix[:, None, c] - col[None, :, c])
            colour = np.minimum(d2.min(1), _COLOUR_CAP)
            cost[i] = colour + (away / _PLACE_SCALE) ** 2
        owner = np.argmin(cost, axis=0)
        lab = np.zeros((h, w), np.int32)
        lab[blob] = owner + 1
        # tidy: each track keeps its largest piece; stray pieces go to their neighbour
        for i in range(len(inside)):
            pieces, n = ndimage.label(lab == i + 1)
            if n > 1:
                big = np.argmax(np.bincount(pieces.ravel())[1:]) + 1
                lab[(pieces > 0) & (pieces != big)] = 0
        total = float(np.count_nonzero(blob))
        for i in range(len(inside)):
            if np.count_nonzero(lab == i + 1) < 0.05 * total:
                lab[lab == i + 1] = 0
        if np.count_nonzero(np.unique(lab)) < 2:
            return [mask]
        idx = ndimage.distance_transform_edt(lab == 0, return_distances=False, return_indices=True)
        lab = lab[idx[0], idx[1]]
        up = _fit(_block_up(lab, s), mask.shape[0], mask.shape[1])
        return [mask & (up == v) for v in np.unique(lab) if np.any(mask & (up == v))]

    def _may_be_merged(self, mask, expected, y0, y1, x0, x1) -> bool:
        """Whether a blob may hold touching animals: worth the distance-transform test.

        Yes for a blob that no track expected (new, or animals that arrived together), that two
        or more tracks are expected in, or that is much larger than the one track expected.
        """
        area = int(np.count_nonzero(mask))
        if area < 2 * self.min_area:
            return False
        ey, ex, ea = expected[:, 0], expected[:, 1], expected[:, 2]
        inside = (ey >= y0) & (ey < y1) & (ex >= x0) & (ex < x1)
        k = int(np.count_nonzero(inside))
        return k != 1 or area > 1.5 * float(ea[inside][0])

    def _split(self, mask: np.ndarray, blob: np.ndarray) -> list[np.ndarray]:
        """Split ``mask`` into touching animals (see :func:`split_touching`)."""
        p = self.params
        if mask.sum() < 2 * self.min_area:
            return [mask]
        # cheap test at work resolution first: most blobs are one animal
        if self.factor > 1 and blob.sum() >= 8:
            if len(split_touching(blob, p.split_saddle, p.split_min_fraction)) < 2:
                return [mask]
        return split_touching(mask, p.split_saddle, p.split_min_fraction)

    def _absorb_still(self, work, blobs, detections) -> None:
        if self.params.still_frames <= 0:
            return
        done = set()
        for d in detections:
            t = d.track
            if t is None or t.key in done or not self.linker.is_still(t):
                continue
            self.background.absorb(work, blobs == d.blob)
            self.linker.forget(t)
            done.add(t.key)

    def _emit(self, pend: _Pending) -> list[FrameResult]:
        if pend.index < self.skip_until:
            return []
        labels = np.zeros((self.height, self.width), np.uint32)
        ids: list[int] = []
        for d in pend.detections:
            tid = d.track.id if d.track is not None else 0
            if tid <= 0:
                continue
            view = labels[d.y0 : d.y0 + d.mask.shape[0], d.x0 : d.x0 + d.mask.shape[1]]
            view[d.mask] = tid
            ids.append(tid)
        # an id may have been overwritten entirely by an overlapping one: report what is drawn
        ids = sorted(set(ids))
        if ids:
            present = np.zeros(max(ids) + 1, bool)
            for d in pend.detections:
                if d.track is not None and d.track.id > 0:
                    view = labels[d.y0 : d.y0 + d.mask.shape[0], d.x0 : d.x0 + d.mask.shape[1]]
                    present[d.track.id] |= bool(np.any(view[d.mask] == d.track.id))
            ids = [i for i in ids if present[i]]
        object_ids = np.asarray(ids, np.int64)
        return [
            FrameResult(
                index=pend.index,
                time=pend.time,
                object_ids=object_ids,
                scores=np.ones(len(object_ids), np.float32),
                labels=labels,
            )
        ]


def split_touching(
    mask: np.ndarray, saddle: float = 0.6, min_fraction: float = 0.2
) -> list[np.ndarray]:
    """Split a binary blob into touching roundish parts (distance transform + watershed).

    Peaks of the distance transform seed a watershed; neighbouring parts are merged back while
    the neck between them is wider than ``saddle`` times the smaller peak, or while one is
    smaller than ``min_fraction`` of the blob. One part means "one animal".

    Parameters
    ----------
    mask : ndarray of bool, shape (h, w)
    saddle : float
    min_fraction : float

    Returns
    -------
    list of ndarray of bool
        Masks of the parts, each of shape (h, w).

    Examples
    --------
    >>> yy, xx = np.mgrid[:40, :60]
    >>> two = (np.hypot(yy - 20, xx - 15) < 10) | (np.hypot(yy - 20, xx - 34) < 10)
    >>> len(split_touching(two)), len(split_touching(np.hypot(yy - 20, xx - 30) < 12))
    (2, 1)
    """
    from skimage.segmentation import watershed

    mask = np.asarray(mask, bool)
    padded = np.pad(mask, 1)
    dist = ndimage.distance_transform_edt(padded)
    top = float(dist.max())
    if top < 2.0:
        return [mask]
    size = max(3, int(round(top)) | 1)
    peaks = (dist == ndimage.maximum_filter(dist, size=size)) & (dist >= 0.5 * top)
    markers, n = ndimage.label(peaks, structure=np.ones((3, 3), bool))
    if n < 2:
        return [mask]
    # cheap test before the watershed: peaks joined by a thick straight path are one body
    # (the ridge of an elongated fish has several maxima)
    ys, xs = np.nonzero(markers)
    first = np.unique(markers[ys, xs], return_index=True)[1]
    py, px = ys[first], xs[first]
    height = dist[py, px]
    group = np.arange(n)
    for i in range(n):
        for j in range(i + 1, n):
            t = np.linspace(0.0, 1.0, max(2, int(np.hypot(py[j] - py[i], px[j] - px[i])) + 1))
            path = dist[
                np.rint(py[i] + t * (py[j] - py[i])).astype(int),
                np.rint(px[i] + t * (px[j] - px[i])).astype(int),
            ]
            if path.min() > saddle * min(height[i], height[j]):
                group[group == group[j]] = group[i]
    _, group = np.unique(group, return_inverse=True)
    if group.max() < 1:
        return [mask]
    markers = np.concatenate([[0], group + 1])[markers]
    n = int(group.max()) + 1
    parts = watershed(-dist, markers, mask=padded)
    total = float(padded.sum())
    peak = np.zeros(n + 1)
    for i in range(1, n + 1):
        inside = dist[parts == i]
        peak[i] = float(inside.max()) if inside.size else 0.0
    while True:
        sizes = np.bincount(parts.ravel(), minlength=n + 1)
        ids = np.flatnonzero(sizes[1:]) + 1
        if len(ids) < 2:
            break
        best = None
        for a in ids:
            grown = _dilate3(parts == a)
            for b in np.unique(parts[grown]):
                if b <= a:
                    continue  # background, itself, or a pair already seen from b's side
                neck = float(dist[grown & (parts == b)].max())
                small = min(sizes[a], sizes[b]) < min_fraction * total
                ratio = neck / max(min(peak[a], peak[b]), 1e-9)
                if small or ratio > saddle:
                    score = (1.0 if small else 0.0) + ratio
                    if best is None or score > best[0]:
                        best = (score, a, int(b))
        if best is None:
            break
        _, a, b = best
        parts[parts == b] = a
        peak[a] = max(peak[a], peak[b])
    ids = [i for i in range(1, n + 1) if np.any(parts == i)]
    if len(ids) < 2:
        return [mask]
    inner = parts[1:-1, 1:-1]
    return [inner == i for i in ids]


def _still_median(stack: np.ndarray, lag: int = 3) -> np.ndarray:
    """Per-pixel median of the samples in which the pixel did not change over time.

    ``stack`` is ``(n, 3, h, w)`` work images (luminance, two chromaticities; NaN where not
    seen). A sample is left out where it differs from the sample ``lag`` before or after it by
    more than the noise: a fish that swims about in one place for most of the warm-up covers
    each pixel with changing colours, while the reef under it, whenever it shows, looks the
    same. Pixels left with fewer than three steady samples take the plain median.

    Examples
    --------
    >>> st = np.full((9, 3, 1, 2), 50.0, np.float32)
    >>> st[:6, :, 0, 0] = np.arange(6)[:, None] * 20.0  # something moving over pixel 0
    >>> _still_median(st)[:, 0, 0].tolist()
    [50.0, 50.0, 50.0]
    """
    n = stack.shape[0]
    plain = _nanmedian0(stack)
    if n < 2 * lag + 3:
        return plain
    tol = np.array([20.0, 5.0, 5.0], np.float32)[:, None, None]
    moving = np.zeros((n,) + stack.shape[2:], bool)
    for a in range(n - lag):
        change = np.any(np.abs(stack[a + lag] - stack[a]) > tol, axis=0)
        moving[a] |= change
        moving[a + lag] |= change
    steady = np.where(moving[:, None], np.float32(np.nan), stack)
    count = np.count_nonzero(~np.isnan(steady[:, 0]), axis=0)
    med = _nanmedian0(steady)
    return np.where((count >= 3)[None], med, plain)


def _nanmedian0(a: np.ndarray) -> np.ndarray:
    """Median over axis 0 ignoring NaN (NaN where all are NaN); faster than np.nanmedian.

    Sorting short contiguous rows (one per pixel) is several times faster here than numpy's
    median or partition along a long strided axis.
    """
    n = a.shape[0]
    rows = np.ascontiguousarray(a.reshape(n, -1).T)
    rows.sort(axis=1)  # NaN sorts last
    valid = n - np.isnan(rows).sum(axis=1)
    lo = np.maximum((valid - 1) // 2, 0)
    hi = np.maximum(valid // 2, 0)
    idx = np.arange(rows.shape[0])
    med = 0.5 * (rows[idx, lo] + rows[idx, hi])
    med[valid == 0] = np.nan
    return med.reshape(a.shape[1:])


# -- fast 3x3 binary morphology (numpy slicing; several times faster than scipy.ndimage here) --
def _dilate3(m: np.ndarray) -> np.ndarray:
    """Dilation by a 3x3 square (outside the image counts as background)."""
    r = m.copy()
    r[1:] |= m[:-1]
    r[:-1] |= m[1:]
    out = r.copy()
    out[:, 1:] |= r[:, :-1]
    out[:, :-1] |= r[:, 1:]
    return out


def _erode3(m: np.ndarray) -> np.ndarray:
    """Erosion by a 3x3 square (outside the image counts as background)."""
    r = m.copy()
    r[1:] &= m[:-1]
    r[:-1] &= m[1:]
    r[0] = False
    r[-1] = False
    out = r.copy()
    out[:, 1:] &= r[:, :-1]
    out[:, :-1] &= r[:, 1:]
    out[:, 0] = False
    out[:, -1] = False
    return out


def _fill_holes(m: np.ndarray) -> np.ndarray:
    """Fill background regions that do not reach the image border."""
    lab, n = ndimage.label(~m)
    if n <= 1:
        return m | (lab > 0) if n == 1 and not _touches_border(lab) else m
    outside = np.zeros(n + 1, bool)
    outside[lab[0]] = True
    outside[lab[-1]] = True
    outside[lab[:, 0]] = True
    outside[lab[:, -1]] = True
    outside[0] = True
    return m | ~outside[lab]


def _touches_border(lab: np.ndarray) -> bool:
    return bool(lab[0].any() or lab[-1].any() or lab[:, 0].any() or lab[:, -1].any())


def _upsample(work: np.ndarray, s: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """Bilinear upsampling of ``work`` (work pixels of ``s`` video pixels) onto a video box."""
    if s == 1:
        return work[y0:y1, x0:x1]
    h, w = work.shape
    uy = np.clip((np.arange(y0, y1) + 0.5) / s - 0.5, 0, h - 1)
    ux = np.clip((np.arange(x0, x1) + 0.5) / s - 0.5, 0, w - 1)
    iy0 = np.floor(uy).astype(np.intp)
    ix0 = np.floor(ux).astype(np.intp)
    fy = (uy - iy0).astype(np.float32)[:, None]
    fx = (ux - ix0).astype(np.float32)[None, :]
    iy1 = np.minimum(iy0 + 1, h - 1)
    ix1 = np.minimum(ix0 + 1, w - 1)
    rows = work[iy0] * (1 - fy) + work[iy1] * fy
    return rows[:, ix0] * (1 - fx) + rows[:, ix1] * fx


def _block_up(mask: np.ndarray, s: int) -> np.ndarray:
    """Each work pixel as an ``s`` x ``s`` block."""
    if s == 1:
        return mask
    return np.repeat(np.repeat(mask, s, 0), s, 1)


def _fit(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    """Crop or edge-extend ``arr`` to (h, w) (the frame's last partial work row/column)."""
    if arr.shape[0] < h:
        arr = np.concatenate([arr, np.repeat(arr[-1:], h - arr.shape[0], 0)], 0)
    if arr.shape[1] < w:
        arr = np.concatenate([arr, np.repeat(arr[:, -1:], w - arr.shape[1], 1)], 1)
    return arr[:h, :w]


def _check_image(image, height: int, width: int, index: int, time: float) -> None:
    if not isinstance(image, np.ndarray):
        raise VideoError(
            f"frame {index} (t={time:.3f} s): expected an (H, W, 3) uint8 array, "
            f"got {type(image).__name__}"
        )
    if image.shape != (height, width, 3):
        raise VideoError(
            f"frame {index} (t={time:.3f} s): shape {image.shape} differs from the video's "
            f"({height}, {width}, 3)"
        )
    if image.dtype != np.uint8:
        raise VideoError(f"frame {index} (t={time:.3f} s): dtype {image.dtype}, expected uint8")


def _frames(video, fps: float | None) -> Iterator[tuple[int, float, np.ndarray]]:
    """``(index, time, image)`` from a VideoReader, Frames, arrays or a 4-d array."""
    rate = fps or getattr(video, "fps", None) or 30.0
    for k, item in enumerate(video):
        if isinstance(item, np.ndarray):
            yield k, k / rate, item
        elif hasattr(item, "image"):
            yield int(getattr(item, "index", k)), float(getattr(item, "time", k / rate)), item.image
        elif isinstance(item, tuple) and len(item) >= 2:
            image = item[-1]
            time = float(item[-2]) if len(item) >= 2 else k / rate
            index = int(item[0]) if len(item) >= 3 else k
            yield index, time, image
        else:
            raise VideoError(
                f"frame {k}: expected a Frame, an (H, W, 3) array or (index, time, image), "
                f"got {type(item).__name__}"
            )


def track(
    video: Iterable,
    *,
    params: ClassicalParams | dict | None = None,
    skip_until: int = 0,
    fps: float | None = None,
    **kwargs: Any,
) -> Iterator[FrameResult]:
    """Track moving animals through a video with the classical motion tracker.

    Parameters
    ----------
    video : VideoReader or iterable
        A :class:`~ecoseg.io.video.VideoReader`, or any iterable of frames: objects with
        ``.index``, ``.time`` and ``.image``, ``(H, W, 3)`` uint8 arrays (times ``k / fps``),
        ``(index, time, image)`` tuples, or an ``(n, H, W, 3)`` array.
    params : ClassicalParams or dict, optional
        Tracker parameters; keyword arguments override single fields.
    skip_until : int
        Process but do not yield frames with a smaller index (resume: the state is rebuilt
        from the start, so the output equals that of an uninterrupted run).
    fps : float, optional
        Frame rate for bare arrays (default: ``video.fps`` or 30).

    Yields
    ------
    FrameResult
        Per frame, in order: ``object_ids``, ``scores`` (1.0) and ``labels`` (H, W) uint32 at
        video resolution. Results arrive ``min_hits - 1`` frames (and, at the start, ``warmup``
        frames) after their frame was read.

    Raises
    ------
    VideoError
        The video has no frames, or a frame has the wrong shape or type.

    Examples
    --------
    >>> frames = np.full((12, 48, 64, 3), 60, np.uint8)
    >>> for t in range(12):
    ...     frames[t, 10:20, 4 + 3 * t : 14 + 3 * t] = 220
    >>> [r.object_ids.tolist() for r in track(frames, warmup=12)][-1]
    [1]
    """
    if isinstance(params, dict):
        params = ClassicalParams.from_dict(params)
    params = params or ClassicalParams()
    if kwargs:
        params = ClassicalParams.from_dict({**params.to_dict(), **kwargs})
    return _track(video, params, int(skip_until), fps)


def _track(video, params, skip_until, fps) -> Iterator[FrameResult]:
    tracker: ClassicalTracker | None = None
    name = getattr(video, "path", None)
    frames = video
    if isinstance(video, np.ndarray):
        if video.ndim != 4:
            raise VideoError(f"expected an (n, H, W, 3) array of frames, got shape {video.shape}")
        frames = list(video)
    source = _frames(frames, fps)
    if not isinstance(frames, list | tuple):
        # decode the next frames while this one is tracked
        source = prefetch(source, 4, "ecoseg-classical-prefetch")
    for index, time, image in source:
        if tracker is None:
            shape = getattr(image, "shape", ())
            if len(shape) != 3 or shape[2] != 3:
                raise VideoError(
                    f"{name + ': ' if name else ''}frame {index} (t={time:.3f} s): expected an "
                    f"(H, W, 3) RGB image, got shape {shape}"
                )
            tracker = ClassicalTracker(shape[0], shape[1], params, skip_until=skip_until)
        yield from tracker.push(index, time, image)
    if tracker is None:
        raise VideoError(f"{name + ': ' if name else ''}video has no frames")
    yield from tracker.finish()


def segment_classical(
    video,
    store,
    *,
    params: ClassicalParams | dict | None = None,
    progress: Callable[[int, int | None], Any] | None = None,
    start_frame: int | None = None,
) -> int:
    """Track a video with the classical engine and stream the masks into a mask store.

    Objects are registered (class ``"unknown"``, source ``"tracker"``) the first time they
    appear, before the frame that holds them is appended.

    Parameters
    ----------
    video : VideoReader or iterable of frames
        See :func:`track`.
    store : MaskStore
        Open for writing. Frames it already holds are not written again: the tracker re-runs
        from the start to rebuild its state and writes from ``start_frame`` on.
    params : ClassicalParams or dict, optional
    progress : callable, optional
        Called as ``progress(frames_done, frames_total)`` after each written frame
        (``frames_total`` is None when the video has no length).
    start_frame : int, optional
        First frame to write; default ``store.n_frames`` (resume).

    Returns
    -------
    int
        Number of frames written by this call. The store is flushed and marked complete but
        left open.

    Examples
    --------
    >>> import tempfile, os
    >>> from ecoseg.store import MaskStore
    >>> frames = np.full((10, 48, 64, 3), 60, np.uint8)
    >>> for t in range(10):
    ...     frames[t, 10:20, 4 + 3 * t : 14 + 3 * t] = 220
    >>> path = os.path.join(tempfile.mkdtemp(), "masks.zarr")
    >>> store = MaskStore.create(path, height=48, width=64)
    >>> segment_classical(frames, store, params={"warmup": 10})
    10
    >>> [o["id"] for o in store.objects]
    [1]
    """
    from ecoseg.engine.results import write_results

    if isinstance(params, dict):
        params = ClassicalParams.from_dict(params)
    start = int(store.n_frames if start_frame is None else start_frame)
    try:
        total = len(video)
    except TypeError:
        total = None
    results = track(video, params=params, skip_until=start)
    written = write_results(
        store, results, source="tracker", total=total, progress=progress or False
    )
    store.mark_complete()
    return written
