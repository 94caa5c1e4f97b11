"""Warnings that point at the user's line, however deep in ecoseg they are raised: :func:`warn`;
ecoseg's own warnings left unsaid in one thread only (:func:`unsaid`), said only when a step
goes on (:func:`held`), or kept for the caller to say (:func:`recorded`)."""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["held", "recorded", "unsaid", "warn"]

#: this thread's categories left unsaid (:func:`unsaid`)
_LOCAL = threading.local()

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


def warn(message: str | Warning, category: type[Warning]) -> None:
    """Issue a warning attributed to the first caller outside the ecoseg package.

    A fixed ``stacklevel`` names the right line only while the call path stays as it was
    written: ``report`` warning from the helper of a helper names ``report``'s own module
    once a layer is added. This one walks the stack instead, so the warning's file and line
    are the notebook cell, script or test that called ecoseg (Python's filters, ``once``
    included, then see that line), whichever public function the call went through.

    Parameters
    ----------
    message : str or Warning
        The warning's one line (or the warning itself, of ``category``).
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
    if issubclass(category, getattr(_LOCAL, "unsaid", ())):
        return
    kept = getattr(_LOCAL, "held", None)
    if kept is not None:  # said when the held step goes on (:func:`held`)
        kept.append((message, category))
        return
    level = 2  # warn's caller, then up while the frame is ecoseg's own
    frame = sys._getframe(1)
    while frame is not None and _ours(frame.f_code.co_filename):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


@contextmanager
def unsaid(*categories: type[Warning]) -> Iterator[None]:
    """Within: ecoseg's warnings of ``categories`` (or their subclasses) issued in this thread
    are not issued at all (:func:`warn` returns), as when a caller says the same itself.

    Unlike ``warnings.catch_warnings()`` with ``simplefilter("ignore", ...)``, this changes
    nothing outside the calling thread: Python's warnings filters are the process's, so a
    filter set in one thread (a napari worker, a dask thread) hid another thread's warnings
    while it lasted, and when it ended it put back the filters it found, undoing those set
    meanwhile. A warning that is never issued also leaves Python's "once" registries alone.

    Parameters
    ----------
    *categories : type of Warning
        ecoseg warning classes (warnings that do not go through :func:`warn` are not held).

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with unsaid(UserWarning):
    ...         warn("not said", UserWarning)
    ...     warn("said", UserWarning)
    >>> [str(w.message) for w in caught]
    ['said']
    """
    outer = getattr(_LOCAL, "unsaid", ())
    _LOCAL.unsaid = outer + categories
    try:
        yield
    finally:
        _LOCAL.unsaid = outer


@contextmanager
def held() -> Iterator[None]:
    """Within: ecoseg's warnings issued in this thread are held back; they are issued, in
    their order, when the block ends, and dropped if it raises. A step that reads a file and
    then checks it refuses it alone: a warning about a file that is refused anyway was said
    just before the refusal (the CLI showed two lines). Also a decorator.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     try:
    ...         with held():
    ...             warn("the task shows one frame in 5", UserWarning)
    ...             raise ValueError("the task covers none of the video's frames")
    ...     except ValueError:
    ...         pass
    ...     with held():
    ...         warn("said once the block went on", UserWarning)
    >>> [str(w.message) for w in caught]
    ['said once the block went on']
    """
    outer = getattr(_LOCAL, "held", None)
    _LOCAL.held = kept = []
    try:
        yield
    finally:
        _LOCAL.held = outer
    for message, category in kept:  # to an outer hold, if any
        warn(message, category)


@contextmanager
def recorded() -> Iterator[list[tuple[str, type[Warning]]]]:
    """Within: ecoseg's warnings issued in this thread are not issued but kept, in their
    order, as ``(message, category)`` in the list it yields, for the caller to say itself.

    A task of a campaign (:func:`ecoseg.batch.jobs.run_job`) runs in a worker process or
    thread: a warning issued there printed in Python's two lines, naming a line of Dask, in
    that process's stderr. Kept, it goes back with the task's result, and the campaign says it
    in the caller's process, naming the video. Only this thread's: nothing changes for the
    others (as :func:`unsaid`).

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with recorded() as kept:
    ...         warn("the camera moved too fast", UserWarning)
    >>> caught, [(str(m), c.__name__) for m, c in kept]
    ([], [('the camera moved too fast', 'UserWarning')])
    """
    outer = getattr(_LOCAL, "held", None)
    _LOCAL.held = kept = []  # (a held() within hands its warnings on to this list)
    try:
        yield kept
    finally:
        _LOCAL.held = outer
