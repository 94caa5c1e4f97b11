"""ecoseg.batch.jobs: the one segmentation task and store check used by batch and study."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ecoseg
from ecoseg.batch.jobs import Job, run_job, store_status
from ecoseg.errors import EcosegError, StoreError, VideoError
from ecoseg.store import ATTRS_KEY, MaskStore

FAST = {"warmup": 5, "min_hits": 2}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("clip"), seed=5, frames=12, size=(96, 64))


def _job(clip, store, **kwargs) -> Job:
    options = {"engine": "classical", "params": FAST, "progress": False}
    return Job("clip", str(clip.video), str(store), options, **kwargs)


def test_store_status_missing_partial_complete(clip, tmp_path):
    assert store_status(tmp_path / "none.zarr").state == "missing"
    store = tmp_path / "clip.zarr"
    result = run_job(_job(clip, store))
    assert result["status"] == "done" and result["frames"] == 12
    status = store_status(store)
    assert status.complete and status.frames == 12 and status.video == "video.mp4"
    meta_path = store / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"][ATTRS_KEY]["complete"] = False
    meta["attributes"][ATTRS_KEY]["frames_written"] = 4
    meta_path.write_text(json.dumps(meta))
    assert (store_status(store).state, store_status(store).frames) == ("partial", 4)
    (tmp_path / "junk.zarr").mkdir()
    (tmp_path / "junk.zarr" / "zarr.json").write_text("{}")
    with pytest.raises(StoreError):
        store_status(tmp_path / "junk.zarr")


def test_resume_continues_a_partial_store_and_skips_a_complete_one(clip, tmp_path):
    ref = tmp_path / "ref.zarr"
    run_job(_job(clip, ref))
    store = tmp_path / "clip.zarr"
    run_job(_job(clip, store))
    meta_path = store / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"][ATTRS_KEY]["complete"] = False
    meta["attributes"][ATTRS_KEY]["frames_written"] = 4
    meta_path.write_text(json.dumps(meta))
    assert run_job(_job(clip, store))["status"] == "done"
    np.testing.assert_array_equal(
        MaskStore.open(store).read_labels(), MaskStore.open(ref).read_labels()
    )
    again = run_job(_job(clip, store))
    assert again == {"status": "skipped", "frames": 12, "seconds": 0.0, "warnings": []}


def test_a_fresh_job_needs_overwrite_to_replace_a_store(clip, tmp_path):
    store = tmp_path / "clip.zarr"
    run_job(_job(clip, store))
    with pytest.raises(EcosegError, match="exists"):
        run_job(_job(clip, store, resume=False))
    changed = Job(
        "clip",
        str(clip.video),
        str(store),
        {"engine": "classical", "params": {**FAST, "min_hits": 3}, "progress": False},
        resume=False,
        overwrite=True,
    )
    assert run_job(changed)["status"] == "done"
    assert MaskStore.open(store).provenance["parameters"]["min_hits"] == 3


def test_errors_and_repr_carry_no_credentials(tmp_path):
    url = "memory://KEY:SECRET@bucket/missing.mp4?token=abc"
    job = Job("missing", url, str(tmp_path / "missing.zarr"), {"engine": "classical"})
    assert "SECRET" not in repr(job) and "token" not in repr(job)
    with pytest.raises(VideoError) as info:
        run_job(job)
    assert "SECRET" not in str(info.value) and "missing.mp4" in str(info.value)


def test_probe_url_says_why_a_url_cannot_be_fetched_in_one_line():
    """probe_url (the check of a URL video beside its finished store) reads the first bytes;
    fsspec's http says 'not found' for a host that does not answer, so the cause is named."""
    import fsspec

    from ecoseg.batch.jobs import probe_url

    fs = fsspec.filesystem("memory")
    fs.pipe("/s50-probe/T1.mp4", b"\x00\x00\x00\x18ftypisom" + bytes(64))
    fs.pipe("/s50-probe/empty.mp4", b"")
    try:
        probe_url("memory://s50-probe/T1.mp4")
        with pytest.raises(VideoError) as gone:
            probe_url("memory://s50-probe/T2.mp4?sig=SECRET")
        with pytest.raises(VideoError) as empty:
            probe_url("memory://s50-probe/empty.mp4")
    finally:
        fs.rm("/s50-probe", recursive=True)
    assert str(gone.value) == "memory://s50-probe/T2.mp4: no such file or directory"
    assert str(empty.value) == "memory://s50-probe/empty.mp4: empty file (0 bytes), not a video"
    with pytest.raises(VideoError) as refused:  # (port 1 of this machine: nothing listens)
        probe_url("http://user:pw@127.0.0.1:1/T1.mp4?sig=SECRET")
    text = str(refused.value)
    assert text.startswith("http://127.0.0.1:1/T1.mp4: cannot fetch the video (Cannot connect")
    assert "SECRET" not in text and "pw" not in text and "\n" not in text


@pytest.mark.parametrize(
    "info, etag",
    [
        ({"ETag": '"5d41"', "LastModified": "2026-01-01", "VersionId": "v2"}, '"5d41"'),  # S3
        ({"md5Hash": "XrY7u+Ae==", "etag": "CKih16E=", "generation": "17"}, "XrY7u+Ae=="),  # GCS
        ({"etag": "CKih16E=", "generation": "17"}, "CKih16E="),  # GCS, a composite object
        ({"etag": '"0x8D4BCC2E4835CD0"', "last_modified": "2026-01-01"}, '"0x8D4BCC2E4835CD0"'),
        ({"Last-Modified": "Sun, 06 Dec 2026 10:00:00 GMT"}, None),  # (a time: not taken)
    ],
)
def test_probe_url_takes_the_etag_of_each_storage_not_its_times(monkeypatch, info, etag):
    """The ETag a probe gives (and a store records) is read from fsspec's info() as each
    storage's library names it: S3's 'ETag', GCS's 'md5Hash' (the MD5 of the bytes) before
    its 'etag', Azure's 'etag'; times and upload counters, which change when the same bytes are
    uploaded again, are not taken."""
    import fsspec
    from fsspec.implementations.memory import MemoryFileSystem

    from ecoseg.batch.jobs import UrlVersion, probe_url

    plain = MemoryFileSystem.info
    monkeypatch.setattr(
        MemoryFileSystem, "info", lambda fs, path, **kw: {**plain(fs, path), **info}
    )
    fs = fsspec.filesystem("memory")
    fs.pipe("/s52-etag/T1.mp4", b"\x00\x00\x00\x18ftypisom" + bytes(64))
    try:
        assert probe_url("memory://s52-etag/T1.mp4") == UrlVersion(76, etag)
    finally:
        fs.rm("/s52-etag", recursive=True)


def test_a_bug_in_fetching_a_url_is_raised_as_it_is_not_as_a_video_error(monkeypatch):
    """Fetching a URL caught every Exception (to catch aiohttp's and botocore's errors), so a
    programming error (a TypeError) came out as a one-line VideoError 'cannot fetch the
    video', retried and reported as the URL's fault. Now only the storage's and client
    libraries' errors are (OSError, ValueError, ImportError, aiohttp's ClientError, botocore's
    BotoCoreError and ClientError); a bug is raised as it is, by the probe and the fetch."""
    import aiohttp
    import botocore.exceptions
    import fsspec

    from ecoseg.batch.jobs import probe_url

    url = "https://user:pw@example.org/v/T1.mp4?sig=SECRET"
    raised: list[BaseException] = []

    def failing(*args, **kwargs):
        raise raised[-1]

    monkeypatch.setattr(fsspec, "open", failing)
    raised.append(TypeError("open() got an unexpected keyword argument 'blocksize'"))
    with pytest.raises(TypeError, match="unexpected keyword"):
        probe_url(url)
    job = Job("T1", url, "unused.zarr", {"engine": "classical", "progress": False})
    with pytest.raises(TypeError, match="unexpected keyword"):
        run_job(job)  # (where a batch task fetches the video)
    for error, why in (
        (aiohttp.ClientPayloadError("Response payload is not completed"), "Response payload"),
        (botocore.exceptions.EndpointConnectionError(endpoint_url=url), "Could not connect"),
        (TimeoutError(), "TimeoutError"),
    ):
        raised.append(error)
        with pytest.raises(VideoError) as refused:
            probe_url(url)
        text = str(refused.value)
        assert text.startswith(f"https://example.org/v/T1.mp4: cannot fetch the video ({why}")
        assert "SECRET" not in text and "pw@" not in text and "\n" not in text
