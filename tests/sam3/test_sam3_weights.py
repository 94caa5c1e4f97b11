"""SAM 3 weights: gated hub download (faked offline), hand-fetched files, hashes, CLI."""

from __future__ import annotations

import hashlib
import shutil
from contextlib import nullcontext
from pathlib import Path

import pytest

from ecoseg._cli import cli_words
from ecoseg._paths import exists_message
from ecoseg.cli import main
from ecoseg.errors import CheckpointError
from ecoseg.sam2 import weights as sam2_weights
from ecoseg.sam3 import weights

huggingface_hub = pytest.importorskip("huggingface_hub")


_PROBE = getattr(weights, "_network_problem", None)  # the real check that the hub is reachable


@pytest.fixture(autouse=True)
def _online_without_packages(monkeypatch):
    """The hub reachable (its functions are faked) and no installed package's vocabulary, so
    that no test depends on this machine's network or on open_clip being installed."""
    monkeypatch.setattr(weights, "_network_problem", lambda url, timeout=10.0: None, raising=False)
    monkeypatch.setattr(weights, "VOCABULARY_PACKAGES", (), raising=False)


@pytest.fixture
def offline(monkeypatch):
    """No network: every connection fails as without DNS; the real probe checks it."""
    import socket

    def no_network(address, *args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(weights, "_network_problem", _PROBE, raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    for key in ("https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(sam2_weights.ENV_DIR, str(folder))
    return folder


def _clip_vocabulary(folder: Path) -> Path:
    """A tiny file in the format of CLIP's ``bpe_simple_vocab_16e6.txt.gz`` (one merge)."""
    import gzip

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "bpe_simple_vocab_16e6.txt.gz"
    with gzip.open(path, "wt") as f:
        f.write("header\na b</w>\n")
    return path


def _hub_vocabulary(folder: Path) -> dict[str, bytes]:
    """A tiny ``vocab.json`` + ``merges.txt`` as the hub has them; their bytes by name."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    vocab = {"a": 0, "b</w>": 1, "<|startoftext|>": 2, "<|endoftext|>": 3}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    return {n: (folder / n).read_bytes() for n in ("vocab.json", "merges.txt")}


def _counting_hub(calls: list):
    """``hf_hub_download`` as offline: counted, then failing as the hub does after retries."""

    def download(*, repo_id, filename, local_dir, token=None):
        calls.append(filename)
        raise OSError("cannot find the requested files in the local cache; check your connection")

    return download


def _meta_file(path: Path, value: float) -> bytes:
    """A tiny file in the layout of Meta's sam3.pt (one detector tensor); its bytes."""
    torch = pytest.importorskip("torch")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = "detector.backbone.vision_backbone.trunk.pos_embed"
    torch.save({"model": {key: torch.full((2,), value)}}, path)
    return path.read_bytes()


def _gated(*args, **kwargs):
    """What ``hf_hub_download`` raises for a user who has not accepted the licence."""
    from huggingface_hub.errors import GatedRepoError

    # built without its HTTP response (whose type changes between huggingface_hub versions)
    error = GatedRepoError.__new__(GatedRepoError)
    Exception.__init__(error, f"Access to model {kwargs['repo_id']} is restricted.")
    raise error


def _fake_hub(files: dict[str, bytes], calls: list):
    def download(*, repo_id, filename, local_dir, token=None):
        calls.append((repo_id, filename, token))
        path = Path(local_dir) / filename
        path.write_bytes(files[filename])
        return str(path)

    return download


def test_without_access_says_in_one_line_how_to_get_it(cache, monkeypatch):
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _gated)
    with pytest.raises(CheckpointError) as info:
        weights.download("sam3", progress=False)
    message = str(info.value)
    assert "\n" not in message
    for needle in (
        "https://huggingface.co/facebook/sam3",
        "huggingface-cli login",
        "HF_TOKEN",
        "--checkpoint PATH",
    ):
        assert needle in message
    assert not weights.weights_path("sam3").exists()


def test_cli_without_access_is_one_line(cache, monkeypatch, capsys):
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _gated)
    assert main(["weights", "download", "sam3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ecoseg: error: no access to the gated sam3")


def test_download_uses_the_users_token_and_records_the_sha256(cache, monkeypatch):
    files = {"sam3.pt": b"weights" * 100, "vocab.json": b"{}", "merges.txt": b"#version: 0.2\n"}
    calls = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _fake_hub(files, calls))
    path = weights.download("sam3", token="hf_user_token", progress=False)
    assert path == cache / "sam3" / "sam3.pt" and path.read_bytes() == files["sam3.pt"]
    assert calls == [("facebook/sam3", f, "hf_user_token") for f in files]
    digest = hashlib.sha256(files["sam3.pt"]).hexdigest()
    assert sam2_weights.recorded_sha256(path) == digest
    assert weights.verify("sam3") == [
        ("sam3", True, "sha256 matches the hash recorded at download")
    ]
    calls.clear()
    assert weights.download("sam3", progress=False) == path and calls == []  # cached: no-op
    path.write_bytes(b"tampered")
    ok, reason = weights.verify("sam3")[0][1:]
    assert not ok and "mismatch" in reason


def test_hand_fetched_checkpoint_is_adopted(cache, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _gated)  # no access at all
    by_hand = tmp_path / "downloads" / "sam3.pt"
    meta = _meta_file(by_hand, 1.0)
    _clip_vocabulary(by_hand.parent)
    assert main(["weights", "download", "sam3", "--checkpoint", str(by_hand)]) == 0
    cached = cache / "sam3" / "sam3.pt"
    assert capsys.readouterr().out.strip() == str(cached)
    assert cached.read_bytes() == meta
    assert sam2_weights.recorded_sha256(cached) == hashlib.sha256(meta).hexdigest()
    assert main(["weights", "verify", "sam3"]) == 0
    assert main(["weights", "path", "sam3"]) == 0
    assert capsys.readouterr().out.strip().endswith(str(cached))


def test_offline_download_fails_at_once_in_one_line(cache, offline, monkeypatch, capsys):
    """Offline, the hub was asked five more times with a warning each (25 s), then the line
    began "could not download sam3.pt from facebook/sam3 (An error happened ...)", saying
    nothing of the gating, and left a sam3/ folder of the hub's lock files in the cache."""
    calls = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _counting_hub(calls))
    assert main(["weights", "download", "sam3"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ecoseg: error: sam3: cannot download sam3.pt")
    for needle in (
        "(no network: cannot reach huggingface.co:443: [Errno -2] Name or service not known)",
        "gated",
        "https://huggingface.co/facebook/sam3",
        "huggingface-cli login",
        "HF_TOKEN",
        "--checkpoint PATH",
    ):
        assert needle in err[0]
    assert calls == []  # the hub is never asked
    assert not (cache / "sam3").exists()


def _raises_if(fails: bool):
    """A failed download must raise CheckpointError; a done one must not raise."""
    return pytest.raises(CheckpointError, match="cannot download") if fails else nullcontext()


@pytest.mark.parametrize("fails", [False, True], ids=["done", "failed"])
def test_progress_false_turns_the_hub_bars_off_for_this_download_only(cache, monkeypatch, fails):
    """``download(progress=False)`` turned ``huggingface_hub``'s bars off for the rest of the
    process (a later download, or a model fetched by another library, drew none): now only
    during the download, done or failed; a user's own setting is left as it was."""
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    files = {"sam3.pt": b"weights", "vocab.json": b"{}", "merges.txt": b"#version: 0.2\n"}
    during = []
    fake = _fake_hub(files, [])

    def download(**kwargs):
        during.append(are_progress_bars_disabled())
        if fails:
            raise OSError("connection reset by peer")
        return fake(**kwargs)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    if are_progress_bars_disabled():  # HF_HUB_DISABLE_PROGRESS_BARS=1 when the hub loaded
        pytest.skip("the hub's bars are off by its environment variable")
    try:
        for user_off in (False, True):
            if user_off:
                disable_progress_bars()
            during.clear()
            shutil.rmtree(cache, ignore_errors=True)  # downloaded again, not a cached no-op
            with _raises_if(fails):
                weights.download("sam3", progress=False)
            assert during and all(during)
            assert are_progress_bars_disabled() == user_off
    finally:
        enable_progress_bars()


#: the hub's bar settings a user made (calls of its public API), and the groups they decide
BAR_SETTINGS = {
    "group-off": [("disable", "peft.foo")],
    "off-but-a-group": [("disable", None), ("enable", "peft.bar")],
    "group-off-inside-on": [("disable", "peft"), ("enable", "peft.foo")],
}
BAR_GROUPS = (None, "peft", "peft.foo", "peft.foo.bar", "peft.bar", "huggingface_hub.http_get")


@pytest.mark.parametrize("fails", [False, True], ids=["done", "failed"])
@pytest.mark.parametrize("setting", sorted(BAR_SETTINGS))
def test_progress_false_leaves_every_hub_bar_setting_as_the_user_made_it(
    cache, monkeypatch, setting, fails
):
    """``download(progress=False)`` turned the hub's bars back on with
    ``enable_progress_bars()`` after the download, which clears every group's setting: a
    group the user had turned off (``disable_progress_bars("peft.foo")``) drew bars again.
    Now every setting, global and per group, is as the user made it, the download done or
    failed (no network: the download is faked); during it no bar is drawn."""
    from huggingface_hub.utils import (
        are_progress_bars_disabled,
        disable_progress_bars,
        enable_progress_bars,
    )

    if are_progress_bars_disabled():  # HF_HUB_DISABLE_PROGRESS_BARS=1 when the hub loaded
        pytest.skip("the hub's bars are off by its environment variable")
    files = {"sam3.pt": b"weights", "vocab.json": b"{}", "merges.txt": b"#version: 0.2\n"}
    during = []
    fake = _fake_hub(files, [])

    def download(**kwargs):
        during.append(are_progress_bars_disabled("huggingface_hub.http_get"))
        if fails:
            raise OSError("connection reset by peer")
        return fake(**kwargs)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    try:
        for call, group in BAR_SETTINGS[setting]:
            (disable_progress_bars if call == "disable" else enable_progress_bars)(group)
        made = {g: are_progress_bars_disabled(g) for g in BAR_GROUPS}
        with _raises_if(fails):
            weights.download("sam3", progress=False)
        assert during and all(during)
        assert {g: are_progress_bars_disabled(g) for g in BAR_GROUPS} == made
    finally:
        enable_progress_bars()


@pytest.mark.parametrize("partial", [False, True], ids=["nothing", "partial"])
def test_a_failed_download_leaves_nothing_but_a_partial_file(cache, monkeypatch, partial):
    """A download that failed on the way left the hub's lock files in a new sam3/ folder; a
    partial download is kept (the next run resumes it)."""

    def failing(*, repo_id, filename, local_dir, token=None):
        work = Path(local_dir) / ".cache" / "huggingface" / "download"
        work.mkdir(parents=True, exist_ok=True)
        (work / f"{filename}.lock").write_text("")
        if partial:
            (work / f"{filename}.incomplete").write_bytes(b"half")
        raise OSError("connection reset by peer")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", failing)
    with pytest.raises(CheckpointError) as info:
        weights.download("sam3", progress=False)
    assert str(info.value).startswith("sam3: cannot download sam3.pt (connection reset by peer)")
    assert (cache / "sam3").exists() == partial


def test_network_check_honours_hf_hub_offline_and_the_proxy(monkeypatch):
    """One connection tells an unreachable hub; through the proxy where one is set."""
    import socket

    tried = []

    def connect(address, timeout=None):
        tried.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    monkeypatch.setattr(socket, "create_connection", connect)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert _PROBE("https://huggingface.co") == "HF_HUB_OFFLINE is set" and tried == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    for key in ("https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(key, raising=False)
    assert _PROBE("https://huggingface.co") == (
        "cannot reach huggingface.co:443: [Errno 111] Connection refused"
    )
    monkeypatch.setenv("https_proxy", "http://proxy.example:3128")
    assert _PROBE("https://huggingface.co").startswith("cannot reach proxy.example:3128")
    assert tried == [("huggingface.co", 443), ("proxy.example", 3128)]


def test_adopting_offline_takes_the_vocabulary_beside_the_file(
    cache, tmp_path, offline, monkeypatch
):
    """Offline, the hub was asked five times for vocab.json, then the checkpoint was adopted
    without a vocabulary (exit 0), so concept prompts failed later."""
    calls = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _counting_hub(calls))
    by_hand = tmp_path / "downloads" / "sam3.pt"
    _meta_file(by_hand, 1.0)
    files = _hub_vocabulary(by_hand.parent)
    assert main(["weights", "download", "sam3", "--checkpoint", str(by_hand)]) == 0
    assert calls == []
    for name, content in files.items():
        assert (cache / "sam3" / name).read_bytes() == content
    assert weights.load_tokenizer("sam3").encode("ab") == [0, 1]


def test_adopting_takes_the_vocabulary_an_installed_package_ships(
    cache, tmp_path, offline, monkeypatch
):
    """Meta's sam3 and open_clip ship CLIP's vocabulary: found there, never imported."""
    calls = []
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _counting_hub(calls))
    site = tmp_path / "site"
    package = site / "ecoseg_test_clip"
    shipped = _clip_vocabulary(package / "assets")
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(weights, "VOCABULARY_PACKAGES", ("ecoseg_no_such_package", package.name))
    by_hand = tmp_path / "sam3.pt"
    _meta_file(by_hand, 1.0)
    assert weights.download("sam3", checkpoint=by_hand, progress=False).is_file()
    assert (cache / "sam3" / shipped.name).read_bytes() == shipped.read_bytes()
    assert calls == [] and weights.load_tokenizer("sam3").encode("ab") == [512]


def test_adopting_without_access_to_the_vocabulary_adopts_nothing(cache, tmp_path, monkeypatch):
    """With the network but no access to the gated repository, the checkpoint was adopted
    without a vocabulary."""
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _gated)
    by_hand = tmp_path / "sam3.pt"
    _meta_file(by_hand, 1.0)
    with pytest.raises(CheckpointError) as info:
        weights.download("sam3", checkpoint=by_hand, progress=False)
    message = str(info.value)
    assert message.startswith(f"{by_hand}: no tokenizer vocabulary next to it or installed")
    assert "(no access to the gated repository)" in message and "nothing was adopted" in message
    assert not (cache / "sam3").exists()


@pytest.mark.parametrize(
    ("given", "culprit"),
    [
        ("downloads", "downloads: is a folder, not a checkpoint file"),
        ("nope.pt", "nope.pt: checkpoint file not found"),
    ],
    ids=["folder", "missing"],
)
def test_a_checkpoint_to_adopt_that_is_no_file_is_one_line_naming_it(
    cache, tmp_path, monkeypatch, capsys, given, culprit
):
    """A folder was 'checkpoint file not found: downloads', the path last, of a path that
    exists."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "downloads").mkdir()
    assert main(["weights", "download", "sam3", "--checkpoint", given]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ecoseg: error: {culprit}"]
    assert not (cache / "sam3" / "sam3.pt").exists()


def test_adopting_another_checkpoint_keeps_the_cached_one_without_overwrite(
    cache, tmp_path, monkeypatch, capsys
):
    """A second hand-fetched file silently replaced the cached checkpoint."""
    monkeypatch.setattr(huggingface_hub, "hf_hub_download", _gated)
    first, second = tmp_path / "first.pt", tmp_path / "second.pt"
    meta, other = _meta_file(first, 1.0), _meta_file(second, 2.0)
    _clip_vocabulary(tmp_path)
    cached = cache / "sam3" / "sam3.pt"
    assert main(["weights", "download", "sam3", "--checkpoint", str(first)]) == 0
    assert main(["weights", "download", "sam3", "--checkpoint", str(first)]) == 0  # the same
    capsys.readouterr()
    assert main(["weights", "download", "sam3", "--checkpoint", str(second)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"ecoseg: error: {cli_words(exists_message(cached))}"]
    assert cached.read_bytes() == meta and main(["weights", "verify", "sam3"]) == 0
    args = ["weights", "download", "sam3", "--checkpoint", str(second), "--overwrite"]
    assert main(args) == 0
    assert cached.read_bytes() == other and main(["weights", "verify", "sam3"]) == 0


@pytest.mark.parametrize("name", ["sam3", "sam2.1-tiny"])
def test_overwrite_without_a_checkpoint_is_refused_not_ignored(cache, capsys, name):
    """--overwrite without --checkpoint did nothing: a cached file was kept as it was."""
    assert main(["weights", "download", name, "--overwrite"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("ecoseg: error: --overwrite is for --checkpoint")


def test_list_shows_sam3_next_to_sam2(cache, capsys):
    assert main(["weights", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("sam3 ") for line in lines)
    assert any(line.startswith("sam2.1-tiny ") for line in lines)


def test_build_without_cached_weights_names_the_way_to_get_them(cache):
    from ecoseg import sam3

    with pytest.raises(CheckpointError, match="ecoseg weights download sam3"):
        sam3.build("sam3", device="cpu")
    with pytest.raises(CheckpointError, match="no published weights"):
        sam3.build("sam3-reduced", device="cpu")


def test_a_wrong_checkpoint_is_one_line_naming_the_file_and_the_way_to_the_weights(tmp_path):
    """A text file passed as checkpoint crashed in torch's safe unpickler (KeyError traceback);
    a torch file of other weights was refused without naming the file. Both now name it and
    say how to get SAM 3's weights."""
    import torch

    from ecoseg import sam3

    junk = tmp_path / "junk.pt"
    junk.write_text("junk\n")  # torch.load raised KeyError on this one: now found to be text
    other = tmp_path / "other.pt"
    torch.save({"a": torch.zeros(2)}, other)
    for path, why in ((junk, "not a checkpoint (it holds text"), (other, "not a SAM 3 checkpoint")):
        with pytest.raises(CheckpointError) as info:
            sam3.build("sam3-reduced", checkpoint=path, device="cpu")
        text = str(info.value)
        assert str(path) in text and why in text and "\n" not in text
        assert "ecoseg weights download sam3" in text
    from ecoseg.sam2.checkpoint import read_state_dict

    with pytest.raises(CheckpointError, match="junk.pt: not a checkpoint") as info:
        read_state_dict(junk)  # the SAM 2 loader shares the reader
    # what the file is, not the unpickler's text (it said 'KeyError 174812789')
    assert str(info.value).endswith("(it holds text: a CSV, JSON or other text file?)")


def test_cached_weights_without_their_vocabulary_are_missing(cache):
    """sam3.pt cached without vocab.json + merges.txt counted as present: a study's --check,
    a campaign's check and the run itself went ahead, and SAM 3 was loaded before the
    tokenizer was found missing."""
    _meta_file(cache / "sam3" / "sam3.pt", 1.0)
    missing = weights.missing_weights("sam3")
    assert missing is not None and missing.path == cache / "sam3" / "vocab.json"
    with pytest.raises(CheckpointError) as info:
        weights.cached_weights("sam3")
    message = str(info.value)
    assert f"{cache / 'sam3' / 'vocab.json'} is missing" in message and "\n" not in message
    assert "`ecoseg weights download sam3`" in message and "bpe_simple_vocab" in message
    _hub_vocabulary(cache / "sam3")
    assert weights.missing_weights("sam3") is None
    assert weights.cached_weights("sam3") == cache / "sam3" / "sam3.pt"


def test_an_unreadable_cached_vocabulary_is_named_before_the_checkpoint_is_read(cache, monkeypatch):
    """A vocab.json cut short was passed over in silence (the model had no tokenizer), after
    the checkpoint had been read."""
    import ecoseg.sam3.model
    from ecoseg import sam3

    def refuse(*args, **kwargs):
        raise AssertionError("SAM 3 was built before its vocabulary was read")

    monkeypatch.setattr(ecoseg.sam3.model, "SAM3Model", refuse)
    _meta_file(cache / "sam3" / "sam3.pt", 1.0)
    _hub_vocabulary(cache / "sam3")
    (cache / "sam3" / "vocab.json").write_text('{"a": 0, "b</w', encoding="utf-8")
    with pytest.raises(CheckpointError) as info:
        sam3.build("sam3", device="cpu")
    message = str(info.value)
    assert message.startswith(f"{cache / 'sam3' / 'vocab.json'}: not a usable tokenizer")
    assert message.endswith("delete it and run `ecoseg weights download sam3`")
    assert "\n" not in message
