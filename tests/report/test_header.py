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
        "individual tracked": "1",
        "class seen (and unknown)": "1",
    }
    one_video = [SimpleNamespace(duration_s=2.0, provenance=Provenance())]
    assert subtitle(one_video, ["North"]).startswith("1 video · 1 site")
    many = _cards(2, 3, ["wrasse", "parrotfish"], ["North", "South"])
    assert set(many) == {"videos", "sites", "of footage", "individuals tracked", "classes seen"}
    assert _cards(1, 0, [], [])["classes seen"] == "0"


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
    # each instance is in one photograph: the card said "3 individuals tracked"
    assert ("3", "individuals found") in cards
    assert "1 video · 3 photographs" in page and "2 in q3.jpg (frame 2)" in page
