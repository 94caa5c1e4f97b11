"""Tests of ecoseg.measure.tracks: trajectory summaries from regions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecoseg.measure.regions import region_table
from ecoseg.measure.tracks import track_table


def moving_square(steps, times, side=6, size=(60, 80), start=(10, 5)):
    """Label frames of a square whose top-left corner moves by ``steps`` (dx, dy)."""
    n = len(times)
    lab = np.zeros((n, *size), np.uint32)
    x, y = start
    for i in range(n):
        if i:
            x, y = x + steps[i - 1][0], y + steps[i - 1][1]
        lab[i, y : y + side, x : x + side] = 3
    return region_table(lab, times=times)


def test_square_at_constant_speed_with_variable_frame_times():
    times = [0.0, 0.04, 0.1, 0.12, 0.2]  # variable frame rate
    reg = moving_square([(3, 4)] * 4, times)
    t = track_table(reg).iloc[0]
    assert t["object_id"] == 3 and t["frames_present"] == 5
    assert (t["first_frame"], t["last_frame"]) == (0, 4)
    assert t["duration_s"] == pytest.approx(0.2)
    assert t["path_length_px"] == pytest.approx(20.0)  # 4 steps of 5 px
    assert t["net_displacement_px"] == pytest.approx(20.0)
    assert t["straightness"] == pytest.approx(1.0)
    assert t["mean_speed_px_s"] == pytest.approx(20.0 / 0.2)
    # fastest step: 5 px in 0.02 s
    assert t["max_speed_px_s"] == pytest.approx(5 / 0.02)
    assert t["mean_area_px"] == 36


def test_gap_is_bridged_by_a_straight_line():
    times = np.arange(6) * 0.5
    # 2 px a frame, 5 px while hidden: the bridged step is the fastest
    reg = moving_square([(2, 0), (2, 0), (5, 0), (2, 0), (2, 0)], times)
    reg = reg[~reg["frame"].isin([2, 3])]  # occluded for two frames
    t = track_table(reg).iloc[0]
    assert t["frames_present"] == 4
    assert t["path_length_px"] == pytest.approx(2 + 9 + 2)
    assert t["max_speed_px_s"] == pytest.approx(9 / 1.5)  # bridged step, 3 frame intervals


def test_zigzag_path_straightness_by_hand():
    times = [0.0, 1.0, 2.0]
    reg = moving_square([(3, 4), (3, -4)], times)
    t = track_table(reg).iloc[0]
    assert t["path_length_px"] == pytest.approx(10.0)
    assert t["net_displacement_px"] == pytest.approx(6.0)
    assert t["straightness"] == pytest.approx(0.6)
    assert t["mean_speed_px_s"] == pytest.approx(5.0)


def test_single_frame_and_stationary_objects():
    lab = np.zeros((3, 20, 20), np.uint32)
    lab[0, 1:3, 1:3] = 1  # seen once
    lab[:, 10:14, 10:14] = 2  # never moves
    t = track_table(region_table(lab, times=[0, 1, 2])).set_index("object_id")
    assert t.loc[1, "duration_s"] == 0
    assert math.isnan(t.loc[1, "mean_speed_px_s"]) and math.isnan(t.loc[1, "max_speed_px_s"])
    assert math.isnan(t.loc[1, "straightness"])
    assert t.loc[2, "path_length_px"] == 0 and t.loc[2, "mean_speed_px_s"] == 0
    assert math.isnan(t.loc[2, "straightness"])
    assert t.loc[2, "class"] == "unknown"


@settings(max_examples=25, deadline=None)
@given(
    mm=st.floats(1e-3, 10.0),
    dx=st.integers(-3, 3),
    dy=st.integers(-3, 3),
    dt=st.floats(0.01, 1.0),
)
def test_calibrated_units(mm, dx, dy, dt):
    reg = moving_square([(dx, dy)] * 3, [0, dt, 2 * dt, 3 * dt], start=(20, 20))
    t = track_table(reg, calibration=mm).iloc[0]
    for px, mmcol in [
        ("path_length_px", "path_length_mm"),
        ("net_displacement_px", "net_displacement_mm"),
        ("mean_speed_px_s", "mean_speed_mm_s"),
        ("max_speed_px_s", "max_speed_mm_s"),
    ]:
        assert t[mmcol] == pytest.approx(t[px] * mm, nan_ok=True)
    assert t["mean_area_mm2"] == pytest.approx(36 * mm * mm)
    assert t["mean_speed_px_s"] == pytest.approx(math.hypot(dx, dy) / dt)


def test_units_in_attrs_and_calibration_from_regions_attrs():
    reg = moving_square([(1, 0)] * 2, [0, 1, 2])
    reg.attrs["calibration"] = {"mm_per_px": 2.0, "method": "scale"}
    t = track_table(reg)
    assert t["path_length_mm"].iloc[0] == pytest.approx(4.0)
    assert t.attrs["units"]["mean_speed_mm_s"] == "mm/s"
    assert t.attrs["units"]["duration_s"] == "s"
    assert t.attrs["table"] == "tracks"


def test_bad_regions_tables():
    reg = moving_square([(1, 0)] * 2, [0, 1, 2])
    with pytest.raises(ValueError, match="time_s"):
        track_table(reg.drop(columns="time_s"))
    with pytest.raises(ValueError, match="two rows"):
        track_table(pd.concat([reg, reg.iloc[:1]]))


def test_a_video_without_animals_has_the_column_types_of_one_with_animals():
    # its path_length_px was int64 (the sum of no steps), float64 in every other video: the
    # per-video Parquet files of a study then had two schemas for one column
    seen = region_table(np.ones((2, 4, 4), np.uint8), times=np.array([0.0, 0.5]))
    none = region_table(np.zeros((2, 4, 4), np.uint8), times=np.array([0.0, 0.5]))
    a, b = track_table(seen, calibration=0.5), track_table(none, calibration=0.5)
    assert len(b) == 0
    assert b.dtypes.astype(str).to_dict() == a.dtypes.astype(str).to_dict()


def test_an_unknown_a_person_looked_at_has_no_class_probability(tmp_path):
    """``--set-class ID=unknown`` (looked at, no name) gave the track a probability of 1 in
    the tables, as if a species had been confirmed; older stores recorded 1 for it too."""
    import shutil

    import ecoseg
    from ecoseg.cli import main
    from ecoseg.measure.regions import regions

    clip = ecoseg.synth(tmp_path / "clip", frames=3, size=(96, 64), seed=1)
    store = tmp_path / "edited.zarr"
    shutil.copytree(clip.truth, store)
    assert main(["edit", str(store), "--set-class", "1=unknown", "--set-class", "2=wrasse"]) == 0
    tracks = track_table(regions(store)).set_index("object_id")
    assert tracks.loc[1, "class"] == "unknown" and tracks.loc[1, "class_source"] == "reviewed"
    assert math.isnan(tracks.loc[1, "class_probability"])
    assert tracks.loc[2, "class_probability"] == 1.0  # a name a person gave
    assert tracks.loc[3, "class_probability"] == 1.0  # the clip's own (prompted) name


def test_a_photo_survey_has_no_duration_path_or_speed(tmp_path):
    """A survey's instance is in one photograph, its ``time_s`` the photograph's index: its
    track said ``duration_s`` 0 (seconds) and a path of 0 px; they are NaN now, as its speeds
    and straightness, in px and mm alike (an instance's area stays measured)."""
    from ecoseg.measure import measure
    from ecoseg.measure.tracks import MOTION_COLUMNS
    from ecoseg.store import MaskStore

    labels = np.zeros((2, 8, 10), np.uint32)
    labels[0, 0:2, 0:2], labels[1, 4:6, 4:7] = 1, 2
    video = {"path": "quadrats", "width": 10, "height": 8, "images": ["q1.jpg", "q2.jpg"]}
    objects = [(k, "sea urchin", "concept") for k in (1, 2)]
    with MaskStore.create(
        tmp_path / "s.zarr", height=8, width=10, objects=objects, provenance={"video": video}
    ) as s:
        s.append(labels, np.arange(2.0))
        s.mark_complete()
    tracks = measure(tmp_path / "s.zarr", calibration=0.5)["tracks"]
    motion = [*MOTION_COLUMNS, "path_length_mm", "net_displacement_mm", "mean_speed_mm_s"]
    assert tracks[motion].isna().all().all()
    assert tracks["mean_area_px"].tolist() == [4.0, 6.0]
    assert tracks["first_frame"].tolist() == [0, 1]


def test_a_photo_survey_s_times_are_in_the_unit_index(tmp_path):
    """A survey's ``time_s`` is its photograph's index (0, 1, 2, ...): ``tables.json`` and
    each table's units said ``s``, seconds it does not hold; they say ``index`` now, a
    video's stay ``s``."""
    from ecoseg.measure import measure
    from ecoseg.measure.tables import read_table
    from ecoseg.store import MaskStore

    labels = np.zeros((2, 8, 10), np.uint32)
    labels[0, 0:2, 0:2], labels[1, 4:6, 4:7] = 1, 2
    objects = [(k, "sea urchin", "concept") for k in (1, 2)]
    for name, video in [
        ("s", {"path": "quadrats", "width": 10, "height": 8, "images": ["q1.jpg", "q2.jpg"]}),
        ("v", {"path": "clip.mp4", "width": 10, "height": 8}),
    ]:
        with MaskStore.create(
            tmp_path / f"{name}.zarr", height=8, width=10, objects=objects,
            provenance={"video": video},
        ) as s:  # fmt: skip
            s.append(labels, np.arange(2.0))
            s.mark_complete()
        measure(tmp_path / f"{name}.zarr", tmp_path / name)
    for name, expected in (("s", "index"), ("v", "s")):
        for table, column in [
            ("regions", "time_s"), ("counts", "time_s"), ("maxn", "time_s"),
            ("cover", "time_s"), ("tracks", "first_time_s"), ("tracks", "last_time_s"),
        ]:  # fmt: skip
            units = read_table(tmp_path / name / f"{table}.csv").attrs["units"]
            assert units[column] == expected, (name, table, column)
