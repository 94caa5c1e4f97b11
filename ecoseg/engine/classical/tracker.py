"""The classical tracker's per-frame state: background, camera motion, detection, linking.

:class:`ClassicalTracker` is fed one frame at a time (:meth:`~ClassicalTracker.push`) and
returns the results that became final; :func:`ecoseg.engine.classical.track` wraps it for whole
videos. The steps are described in :mod:`ecoseg.engine.classical`.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage

from ecoseg.engine.background import (
    BackgroundModel,
    ShiftEstimator,
    downscale_opponent,
    nanmean0,
    nanmedian0,
    shift_image,
    still_median,
    work_factor,
)
from ecoseg.engine.classical._morphology import (
    block_up,
    dilate3,
    erode3,
    fill_holes,
    fit,
    label,
    median,
    upsample_box,
)
from ecoseg.engine.classical.fragments import split_blob
from ecoseg.engine.classical.motion import CameraMeter
from ecoseg.engine.classical.params import ClassicalParams
from ecoseg.engine.classical.splitting import (
    COLOUR_SCALE,
    split_by_appearance,
    tracks_in,
)
from ecoseg.engine.linking import Linker, Track
from ecoseg.engine.results import FrameResult
from ecoseg.errors import VideoError

__all__ = ["ClassicalTracker", "Detection"]

_MEDIAN_SAMPLES = 30  # look-ahead frames the initial background median is taken over
_COLOUR_SAMPLES = 192  # colour samples kept per track for splitting overlapping animals
_NOISE = 1.5  # levels of luminance above the noise of a work pixel (camera-motion support)


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
    params : ClassicalParams or dict, optional
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
        self.params = p = ClassicalParams.coerce(params)
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
        self.meter = CameraMeter(self.width)  # camera against animal speed: see .motion
        self._measure_spec: np.ndarray | None = None  # frame two back: spectrum, grey image
        self._measure_grey: np.ndarray | None = None
        self._measure_count = 0
        self._warm: list[tuple[int, float, np.ndarray, np.ndarray]] = []
        self._key = None
        self._pending: deque[_Pending] = deque()
        self._last_index: int | None = None
        self._fg_prev: np.ndarray | None = None

    # -- streaming ---------------------------------------------------------------------------
    def push(self, index: int, time: float, image: np.ndarray) -> list[FrameResult]:
        """Process one frame; return the (possibly earlier) frames whose results are final."""
        index = int(index)
        if self._last_index is not None and index <= self._last_index:
            raise VideoError(
                f"frame {index} (t={time:.3f} s) comes after frame {self._last_index}; "
                "frames must arrive in increasing order"
            )
        _check_image(image, self.height, self.width, index, time)
        self._last_index = index  # a refused frame leaves the tracker as it was
        work = downscale_opponent(image, self.factor)
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
        if self._measure_spec is not None:
            n += self._measure_spec.nbytes + self._measure_grey.nbytes
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
        med = still_median(stack)  # NaN where a pixel was never seen (pans)
        med = np.where(np.isnan(med), warm[0][2], med).astype(np.float32)
        stack -= med
        var = nanmedian0(np.abs(stack)) ** 2 * np.float32(1.4826**2)
        var = np.maximum(np.nan_to_num(var, nan=0.0), floor[:, None, None])
        # the robust spread misses flicker (caustics) that touches a pixel now and then;
        # learn it from the deviations that are not animal-shaped blobs
        weights = (self.params.luma_weight, 1.0, 1.0)
        model = BackgroundModel(med, var, var_floor=floor, weights=weights)
        for dev in stack:
            fg, _, n = self._foreground(model.distance(dev + med))
            if n:
                dev[:, dilate3(fg)] = np.nan
        learnt = nanmean0(stack * stack)
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
            self._fg_prev = dilate3(dilate3(fg))
        detections = self._detect(index, work, dist, blobs, n) if n else []
        bg.update(work, dilate3(fg) if n else fg)
        if detections:
            cent = np.array([(d.cy, d.cx) for d in detections]) + self.camera
            areas = np.array([d.area for d in detections], np.float64)
            sizes = np.array([d.mask.shape for d in detections], np.float64)
            self.linker.step(index, cent, areas, sizes)
            for d, t in zip(detections, self.linker.last_assigned):
                d.track = t
                self._remember(t, d, work, index)
            self.meter.animals(
                [np.hypot(t.vy, t.vx) for t in self.linker.last_assigned if t.confirmed]
            )
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
        spec = self.shifts.spectrum(cur)
        self._measure_camera(cur, spec)
        d = self.shifts(ref, spec)
        if abs(d[0]) < 0.05 and abs(d[1]) < 0.05:
            return
        if self.shifts.support(ref, cur, d, _NOISE) < self.params.motion_support:
            return
        bg.shift(d[0], d[1], work)
        self.camera -= np.array(d) * self.factor

    def _measure_camera(self, grey: np.ndarray, spec: np.ndarray) -> None:
        """Frame-to-frame camera motion for the moving-camera check (:mod:`.motion`).

        Measured between frames two apart, whether or not the background could follow it (a
        pan too fast to compensate must still be seen); every second frame, which costs one
        inverse FFT per two frames. A shift counts only where enough of the picture moves with
        it (``motion_support``, as for the compensation): a large animal or vehicle crossing
        before a still camera is not the camera moving.
        """
        self._measure_count += 1
        if self._measure_count % 2:
            return
        if self._measure_spec is not None:
            dy, dx = self.shifts(self._measure_spec, spec)
            if (dy or dx) and (
                self.shifts.support(self._measure_grey, grey, (dy, dx), _NOISE)
                < self.params.motion_support
            ):
                dy = dx = 0.0
            self.meter.camera(dy * self.factor, dx * self.factor, frames=2)
        self._measure_spec = spec
        self._measure_grey = grey

    def _foreground(self, dist: np.ndarray):
        """Clean foreground mask, its blobs and their number, at work resolution."""
        p = self.params
        # seeds: above the threshold and at least 3x3 work pixels thick (no thin flicker)
        seeds = dilate3(erode3(dist > p.threshold))
        if not seeds.any():
            return seeds, np.zeros(dist.shape, np.int32), 0
        lab, n = label(dist > p.threshold_low)
        keep = np.zeros(n + 1, bool)
        keep[lab[seeds]] = True
        keep[0] = False
        fg = keep[lab]
        fg = fill_holes(erode3(dilate3(fg)) | fg)
        blobs, n = label(fg)
        if n:
            areas = np.bincount(blobs.ravel(), minlength=n + 1) * float(self.factor**2)
            small = areas < 0.5 * self.min_area
            small[0] = False
            if small.any():
                fg &= ~small[blobs]
                blobs, n = label(fg)
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
            level = 0.5 * median(core) if core.size else p.threshold
            level = max(level, p.threshold_low)
            # video-resolution box of this work box (the last row/column reach the frame edge)
            y0, x0 = r0 * s, c0 * s
            y1 = self.height if r1 == h else r1 * s
            x1 = self.width if c1 == w else c1 * s
            up = upsample_box(dist, s, y0, y1, x0, x1)
            near = dilate3(blob)
            zone = fit(block_up(near, s), y1 - y0, x1 - x0)
            # edges where the pixel is half covered; holes of low contrast inside filled, found
            # at work resolution (labelling the video-resolution box costs ~10x more)
            mask = (up > level) & zone
            coarse = (d > level) & near
            holes = fill_holes(coarse) & ~coarse
            if holes.any():
                mask |= fit(block_up(holes, s), y1 - y0, x1 - x0)
            if not mask.any():
                continue
            parts = [mask]
            shared = False
            if p.split:
                inside = tracks_in(blob, r0, c0, known)
                if len(inside) >= 2:
                    # a neck between them is the better cut; colour and place where none is
                    parts = self._split(mask, blob)
                    if len(parts) < len(inside):
                        parts = split_by_appearance(work, mask, blob, r0, c0, inside, s)
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
        new = pix[::step][:_COLOUR_SAMPLES] * COLOUR_SCALE
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
        """Split ``mask`` into touching animals along the blob's shape (see :func:`split_blob`)."""
        p = self.params
        if mask.sum() < 2 * self.min_area:
            return [mask]
        return split_blob(mask, blob, self.factor, p.split_saddle, p.split_min_fraction)

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
        drawn = [d for d in pend.detections if d.track is not None and d.track.id > 0]
        for d in drawn:
            view = labels[d.y0 : d.y0 + d.mask.shape[0], d.x0 : d.x0 + d.mask.shape[1]]
            np.copyto(view, np.uint32(d.track.id), where=d.mask)
        # an id may have been overwritten entirely by an overlapping one: report what is drawn
        # (only a detection whose box a later one overlaps needs looking at)
        present: set[int] = set()
        for i, d in enumerate(drawn):
            tid = d.track.id
            if tid in present:
                continue
            y1, x1 = d.y0 + d.mask.shape[0], d.x0 + d.mask.shape[1]
            covered = any(
                e.y0 < y1
                and d.y0 < e.y0 + e.mask.shape[0]
                and e.x0 < x1
                and d.x0 < e.x0 + e.mask.shape[1]
                for e in drawn[i + 1 :]
            )
            if not covered or np.any(labels[d.y0 : y1, d.x0 : x1][d.mask] == tid):
                present.add(tid)
        ids = sorted(present)
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
