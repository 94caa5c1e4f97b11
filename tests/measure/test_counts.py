"""Tests of ecoseg.measure.counts: counts per frame and class, MaxN."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecoseg.measure.counts import counts_table, maxn_table


def regions_of(rows):
    """rows: (frame, object_id, class)."""
    return pd.DataFrame(rows, columns=["frame", "object_id", "class"])


def test_counts_every_frame_and_class_with_zeros():
    reg = regions_of(
        [
            (0, 1, "wrasse"),
            (1, 1, "wrasse"),
            (1, 2, "wrasse"),
            (1, 7, "grouper"),
            (3, 2, "wrasse"),
        ]
    )
    times = [0.0, 0.5, 1.1, 1.5]
    c = counts_table(reg, times, ["wrasse", "grouper", "shark"])
    assert len(c) == 4 * 3
    table = c.pivot(index="frame", columns="class", values="count")
    assert table["wrasse"].tolist() == [1, 2, 0, 1]
    assert table["grouper"].tolist() == [0, 1, 0, 0]
    assert table["shark"].tolist() == [0, 0, 0, 0]
    assert c.loc[c["frame"] == 2, "time_s"].unique().tolist() == [1.1]
    assert c.attrs["units"]["count"] == "individuals"


def test_default_classes_are_those_present():
    reg = regions_of([(0, 1, "b"), (0, 2, "a")])
    c = counts_table(reg, [0.0])
    assert c["class"].tolist() == ["a", "b"]


def test_maxn_is_the_largest_single_frame_count_and_its_first_time():
    # 3 different wrasse are seen overall, but never more than 2 together
    reg = regions_of(
        [
            (0, 1, "wrasse"),
            (1, 1, "wrasse"),
            (1, 2, "wrasse"),
            (2, 3, "wrasse"),
            (3, 2, "wrasse"),
            (3, 3, "wrasse"),
            (2, 9, "grouper"),
        ]
    )
    c = counts_table(reg, [0.0, 0.2, 0.4, 0.6], ["wrasse", "grouper", "shark"])
    m = maxn_table(c).set_index("class")
    assert m.loc["wrasse", "maxn"] == 2
    assert m.loc["wrasse", "frame"] == 1 and m.loc["wrasse", "time_s"] == 0.2
    assert m.loc["grouper", "maxn"] == 1 and m.loc["grouper", "frame"] == 2
    assert m.loc["shark", "maxn"] == 0
    assert pd.isna(m.loc["shark", "frame"]) and np.isnan(m.loc["shark", "time_s"])
    assert list(m.index) == ["wrasse", "grouper", "shark"]
    assert m.attrs["units"]["maxn"] == "individuals"


def test_bad_regions():
    with pytest.raises(ValueError, match="duplicate"):
        counts_table(regions_of([(0, 1, "a"), (0, 1, "a")]), [0.0])
    with pytest.raises(ValueError, match="frame 5"):
        counts_table(regions_of([(5, 1, "a")]), [0.0, 1.0])
