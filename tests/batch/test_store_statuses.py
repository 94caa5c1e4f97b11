"""ecoseg.batch._plan: the status of each video's store, read while a campaign is planned,
and ecoseg.batch.names.store_names: the stores that could be a video's; for an OUT on object
storage several at once (memory:// storage whose reads are counted while they are under way;
no network)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import fsspec
import numpy as np
import pytest
from fsspec.implementations.memory import MemoryFileSystem

from ecoseg.batch import _plan, batch, campaign, names
from ecoseg.batch.jobs import store_status
from ecoseg.store import MaskStore


@pytest.fixture
def root():
    """A fresh memory:// folder, removed afterwards."""
    path = f"statuses-{uuid.uuid4().hex}"
    yield path
    fsspec.filesystem("memory").rm(path, recursive=True)


def _store(url: str, complete: bool = True, video: str | None = None) -> None:
    with MaskStore.create(url, height=2, width=2, overwrite=True) as store:
        store.append(np.zeros((3, 2, 2), np.uint32), [0.0, 0.5, 1.0])
        if video is not None:  # the video it was made from
            store.set_provenance(video={"path": video})
        if complete:
            store.mark_complete()


def _campaign(root: str, n: int, *, no_store: tuple[int, ...] = ()) -> list[str]:
    """``n`` small videos ``memory://ROOT/videos/T<i>.mp4`` (32 bytes each), each with a
    complete store in ``memory://ROOT/out`` but those in ``no_store``: their URLs."""
    fs = fsspec.filesystem("memory")
    videos = []
    for i in range(n):
        fs.pipe(f"{root}/videos/T{i}.mp4", bytes([i]) * 32)
        videos.append(f"memory://{root}/videos/T{i}.mp4")
        if i not in no_store:
            _store(f"memory://{root}/out/T{i}.zarr")
    return videos


class _Reads:
    """Counts the most stores with a read under way at once (memory:// reads, each held a
    moment), from :meth:`count` on.

    Until two stores have been read at once, a store's read then waits (a minute at most)
    for a read of another store to start: reads made at once overlap however the threads
    are scheduled (holding each read 0.02 s was not enough on a loaded machine), and reads
    made one after another wait that minute once and are counted 1."""

    def __init__(self):
        self.lock = threading.Condition()
        self.active: dict[str, int] = {}
        self.most = 0
        self.waiting = False  # reads wait for another store's (until one gives up)

    def count(self) -> None:
        with self.lock:
            self.most, self.waiting = 0, True

    def read(self, store: str, real):
        with self.lock:
            self.active[store] = self.active.get(store, 0) + 1
            self.most = max(self.most, sum(1 for n in self.active.values() if n))
            self.lock.notify_all()
            if store and self.waiting:
                self.waiting = self.lock.wait_for(lambda: self.most >= 2, timeout=60)
        try:
            time.sleep(0.02)
            return real()
        finally:
            with self.lock:
                self.active[store] -= 1


@pytest.fixture
def reading(monkeypatch):
    """:class:`_Reads` of memory:// storage."""
    reads = _Reads()
    real = MemoryFileSystem.cat_file

    def cat_file(self, path, *args, **kwargs):
        store = next((p for p in str(path).split("/") if p.endswith(".zarr")), "")
        return reads.read(store, lambda: real(self, path, *args, **kwargs))

    monkeypatch.setattr(MemoryFileSystem, "cat_file", cat_file)
    return reads


def test_stores_on_object_storage_are_read_at_once_when_a_campaign_is_planned(
    root, reading, monkeypatch
):
    """Planning a campaign read each store's status one after another: hundreds of stores on
    S3, a few requests each, in a row. An OUT that is a URL now has up to STATUS_THREADS
    stores read at once (several under way, never more than the bound); the summary keeps
    the input order."""
    monkeypatch.setattr(names, "STATUS_THREADS", 3)
    videos = _campaign(root, 6, no_store=(4,))  # (T4 is segmented, fails on its 32 bytes)
    reading.count()
    with ThreadPoolExecutor(1) as pool:
        summary = batch(
            videos, f"memory://{root}/out", scheduler=pool, engine="classical", progress=False,
            retries=0,
        )  # fmt: skip
    assert 2 <= reading.most <= 3  # one after another: 1
    assert summary["status"].tolist() == ["skipped"] * 4 + ["failed", "skipped"]
    assert summary["attempts"].tolist() == [0] * 4 + [1, 0]


def test_statuses_read_at_once_are_those_read_one_after_another_in_order(root, reading):
    """Whatever finishes first, each name gets its own store's status (complete, partial,
    missing, or why it is not a store), in the order of the names."""
    fs = fsspec.filesystem("memory")
    _store(f"memory://{root}/out/a.zarr")
    _store(f"memory://{root}/out/b.zarr", complete=False)
    fs.pipe(f"{root}/out/c.zarr/zarr.json", b"not json")
    _store(f"memory://{root}/out/e.zarr")
    names = ["e", "c", "d", "b", "a"]
    out = f"memory://{root}/out"
    got = _plan.planned_statuses(out, names)
    assert list(got) == names
    assert [getattr(s, "state", None) for s in got.values()] == [
        "complete", None, "missing", "partial", "complete"
    ]  # fmt: skip
    assert str(got["c"]) == str(_plan.planned_status(f"{out}/c.zarr"))
    assert got["a"] == store_status(f"{out}/a.zarr")


def test_a_store_that_cannot_be_read_fails_its_video_and_the_others_are_planned(root, monkeypatch):
    """An OSError reading one store's status (permissions, a storage error) stopped the
    whole campaign's planning with a traceback; now that video fails with a one-line reason
    naming the store, and the others are planned (here: skipped, complete)."""
    videos = _campaign(root, 3)
    real = _plan.store_status

    def status(store):
        if store.endswith("T1.zarr"):
            raise PermissionError(13, "Permission denied")
        return real(store)

    monkeypatch.setattr(_plan, "store_status", status)
    with ThreadPoolExecutor(1) as pool:
        summary = batch(
            videos, f"memory://{root}/out", scheduler=pool, engine="classical", progress=False,
            retries=0,
        )  # fmt: skip
    assert summary["status"].tolist() == ["skipped", "failed", "skipped"]
    assert summary["attempts"].tolist() == [0, 0, 0]
    assert summary["error"].tolist()[1] == (
        f"memory://{root}/out/T1.zarr: the store cannot be read "
        "(PermissionError: [Errno 13] Permission denied)"
    )


def test_the_stores_that_could_be_a_videos_are_read_at_once_in_order(root, reading, monkeypatch):
    """store_names read the stores that could be each video's (its own name's, then those of
    another name ending in ``__`` and its file name: made in a run that held other videos)
    one video after another: on object storage, a campaign re-run read hundreds of stores in
    a row before it was planned. An OUT that is a URL now has up to STATUS_THREADS videos'
    stores read at once (several stores under way, never more than the bound); each video
    keeps its own store's name, in the order of the videos, and one whose store cannot be
    read is named as before (its own name)."""
    monkeypatch.setattr(names, "STATUS_THREADS", 3)
    fs = fsspec.filesystem("memory")
    videos = []
    for i in range(6):  # stores named in a run that held site-b's videos too
        fs.pipe(f"{root}/site-a/T{i}.mp4", bytes([i]) * 32)
        videos.append(f"memory://{root}/site-a/T{i}.mp4")
        if i != 2:
            _store(f"memory://{root}/out/site-a__T{i}.zarr", video=videos[-1])
    fs.pipe(f"{root}/out/site-a__T2.zarr/zarr.json", b"not json")  # cannot be read
    _store(f"memory://{root}/out/site-b__T3.zarr", video=f"memory://{root}/site-b/T3.mp4")
    reading.count()
    got = names.store_names(videos, f"memory://{root}/out")
    assert got == ["site-a__T0", "site-a__T1", "T2", "site-a__T3", "site-a__T4", "site-a__T5"]
    assert 2 <= reading.most <= 3  # one after another: 1


def test_an_out_url_of_three_slashes_keeps_its_scheme(root):
    """``memory:///x`` (no host): the summary's location was joined as ``memory:/x/...``,
    which is no URL (a local path), so writing the summary failed; the stores' locations
    and the names shown lost the ``//`` too. Now each keeps it (and an s3:// one its host)."""
    from ecoseg.batch.urls import join_url, redact_url, store_location

    assert join_url("memory:///x", "batch-summary.csv") == "memory:///x/batch-summary.csv"
    assert store_location("memory:///x/", "T1") == "memory:///x/T1.zarr"
    assert redact_url("memory:///x/T1.zarr") == "memory:///x/T1.zarr"
    assert join_url("s3://bucket/x", "batch-summary.csv") == "s3://bucket/x/batch-summary.csv"
    assert store_location("s3://k:s@bucket/x?a=1", "T1") == "s3://k:s@bucket/x/T1.zarr?a=1"
    assert redact_url("s3://k:s@bucket/x/T1.zarr?a=1") == "s3://bucket/x/T1.zarr"
    videos = _campaign(root, 2)
    with ThreadPoolExecutor(1) as pool:
        summary = batch(
            videos, f"memory:///{root}/out", scheduler=pool, engine="classical",
            progress=False,
        )  # fmt: skip
    assert summary["status"].tolist() == ["skipped", "skipped"]
    assert summary["store"].tolist() == [f"memory:///{root}/out/T{i}.zarr" for i in range(2)]
    assert summary.attrs["summary"] == f"memory:///{root}/out/batch-summary.csv"
    written = fsspec.filesystem("memory").cat_file(f"/{root}/out/batch-summary.csv")
    assert written.startswith(b"video,")


def test_each_store_place_is_checked_once(root, monkeypatch):
    """On a local cluster, the stores of videos whose names are certain were checked for a
    user's folder twice (before the machine is checked, then with every other store): each
    store is checked once now, and every one of them is."""
    videos = _campaign(root, 3, no_store=(1,))
    checked = []
    check = campaign.check_store_places

    def check_store_places(stores):
        checked.extend(store for _, store, _ in stores)
        return check(stores)

    class Planned(Exception):
        pass

    def probe(*args):
        raise Planned  # (planning done: no cluster started)

    monkeypatch.setattr(campaign, "check_store_places", check_store_places)
    monkeypatch.setattr(_plan, "check_store_places", check_store_places)
    monkeypatch.setattr(campaign, "probe_urls", probe)
    with pytest.raises(Planned):
        batch(videos, f"memory://{root}/out", engine="classical", progress=False)
    assert sorted(checked) == [f"memory://{root}/out/T{i}.zarr" for i in range(3)]
