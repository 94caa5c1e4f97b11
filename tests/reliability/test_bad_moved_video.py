"""A store moved without its video, whose provenance records a relative path (``video.mp4``,
as ``ecoseg synth`` and a ``segment`` run in the video's folder record it): each message that
says the video is not found names the recorded path once, then the places looked in, absolute
or from the current folder as the store is named. They said ``video not found at video.mp4``
(the report's stills), ``(not at video.mp4)`` (its reproduce note), ``open video.mp4`` after
naming it (napari) and ``not at that path, nor beside the store`` (classify), which does not
say where ``video.mp4`` was looked for.
"""

from __future__ import annotations

import os
import re
import shutil
from html import unescape

import pytest
from reliability_helpers import assert_one_line_error

from ecoseg.cli import main
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input

LOOKED = (
    "not at that path from the current folder, nor at moved/video.mp4, nor in a folder moved "
    "whole with the store"
)


def _moved(clip, folder, name="T1.zarr", *, engine=None):
    """The clip's truth store copied to ``folder/moved/NAME`` without its video (it records
    ``video.mp4``); ``engine``: made again as that engine's store (a ``segment`` command)."""
    path = folder / "moved" / name
    if engine is None:
        return shutil.copytree(clip.truth, path)
    src = MaskStore.open(clip.truth)
    store = MaskStore.create(
        path,
        height=src.height,
        width=src.width,
        objects=list(src.object_records().values()),
        provenance={  # a run's, not the synth's (whose command is `ecoseg synth`)
            "engine": engine,
            "ecoseg_version": src.provenance["ecoseg_version"],
            "video": src.provenance["video"],
        },
    )
    store.append(src.read_labels(0, src.n_frames), src.read_time())
    store.mark_complete()
    store.close()
    return path


@pytest.mark.parametrize(
    "recorded, looked",
    [
        ("video.mp4", LOOKED),
        (
            "/gone/survey/video.mp4",  # absolute: tried as it is, then beside the store
            "not at that path, nor at moved/video.mp4, nor in a folder moved whole with the store",
        ),
    ],
    ids=["relative", "absolute"],
)
def test_classify_names_the_recorded_video_once_and_where_it_looked(
    clip, tmp_path, monkeypatch, capsys, recorded, looked
):
    train = _moved(clip, tmp_path)
    _moved(clip, tmp_path, "T2.zarr")
    if recorded != "video.mp4":
        with MaskStore.open(train, mode="a") as s:
            s.set_provenance(video={**s.provenance["video"], "path": recorded})
    monkeypatch.chdir(tmp_path)
    code = main(["classify", "moved/T2.zarr", "--train", "moved/T1.zarr"])
    line = assert_one_line_error(code, capsys.readouterr().err, "moved/T1.zarr")
    assert line == (
        f"ecoseg: error: moved/T1.zarr: the video it was made from ({recorded}) is not found: "
        f"{looked}; give it with --train-video PATH"
    )


def test_napari_warning_names_the_recorded_video_once_and_where_it_looked(
    clip, tmp_path, monkeypatch
):
    pytest.importorskip("napari")
    import napari.utils.notifications as notifications

    from ecoseg.napari._reader import read_store

    _moved(clip, tmp_path)
    said: list[str] = []
    monkeypatch.setattr(notifications, "show_warning", said.append)
    monkeypatch.chdir(tmp_path)
    layers = read_store("moved/T1.zarr")
    assert [kind for *_, kind in layers] == ["labels", "tracks"]  # no video layer
    (warning,) = said
    assert warning == (
        f"ecoseg: video.mp4, the video moved/T1.zarr was made from, is not found ({LOOKED}): "
        "its masks open without it, and no video already open in the viewer is checked "
        "against them; open the video to see them on their own footage"
    )
    assert warning.count("video.mp4") == 2  # recorded once, and moved/video.mp4


@pytest.fixture(scope="module")
def page(clip, tmp_path_factory):
    """The report of a segmented store moved without its video, made from its parent folder."""
    folder = tmp_path_factory.mktemp("report")
    _moved(clip, folder, engine="classical")
    here = os.getcwd()
    os.chdir(folder)
    try:
        assert main(["report", "moved/T1.zarr", "-o", "page.html"]) == 0
    finally:
        os.chdir(here)
    return unescape(re.sub(r"<[^>]+>", " ", (folder / "page.html").read_text()))


def test_report_stills_name_the_recorded_video_once_and_where_it_looked(page):
    assert f"blank background (video.mp4 is not found: {LOOKED})" in " ".join(page.split())


def test_report_reproduce_note_says_where_the_video_was_looked_for(page):
    lines = [line.strip() for line in page.splitlines()]
    command = next(i for i, s in enumerate(lines) if s.startswith("ecoseg segment video.mp4 "))
    assert lines[command + 1] == (
        f"# T1: its video is not found here ({LOOKED}): put its path in the command above"
    )
