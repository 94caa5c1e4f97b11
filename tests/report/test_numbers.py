"""Every number the report page shows equals the tables (or a hand computation).

Two hand-made stores that are not the easy case: ``a`` is calibrated, has variable frame
times, a track with a gap, species named by a person (a review edit), by a species model, by a
concept and not at all; ``b`` is uncalibrated and its run did not finish (6 of 20 frames).
"""

from __future__ import annotations

import json
import re
import warnings
from html import unescape

import numpy as np
import pandas as pd
import pytest
from report_helpers import page_table

import ecoseg
from ecoseg.report import report
from ecoseg.species import apply_edits
from ecoseg.species.edits import Edit
from ecoseg.store import MaskStore, lock_path

H, W = 40, 60
TIMES_A = np.array([0, 0.04, 0.07, 0.15, 0.2, 0.33, 0.34, 0.5, 0.52, 0.9])


def _box(labels, i, oid, y, x, h=4, w=6):
    labels[i, y : y + h, x : x + w] = oid


def _store_a(path):
    n = len(TIMES_A)
    labels = np.zeros((n, H, W), np.uint32)
    for i in range(n):
        if i not in (3, 4):  # a gap of two frames
            _box(labels, i, 1, 5, 5 + 3 * i)
        if i >= 2:
            _box(labels, i, 2, 15, 50 - 4 * i, 5, 8)
        if 1 <= i <= 6:
            _box(labels, i, 3, 25, 10 + 2 * i, 6, 10)
        if i in (0, 1, 8, 9):
            _box(labels, i, 4, 30, 40, 3, 3)
        _box(labels, i, 5, 33, 2, 5, 5)
    objects = [
        {"id": 1, "class": "fish", "source": "tracker", "class_source": "classified"},
        {"id": 2, "class": "wrasse", "source": "tracker", "class_source": "classified"},
        {"id": 3, "class": "parrotfish", "source": "tracker", "class_source": "classified"},
        {"id": 4, "class": "unknown", "source": "tracker", "class_source": "unknown"},
        {"id": 5, "class": "sea urchin", "source": "concept", "class_source": "concept"},
    ]
    for o in objects[:3]:
        o["class_probability"] = 0.7
    prov = {
        "engine": "classical",
        "parameters": {"max_gap": 3},
        "video": {"path": "a.mp4", "fps": 11.1, "frames": n, "frame_size": [W, H]},
    }
    store = MaskStore.create(
        path,
        height=H,
        width=W,
        objects=objects,
        provenance=prov,
        calibration={"mm_per_px": 0.5, "method": "scale"},
    )
    store.append(labels, TIMES_A)
    store.mark_complete()
    store.close()
    apply_edits(path, [Edit("set_class", (1,), cls="wrasse")])  # a person names track 1


def _store_b(path):
    m = 6
    labels = np.zeros((m, H, W), np.uint32)
    for i in range(m):
        _box(labels, i, 1, 10, 5 * i)  # cut by the left edge in frame 0
        if i % 2 == 0:
            _box(labels, i, 2, 20, 30)
        if i >= 3:
            _box(labels, i, 3, 30, 50 - 3 * i)
    prov = {
        "engine": "classical",
        "video": {"path": "b.mp4", "fps": 30.0, "frames": 20, "frame_size": [W, H]},
    }
    objects = [
        (1, "wrasse", "prompt"),
        (2, "unknown", "tracker"),
        (3, "parrotfish", "prompt"),
        (4, "damselfish", "prompt"),
    ]  # 4 is never seen: MaxN 0
    store = MaskStore.create(path, height=H, width=W, chunk_frames=2, objects=objects,
                             provenance=prov)  # fmt: skip
    store.append(labels, np.arange(m) / 30)
    store.close()  # not marked complete: the run was killed after 6 of 20 frames


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("numbers")
    _store_a(root / "a.zarr")
    _store_b(root / "b.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # b is unfinished: measure warns
        report([root / "a.zarr", root / "b.zarr"], root / "r.html")
        tables = {v: ecoseg.measure(root / f"{v}.zarr") for v in "ab"}
    html = (root / "r.html").read_text(encoding="utf-8")
    return html, tables


def test_maxn_table_gives_value_time_and_frame_of_the_tables(made):
    html, tables = made
    shown = page_table(html, "maxn-table").set_index("Video")
    for video, t in tables.items():
        for row in t["maxn"].itertuples():
            cell = shown.loc[video, row._1]  # "class"
            if row.maxn == 0:
                assert cell == "0"
                continue
            # the time to the millisecond (variable frame times: 0.04 s is not 0.0 s) and the
            # frame, so a reader can find it
            assert cell == f"{row.maxn} at {row.time_s:.3f} s (frame {row.frame})", (video, cell)
    assert shown.loc["a", "parrotfish"] == "1 at 0.040 s (frame 1)"
    assert shown.loc["b", "damselfish"] == "0"  # b counted damselfish and saw none
    # a has no damselfish, b no sea urchin: their tables have no row, the page no number
    assert shown.loc["a", "damselfish"] == shown.loc["b", "sea urchin"] == "–"
    assert "–: not a class of that video" in html


def test_summary_rows_equal_the_tables_and_say_a_run_did_not_finish(made):
    html, tables = made
    summary = page_table(html, "summary-table").set_index("Video")
    for video, t in tables.items():
        row = summary.loc[video]
        assert int(row["Tracks"]) == len(t["tracks"])
        m = t["maxn"][t["maxn"]["maxn"] > 0]
        expected = ", ".join(f"{c} {n}" for c, n in sorted(zip(m["class"], m["maxn"])))
        assert row["MaxN by class"] == expected
        cover = t["cover"].groupby("frame")["cover_fraction"].sum().mean() * 100
        assert row["Cover (%)"] == f"{cover:.2f}"
    assert summary.loc["a", "Frames"] == "10" and summary.loc["a", "mm/px"] == "0.5"
    # variable frame times: to the end of the last frame, one median step after its start
    duration = TIMES_A[-1] - TIMES_A[0] + np.median(np.diff(TIMES_A))
    assert summary.loc["a", "Duration (s)"] == f"{duration:.1f}"
    assert summary.loc["b", "Duration (s)"] == f"{6 / 30:.1f}"
    assert summary.loc["b", "mm/px"] == "none"
    # b holds 6 of its video's 20 frames: the page says so where its numbers are
    assert summary.loc["b", "Frames"] == "6 of 20 (unfinished)"
    assert "b: its run did not finish; its numbers cover frames 0–5 (0.000–0.167 s)" in html
    assert "a: its run did not finish" not in html


def test_summary_says_a_store_still_being_written_is_not_a_stopped_run(tmp_path):
    """A store another live process writes (its writer lock, here from another host, which is
    respected) is not a run that stopped: the page said "its run did not finish", while
    ``ecoseg info`` says it is still being written, by whom, and to wait. Now the page does."""
    _store_b(tmp_path / "b.zarr")
    lock_path(tmp_path / "b.zarr").write_text(
        json.dumps({"pid": 1, "host": "far-away", "created": "then"})
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # b is unfinished: measure warns
        report([tmp_path / "b.zarr"], tmp_path / "r.html")
    html = unescape((tmp_path / "r.html").read_text(encoding="utf-8"))
    assert (
        "b: still being written (process 1 on host far-away since then); wait for that run "
        "to finish; its numbers cover frames 0–5 (0.000–0.167 s) of the video's 20 only" in html
    )
    assert "b: its run did not finish" not in html
    # the Frames cell and the reproduce comment said "unfinished", "its run did not finish"
    summary = page_table(html, "summary-table").set_index("Video")
    assert summary.loc["b", "Frames"] == "6 of 20 (still being written)"
    steps = unescape(re.search(r"<pre>(.*?)</pre>", html, re.S).group(1)).splitlines()
    assert any(
        "b.zarr holds 6 frames of the video's 20 (it was still being written); the command above "
        "runs to the end" in step
        for step in steps
    ), steps
    assert "unfinished" not in summary.to_string() and "did not finish" not in html


def _species_groups(html: str) -> dict[str, pd.DataFrame]:
    """The species table, one frame per video group (its ``<tr class="group">`` heading)."""
    part = html[html.index('<table id="species-table"') :]
    part = part[: part.index("</table>")]
    head = [
        unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(r"<th[^>]*>(.*?)</th>", part.split("</thead>")[0])
    ]
    groups: dict[str, list] = {}
    video = ""  # rows before any group heading (a table that pools the videos)
    for tr in re.findall(r"<tr[^>]*>.*?</tr>", part.split("</thead>")[1], re.S):
        cells = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        ]
        if tr.startswith('<tr class="group">'):
            video = cells[0]
            groups[video] = []
        else:
            groups.setdefault(video, []).append(cells)
    return {v: pd.DataFrame(r, columns=head).set_index("Species") for v, r in groups.items()}


def test_species_table_counts_each_tracks_naming_per_video(made):
    # old code: one table pooling a's and b's tracks (wrasse: a's 1 reviewed + b's tracks)
    html, tables = made
    groups = _species_groups(html)
    assert list(groups) == ["a", "b"]
    named = {"reviewed": "reviewed", "classified": "auto-classified", "prompt":
             "named with the prompt", "concept": "concept prompt"}  # fmt: skip
    for video, shown in groups.items():
        tracks = tables[video]["tracks"]
        assert list(shown.columns) == [*named.values(), "tracks"]
        assert set(shown.index) == (set(tracks["class"]) - {"unknown"}) | {"unknown"}
        for cls in sorted(set(tracks["class"]) - {"unknown"}):
            these = tracks[tracks["class"] == cls]
            for source, heading in named.items():
                assert int(shown.loc[cls, heading]) == int((these["class_source"] == source).sum())
            assert int(shown.loc[cls, "tracks"]) == len(these)
        assert int(shown.loc["unknown", "tracks"]) == int((tracks["class"] == "unknown").sum())
    assert groups["a"].loc["wrasse", "reviewed"] == "1"  # the review edit of track 1 in a
    assert "sea urchin" not in groups["b"].index  # not one of b's classes: no row, not a 0
    assert "Tracks are counted per video" in html


def test_sizes_and_speeds_are_in_pixels_when_one_video_is_not_calibrated(made):
    html, tables = made
    assert "not every video is calibrated: b)" in html
    assert "Median length (px)" in html and "Median speed (px/s)" in html
    whole = {  # a mask touching the frame edge is only the visible part: left out
        v: t["regions"][
            (t["regions"][["bbox_x0", "bbox_y0"]].min(axis=1) > 0)
            & (t["regions"]["bbox_x1"] < W)
            & (t["regions"]["bbox_y1"] < H)
        ]
        for v, t in tables.items()
    }
    assert len(whole["b"]) == len(tables["b"]["regions"]) - 1
    per = {
        (v, o): g["major_axis_px"].median()
        for v, t in whole.items()
        for o, g in t.groupby("object_id")
    }
    classes = {(v, o): c for v, t in tables.items() for o, c in zip(t["tracks"]["object_id"],
               t["tracks"]["class"])}  # fmt: skip
    size_table = page_table(html, "size-table").set_index("Class")
    speed_table = page_table(html, "speed-table").set_index("Class")
    for cls in sorted(set(classes.values())):
        sizes = np.array([s for k, s in per.items() if classes[k] == cls])
        assert size_table.loc[cls, "Tracks"] == str(len(sizes))
        assert size_table.loc[cls, "Median length (px)"] == f"{np.median(sizes):.1f}"
        assert size_table.loc[cls, "Range (px)"] == f"{sizes.min():.1f}–{sizes.max():.1f}"
        speeds = np.concatenate(
            [
                t["tracks"].loc[t["tracks"]["class"] == cls, "mean_speed_px_s"]
                for t in tables.values()
            ]
        )
        speeds = speeds[np.isfinite(speeds)]
        assert speed_table.loc[cls, "Tracks"] == str(len(speeds))  # was "Individuals"
        assert speed_table.loc[cls, "Median speed (px/s)"] == f"{np.median(speeds):.1f}"
        assert speed_table.loc[cls, "Range (px/s)"] == f"{speeds.min():.1f}–{speeds.max():.1f}"
    # by hand: track 1 of a runs from x=5 to x=32 (27 px, the gap bridged) in 0.9 s
    assert tables["a"]["tracks"].set_index("object_id").loc[1, "mean_speed_px_s"] == (
        pytest.approx(30.0)
    )


def test_calibration_shown_per_video(made):
    html, _ = made
    rows = re.findall(r"<tr>\s*<td class=\"nowrap\"><strong>(\w+)</strong>.*?</tr>", html, re.S)
    assert rows == ["a", "b"]
    prov = page_table(html, "provenance-table")
    assert prov["Calibration"].tolist() == ["0.5 mm/px", "none: lengths in pixels"]


def test_headline_counts_named_classes_not_unknown(made):
    html, tables = made
    cards = dict(
        (label, value)
        for value, label in re.findall(
            r'<div class="v">([^<]*)</div><div class="l">([^<]*)</div>', html
        )
    )
    named = set()
    for t in tables.values():
        m = t["maxn"]
        named |= set(m.loc[m["maxn"] > 0, "class"]) - {"unknown"}
    assert named == {"parrotfish", "sea urchin", "wrasse"}
    assert cards["classes seen (and unknown)"] == "3"  # unknown tracks are not a 4th species
    assert cards["tracks"] == str(sum(len(t["tracks"]) for t in tables.values()))
    # a track can be a part of an animal's stay, two animals joined or no animal: the page
    # called them individuals (cards, column heads, captions); MaxN is the abundance
    assert "so the tracks are not a count of animals. The abundance is MaxN" in html
    assert "individual" not in " ".join(re.findall(r"<th[^>]*>([^<]*)</th>", html)).lower()
    for words in (
        "Each dot is one track's mean speed",
        "Each line is the path of one track's centroid",
        "body length of each track",
        "so tracks are not an abundance: MaxN is.",
    ):
        assert words in html, words


def test_accuracy_cells_are_the_metrics_of_evaluate(tmp_path):
    _store_a(tmp_path / "a.zarr")
    pred = MaskStore.open(tmp_path / "a.zarr")
    labels = pred.read_labels()
    labels[labels == 3] = 0  # the truth has no parrotfish: a false positive
    labels[5:, 15:20, :] = np.where(labels[5:, 15:20, :] == 2, 0, labels[5:, 15:20, :])
    truth = MaskStore.create(tmp_path / "truth.zarr", height=H, width=W, objects=pred.objects)
    truth.append(labels, TIMES_A)
    truth.mark_complete()
    truth.close()
    report([tmp_path / "a.zarr"], tmp_path / "r.html", truth=[tmp_path / "truth.zarr"])
    shown = page_table((tmp_path / "r.html").read_text(), "accuracy-table").set_index("Video")
    m = ecoseg.evaluate(tmp_path / "a.zarr", tmp_path / "truth.zarr")
    expected = {
        "J&F": m["jf"]["mean"],
        "J": m["jf"]["j_mean"],  # J and F are on the page, as docs/report.md says
        "F": m["jf"]["f_mean"],
        "HOTA": m["hota"]["hota"],
        "DetA": m["hota"]["deta"],
        "AssA": m["hota"]["assa"],
        "IDF1": m["identity"]["idf1"],
        "MOTA": m["clear"]["mota"],
    }
    assert list(shown.columns) == ["Truth", *expected]
    for label, value in expected.items():
        assert shown.loc["a", label] == f"{value:.3f}", label
    assert 0 < m["jf"]["mean"] < 1


def test_reproduce_commands_say_a_store_is_unfinished_and_calibrate_it(made):
    html, _ = made
    steps = unescape(re.search(r"<pre>(.*?)</pre>", html, re.S).group(1)).splitlines()
    seg_b = next(i for i, s in enumerate(steps) if s.startswith("ecoseg segment b.mp4"))
    notes = steps[seg_b + 1 : seg_b + 3]  # the comments under its command
    assert all(note.startswith("# ") for note in notes)
    assert "holds 6 frames of the video's 20" in notes[1]
    # (the fixture's: none) the command names b.mp4, the note where it was looked for
    assert (
        "its video is not found here (not at that path from the current folder, nor at "
        in (notes[0])
    )
    assert not any("a.zarr holds" in s for s in steps)
    assert any(re.fullmatch(r"ecoseg edit \S*a\.zarr --set-class 1=wrasse", s) for s in steps)
    assert any(re.fullmatch(r"ecoseg measure \S*a\.zarr -o a\.tables --calibration 0\.5", s)
               for s in steps)  # fmt: skip
    assert not any(re.match(r"ecoseg measure \S*b\.zarr", s) for s in steps)


def test_mean_cover_is_over_the_frames_annotated(tmp_path):
    """A truth store annotated on frames 0, 5, 10 of 11: its mean cover was the sum over those
    three frames divided by all 11, as if nobody's frames held no animals."""
    labels = np.zeros((11, H, W), np.uint32)
    for i in (0, 5, 10):
        _box(labels, i, 1, 5, 5, 10, 12)  # 120 of the frame's 2400 pixels: 5 %
    prov = {"annotated_frames": {"start": 0, "step": 5, "count": 3}}
    store = MaskStore.create(
        tmp_path / "t.zarr", height=H, width=W, objects=[(1, "coral", "prompt")], provenance=prov
    )
    store.append(labels, np.arange(11) / 10)
    store.mark_complete()
    store.close()
    report([tmp_path / "t.zarr"], tmp_path / "r.html")
    summary = page_table((tmp_path / "r.html").read_text(encoding="utf-8"), "summary-table")
    assert summary.set_index("Video").loc["t", "Cover (%)"] == "5.00"
