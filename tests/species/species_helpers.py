"""Small stores for the species tests (made here, offline), and edits killed (``kill -9``) in
a child process. (An edit interrupted in this process: the ``interrupt_edit`` fixture of
tests/conftest.py.)"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
from suite_helpers import child_env

from ecoseg.store import MaskStore

COLOURS = ((1, (220, 60, 40)), (2, (40, 60, 220)), (3, (210, 70, 50)), (4, (50, 70, 210)))


def small_store(path, scale: int = 1):
    """Four 'unknown' tracks (red, blue, red, blue squares) on 3 frames of 8 x 40 px, times
    ``scale``; returns the frames (the 'video')."""
    h, w, side = 8 * scale, 40 * scale, 4 * scale
    img = np.zeros((3, h, w, 3), np.uint8)
    lab = np.zeros((3, h, w), np.uint32)
    for oid, rgb in COLOURS:
        x = (2 + 9 * (oid - 1)) * scale
        img[:, 2 * scale : 2 * scale + side, x : x + side] = rgb
        lab[:, 2 * scale : 2 * scale + side, x : x + side] = oid
    objects = [(i, "unknown", "tracker") for i, _ in COLOURS]
    with MaskStore.create(path, height=h, width=w, objects=objects) as s:
        s.append(lab, [0.0, 0.1, 0.2])
        s.mark_complete()
    return img


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


_KILL_CHILD = textwrap.dedent(
    """
    import json, os, signal, sys
    import ecoseg.species._edit_writes as writes
    import ecoseg.species.review as review
    from ecoseg.species.edits import Edit

    name, on_call, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    edits = [Edit.from_dict(e) for e in json.loads(sys.argv[4])]
    original, calls = getattr(writes, name), {"n": 0}

    def patched(*a, **k):
        out = original(*a, **k)
        calls["n"] += 1
        if calls["n"] == on_call:
            os.kill(os.getpid(), signal.SIGKILL)
        return out

    setattr(writes, name, patched)
    review.apply_edits(path, edits)
    """
)


def kill_9_editing(path, edits, name: str, on_call: int = 1) -> None:
    """Apply ``edits`` to the store at ``path`` in a child process killed with SIGKILL right
    after the ``on_call``-th call of ``ecoseg.species._edit_writes.<name>`` (the module that
    writes an edit's steps) returns; fails the test unless the child died of that signal."""
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            _KILL_CHILD,
            name,
            str(on_call),
            str(path),
            json.dumps([e.queued() for e in edits]),
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -9, child.stderr
