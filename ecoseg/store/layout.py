"""The store's on-disk layout: format name, version, array specs and codec settings."""

from __future__ import annotations

import numpy as np

__all__ = [
    "ALL_CHUNKS",
    "ARRAYS",
    "ATTRS_KEY",
    "COMMIT_FRAMES",
    "LABELS_BLOCK_BYTES",
    "LABELS_CODEC",
    "MAX_ID",
    "SCORE_CHUNKS",
    "STORE_FORMAT",
    "STORE_VERSION",
    "TIME_CHUNK",
    "block_rows",
    "labels_codec",
]

STORE_FORMAT = "ecoseg-masks"
STORE_VERSION = 1
#: The group attribute that holds all ecoseg metadata (the commit record).
ATTRS_KEY = "ecoseg"

#: Key of the attributes set (true) on stores whose writers write every chunk of the committed
#: frames of all arrays, all-zero ones too (stores created since; ``labels`` chunks were always
#: all written): there a missing ``time`` or ``scores`` chunk is damage
#: (:mod:`ecoseg.store.chunks`).
ALL_CHUNKS = "all_chunks"

#: Blosc settings of the ``labels`` array (see :mod:`ecoseg.store` for the measurement); the
#: block size comes from the frame size (:func:`labels_codec`).
LABELS_CODEC = {"cname": "zstd", "clevel": 1, "shuffle": "noshuffle"}
#: Largest Blosc block of the ``labels`` array (bytes).
LABELS_BLOCK_BYTES = 2**21
#: Chunk length of the ``time`` array.
TIME_CHUNK = 4096
#: Frames written between progress-marker commits (a flush commits at once).
COMMIT_FRAMES = 16
#: Chunks of the ``scores`` array (frames, objects).
SCORE_CHUNKS = (256, 64)
#: Largest object id (labels are uint32).
MAX_ID = 2**32 - 1
#: name: (dtype, dimension names, units)
ARRAYS = {
    "labels": (np.dtype(np.uint32), ("t", "y", "x"), "instance id"),
    "time": (np.dtype(np.float64), ("t",), "s"),
    "scores": (np.dtype(np.float32), ("t", "object"), "1"),
}


def block_rows(height: int, width: int, itemsize: int = 4) -> int | None:
    """Rows of one frame per Blosc block: the most rows that divide ``height`` and fit
    :data:`LABELS_BLOCK_BYTES`, so every block lies inside one frame; None where that block
    would be small (under 64 KiB, yet not the whole frame), e.g. for a prime ``height``.

    Examples
    --------
    >>> block_rows(1080, 1920), block_rows(720, 1280), block_rows(6, 7), block_rows(1031, 1920)
    (270, 360, 6, None)
    """
    row = width * itemsize
    rows = max(
        (r for r in range(1, height + 1) if height % r == 0 and r * row <= LABELS_BLOCK_BYTES),
        default=0,
    )
    if rows == 0 or (rows < height and rows * row < 2**16):
        return None
    return rows


def labels_codec(height: int, width: int):
    """The Blosc codec of the ``labels`` array for frames of ``height`` x ``width``.

    Its blocks are whole rows of one frame where :func:`block_rows` finds such a block (then
    :mod:`ecoseg.store.blosc_chunks` compresses frames block by block where the caller holds
    them), else :data:`LABELS_BLOCK_BYTES`.

    Examples
    --------
    >>> codec = labels_codec(1080, 1920)
    >>> codec.cname.value, codec.clevel, codec.blocksize
    ('zstd', 1, 2073600)
    """
    import zarr

    rows = block_rows(height, width)
    blocksize = rows * width * 4 if rows else LABELS_BLOCK_BYTES
    return zarr.codecs.BloscCodec(typesize=4, blocksize=blocksize, **LABELS_CODEC)
