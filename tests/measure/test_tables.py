"""ecoseg.measure.tables: table files (read, deterministic write) and combined tables."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from ecoseg.errors import ClassNameWarning, ConfigError
from ecoseg.measure.tables import (
    META_COLUMNS,
    combine_tables,
    csv_bytes,
    one_spelling,
    read_table,
    unclean_class_names,
    write_table,
)


def _table() -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "frame": np.arange(4, dtype=np.int64),
            "class": ["fish", "coral", "fish", "fish"],
            "area_mm2": [1.5, np.nan, 3.25, 4.0],
        }
    )
    df.attrs["units"] = {"area_mm2": "mm2"}
    return df


def test_write_table_bytes_are_deterministic_and_read_back(tmp_path):
    df = _table()
    first = write_table(df, tmp_path / "a", "regions")
    second = write_table(df.copy(), tmp_path / "b", "regions")
    assert first == second and sorted(first) == ["csv", "parquet"]
    for fmt, sha in first.items():
        data = (tmp_path / "a" / f"regions.{fmt}").read_bytes()
        assert hashlib.sha256(data).hexdigest() == sha
    assert (tmp_path / "a" / "regions.csv").read_bytes() == csv_bytes(df)
    assert b"coral,\n" in csv_bytes(df)  # missing values are empty fields
    back = read_table(tmp_path / "a" / "regions.parquet")
    pd.testing.assert_frame_equal(back, df)
    assert back.attrs["units"] == {"area_mm2": "mm2"}
    assert not list((tmp_path / "a").glob(".*tmp"))  # no temporary file is left behind


def test_write_table_only_the_formats_asked(tmp_path):
    assert list(write_table(_table(), tmp_path, "counts", formats=("parquet",))) == ["parquet"]
    assert not (tmp_path / "counts.csv").exists()
    with pytest.raises(ConfigError, match="xlsx"):
        write_table(_table(), tmp_path, "counts", formats=("xlsx",))


def test_read_table_names_a_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="nothere.parquet: no such table"):
        read_table(tmp_path / "nothere.parquet")


def test_combine_tables_orders_rows_and_keeps_units():
    a = pd.DataFrame({"frame": [0, 1], "count": [1, 2]})
    a.attrs["units"] = {"count": "1"}
    b = pd.DataFrame({"frame": [0], "count": [5]})
    out = combine_tables(
        {"b": {"counts": b}, "a": {"counts": a}},
        {"a": {"site": "N", "depth_m": 3}, "b": {"site": "S", "transect": "T9"}},
    )["counts"]
    assert out["video"].tolist() == ["b", "a", "a"]
    assert out["site"].tolist() == ["S", "N", "N"]
    assert out["transect"].tolist() == ["T9", None, None]
    assert out["depth_m"].isna().tolist() == [True, False, False]
    assert out.attrs["units"] == {"count": "1", "depth_m": "m"}
    assert out.index.tolist() == [0, 1, 2]


def test_combined_units_name_each_unit_the_videos_give_a_column():
    # a study of a video and a photo survey: the combined time_s took the last video's unit
    video = pd.DataFrame({"time_s": [0.5], "count": [1]})
    video.attrs["units"] = {"time_s": "s", "count": "individuals"}
    survey = pd.DataFrame({"time_s": [1.0], "count": [2]})
    survey.attrs["units"] = {"time_s": "index", "count": "individuals"}
    again = video.copy()
    again.attrs["units"] = dict(video.attrs["units"])
    tables = {"v": {"counts": video}, "q": {"counts": survey}, "w": {"counts": again}}
    units = combine_tables(tables)["counts"].attrs["units"]
    assert units == {"count": "individuals", "depth_m": "m", "time_s": "s or index"}


def test_combine_tables_puts_meta_columns_first():
    df = pd.DataFrame({"site": ["stale"], "maxn": [2]})  # an old meta column is replaced
    out = combine_tables({"v": {"maxn": df}}, {"v": {"site": "N", "date": "2024-03-12"}})["maxn"]
    assert tuple(out.columns[: len(META_COLUMNS)]) == META_COLUMNS
    assert out.loc[0, ["video", "site", "date"]].tolist() == ["v", "N", "2024-03-12"]
    assert out["depth_m"].dtype == np.float64


def test_csv_text_columns_read_back_as_written(tmp_path):
    # species codes with leading zeros and names pandas takes for missing values stay text
    from ecoseg.measure import measure
    from ecoseg.store import MaskStore

    names = ["0123", "NA", "None", "1.50"]
    objects = [(i + 1, name, "prompt") for i, name in enumerate(names)]
    store = MaskStore.create(tmp_path / "m.zarr", height=4, width=4, objects=objects)
    labels = np.zeros((2, 4, 4), np.uint32)
    labels[:, 0, :] = [1, 2, 3, 4]
    store.append(labels, [0.0, 0.5])
    store.close()
    tables = measure(tmp_path / "m.zarr", tmp_path / "out")
    for name, df in tables.items():
        csv = read_table(tmp_path / "out" / f"{name}.csv")
        assert csv["class"].tolist() == df["class"].tolist(), name
        pd.testing.assert_frame_equal(csv, df, check_dtype=False)
    assert read_table(tmp_path / "out" / "maxn.csv")["class"].tolist() == names
    # combined tables: a transect "01", a site "NA"; a missing site stays missing
    combined = combine_tables(
        {"001": {"maxn": tables["maxn"]}, "b": {"maxn": tables["maxn"]}},
        {"001": {"site": "NA", "transect": "01"}},
    )["maxn"]
    write_table(combined, tmp_path / "study", "maxn")
    back = read_table(tmp_path / "study" / "maxn.csv")
    assert back["video"].tolist() == ["001"] * 4 + ["b"] * 4
    assert back["transect"].tolist()[:4] == ["01"] * 4
    assert back["site"].tolist()[:4] == ["NA"] * 4
    assert back["site"].isna().tolist() == [False] * 4 + [True] * 4
    assert back["maxn"].tolist() == combined["maxn"].tolist()
    assert back["time_s"].tolist() == combined["time_s"].tolist()


PER_CLASS = ("counts", "maxn", "cover")


def _measured(folder, name, objects, mask, **kwargs):
    """``measure`` of a one-frame 4x4 store holding ``objects`` (mask 0: none shown) into
    ``folder / name``."""
    from ecoseg.measure import measure
    from ecoseg.store import MaskStore

    with MaskStore.create(folder / f"{name}.zarr", height=4, width=4, objects=objects) as s:
        labels = np.zeros((1, 4, 4), np.uint32)
        labels[0, 1:3, 1:3] = mask
        s.append(labels, [0.0])
        s.mark_complete()
    return measure(folder / f"{name}.zarr", folder / name, **kwargs)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_table_of_no_rows_reads_back_with_the_types_of_one_row(tmp_path, fmt):
    """A store with frames and no objects gives regions and tracks of no rows (and counts,
    cover and MaxN of 0 of `unknown`): a CSV of no rows (a header alone) reads back with
    every column of type object, where a table of one row reads back int64, float64 and
    text. tables.json keeps the types for them; without it (a copy of the CSV alone) the
    known tables' types do, also for a counts, cover or MaxN table of no rows."""
    from ecoseg.measure import TABLES

    empty = _measured(tmp_path, "empty", [], 0)
    one = _measured(tmp_path, "one", [(1, "wrasse", "prompt")], 1)
    for name in TABLES:
        assert (len(empty[name]), len(one[name])) == (int(name in PER_CLASS), 1), name
    for name in PER_CLASS:  # no rows (an older ecoseg wrote them for a store of no object)
        write_table(one[name].iloc[:0], tmp_path / "none", name, formats=(fmt,))
        want = read_table(tmp_path / "one" / f"{name}.{fmt}").dtypes
        got = read_table(tmp_path / "none" / f"{name}.{fmt}").dtypes
        pd.testing.assert_series_equal(got, want, obj=f"{name} of no rows")
        want = read_table(tmp_path / "one" / f"{name}.{fmt}").dtypes
        got = read_table(tmp_path / "empty" / f"{name}.{fmt}").dtypes
        pd.testing.assert_series_equal(got, want, obj=name)
    (tmp_path / "empty" / "tables.json").unlink()
    for name in TABLES:
        want = read_table(tmp_path / "one" / f"{name}.{fmt}").dtypes
        got = read_table(tmp_path / "empty" / f"{name}.{fmt}").dtypes
        pd.testing.assert_series_equal(got, want, obj=f"{name} without tables.json")


def test_the_whole_number_columns_are_those_of_the_tables():
    """WHOLE_NUMBER_COLUMNS (what types a header alone) is true of every column of every table,
    calibrated and with a region of interest."""
    import tempfile
    from pathlib import Path

    from ecoseg.measure.tables import TABLES, TEXT_COLUMNS, WHOLE_NUMBER_COLUMNS

    roi = np.ones((4, 4), bool)
    with tempfile.TemporaryDirectory() as folder:
        tables = _measured(
            Path(folder), "one", [(1, "wrasse", "prompt")], 1, calibration=0.5, roi=roi
        )
    seen = set()
    for name in TABLES:
        for col, dtype in tables[name].dtypes.items():
            seen.add(col)
            if col in TEXT_COLUMNS:
                continue
            want = "Int64" if (name, col) == ("maxn", "frame") else "float64"
            want = "int64" if col in WHOLE_NUMBER_COLUMNS and want != "Int64" else want
            assert str(dtype) == want, (name, col)
    assert {"cover_mm2", "area_mm2", "mean_speed_mm_s"} <= seen  # calibrated were measured


def test_combined_tables_of_no_rows_keep_their_types_in_a_concat(tmp_path):
    # a study's combined CSVs have no tables.json beside them: a study of videos without
    # objects read back every column as object, and pd.concat with another study's tables
    # made their counts and times object too
    from ecoseg.measure import TABLES
    from ecoseg.measure.tables import TEXT_COLUMNS

    empty = {v: _measured(tmp_path, v, [], 0) for v in ("a", "b")}
    one = {"c": _measured(tmp_path, "c", [(1, "wrasse", "prompt")], 1)}
    for study, per_video in (("empty", empty), ("one", one)):
        for name, df in combine_tables(per_video).items():
            # (their counts, cover and MaxN have rows of 0 of unknown now: cut to none)
            df = df.iloc[:0] if study == "empty" else df
            write_table(df, tmp_path / study, name, formats=("csv",))
    assert not (tmp_path / "empty" / "tables.json").exists()
    for name in TABLES:
        no_rows = read_table(tmp_path / "empty" / f"{name}.csv")
        some = read_table(tmp_path / "one" / f"{name}.csv")
        assert len(no_rows) == 0 and len(some) == 1, name
        both = pd.concat([no_rows, some], ignore_index=True)
        pd.testing.assert_series_equal(both.dtypes, some.dtypes, obj=name)
        numeric = [c for c in both.columns if c not in TEXT_COLUMNS]
        assert numeric and all(pd.api.types.is_numeric_dtype(both[c]) for c in numeric), name


def test_a_campaign_table_of_no_rows_takes_the_tables_types_and_others_are_left(tmp_path):
    header = "video,frame,time_s,class,cover_px,cover_fraction\n"
    (tmp_path / "campaign-cover.csv").write_text(header)  # ecoseg batch --measure
    (tmp_path / "notes.csv").write_text(header)  # not a table of ecoseg's
    back = read_table(tmp_path / "campaign-cover.csv")
    numbers = ["frame", "time_s", "cover_px", "cover_fraction"]
    assert [str(t) for t in back[numbers].dtypes] == ["int64", "float64", "int64", "float64"]
    left = read_table(tmp_path / "notes.csv")[numbers].dtypes
    assert [str(t) for t in left] == ["object"] * 4


def test_combined_tables_warn_of_names_differing_only_in_case_across_videos():
    import warnings

    from ecoseg.errors import ClassNameWarning

    def maxn(*classes):
        return {"maxn": pd.DataFrame({"class": list(classes), "maxn": [1] * len(classes)})}

    with pytest.warns(ClassNameWarning) as caught:
        out = combine_tables({"T1": maxn("parrotfish", "wrasse"), "T2": maxn("Parrotfish")})
    assert len(caught) == 1
    assert str(caught[0].message).startswith(
        "class names 'Parrotfish' (video T2) and 'parrotfish' (video T1) differ only in letter "
        "case and are counted as 2 species in the combined tables"
    )
    assert out["maxn"]["class"].tolist() == ["parrotfish", "wrasse", "Parrotfish"]  # as named
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClassNameWarning)
        combine_tables({"T1": maxn("parrotfish"), "T2": maxn("parrotfish", "wrasse")})


NFC, NFD = "\u014ctaki", "O\u0304taki"


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_tables_an_older_ecoseg_wrote_are_read_in_the_one_spelling(tmp_path, fmt):
    """Per-video tables an older ecoseg wrote with a name in NFC and NFD (or two spaces) were
    combined as they were: 'Ōtaki' two species. Read back, a name has one spelling, and the
    counts and cover of one frame and name are added up."""
    counts = pd.DataFrame(
        {
            "frame": [0, 0, 0, 1],
            "time_s": [0.0, 0.0, 0.0, 0.5],
            "class": [NFC, NFD, "sea  urchin", NFD],
            "count": [1, 2, 1, 1],
        }
    )
    cover = counts.rename(columns={"count": "cover_px"}).assign(
        cover_fraction=[0.1, 0.2, 0.1, 0.1], cover_mm2=np.nan
    )
    tracks = pd.DataFrame({"object_id": [1, 2], "class": [NFC, NFD], "duration_s": [1.0, 2.0]})
    folder = tmp_path / "a"
    for name, df in (("counts", counts), ("cover", cover), ("tracks", tracks)):
        write_table(df, folder, name)
    assert unclean_class_names(folder / f"counts.{fmt}") == [NFD, "sea  urchin"]
    got = read_table(folder / f"counts.{fmt}")
    assert got.columns.tolist() == counts.columns.tolist()
    assert got[["frame", "class", "count"]].values.tolist() == [
        [0, NFC, 3],
        [0, "sea urchin", 1],
        [1, NFC, 1],
    ]
    got = read_table(folder / f"cover.{fmt}")
    assert got["cover_px"].tolist() == [3, 1, 1]
    assert got["cover_fraction"].tolist() == pytest.approx([0.3, 0.1, 0.1])
    assert got["cover_mm2"].isna().all()  # uncalibrated stays missing, not 0
    assert read_table(folder / f"tracks.{fmt}")["class"].tolist() == [NFC, NFC]
    # combined with a table of this version: one species, no case clash to warn of
    b = {"counts": pd.DataFrame({"frame": [0], "time_s": [0.0], "class": [NFC], "count": [4]})}
    out = combine_tables({"a": {"counts": read_table(folder / f"counts.{fmt}")}, "b": b})
    assert sorted(set(out["counts"]["class"])) == ["sea urchin", NFC]
    write_table(tracks, tmp_path / "new", "tracks")
    assert unclean_class_names(tmp_path / "new" / f"tracks.{fmt}") == [NFD]


def test_a_maxn_table_with_a_name_in_two_spellings_warns(tmp_path):
    """MaxN of two spellings cannot be joined from the table (the most at once of both is not
    in it): the rows are kept apart, named alike, with a warning to measure again."""
    maxn = pd.DataFrame({"class": [NFC, NFD], "maxn": [1, 2], "frame": [0, 3], "time_s": [0, 1.5]})
    write_table(maxn, tmp_path, "maxn")
    with pytest.warns(ClassNameWarning, match="two spellings of one name .*measure the store"):
        got = read_table(tmp_path / "maxn.csv")
    assert got["class"].tolist() == [NFC, NFC] and got["maxn"].tolist() == [1, 2]


def test_a_split_maxn_written_back_in_one_spelling_is_still_found(tmp_path):
    """A maxn table read with its two rows kept apart and written again holds one name twice,
    now in one spelling: read back, it was taken as it was (one species drawn twice) where the
    same rows in two spellings were warned of. The split is found however it is spelled."""
    import warnings

    maxn = pd.DataFrame({"class": [NFC, NFD], "maxn": [1, 2], "frame": [0, 3], "time_s": [0, 1.5]})
    with pytest.warns(ClassNameWarning):
        write_table(one_spelling(maxn, "maxn"), tmp_path, "maxn")
    with pytest.warns(ClassNameWarning, match=f"two spellings of one name \\({NFC}\\)"):
        got = read_table(tmp_path / "maxn.csv")
    assert got["class"].tolist() == [NFC, NFC]
    write_table(maxn.iloc[:1], tmp_path / "one", "maxn")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClassNameWarning)
        assert read_table(tmp_path / "one" / "maxn.csv")["maxn"].tolist() == [1]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_split_maxn_file_is_rebuilt_from_the_counts_file_beside_it(tmp_path, fmt):
    """read_table of a maxn file with a name in two spellings kept the rows apart and told
    the user to measure again, though the counts file measured with it lay beside it (the
    report rebuilds from counts it is given): it is now rebuilt from that file, which
    covers it; a counts file that does not cover it (another video) rebuilds nothing."""
    maxn = pd.DataFrame(
        {
            "video": ["a", "a"],
            "class": [NFC, NFD],
            "maxn": [2, 1],
            "frame": [0, 1],
            "time_s": [0.0, 0.5],
        }
    )
    counts = pd.DataFrame(
        {
            "video": ["a"] * 4,
            "frame": [0, 0, 1, 1],
            "time_s": [0.0, 0.0, 0.5, 0.5],
            "class": [NFC, NFD, NFC, NFD],
            "count": [2, 0, 2, 1],
        }
    )
    write_table(maxn, tmp_path, "maxn", formats=(fmt,))
    write_table(counts, tmp_path, "counts", formats=(fmt,))
    with pytest.warns(ClassNameWarning, match=f"maxn.{fmt}: .* rebuilt from the counts table"):
        got = read_table(tmp_path / f"maxn.{fmt}")
    assert got.values.tolist() == [["a", NFC, 3, 1, 0.5]]
    write_table(counts.assign(video="b"), tmp_path, "counts", formats=(fmt,))
    with pytest.warns(ClassNameWarning, match="kept apart"):
        assert len(read_table(tmp_path / f"maxn.{fmt}")) == 2


def test_a_split_maxn_is_rebuilt_only_from_counts_that_cover_it():
    """one_spelling(maxn, counts=...) makes the rows of one video and name one, its MaxN
    the most counted at once of both spellings; counts without that video or name rebuild
    nothing: the rows are kept apart with a warning, or refused (refuse=True)."""
    maxn = pd.DataFrame(
        {
            "video": ["a", "a", "b"],
            "class": [NFC, NFD, NFC],
            "maxn": [2, 1, 5],
            "frame": pd.array([0, 1, 0], dtype="Int64"),
            "time_s": [0.0, 0.5, 0.0],
        }
    )
    counts = pd.DataFrame(
        {
            "video": ["a"] * 4 + ["b"] * 2,
            "frame": [0, 0, 1, 1, 0, 1],
            "time_s": [0.0, 0.0, 0.5, 0.5, 0.0, 0.5],
            "class": [NFC, NFD, NFC, NFD, NFC, NFC],
            "count": [2, 0, 2, 1, 5, 4],
        }
    )
    with pytest.warns(ClassNameWarning, match=f"\\({NFC}\\): .* rebuilt from the counts table"):
        got = one_spelling(maxn, "maxn", counts=counts)
    assert got.values.tolist() == [["a", NFC, 3, 1, 0.5], ["b", NFC, 5, 0, 0.0]]
    assert got["frame"].dtype == "Int64"
    for partial in (counts[counts["video"] == "b"], counts.drop(columns="video")):
        with pytest.raises(ConfigError, match=f"^table 'maxn' has two rows .* for {NFC} "):
            one_spelling(maxn, "maxn", counts=partial, refuse=True)
        with pytest.warns(ClassNameWarning, match="kept apart"):
            assert len(one_spelling(maxn, "maxn", counts=partial)) == 3


def _concat_of(per_video, meta, name):
    """Table ``name`` of ``per_video`` stacked with ``pd.concat``, the metadata columns
    inserted into each video's table first (how combine_tables stacked them before it could
    let go of them)."""
    frames = []
    for video, tables in per_video.items():
        df = tables[name].drop(columns=[c for c in META_COLUMNS if c in tables[name].columns])
        info = {**dict.fromkeys(META_COLUMNS), "video": video, **meta.get(video, {})}
        for i, col in enumerate(META_COLUMNS):
            df.insert(i, col, pd.Series([info[col]] * len(df), index=df.index, dtype=object))
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["depth_m"] = pd.to_numeric(out["depth_m"], errors="coerce").astype("float64")
    return out


def test_combine_tables_letting_go_of_the_tables_stacks_the_same(tmp_path):
    objects = [(1, "wrasse", "prompt"), (2, "sea urchin", "prompt")]
    per_video = {
        "a": _measured(tmp_path, "a", objects, 1, calibration=0.5),
        "b": _measured(tmp_path, "b", objects, 2, calibration=0.5),
        "none": _measured(tmp_path, "none", objects, 0, calibration=0.5),  # tables of no rows
        "c": _measured(tmp_path, "c", objects, 2, calibration=0.5),
    }
    per_video["c"]["maxn"] = per_video["c"]["maxn"].assign(site="stale")  # replaced
    meta = {"a": {"site": "N", "depth_m": 3}, "c": {"transect": "01", "date": "2024-03-12"}}
    kept = combine_tables(per_video, meta)
    expected = {name: _concat_of(per_video, meta, name) for name in kept}
    released = combine_tables(per_video, meta, release=True)
    assert all(tables == {} for tables in per_video.values())  # taken out, as it said
    assert list(released) == list(kept)
    for name, df in released.items():
        pd.testing.assert_frame_equal(df, kept[name], check_exact=True)
        pd.testing.assert_frame_equal(df, expected[name], check_exact=True)
        assert df.attrs == kept[name].attrs and df.columns.dtype == kept[name].columns.dtype
    # tables of other columns (one video uncalibrated) are stacked as pd.concat stacks them
    uncalibrated = {"u": _measured(tmp_path, "u", objects, 1)}
    mixed = {"a": _measured(tmp_path, "a2", objects, 1, calibration=0.5), **uncalibrated}
    expected = {name: _concat_of(mixed, {}, name) for name in mixed["a"]}
    for name, df in combine_tables(mixed, release=True).items():
        pd.testing.assert_frame_equal(df, expected[name], check_exact=True)


def test_a_combined_case_clash_says_how_to_name_tracks_alike_in_python_too():
    """The combined tables' warning named only the CLI's --set-class."""
    a = {"maxn": pd.DataFrame({"class": ["wrasse"], "maxn": [1]})}
    b = {"maxn": pd.DataFrame({"class": ["Wrasse"], "maxn": [2]})}
    with pytest.warns(ClassNameWarning) as caught:
        combine_tables({"a": a, "b": b})
    assert str(caught[0].message).endswith(
        "name their tracks alike (ecoseg edit STORE --set-class ID=NAME (in Python "
        "ecoseg.Review('STORE').set_class(ID, 'NAME')))"
    )
