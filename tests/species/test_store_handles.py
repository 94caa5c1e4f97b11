"""Species functions given a store path close the store they open; a MaskStore passed in stays
open. (The study runner reads a video's edit log up to three times: each open left behind
holds, for a zip store, the archive open.)"""

from __future__ import annotations

import os

import pytest

import ecoseg
from ecoseg.species import edit_log
from ecoseg.species.classify import review_queue, store_sha256
from ecoseg.species.features import track_features
from ecoseg.species.truth import truth_classes
from ecoseg.store import MaskStore


@pytest.fixture(scope="module")
def zipped(tmp_path_factory):
    """The synthetic truth of a small clip, as a zip store (an open store holds the archive)."""
    tmp = tmp_path_factory.mktemp("handles")
    clip = ecoseg.synth(tmp / "clip", frames=3, size=(64, 48), n_fish=2, n_invertebrates=0)
    truth = MaskStore.open(clip.truth)
    path = tmp / "truth.zip"
    with MaskStore.create(
        path,
        height=truth.height,
        width=truth.width,
        objects=truth.object_records().values(),
        provenance=truth.provenance_record,
    ) as out:
        out.append(truth.read_labels(), truth.read_time(), truth.read_scores())
        out.mark_complete()  # a finished run (else track_features warns it is not)
    return path, clip.video


def _handles(path) -> int:
    """File descriptors of this process open on ``path``."""
    target = os.path.realpath(path)
    fds = os.listdir("/proc/self/fd")
    return sum(os.path.realpath(f"/proc/self/fd/{fd}") == target for fd in fds if fd.isdigit())


CALLS = {
    "edit_log": lambda p, v: edit_log(p),
    "store_sha256": lambda p, v: store_sha256(p),
    "review_queue": lambda p, v: review_queue(p),
    "truth_classes": lambda p, v: truth_classes(p, p),
    "track_features": lambda p, v: track_features(p, v, samples=1),
}


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts /proc/self/fd")
@pytest.mark.parametrize("name", list(CALLS))
def test_a_store_opened_from_a_path_is_closed(name, zipped, monkeypatch):
    path, video = zipped
    opened = []
    real = MaskStore.open

    def spy(where, mode="r"):
        store = real(where, mode)
        opened.append(store)  # kept alive here: only close() lets go of the archive
        return store

    monkeypatch.setattr(MaskStore, "open", spy)
    before = _handles(path)
    for _ in range(3):
        CALLS[name](path, video)
    assert opened and all(store.closed for store in opened)
    assert _handles(path) == before


@pytest.mark.parametrize("name", list(CALLS))
def test_a_store_passed_in_stays_open(name, zipped):
    path, video = zipped
    store = MaskStore.open(path)
    CALLS[name](store, video)
    assert not store.closed
    assert store.read_labels(0, 1).shape == (1, 48, 64)  # still readable
    store.close()
