"""discard_on_failure / MaskStore.discard: a failed build removes only what it created."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
from store_helpers import frames, memory_url, times, write_store

from ecoseg.errors import StoreError
from ecoseg.store import MaskStore, discard_on_failure, lock_path


class Boom(Exception):
    pass


def _fail_after_frames(store, n=5):
    with discard_on_failure(store):
        store.append(frames(n, ids=(1,)), times(n))
        store.flush()  # committed frames do not save a failed build
        raise Boom("the import file ends early")


def test_a_failed_build_removes_the_store_it_created(tmp_path):
    path = tmp_path / "survey.zarr"
    with pytest.raises(Boom):
        _fail_after_frames(MaskStore.create(path, height=6, width=7, objects=[(1, "a", "prompt")]))
    assert not path.exists()
    assert not lock_path(path).exists()
    assert list(tmp_path.iterdir()) == []


def test_a_build_that_succeeds_is_closed_and_kept(tmp_path):
    path = tmp_path / "survey.zarr"
    store = MaskStore.create(path, height=6, width=7, objects=[(1, "a", "prompt")])
    with discard_on_failure(store) as same:
        same.append(frames(3, ids=(1,)), times(3))
        same.mark_complete()
    assert store.closed and not lock_path(path).exists()
    assert MaskStore.open(path).n_frames == 3


def test_a_failing_close_discards_too(tmp_path, monkeypatch):
    path = tmp_path / "survey.zarr"
    store = MaskStore.create(path, height=6, width=7, objects=[(1, "a", "prompt")])

    def disk_full():
        raise StoreError(f"{path}: writing the store failed: No space left on device")

    with pytest.raises(StoreError, match="No space"):
        with discard_on_failure(store):
            store.append(frames(3, ids=(1,)), times(3))
            monkeypatch.setattr(store, "flush", disk_full)
    assert not path.exists() and not lock_path(path).exists()


def test_a_store_opened_to_resume_is_never_removed(tmp_path):
    path = tmp_path / "video.zarr"
    write_store(path, frames(8), times(8))
    with pytest.raises(Boom):
        with discard_on_failure(MaskStore.open(path, mode="a")):
            raise Boom("the engine failed")
    assert MaskStore.open(path).n_frames == 8  # untouched, and the lock released
    assert not lock_path(path).exists()
    assert MaskStore.open(path, mode="r").discard() is False and path.exists()


def test_zip_builds_leave_no_archive_and_keep_an_old_one(tmp_path):
    path = tmp_path / "survey.zip"
    with pytest.raises(Boom):
        _fail_after_frames(MaskStore.create(path, height=6, width=7, objects=[(1, "a", "prompt")]))
    assert list(tmp_path.iterdir()) == []  # no archive, no staging folder, no lock
    write_store(path, frames(4), times(4))
    before = path.read_bytes()
    store = MaskStore.create(path, height=6, width=7, objects=[(1, "a", "prompt")], overwrite=True)
    with pytest.raises(Boom):
        _fail_after_frames(store)
    assert path.read_bytes() == before and zipfile.is_zipfile(path)  # the old archive stays
    assert sorted(p.name for p in tmp_path.iterdir()) == ["survey.zip"]


def test_remote_stores_are_closed_not_removed():
    url = memory_url()
    with pytest.raises(Boom):
        _fail_after_frames(MaskStore.create(url, height=6, width=7, objects=[(1, "a", "prompt")]))
    assert MaskStore.open(url).n_frames == 5  # what was committed stays: only local disks


def test_discard_drops_buffered_frames_and_closes(tmp_path):
    store = MaskStore.create(tmp_path / "m.zarr", height=6, width=7, objects=[(1, "a", "prompt")])
    store.append(np.zeros((2, 6, 7), np.uint32), [0.0, 0.1])
    assert store.discard() is True and store.closed
    assert store.discard() is False  # twice is harmless
    with pytest.raises(StoreError, match="closed"):
        store.append(np.zeros((1, 6, 7), np.uint32), 0.2)


def test_a_failed_create_leaves_nothing_even_when_a_gathered_write_lands_late(
    tmp_path, monkeypatch
):
    """Zarr writes an array's metadata together with its parent group's; when the first write
    fails (disk full) the error returns while the other is still running. Removing the half
    store before that write lands brought the folder back as a zarr group without ecoseg
    attributes, which a later ``--resume`` called "not an ecoseg mask store"."""
    import asyncio
    import errno
    import threading

    from zarr.storage import LocalStore

    real_set, real_if_absent = LocalStore.set, LocalStore.set_if_not_exists
    slow_writes = threading.Condition()
    running = [0, 0]  # slow writes begun, ended

    async def full(self, key, value):
        if key == "scores/zarr.json":
            raise OSError(errno.ENOSPC, "No space left on device", key)
        return await real_set(self, key, value)

    async def slow(self, key, value):
        with slow_writes:
            running[0] += 1
        try:
            await asyncio.sleep(0.2)
            return await real_if_absent(self, key, value)
        finally:
            with slow_writes:
                running[1] += 1
                slow_writes.notify_all()

    monkeypatch.setattr(LocalStore, "set", full)
    monkeypatch.setattr(LocalStore, "set_if_not_exists", slow)
    path = tmp_path / "m.zarr"
    with pytest.raises(StoreError, match="No space left on device"):
        MaskStore.create(path, height=6, width=7)
    with slow_writes:  # the slow writes have landed (a fixed sleep could end first)
        assert slow_writes.wait_for(lambda: 0 < running[0] == running[1], timeout=60)
    assert list(tmp_path.iterdir()) == []


def test_opened_store_opens_with_the_opener_given_and_closes_what_it_opened(tmp_path):
    """ecoseg info's summary and verify kept their own 'open unless given a MaskStore' copy
    because they open with their own opener (a damaged store named in one line): opened_store
    takes that opener, calls it only for a location, and closes what it opened, also after an
    error; a caller's store is neither reopened nor closed."""
    from ecoseg.store import opened_store

    path = tmp_path / "m.zarr"
    write_store(path, frames(2, ids=(1,)), times(2))
    seen = []

    def opener(where):
        seen.append(where)
        return MaskStore.open(where)

    with pytest.raises(Boom), opened_store(path, opener) as store:
        assert store.n_frames == 2
        raise Boom("a read failed")
    assert seen == [path] and store.closed
    with MaskStore.open(path) as mine:
        with opened_store(mine, opener) as same:
            assert same is mine
        assert seen == [path] and not mine.closed
