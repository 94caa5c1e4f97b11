"""Rows of the ``time`` and ``scores`` arrays written as whole chunks from a copy in memory.

A commit adds a few rows (frames) to ``time`` and ``scores``. Written through zarr, each commit
is a read-modify-write of a partial chunk (read, decompress, merge, compress, write). A
:class:`RowChunks` keeps the chunk being filled in memory instead, so a commit compresses it
whole and writes its bytes as the chunk's key (:class:`~ecoseg.store.keys.KeyWriter`): no read,
and the same bytes zarr would write. A store opened to resume loads its last partial chunk once,
on the first commit.
"""

from __future__ import annotations

import numpy as np

from ecoseg.store._util import bytes_then
from ecoseg.store.keys import KeyWriter

__all__ = ["RowChunks"]


class RowChunks:
    """The chunks of a zarr array of rows (1-D, or 2-D chunked along both axes), written whole.

    Parameters
    ----------
    array : zarr.Array
        A ``time`` (t,) or ``scores`` (t, object) array whose codecs are bytes (little-endian)
        then zstd (see :meth:`for_array`).
    level, checksum : int, bool
        Its zstd settings.

    Examples
    --------
    >>> import zarr
    >>> g = zarr.open_group("memory://doc-rowchunks", mode="w", zarr_format=3)
    >>> a = g.create_array("time", shape=(6,), chunks=(4,), dtype="float64", fill_value=0)
    >>> rows = RowChunks.for_array(a)
    >>> chunks = rows.encode(0, np.array([0.0, 0.1, 0.2]))  # chunk 0 (rows 0..2)
    >>> chunks += rows.encode(3, np.array([0.3, 0.4, 0.5]))  # chunk 0 again, then chunk 1
    >>> [key for key, _ in chunks]
    ['c/0', 'c/0', 'c/1']
    >>> rows.write(chunks[1:])
    >>> a[:].tolist()
    [0.0, 0.1, 0.2, 0.3, 0.4, 0.5]
    """

    def __init__(self, array, level: int, checksum: bool):
        from numcodecs import Zstd

        self.array = array
        self.rows = int(array.chunks[0])
        self._codec = Zstd(level=level, checksum=checksum)  # what zarr's ZstdCodec runs
        self._start: int | None = None  # first row of the chunk held
        self._held: np.ndarray | None = None  # its rows so far (then zeros, the fill value)
        self._keys = KeyWriter(array.store_path)

    @classmethod
    def for_array(cls, array) -> RowChunks | None:
        """The writer for ``array`` if its chunks are plain bytes then zstd (what zarr creates
        by default) with fill value 0, else None (then zarr writes the rows)."""
        from zarr.codecs import ZstdCodec

        zstd = bytes_then(array, ZstdCodec, (1, 2))
        if zstd is None or array.fill_value != 0:
            return None
        return cls(array, zstd.level, zstd.checksum)

    def encode(self, start: int, values: np.ndarray) -> list[tuple[str, bytes]]:
        """Rows ``start:start + len(values)`` (following the rows encoded before, or the rows
        on disk for the first call): the key and bytes of every chunk they touch, whole."""
        out = []
        values = np.asarray(values, self.array.dtype)
        at = 0
        while at < len(values):
            row = start + at
            held = self._hold(row, values.shape[1:])
            k = min(len(values) - at, self._start + self.rows - row)
            part = values[at : at + k]
            held[(slice(row - self._start, row - self._start + k), *map(slice, part.shape[1:]))] = (
                part
            )
            out += self._chunks(held)
            at += k
            if row + k == self._start + self.rows:  # full: the next chunk starts empty
                self._start, self._held = row + k, None
        return out

    def write(self, chunks: list[tuple[str, bytes]]) -> None:
        """Write encoded chunks now, each key atomically (:class:`~ecoseg.store.keys.KeyWriter`:
        files written directly in a local folder store, else through zarr); of a key given
        twice, the last bytes."""
        self._keys.write(dict(chunks))

    def _hold(self, row: int, columns: tuple[int, ...]) -> np.ndarray:
        """The held chunk for ``row``, at least ``columns`` wide (objects added since the last
        commit score 0 on earlier rows)."""
        start = row - row % self.rows
        if self._start != start or self._held is None:
            if self._start != start and row > start:  # resume: rows committed by a past run
                done = np.asarray(self.array[start:row])
                columns = tuple(max(a, b) for a, b in zip(columns, done.shape[1:]))
                self._held = np.zeros((self.rows, *columns), self.array.dtype)
                self._held[tuple(slice(0, n) for n in done.shape)] = done
            else:
                self._held = np.zeros((self.rows, *columns), self.array.dtype)
            self._start = start
        elif columns and self._held.shape[1] < columns[0]:
            grown = np.zeros((self.rows, *columns), self.array.dtype)
            grown[:, : self._held.shape[1]] = self._held
            self._held = grown
        return self._held

    def _chunks(self, held: np.ndarray) -> list[tuple[str, bytes]]:
        """Key and bytes of each chunk of the held rows (along the columns for 2-D arrays)."""
        index = self._start // self.rows
        encode_key = self.array.metadata.encode_chunk_key
        if held.ndim == 1:
            return [(encode_key((index,)), self._codec.encode(held))]
        step = int(self.array.chunks[1])
        out = []
        for j in range(0, held.shape[1], step):
            part = np.zeros((self.rows, step), held.dtype)
            part[:, : min(step, held.shape[1] - j)] = held[:, j : j + step]
            out.append((encode_key((index, j // step)), self._codec.encode(part)))
        return out
