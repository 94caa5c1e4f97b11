"""ecoseg.info.verify: every missing or damaged chunk, with its frames; the store's video."""

from __future__ import annotations

import importlib
import shutil

import numpy as np
import pytest
from info_helpers import garble, labels_chunk

from ecoseg.errors import StoreError, VideoError
from ecoseg.info import summary, verify
from ecoseg.store import MaskStore

verify_module = importlib.import_module("ecoseg.info.verify")


def test_a_good_store_has_no_problems(truth, clip):
    assert verify(truth) == []
    assert verify(truth, clip.video) == []


def test_every_missing_and_damaged_chunk_is_listed(truth):
    labels_chunk(truth, 1).unlink()  # frames 4..7: lost in the copy
    garble(labels_chunk(truth, 3))  # frames 12..15: bad bytes
    problems = verify(truth)
    found = [(p.array, p.kind, p.first, p.last) for p in problems]
    assert found == [("labels", "missing", 4, 7), ("labels", "damaged", 12, 15)]
    assert "labels/c/1/0/0" in problems[0].detail
    lines = [p.describe() for p in problems]
    assert lines[0].startswith(f"{truth}: labels frames 4..7 missing")
    assert lines[1].startswith(f"{truth}: labels frames 12..15 damaged")


@pytest.mark.parametrize("block_bytes", [1, 10**9])  # a chunk per read; the store in one read
def test_two_damaged_chunks_are_both_named(truth, monkeypatch, block_bytes):
    """A block that fails is read again chunk by chunk: not only its first bad chunk."""
    monkeypatch.setattr(verify_module, "BLOCK_BYTES", block_bytes)
    garble(labels_chunk(truth, 0))
    garble(labels_chunk(truth, 2))
    assert [(p.first, p.last) for p in verify(truth)] == [(0, 3), (8, 11)]


def test_damaged_time_chunk(tmp_path):
    """A long store (two ``time`` chunks of 4096 frames): the first one garbled."""
    path = tmp_path / "long.zarr"
    n = 4100
    with MaskStore.create(path, height=2, width=2, chunk_frames=64) as store:
        store.append(np.zeros((n, 2, 2), np.uint32), np.arange(n) / 30.0)
        store.mark_complete()
    assert MaskStore.open(path).time.chunks == (4096,)
    (path / "time" / "c" / "0").write_bytes(b"not a blosc chunk")
    problems = verify(path)
    assert [(p.array, p.kind, p.first, p.last) for p in problems] == [("time", "damaged", 0, 4095)]


def test_a_garbled_time_chunk_is_a_problem(truth):
    """The store still opens (a reader does not need the last time); the summary cannot read
    the times, verify names the chunk's frames."""
    (truth / "time" / "c" / "0").write_bytes(b"not a blosc chunk")
    problems = verify(truth)
    assert [(p.array, p.kind) for p in problems] == [("time", "damaged")]
    with pytest.raises(StoreError, match="damaged"):
        summary(truth)


def test_missing_scores_chunk(truth):
    (truth / "scores" / "c" / "0" / "0").unlink()
    problems = verify(truth)
    assert [(p.array, p.kind) for p in problems] == [("scores", "missing")]


def test_the_wrong_video_is_a_problem(truth, other_clip):
    problems = verify(truth, other_clip.video)
    assert [(p.array, p.kind) for p in problems] == [("video", "video")]
    assert "sha256 differs" in problems[0].detail
    assert problems[0].describe().startswith(f"{truth}: video: ")


def test_video_only(truth, other_clip):
    labels_chunk(truth, 0).unlink()
    assert [p.array for p in verify(truth, other_clip.video, chunks=False)] == ["video"]


def test_not_a_store_and_no_video_are_errors(tmp_path, truth):
    with pytest.raises(StoreError, match="no such store"):
        verify(tmp_path / "nothing.zarr")
    with pytest.raises(VideoError):
        verify(truth, tmp_path / "nothing.mp4")


def test_a_copy_verifies_like_the_original(truth, tmp_path):
    copy = shutil.copytree(truth, tmp_path / "copy.zarr")
    assert verify(copy) == []
