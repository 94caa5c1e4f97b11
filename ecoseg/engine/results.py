"""Per-frame results shared by the engines, their label images, and the store writer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecoseg.errors import Cancelled


@dataclass
class FrameResult:
    """What an engine produced for one video frame.

    Attributes
    ----------
    index : int
        Frame index in the video.
    time : float
        Frame time in seconds (from the stream's PTS).
    object_ids : ndarray of int, shape (N,)
        Ids of the objects reported on this frame.
    scores : ndarray of float32, shape (N,)
        Object presence score per object (SAM 2: sigmoid of the object-score logit;
        classical engine: 1.0 for detected objects).
    logits : ndarray of float32, shape (N, H, W), optional
        Mask logits at video resolution (SAM 2 engine); > 0 is foreground.
    labels : ndarray of uint32, shape (H, W), optional
        Instance label image (classical engine). Derived from ``logits`` when absent.
    embeddings : ndarray of float32, shape (N, C), optional
        Mask-pooled image embedding per object (SAM 2 engine; NaN rows for empty masks).

    Examples
    --------
    >>> FrameResult(3, 0.1, np.array([1, 2]), np.array([0.9, 0.8], np.float32),
    ...             logits=np.zeros((2, 48, 64), np.float32))
    FrameResult(index=3, time=0.1, object_ids=array([1, 2]), \
scores=array([0.9, 0.8], dtype=float32), logits=(2, 48, 64) float32)
    """

    index: int
    time: float
    object_ids: np.ndarray
    scores: np.ndarray
    logits: np.ndarray | None = None
    labels: np.ndarray | None = field(default=None, repr=False)
    embeddings: np.ndarray | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # the logits' shape, not their values (70 lines in a notebook)
        logits = self.logits
        if logits is not None and hasattr(logits, "shape"):
            logits = f"{tuple(logits.shape)} {logits.dtype}"
        return (
            f"FrameResult(index={self.index!r}, time={self.time!r}, "
            f"object_ids={self.object_ids!r}, scores={self.scores!r}, logits={logits})"
        )

    def label_image(self) -> np.ndarray:
        """The (H, W) uint32 label image of this frame (computed once from logits if needed)."""
        if self.labels is None:
            if self.logits is None:
                raise ValueError(f"frame {self.index}: result has neither labels nor logits")
            self.labels = labels_from_logits(self.object_ids, self.logits, self.scores)
        return self.labels


def labels_from_logits(
    object_ids: np.ndarray, logits: np.ndarray, scores: np.ndarray | None = None
) -> np.ndarray:
    """Resolve per-object mask logits into one instance label image.

    A pixel gets the id of the object with the highest logit among those whose logit is
    positive; where logits tie, the object with the higher presence score wins.

    Parameters
    ----------
    object_ids : ndarray of int, shape (N,)
    logits : ndarray of float, shape (N, H, W)
    scores : ndarray of float, shape (N,), optional

    Returns
    -------
    ndarray of uint32, shape (H, W)
        0 is background.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[[1.0, -1.0]], [[2.0, -3.0]]])
    >>> labels_from_logits(np.array([4, 7]), logits)
    array([[7, 0]], dtype=uint32)
    """
    object_ids = np.asarray(object_ids)
    logits = np.asarray(logits)
    if logits.ndim != 3 or len(object_ids) != logits.shape[0]:
        raise ValueError(
            f"logits of shape {logits.shape} do not match {len(object_ids)} object ids"
        )
    if len(object_ids) == 0:
        return np.zeros(logits.shape[1:], dtype=np.uint32)
    order = np.arange(len(object_ids))
    if scores is not None:
        # stable: among equal logits the later (argmax picks first) -> sort by score desc
        order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ranked = logits[order]
    best = np.argmax(ranked, axis=0)
    fg = np.take_along_axis(ranked, best[None], axis=0)[0] > 0
    ids = np.asarray(object_ids, dtype=np.uint32)[order]
    return np.where(fg, ids[best], 0).astype(np.uint32)


def add_embeddings(sums: dict[int, np.ndarray], counts: dict[int, int], result) -> None:
    """Add the embeddings of the objects present in a result's label image to ``sums``.

    Examples
    --------
    >>> r = FrameResult(0, 0.0, np.array([1, 2]), np.array([0.9, 0.1], np.float32),
    ...                 labels=np.array([[1, 0]], np.uint32),
    ...                 embeddings=np.ones((2, 3), np.float32))
    >>> sums, counts = {}, {}
    >>> add_embeddings(sums, counts, r); add_embeddings(sums, counts, r)
    >>> counts, sums[1].tolist()
    ({1: 2}, [2.0, 2.0, 2.0])
    """
    from ecoseg.store import present_ids

    present = set(present_ids(result.label_image()).tolist())
    emb = np.asarray(result.embeddings, np.float64)
    for i, row in zip(result.object_ids.tolist(), emb):
        if int(i) in present and np.isfinite(row).all():
            sums[int(i)] = sums.get(int(i), 0.0) + row
            counts[int(i)] = counts.get(int(i), 0) + 1


def store_embeddings(store, sums: dict[int, np.ndarray], counts: dict[int, int]) -> None:
    """Add embeddings summed over the frames written by this run to the store's means."""
    if not sums:
        return
    from ecoseg.store.embeddings import merge_embeddings, read_embeddings, write_embeddings

    ids = sorted(sums)
    old = read_embeddings(store)
    table = merge_embeddings(old, ids, np.array([sums[i] for i in ids]), [counts[i] for i in ids])
    model = store.provenance.get("model") or {}
    source = " ".join(str(v) for v in (store.provenance.get("engine"), model.get("variant")) if v)
    write_embeddings(store, table, source=source or "network")


def write_results(
    store,
    results: Iterable[FrameResult],
    *,
    times: Sequence[float] | np.ndarray | None = None,
    objects: dict[int, str] | None = None,
    source: str = "prompt",
    total: int | None = None,
    progress: bool | Callable[[int, int | None], Any] = False,
    desc: str = "segment",
    unit: str = "frame",
) -> int:
    """Stream per-frame results into a mask store, in frame order.

    Frames the store already holds are skipped (resume). Frames without a result (before an
    object's first prompt, or after the last result) are written empty, with their times from
    ``times``. Objects are registered before the frame that first shows them: those in
    ``objects`` with their class, others as ``"unknown"``. When ``results`` carries a
    ``camera_motion`` (the motion tracker's run), it is recorded in the store's provenance
    once every frame is written.

    Parameters
    ----------
    store : MaskStore
        Open for writing.
    results : iterable of FrameResult
        In increasing frame index.
    times : array of float, optional
        Time (s) of every video frame; needed to write frames without a result.
    objects : dict {id: class}, optional
        Known objects and their classes (from a prompt file). A value may also be a dict
        ``{"class": ..., "source": ...}``; the mapping is read again whenever a new id shows
        up, so an engine may add to it as it goes (automatic discovery).
    source : str
        ``"prompt"``, ``"discovered"`` or ``"tracker"``, recorded in the object table (for
        objects whose entry names no source).
    total : int, optional
        Number of frames in the video (for the progress bar and trailing empty frames).
    progress : bool or callable
        ``True`` shows a tqdm bar; a callable is called as ``progress(done, total)``.
    desc : str
        What the bar says it is writing (a concept run: ``3 photographs, a survey`` or
        ``120 frames, a video``).
    unit : str
        What the bar counts (a photo survey: ``photograph``, not ``frame``).

    Returns
    -------
    int
        Frames written by this call.

    Examples
    --------
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-write", height=2, width=3, overwrite=True)
    >>> r = FrameResult(1, 0.1, np.array([3]), np.array([0.9], np.float32),
    ...                 labels=np.array([[0, 3, 3], [0, 0, 0]], np.uint32))
    >>> write_results(s, [r], times=[0.0, 0.1, 0.2], total=3)
    3
    >>> s.close(); MaskStore.open("memory://doc-write").read_labels()[:, 0, 1].tolist()
    [0, 3, 0]
    """
    next_index = start = store.n_frames
    known = {int(i) for i in store.object_ids}

    def describe(i: int) -> dict[str, Any]:
        info = (objects or {}).get(i, "unknown")
        if isinstance(info, str):
            return {"id": i, "class": info, "source": source}
        entry = {
            "id": i,
            "class": info.get("class", "unknown"),
            "source": info.get("source", source),
        }
        for key in ("class_source", "class_probability"):  # concept tracking sets these
            if info.get(key) is not None:
                entry[key] = info[key]
        return entry

    pending = [describe(int(i)) for i in (objects or {}) if int(i) not in known]
    if pending:
        store.add_objects(pending)
        known.update(o["id"] for o in pending)
    empty = np.zeros((1, store.height, store.width), np.uint32)

    def fill(until: int) -> None:
        nonlocal next_index
        while next_index < until:
            if times is None:
                raise ValueError(f"frame {next_index}: no result and no frame times to fill it")
            store.append(empty, np.array([times[next_index]]))
            next_index += 1
            tick()

    bar = None
    if progress is True:
        from ecoseg._progress import progress_bar

        bar = progress_bar(total=total, initial=start, unit=unit, desc=desc)

    def tick() -> None:
        if bar is not None:
            bar.update(1)
        elif callable(progress):
            progress(next_index, total)

    sums: dict[int, np.ndarray] = {}  # mask-pooled embeddings, summed over frames
    counts: dict[int, int] = {}
    try:
        for result in results:
            if result.index < next_index:
                continue  # already stored by the interrupted run
            fill(result.index)
            new = [int(i) for i in result.object_ids if int(i) not in known]
            if new:
                store.add_objects([describe(i) for i in new])
                known.update(new)
            scores = {int(i): float(s) for i, s in zip(result.object_ids, result.scores)}
            store.append(result.label_image()[None], np.array([result.time]), scores=scores)
            if result.embeddings is not None:
                add_embeddings(sums, counts, result)
            next_index += 1
            tick()
        if total is not None:
            fill(total)
    except Cancelled:
        store_embeddings(store, sums, counts)  # of the frames written before the cancel
        raise
    else:
        store_embeddings(store, sums, counts)
        motion = getattr(results, "camera_motion", None)  # the motion tracker's measurement
        if motion is not None:
            store.set_provenance(camera_motion=motion.to_dict())
    finally:
        if bar is not None:
            bar.close()
    return next_index - start
