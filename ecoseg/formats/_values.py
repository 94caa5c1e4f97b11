"""The values of a file's fields: finite numbers, integers and object ids, or a
FormatError naming where the value is and what it should be."""

from __future__ import annotations

import math
from typing import Any

from ecoseg.errors import FormatError

__all__ = ["number", "integer", "positive_id"]


def number(value: Any, where: str, what: str) -> float:
    """A finite float, or FormatError naming ``where`` and ``what``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: {what} {value!r} is not a number") from None
    if not math.isfinite(out):
        raise FormatError(f"{where}: {what} {value!r} is not a finite number")
    return out


def integer(value: Any, where: str, what: str) -> int:
    """An integer (also from '12' or 12.0), or FormatError."""
    out = number(value, where, what)
    if out != int(out):
        raise FormatError(f"{where}: {what} {value!r} is not an integer")
    return int(out)


def positive_id(value: Any, where: str) -> int:
    """An object id in 1..2**32-1, or FormatError."""
    oid = integer(value, where, "object id")
    if not 0 < oid < 2**32:
        raise FormatError(f"{where}: object id {oid} is outside 1..4294967295")
    return oid
