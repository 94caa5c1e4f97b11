"""Warnings that point at the user's line, however deep in ecoseg they are raised: :func:`warn`."""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def warn(message: str, category: type[Warning]) -> None:
    """Issue a warning attributed to the first caller outside the ecoseg package.

    A fixed ``stacklevel`` names the right line only while the call path stays as it was
    written: ``report`` warning from the helper of a helper names ``report``'s own module
    once a layer is added. This one walks the stack instead, so the warning's file and line
    are the notebook cell, script or test that called ecoseg (Python's filters, ``once``
    included, then see that line), whichever public function the call went through.

    Parameters
    ----------
    message : str
        The warning's one line.
    category : type of Warning
        Its class (an ecoseg warning class, so that the CLI prints it as one line).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn("checked", UserWarning)
    >>> caught[0].filename.startswith("<doctest")  # this example's line, not ecoseg's
    True
    """
    level = 2  # warn's caller, then up while the frame is ecoseg's own
    frame = sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
