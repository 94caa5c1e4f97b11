"""Small helpers shared by the store modules (public names in a private module)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np

from ecoseg.errors import StoreError

T = TypeVar("T")


def path_hint(value: Any) -> str:
    """What to pass instead of an opened MaskStore, the dataset of
    :func:`~ecoseg.store.open_masks` or a table of :func:`~ecoseg.measure.measure` (these two
    name their store in ``attrs["store"]``); empty for anything else.

    Examples
    --------
    >>> path_hint(3)
    ''
    """
    if type(value).__name__ == "MaskStore" and isinstance(getattr(value, "path", None), str):
        return f" (an opened MaskStore: pass its path, {value.path!r})"
    store = getattr(value, "attrs", None)
    store = store.get("store") if isinstance(store, dict) else None
    if not isinstance(store, str):
        return ""
    what = (
        "a table of measure" if type(value).__name__ == "DataFrame" else "a dataset of open_masks"
    )
    return f" ({what}: pass its store, {store!r})"


def short_error(exc: BaseException) -> str:
    """One line of at most ~160 characters describing ``exc``.

    Examples
    --------
    >>> short_error(OSError("disk\\n  full"))
    'disk full'
    """
    text = " ".join(str(exc).split())
    return (text[:160] + "...") if len(text) > 160 else (text or type(exc).__name__)


def is_int(value: Any) -> bool:
    """Whether ``value`` is an integer (Python or numpy), not a bool.

    Examples
    --------
    >>> is_int(3), is_int(np.int8(3)), is_int(True), is_int(3.0)
    (True, True, False, False)
    """
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def bytes_then(array, kind: type, ndims: tuple[int, ...]):
    """The last codec of ``array`` where its chunks are plain little-endian bytes then one
    codec of class ``kind`` (no sharding, no other codec), it has one of ``ndims`` dimensions
    and this machine is little-endian, else None: the arrays whose chunk bytes the store
    encodes or decodes itself rather than through zarr.

    Nothing else about a zarr v3 array changes those bytes: every key is the array's own
    ``metadata.encode_chunk_key`` (any chunk key encoding), and the ``bytes`` codec lays a
    chunk out in C order whatever the array's ``order`` (only the memory order of what zarr
    reads; ``tests/store/test_commit.py`` writes and reads such arrays).

    Examples
    --------
    >>> import zarr
    >>> g = zarr.open_group("memory://doc-bytes-then", mode="w", zarr_format=3)
    >>> a = g.create_array("time", shape=(4,), chunks=(4,), dtype="float64")
    >>> type(bytes_then(a, zarr.codecs.ZstdCodec, (1, 2))).__name__
    'ZstdCodec'
    >>> bytes_then(a, zarr.codecs.BloscCodec, (1,)), bytes_then(a, zarr.codecs.ZstdCodec, (3,))
    (None, None)
    """
    from zarr.codecs import BytesCodec

    codecs = tuple(getattr(getattr(array, "metadata", None), "codecs", ()))
    if (
        sys.byteorder != "little"
        or getattr(array, "ndim", None) not in ndims
        or len(codecs) != 2
        or not isinstance(codecs[0], BytesCodec)
        or getattr(codecs[0].endian, "value", "little") != "little"
        or not isinstance(codecs[1], kind)
    ):
        return None
    return codecs[1]


def settle_writes(timeout: float = 10.0) -> int:
    """Wait (at most ``timeout`` seconds) for the work still running on zarr's event loop.

    Zarr gathers some writes (an array's metadata with its parent group's, ``setitem`` over
    several chunks). When one of them fails, the error comes back at once while the others
    still run; one can land after the caller has removed the half-written store and bring a
    folder back. Call this before removing what a failed write left. Returns how many tasks
    were still running.

    Examples
    --------
    >>> settle_writes()
    0
    """
    import asyncio

    from zarr.core.sync import sync

    async def others() -> int:
        me = asyncio.current_task()
        running = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
        if running:
            await asyncio.wait(running, timeout=timeout)
        return len(running)

    return sync(others())


def guard(path: str, action: Callable[[], T]) -> T:
    """Run ``action``; a backend failure becomes a StoreError naming the store.

    Examples
    --------
    >>> guard("masks.zarr", lambda: 1 / 0)
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: masks.zarr: writing the store failed: division by zero
    """
    try:
        return action()
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"{path}: writing the store failed: {short_error(exc)}") from exc


def copy_max(src: np.ndarray, dst: np.ndarray, rows: int = 64) -> np.ndarray:
    """Copy ``src`` into ``dst`` (both (n, H, W)) and return each frame's largest value.

    The copy goes in blocks of ``rows`` rows, and each block's maximum is taken from the copy
    while it is still in the cache: one pass over the caller's memory instead of two.

    Examples
    --------
    >>> dst = np.empty((2, 3, 2), np.uint32)
    >>> copy_max(np.arange(12, dtype=np.uint32).reshape(2, 3, 2), dst, rows=2).tolist()
    [5, 11]
    >>> int(dst[1, 2, 1])
    11
    """
    n, height = src.shape[:2]
    top = np.zeros(n, dst.dtype)
    if dst.size == 0:
        return top
    for i in range(n):
        for r in range(0, height, rows):
            block = dst[i, r : r + rows]
            np.copyto(block, src[i, r : r + rows])
            top[i] = max(top[i], block.max())
    return top
