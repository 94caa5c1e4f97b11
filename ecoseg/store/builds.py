"""Builds that cannot resume (image surveys, imports): a failed one leaves no half store.

A video run commits frames as it goes and resumes from its progress marker, so a failed run
keeps what it wrote. A build of a store from images or from an annotation file has no resume:
half a store only blocks the next try ("already exists"). :func:`discard_on_failure` is the one
place that decides what such a failure removes (:meth:`MaskStore.discard
<ecoseg.store.MaskStore.discard>`): only a local store the build created.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ecoseg.store.maskstore import MaskStore

__all__ = ["discard_on_failure"]


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
