"""An ``ecoseg batch`` OUT folder holding a user's own files: a file named as one of the
run's tables is refused before any work (it was replaced without a word), and so is a folder
named as a video's store (it came through Dask as ``Exception: StoreError('...')``, then in
ecoseg's one line after 1 + --retries attempts, each failing on it)."""

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
    assert f"{out / name}: exists and is not a table ecoseg batch wrote" in err
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
    with pytest.raises(
        ConfigError, match="batch-summary.csv: exists and is not a table ecoseg batch wrote"
    ):
        batch([clip.video], out, engine="classical", progress=False)


def _users_own(place, kind):
    """What a user keeps where a video's store goes: a folder of notes, or a zarr group that
    another tool wrote (not an ecoseg store)."""
    if kind == "folder":
        place.mkdir(parents=True)
        (place / "notes.txt").write_text("my notes")
    else:
        import zarr

        zarr.open_group(place, mode="w").attrs["site"] = "north"


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        ("folder", "exists and is not a zarr store (a folder)"),
        ("zarr", "a zarr group that is not an ecoseg mask store"),
    ],
)
def test_a_users_folder_named_as_a_store_is_refused_once_before_any_work(
    kind, what, clip, tmp_path, monkeypatch
):
    """It was submitted 1 + retries times (3 attempts, each failing on it: 'a folder without
    zarr.json, not a mask store'), and the run went on; now refused before any task, as
    `ecoseg segment -o` refuses it."""
    from concurrent.futures import ThreadPoolExecutor

    import ecoseg.batch._summary
    from ecoseg.errors import StoreError

    calls = []
    real = ecoseg.batch._summary.run_job

    def counted(job):
        calls.append(job.name)
        return real(job)

    monkeypatch.setattr(ecoseg.batch._summary, "run_job", counted)
    out = tmp_path / "out"
    video = tmp_path / "T1.mp4"
    shutil.copy(clip.video, video)
    _users_own(out / "T1.zarr", kind)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    with ThreadPoolExecutor(1) as pool, pytest.raises(StoreError) as refused:
        batch([video], out, scheduler=pool, engine="classical", retries=2, progress=False)
    assert str(refused.value) == (
        f"{out / 'T1.zarr'}: {what}; ecoseg batch writes the store of {video} there and will "
        "not replace it: move it away or choose another output folder"
    )
    assert calls == []  # no attempt (there were 3)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before  # nor a summary


def test_cli_a_users_folder_named_as_a_store_is_refused_in_one_line(clip, tmp_path, cli):
    out = tmp_path / "out"
    video = tmp_path / "T1.mp4"
    shutil.copy(clip.video, video)
    _users_own(out / "T1.zarr", "folder")
    code, _, err = cli("batch", video, "-o", out, "--engine", "classical", "--quiet")
    assert code == 2 and err.count("\n") == 1 and err.startswith("ecoseg: error: ")
    assert f"{out / 'T1.zarr'}: exists and is not a zarr store (a folder)" in err
    assert "will not replace it" in err
    assert (out / "T1.zarr" / "notes.txt").read_text() == "my notes"
    assert sorted(p.name for p in out.iterdir()) == ["T1.zarr"]  # no summary: nothing ran
