"""Bad arguments to the tables' own functions from a notebook (``counts_table``, ``maxn_table``,
``cover_table``, ``track_table``, ``read_table``, ``measure(classes=, roi=)``): a table with a
misspelt column, a regions table given for counts, a folder given for a table file. One line
naming the argument, never pandas' bare ``KeyError: 'count'`` and never a silently wrong table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from reliability_helpers import assert_names

import ecoseg
from ecoseg.errors import ConfigError
from ecoseg.measure import counts_table, cover_table, maxn_table, read_table, track_table

pytestmark = pytest.mark.bad_input

REGIONS = pd.DataFrame(
    {
        "frame": [0, 1, 1],
        "time_s": [0.0, 0.5, 0.5],
        "object_id": [1, 1, 2],
        "class": ["wrasse"] * 3,
        "area_px": [10, 12, 8],
        "centroid_x_px": [1.0, 2.0, 5.0],
        "centroid_y_px": [1.0, 2.0, 5.0],
    }
)
TIMES = [0.0, 0.5]


@pytest.mark.parametrize(
    "call, culprits",
    [
        # a misspelt id column: KeyError: 'object_id'
        (
            lambda: counts_table(REGIONS.rename(columns={"object_id": "objectid"}), TIMES),
            ["counts_table: regions", "['object_id']", "objectid"],
        ),
        # the regions table given for counts (MaxN straight from the regions): KeyError: 'count'
        (lambda: maxn_table(REGIONS), ["maxn_table: counts", "['count']", "counts_table("]),
        # an area column that is not there: KeyError: 'area'
        (
            lambda: cover_table(REGIONS, TIMES, frame_area_px=100, area_column="area"),
            ["cover_table: regions", "['area']", "area_px"],
        ),
        (
            lambda: track_table(REGIONS.drop(columns=["time_s"])),
            ["track_table: regions", "['time_s']"],
        ),
    ],
)
def test_a_table_without_a_column_is_named(call, culprits):
    with pytest.raises(ValueError) as exc:
        call()
    assert_names(exc, *culprits)


@pytest.mark.parametrize("table", [REGIONS.to_dict("list"), None])
def test_a_table_that_is_no_dataframe_is_named(table):
    # a dict of columns: AttributeError: 'dict' object has no attribute 'columns'
    with pytest.raises(TypeError) as exc:
        maxn_table(table)
    assert_names(exc, "maxn_table: counts must be a pandas DataFrame")


@pytest.mark.parametrize("mm_per_px", [-0.5, 0, float("nan"), "0.5"])
def test_cover_names_a_scale_that_is_no_scale(mm_per_px):
    # -0.5 gave positive areas (squared), nan gave NaN areas, without a word
    with pytest.raises(ValueError) as exc:
        cover_table(REGIONS, TIMES, frame_area_px=100, mm_per_px=mm_per_px)
    assert_names(exc, "cover_table: mm_per_px", repr(mm_per_px))


def test_cover_names_a_frame_area_given_as_text():
    # '100' <= 0: a TypeError from the comparison
    with pytest.raises(ValueError) as exc:
        cover_table(REGIONS, TIMES, frame_area_px="100")
    assert_names(exc, "cover_table: frame_area_px", "'100'")


def test_cover_takes_numpy_numbers():
    got = cover_table(REGIONS, TIMES, frame_area_px=np.int64(100), mm_per_px=np.float32(0.5))
    assert got["cover_mm2"].tolist() == [2.5, 5.0]


@pytest.fixture(scope="module")
def tables_folder(clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("tables") / "tables"
    ecoseg.measure(clip.truth, out)
    return out


@pytest.mark.parametrize(
    "which, culprits",
    [
        # IsADirectoryError: [Errno 21] Is a directory
        ("folder", ["is a folder, not a table file", "read_table_folder(folder)"]),
        ("store", ["is a folder, not a table file", "a mask store: ecoseg.measure(store)"]),
        # UnicodeDecodeError: 'utf-8' codec can't decode byte ...
        ("video", ["video.mp4: not a table file (.parquet or .csv"]),
        # the table's name without its suffix: "no such table" alone
        ("name", ["maxn: no such table (did you mean maxn.parquet?)"]),
    ],
)
def test_read_table_names_what_is_no_table(clip, tables_folder, which, culprits):
    path = {
        "folder": tables_folder,
        "store": clip.truth,
        "video": clip.video,
        "name": tables_folder / "maxn",
    }[which]
    with pytest.raises(ConfigError) as exc:
        read_table(path)
    assert_names(exc, str(path), *culprits)


def test_read_table_names_a_path_that_is_no_path():
    with pytest.raises(TypeError) as exc:
        read_table(None)
    assert_names(exc, "read_table: path must be a table file", "None")


def test_measure_refuses_an_empty_list_of_classes(clip):
    # tables of no class: every MaxN table empty, as if nothing had been looked for
    with pytest.raises(ConfigError) as exc:
        ecoseg.measure(clip.truth, classes=[])
    assert_names(exc, "measure: classes is empty", "None for every class", "wrasse")


@pytest.mark.parametrize(
    "roi, culprits",
    [
        # a box, as a prompt's box is written: "needs >= 3 (x, y) vertices, got shape (4,)"
        ((0, 0, 40, 30), ["(0, 0, 40, 30) is 4 numbers", "[(0, 0), (40, 0), (40, 30), (0, 30)]"]),
        ([0, 0, 40], ["got [0, 0, 40]"]),  # it said only "got shape (3,)"
    ],
)
def test_measure_names_a_roi_that_is_no_polygon(clip, roi, culprits):
    with pytest.raises(ConfigError) as exc:
        ecoseg.measure(clip.truth, roi=roi)
    assert_names(exc, "roi", *culprits)


def test_measure_refuses_an_empty_list_of_formats(clip, tmp_path):
    # only tables.json was written, without a word
    with pytest.raises(ConfigError) as exc:
        ecoseg.measure(clip.truth, tmp_path / "t", formats=[])
    assert_names(exc, "measure: formats is empty", "parquet, csv")
    assert not (tmp_path / "t").exists()


def test_measure_takes_a_format_in_capitals_or_with_its_dot(clip, tmp_path):
    # "unknown table format 'CSV' (use parquet, csv)"
    ecoseg.measure(clip.truth, tmp_path / "t", formats=["CSV", ".parquet"])
    assert sorted(p.suffix for p in (tmp_path / "t").glob("maxn.*")) == [".csv", ".parquet"]


@pytest.mark.parametrize("typed, meant", [("Wrasse", "wrasse"), ("sea star", "sea_star")])
def test_measure_names_the_class_a_loosely_typed_one_means(clip, typed, meant):
    # it listed the known classes, leaving the user to spot the capital or the underscore
    with pytest.raises(ConfigError) as exc:
        ecoseg.measure(clip.truth, classes=[typed])
    assert_names(exc, f"unknown class {typed!r}", f"did you mean {meant!r}?")
