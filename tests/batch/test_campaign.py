"""ecoseg.batch: many videos as Dask tasks, one store each, on any fsspec storage; what a
re-run does with the stores an earlier run left; the tables of ``--measure``. What is refused
before any work is in test_campaign_bad_input.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from batch_helpers import GOOD, H, N, W, run_cli, videos_of
from suite_helpers import random_concept_params

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
from ecoseg.errors import ConfigError
from ecoseg.store import MaskStore

distributed = pytest.importorskip("distributed")


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


# --------------------------------------------------------------------------- re-runs, --measure
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


def _batch_of_copies(truths):
    """A stand-in for ``batch()`` whose store of each video is a copy of its truth: every
    store there, as after a first run, without segmenting."""

    def fake_batch(videos, out, **kwargs):
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

    return fake_batch


def test_cli_measure_says_the_tables_it_replaces_held_other_videos(
    clips, tmp_path, capsys, monkeypatch
):
    """Re-running the batch with --measure for one video (the one fixed) replaced the
    campaign's tables of every video by that video's rows, exit 0, nothing said."""
    folder, truths = clips
    out = tmp_path / "out"
    monkeypatch.setattr("ecoseg.batch.batch", _batch_of_copies(truths))
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


def test_cli_truth_dir_says_the_scores_it_replaces_held_other_videos(
    clips, tmp_path, capsys, monkeypatch
):
    """Re-running the batch with --truth-dir for one video replaced the campaign's scores of
    every video by that video's row, exit 0, nothing said (--measure says so of its tables)."""
    folder, truths = clips
    out, truth_dir = tmp_path / "out", tmp_path / "truths"
    for name, truth in truths.items():
        shutil.copytree(truth, truth_dir / f"{name}.zarr")
    monkeypatch.setattr("ecoseg.batch.batch", _batch_of_copies(truths))
    videos = videos_of(folder, GOOD)
    args = ["-o", out, "--truth-dir", truth_dir, "--quiet"]
    code, stdout, _ = run_cli(capsys, "batch", *videos, *args)
    assert code == 0 and "scores: replaced" not in stdout
    code, stdout, _ = run_cli(capsys, "batch", videos[0], *args)
    assert code == 0
    assert (
        "scores: replaced a table that also held 2 video(s) not scored in this run (south, "
        "east); give every video of the campaign to score them all"
    ) in stdout
    assert pd.read_csv(out / "campaign-scores.csv")["video"].tolist() == ["north"]
    code, stdout, _ = run_cli(capsys, "batch", videos[0], *args)
    assert code == 0 and "scores: replaced" not in stdout  # the same videos: nothing to say


def test_fast_reaches_every_video_and_is_recorded(tmp_path, monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: True)  # any machine
    folder = tmp_path / "videos"  # a 3-frame clip: bf16 on a CPU is slow, and one run is enough
    clip = ecoseg.synth(tmp_path / "_north", frames=3, size=(W, H), seed=1)
    folder.mkdir()
    shutil.move(clip.video, folder / "north.mp4")
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


# --------------------------------------------------------------------------- SAM 3 concepts
# random weights score every query about the same: the best few start tracks
CONCEPT_PARAMS = random_concept_params(3)


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
