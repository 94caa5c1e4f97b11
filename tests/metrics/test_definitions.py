"""The scores of :func:`ecoseg.evaluate` mean what the published definitions mean.

- HOTA (DetA, AssA, LocA), IDF1 and MOTA (with MOTP and IDSW) equal TrackEval's own end to end:
  its DAVIS dataset reader on PNG folders written here (mask IoU of pycocotools RLEs, the
  similarity TrackEval computes for masks), class-agnostic.
- J&F equals TrackEval's ``JAndF`` (the davis2017-evaluation definition: ``bound_th`` 0.008 of
  the diagonal, a disk dilation, mean over frames per object then over objects) wherever every
  object is present on every frame; elsewhere it equals an independent plain re-implementation
  of the one documented difference: a truth object is scored on the frames where it or its
  matched prediction is present (DAVIS also scores the frames where both are absent, as 1).
"""

from __future__ import annotations

import contextlib
import io
import warnings

import numpy as np
import pytest
from scipy import ndimage
from scipy.optimize import linear_sum_assignment
from skimage.morphology import disk
from suite_helpers import labels_store

from ecoseg.metrics import evaluate


def make_store(path, labels):
    return labels_store(path, labels, None, chunk_frames=3)


def scene(rng, always):
    """Random boxes drifting over a few frames (``always``: on every frame), with ids not
    contiguous; and a prediction of them shifted, with holes, two ids swapped half way, and
    (``always`` False) a one-pixel object and an object the truth never has."""
    n, h, w = int(rng.integers(3, 8)), int(rng.integers(20, 40)), int(rng.integers(20, 40))
    truth = np.zeros((n, h, w), np.uint8)
    for oid in rng.choice(np.arange(1, 40), int(rng.integers(1, 5)), replace=False):
        y, x = int(rng.integers(0, h - 8)), int(rng.integers(0, w - 8))
        sy, sx = int(rng.integers(3, 10)), int(rng.integers(3, 10))
        for t in range(n):
            y = int(np.clip(y + rng.integers(-2, 3), 0, h - 3))
            x = int(np.clip(x + rng.integers(-2, 3), 0, w - 3))
            if always or rng.random() > 0.25:
                truth[t, y : y + sy, x : x + sx] = oid
    pred = np.stack([np.roll(f, tuple(rng.integers(-2, 3, 2)), axis=(0, 1)) for f in truth])
    pred[rng.random(pred.shape) < 0.05] = 0
    ids = np.unique(pred[pred > 0])
    if len(ids) >= 2:
        half = pred[n // 2 :]
        a, b = half == ids[0], half == ids[1]
        half[a], half[b] = ids[1], ids[0]
    if not always:
        pred[1:, int(rng.integers(0, h)), int(rng.integers(0, w))] = 90
        pred[: n // 2, 0:4, w - 5 : w - 1] = 91
    return truth, pred


def trackeval_davis(truth, pred, tmp_path):
    """TrackEval's own HOTA, CLEAR, Identity and JAndF of two label stacks, through its DAVIS
    reader on PNG folders."""
    trackeval = pytest.importorskip("trackeval")
    pytest.importorskip("cv2")  # JAndF's dilation
    from PIL import Image

    for folder, labels in ((tmp_path / "gt" / "seq", truth), (tmp_path / "tr/me/data/seq", pred)):
        folder.mkdir(parents=True)
        for t, frame in enumerate(labels):
            Image.fromarray(frame.astype(np.uint8)).save(folder / f"{t:05d}.png")
    quiet = {"PRINT_CONFIG": False}
    dataset = trackeval.datasets.DAVIS(
        {
            "GT_FOLDER": str(tmp_path / "gt"),
            "TRACKERS_FOLDER": str(tmp_path / "tr"),
            "SEQ_INFO": {"seq": len(truth)},
            **quiet,
        }
    )
    evaluator = trackeval.Evaluator(
        {
            "USE_PARALLEL": False,
            "PRINT_RESULTS": False,
            "OUTPUT_SUMMARY": False,
            "OUTPUT_DETAILED": False,
            "PLOT_CURVES": False,
            "TIME_PROGRESS": False,
            "BREAK_ON_ERROR": True,
            "LOG_ON_ERROR": None,
            **quiet,
        }
    )
    metrics = [
        trackeval.metrics.HOTA(),
        trackeval.metrics.CLEAR(dict(quiet)),
        trackeval.metrics.Identity(dict(quiet)),
        trackeval.metrics.JAndF(),
    ]
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res, _ = evaluator.evaluate([dataset], metrics)
    return res["DAVIS"]["me"]["seq"]["general"]


def ours(truth, pred, tmp_path):
    return evaluate(make_store(tmp_path / "p.zarr", pred), make_store(tmp_path / "t.zarr", truth))


@pytest.mark.parametrize("seed", range(6))
def test_hota_idf1_mota_and_jf_are_trackevals_end_to_end(tmp_path, seed):
    truth, pred = scene(np.random.default_rng(seed), always=seed % 2 == 0)
    r = ours(truth, pred, tmp_path)
    te = trackeval_davis(truth, pred, tmp_path)
    hota, clear, ident = te["HOTA"], te["CLEAR"], te["Identity"]
    for key, field in (("hota", "HOTA"), ("deta", "DetA"), ("assa", "AssA"), ("loca", "LocA")):
        assert r["hota"][key] == pytest.approx(np.mean(hota[field]), abs=1e-12), key
    assert r["identity"]["idf1"] == pytest.approx(ident["IDF1"], abs=1e-12)
    assert (r["identity"]["idtp"], r["identity"]["idfn"], r["identity"]["idfp"]) == (
        ident["IDTP"],
        ident["IDFN"],
        ident["IDFP"],
    )
    assert r["clear"]["mota"] == pytest.approx(clear["MOTA"], abs=1e-12)
    assert r["clear"]["motp"] == pytest.approx(clear["MOTP"], abs=1e-12)
    assert (r["clear"]["idsw"], r["clear"]["fp"], r["clear"]["fn"]) == (
        clear["IDSW"],
        clear["CLR_FP"],
        clear["CLR_FN"],
    )
    present = [set(np.unique(f[f > 0]).tolist()) for f in (*truth, *pred)]
    if all(p == present[0] for p in present):  # no frame without an object: DAVIS's J&F
        jf = te["JAndF"]
        assert r["jf"]["j_mean"] == pytest.approx(jf["J-Mean"], abs=1e-12)
        assert r["jf"]["f_mean"] == pytest.approx(jf["F-Mean"], abs=1e-12)
        assert r["jf"]["mean"] == pytest.approx(jf["J&F"], abs=1e-12)
    else:  # DAVIS also scores the frames where both are absent: ecoseg's own definition
        assert (r["jf"]["j_mean"], r["jf"]["f_mean"]) == pytest.approx(plain_jf(truth, pred))


def davis_f(pred, truth, bound_pix):
    """davis2017-evaluation's f_measure of two masks, written plainly (boundary maps of the
    right, lower and lower-right neighbours; a disk dilation)."""

    def bmap(m):
        p = np.pad(m, ((0, 1), (0, 1)), mode="edge")  # the last row, column: themselves
        return (m != p[:-1, 1:]) | (m != p[1:, :-1]) | (m != p[1:, 1:])

    pb, tb = bmap(pred), bmap(truth)
    if not pb.any() or not tb.any():
        return 1.0 if not pb.any() and not tb.any() else 0.0
    precision = (pb & ndimage.binary_dilation(tb, disk(bound_pix))).sum() / pb.sum()
    recall = (tb & ndimage.binary_dilation(pb, disk(bound_pix))).sum() / tb.sum()
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def plain_jf(truth, pred):
    """J&F as ecoseg documents it, plainly: truth and predicted objects matched one to one
    for the largest IoU summed over the frames (Hungarian); each truth object scored on the
    frames where it or its match is present, by J (IoU) and F (DAVIS), averaged over those
    frames, then over objects."""
    n, h, w = truth.shape
    bound_pix = int(np.ceil(0.008 * np.hypot(h, w)))
    t_ids = [int(i) for i in np.unique(truth) if i]
    p_ids = [int(i) for i in np.unique(pred) if i]
    total = np.zeros((len(t_ids), len(p_ids)))
    for a, g in enumerate(t_ids):
        for b, p in enumerate(p_ids):
            for t in range(n):
                inter = np.sum((truth[t] == g) & (pred[t] == p))
                total[a, b] += inter / max(np.sum((truth[t] == g) | (pred[t] == p)), 1)
    rows, cols = linear_sum_assignment(-total)
    match = {t_ids[a]: p_ids[b] for a, b in zip(rows, cols) if total[a, b] > 0}
    js, fs = [], []
    for g in t_ids:
        j, f = [], []
        for t in range(n):
            gm = truth[t] == g
            pm = pred[t] == match[g] if g in match else np.zeros_like(gm)
            if not gm.any() and not pm.any():
                continue
            j.append(np.sum(gm & pm) / np.sum(gm | pm))
            f.append(davis_f(pm, gm, bound_pix) if gm.any() and pm.any() else 0.0)
        js.append(np.mean(j))
        fs.append(np.mean(f))
    return np.mean(js), np.mean(fs)


@pytest.mark.parametrize("seed", range(10))
def test_jf_is_the_documented_definition_with_gaps(tmp_path, seed):
    truth, pred = scene(np.random.default_rng(100 + seed), always=False)
    r = ours(truth, pred, tmp_path)
    j, f = plain_jf(truth, pred)
    assert r["jf"]["j_mean"] == pytest.approx(j, abs=1e-12)
    assert r["jf"]["f_mean"] == pytest.approx(f, abs=1e-12)
    assert r["jf"]["mean"] == pytest.approx((j + f) / 2, abs=1e-12)


def test_by_hand_an_absent_frame_a_stray_object_and_a_one_pixel_object(tmp_path):
    """Truth: object 5 on frames 0-2 (absent on 3), object 9 a single pixel on every frame.
    Prediction: 5 exact on frames 0-1, missed on 2, absent on 3 (right); 9 exact; a stray
    object 40 on frame 3 that the truth never has."""
    truth = np.zeros((4, 20, 20), np.uint8)
    truth[:3, 4:10, 4:10] = 5
    truth[:, 15, 15] = 9
    pred = truth.copy()
    pred[2][pred[2] == 5] = 0
    pred[3, 0:3, 0:3] = 40
    r = ours(truth, pred, tmp_path)
    # J&F: object 5 on its 3 frames (DAVIS would score 4: frame 3 as 1), object 9 perfect
    assert r["jf"]["per_object"]["5"]["frames"] == 3
    assert r["jf"]["per_object"]["5"]["j"] == pytest.approx(2 / 3)
    assert (
        r["jf"]["per_object"]["9"] | {"pred_id": 9, "j": 1.0, "f": 1.0}
        == (r["jf"]["per_object"]["9"])
    )
    assert "40" not in r["jf"]["per_object"]  # a prediction never in the truth: no J&F term
    # CLEAR: 7 truth detections, 6 found, 1 missed, 1 false positive: MOTA = 1 - 2/7
    assert (r["clear"]["tp"], r["clear"]["fn"], r["clear"]["fp"]) == (6, 1, 1)
    assert r["clear"]["mota"] == pytest.approx(1 - 2 / 7)
    # Identity: IDTP 6 of 7 truth and 7 predicted detections: IDF1 = 12 / 14
    assert r["identity"]["idf1"] == pytest.approx(12 / 14)
    # HOTA at every alpha (IoU 1): DetA = 6 / (6 + 1 + 1); AssA = mean over the 6 TPs of
    # TPA / (TPA + FNA + FPA): object 5's 2 / 3 (two TPs), object 9's 4 / 4 (four TPs)
    assert r["hota"]["deta"] == pytest.approx(6 / 8)
    assert r["hota"]["assa"] == pytest.approx((2 * 2 / 3 + 4 * 1) / 6)
    assert r["hota"]["hota"] == pytest.approx(np.sqrt(6 / 8 * (2 * 2 / 3 + 4) / 6))


def test_void_pixels_of_a_png_truth_are_left_out_as_davis_and_trackeval_do(tmp_path):
    """A DAVIS truth folder whose indexed PNGs mark a band void (255) around object 3, and a
    prediction that covers the band: J and F leave the void out (TrackEval's JAndF, from
    davis2017-evaluation: the prediction is background there). The old code read the void
    as background of the truth, so the prediction's pixels there were wrong: J 16 / 36, not 1."""
    from PIL import Image

    from ecoseg.formats.davis import VoidPixelsWarning, palette

    truth = np.zeros((3, 24, 24), np.uint8)
    truth[:, 6:12, 6:12] = 255  # void all round the object
    truth[:, 7:11, 7:11] = 3
    truth[:, 16:20, 14:22] = 8  # an object with no void near it
    pred = np.zeros_like(truth)
    pred[:, 6:12, 6:12] = 1  # object 3 and its void band: exact once the void is left out
    pred[:, 16:20, 15:22] = 2
    pngs = tmp_path / "pngs"
    pngs.mkdir()
    for t, frame in enumerate(truth):
        png = Image.fromarray(frame)
        png.putpalette(palette().ravel().tolist())
        png.save(pngs / f"{t:05d}.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error", VoidPixelsWarning)  # left out, not made background
        r = evaluate(make_store(tmp_path / "p.zarr", pred), pngs)
    jf = trackeval_davis(truth, pred, tmp_path / "te")["JAndF"]
    assert r["jf"]["per_object"]["3"]["j"] == 1.0 and r["jf"]["per_object"]["3"]["f"] == 1.0
    assert r["jf"]["j_mean"] == pytest.approx(jf["J-Mean"], abs=1e-12)
    assert r["jf"]["f_mean"] == pytest.approx(jf["F-Mean"], abs=1e-12)
    assert r["jf"]["mean"] == pytest.approx(jf["J&F"], abs=1e-12)
    assert r["void_pixels"] == 3 * (36 - 16)
    # areas: object 3 exact on its 3 frames (its void band left out), object 8 1/8 short
    assert r["area"]["n"] == 6 and r["area"]["median_relative_error"] == pytest.approx(1 / 16)
