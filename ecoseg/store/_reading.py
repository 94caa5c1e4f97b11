"""What :class:`~ecoseg.store.MaskStore` tells and reads: its properties (size, frames, object
table, provenance, calibration) and the reads of committed frames (:meth:`read_labels`,
:meth:`read_time`, :meth:`read_scores`, :meth:`missing_chunks`).

:class:`ReadingMixin` is one of the two bases of :class:`~ecoseg.store.MaskStore` (with
:class:`~ecoseg.store._writing.WritingMixin`); it holds no state of its own and reads the
attributes that ``MaskStore.__init__`` sets (``_loc``, ``_mode``, ``_closed``, ``_group``,
``_labels``, ``_time``, ``_scores``, ``_meta``, ``_index``, ``_committer``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from ecoseg.errors import StoreError
from ecoseg.provenance import ObjectRecord, Provenance
from ecoseg.store._util import guard
from ecoseg.store.blosc_frames import read_frames
from ecoseg.store.chunks import MissingChunk, frame_range, min_frames, missing_chunks, read_checked
from ecoseg.store.layout import ALL_CHUNKS
from ecoseg.store.validation import check_calibration

__all__ = ["ReadingMixin"]


class ReadingMixin:
    """Properties and reads of a :class:`~ecoseg.store.MaskStore` (not used on its own)."""

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
        >>> from ecoseg.store import MaskStore
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
        >>> from ecoseg.store import MaskStore
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

    # ------------------------------------------------------------------ reading
    def read_labels(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Committed label frames ``start:stop`` (Python slice rules) as (n, H, W) uint32.

        Examples
        --------
        >>> from ecoseg.store import MaskStore
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
        # each chunk decoded into the frames returned, only the asked-for frames' blocks of a
        # chunk read in part (ecoseg.store.blosc_frames); else (other codecs, a missing or
        # damaged chunk) zarr reads it, and says what is wrong
        frames = read_frames(self._labels, start, stop)
        return frames if frames is not None else self._read(self._labels, start, stop, n)

    def read_time(self) -> np.ndarray:
        """Times (s, float64) of the committed frames."""
        n = self.n_frames
        self._require_open()
        return self._read(self._time, 0, n, n) if n else np.zeros(0, np.float64)

    def read_scores(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Scores (n, n_objects) float32 of the committed frames ``start:stop`` (Python slice
        rules; default all), in object order.

        Examples
        --------
        >>> from ecoseg.store import MaskStore
        >>> import numpy as np
        >>> s = MaskStore.create("memory://doc-scores", height=2, width=3, overwrite=True)
        >>> s.add_objects([(7, "coral", "prompt")])
        >>> s.append(np.full((4, 2, 3), 7, np.uint32), [0.0, 0.1, 0.2, 0.3])
        >>> s.flush()
        >>> s.read_scores().shape, s.read_scores(1, 3).shape
        ((4, 1), (2, 1))
        """
        n, k = self.n_frames, len(self._index)
        self._require_open()
        start, stop = frame_range(start, stop, n)
        if stop <= start or k == 0:
            return np.zeros((max(0, stop - start), k), np.float32)
        return self._read(self._scores, start, stop, n)[:, :k].copy()  # not the unused columns

    def missing_chunks(self, start: int = 0, stop: int | None = None) -> list[MissingChunk]:
        """Chunks of the committed frames ``start:stop`` that are missing from the store.

        A missing chunk would read as zeros (frames without animals); reads raise a
        :class:`~ecoseg.errors.StoreError` on one. This checks every array at once without
        reading chunk data (one existence query per chunk key, see :mod:`ecoseg.store.chunks`).

        Examples
        --------
        >>> from ecoseg.store import MaskStore
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
        of a damaged or missing chunk (or of a store replaced since this one was opened)."""
        try:
            return read_checked(array, start, stop, n, self.all_chunks, self.path)
        except StoreError:
            if self._replaced(n):
                raise StoreError(
                    f"{self.path}: the store was replaced since it was opened (e.g. by a run "
                    "with overwrite=True); open it again"
                ) from None
            raise

    def _replaced(self, n: int) -> bool:
        """Whether the store now at this read-only handle's location is another one (asked only
        after a read failed): its frame size or chunking differ, it has fewer committed frames
        than this handle saw (a store never loses committed frames), or its provenance's
        ``created`` (set once, by the run that made the store) differs. A store that cannot be
        opened now, or two stores alike in all of these (two synthetic truths of one size),
        count as damaged."""
        if self._mode != "r" or self._loc.is_zip:  # a writer holds the lock; a zip stays open
            return False
        try:
            now = type(self)._open_locked(self._loc, "r", None)
        except StoreError:
            return False
        try:
            shape = (self.height, self.width, self.chunk_frames)
            return (
                (now.height, now.width, now.chunk_frames) != shape
                or now.n_frames < n
                or now.provenance.get("created") != self.provenance.get("created")
            )
        finally:
            now.close()

    # ------------------------------------------------------------------ internals
    def _require_open(self) -> None:
        if self._closed and self._loc.is_zip:
            raise StoreError(f"{self.path}: store is closed; open it again with MaskStore.open")

    def _guard(self, action) -> Any:
        return guard(self.path, action)
