"""ecoseg.report.read: what the report (and ``ecoseg info``) read from a store."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from ecoseg._version import __version__
from ecoseg.report.read import read_video
from ecoseg.synth import synth


def test_read_video_has_the_writers_version_and_the_chunking(tmp_path):
    clip = synth(tmp_path / "clip", frames=5, size=(64, 48), chunk_frames=2)
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    assert info.ecoseg_version == __version__  # was "" (read from the wrong attribute level)
    assert info.chunk_frames == 2


def _swap_video(tmp_path):
    """A store whose video beside it was replaced by another clip of the same size and length."""
    import shutil

    clip = synth(tmp_path / "clip", frames=5, size=(64, 48), seed=1)
    other = synth(tmp_path / "other", frames=5, size=(64, 48), seed=2)
    shutil.copyfile(other.video, clip.video)
    return clip


def test_open_reader_refuses_a_same_sized_clip_that_is_not_the_stores(tmp_path, monkeypatch):
    from ecoseg.io.reader import VideoReader
    from ecoseg.report.read import open_reader

    clip = _swap_video(tmp_path)
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    hashed = []
    real = VideoReader.sha256
    monkeypatch.setattr(VideoReader, "sha256", lambda self: hashed.append(1) or real(self))
    for _ in range(3):  # the stills ask several times; the file is hashed once
        reader, reason = open_reader(info)
        assert reader is None
        assert reason == "the video at video.mp4 is not the store's video: the sha256 differs"
    assert len(hashed) == 1


def test_open_reader_accepts_the_stores_own_video(tmp_path):
    from ecoseg.report.read import open_reader

    clip = synth(tmp_path / "clip", frames=5, size=(64, 48), seed=1)
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    reader, reason = open_reader(info)
    assert reason is None and len(reader) == 5
    reader.close()
    assert info.video_refused == ""


def test_open_reader_names_a_one_frame_clip_in_the_singular(tmp_path):
    """A 1-frame clip in place of the store's video said 'it has 1 frames'."""
    import shutil

    from ecoseg.report.read import open_reader

    clip = synth(tmp_path / "clip", frames=5, size=(64, 48), seed=1)
    one = synth(tmp_path / "one", frames=1, size=(64, 48), seed=2)
    shutil.copyfile(one.video, clip.video)
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    reader, reason = open_reader(info)
    assert reader is None
    assert (
        reason
        == "the video at video.mp4 is not the store's video: it has 1 frame, the store's video 5"
    )


def test_report_page_says_why_a_wrong_video_gave_no_stills(tmp_path):
    from ecoseg.report import report

    clip = _swap_video(tmp_path)
    import html

    page = html.unescape(report(clip.truth, tmp_path / "r.html").read_text())
    assert "the video at video.mp4 is not the store's video: the sha256 differs" in page
    assert "blank background" in page


def _older_tables(tmp_path):
    """A store with two sea urchins and a wrasse, and its tables as an older ecoseg wrote them
    when the store spelled one urchin's class with two spaces (DataFrames, not files)."""
    from report_helpers import make_store

    import ecoseg

    path = tmp_path / "a.zarr"
    objects = [(1, "sea urchin", "prompt"), (2, "sea urchin", "prompt"), (3, "wrasse", "prompt")]
    make_store(path, objects, {1: [0, 1], 2: [0], 3: [2]})
    tables = ecoseg.measure(path)
    counts = tables["counts"]
    urchin = counts[(counts["class"] == "sea urchin") & (counts["frame"] == 0)]
    assert urchin["count"].tolist() == [2]
    older = urchin.assign(**{"class": "sea  urchin", "count": 1})
    counts = counts.copy()
    counts.loc[urchin.index, "count"] = 1
    tables["counts"] = pd.concat([counts, older], ignore_index=True)
    maxn = tables["maxn"]
    tables["maxn"] = pd.concat(
        [maxn, maxn[maxn["class"] == "sea urchin"].assign(**{"class": "sea  urchin", "maxn": 1})],
        ignore_index=True,
    )
    return path, tables


def test_tables_given_as_dataframes_are_read_in_the_one_spelling(tmp_path):
    """report(tables=...) used a DataFrame's class names as they were ('sea  urchin' and
    'sea urchin' two species) where read_table reads a file's in the one spelling: the counts
    of one frame and name are added up, a MaxN of two spellings is warned of."""
    from ecoseg.errors import ClassNameWarning, ConfigError
    from ecoseg.report.read import read_tables

    path, tables = _older_tables(tmp_path)
    videos = [read_video("a", str(path), "a.zarr")]
    got = read_tables(videos, {"counts": tables["counts"]})
    counts = got["counts"]
    assert sorted(set(counts["class"])) == ["sea urchin", "wrasse"]
    assert counts.loc[counts["class"] == "sea urchin", "count"].tolist() == [2, 1, 0, 0]
    assert tables["counts"]["class"].tolist().count("sea  urchin") == 1  # the caller's as given
    # a MaxN of two spellings cannot be joined from the table alone: refused with one message
    # (was a ClassNameWarning, then a ConfigError for the same rows found again), where the
    # report drew one name twice (and failed in its MaxN figure)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ClassNameWarning)
        with pytest.raises(ConfigError, match="^table 'maxn' has two rows of one video for sea"):
            read_tables(videos, {"maxn": tables["maxn"]})


def _measured(tmp_path, name, urchin_b, seen):
    """The tables ``ecoseg.measure`` gives of a store with urchins 1 and 2 and a wrasse 3,
    urchin 2 named ``urchin_b``."""
    from report_helpers import make_store

    import ecoseg

    objects = [(1, "sea urchin", "prompt"), (2, urchin_b, "prompt"), (3, "wrasse", "prompt")]
    make_store(tmp_path / f"{name}.zarr", objects, seen)
    return ecoseg.measure(tmp_path / f"{name}.zarr")


def test_a_split_maxn_is_rebuilt_from_the_counts_table(tmp_path):
    """An older ecoseg measured a store naming one urchin 'sea  urchin' into MaxN rows of each
    spelling (each urchin's own, 1 at frames 1 and 2): report(tables=...) refused them. Given
    with their counts table, they are rebuilt from it: what measuring the store again gives
    (both urchins at once, 2 at frame 2), the other video's urchins left out of it."""
    from ecoseg.errors import ClassNameWarning
    from ecoseg.measure.tables import combine_tables
    from ecoseg.report.read import read_tables

    seen = {1: [1, 2], 2: [2, 3], 3: [0]}
    older = _measured(tmp_path, "a", "urchin b", seen)  # as the older ecoseg split them
    for table in ("counts", "maxn"):
        older[table] = older[table].replace({"class": {"urchin b": "sea  urchin"}})
    assert older["maxn"]["maxn"].tolist() == [1, 1, 1]
    again = _measured(tmp_path, "a_again", "sea urchin", seen)
    other = _measured(tmp_path, "b", "sea urchin", {1: [0], 2: [0], 3: [1]})
    given = combine_tables({"a": older, "b": other}, {})
    videos = [read_video(n, str(tmp_path / f"{n}.zarr"), n) for n in ("a", "b")]
    with pytest.warns(ClassNameWarning, match="rebuilt from the counts table") as caught:
        got = read_tables(videos, {"maxn": given["maxn"], "counts": given["counts"]})
    assert len(caught) == 1
    want = combine_tables({"a": again, "b": other}, {})["maxn"]
    pd.testing.assert_frame_equal(got["maxn"], want)
    assert got["maxn"]["maxn"].tolist() == [2, 1, 2, 1]


def test_report_of_older_dataframes_counts_one_species(tmp_path):
    import html

    from report_helpers import page_table

    from ecoseg.report import report

    path, tables = _older_tables(tmp_path)
    tables["maxn"] = tables["maxn"][tables["maxn"]["class"] != "sea  urchin"]
    page = html.unescape(report(path, tmp_path / "r.html", tables=tables).read_text())
    assert "sea  urchin" not in page
    shown = page_table(page, "summary-table").set_index("Video")
    assert shown.loc["a", "MaxN by class"] == "sea urchin 2, wrasse 1"


def test_a_half_written_edit_gives_no_page_also_with_tables_given(tmp_path, interrupt_edit):
    """A store an interrupted ``ecoseg edit`` left half written, reported with its tables
    given (as ``ecoseg study`` does): the page was written, its stills drawn from the
    half-edited labels, without a word (measuring the store now refused it). Now it is
    refused either way with measure's one line, and no page is written; ``ecoseg info``
    (``need_frames=False``) still describes it."""
    from ecoseg import measure, report
    from ecoseg.errors import StoreError

    clip = synth(tmp_path / "clip", seed=1, frames=4, size=(96, 64), n_fish=3, n_invertebrates=0)
    tables = measure(clip.truth)  # (seed 1: its three fish are in view, so three objects)
    interrupt_edit(clip.truth)  # --merge 1,2 --delete 3
    with pytest.raises(StoreError) as said:
        measure(clip.truth)
    for given in (tables, None):
        with pytest.raises(StoreError) as refused:
            report(clip.truth, tmp_path / "r.html", tables=given)
        assert str(refused.value) == str(said.value)
        assert not list(tmp_path.glob("*r.html*"))
    assert read_video("t", str(clip.truth), "t", need_frames=False).n_frames == 4


def _killed_store(tmp_path):
    """A synthetic clip and a store of its every frame whose run never finished (killed)."""
    from ecoseg.store import MaskStore

    clip = synth(tmp_path / "clip", frames=4, size=(96, 64))
    path = tmp_path / "killed.zarr"
    with MaskStore.open(clip.truth) as t:
        with MaskStore.create(
            path, height=t.height, width=t.width, objects=t.objects, provenance=t.provenance
        ) as s:
            s.append(t.read_labels(), t.read_time())  # never marked complete: the run was killed
    return clip, path


def test_an_unfinished_run_warns_once_with_its_tables_given_or_not(tmp_path):
    """A store whose ``ecoseg segment`` did not finish: ``ecoseg report`` (measuring it now)
    warned in ``measure``'s words, ``report(tables=...)`` (as ``ecoseg study`` calls it) only
    wrote "(unfinished)" on the page. Now both warn once in those words, at the caller's line,
    evaluating it against a truth included (``evaluate`` warns too)."""
    from ecoseg import measure, report
    from ecoseg.measure import IncompleteStoreWarning

    clip, path = _killed_store(tmp_path)
    with pytest.warns(IncompleteStoreWarning) as measured:
        tables = measure(path)
    for given in (tables, None):
        with pytest.warns(IncompleteStoreWarning) as warned:
            report(path, tmp_path / "r.html", tables=given, truth=[clip.truth], overwrite=True)
        said = [w for w in warned if w.category is IncompleteStoreWarning]
        assert [str(w.message) for w in said] == [str(measured[0].message)]
        assert said[0].filename == __file__


def test_a_report_in_a_worker_thread_leaves_other_threads_warnings_alone(tmp_path):
    """``report`` says an unfinished store once and measures it without measure's own
    IncompleteStoreWarning. It hushed that one with ``warnings.catch_warnings()`` and a
    filter, which are the process's: a report made in a worker thread (napari, dask's
    threads) hid every other thread's IncompleteStoreWarning while it measured, and then put
    back the filters it found. Now only its own thread's."""
    from suite_helpers import warned_while_held

    import ecoseg.report.sections as sections
    from ecoseg import report
    from ecoseg.measure import IncompleteStoreWarning, incomplete_note
    from ecoseg.store import MaskStore

    clip, path = _killed_store(tmp_path)
    with MaskStore.open(path) as s:
        note = incomplete_note(s)
    got = warned_while_held(
        lambda: report(path, tmp_path / "r.html"),
        sections,
        "read_tables",
        IncompleteStoreWarning,
    )
    assert got["filters_kept"] and got["heard"]
    assert got["others"] == [note]  # the report's once; measure's in its thread unsaid


def test_the_old_edit_judges_run_only_for_a_log_with_their_kind_of_edit(tmp_path, monkeypatch):
    """Each judge reads the store's attributes again; a log without its kind gives it nothing
    to find (the attributes were read five times for a store without edits, now twice)."""
    import ecoseg.species.review as review
    from ecoseg.species import Review
    from ecoseg.store._reading import ReadingMixin

    clip = synth(tmp_path / "clip", frames=4, size=(64, 48))
    judged, reads = [], []
    for name in ("unchecked_splits", "old_merges", "refused_reviews"):
        real = getattr(review, name)
        monkeypatch.setattr(review, name, lambda s, n=name, f=real: judged.append(n) or f(s))
    attrs = ReadingMixin.attrs
    monkeypatch.setattr(ReadingMixin, "attrs", property(lambda s: reads.append(1) or attrs.fget(s)))
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    assert judged == [] and len(reads) == 2  # check_finished and the edit log
    assert (info.unchecked_splits, info.refused_merges, info.refused_reviews) == ([], [], [])
    first, second = ecoseg_objects(clip.truth)[:2]
    edit = Review(clip.truth)
    edit.set_class(second["id"], first["class"])  # merges join tracks of one name
    edit.merge(first["id"], second["id"])
    judged.clear()
    info = read_video("clip", str(clip.truth), "clip/truth.zarr")
    assert judged == ["old_merges"]
    assert info.refused_merges == review.refused_merges(clip.truth)
    assert read_video("clip", str(clip.truth), "c", judge_splits=False).refused_merges == []


def ecoseg_objects(path) -> list[dict]:
    from ecoseg.store import MaskStore

    with MaskStore.open(path) as s:
        return s.objects


# --------------------------------------------------------------------------- study calibration
STUDY = """\
name: s
output: out
defaults: {calibration: 0.5}
videos:
  - {path: a.mp4, name: a}
  - {path: b.mp4, name: b}
"""


def _study(root):
    """A study of videos ``a`` and ``b`` (0.5 mm/px) with its own, uncalibrated stores."""
    from report_helpers import make_store

    from ecoseg.study import load_study

    for name in "ab":
        (root / f"{name}.mp4").write_bytes(b"")
        make_store(root / "out" / "stores" / f"{name}.zarr", [(1, "wrasse", "prompt")], {1: [0]})
    (root / "study.yaml").write_text(STUDY)
    return load_study(root / "study.yaml")


def _made(root, cal, method="scale"):
    """A store named like the study's video ``a`` but made elsewhere, calibrated with ``cal``
    (mm per pixel) measured by ``method``."""
    from report_helpers import make_store

    from ecoseg.store import MaskStore

    store = root / "elsewhere" / "a.zarr"
    make_store(store, [(1, "wrasse", "prompt")], {1: [0, 1]})
    if cal is not None:
        with MaskStore.open(store, mode="a") as s:
            s.calibration = {"mm_per_px": cal, "method": method}
    return store


def _files(store) -> dict[str, bytes]:
    return {str(f.relative_to(store)): f.read_bytes() for f in store.rglob("*") if f.is_file()}


@pytest.mark.parametrize("held", [None, 0.25], ids=["uncalibrated", "another"])
def test_a_store_named_like_a_study_video_is_not_calibrated_by_its_report(tmp_path, held):
    """The report measured each store with the calibration of the study entry of its name and
    so saved it into the store: one made elsewhere that bears that name (``a.zarr`` of an
    ``ecoseg segment`` run) was changed by a report. Now it is refused in one line, before
    any store is measured, and every store is left as it was, byte for byte."""
    from ecoseg.errors import ConfigError
    from ecoseg.report import report

    study = _study(tmp_path)
    other = _made(tmp_path, held)
    before = {p: _files(p) for p in (other, study.store_path(study.videos[1]))}
    page = tmp_path / "r.html"
    with pytest.raises(ConfigError) as exc:  # the study's own b first: not measured either
        report({"b": study.store_path(study.videos[1]), "a": other}, page, study=study)
    text = str(exc.value)
    assert "\n" not in text and text.startswith(f"report: {other}: not the study's store of ")
    held_text = "none (pixels)" if held is None else "0.25 mm/px (scale)"
    assert f"(that is out/stores/a.zarr), and its calibration {held_text} is not " in text
    tables = str(other)[: -len(".zarr")] + ".tables"  # measure needs its -o (s57-walkstart)
    assert f"`ecoseg measure {other} -o {tables} --calibration 0.5`" in text
    assert {p: _files(p) for p in before} == before
    assert not page.exists()


def test_the_studys_own_stores_take_its_calibration_and_a_store_that_holds_it_is_read(tmp_path):
    import ecoseg
    from ecoseg.report import report

    study = _study(tmp_path)
    html = report(None, tmp_path / "r.html", study=study).read_text(encoding="utf-8")
    for video in study.videos:  # saved into the study's own stores, as before
        with ecoseg.MaskStore.open(study.store_path(video)) as s:
            assert s.calibration["mm_per_px"] == 0.5
    assert "Median length (mm)" in html
    # a store of that name elsewhere that holds the study's calibration (`ecoseg measure
    # --calibration 0.5`, the refusal's way out) is measured as it is: nothing written
    other = _made(tmp_path, 0.5)
    before = _files(other)
    html = report([other], tmp_path / "o.html", study=study).read_text(encoding="utf-8")
    assert "Median length (mm)" in html and "(pixels: uncalibrated)" not in html
    assert _files(other) == before


def test_a_store_that_holds_the_studys_mm_per_px_measured_otherwise_is_read(tmp_path):
    """A store elsewhere whose calibration is the study's ``0.5`` measured otherwise (a
    synthetic clip's own) was refused, and the refusal's way out, ``ecoseg measure STORE
    --calibration 0.5``, keeps that calibration (the store's own mm per pixel typed back),
    so it was refused again: now it is measured as it is, nothing written."""
    from ecoseg.report import report

    study = _study(tmp_path)
    other = _made(tmp_path, 0.5, "synthetic")
    before = _files(other)
    html = report([other], tmp_path / "o.html", study=study).read_text(encoding="utf-8")
    assert "Median length (mm)" in html and "(pixels: uncalibrated)" not in html
    assert _files(other) == before
