"""The :class:`MaskStore` class: create, open, read and write one store.

It holds the store's metadata (object table, provenance, calibration, progress marker) and
hands validated frames to a :class:`~ecoseg.store.commit.ChunkCommitter`; locations, the writer
lock, validation and the xarray view live in their own modules of :mod:`ecoseg.store`.
"""

from __future__ import annotations

import json
import shutil
import weakref
import zipfile
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ecoseg._checks import positive_int
from ecoseg._paths import check_overwrite
from ecoseg._version import __version__
from ecoseg.errors import StoreError
from ecoseg.provenance import ObjectRecord, Provenance
from ecoseg.store._util import guard, short_error
from ecoseg.store.chunks import MissingChunk, frame_range, min_frames, missing_chunks, read_checked
from ecoseg.store.commit import ChunkCommitter
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
    ObjectIndex,
    attributes_json,
    check_calibration,
    check_ids,
    check_labels,
    check_times,
    json_data,
    parse_objects,
    score_rows,
    validate_group,
)

__all__ = ["MaskStore"]


class MaskStore:
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
            ``{"id", "class", "source", ...}`` or ``(id, class, source)`` tuples.
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
        check_overwrite(str(loc), overwrite, error=StoreError, exists=loc.exists())
        lock = WriterLock.acquire(loc)  # before anything is touched
        staging, started = None, False
        try:
            if loc.exists():
                if not loc.is_zarr():
                    raise StoreError(
                        f"{loc}: exists and is not a zarr store; refusing to replace it even "
                        "with overwrite (choose another output path)"
                    )
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
                raise StoreError(f"{loc}: not a zarr store (not a zip archive)")
            if mode == "a":
                staging = loc.new_staging()
                with zipfile.ZipFile(loc.local) as zf:
                    zf.extractall(staging)
        try:
            group = zarr.open_group(
                loc.zarr_store(mode == "r", staging), mode="r" if mode == "r" else "r+"
            )
        except Exception as exc:  # zarr raises many kinds for "not a group"
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            raise StoreError(f"{loc}: not a zarr store ({short_error(exc)})") from None
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

    # ------------------------------------------------------------------ properties
    @property
    def path(self) -> str:
        """The location as given (path or URL)."""
        return self._loc.text

    @property
    def location(self) -> Any:
        """What the store was opened from (path, URL or zarr Store), to open it again."""
        return self._loc.obj if self._loc.obj is not None else self._loc.text

    @property
    def mode(self) -> str:
        """``"r"`` (read-only) or ``"a"`` (open for writing)."""
        return self._mode

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    @property
    def group(self):
        """The store's zarr group (raises StoreError once a zip store is closed)."""
        self._require_open()
        return self._group

    @property
    def writer_version(self) -> str:
        """The ecoseg version that created the store ("" if not recorded)."""
        return str(self._meta.get("ecoseg_version", ""))

    @property
    def labels(self):
        """The ``labels`` zarr array (may hold uncommitted frames past :attr:`n_frames`)."""
        return self._labels

    @property
    def time(self):
        """The ``time`` zarr array (seconds)."""
        return self._time

    @property
    def scores(self):
        """The ``scores`` zarr array (t, object)."""
        return self._scores

    @property
    def all_chunks(self) -> bool:
        """Every chunk of the committed frames is written (:mod:`ecoseg.store.chunks`)."""
        return bool(self._meta.get(ALL_CHUNKS))

    @property
    def height(self) -> int:
        """Frame height in pixels."""
        return int(self._labels.shape[1])

    @property
    def width(self) -> int:
        """Frame width in pixels."""
        return int(self._labels.shape[2])

    @property
    def chunk_frames(self) -> int:
        """Frames per ``labels`` chunk."""
        return int(self._labels.chunks[0])

    @property
    def n_frames(self) -> int:
        """Committed frames (the progress marker); waits for writes in flight."""
        self._committer.drain()
        return self._committer.committed

    @property
    def complete(self) -> bool:
        """Whether the producing run finished (called :meth:`mark_complete`)."""
        return bool(self._meta.get("complete", False))

    @property
    def objects(self) -> list[dict[str, Any]]:
        """Object table as stored (JSON): ``{"id", "class", "source", ...}`` per object, in
        ``scores`` column order. Typed: :meth:`object_records`."""
        return json.loads(json.dumps(self._objects_json))

    def object_records(self) -> dict[int, ObjectRecord]:
        """Object table: id -> :class:`~ecoseg.provenance.ObjectRecord`, in column order.

        Examples
        --------
        >>> s = MaskStore.create("memory://doc-records", height=2, width=2, overwrite=True,
        ...                      objects=[(4, "wrasse", "prompt")])
        >>> s.object_records()[4].class_name
        'wrasse'
        """
        return {r.id: r for r in self._meta["objects"]}

    @property
    def object_ids(self) -> np.ndarray:
        """Object ids (int64) in ``scores`` column order."""
        return self._index.ids.copy()

    @property
    def provenance(self) -> dict[str, Any]:
        """Provenance as stored (JSON, a copy; change it with :meth:`set_provenance`).
        Typed: :attr:`provenance_record`."""
        return self._meta["provenance"].to_dict()

    @property
    def provenance_record(self) -> Provenance:
        """Provenance as a :class:`~ecoseg.provenance.Provenance` record.

        Examples
        --------
        >>> s = MaskStore.create("memory://doc-provrec", height=2, width=2, overwrite=True,
        ...                      provenance={"engine": "classical", "video": {"fps": 25.0}})
        >>> s.provenance_record.engine, s.provenance_record.video.fps
        ('classical', 25.0)
        """
        return self._meta["provenance"]

    @property
    def calibration(self) -> dict[str, Any] | None:
        """Spatial calibration, e.g. ``{"mm_per_px": 0.5, "method": "scale_bar"}``, or None."""
        cal = self._meta.get("calibration")
        return json.loads(json.dumps(cal)) if cal else None

    @calibration.setter
    def calibration(self, value: Mapping | None) -> None:
        self._require_writable()
        cal = check_calibration(value, self.path)
        self._update_meta(calibration=cal)

    @property
    def attrs(self) -> Mapping[str, Any]:
        """The group's raw zarr attributes (read-only)."""
        self._committer.drain()
        self._require_open()
        return MappingProxyType(json.loads(json.dumps(self._group.attrs.asdict())))

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        state = ("complete" if self.complete else "incomplete") + ", closed" * self._closed
        return (
            f"<MaskStore {self.path!r} mode={self._mode!r}: {self._committer.committed} frames of "
            f"{self.width}x{self.height}, {len(self._index)} objects, chunk {self.chunk_frames}, "
            f"{state}>"
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

    # ------------------------------------------------------------------ reading
    def read_labels(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Committed label frames ``start:stop`` (Python slice rules) as (n, H, W) uint32.

        Examples
        --------
        >>> import numpy as np
        >>> s = MaskStore.create("memory://doc-read", height=2, width=3, overwrite=True)
        >>> s.add_objects([(7, "coral", "prompt")])
        >>> s.append(np.full((4, 2, 3), 7, np.uint32), [0.0, 0.1, 0.2, 0.3])
        >>> s.flush()
        >>> s.read_labels(1, 3).shape
        (2, 2, 3)
        """
        n = self.n_frames
        self._require_open()
        start, stop = frame_range(start, stop, n)
        if stop <= start:
            return np.zeros((0, self.height, self.width), np.uint32)
        return self._read(self._labels, start, stop, n)

    def read_time(self) -> np.ndarray:
        """Times (s, float64) of the committed frames."""
        n = self.n_frames
        self._require_open()
        return self._read(self._time, 0, n, n) if n else np.zeros(0, np.float64)

    def read_scores(self) -> np.ndarray:
        """Scores (n_frames, n_objects) float32 of the committed frames, in object order."""
        n, k = self.n_frames, len(self._index)
        self._require_open()
        if n == 0 or k == 0:
            return np.zeros((n, k), np.float32)
        return self._read(self._scores, 0, n, n)[:, :k]

    def missing_chunks(self, start: int = 0, stop: int | None = None) -> list[MissingChunk]:
        """Chunks of the committed frames ``start:stop`` that are missing from the store.

        A missing chunk would read as zeros (frames without animals); reads raise a
        :class:`~ecoseg.errors.StoreError` on one. This checks every array at once without
        reading chunk data (one existence query per chunk key, see :mod:`ecoseg.store.chunks`).

        Examples
        --------
        >>> import numpy as np
        >>> s = MaskStore.create("memory://doc-missing-chunks", height=2, width=2,
        ...                      chunk_frames=2, overwrite=True)
        >>> s.append(np.zeros((5, 2, 2), np.uint32), np.arange(5.0))
        >>> s.flush()
        >>> s.missing_chunks()
        []
        """
        n = self.n_frames
        self._require_open()
        start, stop = frame_range(start, stop, n)
        whole = self.all_chunks
        out = []
        for array in (self._labels, self._time, self._scores):
            least = min_frames(array.basename, whole)
            if least is not None:
                out += self._guard(lambda a=array, m=least: missing_chunks(a, start, stop, n, m))
        return out

    def _read(self, array, start: int, stop: int, n: int) -> np.ndarray:
        """``array[start:stop]`` of ``n`` committed frames, or a StoreError naming the frames
        of a damaged or missing chunk."""
        return read_checked(array, start, stop, n, self.all_chunks, self.path)

    # ------------------------------------------------------------------ writing
    def add_objects(self, objects: Iterable) -> None:
        """Register objects; they get score 0.0 on every frame stored before.

        Parameters
        ----------
        objects : list of ObjectRecord, dict or tuple
            :class:`~ecoseg.provenance.ObjectRecord`, ``{"id": int, "class": str, "source":
            str, ...}`` (source: "prompt", "discovered", "truth", "tracker", ...) or ``(id,
            class, source)``. Ids are positive and below 2**32, unique in the store.

        Raises
        ------
        StoreError
            A duplicate or invalid id (the message names it).

        Examples
        --------
        >>> s = MaskStore.create("memory://doc-add", height=2, width=2, overwrite=True)
        >>> s.add_objects([(1, "fish", "prompt"), {"id": 9, "class": "crab", "source": "tracker"}])
        >>> s.object_ids.tolist()
        [1, 9]
        """
        self._require_writable()
        new = parse_objects(objects, set(self._index.ids.tolist()), self.path)
        if not new:
            return
        self._committer.drain()
        n_obj = len(self._index) + len(new)
        self._guard(lambda: self._committer.add_columns(n_obj))
        self._meta["objects"] = [*self._meta["objects"], *new]
        self._index_objects()
        self._save_meta()

    def update_objects(self, records: Iterable[ObjectRecord]) -> None:
        """Replace the records of registered objects (e.g. a reviewed or classified class).

        The object table keeps its order; ids must be registered already.

        Examples
        --------
        >>> import dataclasses
        >>> s = MaskStore.create("memory://doc-update", height=2, width=2, overwrite=True,
        ...                      objects=[(1, "unknown", "discovered")])
        >>> fish = dataclasses.replace(s.object_records()[1], class_name="wrasse",
        ...                            class_source="reviewed", reviewed=True)
        >>> s.update_objects([fish])
        >>> s.objects
        [{'id': 1, 'class': 'wrasse', 'source': 'discovered', 'class_source': 'reviewed', \
'reviewed': True}]
        """
        self._require_writable()
        new = {}
        for record in records:
            if not isinstance(record, ObjectRecord):
                raise StoreError(f"{self.path}: update_objects takes ObjectRecords, got {record!r}")
            if record.id not in self._index.column_of:
                raise StoreError(f"{self.path}: object {record.id} is not registered")
            new[record.id] = record
        if new:
            self._committer.drain()
            self._meta["objects"] = [new.get(r.id, r) for r in self._meta["objects"]]
            self._index_objects()
            self._save_meta()

    def append(self, labels: Any, time: Any, scores: Any = None) -> None:
        """Append frames (buffered; whole chunks are written in the background).

        Parameters
        ----------
        labels : array of int, shape (n, H, W) or (H, W)
            Instance ids; every non-zero value must be a registered object id. uint32, or any
            integer dtype whose values fit.
        time : float or array of float, shape (n,)
            Frame times in seconds, strictly increasing (also across calls).
        scores : None, array (n, n_objects) or dict {object_id: float or (n,) array}
            Presence scores in :attr:`object_ids` order. ``None`` gives 1.0 where an object
            appears in a frame and 0.0 elsewhere; objects missing from a dict get 0.0.

        Raises
        ------
        StoreError
            Naming the frame (index and time) and the culprit: shape, dtype, time order,
            unregistered label id, bad scores. Nothing is stored from a call that fails.

        Examples
        --------
        >>> import numpy as np
        >>> s = MaskStore.create("memory://doc-append", height=2, width=2, chunk_frames=2,
        ...                      objects=[(5, "fish", "prompt")], overwrite=True)
        >>> s.append(np.array([[0, 5], [0, 0]]), 0.0)  # one frame, int64 is fine
        >>> s.append(np.zeros((2, 2, 2), np.uint32), [0.1, 0.2], scores={5: 0.25})
        >>> s.n_frames  # committed frames: none yet (commits come every 16 frames or on flush)
        0
        >>> s.close()
        >>> MaskStore.open("memory://doc-append").read_scores().ravel().tolist()
        [1.0, 0.25, 0.25]
        """
        self._require_writable()
        start = self._accepted
        path = self.path
        labels = check_labels(path, labels, start, self.height, self.width)
        n = labels.shape[0]
        if self._last_time is None and start:  # opened to resume: the last committed time
            self._last_time = float(self._read(self._time, start - 1, start, start)[0])
        times = check_times(path, time, n, start, self._last_time)
        if n == 0:
            return
        # the copy into the chunk buffer gives each frame's largest id on the way (one pass)
        top = self._committer.stage(labels) if scores is not None else None
        present = check_ids(
            path, self._index, labels, start, times, per_frame=scores is None, top=top
        )
        rows = score_rows(path, self._index, scores, present, n, start, times)
        if self.complete:
            self._update_meta(complete=False)
        # everything is valid: buffer it (staged frames are in the buffer already)
        self._committer.buffer(labels, times, rows, staged=top is not None)
        self._accepted += n
        self._last_time = float(times[-1])

    def flush(self) -> None:
        """Write buffered frames (also a partial chunk) and advance the progress marker.

        For a ``.zip`` store the archive itself is written by :meth:`close`.
        """
        if self._mode != "a" or self._closed:
            return
        self._committer.flush()

    def mark_complete(self) -> None:
        """Flush and record that the producing run finished (``complete=True``)."""
        self._require_writable()
        self.flush()
        self._update_meta(complete=True)

    def set_provenance(self, **entries: Any) -> None:
        """Add or replace provenance entries (plain JSON data only; never pickles).

        Examples
        --------
        >>> s = MaskStore.create("memory://doc-prov", height=2, width=2, overwrite=True)
        >>> s.set_provenance(engine="classical", parameters={"threshold": 0.5})
        >>> s.provenance["parameters"]
        {'threshold': 0.5}
        """
        self._require_writable()
        new = json_data(entries, f"{self.path}: provenance")
        self._update_meta(provenance=self._meta["provenance"].updated(**new))

    def close(self) -> None:
        """Flush, finish background writes, write a zip archive, release the store."""
        if self._closed:
            return
        try:
            if self._mode == "a":
                self.flush()
                if self._staging is not None:
                    self._loc.pack(self._staging)
        finally:
            self._closed = True
            self._committer.shutdown(wait=True)
            if self._lock is not None:
                self._lock.release()
                self._lock = None
            store = getattr(self._group, "store", None)
            if self._loc.is_zip and self._mode == "r" and hasattr(store, "close"):
                store.close()

    def discard(self) -> bool:
        """Stop writing and remove the store if :meth:`create` made it on this machine.

        For builds that cannot resume (image surveys, imports): a failed one leaves nothing
        behind. Buffered frames are dropped; a local folder store (or a ``.zip`` store's
        staging folder: the archive is left as it was) that this object created is removed and
        its lock released. A store opened with :meth:`open` (e.g. to resume), a URL or a zarr
        ``Store`` object is only closed. Use it through :func:`~ecoseg.store.discard_on_failure`.

        Returns
        -------
        bool
            Whether anything was removed.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "survey.zarr"
        >>> MaskStore.create(path, height=2, width=2).discard(), path.exists()
        (True, False)
        """
        self._closed = True
        self._committer.shutdown(wait=True)
        removed = self._made and self._loc.remove_made(self._staging)
        self._made, self._staging = False, None
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        return removed

    # ------------------------------------------------------------------ internals: checks
    def _require_open(self) -> None:
        if self._closed and self._loc.is_zip:
            raise StoreError(f"{self.path}: store is closed; open it again with MaskStore.open")

    def _require_writable(self) -> None:
        if self._mode != "a":
            raise StoreError(f"{self.path}: store is open read-only (open it with mode='a')")
        if self._closed:
            raise StoreError(f"{self.path}: store is closed")
        if self._committer.error is not None:
            raise StoreError(self._committer.error)

    # ------------------------------------------------------------------ internals: state
    def _index_objects(self) -> None:
        self._index = ObjectIndex(r.id for r in self._meta["objects"])
        self._objects_json = [r.to_dict() for r in self._meta["objects"]]
        if hasattr(self, "_committer"):
            self._committer.n_objects = len(self._index)

    def _meta_record(self, frames: int) -> dict[str, Any]:
        return attributes_json({**self._meta, "frames_written": frames}, self._objects_json)

    def _save_meta(self) -> None:
        """Write the attributes now (callers drain first: the marker stays where it is)."""
        committer = self._committer
        self._guard(lambda: committer.write_marker(self._meta_record(committer.committed)))

    def _update_meta(self, **changes: Any) -> None:
        """Change attributes (after the writes in flight, which read ``_meta``)."""
        self._committer.drain()
        self._meta.update(changes)
        self._save_meta()

    def _guard(self, action) -> Any:
        return guard(self.path, action)

    def _discard_uncommitted(self) -> None:
        """Resume: cut arrays back to the marker and the object table (mode "a")."""
        self._committer.discard_uncommitted(len(self._index))
        root = self._staging or self._loc.local
        if root is not None and root.is_dir():
            for leftover in root.rglob("*.partial"):  # temporary files of a killed write
                leftover.unlink(missing_ok=True)
