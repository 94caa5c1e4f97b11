"""The cache of large files' sha256 (ecoseg._hashing.cached_digest) as the video check uses it.

The check (``video_mismatch``) reads a video once, then trusts its stamp (size, mtime, ctime,
inode); a changed file changes its stamp and is read again. These tests lower the size floor
(and the settling time) so that small clips are cached, and count the reads.
"""

from __future__ import annotations

import json
import os
import shutil
import time

import numpy as np
import pytest
from PIL import Image

import ecoseg._hashing as hashing
import ecoseg.io.folder as folder
from ecoseg._hashing import sha256_file
from ecoseg.io.video import open_video, video_mismatch
from ecoseg.provenance import VideoSource


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """A cache file of this test's own, every file cached at once; the process memo empty."""
    path = tmp_path / "cache" / "sha256.json"
    monkeypatch.setenv("ECOSEG_HASH_CACHE", str(path))
    monkeypatch.setattr(hashing, "CACHE_MIN_BYTES", 0)
    monkeypatch.setattr(hashing, "SETTLE_NS", 0)
    hashing.forget_hashes()
    yield path
    hashing.forget_hashes()


@pytest.fixture
def video(clip, tmp_path):
    """A copy of the io clip, free to change, and the record of a store made from it."""
    path = shutil.copy(clip, tmp_path / "clip.mp4")
    with open_video(path) as r:
        recorded = VideoSource(
            path=str(path),
            sha256=sha256_file(path),  # not counted
            size=(r.width, r.height),
            frames=len(r),
        )
    return path, recorded


def check(path, recorded):
    with open_video(path) as reader:
        return video_mismatch(reader, recorded)


def rewrite_same_size(path) -> None:
    """Change one byte of the frame data in place (size, frame count and frame size kept)."""
    data = bytearray(open(path, "rb").read())
    at = data.index(b"mdat") + 64
    data[at] ^= 0xFF
    with open(path, "r+b") as f:  # in place: the same inode
        f.write(data)


def test_a_second_check_of_an_unchanged_video_does_not_read_it(cache, hash_reads, video):
    path, recorded = video
    assert check(path, recorded) is None
    assert hash_reads == [str(path)]
    assert check(path, recorded) is None  # the same process: remembered
    hashing.forget_hashes()  # as a new process: from the cache file
    assert check(path, recorded) is None
    assert hash_reads == [str(path)]
    assert cache.is_file()


def test_same_size_new_mtime_is_read_again_and_differs(cache, hash_reads, video):
    path, recorded = video
    assert check(path, recorded) is None
    before = os.stat(path)
    rewrite_same_size(path)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    assert os.stat(path).st_size == before.st_size
    assert check(path, recorded) == "the sha256 differs"
    assert hash_reads == [str(path)] * 2


def test_same_size_with_the_old_mtime_put_back_is_read_again_by_its_ctime(cache, hash_reads, video):
    path, recorded = video
    assert check(path, recorded) is None
    before = os.stat(path)
    rewrite_same_size(path)
    for _ in range(200):  # until the clock's tick moves past the cached ctime
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # sets the ctime to now
        if os.stat(path).st_ctime_ns != before.st_ctime_ns:
            break
        time.sleep(0.01)
    now = os.stat(path)
    assert (now.st_size, now.st_mtime_ns, now.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )
    assert now.st_ctime_ns != before.st_ctime_ns
    assert check(path, recorded) == "the sha256 differs"
    assert len(hash_reads) == 2


def test_another_path_to_the_same_file_shares_the_entry(cache, hash_reads, video, tmp_path):
    path, recorded = video
    os.symlink(path, tmp_path / "link.mp4")
    assert check(path, recorded) is None
    assert check(tmp_path / "link.mp4", recorded) is None
    assert len(hash_reads) == 1


def test_small_or_fresh_files_are_read_every_time(tmp_path, monkeypatch, hash_reads, video):
    monkeypatch.setenv("ECOSEG_HASH_CACHE", str(tmp_path / "sha256.json"))
    hashing.forget_hashes()
    path, recorded = video
    assert os.path.getsize(path) < hashing.CACHE_MIN_BYTES
    monkeypatch.setattr(hashing, "SETTLE_NS", 0)
    check(path, recorded), check(path, recorded)  # small: below the size floor
    assert len(hash_reads) == 2
    monkeypatch.setattr(hashing, "CACHE_MIN_BYTES", 0)
    monkeypatch.setattr(hashing, "SETTLE_NS", 3600 * 10**9)  # touched within the hour: fresh
    check(path, recorded), check(path, recorded)
    assert len(hash_reads) == 4
    assert not (tmp_path / "sha256.json").exists()


def test_files_that_change_while_read_are_not_cached(cache, monkeypatch, video):
    path, recorded = video
    real = hashing.sha256_file

    def grows(p, **kw):  # a copy still being written
        digest = real(p, **kw)
        with open(p, "ab") as f:
            f.write(b"\0")
        return digest

    monkeypatch.setattr(hashing, "sha256_file", grows)
    assert hashing.cached_sha256_file(path) == recorded.sha256
    monkeypatch.setattr(hashing, "sha256_file", real)
    assert hashing.cached_sha256_file(path) == real(path) != recorded.sha256


@pytest.mark.parametrize("content", ["not json {", '{"version": 1, "entries": [1]}', "[]", "7"])
def test_a_corrupt_cache_file_is_ignored_and_replaced(cache, hash_reads, video, content):
    path, recorded = video
    cache.parent.mkdir(parents=True)
    cache.write_text(content)
    assert check(path, recorded) is None
    hashing.forget_hashes()
    assert check(path, recorded) is None
    assert len(hash_reads) == 1
    assert json.loads(cache.read_text())["version"] == 1


def test_wrong_digests_in_the_cache_file_are_ignored(cache, hash_reads, video):
    path, recorded = video
    check(path, recorded)
    data = json.loads(cache.read_text())
    data["entries"] = {k: "short" for k in data["entries"]}
    cache.write_text(json.dumps(data))
    hashing.forget_hashes()
    assert check(path, recorded) is None
    assert len(hash_reads) == 2


def test_an_unwritable_cache_never_fails_a_check(tmp_path, monkeypatch, hash_reads, video):
    monkeypatch.setattr(hashing, "CACHE_MIN_BYTES", 0)
    monkeypatch.setattr(hashing, "SETTLE_NS", 0)
    (tmp_path / "a-file").write_text("")
    path, recorded = video
    for where in (tmp_path / "a-file" / "sha256.json", tmp_path):  # under a file; a folder
        monkeypatch.setenv("ECOSEG_HASH_CACHE", str(where))
        hashing.forget_hashes()
        assert check(path, recorded) is None
        assert check(path, recorded) is None  # still remembered in the process
    assert len(hash_reads) == 2
    left = [p for p in tmp_path.parent.iterdir() if p.name.startswith(tmp_path.name)]
    assert not [p for p in left if p.name.endswith(".tmp")]


def test_set_empty_nothing_is_written(tmp_path, monkeypatch, hash_reads, video):
    monkeypatch.setattr(hashing, "CACHE_MIN_BYTES", 0)
    monkeypatch.setattr(hashing, "SETTLE_NS", 0)
    monkeypatch.setenv("ECOSEG_HASH_CACHE", "")
    monkeypatch.setattr("platformdirs.user_cache_dir", lambda *a, **k: str(tmp_path / "user"))
    hashing.forget_hashes()
    path, recorded = video
    assert check(path, recorded) is None
    assert not (tmp_path / "user").exists()


def test_the_tests_never_use_the_user_cache_dir():
    import platformdirs

    user = os.path.realpath(platformdirs.user_cache_dir("ecoseg"))
    assert not os.path.realpath(hashing.hash_cache_path()).startswith(user)


def test_an_image_folder_is_read_once_and_again_when_an_image_changes(cache, monkeypatch, tmp_path):
    calls = []
    real = folder.images_sha256
    monkeypatch.setattr(folder, "images_sha256", lambda files: calls.append(1) or real(files))
    d = tmp_path / "frames"
    d.mkdir()
    for i in range(3):
        Image.fromarray(np.full((8, 8, 3), 40 * i, np.uint8)).save(d / f"{i}.png")
    with open_video(d) as r:
        recorded = VideoSource(path=str(d), sha256=r.sha256(), size=(8, 8), frames=3)
    assert check(d, recorded) is None
    assert len(calls) == 1
    st = os.stat(d / "1.png")
    Image.fromarray(np.full((8, 8, 3), 41, np.uint8)).save(d / "1.png")
    os.utime(d / "1.png", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert check(d, recorded) == "the sha256 differs"
    assert len(calls) == 2
