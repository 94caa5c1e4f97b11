"""An ``ecoseg batch`` OUT folder holding a user's own files: a file named as one of the
run's tables is refused before any work (it was replaced without a word), and a folder named
as a video's store is failed in ecoseg's one line (it came through Dask as
``Exception: StoreError('...')``)."""

from __future__ import annotations

import shutil

import pytest

from ecoseg.batch import batch
from ecoseg.errors import ConfigError

pytestmark = pytest.mark.bad_input

NOTES = "site,diver,notes\nA,Kim,calm\n"


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("batch-summary.csv", ()),
        ("campaign-counts.csv", ("--measure",)),
        ("campaign-scores.csv", ("--truth-dir", "TRUTH")),
    ],
)
def test_cli_a_users_file_named_as_a_table_is_refused(name, options, clip, tmp_path, cli):
    out = tmp_path / "out"
    out.mkdir()
    (out / name).write_text(NOTES)
    truth = tmp_path / "truth"
    truth.mkdir()
    options = [str(truth) if o == "TRUTH" else o for o in options]
    code, _, err = cli(
        "batch", clip.video, "-o", out, "--engine", "classical", "--quiet", *options
    )  # fmt: skip
    assert code == 2 and err.count("\n") == 1
    assert f"{out / name}: exists and is not a campaign table" in err
    assert "'site,diver,notes'" in err
    assert (out / name).read_text() == NOTES  # kept
    assert sorted(p.name for p in out.iterdir()) == [name]  # nothing started


def test_an_earlier_runs_summary_is_rewritten(clip, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    out = tmp_path / "out"
    with ThreadPoolExecutor(1) as pool:
        batch([clip.video], out, scheduler=pool, engine="classical", progress=False)
        again = batch([clip.video], out, scheduler=pool, engine="classical", progress=False)
    assert again["status"].tolist() == ["skipped"]
    (out / "batch-summary.csv").write_text(NOTES)
    with pytest.raises(ConfigError, match="batch-summary.csv: exists and is not a campaign table"):
        batch([clip.video], out, engine="classical", progress=False)


def test_a_users_folder_named_as_a_store_fails_in_one_line(clip, tmp_path):
    from dask.distributed import Client, LocalCluster

    out = tmp_path / "out"
    video = tmp_path / "T1.mp4"
    shutil.copy(clip.video, video)
    (out / "T1.zarr").mkdir(parents=True)
    (out / "T1.zarr" / "notes.txt").write_text("my notes")
    with (
        LocalCluster(n_workers=1, processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        summary = batch([video], out, scheduler=client, engine="classical", progress=False)
    assert summary["status"].tolist() == ["failed"]
    error = summary["error"].iloc[0]
    assert error.startswith(f"{out / 'T1.zarr'}: a folder without zarr.json, not a mask store")
    assert "Exception" not in error and "StoreError(" not in error
    assert (out / "T1.zarr" / "notes.txt").read_text() == "my notes"
