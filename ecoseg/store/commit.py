"""Chunk commits: buffered label chunks written by background threads, then the marker.

The store validates frames and hands them to a :class:`ChunkCommitter`. Where the ``labels``
array's codec allows (:class:`~ecoseg.store.blosc_chunks.FrameEncoder`, every store created
now), frames are compressed block by block straight from the caller's array and a full chunk is
assembled from the compressed blocks and written as one key; otherwise (older codec settings)
frames are copied into chunk buffers that zarr compresses. Either way :meth:`ChunkCommitter.stage`
takes a frame that fits the chunk being filled before validation, giving each frame's largest
value on the way (it counts only once :meth:`ChunkCommitter.buffer` takes it). Full chunks are
written by a pool of writer threads. Every :data:`~ecoseg.store.layout.COMMIT_FRAMES` frames,
and on a flush, a commit writes the ``time`` and ``scores`` rows of frames whose ``labels``
chunks are written and only then the attributes with the advanced progress marker
(``frames_written``). Commits are submitted strictly in order, one at a time; array resizes
happen on the caller's thread with nothing in flight. The keys it encodes itself (label chunks,
rows, the commit record) are written by :class:`~ecoseg.store.keys.KeyWriter`.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from ecoseg.errors import StoreError
from ecoseg.store._util import copy_max, guard, short_error
from ecoseg.store.blosc_chunks import FrameEncoder
from ecoseg.store.keys import KeyWriter
from ecoseg.store.layout import ATTRS_KEY, COMMIT_FRAMES
from ecoseg.store.row_chunks import RowChunks

__all__ = ["ChunkCommitter"]


class ChunkCommitter:
    """Writes a store's frames chunk by chunk and advances its progress marker.

    Parameters
    ----------
    group : zarr.Group
        The store's group (its attributes are the commit record).
    labels, time, scores : zarr.Array
        The store's arrays.
    path : str
        The store's location, for messages.
    committed : int
        Frames already committed (the progress marker).
    record : callable
        ``record(frames)`` returns the attributes to write with a marker at ``frames``.

    Attributes
    ----------
    n_objects : int
        Registered objects (``scores`` columns); the store updates it when objects are added.

    Examples
    --------
    >>> import zarr
    >>> g = zarr.open_group("memory://doc-committer", mode="w", zarr_format=3)
    >>> arrays = [g.create_array(n, shape=s, chunks=c, dtype=d) for n, s, c, d in
    ...           (("labels", (0, 2, 2), (2, 2, 2), "uint32"), ("time", (0,), (8,), "float64"),
    ...            ("scores", (0, 1), (8, 1), "float32"))]
    >>> c = ChunkCommitter(g, *arrays, "doc", 0, lambda n: {"frames_written": n})
    >>> c.n_objects = 1
    >>> c.buffer(np.ones((3, 2, 2), np.uint32), np.array([0.0, 0.1, 0.2]), np.ones((3, 1)))
    >>> c.flush()
    >>> c.committed, g.attrs["ecoseg"], arrays[0].shape
    (3, {'frames_written': 3}, (3, 2, 2))
    >>> c.shutdown()
    """

    def __init__(
        self,
        group,
        labels,
        time,
        scores,
        path: str,
        committed: int,
        record: Callable[[int], dict[str, Any]],
    ):
        self.group = group
        self.labels, self.time, self.scores = labels, time, scores
        self.path = path
        self.record = record
        self.n_objects = int(scores.shape[1])
        #: Frames covered by the progress marker on disk.
        self.committed = committed
        #: Why writing failed (the store refuses to go on), or None.
        self.error: str | None = None
        self.chunk_frames = int(labels.chunks[0])
        self.capacity = int(labels.shape[0])
        self._buf: np.ndarray | None = None
        self._buf_start = committed
        self._buf_n = 0
        self._buf_time: list[float] = []
        self._buf_scores: list[np.ndarray] = []
        self._pool: list[np.ndarray] = []
        # compressed mode: the blocks of the chunk's frames from its first frame on (None: not
        # loaded yet), and the frames stage() compressed
        self._encoder = FrameEncoder.for_array(labels)
        # the keys the writer encodes itself (label chunks, the commit record)
        self._label_keys = KeyWriter(labels.store_path)
        self._group_keys = KeyWriter(group.store_path)
        self._group_dict: dict[str, Any] | None = None  # the group's to_dict(), once
        self._blocks: list[list[bytes]] | None = None
        self._staged: list[list[bytes]] = []
        # time and score rows: their partial chunks kept in memory and written whole (None:
        # codecs of an older store, written through zarr)
        self._row_chunks = {
            "time": RowChunks.for_array(time),
            "scores": RowChunks.for_array(scores),
        }
        self._inflight: deque[tuple[Future, np.ndarray | None, int]] = deque()  # chunk writes
        self._written = committed  # label chunks of all frames before this are written
        self._rows: deque[tuple[np.ndarray, np.ndarray]] = deque()  # time/scores to commit
        self._commit: tuple[Future, int] | None = None  # the commit in flight
        self._commit_target = committed  # frames covered by the last commit submitted
        self._commit_requested = committed  # every COMMIT_FRAMES submitted, and flushes
        # chunks compress in parallel on up to 4 cores, with at most ~128 MiB of chunk buffers
        # in flight (plus the one being filled)
        chunk_bytes = 4 * self.chunk_frames * int(labels.shape[1]) * int(labels.shape[2])
        self._threads = max(1, min(4, os.cpu_count() or 1))
        self._max_inflight = max(1, min(self._threads, 2**27 // max(chunk_bytes, 1)))
        self._executor: ThreadPoolExecutor | None = None

    # ------------------------------------------------------------------ the caller's side
    def stage(self, labels: np.ndarray) -> np.ndarray | None:
        """Compress frames (or copy them into the free part of the chunk buffer being filled),
        without taking them.

        Returns each frame's largest value (taken block by block on the way), or None where
        the frames do not fit the chunk being filled (then :meth:`buffer` takes them as they
        are). The staged frames count only when the next :meth:`buffer` call passes
        ``staged=True``; anything else discards or overwrites them.
        """
        n = labels.shape[0]
        if self._buf_n + n > self._chunk_end(self._buf_start) - self._buf_start:
            return None
        if self._encoder is not None:
            self._staged, top = self._encoder.encode(labels)
            return top
        if self._buf is None:
            self._buf = self._pool.pop() if self._pool else self._new_buffer()
        return copy_max(labels, self._buf[self._buf_n : self._buf_n + n])

    def buffer(
        self, labels: np.ndarray, times: np.ndarray, rows: np.ndarray, staged: bool = False
    ) -> None:
        """Take validated frames (compressed, or copied into chunk buffers); hand full chunks to
        the writers.

        ``staged``: :meth:`stage` took exactly these frames just before (no second pass).
        """
        n, i = labels.shape[0], 0
        while i < n:
            capacity = self._chunk_end(self._buf_start) - self._buf_start
            k = min(capacity - self._buf_n, n - i)
            if self._encoder is not None:
                self._load_blocks()
                new = self._staged if staged else self._encoder.encode(labels[i : i + k])[0]
                self._blocks += new
                self._staged = []
            else:
                if self._buf is None:
                    self._buf = self._pool.pop() if self._pool else self._new_buffer()
                if not staged:
                    self._buf[self._buf_n : self._buf_n + k] = labels[i : i + k]
            self._buf_time.extend(times[i : i + k].tolist())
            self._buf_scores.extend(rows[i : i + k])
            self._buf_n += k
            i += k
            if self._buf_n == capacity:
                self.submit_buffer()

    def submit_buffer(self, commit: bool = False) -> None:
        """Hand the filled buffer to the writers; request a commit every COMMIT_FRAMES frames
        submitted, or now if ``commit``."""
        t0, k = self._buf_start, self._buf_n
        if k:
            scores = np.zeros((k, self.n_objects), np.float32)
            for i, row in enumerate(self._buf_scores):
                scores[i, : row.size] = row  # objects added later score 0 on earlier frames
            self._rows.append((np.asarray(self._buf_time, np.float64), scores))
            buf, blocks = self._buf, self._blocks
            self._buf, self._buf_n, self._buf_start = None, 0, t0 + k
            if blocks is not None:  # a partial chunk (a flush) stays the next one's start
                self._blocks = [] if len(blocks) == self.chunk_frames else list(blocks)
            self._buf_time, self._buf_scores = [], []
            if t0 + k > self.capacity:  # grow the arrays ahead, in steps
                self.drain()
                step = max(self.capacity // 4, 16 * self.chunk_frames)
                grown = max(t0 + k, self.capacity + step)
                self.resize_all(-(-grown // self.chunk_frames) * self.chunk_frames)
            self._collect(keep=self._max_inflight - 1)
            if blocks is not None:
                future = self._writers().submit(self._write_chunk, t0 // self.chunk_frames, blocks)
            else:
                future = self._writers().submit(self._write_labels, t0, buf[:k])
            self._inflight.append((future, buf, t0 + k))
        if commit or self._buf_start - self._commit_requested >= COMMIT_FRAMES:
            self._commit_requested = self._buf_start
        self._collect(keep=0 if commit else len(self._inflight))  # commit: wait for the chunks
        self._maybe_commit()

    def flush(self) -> None:
        """Write buffered frames (also a partial chunk), commit them, cut arrays to length."""
        if self.error is not None:
            raise StoreError(self.error)
        self.submit_buffer(commit=True)
        self.drain()
        if self.capacity != self.committed:  # arrays grow in steps: cut to length
            guard(self.path, lambda: self.resize_all(self.committed))

    def drain(self) -> None:
        """Wait for every write in flight (label chunks and the commit)."""
        self._collect(keep=0)
        self._maybe_commit()
        self._finish_commit()

    def write_marker(self, meta: dict[str, Any]) -> None:
        """Write the attributes (the commit record) now.

        As zarr's ``group.attrs[key] = meta`` (the group's metadata updated in memory, then
        its ``zarr.json`` written whole), the key written by :class:`KeyWriter`.
        """
        metadata = self.group.metadata
        metadata.attributes[ATTRS_KEY] = meta
        self._group_keys.write(self._group_documents(metadata))

    def _group_documents(self, metadata) -> dict[str, bytes]:
        """The group's metadata documents, the bytes of zarr's ``to_buffer_dict``.

        For a zarr v3 group without consolidated metadata that is ``zarr.json``: the JSON of
        its ``to_dict()`` (a deep copy, ~0.2 ms for a store's attributes) with the attributes
        as they are; the rest of that dict never changes, so it is taken once.
        """
        from zarr.core.buffer import default_buffer_prototype

        if metadata.zarr_format != 3 or metadata.consolidated_metadata is not None:
            items = metadata.to_buffer_dict(default_buffer_prototype())
            return {key: value.to_bytes() for key, value in items.items()}
        if self._group_dict is None:
            self._group_dict = metadata.to_dict()
        from zarr.core.config import config

        document = {**self._group_dict, "attributes": metadata.attributes}  # the same order
        text = json.dumps(document, indent=config.get("json_indent"), allow_nan=True)
        return {"zarr.json": text.encode()}

    def resize_all(self, length: int) -> None:
        """Give all three arrays ``length`` frames (their metadata written concurrently)."""
        from zarr.core.sync import sync

        async def resize():
            await asyncio.gather(
                *(
                    arr.async_array.resize((length, *arr.shape[1:]))
                    for arr in (self.labels, self.time, self.scores)
                    if arr.shape[0] != length
                )
            )

        sync(resize())
        self.capacity = length

    def add_columns(self, n_objects: int) -> None:
        """Widen ``scores`` to ``n_objects`` columns (nothing in flight: drain first).

        Score chunks of column blocks that are new, on the committed frames, are written as
        zeros (new objects score 0 there): commits write only the rows they add, and every
        chunk of the committed frames must exist (a missing one is damage,
        :mod:`ecoseg.store.chunks`).
        """
        scores = self.scores
        old = int(scores.shape[1])
        scores.resize((scores.shape[0], n_objects))
        step = int(scores.metadata.chunk_grid.chunk_shape[1])
        first = -(-old // step) * step  # the first column of a block that had no columns
        if self.committed and n_objects > first:
            scores[: self.committed, first:n_objects] = 0  # write_empty_chunks: zeros written

    def discard_uncommitted(self, n_objects: int) -> None:
        """Resume: cut the arrays back to the marker and ``n_objects`` score columns."""
        n, k = self.committed, n_objects

        def trim():
            if self.scores.shape[1] > k:
                if self.scores.shape[0]:
                    self.scores[:, k:] = 0  # so the columns read 0 if objects are added later
                self.scores.resize((self.scores.shape[0], k))
            self.resize_all(n)

        guard(self.path, trim)

    def shutdown(self, wait: bool = True) -> None:
        """Stop the writer threads."""
        if self._executor is not None:
            self._executor.shutdown(wait=wait)
            self._executor = None

    # ------------------------------------------------------------------ internals
    def _chunk_end(self, frame: int) -> int:
        return (frame // self.chunk_frames + 1) * self.chunk_frames

    def _new_buffer(self) -> np.ndarray:
        shape = (self.chunk_frames, int(self.labels.shape[1]), int(self.labels.shape[2]))
        return np.empty(shape, np.uint32)

    def _maybe_commit(self) -> None:
        """Submit the requested commit once the label chunks it covers are written."""
        if self._commit_target < self._commit_requested <= self._written:
            self._submit_commit(self._commit_requested)

    def _writers(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                self._threads, thread_name_prefix="ecoseg-store-writer"
            )
        return self._executor

    def _write_labels(self, t0: int, labels: np.ndarray) -> None:  # writer thread
        self.labels[t0 : t0 + len(labels)] = labels

    def _write_chunk(self, index: int, blocks: list[list[bytes]]) -> None:  # writer thread
        """Write ``labels`` chunk ``index`` from compressed frames (zeros after them)."""
        data = self._encoder.chunk(blocks, self.chunk_frames)
        self._label_keys.write({self.labels.metadata.encode_chunk_key((index, 0, 0)): data})

    def _load_blocks(self) -> None:
        """Compressed mode: compress the chunk's frames before the first one to buffer (frames
        committed by an earlier run, when it resumes mid-chunk)."""
        if self._blocks is None:
            start = self._buf_start - self._buf_start % self.chunk_frames
            done = np.asarray(self.labels[start : self._buf_start])
            self._blocks = self._encoder.encode(done)[0]

    def _submit_commit(self, target: int) -> None:
        """Commit frames up to ``target``: their time and score rows, then the marker."""
        self._finish_commit()
        start = self._commit_target
        times, blocks, have = [], [], start
        while have < target:
            t, sc = self._rows.popleft()
            times.append(t)
            blocks.append(sc)
            have += len(t)
        rows = np.zeros((target - start, self.n_objects), np.float32)
        at = 0
        for block in blocks:
            rows[at : at + len(block), : block.shape[1]] = block
            at += len(block)
        meta = self.record(target)  # a snapshot: the caller may change its metadata
        future = self._writers().submit(
            self._write_commit, start, target, np.concatenate(times), rows, meta
        )
        self._commit = (future, target)
        self._commit_target = target

    def _write_commit(self, start, stop, times, rows, meta) -> None:  # writer thread
        from zarr.core.sync import sync

        jobs = []
        for name, array, values in (("time", self.time, times), ("scores", self.scores, rows)):
            if values.ndim > 1 and not values.shape[1]:
                continue  # no objects, no score columns
            chunks = self._row_chunks[name]
            if chunks is None:
                jobs.append(array.async_array.setitem(slice(start, stop), values))
            else:
                chunks.write(chunks.encode(start, values))
        if jobs:

            async def write():
                await asyncio.gather(*jobs)

            sync(write())
        self.write_marker(meta)  # only once the rows it covers are written

    def _collect(self, keep: int) -> None:
        """Wait until at most ``keep`` label writes are in flight; note the written frames."""
        while len(self._inflight) > keep or (self._inflight and self._inflight[0][0].done()):
            future, buf, stop = self._inflight.popleft()
            self._check(future)
            self._written = stop
            if buf is not None and len(buf) == self.chunk_frames:
                self._pool.append(buf)

    def _finish_commit(self) -> None:
        if self._commit is not None:
            future, target = self._commit
            self._commit = None
            self._check(future)
            self.committed = target

    def _check(self, future: Future) -> None:
        exc = future.exception()
        if exc is None:
            return
        if self.error is None:
            self.error = (
                f"{self.path}: writing frames from {self.committed} on failed "
                f"({short_error(exc)}); the store keeps the {self.committed} committed frames, "
                "resume with MaskStore.open(path, mode='a')"
            )
        for other, _, _ in self._inflight:
            other.cancel()
        self._inflight.clear()
        raise StoreError(self.error) from exc
