"""The annotation formats by name: :data:`FORMATS` and the module that reads and writes each
(:func:`format_module`).

Examples
--------
>>> format_module("MOT").NAME
'mot'
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from ecoseg.errors import FormatError

__all__ = ["FORMATS", "format_module"]

FORMATS = ("coco", "ytvis", "mot", "mots", "cvat", "viame", "davis")


def format_module(name: str) -> ModuleType:
    """The reader/writer module of a format name (case-insensitive).

    Raises
    ------
    FormatError
        Unknown format.
    """
    key = str(name).lower()
    if key not in FORMATS:
        raise FormatError(f"unknown format {name!r}; choose one of {', '.join(FORMATS)}")
    return import_module(f"ecoseg.formats.{key}")
