"""Helpers shared by the command-line shells (``cli``, ``study``, ``batch``).

Public names in a private module: other ecoseg modules import them, users do not.
"""

from __future__ import annotations

import contextlib
import sys
import warnings
from collections.abc import Callable, Iterator

__all__ = ["logger", "one_line", "one_line_warnings"]


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


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Within: ecoseg's own warnings print as one ``ecoseg: warning: ...`` line on stderr.

    Other libraries' warnings print as Python prints them.

    Examples
    --------
    >>> import contextlib, io
    >>> from ecoseg.engine._runtime import SlowBf16Warning
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err), one_line_warnings():
    ...     warnings.warn("running exact fp32", SlowBf16Warning)
    >>> err.getvalue()
    'ecoseg: warning: running exact fp32\\n'
    """
    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if category.__module__.split(".")[0] == "ecoseg":
            print(f"ecoseg: warning: {one_line(message)}", file=sys.stderr)
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


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
