"""The tracks of stores as a table, least confident first (:func:`review_queue`, public in
:mod:`ecoseg.species.classify` and :mod:`ecoseg.species`; :func:`queue_table`, what
``classify`` returns, store by store; :func:`least_confident_first`, the order).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecoseg.measure.regions import class_source_of as class_source
from ecoseg.provenance import clean_class_name

__all__ = ["least_confident_first", "queue_table", "review_queue"]


def queue_table(store: str, objects: list[dict], present: set[int]) -> pd.DataFrame:
    """The tracks of ``objects`` (an object table's entries) with an id in ``present``, as
    :func:`review_queue`'s rows of ``store``, least confident first."""
    rows = []
    for o in objects:
        if int(o["id"]) not in present:
            continue
        src = class_source(o)
        p = o.get("class_probability")
        rows.append(
            {
                "store": store,
                "object_id": int(o["id"]),
                "class": clean_class_name(o.get("class")),
                "class_probability": float(p) if p is not None else np.nan,
                "class_source": src,
                "class_suggestion": clean_class_name(o.get("class_suggestion") or o.get("class")),
                "reviewed": bool(o.get("reviewed", False)),
            }
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "store",
            "object_id",
            "class",
            "class_probability",
            "class_source",
            "class_suggestion",
            "reviewed",
        ],
    )
    return least_confident_first(df)


def least_confident_first(df: pd.DataFrame) -> pd.DataFrame:
    """Unreviewed before reviewed, then by probability, stable. No probability counts as 0
    (a track nobody named, a concept's match), except for a class a person typed with the
    prompt, which counts as 1 (as in the tables): it came first, above every model's guess,
    so the queue's head asked the reviewer to check the names they had typed themselves."""
    typed = (df["class_source"] == "prompt").to_numpy()
    p = df["class_probability"].to_numpy(np.float64)
    p = np.where(np.isnan(p), np.where(typed, 1.0, 0.0), p)
    key = p + 2.0 * df["reviewed"].to_numpy()
    return df.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)


def review_queue(store) -> pd.DataFrame:
    """The tracks of a store, least confident first (what to review next).

    Raises
    ------
    StoreError
        The store is missing or malformed, or an interrupted ``ecoseg edit`` left it half
        written (:func:`ecoseg.store.check_finished`: its tracks would be listed from half
        rewritten labels).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(128, 72))
    >>> review_queue(clip.truth).columns.tolist()[:3]
    ['store', 'object_id', 'class']
    """
    from ecoseg.store import check_finished, opened_store, present_ids

    present: set[int] = set()
    with opened_store(store) as s:
        check_finished(s)  # no queue from half an edit
        n, step = s.n_frames, s.chunk_frames
        for start in range(0, n, step):
            present.update(present_ids(s.read_labels(start, min(start + step, n))).tolist())
        return queue_table(str(s.path), s.objects, present)
