"""Helpers of the info tests: damage a store the ways a copy does."""

from __future__ import annotations

from pathlib import Path


def labels_chunk(store, t: int) -> Path:
    """The file of ``labels`` chunk ``t`` (frames ``t*chunk .. t*chunk + chunk - 1``)."""
    path = Path(store) / "labels" / "c" / str(t) / "0" / "0"
    assert path.is_file(), path
    return path


def garble(path: Path) -> None:
    """Overwrite bytes in the middle of a chunk file (a bad card, a truncated upload)."""
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid - 8 : mid + 8] = b"\xff" * 16
    path.write_bytes(bytes(data))
