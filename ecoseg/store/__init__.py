"""The mask store: one zarr v3 group per video, written while the video is processed.

Layout
------
``labels``
    (t, y, x) uint32 instance ids at video resolution, 0 = background. Chunks hold
    ``chunk_frames`` whole frames; Blosc/zstd (level 1, no shuffle). Blosc blocks are whole
    rows of one frame, at most 2 MiB (:func:`labels_codec`: 270 rows at 1080p), so the writer
    compresses each frame block by block where the caller holds it, without copying it
    (:mod:`ecoseg.store.blosc_chunks`; the chunks are c-blosc's own bytes for those settings).
    Frame heights without such a block (a prime height) keep 2 MiB blocks and the copying
    writer. Measured on 1080p label images with 12 ellipses: ~940x smaller at ~0.9 ms per
    frame per core to compress (lz4 level 1 is ~2x faster but makes stores ~5x larger; byte
    shuffle makes zstd 1.4x smaller but ~1.5x slower; ``benchmarks/io_bench.py --codecs``).
    Stores written with other Blosc settings (zstd level 2 and 2 MiB blocks before) read and
    resume the same (the codec is in the array metadata). Reads decode each chunk straight
    into the frames returned, of a chunk read in part only its frames' blocks
    (:mod:`ecoseg.store.blosc_frames`; blocks that cross frames: the whole chunk, by zarr).
    ``dimension_names=("t", "y", "x")``, attribute ``units="instance id"``.
``time``
    (t,) float64 seconds from the stream's PTS (variable frame rate is real), ``units="s"``.
``scores``
    (t, object) float32 presence score of each object on each frame, columns in object-table
    order, ``units="1"``. Objects registered after frame k score 0.0 on frames before k.

Group attributes
----------------
Everything lives under one JSON attribute, ``"ecoseg"``::

    {"format": "ecoseg-masks", "version": 1, "ecoseg_version": "0.1.0",
     "frames_written": 120,          # the progress marker: committed frames
     "complete": false,              # true once the producing run called mark_complete()
     "all_chunks": true,             # every chunk of the committed frames is written
     "objects": [{"id": 1, "class": "parrotfish", "source": "prompt"}, ...],
     "provenance": {...},            # JSON only: video, engine, model, parameters, created...
     "calibration": {"mm_per_px": 0.5, "method": "scale_bar"} or null}

Commit protocol
---------------
:meth:`MaskStore.append` validates frames and compresses them block by block on the caller's
thread (or, for older codec settings, copies them into a chunk buffer that zarr compresses);
full chunks are written by background threads. Every :data:`COMMIT_FRAMES` frames, and on
:meth:`~MaskStore.flush`, a commit writes the ``time`` and ``scores`` rows of frames whose
``labels`` chunks are written and only then advances ``frames_written``. Zarr writes each
key atomically on local disks (temporary file + rename) and on object stores (the compressed
chunks go through the same zarr store), so a killed process leaves a store whose marker covers
only frames that are fully written. The attributes are the commit record: arrays
may run ahead of them (rows past the marker while writing, as the arrays grow in steps; score
columns past the object table after a crash); readers ignore that tail,
:meth:`~MaskStore.flush` and :meth:`~MaskStore.close` cut the arrays to length, and
``MaskStore.open(path, mode="a")`` trims them, so a resumed run continues exactly at the marker.

Missing chunks
--------------
The writer writes every chunk of the committed frames of all three arrays, all-zero ones too
(``write_empty_chunks``; the ``scores`` chunks of new column blocks are written as zeros when
objects are added), so a chunk key missing there is damage: reads raise a
:class:`~ecoseg.errors.StoreError` naming the array, the frames and the key instead of reading
zeros (:mod:`ecoseg.store.chunks`). Stores without ``all_chunks`` (written before) are
checked for ``labels`` and for ``time`` chunks of two frames or more only.

Writers
-------
One writer per store: :meth:`MaskStore.create` and ``MaskStore.open(path, mode="a")`` take a
lock file beside a local store (``.NAME.lock`` holding pid, host and process start time) and
:meth:`~MaskStore.close` removes it; a second writer gets a :class:`~ecoseg.errors.StoreError`
naming the holder. A lock left by a killed process is stale and is taken over (same host: its
pid is gone or belongs to a newer process; same process: its store object was closed or
dropped). A lock from another host is respected: delete the file by hand if that writer is
gone. Readers take no lock (they see committed frames). URLs (``s3://``, ``memory://``) and
zarr ``Store`` objects are not locked: object stores offer no portable create-if-absent, so
run one writer per store there (the batch runner gives each video its own store).

Locations
---------
A local directory, any URL zarr understands (``memory://``, ``s3://``, ``file://`` through
fsspec), a zarr ``Store`` object, or a ``.zip`` file. Zip archives cannot rewrite entries, so a
zip store is written in a hidden staging folder next to it and packed into the archive
(atomically) by :meth:`MaskStore.close`; an interrupted zip write leaves the old archive, if any,
untouched.
"""

from ecoseg.store.builds import check_opens, discard_on_failure, opened_store
from ecoseg.store.chunks import CheckedArray, MissingChunk
from ecoseg.store.commit import ChunkCommitter
from ecoseg.store.layout import (
    ATTRS_KEY,
    COMMIT_FRAMES,
    LABELS_CODEC,
    STORE_FORMAT,
    STORE_VERSION,
    labels_codec,
)
from ecoseg.store.location import Location
from ecoseg.store.lock import WriterLock, check_no_writer, live_writer, lock_path
from ecoseg.store.maskstore import MaskStore
from ecoseg.store.rerun import recorded_options, resume_command, resume_hint, segment_options
from ecoseg.store.validation import (
    check_finished,
    present_ids,
    unfinished_edits,
    unfinished_note,
)
from ecoseg.store.view import open_masks

#: Deprecated spelling of :class:`Location` (``ecoseg/distributed.py`` still imports it).
_Location = Location

__all__ = [
    "ATTRS_KEY",
    "COMMIT_FRAMES",
    "LABELS_CODEC",
    "STORE_FORMAT",
    "STORE_VERSION",
    "CheckedArray",
    "ChunkCommitter",
    "Location",
    "MaskStore",
    "MissingChunk",
    "WriterLock",
    "check_finished",
    "check_opens",
    "check_no_writer",
    "live_writer",
    "discard_on_failure",
    "labels_codec",
    "lock_path",
    "open_masks",
    "opened_store",
    "present_ids",
    "recorded_options",
    "unfinished_edits",
    "resume_command",
    "resume_hint",
    "segment_options",
    "unfinished_note",
]
