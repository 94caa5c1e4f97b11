"""``ecoseg.report.reproduce`` of a report with a study: ``ecoseg study`` makes the study's own
stores and its page, so a page of another store (one of a study video's name made elsewhere)
gives each store's commands and ``ecoseg report ... --study`` instead."""

from __future__ import annotations

import base64
import html
import re
import shlex
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from ecoseg.provenance import Provenance
from ecoseg.report.read import VideoInfo
from ecoseg.report.reproduce import reproduce

STUDY = """\
name: s
output: out
defaults: {calibration: 0.5, params: {warmup: 4, min_hits: 1, threshold: 3.0}}
videos:
  - {path: a/video.mp4, name: a}
  - {path: b/video.mp4, name: b}
"""
EPOCH = "1710000000"


@pytest.fixture(scope="module")
def field(tmp_path_factory):
    """A study of two clips run by ``ecoseg study``, a store of video ``a`` made elsewhere with
    the same settings and calibration, and five pages: of that store, of it and the study's
    ``b``, of the study's own two stores, of its ``b`` alone, and of its two under another
    title."""
    import ecoseg
    from ecoseg.cli import main

    root = tmp_path_factory.mktemp("field")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        for name, seed in (("a", 3), ("b", 4)):
            ecoseg.synth(name, frames=8, size=(96, 64), seed=seed)
        Path("study.yaml").write_text(STUDY)
        assert main(["study", "study.yaml"]) == 0
        params = '{"warmup": 4, "min_hits": 1, "threshold": 3.0}'
        assert main(["segment", "a/video.mp4", "-o", "elsewhere/a.zarr", "--params", params]) == 0
        assert main(["measure", "elsewhere/a.zarr", "-o", "t", "--calibration", "0.5"]) == 0
        pages = {
            "outside": ["elsewhere/a.zarr"],
            "mixed": ["out/stores/b.zarr", "elsewhere/a.zarr"],
            "own": ["out/stores/a.zarr", "out/stores/b.zarr"],
            "some": ["out/stores/b.zarr"],
        }
        for page, stores in pages.items():
            assert main(["report", *stores, "-o", f"{page}.html", "--study", "study.yaml"]) == 0
        own = ["out/stores/a.zarr", "out/stores/b.zarr", "-o", "titled.html", "--title", "Reef"]
        assert main(["report", *own, "--study", "study.yaml"]) == 0
    return root


def _commands(page: Path) -> tuple[list[str], dict[str, str]]:
    """The reproduce steps of a page and the files it offers with them (the study file's
    download is below them, in its own block)."""
    section = page.read_text().split("Reproduce this report", 1)[1].split("<details>", 1)[0]
    steps = html.unescape(re.search(r"<pre>(.*?)</pre>", section, re.S).group(1)).splitlines()
    found = re.findall(r'download="([^"]+)" href="data:[^,]+,([^"]+)"', section)
    return steps, {html.unescape(n): base64.b64decode(d).decode() for n, d in found}


def _steps(page: Path) -> list[str]:
    return _commands(page)[0]


def _made_again(field: Path, page: str, fresh: Path, monkeypatch) -> None:
    """Run ``page``'s steps in ``fresh``, which holds the study file and the videos alone:
    the same page comes out, byte for byte."""
    from ecoseg.cli import main

    steps, files = _commands(field / page)
    fresh.mkdir()
    shutil.copy(field / "study.yaml", fresh)
    for name in "ab":
        (fresh / name).mkdir()
        shutil.copy(field / name / "video.mp4", fresh / name)
    for name, text in files.items():
        (fresh / name).write_text(text)
    monkeypatch.chdir(fresh)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    for step in steps:
        assert main(shlex.split(step, comments=True)[1:]) == 0, step
    assert (fresh / page).read_bytes() == (field / page).read_bytes()


def test_a_page_of_a_store_made_elsewhere_gives_its_commands_not_ecoseg_study(
    field, tmp_path, monkeypatch
):
    """``a.zarr`` of an ``ecoseg segment`` run elsewhere, reported with the study (whose video
    ``a`` it is, in the study's calibration): the page said ``ecoseg study study.yaml``, which
    makes the study's stores and its page, not this one. It now gives the store's commands
    and the ``ecoseg report`` that made the page, run beside the study file, and they make
    the same page again."""
    page = (field / "outside.html").read_text()
    assert _steps(field / "outside.html") == [
        "ecoseg segment a/video.mp4 -o elsewhere/a.zarr --engine classical --params a.params.json",
        "ecoseg measure elsewhere/a.zarr -o a.tables --calibration 0.5",
        "ecoseg report elsewhere/a.zarr -o outside.html --study study.yaml",
    ]
    assert "ecoseg study" not in page.split("Reproduce this report", 1)[1]
    assert "<p>Run in the folder that holds the study file (its text is below):</p>" in page
    assert "save them beside the study file" in page
    assert 'download="study.yaml"' in page  # the study file, as on the study's own page
    _made_again(field, "outside.html", tmp_path / "fresh", monkeypatch)


def test_a_page_of_the_studys_store_and_another_gives_every_stores_commands(
    field, tmp_path, monkeypatch
):
    steps = _steps(field / "mixed.html")
    assert steps[0].startswith("ecoseg segment b/video.mp4 -o out/stores/b.zarr ")
    assert steps[1].startswith("ecoseg segment a/video.mp4 -o elsewhere/a.zarr ")
    assert steps[-1] == (
        "ecoseg report out/stores/b.zarr elsewhere/a.zarr -o mixed.html --study study.yaml"
    )
    assert not any("ecoseg study" in step for step in steps)
    _made_again(field, "mixed.html", tmp_path / "fresh", monkeypatch)


def test_a_page_of_the_studys_own_stores_still_says_ecoseg_study(field):
    page = (field / "own.html").read_text()
    assert _steps(field / "own.html") == ["ecoseg study study.yaml"]
    assert "Regenerate with <code>ecoseg study study.yaml</code>" in page


@pytest.mark.parametrize("page", ["some.html", "titled.html"])
def test_a_page_of_some_of_the_studys_stores_or_another_title_gives_their_commands(
    field, tmp_path, monkeypatch, page
):
    """``ecoseg study`` makes the page of all the study's videos under its own title: a page
    of its ``b`` alone, or of both under ``--title Reef``, said ``ecoseg study study.yaml``
    too, which makes another page. They give their stores' commands and ``ecoseg report``."""
    steps = _steps(field / page)
    assert not any("ecoseg study" in step for step in steps)
    assert steps[-1].startswith("ecoseg report out/stores/")
    _made_again(field, page, tmp_path / "fresh", monkeypatch)


def _info(root: Path, name: str, truth: str | None) -> VideoInfo:
    prov = Provenance.from_dict({"engine": "classical", "video": {"path": f"{name}.mp4"}})
    return VideoInfo(
        name=name,
        store_path=str(root / "elsewhere" / f"{name}.zarr"),
        store_shown=f"../elsewhere/{name}.zarr",
        provenance=prov,
        objects=[],
        calibration=None,
        ecoseg_version="",
        complete=True,
        n_frames=1,
        height=1,
        width=1,
        times=np.zeros(1),
        video_shown=f"{name}.mp4",
        truth=truth and str(root / truth),
        truth_shown=truth,
    )


def test_a_studys_truth_comes_with_study_and_another_with_truth(tmp_path):
    """The closing ``ecoseg report --study`` reads the study's ground truth of its videos;
    ``--truth`` (once per store) only where another was given."""
    root = tmp_path.resolve()
    truths = {"a": SimpleNamespace(truth=root / "ta.zarr"), "c": SimpleNamespace(truth=None)}

    def video(name):
        return truths[name]  # KeyError: no video of that name

    study = SimpleNamespace(
        path=tmp_path / "study.yaml",
        video=video,
        relative=lambda p: Path(p).relative_to(root).as_posix(),
    )
    a, b, c = (
        _info(tmp_path, "a", "ta.zarr"),
        _info(tmp_path, "b", "tb.zarr"),
        _info(tmp_path, "c", None),
    )
    assert reproduce([a, c], study, tmp_path / "r.html")["steps"][-1] == (
        "ecoseg report elsewhere/a.zarr elsewhere/c.zarr -o r.html --study study.yaml"
    )
    assert reproduce([a, b], study, tmp_path / "r.html")["steps"][-1] == (
        "ecoseg report elsewhere/a.zarr elsewhere/b.zarr -o r.html --study study.yaml "
        "--truth ta.zarr --truth tb.zarr"
    )
    steps = reproduce([b, c], study, tmp_path / "r.html")["steps"]
    assert steps[-1] == "# the ground truth of some videos was given in Python (report(truth=...))"
