"""How :class:`~ecoseg.store.MaskStore` writes: objects (:meth:`add_objects`,
:meth:`update_objects`), frames (:meth:`append`, :meth:`flush`, :meth:`mark_complete`),
provenance, and the end of a writer (:meth:`close`, :meth:`discard`), with the attributes
(object table, provenance, progress marker) saved after the writes in flight.

:class:`WritingMixin` is one of the two bases of :class:`~ecoseg.store.MaskStore` (with
:class:`~ecoseg.store._reading.ReadingMixin`); it holds no state of its own and changes the
attributes that ``MaskStore.__init__`` sets; the chunk writes and commits are the
:class:`~ecoseg.store.commit.ChunkCommitter`'s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ecoseg.errors import StoreError
from ecoseg.provenance import ObjectRecord
from ecoseg.store.validation import (
    ObjectIndex,
    attributes_json,
    check_ids,
    check_labels,
    check_times,
    json_data,
    parse_objects,
    score_rows,
)

__all__ = ["WritingMixin"]


class WritingMixin:
    """Writes of a :class:`~ecoseg.store.MaskStore` open with ``mode="a"`` (not used on its own)."""

    # ------------------------------------------------------------------ writing
    def add_objects(self, objects: Iterable) -> None:
        """Register objects; they get score 0.0 on every frame stored before.

        Parameters
        ----------
        objects : list of ObjectRecord, dict or tuple
            :class:`~ecoseg.provenance.ObjectRecord`, ``{"id": int, "class": str, "source":
            str, ...}`` (source: one of :data:`~ecoseg.provenance.OBJECT_SOURCES`, "prompt",
            "discovered", "truth", "tracker", ...) or ``(id, class, source)``. Ids are positive
            and below 2**32, unique in the store.

        Raises
        ------
        StoreError
            A duplicate or invalid id, or an unknown source (the message names it).

        Examples
        --------
        >>> from ecoseg.store import MaskStore
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
        >>> from ecoseg.store import MaskStore
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
        >>> from ecoseg.store import MaskStore
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
        >>> from ecoseg.store import MaskStore
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

        For builds that fail (image surveys, imports): a failed one leaves nothing
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
        >>> from ecoseg.store import MaskStore
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
