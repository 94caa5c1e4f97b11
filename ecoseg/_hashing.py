"""Content hashes for provenance and weight verification."""

from __future__ import annotations

import hashlib
import os


def sha256_file(path: str | os.PathLike, *, block: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in blocks (constant memory).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile(delete=False) as f:
    ...     _ = f.write(b"reef")
    >>> sha256_file(f.name)[:12]
    '3297cb78604b'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            h.update(chunk)
    return h.hexdigest()
