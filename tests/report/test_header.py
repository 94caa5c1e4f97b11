"""ecoseg.report._header: the page's title block and headline cards."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd

from ecoseg.provenance import Provenance
from ecoseg.report._header import headline, subtitle


def _cards(n_videos: int, n_tracks: int, classes: list[str], sites: list[str]) -> dict:
    videos = [SimpleNamespace(duration_s=2.0, provenance=Provenance())] * n_videos
    tables = {
        "tracks": pd.DataFrame({"object_id": range(n_tracks)}),
        "maxn": pd.DataFrame({"class": classes, "maxn": [1] * len(classes)}),
    }
    return {c["label"]: c["value"] for c in headline(videos, tables, sites)}


def test_headline_labels_are_singular_for_one():
    # a report of one video of one site read "1 videos", "1 sites", "1 individuals tracked"
    # and "1 classes seen" (the subtitle above it already said "1 video")
    one = _cards(1, 1, ["wrasse", "unknown"], ["North"])
    assert one == {
        "video": "1",
        "site": "1",
        "of footage": "2.0 s",
        "track": "1",
        "class seen (and unknown)": "1",
    }
    one_video = [SimpleNamespace(duration_s=2.0, provenance=Provenance())]
    assert subtitle(one_video, ["North"]).startswith("1 video · 1 site")
    many = _cards(2, 3, ["wrasse", "parrotfish"], ["North", "South"])
    assert set(many) == {"videos", "sites", "of footage", "tracks", "classes seen"}
    assert _cards(1, 0, [], [])["classes seen"] == "0"


def test_the_headline_counts_tracks_not_individuals():
    """A track can be a part of an animal's stay in view, two animals joined or no animal at
    all: the cards said "7 individuals tracked", an abundance the tracker does not claim; they
    count tracks, and MaxN stays the abundance."""
    cards = _cards(2, 7, ["unknown"], [])
    assert cards["tracks"] == "7"
    assert not any("individual" in label for label in cards)


def test_a_study_that_named_no_class_says_every_track_is_unknown():
    """With no species model every track is unknown: the card read "0 classes seen (and
    unknown)", as if nothing was seen."""
    cards = _cards(1, 3, ["unknown"], [])
    assert cards == {
        "video": "1",
        "of footage": "2.0 s",
        "tracks": "3",
        "classes seen: every track is unknown": "0",
    }
    survey = [SimpleNamespace(provenance=SimpleNamespace(is_survey=True), n_frames=2)]
    tables = {
        "tracks": pd.DataFrame({"object_id": [1, 2]}),
        "maxn": pd.DataFrame({"class": ["unknown"], "maxn": [2]}),
    }
    labels = [c["label"] for c in headline(survey, tables, [])]
    assert labels == [
        "video",
        "photographs",
        "objects found",
        "classes seen: every object is unknown",
    ]


def test_the_engine_parameters_count_one_object_in_the_singular(tmp_path):
    import re

    from report_helpers import make_store

    from ecoseg.report import report

    make_store(tmp_path / "a.zarr", [(1, "wrasse", "prompt")], {1: [0, 1]})
    make_store(tmp_path / "b.zarr", [(1, "wrasse", "prompt"), (2, "sponge", "prompt")], {1: [0]})
    page = report([tmp_path / "a.zarr", tmp_path / "b.zarr"], tmp_path / "ab.html").read_text()
    made = re.findall(r"store made by ecoseg [^,]*, (\d+ \w+)\)", page)
    assert made == ["1 object", "2 objects"]  # it read "1 objects"
    cards = re.findall(r'<div class="v">([^<]*)</div><div class="l">([^<]*)</div>', page)
    assert ("2", "videos") in cards and ("1", "class seen") in cards  # sponge: never seen


def test_a_photo_survey_counts_photographs_not_seconds_of_footage(tmp_path):
    """A photo survey's frames are photographs, its times their indices: the page said "3.0 s
    of footage" for three photographs and "4 at 2.000 s (frame 2)" for the MaxN; it now
    counts the photographs and names the one where the MaxN is."""
    import re

    import numpy as np

    from ecoseg.report import report
    from ecoseg.store import MaskStore

    labels = np.zeros((3, 8, 10), np.uint32)
    labels[0, 0:2, 0:2], labels[2, 4:6, 4:6], labels[2, 0:2, 6:8] = 1, 2, 3
    names = ["q1.jpg", "q2.jpg", "q3.jpg"]
    video = {"path": "quadrats", "width": 10, "height": 8, "images": names}
    objects = [(k, "parrotfish", "concept") for k in (1, 2, 3)]
    with MaskStore.create(
        tmp_path / "s.zarr", height=8, width=10, objects=objects, provenance={"video": video}
    ) as s:
        s.append(labels, np.arange(3.0))
        s.mark_complete()
    page = report([tmp_path / "s.zarr"], tmp_path / "s.html").read_text()
    cards = re.findall(r'<div class="v">([^<]*)</div><div class="l">([^<]*)</div>', page)
    assert ("3", "photographs") in cards and "of footage" not in page
    # each instance is in one photograph: the card said "3 individuals tracked", then
    # "3 individuals found" (an animal in two photographs is found twice: not individuals)
    assert ("3", "objects found") in cards
    assert "individual" not in " ".join(label for _, label in cards)
    assert "An object found is one animal in one photograph" in page
    assert "1 video · 3 photographs" in page and "2 in q3.jpg (frame 2)" in page
