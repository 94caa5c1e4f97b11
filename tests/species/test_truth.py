"""truth_classes: naming tracks from a ground-truth store."""

from __future__ import annotations

import numpy as np

from ecoseg.species.truth import truth_classes
from ecoseg.store import MaskStore


def store(path, labels, classes, provenance=None):
    objects = [{"id": i, "class": c} for i, c in classes.items()]
    s = MaskStore.create(
        path, height=8, width=8, chunk_frames=4, objects=objects, provenance=provenance
    )
    s.append(labels, np.arange(len(labels)) / 25)
    s.mark_complete()
    s.close()
    return path


def test_a_truth_of_every_5th_frame_names_a_track_seen_on_every_frame(tmp_path):
    """The truth annotates frames 0 and 5 only (a CVAT task with step=5); the track covers the
    grouper on all 10 frames. Old code: 8 of its 10 frames fell on truth background (never
    annotated), so it matched no animal (None); it is the grouper on every annotated frame."""
    truth = np.zeros((10, 8, 8), np.uint32)
    truth[[0, 5], 2:5, 2:5] = 1
    track = np.zeros((10, 8, 8), np.uint32)
    track[:, 2:5, 2:5] = 7
    every5 = {"annotated_frames": {"start": 0, "step": 5, "count": 2}}
    t = store(tmp_path / "t.zarr", truth, {1: "grouper"}, every5)
    p = store(tmp_path / "p.zarr", track, {7: "unknown"})
    assert truth_classes(p, t) == {7: "grouper"}
    # the same truth without the entry annotates every frame: the track is mostly unmatched
    full = store(tmp_path / "full.zarr", truth, {1: "grouper"})
    assert truth_classes(p, full) == {7: None}
