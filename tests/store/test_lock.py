"""Tests of ecoseg/store/lock.py: one writer per local store, stale locks taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from ecoseg.errors import StoreError
from ecoseg.store import Location, MaskStore, WriterLock, check_no_writer, lock_path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_path_is_beside_the_store(tmp_path):
    assert lock_path(tmp_path / "a.zarr") == tmp_path / ".a.zarr.lock"
    assert lock_path(tmp_path / "a.zip") == tmp_path / ".a.zip.lock"
    assert lock_path("memory://x") is None


def test_an_open_writer_holds_the_lock(tmp_path):
    path = tmp_path / "m.zarr"
    store = MaskStore.create(path, height=2, width=2)
    holder = json.loads(lock_path(path).read_text())
    assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
    with pytest.raises(StoreError, match="another MaskStore in this process"):
        check_no_writer(path)
    with pytest.raises(StoreError, match="another writer"):
        MaskStore.open(path, mode="a")
    MaskStore.open(path).close()  # readers take no lock
    store.close()
    assert not lock_path(path).exists()
    check_no_writer(path)


def test_a_dropped_store_leaves_a_stale_lock_that_is_taken_over(tmp_path):
    path = tmp_path / "m.zarr"
    store = MaskStore.create(path, height=2, width=2)
    store._lock = None  # like a crash that skipped the release: the file stays...
    del store
    assert lock_path(path).exists()
    MaskStore.open(path, mode="a").close()  # ...and its owner is gone: taken over


def test_lock_of_a_dead_process_is_stale(tmp_path):
    path = tmp_path / "m.zarr"
    MaskStore.create(path, height=2, width=2).close()
    record = {"pid": dead_pid(), "host": socket.gethostname(), "start": "0"}
    lock_path(path).write_text(json.dumps(record))
    check_no_writer(path)
    lock = WriterLock.acquire(Location(path))
    assert json.loads(lock_path(path).read_text())["pid"] == os.getpid()
    lock.release()
    assert not lock_path(path).exists()


def test_lock_of_a_live_process_elsewhere_is_respected(tmp_path):
    path = tmp_path / "m.zarr"
    MaskStore.create(path, height=2, width=2).close()
    lock_path(path).write_text(json.dumps({"pid": 1, "host": "far-away", "created": "then"}))
    with pytest.raises(StoreError, match=r"process 1 on host far-away since then.*delete"):
        WriterLock.acquire(Location(path))
    assert json.loads(lock_path(path).read_text())["host"] == "far-away"  # left alone


def test_release_leaves_someone_elses_lock(tmp_path):
    path = tmp_path / "m.zarr"
    lock = WriterLock.acquire(Location(path))
    lock_path(path).write_text(json.dumps({"pid": 1, "host": "other"}))
    lock.release()
    assert lock_path(path).exists()
