"""Pieces of text kept per key (an object's part of a file) in one append-only file beside
the output, so a writer that groups a video's masks by object (YouTube-VIS) holds a
bounded buffer instead of every mask: :class:`Spill`."""

from __future__ import annotations

import os
from array import array
from collections.abc import Hashable, Iterator
from pathlib import Path

__all__ = ["Spill", "spill_path"]

#: characters buffered, over all keys, before they are appended to the spill file
_BUDGET = 1 << 20


def spill_path(path: Path) -> Path:
    """The spill file of a writer of ``path``: beside it (the same disk), ``.spill`` added.

    Examples
    --------
    >>> spill_path(Path("/data/.tracks.json.partial-host-42")).name
    '.tracks.json.partial-host-42.spill'
    """
    path = Path(path)
    return path.with_name(path.name + ".spill")


class Spill:
    """Text appended per key, read back per key in the order it was added.

    Pieces are buffered in memory, all keys together, and appended to one file (opened once,
    whatever the number of keys) when the buffers pass a budget; an index of
    ``(offset, length)`` per key and flush finds them again. A context manager: the file is
    removed on leaving, after success or failure.

    Parameters
    ----------
    path : Path
        The spill file (:func:`spill_path`); replaced if it exists.
    budget : int, optional
        Characters buffered before a flush (default ``_BUDGET``, about a megabyte).

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "x.spill"
    >>> with Spill(f, budget=4) as s:
    ...     s.add("a", "one,"); s.add("b", "two"); s.add("a", "three")
    ...     "".join(s.read("a")), "".join(s.read("b")), "".join(s.read("c"))
    ('one,three', 'two', '')
    >>> f.exists()
    False
    """

    def __init__(self, path: Path, budget: int | None = None):
        self.path, self.budget = Path(path), _BUDGET if budget is None else budget
        self._buffers: dict[Hashable, list[str]] = {}
        self._size = 0
        self._index: dict[Hashable, array] = {}  # offset, length, offset, length, ...
        self._fh = open(self.path, "w+b")  # noqa: SIM115  (closed by close())

    def add(self, key: Hashable, text: str) -> None:
        """Append ``text`` to the pieces of ``key``."""
        self._buffers.setdefault(key, []).append(text)
        self._size += len(text)
        if self._size >= self.budget:
            self.flush()

    def flush(self) -> None:
        """Append every buffer to the file, one piece per key."""
        for key, parts in self._buffers.items():
            data = "".join(parts).encode("utf-8", "surrogatepass")
            self._index.setdefault(key, array("q")).extend((self._fh.tell(), len(data)))
            self._fh.write(data)
        self._buffers, self._size = {}, 0

    def read(self, key: Hashable) -> Iterator[str]:
        """The text added to ``key``, piece by piece (at most one flush of it at a time)."""
        pieces = self._index.get(key, array("q"))
        if pieces:
            self._fh.flush()
        for offset, length in zip(pieces[::2], pieces[1::2]):
            self._fh.seek(offset)
            yield self._fh.read(length).decode("utf-8", "surrogatepass")
        self._fh.seek(0, os.SEEK_END)
        yield from self._buffers.get(key, [])

    def close(self) -> None:
        """Close and remove the spill file."""
        self._fh.close()
        self.path.unlink(missing_ok=True)

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
