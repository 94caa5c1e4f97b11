"""Tests of ecoseg.metrics: J&F, HOTA/IDF1/MOTA (TrackEval), count, MaxN and area errors."""

from __future__ import annotations

import json
import re
import shutil
import warnings

import numpy as np
import pytest
from scipy import ndimage
from skimage.morphology import disk
from suite_helpers import labels_store

from ecoseg.errors import StoreError
from ecoseg.metrics import (
    bound_pixels,
    boundary_f,
    evaluate,
    jaccard,
    pair_counts,
    scored_note,
    seg2bmap,
)
from ecoseg.store import MaskStore

H, W, N = 48, 64, 10


def scene(n=N):
    """Three squares moving in different directions; object 3 appears at frame 3."""
    lab = np.zeros((n, H, W), np.uint32)
    for i in range(n):
        lab[i, 4 + i : 14 + i, 5 + 2 * i : 15 + 2 * i] = 1
        lab[i, 30:40, 50 - 2 * i : 60 - 2 * i] = 2
        if i >= 3:
            lab[i, 20 + i : 28 + i, 20:28] = 3
    return lab


CLASSES = {1: "wrasse", 2: "wrasse", 3: "grouper"}


def make_store(path, labels, classes=None, chunk_frames=4, complete=True):
    """A store of ``labels`` (frames 1/25 s apart); ``complete=False``: its run was killed."""
    classes = classes if classes is not None else CLASSES
    return labels_store(path, labels, classes, chunk_frames, complete)


@pytest.fixture
def truth(tmp_path):
    return make_store(tmp_path / "truth.zarr", scene())


def test_perfect_prediction(truth):
    r = evaluate(truth, truth)
    assert r["jf"]["mean"] == 1.0 and r["jf"]["j_mean"] == 1.0 and r["jf"]["f_mean"] == 1.0
    assert r["hota"]["hota"] == pytest.approx(1.0)
    assert r["hota"]["deta"] == pytest.approx(1.0) and r["hota"]["assa"] == pytest.approx(1.0)
    assert r["identity"]["idf1"] == 1.0 and r["clear"]["mota"] == 1.0
    assert r["counts"]["all"]["mae"] == 0 and r["counts"]["all"]["maxn_error"] == 0
    assert r["counts"]["wrasse"] == {"mae": 0.0, "maxn_truth": 2, "maxn_pred": 2, "maxn_error": 0}
    assert r["area"]["median_relative_error"] == 0 and r["area"]["n"] == 10 + 10 + 7
    assert r["matching"] == {"1": 1, "2": 2, "3": 3}
    assert r["jf"]["per_object"]["3"]["frames"] == 7
    json.dumps(r, allow_nan=False)


def test_relabelled_class_less_prediction_is_still_perfect(tmp_path, truth):
    lab = scene()
    relabel = np.array([0, 70, 9, 1000], np.uint32)[lab]
    pred = make_store(tmp_path / "pred.zarr", relabel, classes={})
    r = evaluate(pred, truth)
    assert r["matching"] == {"1": 70, "2": 9, "3": 1000}
    assert r["jf"]["mean"] == 1.0 and r["identity"]["idf1"] == 1.0
    assert r["hota"]["hota"] == pytest.approx(1.0) and r["clear"]["mota"] == 1.0
    assert list(r["counts"]) == ["all"]  # every predicted class is "unknown"
    assert r["counts"]["all"]["mae"] == 0


def test_swapped_ids_lower_association_not_detection(tmp_path, truth):
    lab = scene()
    swapped = lab.copy()
    half = swapped[N // 2 :]
    one, two = half == 1, half == 2
    half[one], half[two] = 2, 1
    r = evaluate(make_store(tmp_path / "pred.zarr", swapped), truth)
    assert r["hota"]["deta"] == pytest.approx(1.0)
    assert r["hota"]["assa"] < 0.8 and r["hota"]["hota"] < 0.9
    assert r["identity"]["idf1"] < 0.85
    assert r["clear"]["idsw"] == 2
    assert r["clear"]["mota"] == pytest.approx(1 - 2 / (10 + 10 + 7))
    assert r["counts"]["all"]["mae"] == 0  # counts do not care about identity


def test_empty_prediction(tmp_path, truth):
    ids = [{"id": 1, "class": "wrasse"}]
    store = MaskStore.create(tmp_path / "pred.zarr", height=H, width=W, objects=ids)
    store.append(np.zeros((N, H, W), np.uint32), np.arange(N) / 25)
    store.mark_complete()  # a finished run that found nothing
    store.close()
    r = evaluate(tmp_path / "pred.zarr", truth)
    assert r["jf"]["mean"] == 0 and r["jf"]["j_mean"] == 0 and r["jf"]["f_mean"] == 0
    assert r["hota"]["hota"] == 0 and r["identity"]["idf1"] == 0
    assert r["clear"]["mota"] <= 0
    assert r["counts"]["all"]["maxn_error"] == -3 and r["counts"]["all"]["maxn_pred"] == 0
    assert r["counts"]["all"]["mae"] == pytest.approx((3 * 2 + 7 * 3) / 10)
    assert r["area"]["n"] == 0 and r["area"]["median_relative_error"] is None
    assert r["matching"] == {"1": None, "2": None, "3": None}


def test_one_pixel_shift_by_hand(tmp_path):
    s = 10
    t = np.zeros((2, 40, 40), np.uint32)
    t[:, 10 : 10 + s, 10 : 10 + s] = 1
    p = np.roll(t, 1, axis=2)
    truth = make_store(tmp_path / "t.zarr", t)
    r = evaluate(make_store(tmp_path / "p.zarr", p), truth)
    # intersection s(s - 1), union s(s + 1)
    assert r["jf"]["j_mean"] == pytest.approx((s - 1) / (s + 1))
    # every boundary pixel is within one pixel of the other boundary: F = 1
    assert r["jf"]["f_mean"] == 1.0
    assert r["area"]["median_relative_error"] == 0
    # with a tolerance of 0 pixels only the boundary pixels of the shared rows and the
    # overlapping parts of the top and bottom edges (s - 1 + s - 1 of the 4s - 4... ) match
    f0 = boundary_f(p[0] == 1, t[0] == 1, bound_pix=0)
    tb, pb = seg2bmap(t[0] == 1), seg2bmap(p[0] == 1)
    prec = (pb & tb).sum() / pb.sum()
    rec = (pb & tb).sum() / tb.sum()
    assert f0 == pytest.approx(2 * prec * rec / (prec + rec)) and f0 < 1


def test_counts_maxn_and_area_errors_by_hand(tmp_path, truth):
    lab = scene()
    pred = lab.copy()
    pred[pred == 3] = 0  # the grouper is missed entirely
    pred[:, 30:40, :][pred[:, 30:40, :] == 2] = 0
    pred[:, 30:35, :][lab[:, 30:35, :] == 2] = 2  # object 2 at half its area
    r = evaluate(make_store(tmp_path / "pred.zarr", pred), truth)
    assert r["counts"]["grouper"] == {"mae": 0.7, "maxn_truth": 1, "maxn_pred": 0, "maxn_error": -1}
    assert r["counts"]["wrasse"]["mae"] == 0
    assert r["counts"]["all"]["maxn_error"] == -1
    # matched object-frames: 10 exact (object 1) and 10 at -50 % (object 2)
    assert r["area"]["n"] == 20
    assert r["area"]["median_relative_error"] == pytest.approx(0.25)
    assert r["jf"]["per_object"]["2"]["j"] == pytest.approx(0.5)
    assert r["jf"]["per_object"]["3"]["j"] == 0 and r["jf"]["per_object"]["3"]["pred_id"] is None


def test_chunking_does_not_change_results(tmp_path, truth):
    lab = scene()
    pred = np.roll(lab, 2, axis=1)
    pred_path = make_store(tmp_path / "pred.zarr", pred, chunk_frames=3)
    assert evaluate(pred_path, truth) == evaluate(pred_path, truth, chunk_frames=1)


def test_boundary_f_matches_davis_definition_with_disk_dilation():
    rng = np.random.default_rng(0)
    for _ in range(5):
        a = ndimage.gaussian_filter(rng.random((40, 50)), 3) > 0.5
        b = ndimage.gaussian_filter(rng.random((40, 50)), 3) > 0.5
        assert a.any() and b.any() and not a.all() and not b.all()
        for r in (1, 2, 4):
            ab, bb = seg2bmap(a), seg2bmap(b)
            a_dil = ndimage.binary_dilation(ab, disk(r))
            b_dil = ndimage.binary_dilation(bb, disk(r))
            prec = (ab & b_dil).sum() / ab.sum()
            rec = (bb & a_dil).sum() / bb.sum()
            want = 0.0 if prec + rec == 0 else 2 * prec * rec / (prec + rec)
            assert boundary_f(a, b, r) == pytest.approx(want, abs=1e-12)


def test_evaluate_crops_give_the_full_frame_f(tmp_path):
    # masks touching the image border and a tolerance larger than the object
    t = np.zeros((3, 30, 30), np.uint32)
    p = np.zeros((3, 30, 30), np.uint32)
    t[:, 0:8, 0:9] = 1
    p[:, 1:9, 0:7] = 4
    p[2] = 0
    p[2, 20:25, 20:25] = 4
    r = evaluate(make_store(tmp_path / "p.zarr", p), make_store(tmp_path / "t.zarr", t), bound_th=6)
    want = np.mean([boundary_f(p[i] == 4, t[i] == 1, 6) for i in range(3)])
    assert r["jf"]["per_object"]["1"]["f"] == pytest.approx(want)
    assert r["bound_pix"] == 6


def test_small_pieces():
    m = np.zeros((5, 5), bool)
    m[1:4, 1:4] = True
    b = seg2bmap(m)
    # DAVIS's map: pixels differing from the right, lower or lower-right neighbour
    assert b.sum() == 12 and b[0, 0] and b[3, 3] and not b[1, 1] and not b[2, 2]
    assert jaccard(m, m) == 1.0 and jaccard(np.zeros_like(m), np.zeros_like(m)) == 1.0
    assert bound_pixels((480, 854)) == 8  # DAVIS 480p: ceil(0.008 * 979.7)
    assert boundary_f(np.zeros_like(m), np.zeros_like(m)) == 1.0
    pc = pair_counts(np.array([[[1, 1, 2]]]), np.array([[[3, 0, 3]]]))
    assert list(zip(pc["truth"], pc["pred"], pc["count"])) == [(1, 0, 1), (1, 3, 1), (2, 3, 1)]


def test_mismatched_stores(tmp_path, truth):
    other = make_store(tmp_path / "o.zarr", scene(n=4))
    with pytest.raises(StoreError, match="4 frames"):
        evaluate(other, truth)
    small = np.zeros((N, 10, 10), np.uint32)
    small[:, 2:4, 2:4] = 1
    small = make_store(tmp_path / "s.zarr", small)
    with pytest.raises(StoreError, match="10x10"):
        evaluate(small, truth)
    with pytest.raises(StoreError):
        evaluate(tmp_path / "missing.zarr", truth)


def test_an_unfinished_prediction_is_scored_with_one_warning_and_refused_when_short(
    tmp_path, truth
):
    """A prediction whose ``ecoseg segment`` was interrupted. With every frame of the truth it
    was scored without a word (``measure`` and ``export`` warn): now it warns once in their
    words (:func:`ecoseg.measure.incomplete_note`). Short of the truth's frames it is refused
    (its missing frames' animals would count as misses, or a prefix pass for the video), and
    the one line now says why and how to continue it: it read as two different videos."""
    from ecoseg.errors import FormatError
    from ecoseg.formats import export
    from ecoseg.measure import IncompleteStoreWarning, incomplete_note

    full = make_store(tmp_path / "full.zarr", scene(), complete=False)
    with pytest.warns(IncompleteStoreWarning) as warned:
        r = evaluate(full, truth)
    assert r["jf"]["mean"] == 1.0 and len(warned) == 1
    with MaskStore.open(full) as opened:
        assert str(warned[0].message) == incomplete_note(opened, "the metrics")
    assert r["unfinished"] == str(warned[0].message) and "note" not in r  # kept in the figures
    copy = tmp_path / "copy.zarr"
    shutil.copytree(truth, copy)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a finished run: not a word
        assert "unfinished" not in evaluate(copy, truth)

    part = make_store(tmp_path / "part.zarr", scene(n=4), complete=False)
    with pytest.raises(StoreError) as refused:
        evaluate(part, truth)
    said = str(refused.value)
    assert said.startswith(f"{part}: has 4 frames but the truth {truth} has {N}: its run did ")
    assert f"`ecoseg segment VIDEO -o {part} --resume` and the run's options" in said
    pngs = export(truth, "davis", tmp_path / "pngs")  # the same truth as a PNG folder
    with pytest.raises(
        FormatError, match=r"past the end of the store .*\(4 frames, 0..3\): its run"
    ):
        evaluate(part, pngs)
    done = make_store(tmp_path / "done.zarr", scene(n=4))  # finished, of another video
    with pytest.raises(StoreError) as other:
        evaluate(done, truth)
    assert str(other.value) == f"{done}: has 4 frames but the truth {truth} has {N}"


def test_a_truth_of_some_frames_is_scored_on_those_only(tmp_path, truth):
    """A truth store whose provenance says it annotates frames 1, 4, 7 only is scored on those:
    the same figures as stores holding just those frames, whatever the prediction has on the
    others (old code: every frame scored, the prediction's masks on unannotated frames were
    false positives and the truth's empty frames missed objects)."""
    lab = scene()
    sparse = np.zeros_like(lab)
    sparse[1::3] = lab[1::3]  # what an import of a task of every 3rd frame from 1 holds
    pred = lab.copy()
    pred[4, 30:40] = 0  # a miss on an annotated frame, so the figures are not all 1
    pred[5, 0:3, 0:3] = 9  # a stray mask on a frame nobody annotated
    t = make_store(tmp_path / "t.zarr", sparse)
    store = MaskStore.open(t, mode="a")
    store.set_provenance(annotated_frames={"start": 1, "step": 3, "count": 3})
    store.close()
    p = make_store(tmp_path / "p.zarr", pred)
    r = evaluate(p, t, chunk_frames=2)
    ref = evaluate(
        make_store(tmp_path / "p3.zarr", pred[1::3]), make_store(tmp_path / "t3.zarr", lab[1::3])
    )
    assert (r["frames"], r["scored_frames"]) == (N, 3) and "note" in r
    assert r["note"].startswith("scored on 3 of 10 frames: the truth annotates only those")
    for key in ("jf", "hota", "identity", "clear", "counts", "area", "matching"):
        assert r[key] == ref[key], key
    assert r["clear"]["fp"] == 0 and r["clear"]["fn"] > 0


@pytest.mark.parametrize(
    "entry", [{"start": 0, "step": 0, "count": 2}, {"start": "1", "step": 3}, [1, 4, 7]]
)
def test_a_malformed_annotated_frames_entry_is_refused(tmp_path, truth, entry):
    store = MaskStore.open(truth, mode="a")
    store.set_provenance(annotated_frames=entry)
    store.close()
    with pytest.raises(StoreError, match="provenance annotated_frames .* is malformed"):
        evaluate(truth, truth)


def test_an_empty_truth_folder_says_a_png_folder_is_accepted_too(tmp_path):
    """Old message: 'not a zarr store (No group found in store LocalStore(...))'."""
    lab = np.zeros((2, 4, 4), np.uint32)
    lab[:, 1:3, 1:3] = 1
    make_store(tmp_path / "p.zarr", lab)
    (tmp_path / "truth").mkdir()
    with pytest.raises(StoreError, match=r"truth: is neither a mask store nor a folder of PNG m"):
        evaluate(tmp_path / "p.zarr", tmp_path / "truth")


@pytest.mark.parametrize("case", ["scored", "refused", "png folder"])
def test_evaluate_closes_the_stores_it_opened(tmp_path, truth, opened, case):
    """evaluate closed neither store it opened from a path (nor the one it made of a PNG
    folder), also after an error; stores passed in stay open."""
    from ecoseg.formats import export

    other = truth
    if case == "refused":
        other = make_store(tmp_path / "o.zarr", scene(n=4))
    elif case == "png folder":
        other = export(truth, "davis", tmp_path / "pngs")
    opened.clear()
    if case == "refused":  # the error path: 10 frames against 4
        with pytest.raises(StoreError, match="has 10 frames but the truth .* has 4"):
            evaluate(truth, other)
    else:
        evaluate(truth, other)
    assert len(opened) == 2 and all(s.closed for _, s in opened)
    with MaskStore.open(truth) as pred, MaskStore.open(truth) as ref:
        assert evaluate(pred, ref)["jf"]["mean"] == 1.0
        assert not pred.closed and not ref.closed


def test_refusals_of_other_frames_name_both_stores_and_their_videos(tmp_path):
    """A truth of other frames (a campaign's truths paired with the wrong stores) was refused
    naming the stores but not the videos they were made from, and against a PNG folder the
    prediction's side was 'the video', unnamed. Now each side is named with its video."""
    import ecoseg
    from ecoseg.errors import FormatError
    from ecoseg.formats import export

    north = ecoseg.synth(tmp_path / "north", frames=6, size=(64, 48), seed=1)
    south = ecoseg.synth(tmp_path / "south", frames=8, size=(64, 48), seed=2)
    east = ecoseg.synth(tmp_path / "east", frames=6, size=(80, 48), seed=3)
    with MaskStore.open(north.truth) as opened:
        video = opened.provenance_record.video.path  # as recorded
    with pytest.raises(StoreError) as count:
        evaluate(north.truth, south.truth)
    assert str(count.value) == (
        f"{north.truth}: has 6 frames (video {video}) but the truth {south.truth} has 8 "
        f"(video {video})"
    )
    with pytest.raises(StoreError) as size:
        evaluate(north.truth, east.truth)
    assert str(size.value) == (
        f"{north.truth}: frames are 64x48 (video {video}) but the truth {east.truth} has 80x48 "
        f"(video {video})"
    )
    with pytest.raises(FormatError) as past:
        evaluate(north.truth, export(south.truth, "davis", tmp_path / "south-pngs"))
    assert str(past.value) == (
        f"{tmp_path / 'south-pngs' / '00006.png'}: frame 6 is past the end of the video {video} "
        f"of the store {north.truth} (6 frames, 0..5)"
    )
    with pytest.raises(FormatError) as wide:
        evaluate(north.truth, export(east.truth, "davis", tmp_path / "east-pngs"))
    assert str(wide.value) == (
        f"{tmp_path / 'east-pngs' / '00000.png'}: mask size 80x48, but the video {video} of the "
        f"store {north.truth} is 64x48"
    )


def test_a_png_past_a_one_frame_video_is_said_in_the_singular(tmp_path):
    """A DAVIS PNG past the end of a 1-frame video said '(1 frames, 0..0)'."""
    import ecoseg
    from ecoseg.errors import FormatError
    from ecoseg.formats import export
    from ecoseg.metrics.truth import png_frames

    two = ecoseg.synth(tmp_path / "two", frames=2, size=(64, 48), seed=1)
    folder = export(two.truth, "davis", tmp_path / "pngs")
    with pytest.raises(FormatError) as past:
        png_frames(folder, 1)
    assert str(past.value).endswith(
        "00001.png: frame 1 is past the end of the video (1 frame, 0..0)"
    )


@pytest.mark.parametrize(
    ("frames", "shown"),
    [
        ([0, 5, 10, 15], "frames 0, 5, 10, 15)"),
        ([3], "frames 3)"),
        (range(10, 60, 5), "frames 10, 15, 20, ..., 55)"),
    ],
)
def test_the_note_of_a_partial_truth_names_no_frame_it_did_not_score(frames, shown):
    """The frames a partial truth was scored on, as the note lists them: four frames were
    'frames 0, 5, 10..15', which reads as every frame from 10 to 15."""
    note = scored_note(frames, 60)
    assert shown in note
    assert not re.search(r"\d\.\.\d", note)


def test_a_png_truth_is_decoded_once_its_void_taken_from_the_import(tmp_path, monkeypatch):
    """``evaluate`` against a DAVIS folder decodes each PNG once: the import keeps the void
    pixels it found (``keeping_void``) for ``VoidPixels``. The old code decoded every PNG
    twice, in the import and again for its void: 8 here.
    Results as before: object 1 is 4x4, its prediction 6x6 covering a void band (255) on
    frames 1 and 3 only: J 16 / 36 on frames 0 and 2, 1 on frames 1 and 3 (the band left
    out), void pixels 2 x 20."""
    from PIL import Image

    from ecoseg.formats import davis

    truth = np.zeros((4, 16, 16), np.uint8)
    truth[[1, 3], 3:9, 3:9] = 255
    truth[:, 4:8, 4:8] = 1
    pred = np.zeros((4, 16, 16), np.uint32)
    pred[:, 3:9, 3:9] = 1
    (tmp_path / "pngs").mkdir()
    for t, frame in enumerate(truth):
        png = Image.fromarray(frame, mode="P")
        png.putpalette(davis.palette().ravel().tolist())
        png.save(tmp_path / "pngs" / f"{t:05d}.png")
    decoded = []
    read_png = davis.read_png
    monkeypatch.setattr(
        davis, "read_png", lambda path, *a: decoded.append(path) or read_png(path, *a)
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", davis.VoidPixelsWarning)  # left out, as before
        r = evaluate(labels_store(tmp_path / "p.zarr", pred, None), tmp_path / "pngs")
    assert sorted(p.name for p in decoded) == [f"{t:05d}.png" for t in range(4)]
    assert r["void_pixels"] == 40
    assert r["jf"]["j_mean"] == pytest.approx((2 * 16 / 36 + 2) / 4)
