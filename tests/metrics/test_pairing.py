"""ecoseg.metrics.pairing: a truth that records another video than the predicted store is
scored, and said (the result's ``video_note``, an OtherVideoWarning); the same video, or too
little recorded to tell, is not."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ecoseg.errors import StoreError
from ecoseg.metrics import OtherVideoWarning, evaluate
from ecoseg.store import MaskStore

H, W, N = 24, 32, 6
SHA_A, SHA_B = "a" * 64, "b" * 64


def labels(shift=0):
    lab = np.zeros((N, H, W), np.uint32)
    for i in range(N):
        lab[i, 4:12, 3 + i + shift : 11 + i + shift] = 1
    return lab


def store(path, video, *, fps=25.0, lab=None):
    """A finished store of ``lab`` whose provenance records ``video`` (None: no entry),
    frames ``1 / fps`` s apart."""
    lab = labels() if lab is None else lab
    s = MaskStore.create(
        path,
        height=lab.shape[1],
        width=lab.shape[2],
        objects=[{"id": 1, "class": "wrasse"}],
        provenance={} if video is None else {"video": video},
    )
    s.append(lab, np.arange(len(lab)) / fps)
    s.mark_complete()
    s.close()
    return str(path)


def video(path, sha=SHA_A, **extra):
    return {"path": path, "sha256": sha, "fps": 25.0, "width": W, "height": H, "frames": N, **extra}


def scored(pred, truth):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = evaluate(pred, truth)
    said = [str(w.message) for w in caught if issubclass(w.category, OtherVideoWarning)]
    assert said == ([result["video_note"]] if "video_note" in result else [])
    return result


def test_the_same_video_moved_elsewhere_is_not_noted(tmp_path):
    pred = store(tmp_path / "p.zarr", video("/field/T1.mp4"))
    truth = store(tmp_path / "t.zarr", video("T1-copy.mp4"))  # same sha256, another path
    assert "video_note" not in scored(pred, truth)


def test_a_truth_of_another_clip_alike_is_scored_and_named_mildly(tmp_path):
    """Same frames, size and duration, another sha256: a re-encoded copy or another clip."""
    pred = store(tmp_path / "p.zarr", video("/field/T1.mp4"))
    # the truth's fish 2 px right of the prediction's: 8 x 6 of 8 x 10 px shared, J 0.6 a frame
    truth = store(tmp_path / "t.zarr", video("/field/T2.mp4", SHA_B), lab=labels(shift=2))
    plain = evaluate(pred, store(tmp_path / "t0.zarr", None, lab=labels(shift=2)))
    r = scored(pred, truth)
    assert r["jf"]["j_mean"] == pytest.approx(0.6)
    # scored as before, only said: every figure is that of the same truth recording no video
    assert {key: value for key, value in r.items() if key != "video_note"} == plain
    note = r["video_note"]
    assert note.startswith(f"{truth}: the truth was made from /field/T2.mp4, the store {pred}")
    assert "from /field/T1.mp4: other files (sha256 bbbbbbbb vs aaaaaaaa)" in note
    assert f"same {N} frames, {W}x{H} px, 0.24 s" in note and "re-encoded copy" in note
    assert "\n" not in note


def test_a_truth_of_another_length_is_named_firmly(tmp_path):
    """Same frame count and size, other frame times: another video (or a re-timed copy)."""
    pred = store(tmp_path / "p.zarr", video("T1.mp4"))
    truth = store(tmp_path / "t.zarr", video("T2.mp4", SHA_B, fps=30.0), fps=30.0)
    note = scored(pred, truth)["video_note"]
    assert "they differ (0.20 s vs 0.24 s long; sha256 bbbbbbbb vs aaaaaaaa)" in note
    assert "compare other footage" in note


def test_without_sha256_only_what_is_recorded_is_compared(tmp_path):
    pred = store(tmp_path / "p.zarr", video("T1.mp4", sha=None))
    same = store(tmp_path / "t.zarr", video("T1.mp4"))
    assert "video_note" not in scored(pred, same)  # nothing recorded differs: nothing to tell
    longer = store(tmp_path / "t2.zarr", video("T9.mp4"), fps=20.0)
    note = scored(pred, longer)["video_note"]
    assert "they differ (0.30 s vs 0.24 s long): " in note


@pytest.mark.parametrize("side", ["pred", "truth"])
def test_a_store_recording_no_video_is_not_noted(tmp_path, side):
    recorded = {"pred": None, "truth": video("T2.mp4", SHA_B)}
    other = {"pred": video("T1.mp4"), "truth": None}[side]
    pred = store(tmp_path / "p.zarr", other if side == "truth" else recorded["pred"])
    truth = store(tmp_path / "t.zarr", None if side == "truth" else recorded["truth"])
    assert "video_note" not in scored(pred, truth)


def test_a_survey_hashed_the_old_way_is_compared_by_its_image_names(tmp_path):
    """A photo survey stored before one fingerprint hashed names and bytes only: its sha256
    is not comparable with a newer store's of the same folder."""
    names = [f"{i:03d}.jpg" for i in range(N)]
    new = video("survey", images=names, sha256_of="open_video")
    pred = store(tmp_path / "p.zarr", new)
    old = store(tmp_path / "t.zarr", video("survey", SHA_B, images=names))
    assert "video_note" not in scored(pred, old)
    renamed = store(tmp_path / "t2.zarr", video("survey", SHA_B, images=names[::-1]))
    assert "they differ (other image names)" in scored(pred, renamed)["video_note"]


def test_other_frame_counts_or_sizes_are_still_refused(tmp_path):
    pred = store(tmp_path / "p.zarr", video("T1.mp4"))
    short = store(tmp_path / "t.zarr", video("T2.mp4", SHA_B, frames=4), lab=labels()[:4])
    with pytest.raises(StoreError, match=r"has 6 frames \(video T1.mp4\) but the truth"):
        evaluate(pred, short)


def test_a_png_truth_is_of_the_store_s_video(tmp_path):
    from ecoseg.formats import export

    pred = store(tmp_path / "p.zarr", video("T1.mp4"))
    pngs = export(pred, "davis", tmp_path / "pngs")
    r = scored(pred, pngs)
    assert "video_note" not in r and r["jf"]["mean"] == 1.0


def test_cli_evaluate_says_it_on_stderr_and_keeps_it_in_the_json(tmp_path, capsys):
    import json

    from ecoseg.cli import main

    pred = store(tmp_path / "p.zarr", video("T1.mp4"))
    truth = store(tmp_path / "t.zarr", video("T2.mp4", SHA_B))
    assert main(["evaluate", pred, "--truth", truth]) == 0
    out, err = capsys.readouterr()
    note = json.loads(out)["video_note"]
    assert err.count("ecoseg: warning: ") == 1 and f"ecoseg: warning: {note}\n" in err


def test_a_store_scored_against_itself_is_kept_in_the_json(tmp_path, capsys):
    """``evaluate masks.zarr --truth masks.zarr --json``: the SameStoreWarning went to stderr
    only; a script reading the JSON (or a saved ``-o eval.json``) saw perfect scores and no
    word. Now the result's ``same_store_note`` holds the warning's line (as ``video_note``
    holds OtherVideoWarning's), and a campaign's or report's note carries it; two stores have
    no such key."""
    import json
    import os

    from ecoseg.cli import main
    from ecoseg.metrics import SameStoreWarning, result_note

    pred = store(tmp_path / "p.zarr", video("T1.mp4"))
    assert main(["evaluate", pred, "--truth", pred, "--quiet"]) == 0
    out, err = capsys.readouterr()
    note = json.loads(out)["same_store_note"]
    assert note.startswith(f"{pred}: scored against itself (the truth is the same store)")
    assert err == f"ecoseg: warning: {note}\n"
    link = tmp_path / "link.zarr"
    os.symlink(pred, link)
    with pytest.warns(SameStoreWarning) as said:
        result = evaluate(pred, link)
    assert result["same_store_note"] == str(said[0].message)
    assert result_note(result) == result["same_store_note"]
    other = store(tmp_path / "t.zarr", video("T1.mp4"))
    assert "same_store_note" not in scored(pred, other)
