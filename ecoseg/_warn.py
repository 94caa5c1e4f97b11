"""Warnings that point at the user's line, however deep in ecoseg they are raised: :func:`warn`;
ecoseg's own warnings left unsaid in one thread only (:func:`unsaid`), said only when a step
goes on (:func:`held`), or kept for the caller to say (:func:`recorded`, with other libraries'
warnings of the thread too; said by :func:`say`, and :func:`is_ours` tells which warnings
ecoseg says in its own words); every warning one thread shows handed to a callable instead
(:func:`shown_to`: the one hook on Python's warnings, which napari's widgets keep theirs by
too)."""

from __future__ import annotations

import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["held", "is_ours", "recorded", "say", "shown_to", "unsaid", "warn"]

#: this thread's categories left unsaid (:func:`unsaid`); ``keep``: where its ecoseg warnings
#: go instead of being issued (:func:`held`, :func:`recorded`); ``shown``: where every warning
#: it shows goes once Python's filters let it through (:func:`shown_to`)
_LOCAL = threading.local()
_INSTALL = threading.Lock()
#: Python's own ``warnings._showwarnmsg``, as found when :func:`_route` was put before it
#: (:func:`shown_to`)
_PYTHONS: list[Callable] = []

#: the mark of another library's warning that ecoseg says for a task it ran (:func:`say`)
_SAID = "said_by_ecoseg"

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
    keep = getattr(_LOCAL, "keep", None)
    if keep is not None:  # said when the held step goes on (:func:`held`), or by the caller
        keep(message, category)
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
    with _this_thread("unsaid", getattr(_LOCAL, "unsaid", ()) + categories):
        yield


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
    kept: list[tuple[str | Warning, type[Warning]]] = []
    with _kept(lambda message, category: kept.append((message, category))):
        yield
    for message, category in kept:  # to an outer hold, if any
        warn(message, category)


@contextmanager
def recorded(
    say_now: Callable[[str, type[Warning]], None] | None = None,
) -> Iterator[list[tuple[str, type[Warning]]]]:
    """Within: the warnings issued in this thread are not issued but kept, in their order, as
    ``(message, category)`` in the list it yields, for the caller to say itself: ecoseg's own,
    and other libraries' (numpy's ``RuntimeWarning``, torch's ``UserWarning``) once Python's
    filters let them through, their message as text.

    A task of a campaign (:func:`ecoseg.batch.jobs.run_job`) runs in a worker process or
    thread: a warning issued there printed in Python's two lines, naming a line of Dask or of
    numpy, in that process's stderr. Kept, it goes back with the task's result, and the
    campaign says it in the caller's process, naming the video (:func:`say`). Only this
    thread's: nothing changes for the others (as :func:`unsaid`).

    Parameters
    ----------
    say_now : callable, optional
        Called with each ``(message, category)`` as it is issued, instead of keeping it (the
        list stays empty): a task run in the caller's thread says its warnings while it runs.
        Within the call, this thread's warnings are issued again.

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     with recorded() as kept:
    ...         warn("the camera moved too fast", UserWarning)
    ...         warnings.warn("Mean of empty slice", RuntimeWarning)
    >>> caught, [(str(m), c.__name__) for m, c in kept]
    ([], [('the camera moved too fast', 'UserWarning'), ('Mean of empty slice', 'RuntimeWarning')])
    """
    kept: list[tuple[str, type[Warning]]] = []

    def keep(message, category) -> None:
        if say_now is None:
            kept.append((message, category))
            return
        with shown_to(None), _kept(None):
            say_now(message, category)

    with (
        shown_to(lambda msg: keep(str(msg.message), _sendable(msg.category))),
        _kept(keep),  # (a held() within hands its warnings on to this list)
    ):
        yield kept


@contextmanager
def shown_to(keep: Callable[[warnings.WarningMessage], None] | None) -> Iterator[None]:
    """Within: every warning this thread shows, once Python's filters let it through (ecoseg's,
    numpy's, torch's), goes to ``keep`` instead of being shown; ``None``: shown as Python
    would (within an outer block). Only this thread's: the others' go on as before, whatever
    they or a napari worker set meanwhile (``warnings.catch_warnings`` changes the process's
    settings, and puts back those it found when it ends).

    One hook, put once before Python's own ``warnings._showwarnmsg``, hands each warning to
    its thread's innermost block, or to Python. :func:`recorded` keeps a campaign's task's
    warnings so; napari's widgets keep each worker's
    (:func:`ecoseg.napari._warned.own_warnings`).

    Parameters
    ----------
    keep : callable or None
        Called with each ``warnings.WarningMessage`` the thread shows within.

    Examples
    --------
    >>> import threading
    >>> mine, theirs = [], []
    >>> def other():
    ...     with shown_to(theirs.append):
    ...         warnings.warn("theirs")
    >>> with shown_to(mine.append):
    ...     warnings.warn("mine")
    ...     thread = threading.Thread(target=other)
    ...     thread.start(); thread.join()
    >>> [str(w.message) for w in mine], [str(w.message) for w in theirs]
    (['mine'], ['theirs'])
    """
    # ``warnings._showwarnmsg`` is what both of Python's ``warn`` call with a warning the
    # filters let through; unlike ``showwarning``, no ``catch_warnings`` replaces it
    with _INSTALL:
        if not _PYTHONS:
            _PYTHONS.append(warnings._showwarnmsg)
            warnings._showwarnmsg = _route
    with _this_thread("shown", keep):
        yield


def say(message: str, category: type[Warning]) -> None:
    """Issue here a warning :func:`recorded` kept of a task (its message naming the video):
    ecoseg's own as :func:`warn` does; another library's (numpy's ``RuntimeWarning``) in its
    own category, marked as said by ecoseg, so that the ``ecoseg`` command prints it in one
    line as it prints ecoseg's (:func:`is_ours`).

    Examples
    --------
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     say("a.mp4: Mean of empty slice", RuntimeWarning)
    >>> [(str(w.message), w.category.__name__, is_ours(w.message, w.category)) for w in caught]
    [('a.mp4: Mean of empty slice', 'RuntimeWarning', True)]
    """
    if not _ecoseg_category(category):
        try:
            marked = category(message)
            setattr(marked, _SAID, True)
        except Exception:  # noqa: BLE001 - a warning class that takes other arguments
            pass
        else:
            message = marked
    warn(message, category)


def is_ours(message: str | Warning, category: type[Warning]) -> bool:
    """Whether ecoseg says a warning in its own words: one of ecoseg's categories, or another
    library's warning ecoseg said for a task it ran (:func:`say`).

    Examples
    --------
    >>> from ecoseg.errors import ClassNameWarning
    >>> is_ours("spelt two ways", ClassNameWarning), is_ours("overflow", RuntimeWarning)
    (True, False)
    """
    return _ecoseg_category(category) or bool(getattr(message, _SAID, False))


def _ecoseg_category(category: type[Warning]) -> bool:
    return category.__module__.split(".")[0] == "ecoseg"


@contextmanager
def _kept(keep: Callable[[str | Warning, type[Warning]], None] | None) -> Iterator[None]:
    """Within: this thread's ecoseg warnings go to ``keep`` (``None``: issued)."""
    with _this_thread("keep", keep):
        yield


@contextmanager
def _this_thread(name: str, value: Any) -> Iterator[None]:
    """Within: this thread's setting ``name`` is ``value``; the one it had, after."""
    outer = getattr(_LOCAL, name, None)
    setattr(_LOCAL, name, value)
    try:
        yield
    finally:
        if outer is None:
            delattr(_LOCAL, name)
        else:
            setattr(_LOCAL, name, outer)


def _route(msg: warnings.WarningMessage) -> None:
    """Every thread's warning, once Python's filters let it through: to its own thread's
    :func:`shown_to`, or shown as Python would."""
    keep = getattr(_LOCAL, "shown", None)
    if keep is None:
        _PYTHONS[0](msg)
    else:
        keep(msg)


def _sendable(category: type[Warning]) -> type[Warning]:
    """``category``, or its first base a task's result can take back from a worker process
    (pickled by name: a class made in a function cannot be)."""
    for cls in category.__mro__:
        if "<locals>" not in cls.__qualname__:
            return cls
    return UserWarning  # pragma: no cover - Warning itself is module level
