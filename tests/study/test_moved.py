"""ecoseg.study.moved: a study whose videos were moved away keeps their finished stores and
makes its tables and report again from them; a video it would need is refused, and nothing a
run stored is touched."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from study_helpers import EPOCH, write_study

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.study import MANIFEST, load_study, run_study
from ecoseg.study.moved import moved_videos

NAMES = ("reef-a", "reef-b")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """A study of two tiny clips, run once (no report: as if it was lost)."""
    root = tmp_path_factory.mktemp("moved")
    ecoseg.synth(root / "a", seed=3, frames=8, size=(64, 48), n_fish=2, n_invertebrates=1)
    ecoseg.synth(root / "b", seed=4, frames=8, size=(64, 48), n_fish=2, n_invertebrates=1)
    write_study(root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        run_study(root / "study.yaml", progress=False, report=False)
    return root


@pytest.fixture
def study(base, tmp_path, monkeypatch) -> Path:
    """A private copy of the finished study, its videos moved to an 'archive' folder."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "s"
    shutil.copytree(base, root)
    for clip in ("a", "b"):
        (tmp_path / "archive" / clip).mkdir(parents=True)
        (root / clip / "video.mp4").rename(tmp_path / "archive" / clip / "video.mp4")
    return root


@pytest.fixture
def cli(capsys, monkeypatch):
    """Run ``ecoseg ARGS`` here (in ``cwd``); returns (exit status, stdout, stderr)."""
    from ecoseg.cli import main

    def run(*args, cwd: Path | None = None):
        if cwd is not None:
            monkeypatch.chdir(cwd)
        capsys.readouterr()
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def files(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder``, by relative path."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def bring_back(root: Path) -> None:
    for clip in ("a", "b"):
        (root.parent / "archive" / clip / "video.mp4").rename(root / clip / "video.mp4")


def test_a_study_whose_videos_moved_away_makes_its_report_again_from_its_stores(
    study, cli, monkeypatch
):
    # before: every run (and --check) stopped at the study file, "a/video.mp4: no such file
    # or directory", so a report lost or deleted could not be made again from the stores
    out = study / "out"
    before = files(out / "stores")
    tables = files(out / "tables")
    assert not (out / "report.html").exists()
    code, printed, _ = cli("study", study / "study.yaml", "--check")
    assert code == 0 and "not found, their stores kept: reef-a, reef-b" in printed

    result = run_study(study / "study.yaml", progress=False)
    assert result.not_found == list(NAMES) and result.report_written
    assert not result.segmented and not result.measured and not result.tables_written
    assert "videos not found: reef-a, reef-b (their stores kept)" in result.summary()
    page = (out / "report.html").read_text()
    assert "video not found at a/video.mp4" in page  # the page says so (no stills)
    assert files(out / "stores") == before and files(out / "tables") == tables
    assert not run_study(study / "study.yaml", progress=False).report_written  # kept

    # the videos back: the report is made again (with their stills), then kept
    import ecoseg.report

    written = []
    monkeypatch.setattr(ecoseg.report, "report", lambda *a, **k: written.append(a[1]))
    bring_back(study)
    again = run_study(study / "study.yaml", progress=False)
    assert written == [out / "report.html"] and again.report_written
    assert not again.not_found and not again.segmented and not again.measured
    assert files(out / "stores") == before


def test_a_changed_calibration_measures_a_moved_video_again_from_its_store(study):
    text = (study / "study.yaml").read_text().replace("calibration: 20.0", "calibration: 10.0")
    (study / "study.yaml").write_text(text)
    result = run_study(study / "study.yaml", progress=False, report=False)
    assert sorted(result.measured) == list(NAMES) and not result.segmented
    assert result.tables_written


def _not_recorded(out: Path) -> None:
    """The run stopped after reef-a's store was finished, before the manifest said so."""
    manifest = json.loads((out / MANIFEST).read_text())
    manifest["videos"]["reef-a"]["segment"]["done"] = False
    (out / MANIFEST).write_text(json.dumps(manifest))


def _unfinished(out: Path) -> None:
    """The run stopped while segmenting reef-a: its store not complete."""
    from ecoseg.species._edit_log import read_meta, write_meta
    from ecoseg.store import MaskStore

    _not_recorded(out)
    with MaskStore.open(out / "stores" / "reef-a.zarr", mode="a") as s:
        meta = read_meta(s)
        meta["complete"] = False
        write_meta(s, meta)
    with MaskStore.open(out / "stores" / "reef-a.zarr") as s:
        assert not s.complete


def _other_video(out: Path) -> None:
    shutil.rmtree(out / "stores" / "reef-a.zarr")
    shutil.copytree(out / "stores" / "reef-b.zarr", out / "stores" / "reef-a.zarr")


def _other_settings(out: Path) -> None:
    study = out.parent / "study.yaml"
    study.write_text(study.read_text().replace("min_hits: 2", "min_hits: 3"))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (lambda out: shutil.rmtree(out), ""),  # no store of it: the study file's refusal
        (
            _unfinished,
            "; its store stores/reef-a.zarr is not finished (finishing it needs the video)",
        ),
        (
            _other_settings,
            "; its store stores/reef-a.zarr was made with other settings than the study file "
            "now gives it (segmenting it again needs the video)",
        ),
        (_other_video, "; its store stores/reef-a.zarr records another video (sha256 "),
    ],
    ids=["no-store", "unfinished", "other-settings", "other-video"],
)
def test_a_moved_video_whose_store_cannot_be_kept_is_refused(study, cli, change, why):
    out = study / "out"
    change(out)
    before = files(out) if out.exists() else {}
    expected = f"line 9: videos[0] (reef-a): a/video.mp4: no such file or directory{why}"
    with pytest.raises(ConfigError) as info:
        run_study(study / "study.yaml", progress=False)
    message = str(info.value)
    assert message.startswith(f"{study / 'study.yaml'}: {expected}")
    rest = message[len(f"{study / 'study.yaml'}: {expected}") :]  # which videos, by sha256
    hashes = r"[0-9a-f]{12}\.\.\.\) than the study made it from \([0-9a-f]{12}\.\.\.\)"
    assert re.fullmatch(hashes, rest) if change is _other_video else rest == ""
    for check in ((), ("--check",)):  # the study file named as given, one line, status 2
        code, _, err = cli("study", "study.yaml", *check, cwd=study)
        assert code == 2 and err == f"ecoseg: error: study.yaml: {expected}{rest}\n"
    assert (files(out) if out.exists() else {}) == before  # nothing written or removed
    assert out.exists() == bool(before)  # (nor an output folder made)


def test_a_moved_video_whose_store_was_finished_but_not_recorded_is_kept(study, cli):
    """A run stopped after a video's store was finished but before the manifest said so: a
    run keeps such a store of a video that is there (checks.store_finished), but with the
    video moved away the run and `--check` refused it as 'not finished (finishing it needs
    the video)'. Now it is kept as any finished store of a moved video."""
    out = study / "out"
    _not_recorded(out)
    stores = files(out / "stores")
    code, printed, _ = cli("study", study / "study.yaml", "--check")
    assert code == 0 and "not found, their stores kept: reef-a, reef-b" in printed
    result = run_study(study / "study.yaml", progress=False, report=False)
    assert result.not_found == list(NAMES) and not result.segmented and not result.measured
    assert files(out / "stores") == stores
    assert json.loads((out / MANIFEST).read_text())["videos"]["reef-a"]["segment"]["done"]


def test_a_study_file_refuses_a_missing_video_unless_told_not_to(study):
    with pytest.raises(ConfigError, match=r"a/video\.mp4: no such file or directory$"):
        load_study(study / "study.yaml")
    loaded = load_study(study / "study.yaml", require_videos=False)
    assert [v.path.exists() for v in loaded.videos] == [False, False]
    manifest = json.loads((study / "out" / MANIFEST).read_text())
    kept = moved_videos(loaded, manifest)
    recorded = {n: manifest["videos"][n]["segment"]["inputs"]["video_sha256"] for n in NAMES}
    assert kept == recorded
    bring_back(study)
    assert moved_videos(loaded, manifest) == {}


def test_ecoseg_report_of_a_study_whose_videos_moved_away(study, cli):
    # before: `ecoseg report STORES --study` stopped at the study file ("a/video.mp4: no such
    # file or directory"), although the report copes without its videos
    stores = [study / "out" / "stores" / f"{name}.zarr" for name in NAMES]
    page = study / "page.html"
    code, printed, err = cli("report", *stores, "-o", page, "--study", study / "study.yaml")
    assert code == 0, err
    assert printed.strip() == f"report: {page}"
    assert "video not found at a/video.mp4" in page.read_text()


class _Reads(dict):
    """A manifest entry that counts the reads of its ``segment`` record."""

    reads = 0

    def get(self, key, default=None):
        self.reads += key == "segment"
        return super().get(key, default)


def test_a_moved_video_s_segment_record_is_read_once(study):
    # moved_videos read it, then _why_not_kept read it again from the same entry
    manifest = json.loads((study / "out" / MANIFEST).read_text())
    entries = {n: _Reads(e) for n, e in manifest["videos"].items()}
    manifest["videos"] = entries
    loaded = load_study(study / "study.yaml", require_videos=False)
    assert sorted(moved_videos(loaded, manifest)) == list(NAMES)
    assert [entries[n].reads for n in NAMES] == [1, 1]


def test_a_truth_moved_away_with_its_video_is_not_scored_and_the_report_says_so(
    study, cli, monkeypatch
):
    # before: the study file refused it ("a/truth.zarr: truth store not found"), so a study
    # whose video folders (video and truth) were archived could not make its report again
    out = study / "out"
    write_study(study, extra_a="    truth: a/truth.zarr")
    archived = study.parent / "archive" / "a" / "truth.zarr"
    (study / "a" / "truth.zarr").rename(archived)
    code, printed, err = cli("study", "study.yaml", "--check", cwd=study)
    assert code == 0 and "not found, their stores kept: reef-a, reef-b" in printed, err
    assert printed.rstrip().endswith("; truth not found, not scored: reef-a")  # as the run
    result = run_study(study / "study.yaml", progress=False)
    assert result.report_written and result.truth_not_found == ["reef-a"]
    assert not result.segmented and not result.measured
    assert "truth not found: reef-a (not scored in the report)" in result.summary()
    page = (out / "report.html").read_text()
    assert "could not evaluate: truth store not found at a/truth.zarr" in page
    assert str(study) not in page  # (evaluate's error named the truth by its absolute path)
    assert not run_study(study / "study.yaml", progress=False).report_written

    # the video back without its truth: a wrong path, refused in one line, nothing written
    bring_back(study)
    before = files(out)
    expected = r"line 15: videos\[0\] \(reef-a\): a/truth\.zarr: truth store not found$"
    with pytest.raises(ConfigError, match=expected):
        run_study(study / "study.yaml", progress=False)
    assert files(out) == before

    # the truth back too: the report is made again (scoring it)
    import ecoseg.report

    written = []
    monkeypatch.setattr(ecoseg.report, "report", lambda *a, **k: written.append(k["study"]))
    archived.rename(study / "a" / "truth.zarr")
    again = run_study(study / "study.yaml", progress=False)
    assert again.report_written and not again.truth_not_found and not again.not_found
    assert [v.truth is not None and v.truth.exists() for v in written[0].videos] == [True, False]
