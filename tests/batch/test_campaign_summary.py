"""ecoseg.batch.campaign: what the summary and the command say about a video that broke
beside its finished store, and about a run stopped by Ctrl-C."""

from __future__ import annotations

import contextlib
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from batch_helpers import run_cli

import ecoseg
from ecoseg.batch import SUMMARY_FILE, batch
from ecoseg.store import MaskStore


@pytest.fixture
def made(tmp_path):
    """Two clips in two site folders (one file name), both segmented into OUT."""
    videos = []
    for seed, site in enumerate(("site-a", "site-b"), start=1):
        clip = ecoseg.synth(tmp_path / "field" / site, frames=6, size=(64, 48), seed=seed)
        videos.append(str(clip.video))
    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        first = batch(videos, out, scheduler=pool, engine="classical", progress=False)
    assert first["status"].tolist() == ["done", "done"]
    return videos, out


def test_a_video_broken_beside_its_finished_store_is_said_not_skipped(made, capsys):
    """A video truncated after its store was made (a copy cut off) was reported 'skipped' as
    if all were well, exit 0, and its store measured into the campaign tables as this
    video's. Now it is 'failed' with one line naming the video and its store, which is kept
    untouched; a run with the video restored skips it again."""
    videos, out = made
    broken = videos[1]
    good = open(broken, "rb").read()
    store = out / "site-b__video.zarr"
    labels = MaskStore.open(store).read_labels()
    with open(broken, "wb") as f:
        f.write(good[: len(good) // 5])  # a copy cut off: not a video any more
    with ThreadPoolExecutor(1) as pool:
        summary = batch(videos, out, scheduler=pool, engine="classical", progress=True)
    assert summary["status"].tolist() == ["skipped", "failed"]
    assert summary["frames"].tolist() == [6, 6]  # what the kept store holds
    assert summary["attempts"].tolist() == [0, 0]  # nothing was run
    error = summary["error"].iloc[1]
    assert error.startswith(f"{broken}: not a readable video (")
    assert f"its complete store {store} (6 frames) is kept" in error
    assert "made from a readable video.mp4 of other bytes" in error and "\n" not in error
    assert np.array_equal(MaskStore.open(store).read_labels(), labels)  # kept as it was
    err = capsys.readouterr().err
    assert "1 of 2 stores complete, skipped" in err  # (it said '2 of 2')
    assert "0 done, 1 skipped, 1 failed" in err
    on_disk = pd.read_csv(out / SUMMARY_FILE, keep_default_na=False)
    assert on_disk["error"].iloc[1] == error

    code, stdout, _ = run_cli(
        capsys, "batch", *videos, "-o", out, "--engine", "classical", "--quiet", "--measure"
    )
    assert code == 1
    assert f"{broken}: failed, 6 frames -> {store} ({error})" in stdout
    assert f"tables: INCOMPLETE, without the 1 failed video(s): {broken}" in stdout
    assert "tables: replaced" not in stdout  # (it is in this run: said failed above)
    assert set(pd.read_csv(out / "campaign-counts.csv")["video"]) == {"site-a__video"}

    with open(broken, "wb") as f:
        f.write(good)
    code, stdout, _ = run_cli(
        capsys, "batch", *videos, "-o", out, "--engine", "classical", "--quiet"
    )
    assert code == 0 and stdout.count(": skipped, 6 frames") == 2


def test_a_one_frame_video_is_said_in_the_singular(tmp_path, capsys):
    """The command's line for a 1-frame video said 'done, 1 frames'."""
    clip = ecoseg.synth(tmp_path / "one", frames=1, size=(64, 48), seed=1)
    code, stdout, _ = run_cli(
        capsys, "batch", clip.video, "-o", tmp_path / "out", "--engine", "classical", "--quiet"
    )
    assert code == 0
    assert f"{clip.video}: done, 1 frame -> " in stdout


def test_a_video_this_machine_cannot_open_but_of_the_stores_bytes_is_skipped(made, monkeypatch):
    """The very bytes the store records (a codec this machine lacks): the store is this
    video's, so it is skipped as before."""
    videos, out = made
    real = ecoseg.io.video.open_video

    def no_codec(path, *args, **kwargs):
        if str(path) == videos[1]:
            raise ecoseg.errors.VideoError(f"{path}: no decoder for its codec here")
        return real(path, *args, **kwargs)

    monkeypatch.setattr("ecoseg.io.video.open_video", no_codec)
    with ThreadPoolExecutor(1) as pool:
        summary = batch(videos, out, scheduler=pool, engine="classical", progress=False)
    assert summary["status"].tolist() == ["skipped", "skipped"]
    assert summary["error"].tolist() == ["", ""]


def test_ctrl_c_during_a_batch_prints_one_line(tmp_path, capsys, monkeypatch):
    """Ctrl-C while the videos ran printed 'ecoseg batch: interrupted; summary: ...' and then
    'ecoseg: interrupted': two lines where the command's one is meant. The summary is still
    written, saying which videos the stopped run did not finish."""
    clip = ecoseg.synth(tmp_path / "v", frames=4, size=(64, 48))

    @contextlib.contextmanager
    def pool(*args, **kwargs):  # (no local cluster started: quick)
        with ThreadPoolExecutor(1) as executor:
            yield executor

    def ctrl_c(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("ecoseg.batch.campaign.connect", pool)
    monkeypatch.setattr("ecoseg.batch.campaign.run_batch", ctrl_c)
    out = tmp_path / "out"
    code, stdout, err = run_cli(capsys, "batch", clip.video, "-o", out, "--engine", "classical")
    assert code == 130 and stdout == ""
    assert [line for line in err.splitlines() if "interrupted" in line] == ["ecoseg: interrupted"]
    assert err.strip().splitlines()[-1] == "ecoseg: interrupted"
    summary = pd.read_csv(out / SUMMARY_FILE, keep_default_na=False)
    assert summary["status"].tolist() == ["failed"]
    assert summary["error"].iloc[0].startswith("interrupted: the run was stopped before")
    shutil.rmtree(out)


@contextlib.contextmanager
def _served(folder):
    """``folder`` on a local HTTP server (a thread; no network): yields its base URL."""
    import functools
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.mark.parametrize("kind", ["memory", "http"])
def test_a_dead_url_beside_its_finished_store_is_failed_not_skipped(tmp_path, kind):
    """A URL video beside its complete store was not opened, so a URL gone since (deleted,
    moved, a signed link expired) was reported 'skipped' as if all were well. Now it is probed
    (its first bytes fetched): one that cannot be fetched is 'failed', one line naming the URL
    and the kept store; one that can is skipped as before, nothing downloaded whole."""
    import fsspec

    clip = ecoseg.synth(tmp_path / "clip", frames=4, size=(64, 48), seed=2)
    data = open(clip.video, "rb").read()
    served = tmp_path / "served"
    served.mkdir()
    fs = fsspec.filesystem("memory")
    out = tmp_path / "out"
    with contextlib.ExitStack() as stack:
        if kind == "http":
            (served / "reef.mp4").write_bytes(data)
            url = stack.enter_context(_served(served)) + "/reef.mp4"
        else:
            fs.pipe("/s50-dead-url/reef.mp4", data)
            stack.callback(lambda: fs.exists("/s50-dead-url") and fs.rm("/s50-dead-url", True))
            url = "memory://s50-dead-url/reef.mp4"
        pool = stack.enter_context(ThreadPoolExecutor(1))
        first = batch([url], out, scheduler=pool, engine="classical", progress=False)
        assert first["status"].tolist() == ["done"]
        again = batch([url], out, scheduler=pool, engine="classical", progress=False)
        assert again["status"].tolist() == ["skipped"]  # still there: not fetched again
        if kind == "http":
            (served / "reef.mp4").unlink()
        else:
            fs.rm("/s50-dead-url/reef.mp4")
        labels = MaskStore.open(out / "reef.zarr").read_labels()
        summary = batch([url], out, scheduler=pool, engine="classical", progress=False)
    assert summary["status"].tolist() == ["failed"]
    assert summary["attempts"].tolist() == [0] and summary["frames"].tolist() == [4]
    error = summary["error"].iloc[0]
    assert error == (
        f"{url}: no such file or directory; its complete store {out / 'reef.zarr'} (4 frames) "
        "is kept, but this run cannot check it against the video at that URL: bring back the "
        "video it was made from (or move the store away to segment this one anew)"
    )
    assert np.array_equal(MaskStore.open(out / "reef.zarr").read_labels(), labels)
