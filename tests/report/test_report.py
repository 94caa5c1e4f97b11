"""The HTML report: sections, embedded figures, self-containment, determinism."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
import warnings
from html import unescape
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import ecoseg
from ecoseg.errors import ConfigError, StoreError
from ecoseg.report import report
from ecoseg.study import load_study, run_study

EPOCH = "1710000000"  # 2024-03-09 UTC
SECTIONS = (
    "provenance",
    "summary",
    "counts",
    "sizes",
    "trajectories",
    "speeds",
    "cover",
    "frames",
    "sites",
    "accuracy",
    "tables",
)
STUDY = """\
name: two-site-test
title: Two sites <b>test</b>
description: A two-site study for the report tests.
output: out
defaults:
  engine: classical
  calibration: 20
  params: {warmup: 5, min_hits: 2}
videos:
  - path: a/video.mp4
    name: north
    site: North
    transect: T1
    date: 2024-03-12
    depth_m: 5
    truth: a/truth.zarr
  - path: b/video.mp4
    name: south
    site: South
    transect: T1
    date: 2024-03-13
    depth_m: 7.5
"""


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report-study")
    ecoseg.synth(root / "a", seed=5, frames=24, size=(96, 64), n_fish=3, n_invertebrates=1)
    ecoseg.synth(root / "b", seed=6, frames=24, size=(96, 64), n_fish=2, n_invertebrates=1)
    (root / "study.yaml").write_text(STUDY)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        run_study(root / "study.yaml", progress=False)
    return root


@pytest.fixture(scope="module")
def html(study) -> str:
    return (study / "out" / "report.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def single(tmp_path_factory):
    """An uncalibrated store (a copy of a synthetic truth) whose video is not next to it."""
    root = tmp_path_factory.mktemp("single")
    clip = ecoseg.synth(root / "clip", seed=7, frames=20, size=(96, 64), n_fish=3)
    store = root / "elsewhere" / "masks.zarr"
    shutil.copytree(clip.truth, store)
    with ecoseg.MaskStore.open(store, mode="a") as writable:
        writable.calibration = None
    return root, store, clip


def images(page: str) -> list[bytes]:
    return [
        base64.b64decode(m) for m in re.findall(r'<img src="data:image/png;base64,([^"]+)"', page)
    ]


def downloads(page: str) -> dict[str, bytes]:
    found = re.findall(r'download="([^"]+)" href="data:[^;]+;base64,([^"]+)"', page)
    return {name: base64.b64decode(data) for name, data in found}


# --------------------------------------------------------------------------- content
def test_two_site_study_report_has_every_section(html):
    for section in SECTIONS:
        assert f'<section id="{section}">' in html, section
        assert f'href="#{section}"' in html, section  # listed in the contents
    for figure in ("counts", "maxn", "sizes", "trajectories", "speeds", "cover", "frames", "sites"):
        assert f'<figure id="fig-{figure}">' in html, figure
    for table in ("summary-table", "maxn-table", "site-table", "accuracy-table", "downloads"):
        assert f'id="{table}"' in html


def test_embedded_figures_decode_and_are_not_blank(html):
    pngs = images(html)
    assert len(pngs) == 8
    for data in pngs:
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        image = Image.open(io.BytesIO(data))
        image.verify()
        pixels = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.int64)
        assert pixels.shape[1] >= 600 and pixels.shape[0] >= 150
        assert pixels.std() > 10  # something is drawn
        colours = (pixels[..., 0] << 16) | (pixels[..., 1] << 8) | pixels[..., 2]
        assert len(np.unique(colours)) > 16


def test_nothing_is_fetched_from_anywhere(html):
    assert not re.search(r"(?i)(https?|ftp)://", html)
    assert not re.search(r"(?i)<script|<link|<iframe|<object|@import", html)
    for target in re.findall(r'\ssrc="([^"]*)"', html):
        assert target.startswith("data:image/png;base64,")
    for target in re.findall(r'\shref="([^"]*)"', html):
        assert target.startswith(("#", "data:")), target
    for target in re.findall(r"url\(([^)]*)\)", html):
        assert target.strip("'\"").startswith("data:"), target


def test_csv_downloads_are_the_study_tables(study, html):
    files = downloads(html)
    for table in ("regions", "tracks", "counts", "maxn", "cover"):
        assert files[f"{table}.csv"] == (study / "out" / "tables" / f"{table}.csv").read_bytes()
    assert files["study.yaml"] == (study / "study.yaml").read_bytes()


def test_provenance_names_inputs_engine_and_parameters(study, html):
    assert f"ecoseg {ecoseg.__version__}" in html
    for clip in ("a", "b"):
        sha = hashlib.sha256((study / clip / "video.mp4").read_bytes()).hexdigest()
        assert sha in html
    assert "a/video.mp4" in html and "stores/north.zarr" in html
    assert "classical" in html and "&#34;warmup&#34;: 5" in html
    assert "20 mm/px" in html
    assert "ecoseg study study.yaml" in html
    assert "Report date</dt><dd>2024-03-09" in html
    assert "North" in html and "2024-03-13" in html and "7.5" in html
    assert str(study) not in html  # no absolute paths


def _cells(page: str, table_id: str) -> list[list[str]]:
    """A table of the page as the text of its cells, heading row first."""
    import html as _html

    part = page[page.index(f'<table id="{table_id}"') :]
    part = part[: part.index("</table>")]
    return [
        [_html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells]
        for cells in (re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
                      for tr in re.findall(r"<tr>(.*?)</tr>", part, re.S))
    ]  # fmt: skip


def test_site_and_summary_tables_equal_the_study_tables(study, html):
    from ecoseg.measure.tables import read_table

    tables = {t: read_table(study / "out" / "tables" / f"{t}.csv") for t in ("tracks", "maxn")}
    site_of = {"north": "North", "south": "South"}
    head, *rows = _cells(html, "site-table")
    assert head[:4] == ["Site", "Videos", "Footage", "Tracks"]  # was "Individuals"
    classes = [h.removeprefix("mean MaxN ") for h in head[4:]]
    assert classes == sorted(set(tables["maxn"]["class"]))
    assert [r[0] for r in rows] == ["North", "South"]
    for row in rows:
        videos = [v for v, s in site_of.items() if s == row[0]]
        assert row[1] == str(len(videos))
        assert row[3] == str(int(tables["tracks"]["video"].isin(videos).sum()))
        for c, cell in zip(classes, row[4:]):
            m = tables["maxn"]
            # the mean over the site's videos that looked for the class (have a MaxN row)
            rows = m[m["video"].isin(videos) & (m["class"] == c)]
            per_video = [int(n) for n in rows["maxn"]]
            if not per_video:
                assert cell == "–", (row[0], c)
                continue
            n = "" if len(per_video) == len(videos) else f" (n={len(per_video)})"
            assert cell == f"{np.mean(per_video):.2f}{n}", (row[0], c)
    head, *rows = _cells(html, "summary-table")
    assert [dict(zip(head, row))["Video"] for row in rows] == ["north", "south"]
    for row in rows:
        r = dict(zip(head, row))
        assert r["Tracks"] == str(int((tables["tracks"]["video"] == r["Video"]).sum()))
        assert r["Site"] == site_of[r["Video"]] and r["mm/px"] == "20"


def test_calibrated_units_are_mm(html):
    assert "Median length (mm)" in html and "Median speed (mm/s)" in html
    assert "(pixels: uncalibrated)" not in html


def test_text_from_the_study_is_escaped(html):
    assert "Two sites &lt;b&gt;test&lt;/b&gt;" in html
    assert "<b>test</b>" not in html


def test_accuracy_section_uses_the_truth(html):
    section = html.split('<section id="accuracy">')[1].split("</section>")[0]
    assert "J&amp;F" in section and "HOTA" in section and "IDF1" in section
    assert "<strong>north</strong>" in section and "<strong>south</strong>" not in section
    assert "a/truth.zarr" in section
    values = [float(v) for v in re.findall(r'<td class="n">([01]\.\d{3})</td>', section)]
    assert values and all(0.0 <= v <= 1.0 for v in values)


# --------------------------------------------------------------------------- determinism
def test_same_inputs_give_identical_bytes(study, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    stores = [study / "out" / "stores" / "north.zarr", study / "out" / "stores" / "south.zarr"]
    loaded = load_study(study / "study.yaml")
    one = report(stores, tmp_path / "one.html", study=loaded)
    two = report(stores, tmp_path / "sub" / "two.html", study=loaded)
    assert one.read_bytes() == two.read_bytes()
    assert one.read_bytes() == (study / "out" / "report.html").read_bytes()
    from ecoseg.cli import main  # the CLI loads the study file for the report

    cli_page = tmp_path / "cli.html"
    assert (
        main(
            ["report", *map(str, stores), "-o", str(cli_page), "--study", str(study / "study.yaml")]
        )
        == 0
    )
    assert cli_page.read_bytes() == one.read_bytes()
    with pytest.raises(ConfigError, match="not a loaded study"):
        report(stores, tmp_path / "four.html", study=study / "study.yaml")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 86400 * 3))
    three = report(stores, tmp_path / "three.html", study=loaded)
    text = three.read_text()
    assert "2024-03-12" in text and "Report date</dt><dd>2024-03-09" not in text


# --------------------------------------------------------------------------- single store
def test_single_uncalibrated_store_without_its_video(single, tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root, store, _ = single
    page = report(store, tmp_path / "r.html").read_text()
    for section in SECTIONS:
        present = f'<section id="{section}">' in page
        assert present == (section not in ("sites", "accuracy")), section
    assert "Median length (px)" in page and "(pixels: uncalibrated)" in page
    assert "Median speed (px/s)" in page
    # the recorded path once, then where it was looked for (it said 'not found at video.mp4')
    said = "(video.mp4 is not found: not at that path from the current folder, nor at "
    assert said in page and "blank background" in page
    assert len(images(page)) == 7
    assert re.search(r"ecoseg synth -o \S*elsewhere --seed 7 --frames 20", page)  # reproduce
    assert "ecoseg report" in page
    assert "Report date" not in page  # no SOURCE_DATE_EPOCH and no creation date


def test_truth_argument_adds_accuracy(single, tmp_path):
    _, store, clip = single
    page = report({"clip": store}, tmp_path / "r.html", truth={"clip": clip.truth}).read_text()
    section = page.split('<section id="accuracy">')[1].split("</section>")[0]
    assert "HOTA" in section
    values = [float(v) for v in re.findall(r'<td class="n">([01]\.\d{3})</td>', section)]
    assert values and all(v == 1.0 for v in values)  # the truth against itself


def test_a_video_next_to_its_store_is_found(single, tmp_path):
    _, _, clip = single  # synth writes video.mp4 next to truth.zarr and records "video.mp4"
    page = report(clip.truth, tmp_path / "r.html").read_text()
    assert "video not found" not in page and "blank background" not in page
    assert "parrotfish" in page or "wrasse" in page or "surgeonfish" in page


def test_an_open_store_is_reported_as_its_path_is(single, tmp_path):
    """``ecoseg.report(store, ...)`` with the MaskStore a notebook has open (as measure, export
    and evaluate take it) was a TypeError ('MaskStore' object is not iterable)."""
    _, path, _ = single
    want = report(path, tmp_path / "r.html").read_bytes()
    with ecoseg.MaskStore.open(path) as store:
        for i, given in enumerate((store, [store], {"masks": store})):
            got = report(given, tmp_path / str(i) / "r.html").read_bytes()
            assert got == want  # the same page (named masks, as the path names it)


def test_bad_arguments(single, tmp_path):
    _, store, clip = single
    with pytest.raises(ConfigError, match="at least one store"):
        report([], tmp_path / "r.html")
    with pytest.raises(ConfigError, match="one per store"):
        report([store], tmp_path / "r.html", truth=[clip.truth, clip.truth])
    with pytest.raises(ConfigError, match="unknown video"):
        report({"x": store}, tmp_path / "r.html", truth={"y": clip.truth})
    with pytest.raises(StoreError):
        report(tmp_path / "missing.zarr", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()
    (tmp_path / "r.html").write_text("mine")
    with pytest.raises(ConfigError, match="already exists"):
        report(store, tmp_path / "r.html")
    assert (tmp_path / "r.html").read_text() == "mine"
    assert report(store, tmp_path / "r.html", overwrite=True).read_text().startswith("<!DOCTYPE")


def test_ecoseg_report_is_callable_once_the_package_is_imported(single, tmp_path):
    import ecoseg.report.figures  # binds the name ecoseg.report to the package  # noqa: F401

    _, store, _ = single
    assert ecoseg.report(store, tmp_path / "r.html") == tmp_path / "r.html"


def test_cli_report(single, tmp_path, capsys):
    from ecoseg.cli import main

    _, store, clip = single
    out = tmp_path / "r.html"
    args = ["report", str(store), "-o", str(out), "--truth", str(clip.truth), "--title", "T"]
    assert main(args) == 0
    assert f"report: {out}" in capsys.readouterr().out
    page = out.read_text()
    assert "<title>T</title>" in page and '<section id="accuracy">' in page
    assert main(args) == 2  # no silent overwrite
    assert "already exists" in capsys.readouterr().err
    assert main([*args, "--overwrite"]) == 0
    assert main(["report", str(tmp_path / "none.zarr"), "-o", str(tmp_path / "x.html")]) == 2
    assert "none.zarr" in capsys.readouterr().err


def test_a_store_of_no_frames_is_refused_as_measure_refuses_it(single, tmp_path, capsys):
    """A report of a store that holds no frames stopped with a matplotlib traceback (no
    frames to draw) after measuring it into empty tables; it now refuses it in measure's
    one line, before any work, whether the tables are measured now or given."""
    from ecoseg.cli import main

    _, store, _ = single
    empty = tmp_path / "empty.zarr"
    made = ecoseg.MaskStore.create(empty, height=64, width=96, objects=[(1, "wrasse", "prompt")])
    made.mark_complete()
    made.close()
    out = tmp_path / "r.html"
    with pytest.raises(StoreError, match=f"{empty}: holds no frames, so nothing was observed"):
        report({"full": store, "empty": empty}, out)
    given = ecoseg.measure(store)
    for df in given.values():  # another store's tables are refused as such: these record none
        del df.attrs["store"]
    with pytest.raises(StoreError, match="holds no frames"):
        report(empty, out, tables=given)
    assert main(["report", str(store), str(empty), "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"ecoseg: error: {empty}: holds no frames") and "\n" not in err
    assert not out.exists()


def test_size_frequency_leaves_out_masks_cut_by_the_frame_edge(tmp_path):
    """A fish's length was the median over every frame it was in, also those where the frame
    edge cut its mask to a stub: a fish seen whole in 2 frames and swimming out over 4 had
    the stub's length. Only whole masks count now; a fish never seen whole is left out, and
    the page says how many were."""
    labels = np.zeros((6, 30, 40), np.uint32)
    labels[:2, 10:13, 10:23] = 1  # whole: 13 px long, 3 px high
    labels[2:, 10:13, 33:40] = 1  # cut by the right edge: 7 px seen
    labels[:, 20:23, 0:5] = 2  # never whole: always at the left edge
    store = ecoseg.MaskStore.create(
        tmp_path / "m.zarr",
        height=30,
        width=40,
        objects=[(1, "wrasse", "prompt"), (2, "wrasse", "prompt")],
    )
    store.append(labels, np.arange(6) / 10)
    store.mark_complete()
    store.close()
    whole = 4 * np.sqrt((13**2 - 1) / 12)  # major axis of a 13 x 3 px rectangle: 14.97
    regions = ecoseg.measure(tmp_path / "m.zarr")["regions"]
    fish = regions[regions["object_id"] == 1]
    np.testing.assert_allclose(fish["major_axis_px"].iloc[:2], whole)
    page = report(tmp_path / "m.zarr", tmp_path / "r.html").read_text()
    sizes = re.search(r'<table id="size-table">.*?</table>', page, re.S).group(0)
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", sizes)
    assert cells[:3] == ["wrasse", "1", f"{whole:.1f}"], cells
    assert "1 track seen only cut by the edge is not in the distribution" in page


def test_accuracy_says_when_the_truth_records_another_video(single, tmp_path):
    """A truth made from another clip of the same frames and size (a campaign's truths paired
    with the wrong stores) was scored in the accuracy table with no word of it: evaluate
    warned, and campaign scores carry it in their ``note``, but the page did not. Now the
    table marks the row and the note below it names both videos, as the scores' note does."""
    _, store, _ = single
    other = ecoseg.synth(tmp_path / "other", seed=8, frames=20, size=(96, 64), n_fish=3)
    with pytest.warns(ecoseg.metrics.OtherVideoWarning) as warned:
        page = report({"clip": store}, tmp_path / "r.html", truth={"clip": other.truth}).read_text()
    section = page.split('<section id="accuracy">')[1].split("</section>")[0]
    said = str(warned[0].message)
    assert said.startswith(f"{other.truth}: the truth was made from video.mp4, the store ")
    assert f"<strong>clip</strong>: {said}</p>" in unescape(section)
    row = section.split("<tbody>")[1].split("</tr>")[0]
    assert "another video: see the note below" in row
    with warnings.catch_warnings():  # the same video: no mark, no note
        warnings.simplefilter("error", ecoseg.metrics.OtherVideoWarning)
        clip_page = report({"clip": store}, tmp_path / "s.html", truth={"clip": single[2].truth})
    assert "another video" not in clip_page.read_text()


def test_accuracy_says_when_the_truth_annotates_some_frames(single, tmp_path):
    """A truth of every 5th frame (provenance annotated_frames, as ecoseg import of a stepped
    CVAT task writes it) is scored on those frames and the section says so (old code: every
    frame scored, no word of it)."""
    _, store, clip = single
    truth = tmp_path / "every5.zarr"
    shutil.copytree(clip.truth, truth)
    with ecoseg.MaskStore.open(truth, mode="a") as writable:
        writable.set_provenance(annotated_frames={"start": 0, "step": 5, "count": 4})
    page = report({"clip": store}, tmp_path / "r.html", truth={"clip": truth}).read_text()
    section = page.split('<section id="accuracy">')[1].split("</section>")[0]
    assert "<strong>clip</strong>: scored on 4 of 20 frames: the truth annotates only those" in (
        section
    )
