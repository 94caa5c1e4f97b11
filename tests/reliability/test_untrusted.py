"""Untrusted files run no code: checkpoints, resume snapshots, study files, stores, paths."""

from __future__ import annotations

import hashlib
import io
import pickle
import shutil
import textwrap
from pathlib import Path

import pytest
import torch
import yaml
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg.errors import CheckpointError, ConfigError, StoreError
from ecoseg.store import MaskStore


class Payload:
    """Unpickling this runs code: it writes a marker file."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('pwned')",))


@pytest.fixture(scope="module")
def tiny_state():
    from ecoseg import sam2

    return sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu").state_dict()


def _evil_checkpoints(tmp_path, state, marker):
    """Three ways to ship a code payload in a .pt file."""
    zip_format = tmp_path / "evil-zip.pt"
    torch.save({"model": state, "config": Payload(marker)}, zip_format)
    legacy = tmp_path / "evil-legacy.pt"
    torch.save({"model": Payload(marker)}, legacy, _use_new_zipfile_serialization=False)
    raw = tmp_path / "evil-raw.pth"
    raw.write_bytes(pickle.dumps(Payload(marker)))
    return [zip_format, legacy, raw]


@pytest.mark.bad_input
def test_checkpoint_with_a_code_payload_is_refused(tmp_path, tiny_state):
    from ecoseg import sam2

    marker = tmp_path / "pwned"
    for path in _evil_checkpoints(tmp_path, tiny_state, marker):
        with pytest.raises(CheckpointError) as info:
            sam2.build("sam2.1-tiny", checkpoint=path, image_size=64, device="cpu")
        assert_names(info, str(path), "refused")
        assert not marker.exists(), f"{path.name} ran code"


@pytest.mark.bad_input
def test_cli_refuses_a_checkpoint_with_a_code_payload(
    tmp_path, tiny_state, clip, good_prompts, cli
):
    marker = tmp_path / "pwned"
    path = _evil_checkpoints(tmp_path, tiny_state, marker)[0]
    out = tmp_path / "m.zarr"
    code, _, err = cli(
        "segment",
        clip.video,
        "-o",
        out,
        "--prompts",
        good_prompts,
        "--checkpoint",
        path,
        "--image-size",
        "64",
        "--device",
        "cpu",
    )
    assert_one_line_error(code, err, str(path), "refused")
    assert not marker.exists() and not out.exists()


def test_safetensors_checkpoint_loads(tmp_path, tiny_state):
    from ecoseg import sam2
    from ecoseg.sam2.checkpoint import save_safetensors

    path = save_safetensors(tiny_state, tmp_path / "tiny.safetensors")
    model = sam2.build("sam2.1-tiny", checkpoint=path, image_size=64, device="cpu")
    for key, value in model.state_dict().items():
        assert torch.equal(value, tiny_state[key]), key


@pytest.mark.bad_input
def test_damaged_safetensors_is_a_clear_error(tmp_path, tiny_state):
    from ecoseg.sam2.checkpoint import read_state_dict, save_safetensors

    path = save_safetensors({"a": torch.zeros(4)}, tmp_path / "w.safetensors")
    data = bytearray(path.read_bytes())
    data[0:8] = (10**12).to_bytes(8, "little")  # a header length far past the end
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError) as info:
        read_state_dict(path)
    # read as safetensors, not given to torch.load (whose refusal names the file too)
    assert_names(info, f"{path} is not a readable safetensors file")


@pytest.fixture
def weights_cache(tmp_path, monkeypatch):
    from ecoseg.sam2 import weights

    folder = tmp_path / "cache"
    monkeypatch.setenv(weights.ENV_DIR, str(folder))
    return folder


@pytest.mark.bad_input
def test_download_with_the_wrong_hash_is_refused_and_not_kept(tmp_path, weights_cache, monkeypatch):
    from ecoseg.sam2 import weights

    mirror = tmp_path / "mirror" / "sam2.1_hiera_tiny.pt"
    mirror.parent.mkdir()
    mirror.write_bytes(b"a tampered checkpoint " * 100)
    entry = dict(weights._load_manifest()["sam2.1-tiny"], sha256="0" * 64)
    monkeypatch.setitem(weights._load_manifest(), "sam2.1-tiny", entry)
    with pytest.raises(CheckpointError) as info:
        weights.download("sam2.1-tiny", progress=False, url=mirror.as_uri())
    assert_names(info, "sam2.1-tiny", "hash")
    assert not (weights_cache / "sam2.1_hiera_tiny.pt").exists()


@pytest.mark.bad_input
def test_tampered_cached_weights_fail_verification(tmp_path, weights_cache, cli):
    from ecoseg.sam2 import weights

    mirror = tmp_path / "mirror" / "sam2.1_hiera_tiny.pt"
    mirror.parent.mkdir()
    mirror.write_bytes(b"the checkpoint as published " * 100)
    path = weights.download("sam2.1-tiny", progress=False, url=mirror.as_uri())
    assert cli("weights", "verify", "sam2.1-tiny")[0] == 0
    path.write_bytes(path.read_bytes() + b"appended by someone")
    code, out, _ = cli("weights", "verify", "sam2.1-tiny")
    assert code == 1 and "FAILED" in out and "mismatch" in out


@pytest.mark.bad_input
def test_verify_with_an_empty_weights_cache_says_so(weights_cache, cli):
    """`weights verify` of an empty cache printed nothing: it names the cache and what to run."""
    code, out, _ = cli("weights", "verify")
    assert code == 0
    assert out.strip() == f"no weights in {weights_cache} yet (ecoseg weights download NAME)"


@pytest.mark.bad_input
@pytest.mark.parametrize(
    "args",
    [("weights", "list"), ("weights", "path", "sam2.1-tiny"), ("segment", "{video}", "--auto")],
    ids=["list", "path", "segment"],
)
def test_a_weights_cache_variable_naming_a_file_says_so(args, clip, tmp_path, monkeypatch, cli):
    """``ECOSEG_WEIGHTS_DIR=ckpt.pt`` (the checkpoint, not its folder): `weights list` and
    `path` listed paths inside the file, `segment --auto` said *no weights for sam2.1-tiny in
    the cache (ckpt.pt/sam2.1_hiera_tiny.pt)* and a download failed with ``[Errno 17] File
    exists``."""
    from ecoseg.sam2 import weights

    checkpoint = tmp_path / "ckpt.pt"
    checkpoint.write_bytes(b"a checkpoint")
    monkeypatch.setenv(weights.ENV_DIR, str(checkpoint))
    out = tmp_path / "m.zarr"
    args = [a.format(video=clip.video) for a in args]
    code, _, err = cli(*args, *(["-o", out] if args[0] == "segment" else []))
    assert_one_line_error(
        code, err, f"ECOSEG_WEIGHTS_DIR={checkpoint}: a file, not a folder", "--checkpoint PATH"
    )
    assert checkpoint.read_bytes() == b"a checkpoint"
    assert not out.exists()


@pytest.mark.bad_input
def test_resume_snapshot_with_a_code_payload_is_ignored(tmp_path):
    """A resume state beside a store (e.g. a copied store) is read without unpickling
    code: a payload makes it unusable (the run replays from the start), never runs."""
    from ecoseg.engine.resume import load_resume_state, save_resume_state

    class Snapshot:
        next_frame = 4

        def to_bytes(self):
            buffer = io.BytesIO()
            torch.save({"state": Payload(marker)}, buffer)
            return buffer.getvalue()

    marker = tmp_path / "pwned"
    location = str(tmp_path / "m.zarr.ecoseg-resume.ckpt")
    identity = {"video": {"sha256": "x"}}
    save_resume_state(location, Snapshot(), identity)
    assert load_resume_state(location, identity, max_frame=10) is None
    assert not marker.exists()


YAML_TAGS = [
    "!!python/object/apply:builtins.exec [\"open('{m}', 'w').write('x')\"]",
    '!!python/object/apply:os.system ["touch {m}"]',
    "!!python/name:os.system",
    "!!python/object/new:builtins.exec [\"open('{m}', 'w').write('x')\"]",
    "!!binary aGVsbG8=",
    "!include other.yaml",
]


@pytest.mark.bad_input
@pytest.mark.parametrize("tag", YAML_TAGS, ids=range(len(YAML_TAGS)))
def test_study_yaml_tags_are_refused(tag, tmp_path, clip, cli):
    marker = tmp_path / "pwned"
    shutil.copy(clip.video, tmp_path / "reef.mp4")
    study = tmp_path / "study.yaml"
    value = tag.format(m=marker)
    study.write_text(f"name: {value}\noutput: out\nvideos:\n  - path: reef.mp4\n")
    with pytest.raises(ConfigError) as info:
        _load(study)
    text = assert_names(info, str(study))
    assert "line 1" in text or "name" in text
    code, _, err = cli("study", study, "--check")
    assert_one_line_error(code, err, str(study))
    assert not marker.exists()


def _load(path):
    from ecoseg.study import load_study

    return load_study(path)


@pytest.mark.bad_input
def test_malformed_study_yaml(tmp_path, cli):
    study = tmp_path / "study.yaml"
    study.write_text("videos:\n  - path: a.mp4\n    site: [North\n")
    with pytest.raises(ConfigError) as info:
        _load(study)
    assert_names(info, str(study), "not valid YAML")
    code, _, err = cli("study", study, "--check")
    assert_one_line_error(code, err, str(study), "YAML")


@pytest.mark.bad_input
@pytest.mark.parametrize(
    ("value", "culprit"),
    [
        # YAML reads these as dates it cannot build: a traceback once, then a refusal that
        # named no line: `study.yaml: not a valid date or value (month must be in 1..12)`
        ("date: 2023-13-45", "date: must be a date like 2024-03-12, got '2023-13-45' (month"),
        ("date: 2024-02-30", "got '2024-02-30' (day is out of range for month)"),
        ("date: 2024-03-12 25:00:00", "got '2024-03-12 25:00:00' (hour must be in 0..23)"),
        ("date: 12/03/2024", "date: must be a date like 2024-03-12, got '12/03/2024'"),
        # the same in a text key, and values YAML cannot build (`!!bool maybe` was a KeyError
        # traceback, `!!timestamp soon` an AttributeError one)
        ("notes: 2023-13-45", "'2023-13-45' is not a valid timestamp (month must be in 1..12)"),
        ("depth_m: !!float deep", "'deep' is not a valid float"),
        ("auto: !!bool maybe", "'maybe' is not a valid bool"),
        ("date: !!timestamp soon", "date: must be a date like 2024-03-12, got 'soon'"),
        # a depth above the surface was taken, and shown in the report and the tables
        ("depth_m: -6.5", "videos[0] (a): depth_m: is the depth below the surface in metres"),
    ],
)
def test_impossible_date_in_study_yaml(value, culprit, tmp_path, cli):
    """A bad date (or a value YAML cannot build) is named with its file and line."""
    (tmp_path / "a.mp4").write_bytes(b"")
    study = tmp_path / "study.yaml"
    study.write_text(f"videos:\n  - path: a.mp4\n    {value}\n")
    with pytest.raises(ConfigError) as info:
        _load(study)
    assert_names(info, f"{study}: line 3: ", culprit)
    code, _, err = cli("study", study, "--check")
    assert_one_line_error(code, err, f"{study}: line 3: ", culprit)


ESCAPES = ["../escape", "/etc/cron.d/evil", "a/../../b", "..", ".", "sub/dir", "C:\\evil", ""]


@pytest.mark.bad_input
@pytest.mark.parametrize("name", ESCAPES)
def test_study_video_names_cannot_escape_the_output_folder(name, tmp_path, clip, cli):
    shutil.copy(clip.video, tmp_path / "reef.mp4")
    study = tmp_path / "study.yaml"
    study.write_text(
        textwrap.dedent(
            f"""\
            output: out
            videos:
              - path: reef.mp4
                name: {name!r}
            """
        )
    )
    # the entry's own refusal of the name, not the later check of the store's place (which
    # refused '../escape' and 'sub/dir' too): 'name' alone was in every message, whose path
    # names this test (test_study_video_names_...)
    read = yaml.safe_load(repr(name))  # as YAML reads it: 'C:\\evil' keeps both backslashes
    said = "name: must be a non-empty string" if name == "" else f"name {read!r} would escape"
    with pytest.raises(ConfigError) as info:
        _load(study)
    assert_names(info, str(study), "videos[0]", said)
    code, _, err = cli("study", study)
    assert_one_line_error(code, err, str(study), said)
    assert not (tmp_path / "out").exists()
    assert not (tmp_path / "escape.zarr").exists()


def test_video_paths_outside_the_study_folder_still_write_inside_the_output(tmp_path, clip):
    far = tmp_path / "elsewhere" / "deep"
    far.mkdir(parents=True)
    shutil.copy(clip.video, far / "reef.mp4")
    shutil.copy(clip.video, far / "reef2.mp4")  # one file listed twice is refused
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.yaml").write_text(
        "output: out\nvideos:\n  - path: ../elsewhere/deep/reef.mp4\n"
        f"  - path: {(far / 'reef2.mp4').as_posix()}\n    name: reef-abs\n"
    )
    study = _load(folder / "study.yaml")
    out = (folder / "out").resolve()
    for video in study.videos:
        store = study.store_path(video).resolve()
        assert store.parent == out / "stores", store


def test_store_attributes_are_json_only(tmp_path):
    class Thing:
        pass

    store = MaskStore.create(tmp_path / "m.zarr", height=4, width=4)
    for bad in (Thing(), {1, 2}, b"bytes", float("nan"), {3: "int key"}):
        with pytest.raises(StoreError) as info:
            store.set_provenance(extra=bad)
        assert_names(info, str(tmp_path / "m.zarr"), "provenance")
    with pytest.raises(StoreError):
        MaskStore.create(tmp_path / "n.zarr", height=4, width=4, provenance={"f": Thing()})
    store.close()


def test_reading_and_measuring_a_store_never_unpickles(clip, tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("something was unpickled")

    store = tmp_path / "copy.zarr"
    shutil.copytree(clip.truth, store)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    opened = MaskStore.open(store)
    assert opened.read_labels().max() > 0 and opened.provenance and opened.objects
    tables = ecoseg.measure(store, tmp_path / "tables", calibration=0.5)
    assert len(tables["regions"]) > 0
    from ecoseg.measure import read_table

    assert len(read_table(tmp_path / "tables" / "regions.parquet")) == len(tables["regions"])
    digest = hashlib.sha256((store / "zarr.json").read_bytes()).hexdigest()
    assert len(digest) == 64  # the attributes are a plain JSON document


@pytest.mark.bad_input
def test_an_empty_checkpoint_gives_a_reason(tmp_path, cli):
    """``ecoseg weights download sam2.1-tiny --checkpoint empty.pt`` (a download that wrote
    nothing) said "empty.pt is not a readable checkpoint ()": torch's EOFError has no text."""
    from ecoseg.sam2.checkpoint import read_state_dict

    path = tmp_path / "empty.pt"
    path.write_bytes(b"")
    code, _, err = cli("weights", "download", "sam2.1-tiny", "--checkpoint", path)
    assert_one_line_error(code, err, str(path), "file is empty (0 bytes), not a checkpoint")
    with pytest.raises(CheckpointError, match="file is empty"):
        read_state_dict(path)


@pytest.mark.bad_input
def test_a_text_file_as_checkpoint_says_so(tmp_path, cli):
    """``ecoseg weights download sam2.1-tiny --checkpoint regions.csv`` said "... it is
    corrupt, or loading it would run code ... (Unsupported operand 102)": the unpickler's
    reading of the CSV's first byte ('f'), meaningless to a user."""
    from ecoseg.sam2.checkpoint import read_state_dict

    path = tmp_path / "regions.csv"
    path.write_text("frame,time_s,object_id,area_px\n0,0.0,1,120\n")
    code, _, err = cli("weights", "download", "sam2.1-tiny", "--checkpoint", path)
    assert_one_line_error(code, err, f"{path}: not a checkpoint", "text file?")
    assert "operand" not in err
    with pytest.raises(CheckpointError, match=r"regions\.csv: not a checkpoint \(it holds text"):
        read_state_dict(path)


@pytest.mark.bad_input
@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_a_checkpoint_cut_short_says_so(tmp_path, cli, clip, good_prompts, suffix):
    """A checkpoint whose download or copy stopped half way: ``segment --checkpoint
    half.pt`` said "... (PytorchStreamReader failed reading zip archive: failed finding
    central directory. ... there is a high likelihood that your checkpoint file is)", torch's
    text cut off mid-sentence, and a ``.safetensors`` "(Error while deserializing header:
    incomplete metadata, file not fully covered)"."""
    from ecoseg.sam2.checkpoint import read_state_dict, save_safetensors

    path = tmp_path / f"half{suffix}"
    state = {"a": torch.zeros(4000), "b": torch.ones(4000)}
    if suffix == ".pt":
        torch.save({"model": state}, path)
    else:
        save_safetensors(state, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    out = tmp_path / "m.zarr"
    args = ("segment", clip.video, "-o", out, "--prompts", good_prompts, "--checkpoint", path)
    code, _, err = cli(*args, "--image-size", "64", "--device", "cpu")
    line = assert_one_line_error(code, err, str(path), "the file is cut short", "again")
    assert not out.exists()
    assert "likelihood" not in line and "deserializing" not in line
    with pytest.raises(CheckpointError, match=r"cut short \(\d+ bytes"):
        read_state_dict(path)
