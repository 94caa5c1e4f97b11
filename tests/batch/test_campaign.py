"""ecoseg.batch: many videos as Dask tasks, one store each, on any fsspec storage."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ecoseg
from ecoseg.batch import (
    SUMMARY_COLUMNS,
    SUMMARY_FILE,
    batch,
    campaign_tables,
    redact_text,
    redact_url,
    store_location,
    task_resources,
    video_name,
)
from ecoseg.errors import ConfigError, VideoError
from ecoseg.store import MaskStore

distributed = pytest.importorskip("distributed")

W, H, N = 160, 96, 48  # small enough to be quick, large enough for the tracker to find fish
GOOD = ("north", "south", "east")


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Three synthetic clips and one corrupt one (a truncated mp4) in one folder."""
    folder = tmp_path_factory.mktemp("videos")
    truths = {}
    for seed, name in enumerate(GOOD, start=1):
        clip = ecoseg.synth(folder / f"_{name}", frames=N, size=(W, H), seed=seed)
        shutil.move(clip.video, folder / f"{name}.mp4")
        truths[name] = clip.truth
    data = (folder / "north.mp4").read_bytes()
    (folder / "broken.mp4").write_bytes(data[: len(data) // 5])
    return folder, truths


@pytest.fixture(scope="module")
def serial(clips, tmp_path_factory):
    """What a serial ecoseg.segment of every good clip gives."""
    folder, _ = clips
    out = tmp_path_factory.mktemp("serial")
    refs = {}
    for name in GOOD:
        refs[name] = ecoseg.segment(
            folder / f"{name}.mp4", out=out / f"{name}.zarr", progress=False
        )
    assert any(MaskStore.open(p).read_labels().max() > 0 for p in refs.values())
    return refs


@pytest.fixture(scope="module")
def client():
    """A 2-worker local Dask cluster (threads in this process: quick to start, memory:// works)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as c,
    ):
        yield c


def videos_of(folder: Path, names=(*GOOD, "broken")) -> list[str]:
    return [str(folder / f"{name}.mp4") for name in names]


def assert_same_store(got, ref) -> None:
    a, b = MaskStore.open(got), MaskStore.open(ref)
    assert a.complete and b.complete
    np.testing.assert_array_equal(a.read_labels(), b.read_labels())
    np.testing.assert_array_equal(a.read_time(), b.read_time())
    np.testing.assert_array_equal(a.read_scores(), b.read_scores())
    assert a.objects == b.objects
    assert a.provenance["parameters"] == b.provenance["parameters"]


def mtimes(folder: Path) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


# --------------------------------------------------------------------------- the campaign
def test_batch_equals_serial_reports_the_corrupt_video_and_a_rerun_does_nothing(
    clips, serial, client, tmp_path
):
    folder, _ = clips
    out = tmp_path / "campaign"
    summary = batch(videos_of(folder), out, scheduler=client, retries=1, progress=False)

    assert list(summary.columns) == list(SUMMARY_COLUMNS)
    assert summary["status"].tolist() == ["done", "done", "done", "failed"]
    assert summary["attempts"].tolist() == [1, 1, 1, 1]  # the corrupt one: not retried
    assert summary["frames"].tolist() == [N, N, N, 0]
    for name in GOOD:
        assert_same_store(out / f"{name}.zarr", serial[name])
    broken = summary.iloc[3]
    assert "broken.mp4" in broken["error"] and "not a readable video" in broken["error"]
    assert not (out / "broken.zarr").exists()
    on_disk = pd.read_csv(out / SUMMARY_FILE, keep_default_na=False)
    assert on_disk["status"].tolist() == summary["status"].tolist()
    assert on_disk["error"].iloc[3] == broken["error"] and on_disk["error"].iloc[0] == ""
    assert summary.attrs["summary"] == str(out / SUMMARY_FILE)

    stores_before = {name: mtimes(out / f"{name}.zarr") for name in GOOD}
    again = batch(videos_of(folder), out, scheduler=client, retries=0, progress=False)
    assert again["status"].tolist() == ["skipped", "skipped", "skipped", "failed"]
    assert again["attempts"].tolist() == [0, 0, 0, 1]
    assert again["frames"].tolist() == [N, N, N, 0]
    for name in GOOD:  # nothing in a finished store was touched
        assert mtimes(out / f"{name}.zarr") == stores_before[name]


def test_a_partial_store_is_resumed_to_the_serial_result(clips, serial, client, tmp_path):
    folder, _ = clips
    out = tmp_path / "campaign"

    class Stop(Exception):
        pass

    def stop_after(done, total):
        if done == 30:
            raise Stop

    with pytest.raises(Stop):
        ecoseg.segment(folder / "south.mp4", out=out / "south.zarr", progress=stop_after)
    partial = MaskStore.open(out / "south.zarr")
    assert not partial.complete and 0 < partial.n_frames < N
    summary = batch(videos_of(folder, ["south"]), out, scheduler=client, progress=False)
    assert summary["status"].tolist() == ["done"]
    assert_same_store(out / "south.zarr", serial["south"])


def test_a_store_of_another_video_is_reported_not_skipped(clips, serial, client, tmp_path):
    folder, _ = clips
    out = tmp_path / "campaign"
    shutil.copytree(serial["north"], out / "east.zarr")  # complete, but made from north.mp4
    summary = batch(videos_of(folder, ["east"]), out, scheduler=client, progress=False)
    assert summary["status"].tolist() == ["failed"]
    assert "another video (north.mp4)" in summary["error"].iloc[0]


def test_memory_outputs_and_url_inputs_keep_credentials_out(clips, serial, client, capsys):
    import fsspec

    folder, _ = clips
    fs = fsspec.filesystem("memory")
    token = "sig=SECRET-TOKEN"
    with fs.open(f"/inputs/north.mp4?{token}", "wb") as f:
        f.write((folder / "north.mp4").read_bytes())
    videos = [
        f"memory://inputs/north.mp4?{token}",
        f"memory://inputs/missing.mp4?{token}",
        str(folder / "south.mp4"),
    ]
    out = "memory://campaign-test/out"
    summary = batch(videos, out, scheduler=client, retries=0, progress=True)
    assert summary["status"].tolist() == ["done", "failed", "done"]
    assert summary["video"].iloc[0] == "memory://inputs/north.mp4"
    assert summary["error"].iloc[1] == "memory://inputs/missing.mp4: no such file or directory"
    assert_same_store(store_location(out, "north"), serial["north"])
    assert_same_store(store_location(out, "south"), serial["south"])
    store = MaskStore.open(store_location(out, "north"))
    assert store.provenance["video"]["path"] == "memory://inputs/north.mp4"
    with fs.open("/campaign-test/out/" + SUMMARY_FILE, "r") as f:
        written = f.read()
    err = capsys.readouterr().err
    for text in (written, err, str(store.attrs), summary.to_csv()):
        assert "SECRET" not in text
    assert "ecoseg batch: 2 done, 0 skipped, 1 failed" in err


@pytest.mark.parametrize(
    "url, clean",
    [
        ("s3://AKIAXXX:wJalrXUtn@bucket/campaign", "s3://bucket/campaign"),
        ("https://user:pw@example.org/a.mp4?X-Amz-Signature=abc&t=1", "https://example.org/a.mp4"),
        ("gs://bucket/v.mp4#frag", "gs://bucket/v.mp4"),
        ("/data/videos/a.mp4", "/data/videos/a.mp4"),
        ("memory://x/y.zarr", "memory://x/y.zarr"),
    ],
)
def test_redact_url(url, clean):
    assert redact_url(url) == clean
    assert redact_text(f"{url}: no such store") == f"{clean}: no such store"


def test_names_and_locations():
    assert video_name("a/b/T1.mp4") == "T1"
    assert video_name("https://h/x/T2.MOV?token=1") == "T2"
    assert video_name("frames/T3/") == "T3"
    assert store_location("s3://b/c/", "T1") == "s3://b/c/T1.zarr"
    assert store_location("out", "T1") == os.path.join("out", "T1.zarr")


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, error, text",
    [
        ({"workers": 0}, ConfigError, r"workers \(--workers\) must be a positive whole number"),
        ({"threads": -1}, ConfigError, r"threads \(--threads\) must be a positive whole"),
        ({"retries": -1}, ConfigError, "retries"),
        ({"params": {"no_such": 1}}, ConfigError, "no_such"),
        # the --params JSON text was a ValueError from dict() (dictionary update sequence ...)
        ({"params": '{"threshold": 4}'}, ConfigError, "^params must be a dict of engine settings"),
        ({"params": '{"x": 1}', "concepts": ["fish"]}, ConfigError, "^params must be a dict"),
        ({"engine": "sam2"}, ConfigError, "prompt file for every video"),
        ({"engine": "sam2", "auto": True, "model": "sam9"}, ConfigError, "sam9"),
        ({"fast": True}, ConfigError, "the classical engine has no bf16 path"),
    ],
)
def test_bad_options_fail_before_any_work(clips, tmp_path, kwargs, error, text):
    folder, _ = clips
    with pytest.raises(error, match=text):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_duplicate_names_and_missing_videos_fail_before_any_work(clips, tmp_path):
    folder, _ = clips
    other = tmp_path / "elsewhere"
    other.mkdir()
    shutil.copy(folder / "north.mp4", other / "north.mp4")
    # a copy in another folder: named after its folder now (tests/batch/test_names.py), and
    # refused as the same bytes
    with pytest.raises(ConfigError, match="north.mp4 are the same video"):
        batch([folder / "north.mp4", other / "north.mp4"], tmp_path / "out", progress=False)
    with pytest.raises(VideoError, match="nowhere.mp4: no such file or directory"):
        batch([folder / "north.mp4", tmp_path / "nowhere.mp4"], tmp_path / "out", progress=False)
    with pytest.raises(ConfigError, match="no videos"):
        batch([], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def test_one_video_where_a_list_goes_is_named_before_any_work(clips, tmp_path):
    """``batch("north.mp4", ...)`` from a notebook took the videos 'n', 'o', 'r', ... (a
    ConfigError about two videos named 'h'); one Path or a number was a bare TypeError."""
    folder, _ = clips
    video = str(folder / "north.mp4")
    deep = str(tmp_path / ("campaign-2026-" * 6) / "north.mp4")  # a long path is named too
    for given in (video, Path(video), deep):
        with pytest.raises(ConfigError, match=r"^videos must be a list of videos, got '.*north"):
            batch(given, tmp_path / "out", progress=False)
    with pytest.raises(ConfigError, match="^videos must be a list of videos, got 3$"):
        batch(3, tmp_path / "out", progress=False)
    with pytest.raises(TypeError, match="^batch: each of videos must be a path or URL of a video"):
        batch([video, None], tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()


def run_cli(capsys, *args):
    from ecoseg.cli import main

    capsys.readouterr()
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    "args, culprit",
    [
        (["nowhere.mp4"], "nowhere.mp4: no such file or directory"),
        (["north.mp4", "--workers", "0"], "--workers must be a positive whole number, got 0"),
        (["north.mp4", "--params", "{bad"], "--params: not valid JSON"),
        (["north.mp4", "--params", '{"nope": 1}'], "nope"),
        (["north.mp4", "north.mp4"], "north.mp4 is given twice; give each video once"),
        (
            ["north.mp4", "--engine", "sam2", "--prompts-dir", "./none"],
            "./none: prompts folder not",
        ),
        (["north.mp4", "--prompts-dir", "north.mp4"], "north.mp4: exists and is not a folder"),
        (["north.mp4", "--fast"], "--fast (bf16) is for the networks (sam2 engine, SAM 3"),
        (["north.mp4", "--model", "sam2.1-large"], "--model is for the sam2 engine's network"),
        (["north.mp4", "--auto", "--checkpoint", "w.pt"], "w.pt: checkpoint file not found"),
        (
            ["north.mp4", "--engine", "classical", "--checkpoint", "w.pt"],
            "--checkpoint is for the sam2 engine's network; the classical motion tracker",
        ),
        (["north.mp4", "--concepts", "a", "--checkpoint", "w.pt"], "w.pt: checkpoint file"),
    ],
)
def test_cli_bad_input_is_one_line_and_non_zero(
    clips, tmp_path, capsys, monkeypatch, args, culprit
):
    folder, _ = clips
    monkeypatch.chdir(folder)
    code, out, err = run_cli(capsys, "batch", *args, "-o", tmp_path / "out")
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ecoseg: error: "), err
    assert culprit in lines[0] and "Traceback" not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "args, culprit",
    [
        (["--engine", "sam2", "--auto"], "no weights for sam2.1-tiny in the cache ("),
        (["--concepts", "fish"], "no weights for sam3 in the cache ("),
        (["--concepts", "fish", "--model", "sam3-reduced"], "sam3-reduced has no published"),
        (["--engine", "sam2", "--auto", "--random-weights", "--device", "cuda"], "'cuda': "),
    ],
)
def test_a_local_batch_refuses_what_this_machine_lacks_before_any_work(
    clips, tmp_path, capsys, monkeypatch, args, culprit
):
    """Each video's run failed on it, one by one, after the cluster had started (before
    stop 44 each also three times); the weights cache here is an empty folder."""
    import torch

    if "cuda" in args and torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "no weights"))
    folder, _ = clips
    code, out, err = run_cli(capsys, "batch", folder / "north.mp4", *args, "-o", tmp_path / "o")
    assert code == 2 and "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("ecoseg: error: ") and culprit in lines[0]
    assert not (tmp_path / "o").exists()  # no store, no cluster


def test_cli_batch_on_a_local_process_cluster_with_measure(clips, serial, tmp_path, capsys):
    folder, _ = clips
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        capsys, "batch", *videos_of(folder, ["north", "broken"]), "-o", out, "--workers", "2",
        "--retries", "0", "--measure",
    )  # fmt: skip
    assert code == 1  # one video failed
    assert "dashboard http" in err and "1 done, 0 skipped, 1 failed" in err
    assert "north.mp4: done, 48 frames" in stdout and "broken.mp4: failed" in stdout
    assert_same_store(out / "north.zarr", serial["north"])
    counts = pd.read_csv(out / "campaign-counts.csv")
    expected = ecoseg.measure(serial["north"])["counts"]
    assert counts["count"].tolist() == expected["count"].tolist()
    assert set(counts["video"]) == {"north"}


def test_a_video_replaced_by_another_of_its_name_is_not_skipped(clips, tmp_path):
    """A complete store was skipped on its file name alone: after north.mp4 was replaced by
    another dive's clip (same name, size and length), the batch kept the old masks and
    reported the video 'skipped', so its campaign numbers were the old video's."""
    from concurrent.futures import ThreadPoolExecutor

    folder, _ = clips
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(folder / "north.mp4", videos / "north.mp4")
    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        first = batch([videos / "north.mp4"], out, scheduler=pool, progress=False)
        assert first["status"].tolist() == ["done"]
        again = batch([videos / "north.mp4"], out, scheduler=pool, progress=False)
        assert again["status"].tolist() == ["skipped"]  # the same video: kept
        labels = MaskStore.open(out / "north.zarr").read_labels()
        os.remove(videos / "north.mp4")
        shutil.copy(folder / "south.mp4", videos / "north.mp4")
        replaced = batch([videos / "north.mp4"], out, scheduler=pool, progress=False)
    assert replaced["status"].tolist() == ["failed"]
    # the frames the kept store holds, as for every failed video (was 0: an empty store?)
    assert replaced["frames"].tolist() == [len(labels)]
    error = replaced["error"].iloc[0]
    assert "north.zarr: the store was made from another north.mp4 (the sha256 differs)" in error
    assert np.array_equal(MaskStore.open(out / "north.zarr").read_labels(), labels)  # kept


def test_a_partial_store_of_another_file_or_settings_is_reported_not_run(clips, tmp_path):
    """A killed run's partial store was only compared when it was complete: after north.mp4
    was replaced (or --params changed), each attempt's resume refused it in segment's words
    ('made from another video (north.mp4), not north.mp4 ... pass overwrite=True
    (--overwrite)', an option batch has not), retried twice; now it is reported before any
    task, as a complete store is, and kept."""
    from concurrent.futures import ThreadPoolExecutor

    folder, _ = clips
    videos = tmp_path / "videos"
    videos.mkdir()
    shutil.copy(folder / "north.mp4", videos / "north.mp4")
    out = tmp_path / "out"

    class Stop(Exception):
        pass

    def stop_after(done, total):
        if done == 20:
            raise Stop

    with pytest.raises(Stop):
        ecoseg.segment(
            videos / "north.mp4", out=out / "north.zarr", params={"min_area": 30},
            progress=stop_after,
        )  # fmt: skip
    labels = MaskStore.open(out / "north.zarr").read_labels()
    assert 0 < len(labels) < N
    with ThreadPoolExecutor(1) as pool:
        other = batch([videos / "north.mp4"], out, scheduler=pool, progress=False)
        os.remove(videos / "north.mp4")
        shutil.copy(folder / "south.mp4", videos / "north.mp4")
        replaced = batch(
            [videos / "north.mp4"], out, scheduler=pool, progress=False, params={"min_area": 30}
        )
    assert other["status"].tolist() == ["failed"] and other["attempts"].tolist() == [0]
    assert (
        "north.zarr: the parameters differ from the run that made the store (min_area: 30 in "
        "the store, None now); move the store away"
    ) in other["error"].iloc[0]
    assert replaced["status"].tolist() == ["failed"] and replaced["attempts"].tolist() == [0]
    assert other["frames"].tolist() == replaced["frames"].tolist() == [len(labels)]
    error = replaced["error"].iloc[0]
    assert "north.zarr: the store was made from another north.mp4 (the sha256 differs)" in error
    assert "overwrite" not in error
    assert np.array_equal(MaskStore.open(out / "north.zarr").read_labels(), labels)  # kept


def test_a_rerun_with_other_settings_does_not_skip_the_old_stores(clips, tmp_path):
    """A complete store was skipped whatever the settings: a re-run with another --params (or
    engine) reported 'skipped' and kept masks made with the old settings."""
    from concurrent.futures import ThreadPoolExecutor

    folder, _ = clips
    video, out = folder / "north.mp4", tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        first = batch([video], out, scheduler=pool, progress=False, params={"min_area": 30})
        assert first["status"].tolist() == ["done"]
        # the same settings, a number written another way: kept
        same = batch([video], out, scheduler=pool, progress=False, params={"min_area": 30.0})
        assert same["status"].tolist() == ["skipped"]
        other = batch([video], out, scheduler=pool, progress=False, params={"min_area": 50})
        sam2 = batch([video], out, scheduler=pool, progress=False, auto=True, device="cpu")
    assert other["status"].tolist() == ["failed"]
    assert (
        "north.zarr: the parameters differ from the run that made the store "
        "(min_area: 30 in the store, 50 now); move the store away"
    ) in other["error"].iloc[0]
    assert sam2["status"].tolist() == ["failed"]
    assert "the store was made with the classical engine, not sam2" in sam2["error"].iloc[0]


@pytest.mark.parametrize("good", [["north"], []])
def test_cli_measure_says_the_tables_lack_the_failed_videos(
    clips, tmp_path, capsys, monkeypatch, good
):
    """With a failed video the tables were printed as if they were the campaign's (and with
    every video failed, nothing was said of the tables an earlier run left in OUT)."""
    folder, truths = clips
    out = tmp_path / "out"

    def fake_batch(videos, out, **kwargs):  # north's store made, broken's not
        rows = []
        for video in videos:
            name = video_name(video)
            done = name in good
            if done:
                shutil.copytree(truths[name], store_location(out, name))
            row = dict.fromkeys(SUMMARY_COLUMNS, 0)
            row.update(video=video, store=store_location(out, name), error="" if done else "x")
            rows.append({**row, "status": "done" if done else "failed"})
        summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        summary.attrs["summary"] = f"{out}/{SUMMARY_FILE}"
        return summary

    monkeypatch.setattr("ecoseg.batch.batch", fake_batch)
    broken = str(folder / "broken.mp4")
    videos = [str(folder / f"{n}.mp4") for n in good] + [broken]
    code, stdout, _ = run_cli(capsys, "batch", *videos, "-o", out, "--measure", "--quiet")
    assert code == 1
    if good:
        assert f"tables: INCOMPLETE, without the 1 failed video(s): {broken}" in stdout
        assert "campaign-counts.csv (INCOMPLETE)" in stdout
        assert set(pd.read_csv(out / "campaign-counts.csv")["video"]) == {"north"}
    else:
        assert f"tables: not written, no store of the 1 failed video(s): {broken}" in stdout
        assert "from an earlier run" in stdout and not (out / "campaign-counts.csv").exists()


def test_cli_measure_says_the_tables_it_replaces_held_other_videos(
    clips, tmp_path, capsys, monkeypatch
):
    """Re-running the batch with --measure for one video (the one fixed) replaced the
    campaign's tables of every video by that video's rows, exit 0, nothing said."""
    folder, truths = clips
    out = tmp_path / "out"

    def fake_batch(videos, out, **kwargs):  # every store there, as after a first run
        rows = []
        for video in videos:
            store = store_location(out, video_name(video))
            if not os.path.exists(store):
                shutil.copytree(truths[video_name(video)], store)
            row = dict.fromkeys(SUMMARY_COLUMNS, 0)
            rows.append({**row, "video": video, "store": store, "status": "done", "error": ""})
        summary = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        summary.attrs["summary"] = f"{out}/{SUMMARY_FILE}"
        return summary

    monkeypatch.setattr("ecoseg.batch.batch", fake_batch)
    videos = videos_of(folder, GOOD)
    code, stdout, _ = run_cli(capsys, "batch", *videos, "-o", out, "--measure", "--quiet")
    assert code == 0 and "tables: replaced" not in stdout
    code, stdout, _ = run_cli(capsys, "batch", videos[0], "-o", out, "--measure", "--quiet")
    assert code == 0
    assert (
        "tables: replaced tables that also held 2 video(s) not in this run (south, east); "
        "give every video of the campaign to measure them all"
    ) in stdout
    assert set(pd.read_csv(out / "campaign-counts.csv")["video"]) == {"north"}
    code, stdout, _ = run_cli(capsys, "batch", videos[0], "-o", out, "--measure", "--quiet")
    assert code == 0 and "tables: replaced" not in stdout  # the same videos: nothing to say


def test_fast_reaches_every_video_and_is_recorded(clips, tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: True)  # any machine
    folder, _ = clips
    prompts = tmp_path / "north.json"
    prompts.write_text('{"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[80, 48]]}]}]}')
    options = dict(pretrained=False, image_size=64, device="cpu", progress=False)
    with ThreadPoolExecutor(1) as pool:
        summary = batch(
            videos_of(folder, GOOD[:1]),
            tmp_path / "out",
            scheduler=pool,
            prompts={"north": prompts},
            fast=True,
            **options,
        )
    assert summary["status"].tolist() == ["done"]
    store = MaskStore.open(tmp_path / "out" / "north.zarr")
    assert store.provenance["parameters"] == {"device": "cpu", "fast": True}


def test_a_folder_given_as_a_prompt_file_is_named_a_folder(clips, tmp_path):
    """Old message: "prompt file of 'north' not found" of a folder that exists."""
    folder, _ = clips
    (tmp_path / "north").mkdir()
    what = r"north: is a folder, not a prompt file of 'north' \(JSON\)$"
    with pytest.raises(ConfigError, match=what):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "out", prompts={"north": tmp_path / "north"})
    with pytest.raises(ConfigError, match=r"south\.json: prompt file of 'north' not found$"):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "out", prompts={"north": "south.json"})


def test_prompts_given_as_a_folder_must_be_one(clips, tmp_path):
    """prompts=FOLDER (as --prompts-dir): a file or a missing path is named, before any work."""
    folder, _ = clips
    videos = videos_of(folder, GOOD[:1])
    with pytest.raises(ConfigError, match=r"none: prompts folder not found$"):
        batch(videos, tmp_path / "out", engine="sam2", prompts=tmp_path / "none")
    with pytest.raises(ConfigError, match=r"north\.mp4: exists and is not a folder$"):
        batch(videos, tmp_path / "out", engine="sam2", prompts=videos[0])
    with pytest.raises(ConfigError, match="needs a prompt file for every video; none for 'north'"):
        batch(videos, tmp_path / "out", engine="sam2", prompts=tmp_path)  # (no north.json)


# --------------------------------------------------------------------------- GPU resources
def test_gpu_tasks_declare_a_gpu_resource(clips, tmp_path, client, monkeypatch):
    from distributed import Client, LocalCluster

    assert task_resources("sam2", "cuda") == {"GPU": 1}
    assert task_resources("sam2", "cuda:1") == {"GPU": 1}
    assert task_resources("sam2", "cpu") is None and task_resources("classical", None) is None
    folder, _ = clips
    options = dict(engine="sam2", auto=True, device="cuda", pretrained=False, progress=False)
    # a cluster without GPU workers would never run them: refused before any work
    with pytest.raises(ConfigError, match="--resources GPU=1"):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "a", scheduler=client, **options)
    # a worker offering a GPU gets the task (which fails here: this machine has no CUDA)
    with (
        LocalCluster(
            n_workers=1, processes=False, resources={"GPU": 1}, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as gpu_client,
    ):
        seen = []
        real = gpu_client.submit

        def spy(*args, **kwargs):
            seen.append(kwargs.get("resources"))
            return real(*args, **kwargs)

        monkeypatch.setattr(gpu_client, "submit", spy)
        summary = batch(
            videos_of(folder, GOOD[:1]), tmp_path / "b", scheduler=gpu_client, retries=0, **options
        )
    assert seen == [{"GPU": 1}]
    assert summary["status"].tolist() == ["failed"]
    assert "CUDA" in summary["error"].iloc[0]


# --------------------------------------------------------------------------- dask.array tables
def test_campaign_tables_equal_measure(clips, serial, client, capsys):
    _, truths = clips
    stores = {**{f"truth-{k}": v for k, v in truths.items()}, **serial}
    for scheduler in (None, client):
        capsys.readouterr()
        tables = campaign_tables(stores, scheduler=scheduler, progress=True)
        # a bar a store measured (`ecoseg batch --measure` measured with no sign of life)
        bar = capsys.readouterr().err
        assert "measure" in bar and f"{len(stores)}/{len(stores)}" in bar, bar
        for name, store in stores.items():
            expected = ecoseg.measure(store)
            for table, columns in (
                ("counts", ["frame", "time_s", "class", "count"]),
                ("cover", ["frame", "time_s", "class", "cover_px", "cover_fraction"]),
            ):
                got = tables[table]
                got = got[got["video"] == name][columns].reset_index(drop=True)
                want = expected[table][columns].reset_index(drop=True)
                pd.testing.assert_frame_equal(got, want, check_dtype=False)
    # the truth stores have several classes, so the class mapping is exercised
    assert tables["counts"]["class"].nunique() > 1


# --------------------------------------------------------------------------- study
def test_study_on_a_local_cluster_equals_serial(clips, serial, tmp_path):
    from ecoseg.study import run_study

    folder, _ = clips
    for name in GOOD[:2]:
        shutil.copy(folder / f"{name}.mp4", tmp_path / f"{name}.mp4")
    (tmp_path / "study.yaml").write_text(
        "name: cluster\noutput: out\nvideos:\n  - path: north.mp4\n  - path: south.mp4\n"
    )
    result = run_study(tmp_path / "study.yaml", progress=False, report=False, workers=2)
    assert sorted(result.segmented) == ["north", "south"]
    for name in GOOD[:2]:
        assert_same_store(result.stores[name], serial[name])
    with pytest.raises(ConfigError, match=r"threads \(--threads\) must be"):
        run_study(tmp_path / "study.yaml", progress=False, report=False, threads=0)


def test_video_names_may_contain_spaces(tmp_path):
    from ecoseg.batch import batch

    # the name passes; the (missing) file is the next thing checked
    with pytest.raises(VideoError, match="site 1 dive.mp4: no such file or directory"):
        batch([tmp_path / "site 1 dive.mp4"], tmp_path / "out", progress=False)
    with pytest.raises(ConfigError, match="cannot name a store after it"):
        batch([tmp_path / " lead.mp4"], tmp_path / "out", progress=False)


def test_video_names_in_any_script_and_names_sharing_a_store_folder(tmp_path):
    from ecoseg.batch import batch

    # a French file name passes (NFC, as typed or as macOS lists it); the missing file is next
    with pytest.raises(VideoError, match="cif.mp4: no such file or directory"):
        batch([tmp_path / "Re\u0301cif.mp4"], tmp_path / "out", progress=False)
    # one folder on macOS and Windows: the second video would resume or skip the first's store
    # (in two folders they are named after them: ecoseg.batch.names, tests/batch/test_names.py)
    for pair in (["North.mp4", "north.mp4"], ["Récif.mp4", "Re\u0301cif.mp4"]):
        with pytest.raises(ConfigError, match="two videos would write") as info:
            batch([tmp_path / "a" / pair[0], tmp_path / "a" / pair[1]], tmp_path / "out")
        assert "\n" not in str(info.value) and not (tmp_path / "out").exists()
    assert "one folder on macOS and Windows" in str(
        pytest.raises(ConfigError, batch, ["x/North.mp4", "x/north.mp4"], tmp_path / "o").value
    )


# --------------------------------------------------------------------------- SAM 3 concepts
# random weights score every query about the same: the best few start tracks
CONCEPT_PARAMS = {
    "score_threshold": 0.0,
    "new_track_score": 0.0,
    "max_objects": 3,
    "hotstart_delay": 2,
    "hotstart_unmatched": 2,
    "hotstart_duplicates": 2,
}


@pytest.mark.slow
def test_concept_tracking_per_video_records_its_provenance(tmp_path):
    pytest.importorskip("torch")
    import json
    from concurrent.futures import ThreadPoolExecutor

    import torch

    clip = ecoseg.synth(tmp_path / "c", seed=3, frames=3, size=(96, 64))
    prompts = tmp_path / "reef.json"
    exemplar = {"frame": 1, "box": [10, 10, 40, 30], "label": 1}
    prompts.write_text(json.dumps({"concepts": [{"text": "sea star", "exemplars": [exemplar]}]}))
    shutil.copy(clip.video, tmp_path / "reef.mp4")
    torch.manual_seed(0)
    with ThreadPoolExecutor(1) as pool:
        summary = batch(
            [tmp_path / "reef.mp4"],
            tmp_path / "out",
            scheduler=pool,
            model="sam3-reduced",
            pretrained=False,
            device="cpu",
            concepts=["parrotfish"],
            prompts={"reef": prompts},
            detect_every=2,
            params=CONCEPT_PARAMS,
            progress=False,
        )
    assert summary["status"].tolist() == ["done"] and summary["frames"].tolist() == [3]
    with MaskStore.open(tmp_path / "out" / "reef.zarr") as store:
        prov = store.provenance
        objects = store.objects
    assert prov["engine"] == "sam3-concepts" and prov["model"]["variant"] == "sam3-reduced"
    assert prov["parameters"]["detect_every"] == 2
    assert prov["parameters"]["max_objects"] == 3
    assert prov["prompts"]["concepts"] == [
        {"text": "sea star", "exemplars": [{**exemplar, "box": [10.0, 10.0, 40.0, 30.0]}]},
        {"text": "parrotfish"},
    ]
    assert objects and {o["class_source"] for o in objects} == {"concept"}
    assert {o["class"] for o in objects} <= {"sea star", "parrotfish"}


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"model": "sam3"}, "^north: model sam3 needs concepts: --concepts NAME"),
        ({"concepts": ["a"], "model": "sam2.1-tiny"}, "need a SAM 3 model"),
        ({"concepts": ["a"], "model": "sam3-huge"}, "unknown SAM 3 model 'sam3-huge'; valid names"),
        ({"concepts": ["a"], "model": "sam3", "engine": "sam2"}, "no --engine"),
        ({"concepts": ["a"], "model": "sam3", "detect_every": 0}, "detect_every"),
        ({"concepts": ["a", "a"], "model": "sam3"}, "given twice"),
        ({"concepts": ["Sea urchin", "sea urchin"], "model": "sam3"}, "differ only in case"),
        ({"concepts": ["a"], "model": "sam3", "params": {"bogus": 1}}, "bogus"),
        ({"detect_every": 3}, "detect_every needs concepts"),
        ({"concepts": ["a"], "model": "sam3", "checkpoint": "w.pt"}, "w.pt: checkpoint file"),
        (
            {"auto": True, "checkpoint": "w.pt"},
            "^w.pt: checkpoint file not found; `ecoseg weights download sam2.1-tiny` fetches",
        ),
        ({"device": "cuda"}, "motion tracker runs on the CPU"),  # each video failed
        ({"image_size": 512}, "no network to size"),  # each video failed
        ({"device": "cudda"}, "device must be one of"),
        # SAM 3 sizes went to each video's task (failed, or "cannot be compared" on a store)
        ({"concepts": ["a"], "model": "sam3", "image_size": 500}, "must be a multiple of 14"),
        ({"concepts": ["a"], "model": "sam3", "image_size": 0}, "must be a multiple of 14"),
        ({"concepts": ["a"], "model": "sam3", "image_size": -14}, "must be a multiple of 14"),
        ({"concepts": ["a"], "model": "sam3", "image_size": 4046}, "must be at most 4032"),
        ({"auto": True, "image_size": 500}, "must be a multiple of 32"),  # SAM 2's too
    ],
)
def test_bad_concept_options_fail_before_any_work(clips, tmp_path, kwargs, text):
    pytest.importorskip("torch")
    folder, _ = clips
    with pytest.raises(ConfigError, match=text):
        batch(videos_of(folder, GOOD[:1]), tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_cli_batch_refuses_a_sam3_image_size_in_one_line(clips, tmp_path, capsys):
    """``--image-size 500`` (not a multiple of 14) started every video's task, each failing."""
    folder, _ = clips
    code, out, err = run_cli(
        capsys, "batch", folder / "north.mp4", "-o", tmp_path / "o", "--model", "sam3",
        "--concepts", "fish", "--image-size", "500",
    )  # fmt: skip
    assert code == 2 and not out and len(err.strip().splitlines()) == 1
    assert "--image-size must be a multiple of 14" in err and "got 500" in err
    assert "image_size" not in err  # it said "image_size (--image-size) must be", both
    assert not (tmp_path / "o").exists()


def test_cli_batch_concepts_flags(clips, tmp_path, capsys):
    folder, _ = clips
    code, _, err = run_cli(
        capsys, "batch", folder / "north.mp4", "-o", tmp_path / "o", "--detect-every", "2"
    )
    assert code != 0 and "detect_every needs concepts" in err
    code, _, err = run_cli(
        capsys, "batch", folder / "north.mp4", "-o", tmp_path / "o", "--concepts", "fish",
        "--model", "sam2.1-tiny",
    )  # fmt: skip
    assert code != 0 and "error: --concepts need a SAM 3 model (--model sam3), not" in err
    assert not (tmp_path / "o").exists()
