"""Mask stores as annotations: reading a store into :class:`Annotations`
(:func:`read_store`) and writing aligned annotations into a new store (:func:`write_store`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Annotations, Instance, Track
from ecoseg.formats._painting import paint_frame
from ecoseg.formats._rle import encode_masks, rle_boxes
from ecoseg.provenance import AnnotatedFrames

__all__ = ["read_store", "write_store"]


def read_store(store: Any, *, progress: bool = False) -> Annotations:
    """All masks, boxes, scores and classes of a mask store as :class:`Annotations`, with
    the frames it annotates (``annotated``) when its provenance names some frames only.

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
    from tqdm.auto import tqdm

    from ecoseg.store import check_finished, opened_store, present_ids

    with opened_store(store) as st:  # one opened from a path is closed again
        check_finished(st)
        n, h, w = st.n_frames, st.height, st.width
        times = st.read_time()
        scores = st.read_scores()
        column = {int(oid): k for k, oid in enumerate(st.object_ids)}
        tracks = tuple(Track(int(o["id"]), str(o.get("class") or "unknown")) for o in st.objects)
        instances: list[Instance] = []
        step = max(1, st.chunk_frames)
        with tqdm(total=n, desc="reading masks", unit="frame", disable=not progress) as bar:
            for start in range(0, n, step):
                block = st.read_labels(start, start + step)
                for k, lab in enumerate(block):
                    t = start + k
                    ids = present_ids(lab)
                    if ids.size == 0:
                        continue
                    rles = encode_masks(lab[None] == ids[:, None, None].astype(lab.dtype))
                    for oid, rle, box in zip(ids.tolist(), rles, rle_boxes(rles)):
                        instances.append(
                            Instance(
                                frame=t,
                                track=oid,
                                rle=rle,
                                box=box,
                                score=float(scores[t, column[oid]]),
                                time=float(times[t]),
                                where=f"frame {t} object {oid}",
                            )
                        )
                bar.update(len(block))
        return Annotations(
            width=w,
            height=h,
            n_frames=n,
            tracks=tracks,
            instances=tuple(instances),
            times=times,
            source=st.path,
            annotated=_annotated(st),
        )


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
    """
    from tqdm.auto import tqdm

    from ecoseg.store import MaskStore, discard_on_failure

    if ann.times is None or len(ann.times) != ann.n_frames:
        raise FormatError(f"{ann.source}: frame times of the video are needed to write a store")
    objects = [{"id": t.id, "class": t.class_, "source": "imported"} for t in ann.tracks]
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
            tqdm(
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
