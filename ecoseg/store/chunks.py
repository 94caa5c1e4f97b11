"""Missing chunks: a chunk key absent inside a store's committed frames is damage.

Zarr reads a chunk key that is not there as the array's fill value, so a ``labels`` chunk lost
to a copy gone wrong reads as frames without animals. The writer writes every chunk of the
frames it commits, also all-zero ones (``write_empty_chunks``), so within the committed frames
a missing key means the store was damaged. :func:`missing_chunks` asks the store which chunk
keys of a frame range are absent: one ``exists`` query per chunk key of the range (every
spatial block of a frame chunk), gathered concurrently through the zarr store API, so it works
the same on local folders, zip files, ``memory://`` and any fsspec URL. It reads no chunk data;
:func:`read_checked` runs it together with the read.

Which arrays a store promises whole (:func:`min_frames`): ``labels`` always (every ecoseg
version wrote its empty chunks); ``time`` and ``scores`` where the store's attributes carry
:data:`~ecoseg.store.layout.ALL_CHUNKS` (stores created since it exists). Older writers
skipped all-zero ``time`` and ``scores`` chunks, and a ``scores`` chunk of objects registered
later was never written, so there only ``time`` chunks holding two frames or more (whose times
differ, so not all are 0.0) must be present.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from ecoseg._checks import frame_range
from ecoseg.errors import StoreError
from ecoseg.store._util import short_error

__all__ = [
    "CheckedArray",
    "MissingChunk",
    "chunk_named",
    "find_missing",
    "frame_range",
    "min_frames",
    "missing_chunks",
    "read_checked",
]


@dataclass(frozen=True)
class MissingChunk:
    """One chunk key absent from a store.

    Attributes
    ----------
    array : str
        The array's name (``"labels"``, ``"time"``, ``"scores"``).
    key : str
        The chunk's key relative to the store root, e.g. ``"labels/c/30/0/0"``.
    first, last : int
        The committed frames the chunk holds (inclusive).
    """

    array: str
    key: str
    first: int
    last: int

    def describe(self) -> str:
        """``"'labels' frames 120..179"``: the array and the frames, for messages.

        Examples
        --------
        >>> MissingChunk("labels", "labels/c/2/0/0", 8, 11).describe()
        "'labels' frames 8..11"
        """
        return f"'{self.array}' frames {self.first}..{self.last}"


def missing_chunks(
    array, start: int, stop: int, committed: int, min_frames: int = 1, first_only: bool = False
) -> list[MissingChunk]:
    """The chunks of frames ``start:stop`` of a zarr ``array`` that are not in its store.

    Parameters
    ----------
    array : zarr.Array
        A store array whose first axis is frames (``labels``, ``time``, ``scores``).
    start, stop : int
        Frames being read (``0 <= start < stop``).
    committed : int
        Committed frames (the progress marker): frames past it are not reported.
    min_frames : int
        Only chunks holding at least this many committed frames count (see the module text).
    first_only : bool
        Report only the first missing chunk in frame order.

    Returns
    -------
    list of MissingChunk
        In frame order (then spatial block order); empty when every chunk is there.

    Examples
    --------
    >>> import numpy as np, zarr
    >>> from zarr.core.sync import sync
    >>> g = zarr.open_group("memory://doc-missing", mode="w", zarr_format=3)
    >>> a = g.create_array("labels", shape=(6, 2, 2), chunks=(2, 2, 2), dtype="uint32",
    ...                    fill_value=0, config={"write_empty_chunks": True})
    >>> a[:] = np.zeros((6, 2, 2), np.uint32)
    >>> missing_chunks(a, 0, 6, 6)
    []
    >>> sync(a.store_path.store.delete("labels/c/1/0/0"))
    >>> missing_chunks(a, 0, 6, 6)
    [MissingChunk(array='labels', key='labels/c/1/0/0', first=2, last=3)]
    >>> missing_chunks(a, 4, 6, 6)  # the range read does not touch it
    []
    """
    from zarr.core.sync import sync

    return sync(find_missing(array, start, stop, committed, min_frames, first_only))


async def find_missing(
    array, start: int, stop: int, committed: int, min_frames: int = 1, first_only: bool = False
) -> list[MissingChunk]:
    """:func:`missing_chunks` as a coroutine, to gather with other store work (a read).

    Examples
    --------
    >>> import zarr
    >>> from zarr.core.sync import sync
    >>> g = zarr.open_group("memory://doc-find-missing", mode="w", zarr_format=3)
    >>> a = g.create_array("time", shape=(3,), chunks=(2,), dtype="float64")
    >>> sync(find_missing(a, 0, 3, 3))  # nothing written: both chunks are missing
    [MissingChunk(array='time', key='time/c/0', first=0, last=1), \
MissingChunk(array='time', key='time/c/1', first=2, last=2)]
    """
    stop = min(stop, committed)
    if stop <= start:
        return []
    meta = array.metadata
    grid = tuple(meta.chunk_grid.chunk_shape)  # the stored keys' grid (shards if sharded)
    step = grid[0]
    blocks = [range(-(-int(n) // c)) for n, c in zip(array.shape[1:], grid[1:])]
    wanted = []
    for t in range(start // step, (stop - 1) // step + 1):
        first, last = t * step, min((t + 1) * step, committed) - 1
        if last - first + 1 < min_frames:
            continue
        for rest in itertools.product(*blocks):
            wanted.append((meta.encode_chunk_key((t, *rest)), first, last))
    if not wanted:
        return []
    where = array.store_path
    found = await asyncio.gather(*((where / key).exists() for key, _, _ in wanted))
    name = array.basename
    prefix = f"{where.path}/" if where.path else ""
    out = []
    for (key, first, last), there in zip(wanted, found):
        if not there:
            out.append(MissingChunk(name, prefix + key, first, last))
            if first_only:
                break
    return out


def min_frames(name: str, whole: bool) -> int | None:
    """Fewest committed frames a chunk of array ``name`` must hold to be checked, or None
    (not checked); ``whole``: the store promises every chunk (:data:`ALL_CHUNKS`).

    Examples
    --------
    >>> min_frames("labels", False), min_frames("time", False), min_frames("scores", False)
    (1, 2, None)
    >>> min_frames("scores", True)
    1
    """
    if name == "labels" or whole:
        return 1
    return 2 if name == "time" else None  # older writers skipped all-zero chunks


def read_checked(
    array, start: int, stop: int, committed: int, whole: bool, path: str
) -> np.ndarray:
    """``array[start:stop]`` after checking its chunks are there (one trip to zarr's event
    loop for both); a missing or damaged chunk is a StoreError naming the store (``path``),
    the array and the frames.

    Examples
    --------
    >>> import zarr
    >>> g = zarr.open_group("memory://doc-read-checked", mode="w", zarr_format=3)
    >>> a = g.create_array("time", shape=(3,), chunks=(2,), dtype="float64")
    >>> a[:2] = [0.5, 1.0]
    >>> read_checked(a, 0, 2, 3, True, "m.zarr").tolist()
    [0.5, 1.0]
    >>> read_checked(a, 0, 3, 3, True, "m.zarr")
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: m.zarr: 'time' frames 2..2 cannot be read; the store is damaged \
(chunk time/c/1 is missing)
    """
    return _read(array, (slice(start, stop),), range(start, stop), committed, whole, path)


def _runs(frames: range, step: int) -> list[tuple[int, int]]:
    """Frame ranges ``[a, b)`` covering the chunks of ``step`` frames that ``frames`` (ascending)
    touches, one per run of consecutive chunks."""
    if frames.step <= step:  # every chunk between the first and the last frame
        return [(frames[0], frames[-1] + 1)]
    out: list[tuple[int, int]] = []
    for f in frames:
        c = f // step * step
        if out and out[-1][1] == c:
            out[-1] = (out[-1][0], c + step)
        elif not out or out[-1][1] < c + step:
            out.append((c, c + step))
    return out


def _read(array, selection: tuple, frames: range, committed: int, whole: bool, path: str):
    """``array[selection]`` whose frames (axis 0, ascending, non-empty) are ``frames``; the
    chunks of those frames are checked in the same trip to zarr's event loop."""
    from zarr.core.sync import sync

    least = min_frames(array.basename, whole)
    runs = [] if least is None else _runs(frames, int(array.metadata.chunk_grid.chunk_shape[0]))

    async def read():
        checks = (find_missing(array, a, b, committed, least, first_only=True) for a, b in runs)
        return await asyncio.gather(array.async_array.getitem(selection), *checks)

    start, stop = frames[0], frames[-1] + 1
    try:
        data, *missing = sync(read())
        lost = next((m[0] for m in missing if m), None)
        if lost is None:
            return np.asarray(data)
        reason = f"chunk {lost.key} is missing"
        start, stop = lost.first, lost.last + 1
    except Exception as exc:  # a chunk that does not decompress, or vanished
        start, stop = _unreadable(array, frames, start, stop)
        reason = chunk_named(array, start, stop - 1, short_error(exc))
    raise StoreError(
        f"{path}: '{array.basename}' frames {start}..{stop - 1} cannot be read; the store is "
        f"damaged ({reason})"
    )


def chunk_named(array, first: int, last: int, reason: str) -> str:
    """``reason`` (why frames ``first`` to ``last`` of ``array`` did not read) led by the key
    of the chunk file that holds them, where they lie in one chunk: ``"chunk labels/c/2/0/0:
    REASON"`` (the file to restore from a backup); ``reason`` as it is otherwise.

    Examples
    --------
    >>> import zarr
    >>> g = zarr.open_group("memory://doc-chunk-named", mode="w", zarr_format=3)
    >>> a = g.create_array("labels", shape=(8, 4, 4), chunks=(4, 4, 4), dtype="uint32")
    >>> chunk_named(a, 4, 7, "error during blosc decompression: -1")
    'chunk labels/c/1/0/0: error during blosc decompression: -1'
    >>> chunk_named(a, 0, 7, "bad bytes")  # two chunks: no one file to name
    'bad bytes'
    """
    meta = array.metadata
    grid = tuple(int(c) for c in meta.chunk_grid.chunk_shape)
    if first // grid[0] != last // grid[0]:
        return reason
    if any(-(-int(n) // c) != 1 for n, c in zip(array.shape[1:], grid[1:])):
        return reason  # a frame chunk of several files
    key = meta.encode_chunk_key((first // grid[0], *(0,) * (len(grid) - 1)))
    prefix = f"{array.store_path.path}/" if array.store_path.path else ""
    return f"chunk {prefix}{key}: {reason}"


def _unreadable(array, frames: range, start: int, stop: int) -> tuple[int, int]:
    """The frames of the read (``start`` to ``stop``) in the first chunk among ``frames`` that
    cannot be read, so a damaged chunk is named by its frames, not by all those of the read
    (``start, stop`` when each reads on its own: the damage was passing, or not one chunk's)."""
    step = int(array.metadata.chunk_grid.chunk_shape[0])
    if frames.step <= step:  # every chunk between the first and the last frame
        chunks: Iterable[int] = range(frames[0] // step, frames[-1] // step + 1)
    else:
        chunks = sorted({f // step for f in frames})
    for c in chunks:
        a, b = max(c * step, start), min((c + 1) * step, stop)  # the read's frames of it
        try:
            array[a:b]
        except Exception:
            return a, b
    return start, stop


class CheckedArray:
    """A store array's committed frames, read lazily through the missing-chunk check.

    An array-like for :func:`dask.array.from_array` and xarray: ``shape``, ``dtype``,
    ``ndim``, ``chunks`` (the stored chunk shape) and numpy basic indexing (integers, slices
    with any step, ``...``). Each read checks the chunk keys of the frames it touches,
    gathered with the read itself (as :func:`read_checked`), so it costs what the read costs
    and opening a long store checks nothing. A missing or damaged chunk is a
    :class:`~ecoseg.errors.StoreError` worded as by :meth:`ecoseg.store.MaskStore.read_labels`.

    Parameters
    ----------
    array : zarr.Array
        ``labels``, ``time`` or ``scores`` of a store (frames on axis 0).
    committed : int
        Committed frames (the progress marker): the array-like's first dimension.
    whole : bool
        The store promises every chunk (:data:`~ecoseg.store.layout.ALL_CHUNKS`).
    path : str
        The store, for messages.

    Examples
    --------
    >>> import numpy as np, zarr
    >>> from zarr.core.sync import sync
    >>> g = zarr.open_group("memory://doc-checked-array", mode="w", zarr_format=3)
    >>> a = g.create_array("labels", shape=(6, 2, 2), chunks=(2, 2, 2), dtype="uint32")
    >>> a[:] = np.arange(24, dtype=np.uint32).reshape(6, 2, 2)
    >>> lazy = CheckedArray(a, 5, True, "m.zarr")  # frame 5 is not committed
    >>> lazy.shape, lazy[4, 1].tolist(), lazy[::-2, 0, 0].tolist()
    ((5, 2, 2), [18, 19], [16, 8, 0])
    >>> sync(a.store_path.store.delete("labels/c/1/0/0"))
    >>> lazy[4:].shape  # frames 2..3 are not read
    (1, 2, 2)
    >>> lazy[:, 0, 0]
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: m.zarr: 'labels' frames 2..3 cannot be read; the store is \
damaged (chunk labels/c/1/0/0 is missing)
    """

    def __init__(self, array, committed: int, whole: bool, path: str) -> None:
        self.array = array
        self.committed = int(committed)
        self.whole = bool(whole)
        self.path = str(path)
        self.shape = (self.committed, *(int(n) for n in array.shape[1:]))
        self.dtype = np.dtype(array.dtype)
        self.ndim = len(self.shape)
        #: the stored chunk (shard, if sharded) shape: one dask chunk each checks its own keys
        self.chunks = tuple(int(c) for c in array.metadata.chunk_grid.chunk_shape)

    def __repr__(self) -> str:
        return f"<CheckedArray {self.path!r} {self.array.basename!r} shape={self.shape}>"

    def __dask_tokenize__(self):
        return (type(self).__name__, self.path, self.array.basename, self.shape, self.whole)

    def __getitem__(self, key) -> np.ndarray:
        key = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis for k in key):
            i = next(j for j, k in enumerate(key) if k is Ellipsis)
            key = key[:i] + (slice(None),) * (self.ndim - len(key) + 1) + key[i + 1 :]
        key = key + (slice(None),) * (self.ndim - len(key))
        if len(key) != self.ndim:
            raise IndexError(f"too many indices for a {self.ndim}-dimensional array")
        axes = [_ascending(k, n) for k, n in zip(key, self.shape)]  # (range, kept?, flipped?)
        if any(not len(r) for r, _, _ in axes):
            return np.broadcast_to(np.zeros((), self.dtype), self.shape)[key].copy()
        selection = tuple(slice(r[0], r[-1] + 1, r.step) if kept else r[0] for r, kept, _ in axes)
        data = _read(self.array, selection, axes[0][0], self.committed, self.whole, self.path)
        flips = [slice(None, None, -1 if flip else None) for _, kept, flip in axes if kept]
        return data[tuple(flips)] if any(flip for _, _, flip in axes) else data


def _ascending(k, n: int) -> tuple[range, bool, bool]:
    """One axis of a basic index as ascending positions, whether the axis is kept (a slice)
    and whether the result is to be reversed (a negative step)."""
    if isinstance(k, slice):
        r = range(*k.indices(n))
        return (r[::-1], True, True) if r.step < 0 else (r, True, False)
    if not isinstance(k, int | np.integer):
        raise IndexError(f"only integers, slices and ... index a CheckedArray, not {k!r}")
    i = int(k) + (n if k < 0 else 0)
    if not 0 <= i < n:
        raise IndexError(f"index {int(k)} is out of bounds for an axis of size {n}")
    return range(i, i + 1), False, False
