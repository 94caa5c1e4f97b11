"""Did a mask store survive a copy? :func:`verify` reads every chunk and lists what is wrong.

A store copied between a field laptop, a lab machine and a bucket can lose chunk files (an
interrupted ``rsync``, a sync client that skipped some) or get damaged ones (a truncated
upload, a failing card). Zarr reads a lost chunk as zeros, frames without animals, so
:func:`verify` asks the store which chunk keys of its committed frames are absent
(:meth:`ecoseg.store.MaskStore.missing_chunks`) and then reads every chunk of ``labels``,
``time`` and ``scores`` to find the ones that do not decompress. Every problem is reported,
with the frames it touches, not only the first. With a video it also checks that the video is
the one the store was made from (:func:`ecoseg.io.video.check_same_video`).

Reads go in blocks of whole chunks of about :data:`BLOCK_BYTES` (zarr fetches the chunks of a
block concurrently, which matters on a bucket); a block that fails is read again chunk by
chunk to name the damaged ones.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

__all__ = ["BLOCK_BYTES", "Problem", "verify"]

#: Bytes of decoded data read per block (at least one chunk).
BLOCK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a store.

    Attributes
    ----------
    store : str
        The store, as given.
    array : str
        ``"labels"``, ``"time"``, ``"scores"``; ``"video"`` for a video that is not the
        store's; ``"edits"`` for review edits an interrupted ``ecoseg edit`` left half
        written; ``"store"`` for a store too damaged to open.
    kind : str
        ``"missing"`` (a chunk file is absent), ``"damaged"`` (a chunk cannot be read),
        ``"pending"`` (an unfinished edit) or ``"video"`` (the video given is not the
        store's).
    first, last : int or None
        The committed frames affected (inclusive); None when not known (``"video"``,
        ``"store"``).
    detail : str
        What was found: the chunk key, the reader's error, or how the video differs.
    """

    store: str
    array: str
    kind: str
    first: int | None
    last: int | None
    detail: str

    def describe(self) -> str:
        """One line naming the store, the array and the frames.

        Examples
        --------
        >>> Problem("m.zarr", "labels", "missing", 8, 11, "chunk labels/c/2/0/0").describe()
        'm.zarr: labels frames 8..11 missing (chunk labels/c/2/0/0)'
        >>> Problem("m.zarr", "video", "video", None, None, "the sha256 differs").describe()
        'm.zarr: video: the sha256 differs'
        """
        if self.first is None:
            return f"{self.store}: {self.array}: {self.detail}"
        frames = f"frames {self.first}..{self.last}"
        return f"{self.store}: {self.array} {frames} {self.kind} ({self.detail})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the attributes under their names).

        Examples
        --------
        >>> Problem("m.zarr", "time", "damaged", 0, 3, "bad bytes").to_dict()["frames"]
        [0, 3]
        """
        d = asdict(self)
        first, last = d.pop("first"), d.pop("last")
        d["frames"] = None if first is None else [first, last]
        return d


def verify(
    path: Any, video: Any = None, *, chunks: bool = True, progress: bool = False
) -> list[Problem]:
    """Every missing or damaged chunk of a store, and whether ``video`` is its video.

    Parameters
    ----------
    path : str, Path, URL or MaskStore
        A mask store, or one already open (it is read and left open).
    video : str or Path, optional
        A video file or image folder: reported as a problem unless it is the one the store was
        made from (frame size, frame count, sha256). A store that records no video accepts any.
    chunks : bool
        Check the chunks (False: only the video).
    progress : bool
        A progress bar over the frames on stderr, shown when reading takes over a second.

    Returns
    -------
    list of Problem
        In array order (labels, time, scores, video), then frame order; empty when all is well.

    Raises
    ------
    ecoseg.errors.StoreError
        ``path`` is not a mask store.
    ecoseg.errors.VideoError
        ``video`` cannot be opened.

    Examples
    --------
    >>> import ecoseg, os, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=6, size=(64, 48))
    >>> verify(clip.truth, clip.video)
    []
    >>> os.remove(clip.truth / "labels" / "c" / "0" / "0" / "0")
    >>> [p.describe() for p in verify(clip.truth)]  # doctest: +ELLIPSIS
    ['...truth.zarr: labels frames 0..5 missing (chunk labels/c/0/0/0)']
    """
    from ecoseg.info.summary import open_store
    from ecoseg.store import opened_store

    reader = None
    if video is not None:
        from ecoseg.io.video import open_video

        reader = open_video(video)  # a video that cannot be opened is the caller's mistake
    try:
        # not a store: a StoreError, the caller's mistake; one passed in stays open
        with opened_store(path, open_store) as store:
            return _problems(store, reader, chunks, progress)
    finally:
        if reader is not None:
            reader.close()


def _problems(store, reader, chunks: bool, progress: bool) -> list[Problem]:
    text = store.path
    problems = _chunk_problems(store, text, progress) if chunks else []
    if chunks:
        problems += _edit_problems(store, text)
    if reader is not None:
        problems += _video_problems(store, reader, text)
    return problems


def _chunk_problems(store, text: str, progress: bool) -> list[Problem]:
    """Missing chunks (one existence query per key), then every chunk read."""
    n = store.n_frames
    missing = {}
    for m in store.missing_chunks():
        found = Problem(text, m.array, "missing", m.first, m.last, f"chunk {m.key}")
        missing.setdefault(m.array, []).append(found)
    k = len(store.object_ids)
    arrays = [(store.labels, None), (store.time, None)]
    if k:
        arrays.append((store.scores, k))
    total = n * len(arrays)
    out: list[Problem] = []
    from ecoseg._progress import progress_bar

    bar = progress_bar(total=total, desc="verify", unit="frame", disable=not progress, delay=1.0)
    try:
        for array, columns in arrays:
            name = array.basename
            damaged = list(_damaged(array, n, columns, text, bar))
            found = missing.pop(name, []) + damaged
            out += sorted(found, key=lambda p: (p.first, p.kind))
    finally:
        bar.close()
    for rest in missing.values():  # arrays not read (none today): still reported
        out += rest
    return out


def _damaged(array, n: int, columns: int | None, text: str, bar) -> Iterator[Problem]:
    """The chunks of ``array``'s first ``n`` rows (and ``columns`` columns) that do not read."""
    from ecoseg.store.chunks import chunk_named

    step = int(array.chunks[0])
    row_bytes = int(np.prod(array.shape[1:], dtype=np.int64)) * array.dtype.itemsize
    block = max(step, BLOCK_BYTES // max(row_bytes, 1) // step * step)
    cols = (slice(0, columns),) if columns is not None else ()
    for start in range(0, n, block):
        stop = min(start + block, n)
        if _read_fails(array, start, stop, cols) is None:
            bar.update(stop - start)
            continue
        for first in range(start, stop, step):  # find the chunks that fail
            last = min(first + step, stop)
            reason = _read_fails(array, first, last, cols)
            if reason is not None:
                reason = chunk_named(array, first, last - 1, reason)
                yield Problem(text, array.basename, "damaged", first, last - 1, reason)
            bar.update(last - first)


def _read_fails(array, start: int, stop: int, cols: tuple) -> str | None:
    """Why ``array[start:stop, *cols]`` cannot be read, or None when it reads."""
    from ecoseg.store._util import short_error

    try:
        array[(slice(start, stop), *cols)]
    except Exception as exc:  # a chunk that does not decompress, or a backend failure
        return short_error(exc)
    return None


def _edit_problems(store, text: str) -> list[Problem]:
    """An edit an interrupted ``ecoseg edit`` left half written (labels partly rewritten)."""
    from ecoseg.info.summary import pending_edits
    from ecoseg.store import unfinished_note

    n = pending_edits(store)
    if not n:
        return []
    return [Problem(text, "edits", "pending", None, None, unfinished_note(n, text))]


def _video_problems(store, reader, text: str) -> list[Problem]:
    from ecoseg.errors import VideoError
    from ecoseg.io.video import check_same_video

    try:
        check_same_video(reader, store.provenance_record.video, text)
    except VideoError as exc:
        return [Problem(text, "video", "video", None, None, " ".join(str(exc).split()))]
    return []
