"""Class (species) names in one spelling: what ecoseg stores, counts and compares.

A name typed on a Mac (decomposed Unicode) and on Linux (composed), or with a tab or a
no-break space between its words, is one species in every table: :func:`clean_class_name`
gives the one spelling stored, :func:`class_key` the key two names are compared by (letter
case ignored), :func:`case_clashes` the names that differ only in case, :func:`new_spelling`
a name a person gives that only respells one already there (refused where it is given).

Public names in a private module: :mod:`ecoseg.provenance` names them too (their older home,
still importable from there), the records and the tools import them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from ecoseg._checks import few_items

__all__ = [
    "case_clashes",
    "class_key",
    "clean_class_name",
    "new_spelling",
    "one_spelling",
    "set_class_words",
    "track_list",
]

_SPACE = re.compile(r"\s+")


def clean_class_name(name: Any) -> str:
    """A class (species) name in the one spelling ecoseg stores and counts.

    Unicode NFC (a name typed with a combining macron is the one typed with the precomposed
    letter), every run of white space (tabs, no-break spaces) one space, none at the ends;
    ``None``, an empty name and ``unknown`` in any case are ``"unknown"``. Letter case is kept
    otherwise: :func:`case_clashes` finds names that differ only in it.

    Examples
    --------
    >>> clean_class_name("O\u0304taki") == clean_class_name("\u014ctaki") == "\u014ctaki"
    True
    >>> clean_class_name("  blue\u00a0 tang "), clean_class_name("Unknown"), clean_class_name("")
    ('blue tang', 'unknown', 'unknown')
    """
    text = one_spelling(str(name or ""))
    return "unknown" if not text or text.casefold() == "unknown" else text


def one_spelling(text: str) -> str:
    """A name's text in one spelling: Unicode NFC, every run of white space one space, none at
    the ends (:func:`clean_class_name` without its ``unknown``; :class:`ecoseg.prompts.Concept`
    keeps its text so, so a concept is the class the review and classify tools write).

    Examples
    --------
    >>> one_spelling(" Re\u0301cif  nord ") == "R\u00e9cif nord"
    True
    """
    return _SPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def class_key(name: Any) -> str:
    """How two class, species or concept names are compared for sameness: their one spelling
    (:func:`clean_class_name`) with letter case ignored. Store *file* names follow another
    rule (``ecoseg._paths.folder_key``: spaces are kept, a file system keeps them).

    Examples
    --------
    >>> class_key(" Sea  Urchin") == class_key("sea urchin")
    True
    >>> class_key("O\u0304taki") == class_key("\u014ctaki")
    True
    """
    return clean_class_name(name).casefold()


def case_clashes(names: Iterable[str]) -> list[tuple[str, ...]]:
    """Groups of distinct class names that differ only in letter case (each group sorted).

    They are counted as different species; a person usually meant one.

    Examples
    --------
    >>> case_clashes(["parrotfish", "wrasse", "Parrotfish", "parrotfish"])
    [('Parrotfish', 'parrotfish')]
    """
    groups: dict[str, set[str]] = {}
    for name in names:
        groups.setdefault(class_key(name), set()).add(clean_class_name(name))
    return [tuple(sorted(g)) for g in groups.values() if len(g) > 1]


def new_spelling(
    name: Any, before: Iterable[Any], after: Iterable[Any] | None = None
) -> str | None:
    """The spelling a new class ``name`` respells: a name of ``after`` (the names once it is
    given; by default ``before``) that differs from it only in letter case, when ``name`` is
    not one of ``before`` itself. None when it is a name already there, or no other spelling
    of it is left beside it (every track of the old spelling renamed at once).

    The one rule for names a person gives (``ecoseg edit --set-class``, ``Review.set_class``,
    the reviewed tracks a model trains on): ``Surgeonfish`` beside ``surgeonfish`` would be
    counted as two species, and no ecologist means two species so; the caller refuses it,
    naming the spelling there.

    Examples
    --------
    >>> new_spelling("surgeonfish", ["Surgeonfish", "wrasse"])
    'Surgeonfish'
    >>> new_spelling(" Surgeonfish", ["Surgeonfish", "surgeonfish"]) is None  # already there
    True
    >>> new_spelling("Wrasse", ["wrasse"], after=["Wrasse"]) is None  # respelt everywhere
    True
    """
    name, before = clean_class_name(name), {clean_class_name(n) for n in before}
    if name == "unknown" or name in before:
        return None
    key = class_key(name)
    others = sorted((before if after is None else {clean_class_name(n) for n in after}) - {name})
    return next((n for n in others if class_key(n) == key), None)


def set_class_words(store: Any = "STORE", track: Any = "ID", name: str = "NAME") -> str:
    """How a person names a track's species, for the CLI and for Python alike (a message
    does not know who called): the words the refusals and warnings about names end with.
    ``track`` a list of ids names each of them.

    Examples
    --------
    >>> set_class_words()
    "ecoseg edit STORE --set-class ID=NAME (in Python ecoseg.Review('STORE').set_class(ID, 'NAME'))"
    >>> print(set_class_words("a.zarr", 3, "goby"))
    ecoseg edit a.zarr --set-class 3=goby (in Python ecoseg.Review('a.zarr').set_class(3, 'goby'))
    >>> print(set_class_words("a.zarr", [1, 3], "goby"))
    ecoseg edit a.zarr --set-class 1=goby --set-class 3=goby (in Python for t in (1, 3): \
ecoseg.Review('a.zarr').set_class(t, 'goby'))
    """
    review = f"ecoseg.Review({str(store)!r})"
    if isinstance(track, (list, tuple)):
        options = " ".join(f"--set-class {t}={name}" for t in track)
        python = f"for t in {tuple(track)}: {review}.set_class(t, {name!r})"
    else:
        options, python = f"--set-class {track}={name}", f"{review}.set_class({track}, {name!r})"
    return f"ecoseg edit {store} {options} (in Python {python})"


def track_list(ids: Iterable[int], limit: int = 8) -> str:
    """Track ids for a message: ``track 3``, ``tracks 1, 3``, or the first ``limit`` and how
    many in all (a survey's name can be on dozens of tracks).

    Examples
    --------
    >>> track_list([3]), track_list([1, 3])
    ('track 3', 'tracks 1, 3')
    >>> track_list(range(1, 23), limit=3)
    'tracks 1, 2, 3, ... (22 in all)'
    """
    ids = [int(i) for i in ids]
    listed = few_items(ids, limit).replace("[", "").replace("]", "")
    listed = listed.replace(f"... ({len(ids)})", f"... ({len(ids)} in all)")
    return f"track{'s' * (len(ids) > 1)} {listed}"
