"""ecoseg.batch.names: store names of a campaign whose sites reuse file names (GoPro's
GX010001.MP4 in every site folder), unique and the same on every run."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import ecoseg
from ecoseg.batch import batch, store_status
from ecoseg.batch.names import check_names, store_names
from ecoseg.errors import ConfigError


@pytest.fixture(scope="module")
def gopro(tmp_path_factory):
    """A GoPro-style campaign: GX010001.MP4 in two site folders (other footage), one more
    clip in the first."""
    field = tmp_path_factory.mktemp("field")
    for seed, rel in enumerate(
        ("site-a/GX010001.MP4", "site-b/GX010001.MP4", "site-a/GX010002.MP4"), start=1
    ):
        clip = ecoseg.synth(field / f"_{seed}", frames=4, size=(64, 48), seed=seed)
        (field / rel).parent.mkdir(exist_ok=True)
        shutil.move(clip.video, field / rel)
    return field


def run(videos, out, capsys=None):
    with ThreadPoolExecutor(1) as pool:
        return batch([str(v) for v in videos], out, scheduler=pool, progress=capsys is not None)


def test_names_of_videos_sharing_a_file_name_are_their_paths_from_the_shared_folder():
    assert check_names(["f/site-a/GX010001.MP4", "f/site-b/GX010001.MP4", "f/a/T1.mp4"]) == [
        "site-a__GX010001",
        "site-b__GX010001",
        "T1",
    ]
    # below the deepest folder they share, however deep they differ; case twins too
    assert check_names(["f/2024-03/a/GX1.MP4", "f/2024-04/a/gx1.mp4", "f/2024-04/b/GX1.MP4"]) == [
        "2024-03__a__GX1",
        "2024-04__a__gx1",
        "2024-04__b__GX1",
    ]
    assert check_names(["s3://b/site-a/GX.MP4", "s3://b/site-b/GX.MP4"]) == [
        "site-a__GX",
        "site-b__GX",
    ]


@pytest.mark.parametrize(
    ("videos", "message"),
    [
        (["a/T1.mp4", "a/T1.mp4"], "a/T1.mp4 is given twice; give each video once"),
        (["a/North.mp4", "a/north.mp4"], "stores North.zarr and north.zarr, one folder on macOS"),
        (["a/T1.mp4", "b/T1.mp4", "a__T1.mp4"], "would write the same store a__T1.zarr"),
        (["s#1/T1.mp4", "s2/T1.mp4"], "named after its folders, but 's#1' cannot be part of"),
    ],
)
def test_names_that_would_still_share_a_store_are_refused(videos, message, tmp_path):
    with pytest.raises(ConfigError, match=message) as info:
        batch([str(tmp_path / v) for v in videos], tmp_path / "out", progress=False)
    assert "\n" not in str(info.value) and not (tmp_path / "out").exists()


def test_a_campaign_with_a_file_name_in_every_site_runs_and_keeps_its_names(
    gopro, tmp_path, capsys
):
    """`ecoseg batch field/**/*.MP4` refused 'two videos would write the same store
    GX010001.zarr ... rename one of them': every GoPro campaign with more than one site."""
    a, b, a2 = (
        gopro / "site-a/GX010001.MP4",
        gopro / "site-b/GX010001.MP4",
        gopro / "site-a/GX010002.MP4",
    )
    out = tmp_path / "out"
    summary = run([a, b, a2], out, capsys)
    assert summary["status"].tolist() == ["done"] * 3
    names = ["site-a__GX010001", "site-b__GX010001", "GX010002"]
    assert summary["store"].tolist() == [str(out / f"{n}.zarr") for n in names]
    assert store_status(out / "site-b__GX010001.zarr").record.video.path == str(b)
    assert f"{a} -> site-a__GX010001.zarr, {b} -> site-b__GX010001.zarr" in capsys.readouterr().err
    # the same names on every run, with any of the videos: nothing made twice
    assert run([b], out, capsys)["status"].tolist() == ["skipped"]
    err = capsys.readouterr().err  # one video's file name is used once: it was said it was not
    assert "used more than once" not in err
    assert f"stores kept under the names an earlier run gave them: {b} -> site-b__GX" in err
    assert store_names([str(a2), str(a)], out) == ["GX010002", "site-a__GX010001"]
    assert sorted(os.listdir(out)) == sorted([f"{n}.zarr" for n in names] + ["batch-summary.csv"])


def test_a_site_added_to_a_campaign_leaves_the_stores_there_their_names(gopro, tmp_path):
    """A campaign of one site has GX010001.zarr; adding a site whose clip has that name must
    neither rename (make again) the first site's store nor take it for the second's."""
    a, b = gopro / "site-a/GX010001.MP4", gopro / "site-b/GX010001.MP4"
    out = tmp_path / "out"
    assert run([a], out)["status"].tolist() == ["done"]
    summary = run([a, b], out)
    assert summary["status"].tolist() == ["skipped", "done"]
    assert [os.path.basename(s) for s in summary["store"]] == [
        "GX010001.zarr",
        "site-b__GX010001.zarr",
    ]
    # the second site alone: GX010001.zarr is the first site's; its own store is found
    summary = run([b], out)
    assert summary["status"].tolist() == ["skipped"], summary["error"].tolist()
    assert os.path.basename(summary["store"].iloc[0]) == "site-b__GX010001.zarr"
    assert len([e for e in os.listdir(out) if e.endswith(".zarr")]) == 2


def test_cli_measure_and_prompts_use_the_store_names(gopro, tmp_path, capsys):
    """The campaign tables name each video by its store; --prompts-dir finds each video's
    file under its store's name."""
    from ecoseg.cli import main

    a, b = gopro / "site-a/GX010001.MP4", gopro / "site-b/GX010001.MP4"
    out = tmp_path / "out"
    code = main(["batch", str(a), str(b), "-o", str(out), "--engine", "classical",
                 "--workers", "1", "--measure", "--quiet"])  # fmt: skip
    stdout, stderr = capsys.readouterr()
    assert code == 0, stdout
    assert stderr == ""  # --quiet: the measuring's progress bar was shown all the same
    assert f"{b}: done, 4 frames -> {out / 'site-b__GX010001.zarr'}" in stdout
    counts = pd.read_csv(out / "campaign-counts.csv")
    assert sorted(set(counts["video"])) == ["site-a__GX010001", "site-b__GX010001"]
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "site-a__GX010001.json").write_text("{}")
    with pytest.raises(ConfigError, match="needs a prompt file for every video; none for 'site-b"):
        from ecoseg.cli import build_parser

        parsed = build_parser().parse_args(
            ["batch", str(a), str(b), "-o", str(tmp_path / "o2"), "--engine", "sam2",
             "--prompts-dir", str(prompts), "--random-weights", "--quiet"]
        )  # fmt: skip
        parsed.func(parsed)  # the batch command's own function, its errors not caught


def test_cli_prompts_dir_reads_the_candidate_stores_once(gopro, tmp_path, monkeypatch):
    """``batch --prompts-dir`` named the stores (store_names) in the CLI to find the prompt
    files, and batch() named them again: every store that could be a video's was read twice
    (8 reads here, hundreds of requests on object storage). Now once, with the same files:
    site-a's under the name its earlier store keeps."""
    from ecoseg.batch import jobs
    from ecoseg.cli import build_parser

    a, b = gopro / "site-a/GX010001.MP4", gopro / "site-b/GX010001.MP4"
    out = tmp_path / "out"
    run([a], out)  # out/GX010001.zarr: site-a's store, kept under that name below
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "GX010001.json").write_text("{}")
    reads = []
    real = jobs.store_status
    monkeypatch.setattr(jobs, "store_status", lambda store: reads.append(store) or real(store))
    args = ["batch", str(a), str(b), "-o", str(out), "--engine", "sam2", "--prompts-dir",
            str(prompts), "--random-weights", "--quiet"]  # fmt: skip
    with pytest.raises(ConfigError, match="prompt file for every video; none for 'site-b__GX"):
        parsed = build_parser().parse_args(args)
        parsed.func(parsed)  # (site-a's file found: none missing)
    names = [os.path.basename(r) for r in reads]
    assert sorted(names) == ["GX010001.zarr"] * 2 + [
        "site-a__GX010001.zarr",
        "site-b__GX010001.zarr",
    ]


def test_a_video_that_cannot_be_read_takes_no_other_videos_store(gopro, tmp_path):
    """A truncated site-c/GX010001.MP4 was taken for the video of site-b__GX010001.zarr (its
    bytes could not be compared, which passed), so the run named it after that store and
    skipped it as complete: a broken video reported as done."""
    a, b = gopro / "site-a/GX010001.MP4", gopro / "site-b/GX010001.MP4"
    broken = tmp_path / "site-c" / "GX010001.MP4"
    broken.parent.mkdir()
    broken.write_bytes(b.read_bytes()[:1500])
    out = tmp_path / "out"
    run([a, b], out)
    summary = run([a, broken], out)
    assert summary["status"].tolist() == ["skipped", "failed"]
    assert summary["store"].iloc[1].endswith("__site-c__GX010001.zarr")  # (from tmp's root)
    assert "GX010001.MP4: not a readable video" in summary["error"].iloc[1]
