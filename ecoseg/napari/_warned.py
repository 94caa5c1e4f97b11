"""Each of the widgets' workers keeps the warnings of its own thread.

A napari worker (superqt's ``WorkerBase.run``) catches its warnings by changing Python's
process-wide warnings settings while it runs: ``warnings.catch_warnings()`` with
``warnings.showwarning`` pointed at its own ``warned`` signal. With two workers at once (a
*Review tracks* edit and *Measure*, or a *Track* run), the one started last took every
thread's warnings: a Review edit's ``DroppedEditsWarning`` came out of Measure's worker, and
Review showed none; and the first to finish put back the settings it found, so the other's
warnings went to the terminal, and the last left ``warnings.showwarning`` pointing at a
finished worker.

:func:`own_warnings` keeps the warnings of the calling thread only, in a list of its own
(:func:`ecoseg._warn.shown_to`: one hook that every thread's warnings go through hands each to
its own thread's list, or on unchanged). Which warnings are shown at all stays Python's
filters' decision, as before. :func:`kept` runs a worker's function so; the widget shows the
warnings it kept (:func:`show`) on the Qt thread when the worker returns.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ecoseg._warn import shown_to

__all__ = ["Kept", "kept", "own_warnings", "show"]


@contextmanager
def own_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Keep the warnings issued in this thread while the block runs, and only those (other
    threads' go on as Python shows them, whatever they or a napari worker set meanwhile).

    Yields
    ------
    list of warnings.WarningMessage
        Filled as the block warns (in order; a block within another keeps its own).

    Examples
    --------
    >>> import threading
    >>> def other():
    ...     with own_warnings() as theirs:
    ...         warnings.warn("theirs")
    ...     print("other thread:", [str(w.message) for w in theirs])
    >>> with own_warnings() as mine:
    ...     warnings.warn("mine")
    ...     thread = threading.Thread(target=other)
    ...     thread.start(); thread.join()
    other thread: ['theirs']
    >>> [str(w.message) for w in mine]
    ['mine']
    """
    log: list[warnings.WarningMessage] = []
    with shown_to(log.append):
        yield log


@dataclass(frozen=True)
class Kept:
    """What a worker's function returned, and the warnings its thread issued meanwhile."""

    result: Any
    warnings: tuple[warnings.WarningMessage, ...]


def kept(func: Callable, *args: Any, **kwargs: Any) -> Kept:
    """``func(*args, **kwargs)`` with its thread's warnings kept (:func:`own_warnings`). When
    it raises, the warnings it issued go on first, as if none were kept.

    Examples
    --------
    >>> def counted():
    ...     warnings.warn("three is a guess")
    ...     return 3
    >>> done = kept(counted)
    >>> done.result, [str(w.message) for w in done.warnings]
    (3, ['three is a guess'])
    """
    log: list = []
    try:
        with own_warnings() as log:
            result = func(*args, **kwargs)
    except BaseException:
        for msg in log:  # to whoever keeps this thread's warnings now, or Python
            warnings._showwarnmsg(msg)
        raise
    return Kept(result, tuple(log))


def show(kept_warnings: Iterable[warnings.WarningMessage]) -> None:
    """Show warnings a worker kept, here (the Qt thread): where napari's notifications, the
    Python console and pytest see them.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     show(kept(warnings.warn, "late").warnings)
    >>> [str(w.message) for w in seen]
    ['late']
    """
    for w in kept_warnings:
        warnings.showwarning(w.message, w.category, w.filename, w.lineno, w.file, w.line)
