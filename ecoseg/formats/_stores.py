"""Mask stores as annotations: a store's frames one at a time (:func:`store_head`,
:func:`store_frames`, or as label frames :func:`store_labels`, chunk by chunk: what a
streaming export writes from), all of them as :class:`Annotations` (:func:`read_store`),
and aligned annotations written into a new store (:func:`write_store`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import numpy as np

from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Annotations, Instance, Track
from ecoseg.formats._painting import paint_frame
from ecoseg.formats._rle import encode_masks, rle_boxes
from ecoseg.provenance import AnnotatedFrames

__all__ = ["mask_where", "read_store", "store_frames", "store_head", "store_labels", "write_store"]


#: chunks of label frames whose scores :func:`store_frames` reads at once
_SCORE_WINDOW = 64


def read_store(store: Any, *, progress: bool = False) -> Annotations:
    """All masks, boxes, scores and classes of a mask store as :class:`Annotations`, with
    the frames it annotates (``annotated``) when its provenance names some frames only.

    Its memory grows with the video (every mask is kept, as compressed RLE): an export
    streams :func:`store_frames` instead.

    Parameters
    ----------
    store : MaskStore, str or Path
    progress : bool
        Show a progress bar.

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-read-store", height=4, width=5, overwrite=True,
    ...                      objects=[(2, "crab", "truth")])
    >>> lab = np.zeros((2, 4, 5), np.uint32); lab[1, 1:3, 2:4] = 2
    >>> s.append(lab, [0.0, 0.5]); s.close()
    >>> ann = read_store("memory://doc-read-store")
    >>> [(i.frame, i.track, i.box, i.score) for i in ann.instances]
    [(1, 2, (2.0, 1.0, 4.0, 3.0), 1.0)]
    """
    from ecoseg.store import opened_store

    with opened_store(store) as st:  # one opened from a path is closed again
        head = store_head(st)
        frames = store_frames(st, head, progress=progress)
        return replace(head, instances=tuple(i for _, items in frames for i in items))


def store_head(st: Any) -> Annotations:
    """An opened store's :class:`Annotations` without the masks: size, frames, times, the
    object table and the annotated frames (what a writer needs before the first mask).

    Raises
    ------
    StoreError
        An interrupted ``ecoseg edit`` left the store half written
        (:func:`ecoseg.store.check_finished`).
    """
    from ecoseg.store import check_finished

    check_finished(st)
    return Annotations(
        width=st.width,
        height=st.height,
        n_frames=st.n_frames,
        tracks=tuple(_track(o) for o in st.objects),
        times=st.read_time(),
        source=st.path,
        annotated=_annotated(st),
        image_names=_image_names(st),
    )


def _track(entry: dict) -> Track:
    """The :class:`Track` of an object-table entry: id, class, class probability, (where
    the entry records one) class source, and its reviewed flag where the class source does
    not say it (:attr:`Track.reviewed`: the new part of a split made before ecoseg's splits
    gave a person's name only as a suggestion kept the source ``reviewed``, not the flag).

    Examples
    --------
    >>> _track({"id": 8, "class": "cod", "class_source": "reviewed", "reviewed": False})
    Track(id=8, class_='cod', class_probability=None, class_source='reviewed', reviewed=False)
    >>> entry = {"id": 3, "class": "cod", "class_source": "reviewed", "reviewed": True}
    >>> _track(entry).reviewed is None  # as its class source says
    True
    """
    p, source = entry.get("class_probability"), entry.get("class_source")
    reviewed = bool(entry.get("reviewed", False))
    return Track(
        int(entry["id"]),
        str(entry.get("class") or "unknown"),
        None if p is None else float(p),
        None if source is None else str(source),
        None if reviewed == (source == "reviewed") else reviewed,
    )


def _image_names(st: Any) -> tuple[str, ...] | None:
    """The photographs' file names of a photo survey (one per frame), None for a video."""
    names = st.provenance_record.photos
    return names if names is not None and len(names) == st.n_frames else None


def store_labels(
    st: Any, head: Annotations, *, progress: bool = False, desc: str = "reading masks"
) -> Iterator[tuple[int, np.ndarray]]:
    """Every label frame of an opened store, read chunk by chunk: memory holds one chunk of
    label frames, whatever the length of the video (what :func:`store_frames` and a DAVIS
    export, whose PNGs are label frames, read).

    Parameters
    ----------
    st : MaskStore
        Opened, and kept open while the frames are read.
    head : Annotations
        :func:`store_head` of ``st`` (its frame count).
    progress : bool
        Show a progress bar over the frames, named ``desc``.

    Yields
    ------
    (int, ndarray of uint32)
        The frame index and its (H, W) label frame (0 = background).

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-store-labels", height=4, width=5, overwrite=True,
    ...                      objects=[(2, "crab", "truth")])
    >>> lab = np.zeros((2, 4, 5), np.uint32); lab[1, 1:3, 2:4] = 2
    >>> s.append(lab, [0.0, 0.5]); s.flush()
    >>> [(t, int(frame.sum())) for t, frame in store_labels(s, store_head(s))]
    [(0, 0), (1, 8)]
    """
    from ecoseg._progress import progress_bar

    n, step = head.n_frames, max(1, st.chunk_frames)
    with progress_bar(total=n, desc=desc, unit="frame", disable=not progress) as bar:
        for start in range(0, n, step):
            for k, lab in enumerate(st.read_labels(start, start + step)):
                yield start + k, lab
                bar.update(1)


def store_frames(
    st: Any, head: Annotations, *, progress: bool = False, desc: str = "reading masks"
) -> Iterator[tuple[int, list[Instance]]]:
    """Every frame of an opened store with its instances (in object id order), read chunk by
    chunk (:func:`store_labels`, each label frame encoded as RLEs).

    Parameters
    ----------
    st : MaskStore
        Opened, and kept open while the frames are read.
    head : Annotations
        :func:`store_head` of ``st`` (its frame times).
    progress : bool
        Show a progress bar over the frames, named ``desc``.

    Yields
    ------
    (int, list of Instance)
        The frame index and its instances (an empty list on a frame without masks).

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-store-frames", height=4, width=5, overwrite=True,
    ...                      objects=[(2, "crab", "truth")])
    >>> lab = np.zeros((2, 4, 5), np.uint32); lab[1, 1:3, 2:4] = 2
    >>> s.append(lab, [0.0, 0.5]); s.flush()
    >>> [(t, [i.box for i in items]) for t, items in store_frames(s, store_head(s))]
    [(0, []), (1, [(2.0, 1.0, 4.0, 3.0)])]
    """
    from ecoseg.store import present_ids

    times = head.times
    column = {int(oid): k for k, oid in enumerate(st.object_ids)}
    window = _SCORE_WINDOW * max(1, st.chunk_frames)
    above = below = 0  # the frames of the scores read
    for t, lab in store_labels(st, head, progress=progress, desc=desc):
        if t >= below:  # scores in windows of many chunks: a read costs ~1 ms
            above, below = t, t + window
            scores = st.read_scores(above, below)
        ids = present_ids(lab)
        items = []
        if ids.size:
            rles = encode_masks(lab[None] == ids[:, None, None].astype(lab.dtype))
            for oid, rle, box in zip(ids.tolist(), rles, rle_boxes(rles)):
                items.append(
                    Instance(
                        frame=t,
                        track=oid,
                        rle=rle,
                        box=box,
                        score=float(scores[t - above, column[oid]]),
                        time=float(times[t]),
                        where=mask_where(t, oid),
                    )
                )
        yield t, items


def mask_where(frame: int, oid: int) -> str:
    """How an error message names a store's mask: ``"frame 12 object 3"``."""
    return f"frame {frame} object {oid}"


def _annotated(st: Any) -> AnnotatedFrames | None:
    """The frames a store annotates, from its provenance (None: every frame)."""
    from ecoseg.provenance import annotated_frames

    n = st.n_frames
    kept = annotated_frames(st.provenance_record, n, st.path)  # refuses a malformed entry
    if kept == range(n):
        return None
    grid = st.provenance_record.annotated_frames.frames(n)
    gone = tuple(f for f in st.provenance_record.annotated_frames.deleted if f in grid)
    return AnnotatedFrames(start=grid.start, step=grid.step, count=len(grid), deleted=gone)


def write_store(
    ann: Annotations,
    out: Any,
    *,
    provenance: Mapping | None = None,
    overwrite: bool = False,
    chunk_frames: int = 4,
    progress: bool = False,
) -> str:
    """Write aligned annotations (frames = video frames, ``times`` set) into a new mask store.

    Scores: each instance's score on its frame (1.0 when the file has none), 0.0 elsewhere.
    Objects: class, class probability and class source as the file gives them; a class source
    ``reviewed`` (a person's word, which a review records with the reviewed flag) sets the
    flag too, as the review did: ``classify`` trains on the object, the review queue skips it;
    unless the file says the object was not reviewed (ecoseg's ``reviewed: false``, written
    for the new part of a split made before ecoseg's splits gave a person's name only as a
    suggestion: that part, another animal, kept the name but no review of its own), or that
    it was (``reviewed: true``; :attr:`Track.is_reviewed`).
    A score outside [0, 1] (a MOT ``det.txt``'s raw detector score, which reading keeps as it
    is) is refused before anything is written: a store's scores are probabilities.
    """
    from ecoseg._progress import progress_bar
    from ecoseg.store import MaskStore, discard_on_failure

    if ann.times is None or len(ann.times) != ann.n_frames:
        raise FormatError(f"{ann.source}: frame times of the video are needed to write a store")
    for inst in ann.instances:
        if inst.score is not None and not 0.0 <= inst.score <= 1.0:
            raise FormatError(
                f"{ann.source}: {inst.where}: score {inst.score:g} is a detector's own score, "
                "not a probability in [0, 1], which a store's scores are: rescale the file's "
                "scores to [0, 1] to import it (its boxes prompt a segmentation as they are: "
                "--prompts-from)"
            )
    objects = [
        {"id": t.id, "class": t.class_, "source": "imported"}
        | ({} if t.class_probability is None else {"class_probability": t.class_probability})
        | ({} if t.class_source is None else {"class_source": t.class_source})
        | ({"reviewed": True} if t.is_reviewed else {})
        for t in ann.tracks
    ]
    column = {t.id: k for k, t in enumerate(ann.tracks)}
    frames = ann.by_frame()
    h, w = ann.height, ann.width
    store = MaskStore.create(
        out,
        height=h,
        width=w,
        chunk_frames=chunk_frames,
        objects=objects,
        provenance=dict(provenance or {}),
        overwrite=overwrite,
    )
    try:  # an import has no resume: a failed one leaves no half store to block the next
        with (
            discard_on_failure(store),
            progress_bar(
                total=ann.n_frames, desc="writing store", unit="frame", disable=not progress
            ) as bar,
        ):
            for start in range(0, ann.n_frames, chunk_frames):
                stop = min(ann.n_frames, start + chunk_frames)
                labels = np.zeros((stop - start, h, w), np.uint32)
                scores = np.zeros((stop - start, len(column)), np.float32)
                for t in range(start, stop):
                    items = frames.get(t, [])
                    labels[t - start] = paint_frame(items, h, w)
                    for inst in items:
                        if (labels[t - start] == inst.track).any():
                            scores[t - start, column[inst.track]] = (
                                1.0 if inst.score is None else inst.score
                            )
                store.append(labels, ann.times[start:stop], scores)
                bar.update(stop - start)
            store.mark_complete()
    except FormatError as exc:
        if str(ann.source) not in str(exc):
            raise FormatError(f"{ann.source}: {exc}") from None  # name the file
        raise
    return str(out)
