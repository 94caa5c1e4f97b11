"""Numbers as the report page writes them: significant digits, fixed decimals, durations."""

from __future__ import annotations

import math

__all__ = ["duration", "fixed_decimals", "significant_digits"]


def duration(seconds: float) -> str:
    """A length of time in seconds, minutes or hours, whichever reads best.

    Examples
    --------
    >>> duration(42), duration(754), duration(9000)
    ('42.0 s', '12.6 min', '2.50 h')
    """
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.2f} h"


def significant_digits(x) -> str:
    """Up to 4 significant digits, no trailing zeros; ``"?"`` for what is not a number.

    Examples
    --------
    >>> significant_digits(30.0), significant_digits(29.97), significant_digits(0.123456)
    ('30', '29.97', '0.1235')
    >>> significant_digits(None)
    '?'
    """
    try:
        return f"{float(x):.4g}"
    except (TypeError, ValueError):
        return "?"


def fixed_decimals(x, digits: int) -> str:
    """``x`` with exactly ``digits`` decimals; an empty cell for None, NaN and infinity, and
    what is not a number as its text.

    Examples
    --------
    >>> fixed_decimals(2.0, 2), fixed_decimals(0.8567, 1), fixed_decimals(float("nan"), 2)
    ('2.00', '0.9', '')
    >>> fixed_decimals(None, 1), fixed_decimals("n/a", 1)
    ('', 'n/a')
    """
    if x is None:
        return ""
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(x):
        return ""
    return f"{x:.{digits}f}"
