"""ecoseg.report: the stores of a folder moved or copied whole (a survey with its videos on
another disk or machine) record their videos' absolute paths where they were made."""

from __future__ import annotations

import html
import re
import shutil

import ecoseg
from ecoseg.report import report


def _moved_survey(tmp_path):
    """A survey folder (a clip in ``a/``, its store in ``out/``, segmented from the clip's
    absolute path) moved from ``old/survey`` to ``new/survey``: (old, new) folders."""
    old = tmp_path / "old" / "survey"
    clip = ecoseg.synth(old / "a", frames=24, size=(96, 64), seed=3, n_fish=3, n_invertebrates=1)
    ecoseg.segment(
        str(clip.video),  # (absolute: a study records its videos so)
        out=old / "out" / "a.zarr",
        engine="classical",
        params={"warmup": 5, "min_hits": 2},
        progress=False,
    )
    shutil.move(tmp_path / "old", tmp_path / "new")
    return old, tmp_path / "new" / "survey"


def _page(path) -> str:
    """The page's text, a line break for each tag (a ``<pre>`` block's first line starts one)."""
    return html.unescape(re.sub(r"<[^>]*>", "\n", path.read_text()))


def test_a_moved_folder_reports_its_video_where_it_is_now(tmp_path, monkeypatch):
    """The page's command to make the store again named the video where it was before the
    folder moved (``ecoseg segment /old/survey/a/video.mp4 ...``, a path that is not there),
    and its stills were drawn on a blank background ('video not found at /old/...') though
    the video had moved with the store. Now the video is found in the moved folder: the
    command names it from where the page's commands run, the stills are drawn from it, and
    nothing names the old folder."""
    old, new = _moved_survey(tmp_path)
    monkeypatch.chdir(new)
    report(["out/a.zarr"], "page.html")
    page = _page(new / "page.html")
    assert re.search(r"^ecoseg segment a/video\.mp4 -o out/a\.zarr ", page, re.M), page
    assert str(old) not in page
    assert "Video not available" not in page and "blank background" not in page


def test_a_moved_folder_without_its_video_says_so_under_the_command(tmp_path, monkeypatch):
    """The video not moved with the folder (nowhere to be found): the command shows the path
    the store records, and a comment under it says that the video is not there (before, the
    stale path stood as if it would run)."""
    old, new = _moved_survey(tmp_path)
    (new / "a" / "video.mp4").unlink()
    monkeypatch.chdir(new)
    report(["out/a.zarr"], "page.html")
    steps = re.findall(r"^(?:ecoseg|#) .*$", _page(new / "page.html"), re.M)
    command = next(i for i, s in enumerate(steps) if s.startswith("ecoseg segment"))
    assert steps[command].startswith(f"ecoseg segment {old / 'a' / 'video.mp4'} -o out/a.zarr")
    assert steps[command + 1] == (  # the command names the path; the note where it looked
        "# a: its video is not found here (not at that path, nor at out/video.mp4, nor in a "
        "folder moved whole with the store): put its path in the command above"
    )
