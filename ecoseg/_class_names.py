"""Class (species) names in one spelling: what ecoseg stores, counts and compares.

A name typed on a Mac (decomposed Unicode) and on Linux (composed), or with a tab or a
no-break space between its words, is one species in every table: :func:`clean_class_name`
gives the one spelling stored, :func:`class_key` the key two names are compared by (letter
case ignored), :func:`case_clashes` the names that differ only in case.

Public names in a private module: :mod:`ecoseg.provenance` names them too (their older home,
still importable from there), the records and the tools import them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

__all__ = ["case_clashes", "class_key", "clean_class_name", "one_spelling"]

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
