"""The warnings of training and classification, and their wording: species learnt from few
reviewed tracks and a store's reviewed tracks naming a species the model does not know
(:class:`~ecoseg.species.model.SpeciesModelWarning`), tracks an earlier classification
named losing names the model does not know (:class:`NarrowerModelWarning`, public in
:mod:`ecoseg.species.classify`).
"""

from __future__ import annotations

from collections import Counter

from ecoseg._warn import warn
from ecoseg.species.features import TrackFeatures
from ecoseg.species.model import FEW_TRACKS, SpeciesModel, SpeciesModelWarning

__all__ = ["NarrowerModelWarning", "warn_few", "warn_narrower", "warn_unknown_species"]


class NarrowerModelWarning(UserWarning):
    """A classification renames tracks an earlier classification named with species the new
    model does not know: they lose those names because the model cannot give them, not
    because it decided otherwise (printed by the CLI as one ``ecoseg: warning:`` line; ``ecoseg
    edit STORE --undo`` gives them back)."""


def warn_few(labels: list[str], stores: list) -> None:
    """Warn of species learnt from fewer than FEW_TRACKS reviewed tracks (two species at least
    are checked by the fit)."""
    counts = Counter(labels)
    few = sorted(c for c, n in counts.items() if n < FEW_TRACKS)
    if len(counts) < 2 or not few:
        return
    listed = ", ".join(f"{c} {counts[c]}" for c in few)
    warn(
        f"{', '.join(str(s) for s in stores)}: species with fewer than {FEW_TRACKS} reviewed "
        f"tracks ({listed}): the model names them, but its probabilities overstate what it "
        "learnt from so few; review more tracks of each (ecoseg edit STORE --set-class ID=NAME)",
        SpeciesModelWarning,
    )


def warn_unknown_species(model: SpeciesModel, feats: TrackFeatures) -> None:
    """Warn when a store's reviewed tracks name a species the model does not know: its other
    tracks get the name of a species the model knows."""
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
        f"train on this store too (--train {feats.store})",
        SpeciesModelWarning,
    )


def warn_narrower(store, model: SpeciesModel, lost: Counter) -> None:
    """Warn when tracks an earlier classification named (``lost``: their count by class) lose
    names the model does not know."""
    n = sum(lost.values())
    if not n:
        return
    it = "them" if n > 1 else "it"
    if len(lost) == 1:
        named = f"the name {next(iter(lost))!r} an earlier classification gave {it}, a species"
    else:
        listed = ", ".join(f"{c!r} ({k})" for c, k in sorted(lost.items()))
        named = f"the names {listed} an earlier classification gave them, species"
    warn(
        f"{store}: {n} track{'s' * (n > 1)} lose{'s' * (n == 1)} {named} the model does not "
        f"know (it names {', '.join(model.classes)}); ecoseg edit {store} --undo gives {it} back",
        NarrowerModelWarning,
    )
