"""Which classes a video of the report looked for: the one rule the MaxN table, the site
comparison and the per-video figures share."""

from __future__ import annotations

from collections.abc import Iterable

from ecoseg.measure.counts import looked_for_any

__all__ = ["video_classes"]


def video_classes(rows, column: str, classes: Iterable[str]) -> list[str]:
    """The classes one video looked for, as the report counts them.

    ``rows`` are the video's rows of a counts, cover or MaxN table (``column``: its number,
    ``count``, ``cover_fraction`` or ``maxn``; the classes may be the index). A video's
    classes are those its rows hold, in their order (a class with rows of 0 was looked for and
    never seen). A video that named nothing to look for and saw nothing (its rows 0 of
    ``unknown`` only: :func:`~ecoseg.measure.counts.looked_for_any`) looked for any animal:
    every class of ``classes`` (the report's) is one of its classes too, 0 of each. A class
    of ``classes`` not in the list is not one of the video's: the report writes ``–`` for it,
    draws no bar and leaves the video out of that class's site mean.

    Examples
    --------
    >>> import pandas as pd
    >>> wrasse = pd.DataFrame({"class": ["wrasse"], "maxn": [0]})
    >>> video_classes(wrasse, "maxn", ["damselfish", "wrasse"])
    ['wrasse']
    >>> nothing = pd.DataFrame({"class": ["unknown"], "maxn": [0]})
    >>> video_classes(nothing, "maxn", ["damselfish", "wrasse"])
    ['unknown', 'damselfish', 'wrasse']
    """
    own = rows["class"] if "class" in rows.columns else rows.index
    names = list(dict.fromkeys(map(str, own)))
    if looked_for_any(rows, column):
        names = list(dict.fromkeys([*names, *map(str, classes)]))
    return names
