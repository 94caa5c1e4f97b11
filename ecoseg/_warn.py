"""Warnings that point at the user's line, however deep in ecoseg they are raised: :func:`warn`."""

from __future__ import annotations

import os
import sys
import warnings

__all__ = ["warn"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep

#: the frames a decorator or context manager adds around an ecoseg function (torch's
#: ``inference_mode`` and ``no_grad``, :mod:`contextlib`): passed through as ecoseg's own
_WRAPPERS = (
    os.path.join("torch", "utils", "_contextlib.py"),
    os.sep + "contextlib.py",
)


def _ours(filename: str) -> bool:
    path = os.path.abspath(filename)
    return path.startswith(_PACKAGE) or path.endswith(_WRAPPERS)


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
    while frame is not None and _ours(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)
