"""Whole keys of a zarr store written from bytes the writer has encoded itself.

The writer encodes its ``labels`` chunks, its ``time`` and ``scores`` chunks and its commit
record itself and writes each as one key. Through zarr, each key write is a trip to zarr's
event loop and from there to a file thread (~0.3 CPU ms per key, three thread hand-overs);
for a local folder store (also a ``.zip`` store's staging folder) a :class:`KeyWriter` writes
the file on the caller's thread as zarr's ``LocalStore`` does (~0.1 CPU ms): the bytes into a
temporary ``<name>.<random>.partial`` file beside it, then renamed over the key, so a key is
either its old or its new bytes, never half written, and a killed write leaves at most a
``.partial`` file, which a resumed writer removes. Every other store (``memory://``, fsspec
URLs, zarr ``Store`` objects) gets the keys through zarr.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from pathlib import Path

__all__ = ["KeyWriter", "put_file"]

# as open(tmp, "wb") opens it (binary on every system)
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)


def put_file(path: Path, data: bytes) -> None:
    """Write ``data`` as the file ``path`` atomically (a temporary file renamed over it).

    The temporary file is opened first and the key's folder made only where that fails (a new
    key's folder): a key whose folder exists costs no ``mkdir`` and no ``stat``.

    Examples
    --------
    >>> import tempfile
    >>> where = Path(tempfile.mkdtemp()) / "c" / "0"
    >>> put_file(where, b"abc")
    >>> where.read_bytes(), sorted(p.name for p in where.parent.iterdir())
    (b'abc', ['0'])
    """
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.partial")  # zarr's LocalStore's name for it
    try:
        fd = os.open(tmp, _CREATE, 0o666)
    except FileNotFoundError:  # the key's folder is new
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, _CREATE, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:  # a short write (a full disk) is followed by one that raises
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class KeyWriter:
    """Writes keys (relative to a zarr ``StorePath``) from bytes.

    Parameters
    ----------
    store_path : zarr.storage.StorePath
        Where the keys are, e.g. an array's or a group's ``store_path``.

    Attributes
    ----------
    folder : Path or None
        The local folder the keys are files of, or None (written through zarr).

    Examples
    --------
    >>> import tempfile, zarr
    >>> g = zarr.open_group(tempfile.mkdtemp(), mode="w", zarr_format=3)
    >>> keys = KeyWriter(g.store_path)
    >>> keys.write({"notes/a": b"xyz"})
    >>> (keys.folder / "notes" / "a").read_bytes()
    b'xyz'
    >>> KeyWriter(zarr.open_group("memory://doc-keys", mode="w").store_path).folder is None
    True
    """

    def __init__(self, store_path):
        from zarr.storage import LocalStore

        self.store_path = store_path
        store = store_path.store
        local = isinstance(store, LocalStore) and not store.read_only
        self.folder = Path(store.root, store_path.path) if local else None

    def write(self, items: Mapping[str, bytes]) -> None:
        """Write each key's bytes (each key atomically; their order is not promised)."""
        if self.folder is not None:
            for key, data in items.items():
                put_file(self.folder / key, data)
            return
        import asyncio

        from zarr.core.buffer import default_buffer_prototype
        from zarr.core.sync import sync

        buffer = default_buffer_prototype().buffer
        where = self.store_path

        async def write():
            await asyncio.gather(*((where / k).set(buffer.from_bytes(v)) for k, v in items.items()))

        sync(write())
