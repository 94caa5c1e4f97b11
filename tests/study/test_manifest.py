"""ecoseg.study.manifest: fingerprints, the hash cache and the manifest file."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

import ecoseg._hashing as hashing
import ecoseg.study.manifest as manifest_module
from ecoseg.errors import ConfigError
from ecoseg.study.manifest import (
    MANIFEST,
    MANIFEST_VERSION,
    digest,
    file_sha256,
    files_match,
    load_manifest,
    save_manifest,
)


def test_digest_is_independent_of_key_order_and_sees_values():
    assert digest({"a": 1, "b": [1, 2]}) == digest({"b": [1, 2], "a": 1})
    assert digest({"a": 1}) != digest({"a": 2})
    assert len(digest(None)) == 64


def test_large_files_are_cached_by_size_and_mtime_small_ones_rehashed(tmp_path, monkeypatch):
    monkeypatch.setattr(hashing, "SETTLE_NS", 0)  # files written here count as settled
    small = tmp_path / "prompts.json"
    small.write_text('{"a": 1}')
    cache: dict = {}
    first = file_sha256(small, cache)
    assert cache == {}  # small files are always hashed again
    stat = small.stat()
    small.write_text('{"a": 2}')  # same size
    os.utime(small, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # and same mtime
    assert file_sha256(small, cache) != first
    big = tmp_path / "video.mp4"
    big.write_bytes(b"\0" * (8 << 20))
    sha = file_sha256(big, cache)
    assert cache[str(big)]["sha256"] == sha
    cache[str(big)]["sha256"] = "cached"  # a hit is not hashed again
    assert file_sha256(big, cache) == "cached"
    with open(big, "ab") as f:  # a changed size is
        f.write(b"x")
    assert file_sha256(big, cache) not in ("cached", sha)


def test_fresh_or_changing_files_are_not_cached(tmp_path, monkeypatch):
    """The manifest cached a large file's sha256 by its stamp however fresh it was, so a
    same-size rewrite within one timestamp tick (coarse clocks, network filesystems) kept the
    old sha256 and the study skipped a changed video; now it follows the video check's hash
    cache (:func:`ecoseg._hashing.may_cache`): touched in the last 2 s, or changed while it was
    read, it is hashed again next time."""
    big = tmp_path / "video.mp4"
    big.write_bytes(b"\0" * (8 << 20))
    cache: dict = {}
    sha = file_sha256(big, cache)
    assert cache == {}  # just written: not remembered
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "0001.png").write_bytes(b"\1" * (8 << 20))
    file_sha256(frames, cache)
    assert cache == {}

    monkeypatch.setattr(hashing, "SETTLE_NS", 0)  # settled now, but it grows while read
    real = manifest_module.sha256_file

    def grows(path, **kw):  # a copy still being written
        digest = real(path, **kw)
        with open(path, "ab") as f:
            f.write(b"\0")
        return digest

    monkeypatch.setattr(manifest_module, "sha256_file", grows)
    assert file_sha256(big, cache) == sha and cache == {}
    assert file_sha256(frames, cache) and cache == {}
    monkeypatch.setattr(manifest_module, "sha256_file", real)
    assert file_sha256(big, cache) == real(big) != sha  # settled and still: remembered
    assert cache[str(big)]["sha256"] == real(big)


def test_a_video_hashed_for_the_manifest_is_not_read_again_for_its_store(
    tmp_path, monkeypatch, hash_reads
):
    """A study's first run read each new video whole twice: once for the manifest
    (``file_sha256``) and once for the store's provenance (``cached_sha256_file``); the two
    now share the process's hash cache."""
    monkeypatch.setattr(hashing, "SETTLE_NS", 0)
    hashing.forget_hashes()
    big = tmp_path / "video.mp4"
    big.write_bytes(b"\1" * (8 << 20))
    sha = file_sha256(big, {})
    assert hashing.cached_sha256_file(big) == sha == hashlib.sha256(big.read_bytes()).hexdigest()
    assert hash_reads == [str(big)]
    hashing.forget_hashes()


def test_a_folder_is_hashed_by_its_files(tmp_path):
    (tmp_path / "frames").mkdir()
    (tmp_path / "frames" / "0001.png").write_bytes(b"a")
    one = file_sha256(tmp_path / "frames", {})
    (tmp_path / "frames" / "0002.png").write_bytes(b"b")
    assert file_sha256(tmp_path / "frames", {}) != one


def test_manifest_round_trip_and_refusals(tmp_path):
    out = tmp_path / "out"
    manifest = load_manifest(out)  # nothing there yet: a fresh one
    assert manifest == {"version": MANIFEST_VERSION, "videos": {}, "hashes": {}}
    out.mkdir()
    manifest["videos"]["a"] = {"store": "stores/a.zarr"}
    save_manifest(out, manifest)
    assert load_manifest(out) == manifest
    assert not list(out.glob("*.tmp"))
    (out / MANIFEST).write_text(json.dumps({"version": 99}))
    with pytest.raises(ConfigError, match="unknown version"):
        load_manifest(out)
    (out / MANIFEST).write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable study manifest"):
        load_manifest(out)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.docx").write_bytes(b"")
    with pytest.raises(ConfigError, match="not made by `ecoseg study`"):
        load_manifest(foreign)


def test_files_match_needs_every_file_with_its_hash(tmp_path):
    (tmp_path / "a.csv").write_text("x\n1\n")
    sha = file_sha256(tmp_path / "a.csv", {})
    assert files_match(tmp_path, {"a.csv": sha})
    assert not files_match(tmp_path, {})
    assert not files_match(tmp_path, {"a.csv": None})
    assert not files_match(tmp_path, {"a.csv": sha, "b.csv": sha})
    (tmp_path / "a.csv").write_text("x\n2\n")
    assert not files_match(tmp_path, {"a.csv": sha})
