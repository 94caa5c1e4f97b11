"""Per-object network embeddings in a mask store: one mask-pooled vector per track.

When a network made the store (the SAM 2 engine), each object's image features are averaged
inside its mask on every frame it is present in, and the mean over those frames is kept in the
store as the array ``embeddings`` (object, c) float16, with the object ids, the number of
frames behind each row (``frames``) and what made it in the array's attributes. A resumed run
adds its frames to the stored means (:func:`merge_embeddings`). Readers
(:mod:`ecoseg.species.features`) need neither torch nor the network.

Examples
--------
>>> import numpy as np
>>> from ecoseg.store import MaskStore
>>> s = MaskStore.create("memory://doc-emb", height=2, width=2, overwrite=True)
>>> write_embeddings(s, EmbeddingTable(np.array([3]), np.ones((1, 4)), np.array([5])),
...                  source="doc")
>>> e = read_embeddings(s)
>>> e.ids.tolist(), e.values.dtype.name, e.values.shape, e.frames.tolist()
([3], 'float32', (1, 4), [5])
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "EMBEDDINGS_KEY",
    "EmbeddingTable",
    "merge_embeddings",
    "read_embeddings",
    "write_embeddings",
]

#: The array's name inside the store.
EMBEDDINGS_KEY = "embeddings"


@dataclass(frozen=True, eq=False)
class EmbeddingTable:
    """Mean embedding per object.

    Attributes
    ----------
    ids : ndarray of int64 (k,)
    values : ndarray of float (k, c)
        Mean over the frames the object was present in.
    frames : ndarray of int64 (k,)
        How many frames each mean is over.
    """

    ids: np.ndarray
    values: np.ndarray
    frames: np.ndarray


def merge_embeddings(old: EmbeddingTable | None, ids, sums: np.ndarray, counts) -> EmbeddingTable:
    """The stored means updated with new per-object ``sums`` (k, c) over ``counts`` frames.

    Examples
    --------
    >>> old = EmbeddingTable(np.array([1]), np.array([[2.0]]), np.array([1]))
    >>> m = merge_embeddings(old, [1, 2], np.array([[4.0], [3.0]]), [1, 3])
    >>> m.ids.tolist(), m.values.ravel().tolist(), m.frames.tolist()
    ([1, 2], [3.0, 1.0], [2, 3])
    """
    ids = [int(i) for i in ids]
    sums = np.asarray(sums, np.float64).reshape(len(ids), -1)
    counts = np.asarray(counts, np.int64).reshape(len(ids))
    total: dict[int, np.ndarray] = {}
    n: dict[int, int] = {}
    if old is not None and old.values.shape[1] == sums.shape[1]:
        for i, v, f in zip(old.ids.tolist(), old.values, old.frames.tolist()):
            total[int(i)], n[int(i)] = np.asarray(v, np.float64) * f, int(f)
    for i, s, c in zip(ids, sums, counts.tolist()):
        if c > 0:
            total[i] = total.get(i, 0.0) + s
            n[i] = n.get(i, 0) + c
    keys = sorted(k for k in total if n[k] > 0)
    width = sums.shape[1]
    values = np.array([total[k] / n[k] for k in keys]).reshape(len(keys), width)
    return EmbeddingTable(np.array(keys, np.int64), values, np.array([n[k] for k in keys]))


def write_embeddings(store, table: EmbeddingTable, *, source: str) -> None:
    """Replace the store's embeddings with ``table`` (float16), made by ``source``.

    ``store`` is a :class:`~ecoseg.store.MaskStore` open for writing.
    """
    k, c = table.values.shape
    arr = store.group.create_array(
        EMBEDDINGS_KEY,
        shape=(k, c),
        chunks=(max(1, k), max(1, c)),
        dtype=np.float16,
        fill_value=0,
        overwrite=True,
    )
    if k and c:
        arr[...] = np.asarray(table.values, np.float16)
    arr.attrs.update(
        {
            "object_ids": [int(i) for i in table.ids],
            "frames": [int(f) for f in table.frames],
            "source": str(source),
            "pooling": "mean of the image features inside the mask, then over frames",
        }
    )


def read_embeddings(store) -> EmbeddingTable | None:
    """The store's embeddings (values as float32), or None when it has none."""
    group = store.group
    if EMBEDDINGS_KEY not in group:
        return None
    arr = group[EMBEDDINGS_KEY]
    attrs = arr.attrs.asdict()
    ids = np.asarray(attrs.get("object_ids", []), np.int64)
    values = np.asarray(arr[...], np.float32).reshape(arr.shape)
    if len(ids) != values.shape[0]:
        return None
    frames = np.asarray(attrs.get("frames", [1] * len(ids)), np.int64)
    return EmbeddingTable(ids, values, frames)
