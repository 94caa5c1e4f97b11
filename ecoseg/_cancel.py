"""Cancellation shared by every stage: whether a ``cancel`` asks to stop, and the stop itself.

A ``cancel`` is ``None``, a ``threading.Event`` or a callable. The engines check it once a
frame (:mod:`ecoseg.engine._runtime`), ``measure`` once a chunk of masks, the species
classifier's track features once a chunk of masks and once a decoded video frame; analysis
imports it from here, not from the engines (``docs/architecture.md``'s import rules).
"""

from __future__ import annotations

from typing import Any

from ecoseg._checks import short_repr
from ecoseg.errors import Cancelled, ConfigError

__all__ = ["check_cancel", "is_cancelled", "stop_if_cancelled"]


def is_cancelled(cancel) -> bool:
    """Whether ``cancel`` (None, a ``threading.Event`` or a callable) asks to stop.

    Examples
    --------
    >>> import threading
    >>> stop = threading.Event()
    >>> is_cancelled(None), is_cancelled(stop), is_cancelled(lambda: True)
    (False, False, True)
    """
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


def check_cancel(cancel: Any, what: str) -> None:
    """Refuse a ``cancel`` that is neither None, an object with ``is_set`` nor a callable, in
    one line naming the caller (``what``), before any work.

    Examples
    --------
    >>> check_cancel(None, "classify")
    >>> check_cancel("yes", "classify")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: classify: cancel must be a threading.Event or a callable, got 'yes'
    """
    if cancel is not None and not (hasattr(cancel, "is_set") or callable(cancel)):
        raise ConfigError(
            f"{what}: cancel must be a threading.Event or a callable, got {short_repr(cancel)}"
        )


def stop_if_cancelled(cancel: Any, stopped: str) -> None:
    """Raise :class:`~ecoseg.errors.Cancelled` if ``cancel`` is set, for a step that writes
    nothing until its end (track features, a classification, tables): ``stopped`` names the
    store and where it stopped, up to the first ``"; "`` (what a study keeps of it,
    :func:`~ecoseg.study.segmenting.study_cancelled`).

    Examples
    --------
    >>> stopped = "m.zarr: cancelled while measuring its masks (frame 8 of 24)"
    >>> stop_if_cancelled(lambda: False, stopped)
    >>> stop_if_cancelled(lambda: True, stopped)
    Traceback (most recent call last):
    ...
    ecoseg.errors.Cancelled: m.zarr: cancelled while measuring its masks (frame 8 of 24); \
nothing was written, the same call again starts it anew
    """
    if is_cancelled(cancel):
        raise Cancelled(f"{stopped}; nothing was written, the same call again starts it anew")
