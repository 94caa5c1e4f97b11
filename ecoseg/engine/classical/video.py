"""The classical tracker over a whole video: :func:`track` and :func:`segment_classical`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from ecoseg._warn import warn
from ecoseg.engine._runtime import is_cancelled, prefetch, until_cancelled
from ecoseg.engine.classical.motion import FastCameraWarning
from ecoseg.engine.classical.params import ClassicalParams
from ecoseg.engine.classical.tracker import ClassicalTracker
from ecoseg.engine.results import FrameResult
from ecoseg.errors import Cancelled, ConfigError, VideoError
from ecoseg.io.folder import DEFAULT_FPS
from ecoseg.provenance import CameraMotion
from ecoseg.store.maskstore import MaskStore

__all__ = ["TrackRun", "segment_classical", "track"]


def _frames(video, fps: float | None) -> Iterator[tuple[int, float, np.ndarray]]:
    """``(index, time, image)`` from a VideoReader, Frames, arrays or a 4-d array."""
    rate = fps or getattr(video, "fps", None) or DEFAULT_FPS
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
    warn: bool = True,
    cancel: Any = None,
    **kwargs: Any,
) -> TrackRun:
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
        Frame rate for bare arrays (default: ``video.fps`` or
        :data:`~ecoseg.io.folder.DEFAULT_FPS`, 30).
    warn : bool
        Issue a :class:`~ecoseg.engine.classical.motion.FastCameraWarning` when the camera
        moved too fast (True); False leaves it to the caller to read ``camera_motion``.
    cancel : threading.Event or callable, optional
        Checked once per frame: once set, the run stops before the next frame, without the
        results still held back (they need the frames after them) and without a
        ``camera_motion``. :meth:`TrackRun.until_cancelled` turns that stop into
        :class:`~ecoseg.errors.Cancelled`; ``skip_until`` resumes it exactly.

    Returns
    -------
    TrackRun
        An iterator of :class:`FrameResult`, per frame, in order: ``object_ids``, ``scores``
        (1.0) and ``labels`` (H, W) uint32 at video resolution. Results arrive
        ``min_hits - 1`` frames (and, at the start, ``warmup`` frames) after their frame was
        read. Once exhausted, its ``camera_motion`` says how fast the camera moved; a
        :class:`~ecoseg.engine.classical.motion.FastCameraWarning` is issued (once) when that
        was too fast for motion segmentation.

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
    >>> len(list(track(frames, warmup=2, cancel=lambda: True)))  # stopped before frame 0
    0
    """
    _check_frames_given(video)
    params = ClassicalParams.coerce(params)
    if kwargs:
        params = ClassicalParams.from_dict({**params.to_dict(), **kwargs})
    if fps is not None and not (
        isinstance(fps, int | float) and not isinstance(fps, bool) and 0 < fps < float("inf")
    ):
        raise ConfigError(f"track: fps must be a positive number of frames per second, got {fps!r}")
    return TrackRun(video, params, int(skip_until), fps, warn, cancel)


def _check_frames_given(video: Any) -> None:
    """Refuse, in one line, what is no sequence of frames: a path (open it first) or a
    non-iterable (it failed deep in the tracker, or as a bare ``TypeError``)."""
    if isinstance(video, str | bytes | os.PathLike):
        raise TypeError(
            f"track: {os.fsdecode(video)!r} is a path, not frames; open it first: "
            "with ecoseg.open_video(path) as video: track(video)"
        )
    if not isinstance(video, Iterable):
        raise TypeError(
            "track: video must be a VideoReader (ecoseg.open_video), frames or an "
            f"(n, H, W, 3) array, got {type(video).__name__}"
        )


class TrackRun(Iterator[FrameResult]):
    """The results of :func:`track` as they come, then what was measured of the camera.

    Attributes
    ----------
    camera_motion : CameraMotion or None
        The camera's speed against the limit of motion segmentation
        (:mod:`~ecoseg.engine.classical.motion`); None until the last frame was tracked (and
        after a run its ``cancel`` stopped).
    """

    def __init__(
        self, video, params: ClassicalParams, skip_until: int, fps, warn: bool = True, cancel=None
    ):
        self.camera_motion: CameraMotion | None = None
        self._warn = bool(warn)
        self._cancel = cancel
        self._results = self._run(video, params, skip_until, fps)

    def __next__(self) -> FrameResult:
        return next(self._results)

    def close(self) -> None:
        """Stop early (closes the frame prefetch)."""
        self._results.close()

    def until_cancelled(self, store, total: int) -> TrackRun:
        """This run, raising :class:`~ecoseg.errors.Cancelled` (``store`` flushed) where its
        ``cancel`` stopped it before frame ``total - 1``
        (:func:`~ecoseg.engine._runtime.until_cancelled`; ``camera_motion`` is kept for
        :func:`~ecoseg.engine.results.write_results`)."""
        self._results = until_cancelled(self._results, self._cancel, store, total)
        return self

    def _run(self, video, params, skip_until, fps) -> Iterator[FrameResult]:
        tracker = yield from _track(video, params, skip_until, fps, self._cancel)
        if tracker is None:  # cancelled: the rest of the video was not seen
            return
        self.camera_motion = motion = tracker.meter.record()
        if motion.too_fast and self._warn:  # naming the video (a campaign has many)
            name = getattr(video, "path", None)
            warn(f"{name + ': ' if name else ''}{motion.summary()}", FastCameraWarning)


def _track(video, params, skip_until, fps, cancel=None):
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
        if is_cancelled(cancel):
            source.close()  # stops the prefetch thread
            return None  # the frames held back are dropped: they need the frames after them
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
    return tracker


def segment_classical(
    video,
    store,
    *,
    params: ClassicalParams | dict | None = None,
    progress: Callable[[int, int | None], Any] | None = None,
    start_frame: int | None = None,
    cancel: Any = None,
) -> int:
    """Track a video with the classical engine and stream the masks into a mask store.

    Objects are registered (class ``"unknown"``, source ``"tracker"``) the first time they
    appear, before the frame that holds them is appended. The camera's measured motion is
    recorded in the store's provenance (``camera_motion``, a
    :class:`~ecoseg.provenance.CameraMotion`).

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
    cancel : threading.Event or callable, optional
        As for :func:`track`: once set, the run stops before the next frame and raises
        :class:`~ecoseg.errors.Cancelled`, the store flushed (not marked complete, no
        ``camera_motion``) with the frames whose results were final; calling this again on
        the store continues it to the store of an uninterrupted run.

    Returns
    -------
    int
        Number of frames written by this call. The store is flushed and marked complete but
        left open.

    Raises
    ------
    Cancelled
        ``cancel`` stopped the run.

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

    if not isinstance(store, MaskStore):
        raise TypeError(
            "segment_classical: store must be a MaskStore open for writing "
            f"(MaskStore.create(path, height=..., width=...)), got {type(store).__name__} "
            f"{store!r:.60}"
        )
    _check_frames_given(video)
    params = ClassicalParams.coerce(params)
    start = int(store.n_frames if start_frame is None else start_frame)
    try:
        total = len(video)
    except TypeError:
        total = None
    run = track(video, params=params, skip_until=start, cancel=cancel)
    # with a known length, stopped before the frames a cancelled run lacks are filled empty
    results = run if total is None else run.until_cancelled(store, total)
    written = write_results(
        store, results, source="tracker", total=total, progress=progress or False
    )
    if run.camera_motion is None:  # stopped by cancel: a whole run measures the camera
        store.flush()
        raise Cancelled.after(store.path, store.n_frames)
    store.mark_complete()
    return written
