"""Numbers as the report page writes them: significant digits, fixed decimals, durations."""

from __future__ import annotations

import math

__all__ = ["duration", "g", "num"]


def duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def g(x) -> str:
    """Up to 4 significant digits, no trailing zeros (30.0 -> '30', 29.97 -> '29.97')."""
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):
        return "?"


def num(x, digits: int) -> str:
    if x is None:
        return ""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(x):
        return ""
    return f"{x:.{digits}f}"
