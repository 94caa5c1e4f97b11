"""Small stores for the species tests (made here, offline)."""

from __future__ import annotations

import numpy as np

from ecoseg.store import MaskStore


def tracker_store(path, *, frames: int = 12, chunk_frames: int = 4):
    """A store like the motion tracker's: three 'unknown' tracks on 12 frames of 24 x 32.

    Track 1 is present on every frame, track 2 on frames 0-7, track 3 on frames 6-11;
    scores are 0.9 / 0.8 / 0.7 where present.
    """
    labels = np.zeros((frames, 24, 32), np.uint32)
    for t in range(frames):
        labels[t, 2:8, 2 + t : 8 + t] = 1
        if t < 8:
            labels[t, 12:18, 4:10] = 2
        if t >= 6:
            labels[t, 12:20, 20:28] = 3
    scores = np.stack(
        [(labels == k).any(axis=(1, 2)) * s for k, s in ((1, 0.9), (2, 0.8), (3, 0.7))], 1
    ).astype(np.float32)
    objects = [(k, "unknown", "tracker") for k in (1, 2, 3)]
    with MaskStore.create(
        path, height=24, width=32, chunk_frames=chunk_frames, objects=objects
    ) as s:
        s.append(labels, np.arange(frames) * 0.1, scores=scores)
        s.mark_complete()
    return labels, scores
