"""Counts per frame and class, and MaxN per class (the ``counts`` and ``maxn`` tables).

MaxN is the standard conservative abundance estimate of remote underwater video: the largest
number of individuals of a species seen *together in a single frame*. It never double-counts
an animal that leaves and comes back, at the price of under-counting when not all
individuals are in view at once.

A class the run was told to find (a SAM 3 concept) has rows even where nothing of it was
found: a count of 0 and a MaxN of 0 (looked for, not seen), not a missing row (not looked
for). :func:`concept_classes` names them from the store's provenance. A store that named
nothing to look for and found nothing (an empty object table: the motion tracker saw no
animal) looked for any animal: its rows are 0 of ``unknown``, the class its tracks would have
had (:func:`looked_for_classes`), so its video counts as a 0, not as missing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ecoseg._class_names import set_class_words
from ecoseg._warn import warn
from ecoseg.errors import ClassNameWarning
from ecoseg.provenance import case_clashes, class_key, clean_class_name

__all__ = [
    "COUNT_UNITS",
    "MAXN_UNITS",
    "class_order",
    "concept_classes",
    "counts_table",
    "looked_for_any",
    "looked_for_classes",
    "maxn_table",
    "require_columns",
    "table_frames",
    "warn_case_clashes",
]

COUNT_UNITS = {"frame": "index", "time_s": "s", "class": "", "count": "individuals"}
MAXN_UNITS = {"class": "", "maxn": "individuals", "frame": "index", "time_s": "s"}


def require_columns(table, columns: Iterable[str], where: str, hint: str = "") -> None:
    """Refuse a ``table`` that is no DataFrame or lacks any of ``columns``, in one line naming
    ``where`` (the function and its argument), the missing and the present columns: pandas
    said only ``KeyError: 'count'``, and a regions table given for counts said no more.

    Examples
    --------
    >>> require_columns(pd.DataFrame({"class": ["a"], "count": [1]}), ["class"], "maxn_table")
    >>> require_columns(pd.DataFrame({"class": ["a"]}), ["frame", "count"], "maxn_table: counts")
    Traceback (most recent call last):
    ...
    ValueError: maxn_table: counts lacks column(s) ['frame', 'count'] (it has: class)
    """
    if not isinstance(table, pd.DataFrame):
        from ecoseg._checks import short_repr

        raise TypeError(f"{where} must be a pandas DataFrame, got {short_repr(table)}")
    missing = [c for c in columns if c not in table.columns]
    if missing:
        has = ", ".join(map(str, table.columns)) or "no columns"
        raise ValueError(f"{where} lacks column(s) {missing} (it has: {has}){hint}")


def class_order(known: Iterable[str], present: Iterable[str] = ()) -> list[str]:
    """The classes of a store's counts, MaxN and cover tables, in their row order.

    The classes of the store's object table in the order they first occur there, then any
    class ``present`` in the labels but not in that table (ids missing from it count as
    ``unknown``); ``unknown`` (tracks nobody named) comes last, apart from the species.
    :func:`ecoseg.measure` and :func:`ecoseg.batch.campaign_tables` both order by it.

    Parameters
    ----------
    known : iterable of str
        The class of every object of the store's object table, in table order.
    present : iterable of str, optional
        Classes of the objects found in the labels.

    Examples
    --------
    >>> class_order(["unknown", "wrasse", "grouper", "wrasse"])
    ['wrasse', 'grouper', 'unknown']
    >>> class_order(["wrasse"], ["wrasse", "unknown"])
    ['wrasse', 'unknown']
    """
    order = list(dict.fromkeys(str(c) for c in known))
    for c in present:
        if str(c) not in order:
            order.append(str(c))
    if "unknown" in order:
        order = [c for c in order if c != "unknown"] + ["unknown"]
    return order


def concept_classes(prompts: Mapping[str, Any] | None) -> list[str]:
    """The classes a concept run looked for, found or not: each SAM 3 concept of a store's
    provenance ``prompts``, by the class its tracks get (its text, or ``visual`` for exemplars
    alone), in the order given.

    Examples
    --------
    >>> concept_classes({"concepts": [{"text": "sea  urchin"}, {"exemplars": [{"frame": 0}]}]})
    ['sea urchin', 'visual']
    >>> concept_classes({"objects": []}), concept_classes(None)
    ([], [])
    """
    concepts = prompts.get("concepts") if isinstance(prompts, Mapping) else None
    if not isinstance(concepts, list):
        return []
    names = (
        clean_class_name(c.get("text")) if c.get("text") else "visual"
        for c in concepts
        if isinstance(c, Mapping)
    )
    return list(dict.fromkeys(names))


def looked_for_classes(known: Iterable[str], prompts: Mapping[str, Any] | None = None) -> list[str]:
    """The classes a store's counts, cover and MaxN have rows for, seen or not: the classes of
    its object table (``known``, in table order), then each SAM 3 concept of its provenance
    ``prompts`` (:func:`concept_classes`); for a store that names none (an empty object table
    and no concept: the motion tracker or discovery found no animal, an annotation of no
    track) ``['unknown']``: it looked for any animal and saw none, 0 of the class its tracks
    would have had, not a video without rows. A concept whose tracks a person respelled
    (``brain coral`` named ``Brain coral``, every track in one command: ``ecoseg edit``'s
    rule) is the class of that spelling, not a concept also looked for and not seen (which
    gave it a row of 0 beside the respelled one's count). :func:`ecoseg.measure` and
    :func:`ecoseg.batch.campaign_tables` both use it.

    Examples
    --------
    >>> looked_for_classes(["wrasse"], {"concepts": [{"text": "grouper"}]})
    ['wrasse', 'grouper']
    >>> looked_for_classes(["Grouper"], {"concepts": [{"text": "grouper"}]})
    ['Grouper']
    >>> looked_for_classes([], None)
    ['unknown']
    """
    classes = list(dict.fromkeys(str(c) for c in known))
    held = {class_key(c) for c in classes}
    asked = [c for c in concept_classes(prompts) if class_key(c) not in held]
    return [*classes, *asked] or ["unknown"]


def looked_for_any(rows: pd.DataFrame, column: str) -> bool:
    """Whether one video's rows of a counts, cover or MaxN table (``column``: its number,
    ``count``, ``cover_fraction`` or ``maxn``) are those of a store that named nothing to look
    for and saw nothing (rows of ``unknown`` only, all 0: :func:`looked_for_classes`; the
    classes may be the index): it
    looked for any animal, so the report and a study's site means count it as 0 of every
    class, not as a video that did not look for them.

    Examples
    --------
    >>> import pandas as pd
    >>> looked_for_any(pd.DataFrame({"class": ["unknown"], "maxn": [0]}), "maxn")
    True
    >>> looked_for_any(pd.DataFrame({"class": ["unknown"], "maxn": [2]}), "maxn")
    False
    """
    if not len(rows):
        return False
    classes = set(map(str, rows["class"] if "class" in rows.columns else rows.index))
    return classes == {"unknown"} and not (rows[column].to_numpy() != 0).any()


def counts_table(
    regions: pd.DataFrame,
    times: Sequence[float] | np.ndarray,
    classes: Sequence[str] | None = None,
    frames: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Number of objects of each class present in each frame.

    Parameters
    ----------
    regions : pandas.DataFrame
        Regions table (``frame``, ``object_id``, ``class``); one row per present object.
    times : array of float, shape (n_frames,)
        Time of every frame of the video (s); frames are ``0 .. n_frames - 1``.
    classes : sequence of str, optional
        Classes to report (default: those in ``regions``). Every frame x every class gets a
        row, with 0 where the class is absent.
    frames : sequence of int, optional
        The frames observed, in order (default: every frame): only they get rows, so a frame
        nobody annotated is no count of 0 (:func:`ecoseg.measure.observed_frames`).

    Returns
    -------
    pandas.DataFrame
        Columns ``frame``, ``time_s``, ``class``, ``count``; sorted by frame then class
        (in the order of ``classes``).

    Examples
    --------
    >>> import pandas as pd
    >>> reg = pd.DataFrame({"frame": [0, 1, 1], "object_id": [1, 1, 2],
    ...                     "class": ["wrasse"] * 3})
    >>> counts_table(reg, [0.0, 0.1, 0.2], ["wrasse", "grouper"])["count"].tolist()
    [1, 0, 2, 0, 0, 0]
    >>> counts_table(reg, [0.0, 0.1, 0.2], ["wrasse"], frames=[0, 2])["count"].tolist()
    [1, 0]
    """
    require_columns(regions, ["frame", "object_id"], "counts_table: regions")
    times = np.asarray(times, dtype=np.float64)
    n = len(times)
    cls_col = (
        regions["class"].astype(str).to_numpy()
        if "class" in regions.columns
        else np.full(len(regions), "unknown")
    )
    if classes is None:
        classes = list(dict.fromkeys(sorted(cls_col.tolist())))
    classes = [str(c) for c in classes]
    index = {c: k for k, c in enumerate(classes)}
    frame = regions["frame"].to_numpy(np.int64)
    if len(frame) and (frame.min() < 0 or frame.max() >= n):
        bad = int(frame[(frame < 0) | (frame >= n)][0])
        raise ValueError(f"regions table has frame {bad} outside the {n} frame times")
    k = np.array([index.get(c, -1) for c in cls_col], dtype=np.int64)
    keep = k >= 0
    nc = len(classes)
    fr, kk = frame[keep], k[keep]
    oid = regions["object_id"].to_numpy(np.int64)[keep]
    if len(oid):
        pair = np.sort(fr * (int(oid.max()) + 1) + oid)
        if (np.diff(pair) == 0).any():
            raise ValueError("regions table has duplicate (frame, object_id) rows")
    counts = np.bincount(fr * nc + kk, minlength=n * nc).reshape(n, nc)
    rows = table_frames(n, frames)
    out = pd.DataFrame(
        {
            "frame": np.repeat(rows, nc),
            "time_s": np.repeat(times[rows], nc),
            "class": pd.array(classes * len(rows), dtype=str),
            "count": counts[rows].ravel().astype(np.int64),
        }
    )
    out.attrs.update({k: v for k, v in regions.attrs.items() if k not in ("units", "table")})
    out.attrs["table"] = "counts"
    out.attrs["units"] = dict(COUNT_UNITS)
    return out


def table_frames(n: int, frames: Sequence[int] | None) -> np.ndarray:
    """The frames of a per-frame table of ``n`` frames: ``frames`` (checked) or every frame.

    Examples
    --------
    >>> table_frames(3, None).tolist(), table_frames(10, range(0, 10, 5)).tolist()
    ([0, 1, 2], [0, 5])
    """
    if frames is None:
        return np.arange(n, dtype=np.int64)
    rows = np.asarray(list(frames), dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= n or (np.diff(rows) <= 0).any()):
        raise ValueError(f"frames must increase within the {n} frame times, got {rows.tolist()}")
    return rows


def maxn_table(counts: pd.DataFrame) -> pd.DataFrame:
    """MaxN per class: the largest count in a single frame, and when it first occurs.

    Parameters
    ----------
    counts : pandas.DataFrame
        A counts table (:func:`counts_table`).

    Returns
    -------
    pandas.DataFrame
        Columns ``class``, ``maxn``, ``frame`` and ``time_s`` of the first frame where the
        count equals MaxN (``<NA>`` / NaN when the class is never seen, MaxN 0).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"frame": [0, 0, 1, 1], "time_s": [0.0, 0.0, 0.5, 0.5],
    ...                   "class": ["a", "b", "a", "b"], "count": [1, 0, 3, 0]})
    >>> maxn_table(c)[["class", "maxn", "time_s"]].to_dict("records")
    [{'class': 'a', 'maxn': 3, 'time_s': 0.5}, {'class': 'b', 'maxn': 0, 'time_s': nan}]
    """
    require_columns(
        counts,
        ["frame", "time_s", "class", "count"],
        "maxn_table: counts",
        "; give a counts table: counts_table(regions, times), or ecoseg.measure(store)['counts']",
    )
    order = list(dict.fromkeys(counts["class"].astype(str).tolist()))
    c = counts.sort_values(["frame"], kind="stable")
    rows = []
    for cls, sub in c.groupby(c["class"].astype(str), sort=False):
        values = sub["count"].to_numpy(np.int64)
        i = int(np.argmax(values)) if len(values) else 0
        m = int(values[i]) if len(values) else 0
        rows.append(
            {
                "class": cls,
                "maxn": m,
                "frame": int(sub["frame"].iloc[i]) if m > 0 else pd.NA,
                "time_s": float(sub["time_s"].iloc[i]) if m > 0 else np.nan,
            }
        )
    rows.sort(key=lambda r: order.index(r["class"]))
    out = pd.DataFrame(rows, columns=["class", "maxn", "frame", "time_s"])
    out["class"] = pd.array(out["class"].tolist(), dtype=str)
    out["maxn"] = out["maxn"].astype(np.int64)
    out["frame"] = pd.array(out["frame"].tolist(), dtype="Int64")
    out["time_s"] = out["time_s"].astype(np.float64)
    out.attrs.update({k: v for k, v in counts.attrs.items() if k not in ("units", "table")})
    out.attrs["table"] = "maxn"
    out.attrs["units"] = dict(MAXN_UNITS)
    return out


def warn_case_clashes(store, names=None) -> None:
    """Warn (:class:`~ecoseg.errors.ClassNameWarning`) of class names in ``store`` that differ
    only in letter case, of those involving ``names`` when given.

    Examples
    --------
    >>> import warnings
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-clash", height=2, width=2, overwrite=True,
    ...                      objects=[(1, "wrasse", "prompt"), (2, "Wrasse", "prompt")])
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     warn_case_clashes(s)
    >>> str(w[0].message)
    "memory://doc-clash: class names 'Wrasse' (track 2) and 'wrasse' (track 1) differ only in ..."
    """
    records = store.object_records().values()
    for group in case_clashes(r.class_name for r in records):
        if names is not None and not set(group) & set(names):
            continue
        tracks = {n: min(r.id for r in records if r.class_name == n) for n in group}
        listed = " and ".join(f"{n!r} (track {tracks[n]})" for n in group)
        warn(
            f"{store.path}: class names {listed} differ only in letter case and are counted "
            f"as {len(group)} species; if they are one, name its tracks alike "
            f"({set_class_words(store.path)})",
            ClassNameWarning,
        )
