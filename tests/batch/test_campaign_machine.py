"""``ecoseg batch`` on a machine that cannot segment (``--device cuda`` without a GPU): a
video with no store yet is refused at once, before any video beside a store is probed; a
campaign whose stores are all complete still runs there (nothing to segment)."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

import ecoseg
from ecoseg.batch import batch
from ecoseg.store import ATTRS_KEY

torch = pytest.importorskip("torch")

SAM2 = dict(pretrained=False, image_size=64, device="cpu", progress=False)
POINT = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[30, 20]]}]}]}
NAMES = [f"reef{i}" for i in range(5)]
MADE = NAMES[:4]  # the videos with a complete store; the fifth has none


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """Five videos, their prompt files, and complete stores (SAM 2 on this CPU) of four."""
    root = tmp_path_factory.mktemp("machine")
    videos, prompts, out = root / "videos", root / "prompts", root / "out"
    videos.mkdir()
    prompts.mkdir()
    for seed, name in enumerate(NAMES):
        clip = ecoseg.synth(root / f"_{name}", frames=3, size=(96, 64), seed=seed + 1)
        shutil.move(clip.video, videos / f"{name}.mp4")
        (prompts / f"{name}.json").write_text(json.dumps(POINT))
    with ThreadPoolExecutor(1) as pool:
        made = batch(
            [videos / f"{n}.mp4" for n in MADE], out, scheduler=pool, prompts=prompts, **SAM2
        )
    assert made["status"].tolist() == ["done"] * len(MADE)
    (out / "batch-summary.csv").unlink()
    return videos, prompts, out


@pytest.fixture
def probes(monkeypatch, tmp_path):
    """The videos planning probed against their stores (opened, or URLs fetched), on a
    machine with no GPU and no weights in its cache."""
    import ecoseg.batch._plan as plan_module
    import ecoseg.batch.campaign as campaign_module

    seen = []
    check, checks = campaign_module.video_check, plan_module.url_checks

    def video_check(video, recorded):
        seen.append(str(video))
        return check(video, recorded)

    def url_checks(pairs):
        seen.extend(str(video) for video, _ in pairs)
        return checks(pairs)

    monkeypatch.setattr(campaign_module, "video_check", video_check)
    monkeypatch.setattr(plan_module, "url_checks", url_checks)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # this machine: no GPU
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "no weights"))
    return seen


def _args(videos, prompts, out, names):
    options = ["--prompts-dir", prompts, "--random-weights", "--image-size", 64]
    options += ["--device", "cuda", "-o", out, "--quiet"]
    return [str(a) for a in (*(videos / f"{n}.mp4" for n in names), *options)]


def test_a_video_to_segment_is_refused_before_any_video_is_probed(
    campaign, probes, tmp_path, capsys
):
    """The machine was checked once the campaign was planned, and planning probes every
    video beside a complete store (opens a local file, fetches a URL's first bytes): four
    probes here, on a large campaign minutes, before the one-line refusal that a video with
    no store made certain. Now that video (a store status, no probe) has the machine checked
    first: no probe, nothing written."""
    from ecoseg.cli import main

    videos, prompts, made = campaign
    out = tmp_path / "out"
    shutil.copytree(made, out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    capsys.readouterr()
    assert main(["batch", *_args(videos, prompts, out, NAMES)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ecoseg: error: ") and "'cuda': " in err
    assert probes == []
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # nothing touched
    assert main(["batch", *_args(videos, prompts, tmp_path / "new", NAMES)]) == 2
    assert not (tmp_path / "new").exists()  # (no stores at all: refused, no folder made)


def test_url_videos_are_not_fetched_before_the_refusal(campaign, probes, capsys):
    """The same for URL videos (each probe two or three requests to the storage): none."""
    import fsspec

    from ecoseg.cli import main

    videos, prompts, _ = campaign
    fs = fsspec.filesystem("memory")
    urls = {n: f"memory://machine-test/videos/{n}.mp4" for n in NAMES}
    for name, url in urls.items():
        fs.pipe(url, (videos / f"{name}.mp4").read_bytes())
    out = "memory://machine-test/out"
    try:
        with ThreadPoolExecutor(1) as pool:
            made = batch([urls[n] for n in MADE], out, scheduler=pool, prompts=prompts, **SAM2)
        assert made["status"].tolist() == ["done"] * len(MADE)
        fs.rm(f"{out}/batch-summary.csv")
        args = [*urls.values(), *_args(videos, prompts, out, NAMES)[len(NAMES) :]]
        capsys.readouterr()
        assert main(["batch", *args]) == 2
        assert "'cuda': " in capsys.readouterr().err
        assert probes == []
        assert not fs.exists(f"{out}/batch-summary.csv") and not fs.exists(f"{out}/reef4.zarr")
    finally:
        fs.rm("memory://machine-test", recursive=True)


def test_complete_stores_still_run_without_the_device(campaign, probes, tmp_path, capsys):
    """Stores all complete: nothing to segment, so no device is needed; each video is still
    checked against its store (probed), as before."""
    import pandas as pd

    from ecoseg.cli import main

    videos, prompts, made = campaign
    out = tmp_path / "out"
    shutil.copytree(made, out)
    assert main(["batch", *_args(videos, prompts, out, MADE)]) == 0
    assert sorted(probes) == sorted(str(videos / f"{n}.mp4") for n in MADE)
    summary = pd.read_csv(out / "batch-summary.csv")
    assert summary["status"].tolist() == ["skipped"] * len(MADE)


def test_a_partial_store_of_a_replaced_video_needs_no_device(campaign, probes, tmp_path):
    """A partial store is resumed only if its video is the one it was made from, which takes
    a probe: a partial store of a replaced video (its video reported, nothing segmented),
    beside complete ones, is not refused for the machine."""
    import pandas as pd

    from ecoseg.cli import main

    videos, prompts, made = campaign
    out = tmp_path / "out"
    shutil.copytree(made, out)
    meta_path = out / "reef0.zarr" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["attributes"][ATTRS_KEY]["complete"] = False
    meta_path.write_text(json.dumps(meta))
    replaced = tmp_path / "videos"
    shutil.copytree(videos, replaced)
    (replaced / "reef0.mp4").unlink()
    shutil.copy(videos / "reef4.mp4", replaced / "reef0.mp4")  # other bytes, same name
    assert main(["batch", *_args(replaced, prompts, out, MADE)]) == 1  # (a video failed)
    summary = pd.read_csv(out / "batch-summary.csv")
    assert summary["status"].tolist() == ["failed"] + ["skipped"] * (len(MADE) - 1)
    assert "reef0.zarr: the store was made from another reef0.mp4" in summary["error"][0]
    assert len(probes) == len(MADE)


@pytest.fixture
def opened(monkeypatch, probes):
    """The video files planning opened or hashed (each fails: nothing may be read before the
    refusal), on that machine."""
    import ecoseg._hashing
    import ecoseg.io.video

    seen = []

    def refuse(name):
        def read(path, *args, **kwargs):
            seen.append((name, str(path)))
            raise AssertionError(f"{name}({path}) before the machine was checked")

        return read

    for module, name in (
        (ecoseg._hashing, "sha256_file"),
        (ecoseg._hashing, "cached_sha256_file"),
        (ecoseg._hashing, "cached_digest"),
        (ecoseg.io.video, "open_video"),
        (ecoseg.io.video, "cached_digest"),
    ):
        monkeypatch.setattr(module, name, refuse(name))
    return seen


def _refused(args, capsys) -> str:
    from ecoseg.cli import main

    capsys.readouterr()
    try:
        code = main(["batch", *args])
    except AssertionError as exc:  # (a video read before the check)
        code = exc
    err = capsys.readouterr().err
    assert code == 2, (code, err)
    return err


def test_videos_of_one_size_are_not_hashed_before_the_refusal(opened, tmp_path, capsys):
    """Videos of the same size (GoPro chapters of a long dive are all 4 GB) were hashed to
    refuse copies before the machine was checked: minutes for a large campaign, then the
    one-line refusal. The machine's check needs no video's bytes: now it comes first."""
    videos = [tmp_path / f"GX0{i}0001.MP4" for i in range(1, 4)]
    for seed, video in enumerate(videos):
        video.write_bytes(bytes([seed]) * 4096)  # (never read: any bytes do)
    args = [*videos, "--auto", "--random-weights", "--device", "cuda", "-o", tmp_path / "out"]
    err = _refused([str(a) for a in args], capsys)
    assert err.count("\n") == 1 and "'cuda': " in err
    assert opened == []
    assert not (tmp_path / "out").exists()


def test_a_store_of_another_name_does_not_open_its_video_before_the_refusal(
    campaign, opened, probes, tmp_path, capsys
):
    """A store in OUT that an earlier run named after its folder (site-a__reef0) could be
    reef0.mp4's: planning opened and hashed reef0.mp4 to tell, before the machine was checked
    for reef4.mp4, which has no store and is segmented whatever reef0.mp4 holds. Now the
    refusal comes first."""
    videos, prompts, made = campaign
    out = tmp_path / "out"
    out.mkdir()
    shutil.copytree(made / "reef0.zarr", out / "site-a__reef0.zarr")
    err = _refused(_args(videos, prompts, out, ["reef0", "reef4"]), capsys)
    assert err.count("\n") == 1 and "'cuda': " in err
    assert opened == [] and probes == []
    assert sorted(p.name for p in out.iterdir()) == ["site-a__reef0.zarr"]
