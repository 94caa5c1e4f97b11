"""Tests of ecoseg.report._provenance: the provenance section's text of a video."""

from __future__ import annotations

import pytest

STUDY = """\
name: s
output: out
videos:
  - {path: a.mp4, name: a, calibration: 0.25}
  - {path: b.mp4, name: b, calibration: "0.25 mm/px"}
  - {path: c.mp4, name: c, calibration: "0.25"}
  - {path: d.mp4, name: d, calibration: 0.3333333333333333}
  - {path: e.mp4, name: e, calibration: "scale-bar:0,0,0,20,5"}
"""


@pytest.fixture
def rows(tmp_path):
    """The provenance rows of the study's own stores of videos ``a`` .. ``e``."""
    from report_helpers import make_store

    from ecoseg.report._provenance import provenance_row
    from ecoseg.report.read import read_video
    from ecoseg.study import load_study

    for name in "abcde":
        (tmp_path / f"{name}.mp4").write_bytes(b"")
    (tmp_path / "study.yaml").write_text(STUDY)
    study = load_study(tmp_path / "study.yaml")
    out = {}
    for name in "abcde":
        store = tmp_path / "out" / "stores" / f"{name}.zarr"
        make_store(store, [(1, "wrasse", "prompt")], {1: [0]})
        out[name] = provenance_row(read_video(name, str(store), name, study))
    return out


def test_a_calibration_written_as_a_number_or_as_text_reads_the_same(rows):
    """``calibration: 0.25`` showed ``0.25 mm/px`` and ``calibration: "0.25 mm/px"`` (or
    ``"0.25"``) ``0.25 mm/px from 0.25``: one calibration, two texts on the page."""
    assert [rows[n]["calibration"] for n in "abc"] == ["0.25 mm/px"] * 3


def test_a_calibration_is_shown_with_every_digit_and_where_it_came_from(rows):
    """It was rounded to 4 digits (``0.3333 mm/px``), which typed back is another scale."""
    assert rows["d"]["calibration"] == "0.3333333333333333 mm/px"
    assert rows["e"]["calibration"] == "0.25 mm/px from scale-bar:0,0,0,20,5"


@pytest.mark.parametrize(
    ("seed", "shown"),
    [
        ({"seed": 0}, "none: random weights, seed 0 (pretrained = false)"),
        ({}, "none: random weights (pretrained = false)"),  # a store made before they were seeded
    ],
)
def test_random_weights_are_shown_with_their_seed(seed, shown, tmp_path):
    """The store's model entry records the seed of its random weights (``"seed": 0``,
    ``ecoseg.engine.settings.RANDOM_WEIGHTS_SEED``); the page said only "random weights"."""
    from report_helpers import make_store

    from ecoseg.report._provenance import provenance_row
    from ecoseg.report.read import read_video

    store = tmp_path / "a.zarr"
    model = {"variant": "sam2.1-tiny", "image_size": 1024, "pretrained": False, **seed}
    make_store(store, [(1, "wrasse", "prompt")], {1: [0]}, engine="sam2", model=model)
    row = provenance_row(read_video("a", str(store), "a", None))
    assert row["checkpoint"] == shown and row["model"] == "sam2.1-tiny at 1024 px"
