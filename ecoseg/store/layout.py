"""The store's on-disk layout: format name, version, array specs and codec settings."""

from __future__ import annotations

import numpy as np

__all__ = [
    "ARRAYS",
    "ATTRS_KEY",
    "COMMIT_FRAMES",
    "LABELS_CODEC",
    "MAX_ID",
    "SCORE_CHUNKS",
    "STORE_FORMAT",
    "STORE_VERSION",
    "TIME_CHUNK",
    "labels_codec",
]

STORE_FORMAT = "ecoseg-masks"
STORE_VERSION = 1
#: The group attribute that holds all ecoseg metadata (the commit record).
ATTRS_KEY = "ecoseg"

#: Blosc settings of the ``labels`` array (see :mod:`ecoseg.store` for the measurement).
LABELS_CODEC = {"cname": "zstd", "clevel": 1, "shuffle": "noshuffle", "blocksize": 2**21}
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


def labels_codec():
    """The Blosc codec of the ``labels`` array.

    Examples
    --------
    >>> labels_codec().cname.value
    'zstd'
    """
    import zarr

    return zarr.codecs.BloscCodec(**LABELS_CODEC)
