"""SAM 2 runs into a mask store: the backward pass and resumable, cancellable results.

:func:`store_results` is what :func:`ecoseg.segment` hands its store writer for the sam2
engine: the frames before the earliest prompt (tracked backwards by :func:`backward_results`,
handed out in frame order), then :func:`~ecoseg.engine.session.propagate` from the earliest
prompt, with the tracker's resume state (:mod:`ecoseg.engine.resume`) saved every
``resume_every`` frames once the frames before it are committed, and where a cancelled run
stops.

Exports
-------
store_results
    Resumable, cancellable results for :func:`ecoseg.engine.results.write_results`.
backward_results
    The frames before the earliest prompt, tracked backwards, handed out in frame order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from ecoseg.engine._runtime import as_video, is_cancelled, prefetch
from ecoseg.engine.results import FrameResult
from ecoseg.engine.resume import load_resume_state, remove_resume_state, save_resume_state
from ecoseg.engine.session import prompted_frames, propagate
from ecoseg.engine.tracker_state import TrackerState
from ecoseg.errors import Cancelled
from ecoseg.sam2.model import SAM2Model

__all__ = ["backward_results", "store_results"]


# ---------------------------------------------------------------------------------------
# frames before the earliest prompt, tracked backwards and handed out forwards
# ---------------------------------------------------------------------------------------
def backward_results(
    model: SAM2Model,
    video,
    prompts,
    *,
    start: int = 0,
    cancel=None,
    progress: Callable[[int, int], Any] | None = None,
    scratch_dir: str | None = None,
    **options,
) -> Iterator[FrameResult]:
    """Label results for the frames before the earliest prompted frame, in increasing order.

    The objects are tracked backwards from the earliest prompted frame (``propagate(...,
    reverse=True)``: what the official predictor's ``propagate_in_video(reverse=True)`` gives
    on a fresh state) down to frame ``start``. The label images go to a temporary compressed
    store (a few kB per frame) and are then handed out from frame ``start`` upwards, so memory
    stays bounded however far into the video the first prompt is. Nothing is yielded from a
    cancelled backward pass.

    Parameters
    ----------
    model, video, prompts
        As for :func:`propagate`.
    start : int
        First frame wanted (frames before it are neither tracked nor yielded).
    cancel : threading.Event or callable, optional
    progress : callable, optional
        ``progress(done, total)`` after each frame tracked backwards.
    scratch_dir : str, optional
        Where the temporary store goes (default: the system's temporary folder).
    **options
        Passed to :func:`propagate`.

    Yields
    ------
    FrameResult
        Frames ``start`` .. earliest prompted frame - 1, with ``labels`` and every prompted
        object's score.

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg import sam2
    >>> from ecoseg.prompts import Prompts
    >>> net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64)
    >>> frames = [np.full((48, 64, 3), 100, np.uint8)] * 4
    >>> [r.index for r in backward_results(net, frames, Prompts.single(2, points=[[30, 20]]))]
    [0, 1]
    """
    import tempfile

    from ecoseg.engine.results import write_results
    from ecoseg.store import MaskStore

    video = as_video(video)
    first = prompted_frames(prompts)[0]
    total = first - start
    if total <= 0:
        return
    ids = [o.id for o in prompts.objects]
    times = np.asarray(video.times, float)
    stop = threading.Event()

    def halt() -> bool:
        return stop.is_set() or is_cancelled(cancel)

    def backwards() -> Iterator[FrameResult]:
        done = 0
        results = propagate(
            model, video, prompts, reverse=True, output="labels", cancel=halt, **options
        )
        for r in results:
            if r.index >= first:
                continue  # the prompted frame itself comes with the forward pass
            # scratch frame j holds video frame first - 1 - j (appended as tracked)
            j = first - 1 - r.index
            yield FrameResult(j, float(j), r.object_ids, r.scores, labels=r.labels)
            done += 1
            if progress is not None:
                progress(done, total)
            if r.index <= start:
                stop.set()  # frames before ``start`` are not wanted

    with tempfile.TemporaryDirectory(prefix="ecoseg-backward-", dir=scratch_dir) as tmp:
        scratch = MaskStore.create(
            f"{tmp}/backward.zarr", height=int(video.height), width=int(video.width)
        )
        try:
            write_results(
                scratch,
                backwards(),
                times=np.arange(total, dtype=float),
                objects=dict.fromkeys(ids, "unknown"),
            )
            scratch.flush()
            if is_cancelled(cancel) or scratch.n_frames < total:
                return
            column = [scratch.object_ids.tolist().index(i) for i in ids]
            scores = scratch.read_scores()[:, column]
            ids_array = np.asarray(ids)
            block = 16
            for lo in range(start, first, block):
                hi = min(lo + block, first)
                labels = scratch.read_labels(first - hi, first - lo)[::-1]
                for k, f in enumerate(range(lo, hi)):
                    if is_cancelled(cancel):
                        return
                    j = first - 1 - f
                    yield FrameResult(f, float(times[f]), ids_array, scores[j], labels=labels[k])
        finally:
            scratch.close()


# ---------------------------------------------------------------------------------------
# resumable runs into a mask store
# ---------------------------------------------------------------------------------------
def store_results(
    model: SAM2Model,
    video,
    prompts,
    store,
    *,
    location: str | None,
    identity: dict,
    resume: bool = False,
    cancel=None,
    resume_every: int = 256,
    backward: bool = False,
    backward_progress: Callable[[int, int], Any] | None = None,
    scratch_dir: str | None = None,
    **options,
) -> Iterator[FrameResult]:
    """Results for :func:`ecoseg.engine.results.write_results`, resumable and cancellable.

    Tracking runs in a background thread (decode, network and store writing overlap).
    Every ``resume_every`` frames the tracker state is saved to ``location`` once the
    frames before it are committed to ``store``; resuming restores the latest saved state and
    re-tracks from there (frames the store already holds are recomputed and skipped), so the
    resumed store equals an uninterrupted run. Without a usable resume state it replays from
    the earliest prompted frame (also exact, slower). A cancelled run saves the exact state
    where it stopped and raises :class:`ecoseg.errors.Cancelled`.

    Parameters
    ----------
    model, video, prompts
        As for :func:`propagate`.
    store : MaskStore
        The store being written (its committed frames decide where to resume).
    location : str or None
        From :func:`ecoseg.engine.resume.resume_location`.
    identity : dict
        JSON data a resume state must match (video hash, prompts, model).
    resume : bool
    cancel : threading.Event or callable, optional
    resume_every : int
    backward : bool
        Also fill the frames before the earliest prompted frame, tracked backwards from it
        (see :func:`backward_results`).
    backward_progress : callable, optional
        ``backward_progress(done, total)`` after each frame of the backward pass.
    scratch_dir : str, optional
        Folder for the backward pass's temporary store (default: the system's).
    **options
        Passed to :func:`propagate` (``device``, ``autocast``, ``compile``...).

    Yields
    ------
    FrameResult
        With label images (``output="labels"``).
    """
    from collections import deque

    n = len(video)
    written = store.n_frames
    if written >= n:
        return
    first = prompted_frames(prompts)[0]
    if backward and written < first:
        yield from backward_results(
            model,
            video,
            prompts,
            start=written,
            cancel=cancel,
            progress=backward_progress,
            scratch_dir=scratch_dir,
            **options,
        )
        if is_cancelled(cancel):
            store.flush()
            raise Cancelled.after(store.path, store.n_frames)
    state = load_resume_state(location, identity, written) if resume else None
    if not resume:
        remove_resume_state(location)  # a stale one from an earlier run
    snapshots: deque[TrackerState] = deque()
    every = resume_every if location is not None else 0
    results = propagate(
        model,
        video,
        prompts,
        output="labels",
        cancel=cancel,
        resume=state,
        snapshot_every=every,
        on_snapshot=snapshots.append,
        **options,
    )

    def save_ready(limit: int) -> None:
        ready = [s for s in snapshots if s.next_frame <= limit]
        if not ready:
            return
        while snapshots and snapshots[0].next_frame <= limit:
            snapshots.popleft()
        store.flush()
        save_resume_state(location, ready[-1], identity)

    for r in prefetch(results, maxsize=2, name="ecoseg-track"):
        if location is not None:
            save_ready(r.index)  # every frame before r.index has been handed to the store
        yield r
    if is_cancelled(cancel):
        if location is not None:
            store.flush()
            save_ready(store.n_frames)
        raise Cancelled.after(store.path, store.n_frames)
