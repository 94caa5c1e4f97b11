"""A cold-start review order: representative first, then always the most different track.

Before any model exists, "least confident first" has nothing to go on, and a reviewer who
takes tracks as they come meets the common look of a species first (all three reviewed wrasse
may be the yellow morph, and a blue wrasse is then called something else).
:func:`diverse_order` orders the tracks by farthest-point traversal of their standardised
features (:mod:`ecoseg.species.features`): the track nearest the mean of all (the most
representative) first, then each time the track farthest from every track already in the
order (or already reviewed), so the first few tracks of a queue span the looks in the footage:
colour morphs, sizes, the odd fragment. ``benchmarks/classify_bench.py`` measures a reviewer
who names the tracks of this queue until each species has three, against random picks.

Examples
--------
>>> import numpy as np
>>> v = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [0.0, 3.0], [0.05, 0.1]])
>>> diverse_order(v).tolist()
[4, 2, 3, 0, 1]
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["BLOCK_VALUES", "diverse_order", "diverse_queue", "nearest_distance", "standardise"]


def standardise(values: np.ndarray) -> np.ndarray:
    """Columns to zero mean and unit spread (NaN to the column's median, constant columns 0).

    Examples
    --------
    >>> standardise(np.array([[1.0, np.nan], [3.0, 2.0]])).tolist()
    [[-1.0, 0.0], [1.0, 0.0]]
    """
    v = np.asarray(values, np.float64)
    if v.size == 0:
        return v
    ok = np.isfinite(v)
    med = np.array(
        [np.median(v[ok[:, j], j]) if ok[:, j].any() else 0.0 for j in range(v.shape[1])]
    )
    v = np.where(ok, v, med)
    sd = v.std(axis=0)
    return (v - v.mean(axis=0)) / np.where(sd > 0, sd, 1.0)


def diverse_order(
    values: np.ndarray, reviewed: np.ndarray | None = None, first: int | None = None
) -> np.ndarray:
    """Indices of the rows of ``values`` (n, d), representative first, then most different.

    Parameters
    ----------
    values : ndarray (n, d)
        Track features (any scale: they are standardised here).
    reviewed : ndarray of bool (n,), optional
        Tracks already reviewed: they come last, and the order starts with the track farthest
        from them instead of the most representative one.
    first : int, optional
        Start with this track (a reviewer's own pick) instead.

    Returns
    -------
    ndarray of int64, a permutation of ``range(n)``.
    """
    z = standardise(values)
    n = len(z)
    done = np.zeros(n, bool) if reviewed is None else np.asarray(reviewed, bool).copy()
    todo = np.flatnonzero(~done)
    order: list[int] = []
    if len(todo):
        if done.any():
            dist = nearest_distance(z, z[done])
        else:
            dist = np.full(n, np.inf)
        if first is None:
            first = (
                int(todo[np.argmax(dist[todo])])
                if done.any()
                else int(todo[np.argmin(np.linalg.norm(z[todo] - z[todo].mean(0), axis=1))])
            )
        k = int(first)
        while True:
            order.append(k)
            done[k] = True
            dist = np.minimum(dist, np.linalg.norm(z - z[k], axis=1))
            left = np.flatnonzero(~done)
            if not len(left):
                break
            k = int(left[np.argmax(dist[left])])
    placed = set(order)
    rest = [i for i in range(n) if i not in placed]
    return np.array(order + rest, np.int64)


#: Most float64 values of a distance block of :func:`nearest_distance` (32 MiB).
BLOCK_VALUES = 1 << 22


def nearest_distance(z: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Euclidean distance from each row of ``z`` (n, d) to its nearest row of ``others``
    (m, d), ``m`` > 0, computed a block of rows at a time (at most :data:`BLOCK_VALUES`
    differences): the whole (n, m, d) difference array took 565 MiB at the peak for 2,000
    tracks, 500 of them reviewed, and the 36 track features (4.4 GiB with 256 embedding
    features), the blocks 66 MiB. Each block is the same arithmetic on the same rows, so the
    distances are the whole array's, bit for bit.

    Examples
    --------
    >>> z = np.array([[0.0, 0.0], [3.0, 4.0], [1.0, 0.0]])
    >>> nearest_distance(z, z[[0]]).tolist()
    [0.0, 5.0, 1.0]
    """
    z, others = np.asarray(z, np.float64), np.asarray(others, np.float64)
    step = max(1, BLOCK_VALUES // max(1, others.shape[0] * others.shape[1]))
    out = np.empty(len(z), np.float64)
    for start in range(0, len(z), step):
        block = z[start : start + step, None] - others[None]
        out[start : start + step] = np.min(np.linalg.norm(block, axis=2), axis=1)
    return out


def diverse_queue(store, video=None, *, samples: int = 8, progress: bool = False) -> pd.DataFrame:
    """The tracks of a store in :func:`diverse_order` (unreviewed first): what to review first
    before there is a model. Same columns as :func:`~ecoseg.species.classify.review_queue`.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(128, 72))
    >>> q = diverse_queue(clip.truth)
    >>> sorted(q["object_id"]) == sorted(ecoseg.species.review_queue(clip.truth)["object_id"])
    True
    """
    from ecoseg.species.classify import review_queue
    from ecoseg.species.features import track_features

    feats = track_features(store, video, samples=samples, progress=progress)
    order = diverse_order(feats.values, feats.reviewed)
    rank = {int(feats.ids[k]): r for r, k in enumerate(order)}
    queue = review_queue(store)
    key = queue["object_id"].map(lambda i: rank.get(int(i), len(rank)))
    return queue.iloc[np.argsort(key.to_numpy(), kind="stable")].reset_index(drop=True)
