"""ecoseg.batch.scores: a campaign's accuracy against its truths, one row per video."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

import ecoseg
from ecoseg.batch.scores import SCORE_COLUMNS, campaign_scores
from ecoseg.metrics import OtherVideoWarning


def test_campaign_scores_are_evaluate_of_each_video(tmp_path):
    """Each row holds the figures of `ecoseg evaluate` of its store; a truth that does not
    fit its store is that row's error, and a store without a truth has no row."""
    a = ecoseg.synth(tmp_path / "a", frames=6, size=(64, 48), seed=1)
    b = ecoseg.synth(tmp_path / "b", frames=5, size=(64, 48), seed=2)
    pred = ecoseg.segment(a.video, out=tmp_path / "a.zarr", progress=False)
    stores = {"A": pred, "B": b.truth, "C": a.truth}
    table = campaign_scores(stores, {"A": a.truth, "B": a.truth})
    assert list(table.columns) == list(SCORE_COLUMNS) and table["video"].tolist() == ["A", "B"]
    want = ecoseg.evaluate(pred, a.truth)
    got = table.iloc[0]
    assert (got["jf"], got["hota"], got["idf1"]) == (
        want["jf"]["mean"],
        want["hota"]["hota"],
        want["identity"]["idf1"],
    )
    assert got["maxn_error"] == want["counts"]["all"]["maxn_error"] and got["error"] == ""
    assert table.iloc[1]["error"].startswith(f"{b.truth}: has 5 frames (video video.mp4) but the")
    assert pd.isna(table.iloc[1]["jf"])


def test_cli_truth_dir_writes_the_campaign_scores(tmp_path, capsys):
    from ecoseg.cli import main

    field, truths = tmp_path / "field", tmp_path / "truths"
    videos = []
    for seed, site in enumerate(("site-a", "site-b"), start=1):
        clip = ecoseg.synth(tmp_path / f"_{seed}", frames=4, size=(64, 48), seed=seed)
        videos.append(field / site / "GX010001.MP4")
        videos[-1].parent.mkdir(parents=True)
        shutil.move(clip.video, videos[-1])
        if site == "site-a":
            shutil.copytree(clip.truth, truths / "site-a__GX010001.zarr")
    out = tmp_path / "out"
    args = ["batch", *map(str, videos), "-o", str(out), "--engine", "classical"]
    assert main([*args, "--truth-dir", str(tmp_path / "none"), "--quiet"]) == 2
    assert "none: truth folder not found" in capsys.readouterr().err and not out.exists()
    assert main([*args, "--workers", "1", "--truth-dir", str(truths), "--quiet"]) == 0
    stdout = capsys.readouterr().out
    assert f"scores: {out / 'campaign-scores.csv'} (1 video(s))" in stdout
    assert f"scores: no truth in {truths} for 1 video(s) (site-b__GX010001)" in stdout
    scores = pd.read_csv(out / "campaign-scores.csv")
    assert scores["video"].tolist() == ["site-a__GX010001"]
    assert scores["scored_frames"].tolist() == [4]
    # the figures of site-a's own store against its own truth (any J&F is within [0, 1])
    want = ecoseg.evaluate(out / "site-a__GX010001.zarr", truths / "site-a__GX010001.zarr")
    got = scores.iloc[0]
    assert (got["jf"], got["hota"]) == pytest.approx((want["jf"]["mean"], want["hota"]["hota"]))


def test_scores_columns_are_named_in_the_docs():
    text = (Path(ecoseg.__file__).parents[1] / "docs" / "scale.md").read_text()
    assert "campaign-scores.csv" in text and all(c in text for c in SCORE_COLUMNS)


def test_a_truth_of_another_video_is_scored_and_named_in_the_note(tmp_path):
    """A wrong pairing (two clips alike: same frames, size and length) is scored, not
    refused (a truth drawn on a re-encoded copy is legitimate), and its note names both."""
    a = ecoseg.synth(tmp_path / "a", frames=4, size=(64, 48), seed=1)
    b = ecoseg.synth(tmp_path / "b", frames=4, size=(64, 48), seed=2)
    copy = shutil.copytree(b.truth, tmp_path / "B.zarr")  # (b.truth itself: a same-store note)
    with pytest.warns(OtherVideoWarning, match="the truth was made from"):
        table = campaign_scores({"A": a.truth, "B": copy}, {"A": b.truth, "B": b.truth})
    wrong, right = table.iloc[0], table.iloc[1]
    assert wrong["note"].startswith(f"{b.truth}: the truth was made from video.mp4, the store")
    assert "other files (sha256 " in wrong["note"] and wrong["error"] == ""
    assert 0 <= wrong["jf"] < 1 and right["note"] == "" and right["jf"] == 1.0


def test_a_store_whose_run_did_not_finish_says_so_in_the_note(tmp_path):
    """A store whose run did not finish but holds every frame of its truth is scored (as
    `ecoseg evaluate` scores it, keeping measure's words in its 'unfinished' field), but the
    campaign scores' note said nothing of it: the figures passed for a finished run's. Now
    the note carries those words."""
    import json

    from ecoseg.measure import IncompleteStoreWarning, incomplete_note
    from ecoseg.store import ATTRS_KEY, MaskStore

    clip = ecoseg.synth(tmp_path / "a", frames=4, size=(64, 48), seed=1)
    store = tmp_path / "A.zarr"
    shutil.copytree(clip.truth, store)
    meta = json.loads((store / "zarr.json").read_text())
    meta["attributes"][ATTRS_KEY]["complete"] = False  # (every frame there)
    (store / "zarr.json").write_text(json.dumps(meta))
    with pytest.warns(IncompleteStoreWarning):
        copy = shutil.copytree(clip.truth, tmp_path / "B.zarr")  # (not the truth itself)
        table = campaign_scores({"A": store, "B": copy}, {"A": clip.truth, "B": clip.truth})
    with MaskStore.open(store) as opened:
        said = incomplete_note(opened, "the metrics")
    assert table["note"].tolist() == [said, ""] and table["jf"].tolist() == [1.0, 1.0]
    assert table["error"].tolist() == ["", ""]
