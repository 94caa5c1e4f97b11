"""The report of a photo survey: counts per photograph, no trajectories or speeds."""

from __future__ import annotations

import re

import numpy as np


def _survey(path, name="s.zarr"):
    """Three photographs, one parrotfish in the first and two in the third."""
    from ecoseg.store import MaskStore

    labels = np.zeros((3, 8, 10), np.uint32)
    labels[0, 0:2, 0:2], labels[2, 4:6, 4:6], labels[2, 0:2, 6:8] = 1, 2, 3
    video = {"path": "quadrats", "width": 10, "height": 8, "images": ["q1.jpg", "q2.jpg", "q3.jpg"]}
    objects = [(k, "parrotfish", "concept") for k in (1, 2, 3)]
    with MaskStore.create(
        path / name, height=8, width=10, objects=objects, provenance={"video": video}
    ) as s:
        s.append(labels, np.arange(3.0))
        s.mark_complete()
    return path / name


def test_a_survey_report_counts_per_photograph_and_leaves_out_paths_and_speeds(tmp_path):
    """The page drew the survey's counts over "time (s)" (its photographs' indices) and had
    trajectory and speed sections for instances that are each in one photograph; it now
    counts per photograph and says why the other two are left out."""
    from ecoseg.report import report

    page = report([_survey(tmp_path)], tmp_path / "s.html").read_text()
    titles = re.findall(r'<section id="(\w+)">', page)
    assert "trajectories" not in titles and "speeds" not in titles
    assert "Counts per photograph and MaxN" in page and "x: time in s" not in page
    assert "Percent cover per photograph" in page and "Percent cover over time" not in page
    assert 'id="survey-note"' in page and "no trajectory or speed" in page


def test_the_page_does_not_say_a_survey_s_times_are_seconds(tmp_path):
    """The page's opening said "times in seconds from the start of each video" of a page of
    photo surveys too, whose ``time_s`` is a photograph's number."""
    from report_helpers import make_store

    from ecoseg.report import report

    survey = _survey(tmp_path)
    page = report([survey], tmp_path / "s.html").read_text()
    assert "times in seconds" not in page
    assert "a photo survey has no times: its photographs are numbered from 0" in page
    make_store(tmp_path / "v.zarr", [(1, "wrasse", "prompt")], {1: [0, 1]})
    both = report([survey, tmp_path / "v.zarr"], tmp_path / "b.html").read_text()
    assert "times in seconds from the start of each video (a photo survey's, s, are its" in both


def test_a_survey_panel_is_labelled_by_photograph(tmp_path):
    """The counts figure's survey panel names its photographs on the x axis, not seconds."""
    import pandas as pd

    from ecoseg.report.figures import counts_figure

    counts = pd.DataFrame(
        {
            "video": ["s"] * 3,
            "frame": [0, 1, 2],
            "time_s": [0.0, 1.0, 2.0],
            "class": ["parrotfish"] * 3,
            "count": [1, 0, 2],
        }
    )
    maxn = pd.DataFrame(
        {"video": ["s"], "class": ["parrotfish"], "maxn": [2], "frame": [2], "time_s": [2.0]}
    )
    names = ("q1.jpg", "q2.jpg", "q3.jpg")
    fig = counts_figure(counts, {"parrotfish": "#f00"}, maxn, photos={"s": names})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "photograph"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(names)
    assert [round(p.get_height()) for p in ax.patches] == [1, 0, 2]


def test_a_survey_beside_a_video_is_left_out_of_its_paths_and_speeds(tmp_path):
    """Beside a video, the survey keeps the trajectory and speed sections (the video's) and
    the page names it as left out of them."""
    from ecoseg.report import report
    from ecoseg.store import MaskStore

    labels = np.zeros((3, 8, 10), np.uint32)
    labels[:, 0:2, 0:2] = 1
    video = {"path": "v.mp4", "width": 10, "height": 8}
    with MaskStore.create(
        tmp_path / "v.zarr",
        height=8,
        width=10,
        objects=[(1, "parrotfish", "prompt")],
        provenance={"video": video},
    ) as s:
        s.append(labels, np.arange(3.0) / 10)
        s.mark_complete()
    stores = [tmp_path / "v.zarr", _survey(tmp_path)]
    page = report(stores, tmp_path / "r.html").read_text()
    titles = re.findall(r'<section id="(\w+)">', page)
    assert "trajectories" in titles and "speeds" in titles
    assert page.count("Photo surveys (s) are left out") == 2
    assert "panel (s) counts per photograph" in page


def test_a_survey_cover_panel_stacks_a_bar_per_photograph():
    """The cover figure drew a survey's cover as an area over "time (s)"; it stacks a bar per
    photograph now, named on the x axis."""
    import pandas as pd

    from ecoseg.report.figures import cover_figure

    cover = pd.DataFrame(
        {
            "video": ["s"] * 4,
            "frame": [0, 0, 1, 1],
            "time_s": [0.0, 0.0, 1.0, 1.0],
            "class": ["coral", "sponge"] * 2,
            "cover_fraction": [0.25, 0.5, 0.0, 0.1],
        }
    )
    colors = {"coral": "#f00", "sponge": "#00f"}
    ax = cover_figure(cover, colors, photos={"s": ("q1.jpg", "q2.jpg")}).axes[0]
    assert ax.get_xlabel() == "photograph"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["q1.jpg", "q2.jpg"]
    assert ax.get_ylabel() == "cover (% of photograph)"
    tops = sorted(round(p.get_y() + p.get_height()) for p in ax.patches)
    assert tops == [0, 10, 25, 75]  # coral 25 %, 0 %; sponge stacked on them
