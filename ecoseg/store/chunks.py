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
from dataclasses import dataclass

import numpy as np

from ecoseg.errors import StoreError
from ecoseg.store._util import short_error

__all__ = [
    "MissingChunk",
    "find_missing",
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
    from zarr.core.sync import sync

    least = min_frames(array.basename, whole)

    async def read():
        checks = [] if least is None else [find_missing(array, start, stop, committed, least)]
        return await asyncio.gather(array.async_array.getitem(slice(start, stop)), *checks)

    try:
        data, *missing = sync(read())
        if not missing or not missing[0]:
            return np.asarray(data)
        lost = missing[0][0]
        reason = f"chunk {lost.key} is missing"
        start, stop = lost.first, lost.last + 1
    except Exception as exc:  # a chunk that does not decompress, or vanished
        reason = short_error(exc)
    raise StoreError(
        f"{path}: '{array.basename}' frames {start}..{stop - 1} cannot be read; the store is "
        f"damaged ({reason})"
    )
