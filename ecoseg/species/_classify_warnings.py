"""The warnings of training and classification, and their wording: species learnt from few
reviewed tracks and a store's reviewed tracks naming a species the model does not know
(:class:`~ecoseg.species.model.SpeciesModelWarning`), tracks an earlier classification or
discovery's colour rules named losing names the model does not know
(:class:`NarrowerModelWarning`, public in :mod:`ecoseg.species.classify`; which names:
:func:`lost_name`).
"""

from __future__ import annotations

from collections import Counter

from ecoseg._class_names import set_class_words
from ecoseg._warn import warn
from ecoseg.measure.regions import class_source_of
from ecoseg.species.features import TrackFeatures
from ecoseg.species.model import FEW_TRACKS, SpeciesModel, SpeciesModelWarning

__all__ = [
    "GIVEN_BY",
    "NarrowerModelWarning",
    "lost_name",
    "warn_few",
    "warn_narrower",
    "warn_unknown_species",
]

#: The class sources whose names a classification replaces and may not give again, and who
#: gave them, in the words of :class:`NarrowerModelWarning`.
GIVEN_BY = {"classified": "an earlier classification", "rule": "discovery's colour rules"}


class NarrowerModelWarning(UserWarning):
    """A classification renames tracks an earlier classification or discovery's colour rules
    named with species the new model does not know: they lose those names because the model
    cannot give them, not because it decided otherwise (printed by the CLI as one ``ecoseg:
    warning:`` line; ``ecoseg edit STORE --undo``, in Python ``ecoseg.Review(STORE).undo()``,
    gives them back)."""


def lost_name(obj: dict, model: SpeciesModel) -> tuple[str, str] | None:
    """Who gave the object-table entry ``obj`` a name the ``model`` cannot give, and that
    name (its class source, a key of ``GIVEN_BY``, and its class); None when its name is no
    guess a classification replaces, or one the model knows.

    Examples
    --------
    >>> class Model:
    ...     classes = ("wrasse",)
    >>> lost_name({"class": "sea_star", "class_source": "rule"}, Model())
    ('rule', 'sea_star')
    >>> lost_name({"class": "wrasse", "class_source": "classified"}, Model()) is None
    True
    >>> lost_name({"class": "goby", "reviewed": True}, Model()) is None  # a person's name
    True
    """
    source, name = class_source_of(obj), obj.get("class")
    if source in GIVEN_BY and name != "unknown" and name not in model.classes:
        return source, name
    return None


def warn_few(labels: list[str], stores: list) -> None:
    """Warn of species learnt from fewer than FEW_TRACKS reviewed tracks (two species at least
    are checked by the fit). The way to review more is said for the CLI and for Python alike
    (a warning does not know who called).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_few(["goby", "goby", "goby", "wrasse"], ["ruv.zarr"])
    >>> print(str(caught[0].message).split("; ")[1])
    review more tracks of each: ecoseg edit STORE --set-class ID=NAME (in Python ...
    """
    counts = Counter(labels)
    few = sorted(c for c, n in counts.items() if n < FEW_TRACKS)
    if len(counts) < 2 or not few:
        return
    listed = ", ".join(f"{c} {counts[c]}" for c in few)
    warn(
        f"{', '.join(str(s) for s in stores)}: species with fewer than {FEW_TRACKS} reviewed "
        f"tracks ({listed}): the model names them, but its probabilities overstate what it "
        f"learnt from so few; review more tracks of each: {set_class_words()}",
        SpeciesModelWarning,
    )


def warn_unknown_species(model: SpeciesModel, feats: TrackFeatures) -> None:
    """Warn when a store's reviewed tracks name a species the model does not know: its other
    tracks get the name of a species the model knows. Training on the store is said for the
    CLI and for Python alike."""
    known = set(model.classes)
    missing: dict[str, int] = {}
    for oid, cls, rev in zip(feats.ids, feats.classes, feats.reviewed):
        if rev and cls != "unknown" and cls not in known:
            missing.setdefault(cls, int(oid))
    if not missing:
        return
    listed = ", ".join(f"{c!r} (track {t})" for c, t in sorted(missing.items()))
    warn(
        f"{feats.store}: its reviewed tracks name {listed}, which the model does not know (it "
        f"names {', '.join(model.classes)}): unreviewed tracks of "
        f"{'that species' if len(missing) == 1 else 'those species'} get one of its names; "
        f"train on this store too: --train {feats.store} (in Python "
        f"ecoseg.classify(..., train=[..., {feats.store!r}]))",
        SpeciesModelWarning,
    )


def warn_narrower(store, model: SpeciesModel, lost: Counter) -> None:
    """Warn when tracks an earlier classification or discovery's colour rules named lose
    names the model does not know (``lost``: their count by :func:`lost_name`). The way back
    is said for the CLI and for Python alike (a warning does not know who called)."""
    n = sum(lost.values())
    if not n:
        return
    it = "them" if n > 1 else "it"
    givers = sorted({source for source, _ in lost}, key=list(GIVEN_BY).index)
    if len(lost) == 1:
        ((source, name),) = lost
        named = f"the name {name!r} {GIVEN_BY[source]} gave {it}, a species"
    else:
        parts = []
        for giver in givers:
            listed = ", ".join(f"{c!r} ({k})" for (s, c), k in sorted(lost.items()) if s == giver)
            parts.append(f"{listed} {GIVEN_BY[giver]}" if len(givers) > 1 else listed)
        given = "" if len(givers) > 1 else f" {GIVEN_BY[givers[0]]}"
        named = f"the names {' and '.join(parts)}{given} gave them, species"
    warn(
        f"{store}: {n} track{'s' * (n > 1)} lose{'s' * (n == 1)} {named} the model does not "
        f"know (it names {', '.join(model.classes)}); ecoseg edit {store} --undo (in Python "
        f"ecoseg.Review({str(store)!r}).undo()) gives {it} back",
        NarrowerModelWarning,
    )
