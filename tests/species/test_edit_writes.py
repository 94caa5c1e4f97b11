"""An edit's backup and rewrite (``ecoseg.species._edit_writes``) hold a chunk of frames at a
time, not every frame the edit changes.

Before stop 54 the rewrite read the whole backup into memory and stacked a relabelled copy of
it (an undo, the planning of one too): ``ecoseg edit --merge 1,2`` of two tracks present for
14 s of a 720p clip peaked at 4.8 GB (undo: 1.9 GB), now 0.38 GB, and a track present for
minutes of 4K did not fit in a laptop's memory at all."""

from __future__ import annotations

import tracemalloc

import numpy as np

from ecoseg.species import apply_edits
from ecoseg.species.edits import Edit
from ecoseg.store import MaskStore

FRAMES, H, W = 64, 256, 256
BACKUP_BYTES = FRAMES * H * W * 4  # every frame of the merged track, as uint32


def _two_tracks(path) -> np.ndarray:
    """Tracks 1 and 2 on every frame of a 64-frame 256 x 256 store (4 frames per chunk)."""
    labels = np.zeros((FRAMES, H, W), np.uint32)
    for t in range(FRAMES):
        labels[t, 10:40, t : t + 30] = 1
        labels[t, 100:140, 200 - t : 230 - t] = 2
    objects = [(1, "unknown", "tracker"), (2, "unknown", "tracker")]
    with MaskStore.create(path, height=H, width=W, chunk_frames=4, objects=objects) as s:
        s.append(labels, np.arange(FRAMES) / 30)
        s.mark_complete()
    return labels


def _peak(call) -> int:
    tracemalloc.start()
    try:
        call()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_merge_and_its_undo_hold_a_chunk_not_every_frame(tmp_path):
    path = tmp_path / "two.zarr"
    labels = _two_tracks(path)
    merge = _peak(lambda: apply_edits(path, [Edit("merge", (1, 2))]))
    merged = MaskStore.open(path).read_labels()
    assert np.array_equal(merged, np.where(labels == 2, 1, labels)), "the merge's labels"
    undo = _peak(lambda: apply_edits(path, [Edit("undo")]))
    assert np.array_equal(MaskStore.open(path).read_labels(), labels), "undone byte for byte"
    # the old code held the backup and a relabelled copy: at least 2x BACKUP_BYTES
    assert merge < BACKUP_BYTES / 2, (merge, BACKUP_BYTES)
    assert undo < BACKUP_BYTES / 2, (undo, BACKUP_BYTES)
