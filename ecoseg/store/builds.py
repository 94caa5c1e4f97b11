"""Who closes a store after a block: :func:`opened_store` and :func:`discard_on_failure`.

:func:`opened_store` is the one way a function that takes a store or its location reads it: a
store it opens from a path is closed after the block (also after an error), a
:class:`~ecoseg.store.MaskStore` the caller passed stays open.

Builds that fail (image surveys, imports) leave no half store. A video run commits
frames as it goes and resumes from its progress marker, so a failed run keeps what it wrote. A
build of a store from an annotation file has no resume, and a survey's failure (not its
cancel) is no place to resume from: half a store only blocks the next try ("already
exists"). :func:`discard_on_failure` is the one place that
decides what such a failure removes (:meth:`MaskStore.discard
<ecoseg.store.MaskStore.discard>`): only a local store the build created.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ecoseg.store.maskstore import MaskStore

__all__ = ["check_opens", "discard_on_failure", "opened_store"]


@contextmanager
def opened_store(
    store: Any, opener: Callable[[Any], MaskStore] | None = None
) -> Iterator[MaskStore]:
    """A :class:`MaskStore` from a store object or its location, for a ``with`` block.

    A store opened here (read-only) from a path, URL or zarr ``Store`` is closed after the
    block, also when the block fails; a :class:`MaskStore` the caller passed is yielded as is
    and stays open. ``opener`` opens it (default :meth:`MaskStore.open`; ``ecoseg info``'s
    :func:`~ecoseg.info.summary.open_store` names a damaged store in one line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "masks.zip"
    >>> with MaskStore.create(path, height=2, width=2) as new:
    ...     new.append(np.zeros((2, 2, 2), np.uint32), [0.0, 0.1])
    >>> with opened_store(path) as s:
    ...     s.n_frames
    2
    >>> s.closed
    True
    >>> mine = MaskStore.open(path)
    >>> with opened_store(mine) as s:
    ...     s is mine
    True
    >>> mine.closed
    False
    """
    s = store if isinstance(store, MaskStore) else (opener or MaskStore.open)(store)
    try:
        yield s
    finally:
        if s is not store:
            s.close()


def check_opens(store: Any) -> None:
    """Refuse a store that cannot be opened (missing, no mask store, damaged), in the words of
    :meth:`MaskStore.open`, and close it again; a :class:`MaskStore` passed is left as it is.
    A command checks its input stores with this before its outputs: a user who named a
    missing store and an existing output first hears of the store, the real mistake.

    Examples
    --------
    >>> import tempfile
    >>> check_opens(tempfile.mkdtemp() + "/nope.zarr")
    Traceback (most recent call last):
    ecoseg.errors.StoreError: .../nope.zarr: no such store
    """
    with opened_store(store):
        pass


@contextmanager
def discard_on_failure(store: MaskStore) -> Iterator[MaskStore]:
    """Close ``store`` after the block; if the block (or the close) fails, discard it instead.

    Discarding removes the store only where :meth:`MaskStore.create` made it on the local disk
    (a folder, or a zip store's staging folder); a store opened with :meth:`MaskStore.open`
    (e.g. to resume), a pre-existing archive, a URL or a zarr ``Store`` object is closed and
    left in place. The exception goes on.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "import.zarr"
    >>> try:
    ...     with discard_on_failure(MaskStore.create(path, height=2, width=2)) as store:
    ...         store.append(np.zeros((1, 2, 2), np.uint32), 0.0)
    ...         raise ValueError("the annotation file ends early")
    ... except ValueError:
    ...     pass
    >>> path.exists()
    False
    >>> with discard_on_failure(MaskStore.create(path, height=2, width=2)) as store:
    ...     store.append(np.zeros((1, 2, 2), np.uint32), 0.0)
    >>> MaskStore.open(path).n_frames
    1
    """
    try:
        yield store
        store.close()
    except BaseException:
        store.discard()
        raise
