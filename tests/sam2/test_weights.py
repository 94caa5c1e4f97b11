"""Checkpoint manifest and cache, offline (downloads come from file:// URLs the tests make)."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from ecoseg import sam2
from ecoseg.errors import CheckpointError, ConfigError
from ecoseg.sam2 import weights
from ecoseg.sam2.variants import VARIANTS

MANIFEST = Path(__file__).parents[2] / "model" / "manifest.json"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(weights.ENV_DIR, str(folder))
    return folder


def test_manifest_covers_every_variant():
    data = json.loads(MANIFEST.read_text())
    entries = {e["variant"]: e for e in data["checkpoints"]}
    assert sorted(entries) == sorted(VARIANTS)
    for name, e in entries.items():
        v = VARIANTS[name]
        assert e["file"] == v.checkpoint_file
        release = "092824" if v.version == "2.1" else "072824"
        assert (
            e["url"] == f"https://dl.fbaipublicfiles.com/segment_anything_2/{release}/{e['file']}"
        )
        # hashes and sizes only where documented: null, or well-formed
        assert e["sha256"] is None or re.fullmatch(r"[0-9a-f]{64}", e["sha256"])
        assert e["size"] is None or (isinstance(e["size"], int) and e["size"] > 0)
    assert weights.manifest() == entries


def test_cache_dir_override_and_paths(cache):
    assert weights.cache_dir() == cache
    assert weights.weights_path("sam2.1-large") == cache / "sam2.1_hiera_large.pt"
    rows = weights.list_weights()
    assert [r["variant"] for r in rows] == list(weights.manifest())
    assert not any(r["cached"] for r in rows)
    with pytest.raises(ConfigError, match="valid names"):
        weights.weights_path("sam2.1-gigantic")


def test_default_cache_dir_is_user_cache(monkeypatch):
    import platformdirs

    monkeypatch.delenv(weights.ENV_DIR, raising=False)
    assert weights.cache_dir() == Path(platformdirs.user_cache_dir("ecoseg")) / "weights"


def _fake_checkpoint(tmp_path) -> Path:
    src = tmp_path / "mirror" / "sam2.1_hiera_tiny.pt"
    src.parent.mkdir()
    src.write_bytes(b"fake checkpoint bytes " * 1000)
    return src


def test_download_records_hash_and_verify(cache, tmp_path):
    src = _fake_checkpoint(tmp_path)
    path = weights.download("sam2.1-tiny", progress=False, url=src.as_uri())
    assert path == cache / "sam2.1_hiera_tiny.pt" and path.read_bytes() == src.read_bytes()
    digest = hashlib.sha256(src.read_bytes()).hexdigest()
    assert (cache / "sam2.1_hiera_tiny.pt.sha256").read_text().split()[0] == digest
    assert weights.verify("sam2.1-tiny") == [
        ("sam2.1-tiny", True, "sha256 matches the hash recorded at download")
    ]
    assert [r["cached"] for r in weights.list_weights()][0] is True
    assert [n for n, _, _ in weights.verify()] == ["sam2.1-tiny"]
    # a damaged file fails verification
    path.write_bytes(b"damaged")
    name, ok, reason = weights.verify("sam2.1-tiny")[0]
    assert not ok and "mismatch" in reason and digest in reason


def test_download_checks_the_manifest_hash(cache, tmp_path, monkeypatch):
    src = _fake_checkpoint(tmp_path)
    good = hashlib.sha256(src.read_bytes()).hexdigest()
    entry = dict(weights._load_manifest()["sam2-tiny"], sha256="0" * 64)
    monkeypatch.setitem(weights._load_manifest(), "sam2-tiny", entry)
    with pytest.raises(CheckpointError, match="sam2-tiny: cannot download sam2_hiera_tiny.pt"):
        weights.download("sam2-tiny", progress=False, url=src.as_uri())
    monkeypatch.setitem(weights._load_manifest(), "sam2-tiny", dict(entry, sha256=good))
    path = weights.download("sam2-tiny", progress=False, url=src.as_uri())
    assert weights.verify("sam2-tiny") == [("sam2-tiny", True, "sha256 matches the manifest")]
    assert path.is_file()


def test_download_failure_is_one_clear_line(cache, tmp_path):
    with pytest.raises(CheckpointError) as err:
        weights.download("sam2-small", progress=False, url=(tmp_path / "nope.pt").as_uri())
    msg = str(err.value)
    assert "--checkpoint PATH" in msg and "\n" not in msg


def test_verify_without_reference_or_file(cache):
    assert weights.verify("sam2-large")[0][:2] == ("sam2-large", False)
    cache.mkdir(parents=True)
    _by_hand(cache / "sam2_hiera_large.pt")
    name, ok, reason = weights.verify("sam2-large")[0]
    assert not ok and "cannot verify" in reason


def test_build_without_cached_weights_says_how_to_get_them(cache):
    with pytest.raises(CheckpointError) as err:
        sam2.build("sam2.1-small", image_size=64, device="cpu")
    msg = str(err.value)
    assert "ecoseg weights download sam2.1-small" in msg and "--checkpoint PATH" in msg
    assert str(cache / "sam2.1_hiera_small.pt") in msg and "\n" not in msg


def test_download_keeps_an_existing_file_unrecorded(cache, tmp_path):
    """A file copied into the cache by hand is not silently blessed by a later download."""
    src = _fake_checkpoint(tmp_path)
    cache.mkdir(parents=True)
    by_hand = _by_hand(cache / "sam2.1_hiera_tiny.pt").read_bytes()
    path = weights.download("sam2.1-tiny", progress=False, url=src.as_uri())
    assert path.read_bytes() == by_hand
    assert not (cache / "sam2.1_hiera_tiny.pt.sha256").exists()
    assert "cannot verify" in weights.verify("sam2.1-tiny")[0][2]


def _by_hand(path: Path) -> Path:
    """A whole torch file copied into the cache by hand (no recorded sha256)."""
    import torch

    torch.save({"model": {"copied": torch.zeros(3)}}, path)
    return path


def _checkpoint_of(variant: str, path: Path) -> Path:
    """A file with ``variant``'s keys and shapes (each tensor one expanded zero: tiny)."""
    import torch

    from ecoseg.sam2.checkpoint import variant_signature

    state = {k: torch.zeros(()).expand(s) for k, s in variant_signature(variant).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"model": state}, path)
    return path


@pytest.fixture
def offline(monkeypatch):
    """No network: every connection fails as without DNS."""
    import socket

    def no_network(address, *args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_network)
    for key in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(key, raising=False)


def test_offline_download_fails_at_once_in_one_line(cache, offline, capfd):
    """Offline, pooch printed "Downloading data from ..." and the line began "could not
    download sam2.1-tiny", suggesting a --checkpoint that `weights download` refused."""
    from ecoseg.cli import main

    assert main(["weights", "download", "sam2.1-tiny"]) == 2
    out, err = capfd.readouterr()
    lines = err.strip().splitlines()
    assert out == "" and len(lines) == 1
    assert lines[0].startswith("ecoseg: error: sam2.1-tiny: cannot download sam2.1_hiera_tiny.pt")
    assert "(no network: cannot reach dl.fbaipublicfiles.com:443" in lines[0]
    assert "`ecoseg weights download sam2.1-tiny --checkpoint PATH`" in lines[0]
    assert not cache.exists()


def test_a_hand_fetched_checkpoint_is_adopted(cache, tmp_path, offline, capsys):
    """`weights download sam2.1-tiny --checkpoint FILE` was refused ("--checkpoint is for SAM 3
    weights"); it copies a checkpoint of that variant into the cache, with its sha256."""
    from ecoseg.cli import main

    src = _checkpoint_of("sam2.1-tiny", tmp_path / "by-hand" / "tiny.pt")
    assert main(["weights", "download", "sam2.1-tiny", "--checkpoint", str(src)]) == 0
    cached = cache / "sam2.1_hiera_tiny.pt"
    assert capsys.readouterr().out.strip() == str(cached)
    assert cached.read_bytes() == src.read_bytes()
    assert weights.verify("sam2.1-tiny")[0][1] is True
    assert weights.download("sam2.1-tiny", checkpoint=src) == cached  # the same file: fine
    import torch

    other = _checkpoint_of("sam2.1-tiny", tmp_path / "other.pt")
    state = torch.load(other, weights_only=True)
    state["model"]["no_obj_ptr"] = torch.ones(()).expand(state["model"]["no_obj_ptr"].shape)
    torch.save(state, other)
    with pytest.raises(CheckpointError, match="already exists"):
        weights.download("sam2.1-tiny", checkpoint=other)
    assert cached.read_bytes() == src.read_bytes()
    assert weights.download("sam2.1-tiny", checkpoint=other, overwrite=True) == cached
    assert cached.read_bytes() == other.read_bytes()


@pytest.mark.parametrize(
    "content, needle",
    [
        ("sam2-large", "does not match sam2.1-tiny: "),
        (b"not a checkpoint", ": not a checkpoint (it holds text"),
    ],
    ids=["other-variant", "not-a-checkpoint"],
)
def test_a_wrong_checkpoint_to_adopt_is_one_line_and_adopts_nothing(
    cache, tmp_path, capsys, content, needle
):
    from ecoseg.cli import main

    src = tmp_path / "wrong.pt"
    if isinstance(content, bytes):
        src.write_bytes(content)
    else:
        _checkpoint_of(content, src)
    assert main(["weights", "download", "sam2.1-tiny", "--checkpoint", str(src)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and str(src) in err[0]
    if not isinstance(content, bytes):
        assert "it looks like a sam2-large checkpoint" in err[0]
        assert err[0].endswith("; nothing was adopted")
    assert not cache.exists() or not any(cache.iterdir())
