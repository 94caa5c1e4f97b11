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

__all__ = ["FORMATS", "check_not_swapped", "format_module"]

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


def check_not_swapped(format: object, path: object, call: str) -> None:
    """Refuse a format given where the path goes and a path where the format goes (the order
    of ``call``'s arguments mistaken), naming both; it said only *unknown format 'gt.json'*.

    Examples
    --------
    >>> check_not_swapped("coco", "gt.json", "export(store, format, out)")
    >>> check_not_swapped("gt.json", "coco", "export(store, format, out)")
    Traceback (most recent call last):
    ...
    ecoseg.errors.FormatError: unknown format 'gt.json' and a format name, 'coco', given for ...
    """
    if not isinstance(path, str) or str(format).lower() in FORMATS:
        return
    if path.lower() in FORMATS:
        raise FormatError(
            f"unknown format {format!r} and a format name, {path!r}, given for the path: format "
            f"and path swapped? ({call})"
        )
