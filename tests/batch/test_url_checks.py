"""ecoseg.batch: URL videos beside their finished stores, probed while a campaign is planned
(ecoseg.batch.names.url_checks), on a local HTTP server that counts the requests it serves
at once (a thread; no network) and tags each file with an ETag as object storages do."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from suite_helpers import child_env

import ecoseg
from ecoseg.batch import batch


def _etag(path) -> str:
    """The ETag the test server gives a file: a hash of its bytes, as S3 gives an object put
    whole (the MD5 of its bytes)."""
    with open(path, "rb") as f:
        return '"' + hashlib.sha256(f.read()).hexdigest()[:32] + '"'


def _write_etag(path) -> str:
    """An ETag made from the file's time and size, as nginx and Apache give one: the same
    bytes written again get another."""
    st = os.stat(path)
    return f'"{st.st_mtime_ns:x}-{st.st_size:x}"'


class _Counted(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; each request waits ``delay`` seconds, counted while it is served.
    A file is sent with an ``ETag`` (``tag``: :func:`_etag` unless set otherwise; none where
    ``etags`` is false) and, as
    Python's server sends it, a ``Last-Modified`` from its mtime (none where ``dates`` is false).

    ``most`` counts videos (paths), not requests: one probe's requests (a HEAD, then a ranged
    GET) may overlap for an instant, as the client has the first reply before this handler's
    count of it drops (a 4th request seen with 3 probes at once).

    With ``overlap`` set, until two videos have been served at once a request waits (a
    minute at most) for one of another video: probes made at once overlap however the
    threads are scheduled, probes made one after another wait that minute once."""

    etags = True
    tag = staticmethod(_etag)
    dates = True
    ranges = True  # False: 'Accept-Ranges: none' (a server that asks for no ranged requests)
    delay = 0.0
    gate = None  # a threading.Event each request waits for (a storage that does not answer)
    overlap = False
    lock = threading.Condition()
    active = 0  # requests being served
    serving: dict = {}  # path -> its requests being served
    most = 0  # the most videos (paths) served at once
    requests: list = []  # (method, path) of each request, in the order they came

    def log_message(self, *args):
        pass

    def _counted(self, serve):
        cls = type(self)
        with cls.lock:
            cls.requests.append((self.command, self.path))
            cls.active += 1
            cls.serving[self.path] = cls.serving.get(self.path, 0) + 1
            cls.most = max(cls.most, sum(1 for n in cls.serving.values() if n))
            cls.lock.notify_all()
            if cls.overlap:
                cls.overlap = cls.lock.wait_for(lambda: cls.most >= 2, timeout=60)
        try:
            time.sleep(cls.delay)
            if cls.gate is not None:
                cls.gate.wait(120)
            serve()
        finally:
            with cls.lock:
                cls.active -= 1
                cls.serving[self.path] -= 1

    def send_header(self, keyword, value):
        if keyword != "Last-Modified" or type(self).dates:
            super().send_header(keyword, value)

    def end_headers(self):
        path = self.translate_path(self.path)
        if type(self).etags and os.path.isfile(path):
            self.send_header("ETag", type(self).tag(path))
        if not type(self).ranges:
            self.send_header("Accept-Ranges", "none")
        super().end_headers()

    def do_GET(self):
        self._counted(super().do_GET)

    def do_HEAD(self):
        self._counted(super().do_HEAD)


@contextlib.contextmanager
def _served(folder):
    """``folder`` on a local HTTP server whose handler class is yielded with its base URL."""
    handler = type(
        "Handler", (_Counted,), {"lock": threading.Condition(), "serving": {}, "requests": []}
    )
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def campaign(tmp_path, request):
    """Six URL videos on a local server, segmented into OUT: (served folder, handler, urls,
    out); the server serves while the test runs. A parameter (``indirect``) sets the handler's
    attributes from the start (``{"etags": False}``: a server that gives no ETag)."""
    clip = ecoseg.synth(tmp_path / "clip", frames=4, size=(64, 48), seed=3)
    served = tmp_path / "served"
    served.mkdir()
    data = clip.video.read_bytes()
    for i in range(6):
        (served / f"T{i}.mp4").write_bytes(data)
    out = tmp_path / "out"
    with _served(served) as (handler, base), ThreadPoolExecutor(1) as pool:
        for key, value in getattr(request, "param", {}).items():
            setattr(handler, key, value)
        urls = [f"{base}/T{i}.mp4" for i in range(6)]
        first = batch(urls, out, scheduler=pool, engine="classical", progress=False)
        assert first["status"].tolist() == ["done"] * 6
        yield served, handler, urls, out


def test_url_probes_of_a_campaign_run_at_once_not_one_after_another(campaign, monkeypatch):
    """Planning a campaign probed each URL video beside its finished store one after
    another: hundreds of S3 videos made hundreds of small requests in a row (a minute of
    waiting before anything started). Now they run up to PROBE_THREADS at once: the server
    sees several requests at a time, never more than the bound; results keep the input order
    and each failure names its URL."""
    from ecoseg.batch import names

    served, handler, urls, out = campaign
    monkeypatch.setattr(names, "PROBE_THREADS", 3, raising=False)
    (served / "T4.mp4").unlink()
    handler.delay, handler.most, handler.overlap = 0.3, 0, True
    with ThreadPoolExecutor(1) as pool:
        summary = batch(urls, out, scheduler=pool, engine="classical", progress=False)
    assert 2 <= handler.most <= 3  # one after another: 1
    assert summary["status"].tolist() == ["skipped"] * 4 + ["failed", "skipped"]
    assert summary["error"].iloc[4].startswith(f"{urls[4]}: no such file or directory; its ")
    assert summary["attempts"].tolist() == [0] * 6  # nothing segmented again


@pytest.mark.parametrize(
    ("etags", "ranges"),
    [(True, True), (False, True), (True, False)],
    ids=["etag", "no_etag", "stream"],
)
def test_a_url_probe_asks_the_server_twice_not_three_times(tmp_path, etags, ranges):
    """A probe made three requests: fsspec's opening a HEAD (for the size), the first bytes
    (a GET), then one more HEAD for the ETag (fsspec's http file keeps only the size). Now
    the one HEAD gives both, its size handed to the opening. A server that asks for no
    ranged requests is read as a stream, as fsspec chooses, after a HEAD of the opening's: three
    requests, as before."""
    from ecoseg.batch.jobs import UrlVersion, probe_url

    (tmp_path / "T1.mp4").write_bytes(b"\x00\x00\x00\x18ftypisom" + bytes(100))
    with _served(tmp_path) as (handler, base):
        handler.etags, handler.ranges = etags, ranges
        version = probe_url(f"{base}/T1.mp4")
    heads = 1 if ranges else 2
    assert sorted(handler.requests) == [("GET", "/T1.mp4")] + [("HEAD", "/T1.mp4")] * heads
    assert version == UrlVersion(
        112 if ranges else None, _etag(tmp_path / "T1.mp4") if etags else None
    )


def test_a_url_whose_size_changed_since_its_store_was_made_is_failed_not_skipped(campaign):
    """A URL video replaced since its store was made (another file uploaded under the name)
    was probed, found fetchable and reported 'skipped' as finished. The store now records the
    video's size in bytes (provenance video 'bytes'), and the probe's size (from the file's
    opening: HTTP Content-Length, S3 object size) is compared with it: another size is
    'failed', one line naming the store and both sizes; nothing is downloaded whole and the
    store is kept. The same size is skipped as before (not taken for proof: said in docs)."""
    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    size = (served / "T1.mp4").stat().st_size
    with MaskStore.open(out / "T1.zarr") as store:
        made = store.provenance["video"]
        labels = store.read_labels()
    other = ecoseg.synth(served.parent / "other", frames=5, size=(64, 48), seed=4)
    (served / "T1.mp4").write_bytes(other.video.read_bytes())
    now = (served / "T1.mp4").stat().st_size
    assert now != size
    with ThreadPoolExecutor(1) as pool:
        summary = batch(urls, out, scheduler=pool, engine="classical", progress=False)
    assert summary["status"].tolist() == ["skipped", "failed"] + ["skipped"] * 4
    assert summary["attempts"].tolist() == [0] * 6
    assert summary["error"].iloc[1] == (
        f"{out / 'T1.zarr'}: the store was made from another T1.mp4 (the video at that URL "
        f"has {now} bytes now, {size} when the store was made: it changed since); move the "
        "store away to segment this video anew"
    )
    with MaskStore.open(out / "T1.zarr") as store:
        assert (store.read_labels() == labels).all()
    assert made["path"] == urls[1] and made["bytes"] == size  # (ecoseg.batch.jobs.URL_BYTES)


def _same_size_other_bytes(path) -> None:
    """Another file of the same size put at ``path``: the same first bytes (which the probe
    reads), the last 100 others."""
    data = bytearray(path.read_bytes())
    data[-100:] = bytes(255 - b for b in data[-100:])
    path.write_bytes(bytes(data))


def _replaced(out, served, tag, was, sha) -> str:
    """The line of T1.mp4 failed as replaced by other bytes of its size: its ETag now (the
    server's ``tag``) and ``was``, its SHA-256 now and the store's ``sha``."""
    from ecoseg._hashing import sha256_file

    return (
        f"{out / 'T1.zarr'}: the store was made from another T1.mp4 (the video at that URL "
        f"has ETag {tag(served / 'T1.mp4')} now, {was} then, and other bytes: SHA-256 "
        f"{sha256_file(served / 'T1.mp4')} now, {sha} when the store was made); move the "
        "store away to segment this video anew"
    )


def _again(urls, out):
    with ThreadPoolExecutor(1) as pool:
        return batch(urls, out, scheduler=pool, engine="classical", progress=False)


def test_a_url_replaced_by_a_file_of_the_same_size_is_failed_by_its_etag(campaign):
    """Another file of exactly the same size put at a URL since its store was made was probed,
    its size found unchanged and reported 'skipped' as finished. The store now records the
    ETag the storage gave the video when it was fetched (provenance video 'etag'), and the
    probe compares it with the one the storage gives now: another (the size the same) has the
    video fetched once by a task and its SHA-256 compared with the store's: other bytes are
    'failed' (attempts 1, not retried), one line naming the store, both ETags and both
    SHA-256s; the store is kept. The very same bytes written again (a touch, a copy: a new
    Last-Modified) keep their ETag and are skipped, not fetched: times are not compared."""
    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    made = _etag(served / "T1.mp4")
    with MaskStore.open(out / "T1.zarr") as store:
        assert store.provenance["video"]["etag"] == made  # (ecoseg.batch.jobs.URL_ETAG)
        labels = store.read_labels()
    size = (served / "T1.mp4").stat().st_size
    _same_size_other_bytes(served / "T1.mp4")
    assert (served / "T1.mp4").stat().st_size == size
    later = time.time() + 5  # (T2: the same bytes again, another Last-Modified)
    (served / "T2.mp4").write_bytes((served / "T2.mp4").read_bytes())
    os.utime(served / "T2.mp4", (later, later))
    summary = _again(urls, out)
    assert summary["status"].tolist() == ["skipped", "failed"] + ["skipped"] * 4
    assert summary["attempts"].tolist() == [0, 1, 0, 0, 0, 0]
    with MaskStore.open(out / "T1.zarr") as store:
        sha = store.provenance["video"]["sha256"]
    assert summary["error"].iloc[1] == _replaced(out, served, _etag, made, sha)
    with MaskStore.open(out / "T1.zarr") as store:
        assert (store.read_labels() == labels).all()


def test_a_store_without_an_etag_is_checked_by_its_size_as_before(campaign):
    """A store of an older ecoseg (its provenance video has 'bytes' but no 'etag'): the ETag
    the storage gives now is compared with nothing, and the size alone decides, as before: a
    file of the same size is skipped, one of another size is failed."""
    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    for name in ("T1", "T2"):
        with MaskStore.open(out / f"{name}.zarr", mode="a") as store:
            video = {k: v for k, v in store.provenance["video"].items() if k != "etag"}
            store.set_provenance(video=video)
    _same_size_other_bytes(served / "T1.mp4")
    (served / "T2.mp4").write_bytes((served / "T2.mp4").read_bytes() + bytes(8))
    summary = _again(urls, out)
    assert summary["status"].tolist() == ["skipped", "skipped", "failed"] + ["skipped"] * 3
    assert "bytes now" in summary["error"].iloc[2]


@pytest.mark.parametrize("campaign", [{"etags": False, "dates": False}], indirect=True)
def test_a_server_without_etags_leaves_the_size_alone_to_compare(campaign):
    """A storage that gives no ETag (nor Last-Modified): the store records none, and the size
    alone is compared, as before (the known limit: the same size is skipped)."""
    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    with MaskStore.open(out / "T1.zarr") as store:
        assert "etag" not in store.provenance["video"] and "bytes" in store.provenance["video"]
    _same_size_other_bytes(served / "T1.mp4")
    (served / "T2.mp4").write_bytes((served / "T2.mp4").read_bytes() + bytes(8))
    summary = _again(urls, out)
    assert summary["status"].tolist() == ["skipped", "skipped", "failed"] + ["skipped"] * 3
    assert "bytes now" in summary["error"].iloc[2]


def test_ctrl_c_while_url_probes_wait_on_the_storage_ends_the_command_at_once(campaign):
    """Ctrl-C while the URL probes of a plan waited on a storage that did not answer left the
    probe pool waiting for every probe under way (ThreadPoolExecutor's exit, then its join at
    interpreter exit): 'ecoseg batch' hung until the requests timed out. Now the interrupt is
    raised at once: 'ecoseg: interrupted', exit status 130, probes under way abandoned."""
    served, handler, urls, out = campaign
    handler.gate, handler.most = threading.Event(), 0
    code = (
        "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        "from ecoseg.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    args = [sys.executable, "-c", code, "batch", *urls, "-o", str(out), "--engine", "classical"]
    proc = subprocess.Popen(args, env=child_env(), stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(1200):  # until probes wait on the server (or the command ended)
            if handler.active >= 2 or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert handler.active >= 2
        proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail("ecoseg batch still waits on its probes after Ctrl-C")
    finally:
        handler.gate.set()  # (the server's requests end)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert err.strip().splitlines()[-1] == "ecoseg: interrupted"


def _rewritten(path, data=None) -> None:
    """``data`` (the file's own bytes by default) written to ``path``, its time moved on (a
    new ETag on a server that makes it from the time: :func:`_write_etag`)."""
    path.write_bytes(path.read_bytes() if data is None else data)
    later = time.time() + 5
    os.utime(path, (later, later))


def _requests(handler, name) -> list:
    return [method for method, path in handler.requests if path == f"/{name}.mp4"]


@pytest.mark.parametrize("campaign", [{"tag": staticmethod(_write_etag)}], indirect=True)
def test_the_same_bytes_under_a_new_etag_are_skipped_once_checked_and_keep_it(campaign, capsys):
    """A URL video whose ETag changed but not its size (a storage whose ETag changes with every
    write: nginx, Apache, Azure) was failed as replaced, though the very same bytes had been
    written again: the user had to compare SHA-256s by hand. Now a task of the campaign fetches
    it once and compares its SHA-256 with the store's: the same bytes are 'skipped' (attempts
    1: the check's task), one line says so, and the store records the new ETag, so the next
    run probes it as any unchanged video (no fetch of the whole file). Its masks are kept."""
    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    with MaskStore.open(out / "T1.zarr") as store:
        made = store.provenance["video"]
        labels = store.read_labels()
    _rewritten(served / "T1.mp4")
    now = _write_etag(served / "T1.mp4")
    assert now != made["etag"]
    handler.requests.clear()
    with ThreadPoolExecutor(1) as pool:
        summary = batch(urls, out, scheduler=pool, engine="classical", progress=True)
    assert summary["status"].tolist() == ["skipped"] * 6
    assert summary["attempts"].tolist() == [0, 1, 0, 0, 0, 0]
    assert summary["frames"].tolist() == [4] * 6 and summary["error"].fillna("").eq("").all()
    assert _requests(handler, "T1").count("GET") > _requests(handler, "T2").count("GET")
    assert (
        f"ecoseg batch: {urls[1]}: its ETag changed ({made['etag']} when the store was made, "
        f"{now} now) but not its bytes (the store's SHA-256): skipped; the store records the "
        "new ETag"
    ) in capsys.readouterr().err.splitlines()
    with MaskStore.open(out / "T1.zarr") as store:
        assert store.provenance["video"] == {**made, "etag": now}  # (nothing else changed)
        assert (store.read_labels() == labels).all()
    handler.requests.clear()
    again = _again(urls, out)
    assert again["status"].tolist() == ["skipped"] * 6
    assert again["attempts"].tolist() == [0] * 6
    assert _requests(handler, "T1") == _requests(handler, "T2")  # (probed, as T2 is: no fetch)


@pytest.mark.parametrize("campaign", [{"tag": staticmethod(_write_etag)}], indirect=True)
def test_a_new_etag_on_other_bytes_of_the_same_size_fails_naming_both_sha256s(campaign):
    """The same size under a new ETag but other bytes: failed as replaced (after one attempt,
    not retried: the bytes would differ again), the line naming both ETags and both SHA-256s
    (the video's now and the one its store records); the store is kept as it was."""
    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    with MaskStore.open(out / "T1.zarr") as store:
        made = store.provenance["video"]
    _same_size_other_bytes(served / "T1.mp4")
    _rewritten(served / "T1.mp4")
    summary = _again(urls, out)
    assert summary["status"].tolist() == ["skipped", "failed"] + ["skipped"] * 4
    assert summary["attempts"].tolist() == [0, 1, 0, 0, 0, 0]
    assert summary["error"].iloc[1] == _replaced(
        out, served, _write_etag, made["etag"], made["sha256"]
    )
    with MaskStore.open(out / "T1.zarr") as store:
        assert store.provenance["video"] == made


@pytest.mark.parametrize("campaign", [{"tag": staticmethod(_write_etag)}], indirect=True)
def test_another_size_under_a_new_etag_fails_without_fetching_the_video(campaign):
    """Another size is certainly another file: failed by the probe, as before, with no fetch
    of the whole file (the same requests as an unchanged video's probe) and no task."""
    served, handler, urls, out = campaign
    _rewritten(served / "T1.mp4", (served / "T1.mp4").read_bytes() + bytes(8))
    handler.requests.clear()
    summary = _again(urls, out)
    assert summary["status"].tolist() == ["skipped", "failed"] + ["skipped"] * 4
    assert summary["attempts"].tolist() == [0] * 6
    assert "bytes now" in summary["error"].iloc[1]
    assert _requests(handler, "T1") == _requests(handler, "T2")


@pytest.mark.parametrize("campaign", [{"tag": staticmethod(_write_etag)}], indirect=True)
def test_a_url_that_cannot_be_fetched_for_its_check_fails_as_one_that_cannot_be_probed(
    campaign, monkeypatch
):
    """The fetch of a video checked by its bytes breaks off (a connection reset): retried as
    any URL that cannot be fetched, then failed in the words of a URL that cannot be fetched
    beside its complete store (kept, not vouched for); its recorded ETag is left as it was."""
    from ecoseg import _hashing
    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    with MaskStore.open(out / "T1.zarr") as store:
        made = store.provenance["video"]
    _rewritten(served / "T1.mp4")

    def reset(*args, **kwargs):
        raise ConnectionResetError("connection reset by peer")

    monkeypatch.setattr(_hashing, "sha256_file", reset)
    summary = _again(urls, out)
    assert summary["status"].tolist() == ["skipped", "failed"] + ["skipped"] * 4
    assert summary["attempts"].tolist() == [0, 3, 0, 0, 0, 0]
    assert summary["frames"].iloc[1] == 4
    assert summary["error"].iloc[1] == (
        f"{urls[1]}: cannot fetch the video (connection reset by peer); its complete store "
        f"{out / 'T1.zarr'} (4 frames) is kept, but this run cannot check it against the "
        "video at that URL: bring back the video it was made from (or move the store away to "
        "segment this one anew)"
    )
    with MaskStore.open(out / "T1.zarr") as store:
        assert store.provenance["video"] == made


@pytest.mark.parametrize("campaign", [{"tag": staticmethod(_write_etag)}], indirect=True)
def test_a_run_stopped_during_a_check_by_the_bytes_says_so_in_the_summary(campaign, monkeypatch):
    """Ctrl-C while a video is checked by its bytes: its row is failed, 'interrupted' before
    the check (not 'done', as a complete store whose segmentation had not come back reads),
    with the store's frames; the store's ETag is left as it was."""
    import pandas as pd

    from ecoseg import _hashing
    from ecoseg.batch import SUMMARY_FILE
    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    with MaskStore.open(out / "T1.zarr") as store:
        made = store.provenance["video"]
    _rewritten(served / "T1.mp4")

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_hashing, "sha256_file", ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        _again(urls, out)
    summary = pd.read_csv(out / SUMMARY_FILE, keep_default_na=False)
    assert summary["status"].tolist() == ["skipped", "failed"] + ["skipped"] * 4
    assert summary["frames"].tolist() == [4] * 6
    assert summary["error"].iloc[1] == (
        "interrupted: the run was stopped before this video was checked against its store; "
        "run the same command again to check it"
    )
    with MaskStore.open(out / "T1.zarr") as store:
        assert store.provenance["video"] == made


@pytest.mark.parametrize("campaign", [{"tag": staticmethod(_write_etag)}], indirect=True)
def test_a_campaign_whose_only_tasks_check_bytes_starts_no_local_cluster(
    campaign, monkeypatch, capsys
):
    """Every store complete, two URL videos re-tagged (one the same bytes, one other bytes of
    its size): the only tasks stream two videos through SHA-256. With no scheduler given, a
    local Dask cluster (worker processes, seconds of start-up) was started for them; now they
    run on threads here (the cluster factory fails if called) and give the same rows: the
    same bytes skipped with the new ETag recorded, the other bytes failed naming both
    SHA-256s. A video to segment still gets the cluster (connect called)."""
    import distributed

    from ecoseg.store import MaskStore

    served, handler, urls, out = campaign
    with MaskStore.open(out / "T1.zarr") as store:
        made = store.provenance["video"]
    _same_size_other_bytes(served / "T1.mp4")
    _rewritten(served / "T1.mp4")
    _rewritten(served / "T3.mp4")

    def no_cluster(*args, **kwargs):
        raise AssertionError("a local cluster was started")

    monkeypatch.setattr(distributed, "LocalCluster", no_cluster)
    summary = batch(urls, out, engine="classical", progress=True)
    assert summary["status"].tolist() == ["skipped", "failed"] + ["skipped"] * 4
    assert summary["attempts"].tolist() == [0, 1, 0, 1, 0, 0]
    assert summary["error"].iloc[1] == _replaced(
        out, served, _write_etag, made["etag"], made["sha256"]
    )
    err = capsys.readouterr().err
    assert "checked here, no local cluster started" in err and "dashboard" not in err
    with MaskStore.open(out / "T3.zarr") as store:
        assert store.provenance["video"]["etag"] == _write_etag(served / "T3.mp4")

    connected = []

    @contextlib.contextmanager
    def connect(*args, **kwargs):
        connected.append(args)
        with ThreadPoolExecutor(1) as pool:
            yield pool

    monkeypatch.setattr("ecoseg.batch.campaign.connect", connect)
    _rewritten(served / "T4.mp4")
    shutil.rmtree(out / "T5.zarr")  # (a video to segment: the cluster as before)
    again = batch(urls, out, engine="classical", progress=False)
    assert connected == [(None,)]
    assert again["status"].tolist() == ["skipped", "failed"] + ["skipped"] * 3 + ["done"]
    assert again["attempts"].tolist() == [0, 1, 0, 0, 1, 1]
