"""ecoseg.study.checks: what this machine lacks for a study (a device, network weights) is found
by `ecoseg study --check` and by a run before any work, in the study file's words."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

import ecoseg
from ecoseg.cli import main
from ecoseg.errors import CheckpointError, ConfigError, VideoError
from ecoseg.study import load_study, run_study
from ecoseg.study.manifest import MANIFEST

SAM2 = "    prompts: p.json\n    image_size: 64\n"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("clip"), frames=4, size=(64, 48), seed=2)


@pytest.fixture
def folder(tmp_path, clip, monkeypatch):
    """A study folder beside the clip and a prompt file; an empty weights cache; no CUDA."""
    import torch

    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (tmp_path / "v.mp4").write_bytes(clip.video.read_bytes())
    prompts = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[30, 20]]}]}]}
    (tmp_path / "p.json").write_text(json.dumps(prompts))
    return tmp_path


def _study(folder, text: str):
    path = folder / "study.yaml"
    path.write_text("output: out\n" + text)
    return path


def _check(path, capsys) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["study", str(path), "--check"])
    return code, capsys.readouterr().err


NO_WEIGHTS = (
    "no sam2.1-tiny weights in the weights cache ({cache}); download them with `ecoseg "
    "weights download sam2.1-tiny`, or set `checkpoint:` to a checkpoint file"
)


def test_a_run_stops_before_any_work_in_the_words_of_check(folder, capsys):
    """The run made the first video's store, then failed on the second with `--checkpoint
    PATH (checkpoint=PATH in Python)` and no word of which video; `--check` said ok."""
    path = _study(folder, f"videos:\n  - path: v.mp4\n    name: a\n  - path: v.mp4\n{SAM2}")
    cache = folder / "cache" / "sam2.1_hiera_tiny.pt"
    expected = f"{path}: line 5: videos[1] (v): " + NO_WEIGHTS.format(cache=cache)
    code, err = _check(path, capsys)
    assert (code, err) == (2, f"ecoseg: error: {expected}\n")
    with pytest.raises(CheckpointError) as info:
        run_study(path, progress=False)
    assert str(info.value) == expected
    assert not (folder / "out").exists()  # not the first video's store, nor a manifest


def test_a_task_where_a_scheduler_runs_it_names_the_study_key(folder):
    """With a scheduler the videos run on its workers (another machine): nothing is checked
    here, and the task says in the study's words what its machine lacks."""
    path = _study(folder, f"defaults:\n  device: cuda\nvideos:\n  - path: v.mp4\n{SAM2}")
    with ThreadPoolExecutor(1) as pool, pytest.raises(ConfigError) as info:
        run_study(path, progress=False, scheduler=pool, report=False)
    assert str(info.value) == (
        f"{path}: line 3: videos[0] (v): device: 'cuda': CUDA is not available here; set "
        "`device: auto` or `device: cpu`, or run the study on a machine that has it"
    )


@pytest.mark.parametrize("pool", [False, True])
def test_an_error_of_a_run_names_the_videos_entry(folder, pool, monkeypatch):
    """A video that fails while it is segmented was named only by its file path. (One that
    does not open is refused before any work: the check is passed here, as a file damaged
    past its first frame passes it.)"""
    (folder / "broken.mp4").write_bytes((folder / "v.mp4").read_bytes()[:2000])
    monkeypatch.setattr("ecoseg.io.video.probe_video", lambda path: None)
    path = _study(folder, "videos:\n  - path: v.mp4\n  - path: broken.mp4\n    site: North\n")
    with ThreadPoolExecutor(1) as executor, pytest.raises(VideoError) as info:
        run_study(path, progress=False, report=False, scheduler=executor if pool else None)
    text = str(info.value)
    assert text.startswith(f"{path}: line 4: videos[1] (broken): ")
    assert text.count(str(path)) == 1 and f"{folder / 'broken.mp4'}: " in text


@pytest.mark.parametrize(
    "settings",
    [
        f"{SAM2}    pretrained: false\n    device: cpu\n",  # random weights
        f"{SAM2}    checkpoint: w.pt\n",  # a file given: read when the video runs
        "    concepts: [fish]\n    model: sam3-reduced\n    pretrained: false\n",
        "    device: cuda\n    engine: classical\n    image_size: null\n",  # refused by the file
    ],
)
def test_what_needs_no_weights_or_gives_them_passes(folder, capsys, settings):
    (folder / "w.pt").write_bytes(b"read when the video runs")
    path = _study(folder, f"videos:\n  - path: v.mp4\n{settings}")
    code, err = _check(path, capsys)
    if "engine: classical" in settings:  # the motion tracker's GPU: load_study's refusal
        assert code == 2 and "device 'cuda' is for the sam2 and sam3 engines" in err
    else:
        assert (code, err) == (0, "")


def test_weights_in_the_cache_pass(folder, capsys):
    (folder / "cache").mkdir()
    (folder / "cache" / "sam2.1_hiera_tiny.pt").write_bytes(b"")  # found: not read here
    path = _study(folder, f"videos:\n  - path: v.mp4\n{SAM2}")
    assert _check(path, capsys) == (0, "")
    from ecoseg.study.checks import machine_lack

    assert machine_lack(load_study(path).videos[0]) is None


def test_a_finished_video_is_not_checked_again(folder, capsys):
    """A store made on a GPU machine is kept on a laptop (the device is no input of it): the
    device it names need not be there for `--check` nor for the run."""
    cpu = f"{SAM2}    pretrained: false\n    device: cpu\n"
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cpu}")
    run_study(path, progress=False, report=False)
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cpu.replace('cpu', 'cuda')}")
    assert _check(path, capsys) == (0, "")
    assert run_study(path, progress=False, report=False).segmented == []
    manifest = json.loads((folder / "out" / MANIFEST).read_text())
    manifest["videos"]["v"]["segment"]["inputs"]["image_size"] = 32  # inputs changed
    manifest["videos"]["v"]["segment"]["fingerprint"] = "changed"
    (folder / "out" / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match=r"line 7: videos\[0\] \(v\): device: 'cuda': CUDA"):
        run_study(path, progress=False, report=False)  # to segment again: checked first


def test_a_new_video_is_refused_before_any_video_is_hashed(folder, monkeypatch):
    """As ``ecoseg batch`` does: a video with no store is segmented for certain, so the
    machine is checked before the study is planned (each video hashed for its inputs, minutes
    for hours of footage), not once it is; a video with a store only once planned."""
    import ecoseg.study.runner as runner

    cpu = f"{SAM2}    pretrained: false\n    device: cpu\n"
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cpu}")
    run_study(path, progress=False, report=False)
    hashed = []
    inputs = runner.segment_inputs
    monkeypatch.setattr(runner, "segment_inputs", lambda v, *a: hashed.append(v) or inputs(v, *a))
    other = ecoseg.synth(folder / "_w", frames=4, size=(64, 48), seed=3).video
    (folder / "w.mp4").write_bytes(other.read_bytes())
    cuda = cpu.replace("cpu", "cuda")
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cuda}  - path: w.mp4\n{cuda}")
    with pytest.raises(ConfigError, match=r"videos\[1\] \(w\): device: 'cuda': CUDA"):
        run_study(path, progress=False, report=False)
    assert hashed == []


def test_a_store_finished_but_not_yet_recorded_needs_nothing_here(folder):
    """A run stopped after a video's store was finished but before the study's manifest said
    so (a scheduler's task done, then the run interrupted) keeps the store on a re-run (same
    inputs, complete), but this machine's device was checked for it before the plan: the
    study, its tables asked for again on a laptop with no GPU, was refused though nothing
    was to be segmented. A video to segment is still refused before any work."""
    import pandas as pd

    cpu = f"{SAM2}    pretrained: false\n    device: cpu\n"
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cpu}")
    made = run_study(path, progress=False, report=False)
    tables = {t: pd.read_parquet(p) for t, p in made.tables.items()}
    manifest = json.loads((folder / "out" / MANIFEST).read_text())
    manifest["videos"]["v"]["segment"]["done"] = False  # the run stopped right there
    (folder / "out" / MANIFEST).write_text(json.dumps(manifest))
    cuda = cpu.replace("cpu", "cuda")
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cuda}")
    again = run_study(path, progress=False, report=False)
    assert again.segmented == [] and sorted(again.tables) == sorted(tables)
    for name, table in tables.items():
        pd.testing.assert_frame_equal(pd.read_parquet(again.tables[name]), table)
    assert json.loads((folder / "out" / MANIFEST).read_text())["videos"]["v"]["segment"]["done"]

    manifest["videos"]["v"]["segment"]["done"] = False
    (folder / "out" / MANIFEST).write_text(json.dumps(manifest))
    before = (folder / "out" / MANIFEST).read_bytes()
    other = cuda.replace("64", "96")  # the same file segmented at another size: a video to do
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cuda}  - path: v.mp4\n    name: w\n{other}")
    with pytest.raises(ConfigError, match=r"^\S+: line 13: videos\[1\] \(w\): device: 'cuda'"):
        run_study(path, progress=False, report=False)
    assert (folder / "out" / MANIFEST).read_bytes() == before
    assert not load_study(path).store_path(load_study(path).videos[1]).exists()


def test_check_says_what_the_run_does_with_a_store_not_yet_recorded(folder, capsys):
    """`--check` went by the manifest's done flag alone: a store a stopped run had finished
    but not yet recorded, which a real run keeps, was refused for a device this machine
    lacks; and a finished store whose inputs changed, which a run segments again (and so
    refuses), was said ok. Now `--check` keeps and refuses what the run does."""
    cpu = f"{SAM2}    pretrained: false\n    device: cpu\n"
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cpu}")
    run_study(path, progress=False, report=False)
    manifest = json.loads((folder / "out" / MANIFEST).read_text())
    manifest["videos"]["v"]["segment"]["done"] = False  # the run stopped right there
    (folder / "out" / MANIFEST).write_text(json.dumps(manifest))
    path = _study(folder, f"videos:\n  - path: v.mp4\n{cpu.replace('cpu', 'cuda')}")
    assert _check(path, capsys) == (0, "")
    assert run_study(path, progress=False, report=False).segmented == []

    manifest = json.loads((folder / "out" / MANIFEST).read_text())
    manifest["videos"]["v"]["segment"]["fingerprint"] = "changed"  # its inputs changed
    (folder / "out" / MANIFEST).write_text(json.dumps(manifest))
    refused = f"{path}: line 7: videos[0] (v): device: 'cuda': CUDA is not available here"
    code, err = _check(path, capsys)
    assert code == 2 and err.startswith(f"ecoseg: error: {refused}")
    with pytest.raises(ConfigError) as info:
        run_study(path, progress=False, report=False)
    assert str(info.value).startswith(refused)


def test_a_check_with_a_scheduler_leaves_the_machine_to_its_workers(folder, capsys):
    path = _study(folder, f"videos:\n  - path: v.mp4\n{SAM2}")
    capsys.readouterr()
    assert main(["study", str(path), "--check", "--scheduler", "tcp://head:8786"]) == 0
    assert capsys.readouterr().out.startswith(f"{path}: ok, 1 video(s)")


def test_check_names_every_video_that_does_not_open(folder, capsys):
    """`--check` said ok for a cut-off video (an MP4 without its index) and an empty one; a
    serial run segmented the videos before the first of them, then stopped there."""
    whole = (folder / "v.mp4").read_bytes()
    (folder / "cut.mp4").write_bytes(whole[: len(whole) // 2])
    (folder / "empty.mp4").write_bytes(b"")
    text = "videos:\n  - path: v.mp4\n  - path: cut.mp4\n  - path: empty.mp4\n    site: North\n"
    path = _study(folder, text)
    code, err = _check(path, capsys)
    assert code == 2 and err.count("\n") == 1 and "(v)" not in err
    assert err.startswith(
        f"ecoseg: error: {path}: 2 of 3 videos cannot be read (a run starts only once every "
        "video opens): "
        f"line 4: videos[1] (cut): {folder / 'cut.mp4'}: not a readable video (its MP4/MOV "
        "index, the moov box, is missing"
    )
    assert f"; line 5: videos[2] (empty): {folder / 'empty.mp4'}: " in err
    from ecoseg.study.checks import unreadable_videos

    bad = unreadable_videos(load_study(path))
    assert list(bad) == ["cut", "empty"] and bad["cut"].startswith(f"{path}: line 4: ")
    assert not (folder / "out").exists()


@pytest.mark.parametrize("scheduler", [False, True])
def test_a_run_refuses_unreadable_videos_before_any_work(folder, scheduler):
    """A run did not open its videos first: it segmented v (and, on a scheduler, its task
    ran), then stopped at the cut-off video. Now it names every video that does not open, in
    `--check`'s words, before anything is segmented or written; once it opens, the run works."""
    whole = (folder / "v.mp4").read_bytes()
    (folder / "cut.mp4").write_bytes(whole[: len(whole) // 2])
    text = "videos:\n  - path: v.mp4\n  - path: cut.mp4\n"
    path = _study(folder, text)
    with ThreadPoolExecutor(1) as pool, pytest.raises(VideoError) as refused:
        run_study(path, progress=False, report=False, scheduler=pool if scheduler else None)
    assert str(refused.value).startswith(
        f"{path}: 1 of 2 videos cannot be read (a run starts only once every video opens): "
        f"line 4: videos[1] (cut): {folder / 'cut.mp4'}: not a readable video (its MP4/MOV "
    )
    assert "\n" not in str(refused.value) and "(v)" not in str(refused.value)
    assert not (folder / "out").exists()
    (folder / "cut.mp4").write_bytes(whole)
    assert run_study(path, progress=False, report=False).segmented == ["v", "cut"]


def test_check_and_run_refuse_a_store_the_study_did_not_make_in_one_line(folder, capsys):
    """A store at a new video's store path written by a plain `ecoseg segment`: `--check`
    said ok and the run refused it; now both refuse it with the same line."""
    path = _study(folder, "videos:\n  - path: v.mp4\n    name: a\n")
    run_study(path, progress=False, report=False)
    other = ecoseg.synth(folder / "b", frames=4, size=(64, 48), seed=5).video
    path = _study(
        folder, "videos:\n  - path: v.mp4\n    name: a\n  - path: b/video.mp4\n    name: b\n"
    )
    store = folder / "out" / "stores" / "b.zarr"
    assert main(["segment", str(other), "-o", str(store), "--engine", "classical"]) == 0
    code, err = _check(path, capsys)
    capsys.readouterr()
    assert main(["study", str(path), "--no-report"]) == 2
    run_err = capsys.readouterr().err
    said = f"ecoseg: error: {store}: a store exists that this study did not make; move it "
    assert code == 2 and err.startswith(said)
    assert err.strip().splitlines() == run_err.strip().splitlines()[-1:]


def _model(path, units: str) -> None:
    """A species model file of sizes in ``units`` (trained on 1080p frames), of the track
    features of a store of the motion tracker (no network embeddings)."""
    import numpy as np

    from ecoseg.species import SpeciesModel
    from ecoseg.species.features import FEATURE_NAMES, FEATURE_VERSION

    SpeciesModel.fit(
        np.eye(2, len(FEATURE_NAMES)),
        ["a", "b"],
        feature_names=FEATURE_NAMES,
        feature_version=FEATURE_VERSION,
        units=units,
        training=[{"store": "t.zarr", "size": [1920, 1080]}],
    ).save(path, overwrite=True)


def test_check_names_a_store_the_species_model_does_not_fit(folder, capsys):
    """A px-trained species model for a study the study file calibrates in mm: the run refuses
    it for the store (classify's checks), `--check` said ok. Now --check names the store, and
    a model in mm passes; --no-classify leaves the model alone, as the run does."""
    cal = "    engine: classical\n    calibration: 20.0\n    params: {warmup: 2, min_hits: 2}\n"
    path = _study(folder, f"videos:\n  - path: v.mp4\n    name: v\n{cal}")
    assert main(["study", str(path), "--no-report", "--quiet"]) == 0
    _model(folder / "species.json", "px")
    path.write_text(path.read_text() + "    species_model: species.json\n")
    store = folder / "out" / "stores" / "v.zarr"
    before = sorted(p.stat().st_mtime_ns for p in (folder / "out").rglob("*"))
    code, err = _check(path, capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert f"{store}: the model was trained on uncalibrated stores (sizes in px)" in err
    assert sorted(p.stat().st_mtime_ns for p in (folder / "out").rglob("*")) == before
    capsys.readouterr()
    assert main(["study", str(path), "--check", "--no-classify"]) == 0
    _model(folder / "species.json", "mm")
    assert _check(path, capsys) == (0, "")


def test_check_refuses_a_species_model_file_that_is_missing_or_no_model(folder, capsys):
    """In one line naming the file, as the run refuses it (a file that is no model: --check
    said ok, the run refused it once it measured the video)."""
    path = _study(folder, "videos:\n  - path: v.mp4\n    species_model: species.json\n")
    code, err = _check(path, capsys)
    assert code == 2 and err.count("\n") == 1
    assert "line 4: videos[0] (v): species.json: species model file not found" in err
    (folder / "species.json").write_text('{"not": "a model"}')
    code, err = _check(path, capsys)
    assert code == 2 and err.count("\n") == 1
    assert f"{folder / 'species.json'}: not an ecoseg species model" in err, err
