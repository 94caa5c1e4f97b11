"""The batched boundary F of ecoseg.metrics._boundaries against the per-mask DAVIS definition
(:func:`ecoseg.metrics.jf.boundary_f`, :func:`ecoseg.metrics.jf.seg2bmap`): equal, not close."""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from suite_helpers import labels_store

from ecoseg.metrics import _boundaries, boundary_f, seg2bmap
from ecoseg.metrics._boundaries import boundary_points, pairs_boundary_f

IDS = 4


@st.composite
def label_pair(draw):
    """Two label stacks of the same small shape, ids 0..IDS, sparse or busy."""
    n = draw(st.integers(1, 3))
    h, w = draw(st.integers(1, 14)), draw(st.integers(1, 14))
    stacks = []
    for _ in range(2):
        lab = draw(arrays(np.uint32, (n, h, w), elements=st.integers(0, IDS)))
        if draw(st.booleans()):  # blobs: each value stretched over a few pixels
            lab = np.repeat(np.repeat(lab, 3, axis=1), 3, axis=2)[:, :h, :w].copy()
        stacks.append(lab)
    return stacks


def all_pairs(n):
    f, t, p = np.meshgrid(np.arange(n), np.arange(1, IDS + 1), np.arange(1, IDS + 1))
    return f.ravel(), t.ravel(), p.ravel()


@settings(max_examples=150, deadline=None)
@given(label_pair(), st.integers(0, 7), st.sampled_from([1, 64, 1 << 18]))
def test_pairs_boundary_f_is_boundary_f_of_each_pair(stacks, r, batch_pixels):
    t, p = stacks
    frame, tid, pid = all_pairs(len(t))
    with mock.patch.object(_boundaries, "_BATCH_PIXELS", batch_pixels):  # one to many per batch
        got = pairs_boundary_f(t, p, frame, tid, pid, r)
    want = [boundary_f(p[k] == b, t[k] == a, r) for k, a, b in zip(frame, tid, pid)]
    assert got.tolist() == want  # the same floats, not close ones


@settings(max_examples=100, deadline=None)
@given(label_pair())
def test_boundary_points_are_seg2bmap_of_each_object(stacks):
    lab = stacks[0]
    f, ids, y, x = boundary_points(lab)
    assert np.all(np.diff(f * (IDS + 1) + ids) >= 0)  # sorted by frame, then id
    got = np.zeros((IDS + 1, *lab.shape), bool)
    got[ids, f, y, x] = True
    assert len(f) == got.sum()  # each pixel of an object once
    for i in range(1, IDS + 1):
        want = np.stack([seg2bmap(frame == i) for frame in lab])
        assert np.array_equal(got[i], want), i


@pytest.mark.parametrize("r", [1, 3, 10**12])
def test_masks_at_the_border_and_far_apart(r):
    t = np.zeros((2, 30, 40), np.uint32)
    p = np.zeros_like(t)
    t[:, 22:30, 30:40] = 1  # touches the bottom and right edges
    p[0, 20:30, 33:40] = 2  # overlaps it
    p[1, 0:4, 0:5] = 2  # far away: only a huge tolerance matches it
    got = pairs_boundary_f(t, p, [0, 1], [1, 1], [2, 2], r)
    assert got.tolist() == [boundary_f(p[k] == 2, t[k] == 1, r) for k in (0, 1)]
    assert (got[1] == 0) == (r < 20)


def _store(path, labels):
    return labels_store(path, labels, chunk_frames=3, default="wrasse")


@pytest.mark.parametrize("chunk_frames", [None, 1, 5])
def test_evaluate_f_is_the_mean_of_boundary_f_over_the_frames(tmp_path, chunk_frames):
    # the matched pair overlaps on most frames (F from the overlap pass) and lies beside it on
    # frames 8-10 (F from a second read of those frames only); sums in frame order as before
    from ecoseg.metrics import evaluate

    rng = np.random.default_rng(5)
    t = np.zeros((12, 40, 50), np.uint32)
    p = np.zeros_like(t)
    for k in range(12):
        t[k, 5 + k : 15 + k, 4 + 2 * k : 16 + 2 * k] = 1
        p[k, 6 + k : 16 + k, 5 + 2 * k : 16 + 2 * k] = 7
        t[k, 25:38, 30:45] = 2
        p[k, 25:38, 30:45] = np.where(rng.random((13, 15)) < 0.8, 8, 0)
    p[8:11][p[8:11] == 7] = 0
    for k in range(8, 11):  # beside it, not on it: no overlap, but F > 0
        p[k, 5 + k : 15 + k, 16 + 2 * k : 20 + 2 * k] = 7
    p[11][p[11] == 7] = 0  # absent: counts as a frame of F = 0
    truth, pred = _store(tmp_path / "t.zarr", t), _store(tmp_path / "p.zarr", p)
    r = evaluate(pred, truth, bound_th=2, chunk_frames=chunk_frames)
    assert r["matching"] == {"1": 7, "2": 8}
    for tid, pid, frames in ((1, 7, range(11)), (2, 8, range(12))):
        total = 0.0
        for k in frames:  # the reference: one mask pair at a time, in frame order
            total += boundary_f(p[k] == pid, t[k] == tid, 2)
            assert k not in (8, 9, 10) or pid != 7 or boundary_f(p[k] == 7, t[k] == 1, 2) > 0
        assert r["jf"]["per_object"][str(tid)]["f"] == total / 12
