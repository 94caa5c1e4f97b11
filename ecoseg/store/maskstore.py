"""The :class:`MaskStore` class: create, open, read and write one store.

It holds the store's metadata (object table, provenance, calibration, progress marker) and
hands validated frames to a :class:`~ecoseg.store.commit.ChunkCommitter`; locations, the writer
lock, validation and the xarray view live in their own modules of :mod:`ecoseg.store`.

This module makes a store (:meth:`MaskStore.create`, :meth:`MaskStore.open`, the cut back to
the progress marker when a run resumes) and holds its state; what a store tells and reads is
in :mod:`ecoseg.store._reading`, how it writes in :mod:`ecoseg.store._writing` (the two bases
of :class:`MaskStore`).
"""

from __future__ import annotations

import shutil
import weakref
import zipfile
from collections.abc import Iterable, Mapping
from typing import Any

from ecoseg._checks import positive_int
from ecoseg._paths import check_overwrite
from ecoseg._version import __version__
from ecoseg.errors import StoreError
from ecoseg.provenance import Provenance
from ecoseg.store._reading import ReadingMixin
from ecoseg.store._util import short_error
from ecoseg.store._writing import WritingMixin
from ecoseg.store.commit import ChunkCommitter
from ecoseg.store.identify import not_replaceable, refusal
from ecoseg.store.layout import (
    ALL_CHUNKS,
    ARRAYS,
    ATTRS_KEY,
    SCORE_CHUNKS,
    STORE_FORMAT,
    STORE_VERSION,
    TIME_CHUNK,
    labels_codec,
)
from ecoseg.store.location import Location
from ecoseg.store.lock import WriterLock
from ecoseg.store.validation import (
    attributes_json,
    check_calibration,
    json_data,
    parse_objects,
    validate_group,
)

__all__ = ["MaskStore"]


class MaskStore(ReadingMixin, WritingMixin):
    """Read and write an ecoseg mask store (zarr v3).

    Use :meth:`create` for a new store and :meth:`open` for an existing one; do not call the
    constructor directly. Writing: :meth:`add_objects`, :meth:`append` (buffered, chunk-atomic),
    :meth:`flush`, :meth:`mark_complete`, :meth:`close` (or use it as a context manager).
    Reading: :meth:`read_labels`, :meth:`read_time`, :meth:`read_scores`, or
    :func:`open_masks` for an :class:`xarray.Dataset`. Reads see committed frames only.

    Examples
    --------
    >>> import numpy as np
    >>> store = MaskStore.create("memory://doc-maskstore", height=4, width=5, overwrite=True)
    >>> store.add_objects([{"id": 3, "class": "sea_star", "source": "truth"}])
    >>> labels = np.zeros((2, 4, 5), np.uint32)
    >>> labels[:, 1:3, 1:3] = 3
    >>> store.append(labels, [0.0, 0.04])
    >>> store.close()
    >>> store = MaskStore.open("memory://doc-maskstore")
    >>> store.n_frames, store.read_scores().tolist()
    (2, [[1.0], [1.0]])
    """

    def __init__(self, group, location: Location, mode: str, meta: dict, staging=None, arrays=None):
        self._group = group
        self._loc = location
        self._mode = mode
        self._staging = staging
        self._closed = False
        self._made = False  # made by create(): discard() removes it
        self._lock: WriterLock | None = None
        # every chunk is written, all-zero ones too: a missing chunk is damage (ecoseg.store.
        # chunks); for labels it also skips zarr's all-fill-value test (~6x slower writes)
        self._labels, self._time, self._scores = (
            a.with_config({"write_empty_chunks": True})
            for a in (arrays or (group[n] for n in ARRAYS))  # create: the new arrays
        )
        committed = int(meta.pop("frames_written"))
        self._meta = meta
        self._index_objects()
        # writer state (mode "a"): frames accepted, the last time, and the chunk committer
        self._accepted = committed
        self._last_time: float | None = None  # read at the first append: a reader needs none
        store = weakref.ref(self)  # no reference cycle: a dropped store is freed at once

        def record(frames: int) -> dict[str, Any]:
            return store()._meta_record(frames)

        self._committer = ChunkCommitter(
            group, self._labels, self._time, self._scores, location.text, committed, record
        )
        self._committer.n_objects = len(self._index)

    # ------------------------------------------------------------------ construction
    @classmethod
    def create(
        cls,
        path: Any,
        *,
        height: int,
        width: int,
        chunk_frames: int = 4,
        objects: Iterable | None = None,
        provenance: Mapping | None = None,
        calibration: Mapping | None = None,
        overwrite: bool = False,
    ) -> MaskStore:
        """Create an empty store for frames of ``height`` x ``width`` pixels.

        Parameters
        ----------
        path : str, Path, URL or zarr Store
            Local folder (``masks.zarr``), ``.zip`` file, ``memory://name``, any fsspec URL.
        height, width : int
            Frame size in pixels.
        chunk_frames : int
            Frames per ``labels`` chunk (the unit of atomic writes).
        objects : list, optional
            Initial object table: :class:`~ecoseg.provenance.ObjectRecord`, dicts
            ``{"id", "class", "source", ...}`` or ``(id, class, source)`` tuples (a source one
            of :data:`~ecoseg.provenance.OBJECT_SOURCES`).
        provenance : Provenance or dict, optional
            How the masks were made (:class:`~ecoseg.provenance.Provenance` or its JSON).
        calibration : dict, optional
            For example ``{"mm_per_px": 0.5, "method": "scale_bar"}``.
        overwrite : bool
            Replace an existing store at ``path``. Things that are not zarr stores (an
            ordinary folder, a video file) are never replaced.

        Returns
        -------
        MaskStore
            Open for writing.

        Raises
        ------
        StoreError
            Something exists at ``path`` and ``overwrite`` is false, another live writer holds
            the store's lock, or bad arguments.

        Examples
        --------
        >>> store = MaskStore.create("memory://doc-create", height=48, width=64,
        ...                          objects=[(1, "fish", "prompt")], overwrite=True)
        >>> store.object_ids.tolist(), store.n_frames
        ([1], 0)
        """
        import zarr

        loc = Location(path)
        where = {"where": loc, "error": StoreError, "exact": True}
        h = positive_int(height, "height", **where)
        w = positive_int(width, "width", **where)
        cf = positive_int(chunk_frames, "chunk_frames", **where)
        if isinstance(provenance, Provenance):
            prov = provenance
        elif provenance is None or isinstance(provenance, Mapping):
            prov = Provenance.from_dict(json_data(dict(provenance or {}), f"{loc}: provenance"))
        else:
            raise StoreError(f"{loc}: provenance must be a dict or a Provenance")
        cal = check_calibration(calibration, str(loc))
        objs = parse_objects(objects or [], set(), str(loc))
        if (kept := not_replaceable(loc)) is not None:  # not 'pass --overwrite': refused too
            raise StoreError(kept)
        check_overwrite(str(loc), overwrite, error=StoreError, exists=loc.exists())
        lock = WriterLock.acquire(loc)  # before anything is touched
        staging, started = None, False
        try:
            if loc.exists():
                if (kept := not_replaceable(loc)) is not None:  # made since the check
                    raise StoreError(kept)
                loc.clear()
            staging = loc.new_staging() if loc.is_zip else None
            started = True
            group = zarr.open_group(loc.zarr_store(False, staging), mode="w", zarr_format=3)
            arrays = []
            for name, shape, chunks, extra in (
                ("labels", (0, h, w), (cf, h, w), {"compressors": labels_codec(h, w)}),
                ("time", (0,), (TIME_CHUNK,), {}),
                ("scores", (0, len(objs)), SCORE_CHUNKS, {}),
            ):
                dtype, dims, units = ARRAYS[name]
                array = group.create_array(
                    name,
                    shape=shape,
                    chunks=chunks,
                    dtype=dtype,
                    fill_value=0,
                    dimension_names=dims,
                    attributes={"units": units},
                    **extra,
                )
                arrays.append(array)
            meta = {
                "format": STORE_FORMAT,
                "version": STORE_VERSION,
                "ecoseg_version": __version__,
                "frames_written": 0,
                "complete": False,
                ALL_CHUNKS: True,
                "objects": objs,
                "provenance": prov,
                "calibration": cal,
            }
            # written last: the group becomes an ecoseg store
            group.attrs[ATTRS_KEY] = attributes_json(meta)
        except BaseException as exc:
            if started:  # half a store (disk full, killed backend) is not a store
                loc.remove_made(staging)
            if lock is not None:
                lock.release()
            if isinstance(exc, StoreError) or not isinstance(exc, Exception):
                raise
            # any backend failure is a store problem
            raise StoreError(f"{loc}: cannot create the store: {short_error(exc)}") from exc
        store = cls(group, loc, "a", dict(meta), staging, arrays)._holding(lock)
        store._made = True  # discard() may remove it
        return store

    @classmethod
    def open(cls, path: Any, mode: str = "r") -> MaskStore:
        """Open and validate an existing store.

        Parameters
        ----------
        path : str, Path, URL or zarr Store
            Where the store lives.
        mode : {"r", "a"}
            ``"r"`` read-only; ``"a"`` to continue writing (resume): frames past the committed
            progress marker (left by an interrupted run) are discarded.

        Returns
        -------
        MaskStore

        Raises
        ------
        StoreError
            Naming the path and what is wrong: missing, not a zarr v3 group, not an ecoseg store,
            unsupported version, missing or malformed arrays, inconsistent lengths; or (mode
            ``"a"``) another live writer holds the store's lock.

        Examples
        --------
        >>> import numpy as np
        >>> with MaskStore.create("memory://doc-open", height=2, width=2, overwrite=True) as s:
        ...     s.append(np.zeros((3, 2, 2), np.uint32), [0.0, 0.5, 1.0])
        >>> MaskStore.open("memory://doc-open").read_time().tolist()
        [0.0, 0.5, 1.0]
        """
        if mode not in ("r", "a"):
            raise ValueError(f"mode must be 'r' or 'a', got {mode!r}")
        loc = Location(path)
        if not loc.exists():
            raise StoreError(f"{loc}: no such store")
        lock = WriterLock.acquire(loc) if mode == "a" else None
        try:
            return cls._open_locked(loc, mode, lock)
        except BaseException:
            if lock is not None:
                lock.release()
            raise

    @classmethod
    def _open_locked(cls, loc: Location, mode: str, lock: WriterLock | None) -> MaskStore:
        import zarr

        staging = None
        if loc.is_zip:
            if not zipfile.is_zipfile(loc.local):
                raise StoreError(refusal(loc))
            if mode == "a":
                staging = loc.new_staging()
                with zipfile.ZipFile(loc.local) as zf:
                    zf.extractall(staging)
        try:
            group = zarr.open_group(
                loc.zarr_store(mode == "r", staging), mode="r" if mode == "r" else "r+"
            )
        except Exception as exc:  # zarr raises many kinds for "not a group": say what is there
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(refusal(loc, exc)) from None
        try:
            meta = validate_group(group, loc)
        except StoreError:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise
        self = cls(group, loc, mode, meta, staging)._holding(lock)
        if mode == "a":
            self._discard_uncommitted()
        return self

    def _holding(self, lock: WriterLock | None) -> MaskStore:
        """Attach the writer lock (released by :meth:`close`)."""
        self._lock = lock
        if lock is not None:
            lock.hold(self)
        return self

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        state = ("complete" if self.complete else "incomplete") + ", closed" * self._closed
        frames, objects = self._committer.committed, len(self._index)  # "1 objects" was said
        return (
            f"<MaskStore {self.path!r} mode={self._mode!r}: {frames} frame{'s' * (frames != 1)} "
            f"of {self.width}x{self.height}, {objects} object{'s' * (objects != 1)}, chunk "
            f"{self.chunk_frames}, {state}>"
        )

    def __enter__(self) -> MaskStore:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.close()
        except StoreError:
            if exc_type is None:
                raise  # otherwise the original exception is the more useful one

    def __del__(self):
        committer = getattr(self, "_committer", None)
        if committer is not None:
            committer.shutdown(wait=False)
        lock = getattr(self, "_lock", None)
        if lock is not None:  # dropped without close(): like a killed writer, minus the lock
            try:
                lock.release()
            except Exception:  # interpreter shutdown
                pass

    # ------------------------------------------------------------------ resume
    def _discard_uncommitted(self) -> None:
        """Resume: cut arrays back to the marker and the object table (mode "a")."""
        self._committer.discard_uncommitted(len(self._index))
        root = self._staging or self._loc.local
        if root is not None and root.is_dir():
            for leftover in root.rglob("*.partial"):  # temporary files of a killed write
                leftover.unlink(missing_ok=True)
