"""Helpers shared by the command-line shells (``cli``, ``study``, ``batch``).

Public names in a private module: other ecoseg modules import them, users do not.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

__all__ = ["logger", "one_line"]


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line (whitespace collapsed); its class name if empty.

    Examples
    --------
    >>> one_line(ValueError("bad value\\n  in frame 3"))
    'bad value in frame 3'
    >>> one_line(KeyError())
    'KeyError'
    """
    return " ".join(str(exc).split()) or type(exc).__name__


def logger(
    progress: bool, command: str, clean: Callable[[str], str] | None = None
) -> Callable[[str], None]:
    """A function printing ``ecoseg COMMAND: message`` lines on stderr, or nothing.

    Parameters
    ----------
    progress : bool
        ``False`` gives a function that prints nothing.
    command : str
        The command named at the start of each line (``"study"``, ``"batch"``).
    clean : callable, optional
        Applied to each message first (e.g. to strip credentials from URLs).

    Returns
    -------
    callable
        ``log(message)``.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     logger(True, "study")("tables: combining")
    ...     logger(False, "study")("not shown")
    >>> err.getvalue()
    'ecoseg study: tables: combining\\n'
    """
    if not progress:
        return lambda msg: None
    if clean is None:
        return lambda msg: print(f"ecoseg {command}: {msg}", file=sys.stderr, flush=True)
    return lambda msg: print(f"ecoseg {command}: {clean(msg)}", file=sys.stderr, flush=True)
