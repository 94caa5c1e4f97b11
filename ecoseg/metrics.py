"""Accuracy of a predicted mask store against a ground-truth store.

:func:`evaluate` reports

- **J&F** (DAVIS): region similarity J (mask IoU) and boundary accuracy F (boundary
  F-measure with a tolerance of ``bound_th`` = 0.008 of the image diagonal) per object and
  frame, averaged per object and then over objects;
- **HOTA** (with DetA, AssA, LocA), **IDF1** and **MOTA**, computed by TrackEval's own metric
  classes (``trackeval.metrics.HOTA``, ``Identity``, ``CLEAR``) on per-frame mask-IoU
  similarity matrices;
- **count error** and **MaxN error** per class (and class-agnostic, ``"all"``) and the
  median relative **area error** of matched objects.

Object correspondence for J&F and the area error: each truth object is matched to at most
one predicted object so that the total IoU summed over all frames is maximal (Hungarian
assignment, ``scipy.optimize.linear_sum_assignment``). HOTA/IDF1/MOTA do their own per-frame
matching as their definitions prescribe.

Deviations from the DAVIS protocol, chosen for videos in which animals come and go: a truth
object is scored only on the frames where it or its matched prediction is present (DAVIS
scores every frame, which would reward "both absent" frames), and every frame is scored
(DAVIS drops the first and last frame of its semi-supervised benchmark).

A truth store that annotates only some frames (its provenance's ``annotated_frames``, e.g. an
imported CVAT task of every 5th frame) is compared on those frames only: the others were never
annotated, so a mask there is neither right nor wrong. So is a DAVIS-style PNG folder with a
PNG for some frames only (every k-th frame): the frames with a PNG are scored. The result's
``scored_frames`` and ``note`` say so.

The stores are read chunk by chunk, twice (once for overlaps, once for boundaries after the
matching is known); memory stays bounded by a chunk of frames.
"""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from scipy import ndimage
from scipy.optimize import linear_sum_assignment

from ecoseg._checks import positive_int, short_repr, whole_number
from ecoseg.errors import ConfigError, StoreError
from ecoseg.provenance import annotated_frames

__all__ = [
    "boundary_f",
    "evaluate",
    "is_png_folder",
    "jaccard",
    "png_frames",
    "scored_note",
    "seg2bmap",
    "truth_from_pngs",
]

BOUND_TH = 0.008


# --------------------------------------------------------------------------- truth from PNGs
def is_png_folder(path: Any) -> bool:
    """Whether ``path`` is a folder of PNG masks (and not a zarr store)."""
    if not isinstance(path, str | Path):
        return False
    folder = Path(path)
    if not folder.is_dir() or (folder / "zarr.json").exists():
        return False
    return any(p.suffix.lower() == ".png" for p in folder.iterdir())


def truth_from_pngs(folder: Any, pred: Any, out: Any) -> Any:
    """A truth store at ``out`` from a DAVIS-style PNG folder of some or all frames of ``pred``.

    Frames are matched by the numbers in the file names (``00000.png`` is frame 0); the
    frame times are the prediction's. A folder may hold a PNG for some frames only (DAVIS-style
    annotation of every k-th frame): the frames without one are empty in the store, and
    :func:`evaluate` scores only the frames that have a PNG (:func:`png_frames`).

    Raises
    ------
    FormatError
        A file name holds no frame number, two files give one frame, a PNG is past the last
        frame of ``pred`` or of another size.
    """
    import warnings

    from ecoseg.formats import UnannotatedFramesWarning, VideoInfo, import_annotations
    from ecoseg.store import MaskStore

    png_frames(folder, pred.n_frames)
    with warnings.catch_warnings():  # evaluate scores the frames with a PNG, listed or not
        warnings.simplefilter("ignore", UnannotatedFramesWarning)
        import_annotations(folder, "davis", VideoInfo.of(pred), out, chunk_frames=pred.chunk_frames)
    return MaskStore.open(out)


def png_frames(folder: Any, n_frames: int) -> list[int]:
    """The frames a DAVIS-style PNG folder annotates (those with a PNG), in order.

    Raises
    ------
    FormatError
        A file name holds no frame number, two files give one frame, or a file's frame is
        past the last of ``n_frames``; the message names the file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> for name in ("00000.png", "00005.png", "00010.png"):
    ...     (d / name).touch()
    >>> png_frames(d, 12)
    [0, 5, 10]
    >>> png_frames(d, 8)
    Traceback (most recent call last):
    ...
    ecoseg.errors.FormatError: .../00010.png: frame 10 is past the end of the video (8 frames, 0..7)
    """
    from ecoseg.errors import FormatError
    from ecoseg.formats.davis import frame_files

    files = frame_files(Path(folder))
    for frame in sorted(files):
        if frame >= n_frames:
            raise FormatError(
                f"{files[frame]}: frame {frame} is past the end of the video ({n_frames} "
                f"frames, 0..{n_frames - 1})"
            )
    return sorted(files)


# --------------------------------------------------------------------------- DAVIS pieces
def seg2bmap(mask: np.ndarray) -> np.ndarray:
    """One-pixel-wide boundary map of a binary mask, as the DAVIS benchmark defines it.

    A pixel is on the boundary when it differs from its right, lower or lower-right
    neighbour (the last row compares only to the right, the last column only downwards, and
    the bottom-right pixel is never a boundary).

    Examples
    --------
    >>> import numpy as np
    >>> m = np.zeros((4, 4), bool); m[1:3, 1:3] = True
    >>> seg2bmap(m).astype(int)
    array([[1, 1, 1, 0],
           [1, 0, 1, 0],
           [1, 1, 1, 0],
           [0, 0, 0, 0]])
    """
    seg = np.asarray(mask, dtype=bool)
    e = np.zeros_like(seg)
    s = np.zeros_like(seg)
    se = np.zeros_like(seg)
    e[:, :-1] = seg[:, 1:]
    s[:-1, :] = seg[1:, :]
    se[:-1, :-1] = seg[1:, 1:]
    b = (seg ^ e) | (seg ^ s) | (seg ^ se)
    b[-1, :] = seg[-1, :] ^ e[-1, :]
    b[:, -1] = seg[:, -1] ^ s[:, -1]
    b[-1, -1] = False
    return b


def bound_pixels(shape: tuple[int, int], bound_th: float = BOUND_TH) -> int:
    """DAVIS boundary tolerance in pixels: ``ceil(bound_th * diagonal)`` (or ``bound_th``
    itself when it is >= 1)."""
    if bound_th >= 1:
        return int(bound_th)
    return int(math.ceil(bound_th * math.hypot(*shape)))


def jaccard(pred: np.ndarray, truth: np.ndarray) -> float:
    """Region similarity J: IoU of two masks (1 when both are empty).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((4, 4), bool); a[:2] = True
    >>> b = np.zeros((4, 4), bool); b[:3] = True
    >>> jaccard(a, b)
    0.6666666666666666
    """
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    union = np.count_nonzero(pred | truth)
    return 1.0 if union == 0 else float(np.count_nonzero(pred & truth) / union)


def boundary_f(pred: np.ndarray, truth: np.ndarray, bound_pix: int | None = None) -> float:
    """Boundary accuracy F (DAVIS): F-measure of boundary pixels matched within a disk.

    A boundary pixel of one mask is matched when a boundary pixel of the other lies within
    ``bound_pix`` (Euclidean; the same set as a dilation by ``skimage.morphology.disk``).

    Parameters
    ----------
    pred, truth : ndarray of bool, shape (H, W)
    bound_pix : int, optional
        Tolerance in pixels (default: :func:`bound_pixels` of the mask shape).

    Examples
    --------
    >>> import numpy as np
    >>> a = np.zeros((20, 20), bool); a[5:15, 5:15] = True
    >>> boundary_f(a, a)
    1.0
    >>> boundary_f(a, np.zeros_like(a))
    0.0
    """
    pred, truth = np.asarray(pred, bool), np.asarray(truth, bool)
    if bound_pix is None:
        bound_pix = bound_pixels(pred.shape)
    pb, tb = seg2bmap(pred), seg2bmap(truth)
    n_p, n_t = int(pb.sum()), int(tb.sum())
    if n_p == 0 and n_t == 0:
        return 1.0
    if n_p == 0 or n_t == 0:
        return 0.0  # precision or recall is 0
    # distance of every pixel to the nearest boundary pixel of the other mask
    near_t = ndimage.distance_transform_edt(~tb) <= bound_pix
    near_p = ndimage.distance_transform_edt(~pb) <= bound_pix
    precision = np.count_nonzero(pb & near_t) / n_p
    recall = np.count_nonzero(tb & near_p) / n_t
    if precision + recall == 0:
        return 0.0
    return float(2 * precision * recall / (precision + recall))


# --------------------------------------------------------------------------- pair counts
def _compact(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(unique values, index of each value) for non-negative ints, fast for small ids."""
    if values.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    top = int(values.max())
    if top < (1 << 22):
        present = np.bincount(values, minlength=top + 1) > 0
        uniq = np.flatnonzero(present)
        lut = np.zeros(top + 1, np.int64)
        lut[uniq] = np.arange(len(uniq))
        return uniq.astype(np.int64), lut[values]
    uniq, inv = np.unique(values, return_inverse=True)
    return uniq.astype(np.int64), inv.astype(np.int64)


def pair_counts(truth: np.ndarray, pred: np.ndarray) -> dict[str, np.ndarray]:
    """Pixel counts of every (frame, truth id, predicted id) combination.

    Parameters
    ----------
    truth, pred : ndarray of int, shape (n, H, W)

    Returns
    -------
    dict
        ``frame``, ``truth``, ``pred``, ``count`` arrays (ids 0 = background; the
        background-background combination is omitted).

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([[[1, 1, 0, 0]]]); p = np.array([[[0, 5, 5, 0]]])
    >>> {k: v.tolist() for k, v in pair_counts(t, p).items()}
    {'frame': [0, 0, 0], 'truth': [0, 1, 1], 'pred': [5, 0, 5], 'count': [1, 1, 1]}
    """
    truth = np.asarray(truth)
    pred = np.asarray(pred)
    n = truth.shape[0]
    t = truth.reshape(n, -1)
    p = pred.reshape(n, -1)
    f, idx = np.nonzero((t != 0) | (p != 0))
    tv = t[f, idx].astype(np.int64)
    pv = p[f, idx].astype(np.int64)
    tu, ti = _compact(tv)
    pu, pi = _compact(pv)
    nt, np_ = max(len(tu), 1), max(len(pu), 1)
    key = (f.astype(np.int64) * nt + ti) * np_ + pi
    if n * nt * np_ <= 1 << 24:
        cnt = np.bincount(key, minlength=n * nt * np_)
        ukey = np.flatnonzero(cnt)
        cnt = cnt[ukey]
    else:
        ukey, cnt = np.unique(key, return_counts=True)
    fr, rest = np.divmod(ukey, nt * np_)
    tk, pk = np.divmod(rest, np_)
    return {
        "frame": fr.astype(np.int64),
        "truth": tu[tk] if len(tu) else np.zeros(len(ukey), np.int64),
        "pred": pu[pk] if len(pu) else np.zeros(len(ukey), np.int64),
        "count": cnt.astype(np.int64),
    }


# --------------------------------------------------------------------------- evaluate
def evaluate(
    pred,
    truth,
    *,
    iou_threshold: float = 0.5,
    bound_th: float = BOUND_TH,
    chunk_frames: int | None = None,
    progress: bool = False,
    frames: Any = None,
) -> dict[str, Any]:
    """Compare a predicted mask store with a ground-truth store.

    Parameters
    ----------
    pred, truth : MaskStore, str or Path
        Stores of the same video (same number of frames and frame size). ``truth`` may also
        be a DAVIS-style folder of indexed PNG masks (pixel value = object id; see
        :func:`truth_from_pngs`), one per frame of ``pred`` or for some frames only (DAVIS-style
        annotation of every k-th frame): the frames with a PNG are the annotated frames, and
        only those are scored.
    iou_threshold : float
        IoU for a detection to count as a match in IDF1 and MOTA (HOTA averages over
        thresholds 0.05..0.95 by definition).
    bound_th : float
        DAVIS boundary tolerance, as a fraction of the image diagonal (or pixels if >= 1).
    chunk_frames : int, optional
        Frames read at a time (default: the truth store's chunk).
    progress : bool
        Show progress bars.
    frames : sequence of int, optional
        Score only these frames (default: the frames the truth annotates); each must be one
        the truth annotates.

    Returns
    -------
    dict
        JSON data (no NaN: undefined values are None)::

            {"frames": int, "scored_frames": int, "note": str (only when scored_frames <
             frames), "size": [W, H], "truth_objects": int, "pred_objects": int,
             "iou_threshold": float, "bound_pix": int,
             "matching": {"<truth id>": <pred id> | None},
             "jf": {"mean", "j_mean", "f_mean",
                    "per_object": {"<truth id>": {"class", "pred_id", "frames",
                                                  "j", "f", "jf"}}},
             "hota": {"hota", "deta", "assa", "loca", "detre", "detpr", "assre", "asspr"},
             "identity": {"idf1", "idp", "idr", "idtp", "idfn", "idfp"},
             "clear": {"mota", "motp", "tp", "fn", "fp", "idsw", "mt", "pt", "ml", "frag"},
             "counts": {"all" | "<class>": {"mae", "maxn_truth", "maxn_pred",
                                             "maxn_error"}},
             "area": {"median_relative_error", "median_relative_bias", "n"}}

        ``frames`` is the stores' frame count; ``scored_frames`` the frames compared: the
        frames the truth annotates (``provenance["annotated_frames"]``, written by
        ``ecoseg import`` of a CVAT task of every N-th frame or of part of the video; the
        frames with a PNG of a PNG folder; every frame when absent), or ``frames``. Every
        metric, counts and MaxN included, is computed on those frames only, and ``note``
        says so (``"scored on 12 of 60 frames: the truth annotates only those (...)"``): a
        mask on a frame nobody annotated is neither a false positive
        nor a true one.
        ``jf`` values are means over truth objects of per-object means over frames.
        ``counts.<class>.mae`` is the mean over frames of |predicted - true| number of
        objects present; ``maxn_error`` = predicted MaxN - true MaxN. Per-class entries are
        given for the truth's classes when the prediction carries classes (a class-less
        prediction, every class "unknown", gets only ``"all"``). ``area``: median over
        matched object-frames (both present) of |A_pred - A_truth| / A_truth (and of the
        signed value).

    Raises
    ------
    StoreError
        A store is missing or malformed, the two do not have the same frames, the truth's
        ``annotated_frames`` entry is malformed or names no frame of it, or ``frames`` names a
        frame the truth does not annotate.
    ConfigError
        ``iou_threshold`` outside (0, 1], ``bound_th`` <= 0, ``frames`` or ``chunk_frames`` bad.
    FormatError
        ``truth`` is a PNG folder with a file whose name holds no frame number, or whose
        frame is past the end of ``pred``.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(96, 64))
    >>> r = evaluate(clip.truth, clip.truth)
    >>> r["jf"]["mean"], r["hota"]["hota"], r["identity"]["idf1"], r["clear"]["mota"]
    (1.0, 1.0, 1.0, 1.0)
    """
    from ecoseg.store import check_finished, opened_store

    _check_thresholds(iou_threshold, bound_th)
    settings = (iou_threshold, bound_th, chunk_frames, progress)
    with opened_store(pred) as pred_store:  # one opened from a path is closed again
        check_finished(pred_store)
        if is_png_folder(truth):
            frames = png_frames(truth, pred_store.n_frames) if frames is None else frames
            with tempfile.TemporaryDirectory(prefix="ecoseg-truth-") as tmp:
                with truth_from_pngs(truth, pred_store, Path(tmp) / "truth.zarr") as store:
                    return _evaluate(pred_store, store, *settings, frames)
        if isinstance(truth, str | Path) and Path(truth).is_dir():
            if not (Path(truth) / "zarr.json").exists():  # say that PNGs are accepted too
                raise StoreError(f"{truth}: is neither a mask store nor a folder of PNG masks")
        with opened_store(truth) as truth_store:
            check_finished(truth_store)
            return _evaluate(pred_store, truth_store, *settings, frames)


def _evaluate(pred, truth, iou_threshold, bound_th, chunk_frames, progress, frames) -> dict:
    """:func:`evaluate` of two open, finished stores."""
    n = truth.n_frames
    shape = (truth.height, truth.width)
    if (pred.height, pred.width) != shape:
        raise StoreError(
            f"{pred.path}: frames are {pred.width}x{pred.height} but the truth "
            f"{truth.path} has {shape[1]}x{shape[0]}"
        )
    if pred.n_frames != n:
        raise StoreError(
            f"{pred.path}: has {pred.n_frames} frames but the truth {truth.path} has {n}"
        )
    step = chunk_frames or truth.chunk_frames  # -1 read no frame: a perfect match scored 0
    step = positive_int(step, "chunk_frames", where="evaluate", error=ConfigError)
    bound_pix = bound_pixels(shape, bound_th)
    # the frames the truth annotates (a CVAT task of every N-th frame: only those); frames
    # are numbered 0 .. len(scored) - 1 among them from here on, video frames = scored[k]
    scored = np.asarray(annotated_frames(truth.provenance_record, n, truth.path), np.int64)
    if frames is not None:
        scored = _chosen_frames(frames, scored, n, truth.path)
    if len(scored) == 0:
        raise StoreError(f"{truth.path}: the truth annotates none of its {n} frames")
    every = len(scored) == n

    # ---- pass 1: overlaps (sparse: only (frame, object) pairs that exist)
    parts = []
    for start, t_lab, p_lab in _chunks(
        truth, pred, step, progress, "evaluate (overlaps)", frames=None if every else scored
    ):
        lo, hi = np.searchsorted(scored, [start, start + len(t_lab)])
        if hi - lo < len(t_lab):
            rows = scored[lo:hi] - start
            t_lab, p_lab = t_lab[rows], p_lab[rows]
        pc = pair_counts(t_lab, p_lab)
        pc["frame"] = pc["frame"] + lo
        parts.append(pc)
    keys = ("frame", "truth", "pred", "count")
    pc = {k: np.concatenate([p[k] for p in parts] or [np.zeros(0, np.int64)]) for k in keys}
    T = _Presence(pc["frame"], pc["truth"], pc["count"], truth.object_ids)
    P = _Presence(pc["frame"], pc["pred"], pc["count"], pred.object_ids)
    both = (pc["truth"] > 0) & (pc["pred"] > 0)
    o_frame = pc["frame"][both]
    o_t = np.searchsorted(T.ids, pc["truth"][both])
    o_p = np.searchsorted(P.ids, pc["pred"][both])
    o_inter = pc["count"][both]
    o_iou = o_inter / (T.area_of(o_frame, o_t) + P.area_of(o_frame, o_p) - o_inter)

    # ---- object correspondence for J&F and area: max total IoU over the video
    total = np.zeros((len(T.ids), len(P.ids)))
    np.add.at(total, (o_t, o_p), o_iou)
    match = np.full(len(T.ids), -1, dtype=np.int64)
    if total.size:
        rows, cols = linear_sum_assignment(-total)
        ok = total[rows, cols] > 0
        match[rows[ok]] = cols[ok]

    # ---- J per object; the frames where both matched masks exist (for F and area)
    n_eval = np.zeros(len(T.ids), dtype=np.int64)
    on_match = match[o_t] == o_p
    j_sum = np.bincount(o_t[on_match], weights=o_iou[on_match], minlength=len(T.ids))
    pairs_f, pairs_t, pairs_p = [], [], []
    for gi in range(len(T.ids)):
        tf = T.frames_of(gi)
        pj = match[gi]
        pf = P.frames_of(pj) if pj >= 0 else np.zeros(0, np.int64)
        common = np.intersect1d(tf, pf, assume_unique=True)
        n_eval[gi] = len(tf) + len(pf) - len(common)
        if pj >= 0:
            pairs_f.append(common)
            pairs_t.append(np.full(len(common), gi))
            pairs_p.append(np.full(len(common), pj))
    pf_frame = np.concatenate(pairs_f or [np.zeros(0, np.int64)]).astype(np.int64)
    pf_t = np.concatenate(pairs_t or [np.zeros(0, np.int64)]).astype(np.int64)
    pf_p = np.concatenate(pairs_p or [np.zeros(0, np.int64)]).astype(np.int64)
    order = np.argsort(pf_frame, kind="stable")
    pf_frame, pf_t, pf_p = pf_frame[order], pf_t[order], pf_p[order]
    pf_video = scored[pf_frame]  # sorted too: scored is increasing

    # ---- pass 2: boundary F of matched pairs on the frames where both are present
    f_sum = np.zeros(len(T.ids))
    todo = np.unique(pf_video)
    for start, t_lab, p_lab in _chunks(
        truth, pred, step, progress, "evaluate (boundaries)", frames=todo
    ):
        lo, hi = np.searchsorted(pf_video, [start, start + len(t_lab)])
        if lo == hi:
            continue
        t_box, p_box = _bboxes(t_lab), _bboxes(p_lab)
        for fidx, gi, pj in zip(pf_video[lo:hi], pf_t[lo:hi], pf_p[lo:hi]):
            k = int(fidx) - start
            tid, pid = int(T.ids[gi]), int(P.ids[pj])
            box = _union_box(t_box[(k, tid)], p_box[(k, pid)], bound_pix, shape)
            f_sum[gi] += boundary_f(p_lab[k][box] == pid, t_lab[k][box] == tid, bound_pix)

    t_class = {oid: r.class_name for oid, r in truth.object_records().items()}
    p_class = {oid: r.class_name for oid, r in pred.object_records().items()}
    per_object = {}
    for gi, tid in enumerate(T.ids):
        if n_eval[gi] == 0:
            continue
        j, f = j_sum[gi] / n_eval[gi], f_sum[gi] / n_eval[gi]
        per_object[str(int(tid))] = {
            "class": t_class.get(int(tid), "unknown"),
            "pred_id": int(P.ids[match[gi]]) if match[gi] >= 0 else None,
            "frames": int(n_eval[gi]),
            "j": float(j),
            "f": float(f),
            "jf": float((j + f) / 2),
        }
    js = [o["j"] for o in per_object.values()]
    fs = [o["f"] for o in per_object.values()]
    jf = {
        "mean": _mean([(a + b) / 2 for a, b in zip(js, fs)]),
        "j_mean": _mean(js),
        "f_mean": _mean(fs),
        "per_object": per_object,
    }
    result: dict[str, Any] = {
        "frames": int(n),
        "scored_frames": int(len(scored)),
        "size": [int(shape[1]), int(shape[0])],
        "truth_objects": int(T.present_objects().size),
        "pred_objects": int(P.present_objects().size),
        "iou_threshold": float(iou_threshold),
        "bound_pix": int(bound_pix),
        "matching": {
            str(int(T.ids[gi])): (int(P.ids[match[gi]]) if match[gi] >= 0 else None)
            for gi in T.present_objects()
        },
        "jf": jf,
    }
    if not every:
        result["note"] = scored_note(scored, n)
    m = len(scored)
    result.update(_trackeval(m, T, P, o_frame, o_t, o_p, o_iou, iou_threshold))
    result["counts"] = _count_errors(m, T, t_class, P, p_class)
    ta = T.area_of(pf_frame, pf_t).astype(np.float64)
    pa = P.area_of(pf_frame, pf_p).astype(np.float64)
    result["area"] = _area_error(ta, pa)
    return _clean(result)


def _check_thresholds(iou_threshold, bound_th) -> None:
    """ConfigError for an ``iou_threshold`` outside (0, 1] (``50``: no match), ``bound_th`` <= 0."""
    for name, value, top in (("iou_threshold", iou_threshold, 1.0), ("bound_th", bound_th, None)):
        number = isinstance(value, int | float | np.number) and not isinstance(value, bool)
        if not (number and 0 < value <= (top or value) and math.isfinite(value)):
            need = "an IoU in (0, 1], e.g. 0.5" if top else "a positive number"
            raise ConfigError(f"evaluate: {name} must be {need}, got {value!r}")


def _chosen_frames(frames, annotated: np.ndarray, n: int, where) -> np.ndarray:
    """``frames`` of :func:`evaluate`, sorted, each one the truth annotates."""
    try:
        if isinstance(frames, str | bytes):  # "12" is no list of frames 1 and 2
            raise TypeError(frames)
        chosen = np.unique(np.asarray([whole_number(f) for f in frames], np.int64))
    except (TypeError, ValueError, OverflowError):  # no list (a slice); not whole; past int64
        got = short_repr(frames)
        raise ConfigError(f"evaluate: frames must be a list of frame numbers, got {got}") from None
    outside = np.setdiff1d(chosen, annotated)
    if outside.size:
        f = int(outside[0])
        why = f"is not one of its {n} frames" if not 0 <= f < n else "is not one it annotates"
        raise StoreError(f"{where}: frame {f} to score {why}")
    return chosen


def scored_note(scored, n: int) -> str:
    """What :func:`evaluate` says when the truth annotates only some frames.

    Examples
    --------
    >>> scored_note(range(10, 60, 5), 60)
    'scored on 10 of 60 frames: the truth annotates only those (frames 10, 15, 20..55); \
masks on the other frames are not counted'
    """
    scored = [int(f) for f in scored]
    shown = ", ".join(str(f) for f in scored[:3])
    if len(scored) > 3:
        shown = ", ".join(str(f) for f in scored[:2]) + f", {scored[2]}..{scored[-1]}"
    return (
        f"scored on {len(scored)} of {n} frames: the truth annotates only those (frames "
        f"{shown}); masks on the other frames are not counted"
    )


class _Presence:
    """Sparse (frame, object) areas of one store: sorted keys ``frame * K + index``."""

    def __init__(self, frame, ids, count, table_ids):
        fg = ids > 0
        self.ids = np.union1d(np.asarray(table_ids, np.int64), np.unique(ids[fg]))
        self.ids = self.ids.astype(np.int64)
        self.K = max(len(self.ids), 1)
        key = frame[fg] * self.K + np.searchsorted(self.ids, ids[fg])
        self.keys, inv = np.unique(key, return_inverse=True)
        self.area = np.bincount(inv, weights=count[fg], minlength=len(self.keys))
        self.area = np.rint(self.area).astype(np.int64)
        self.frame, self.index = np.divmod(self.keys, self.K)
        by_obj = np.argsort(self.index, kind="stable")
        self._obj_frames = self.frame[by_obj]
        self._obj_bounds = np.searchsorted(self.index[by_obj], np.arange(len(self.ids) + 1))

    def area_of(self, frame, index) -> np.ndarray:
        """Areas at (frame, object index) pairs (0 where absent)."""
        key = np.asarray(frame, np.int64) * self.K + np.asarray(index, np.int64)
        pos = np.minimum(np.searchsorted(self.keys, key), max(len(self.keys) - 1, 0))
        if len(self.keys) == 0:
            return np.zeros(len(key), np.int64)
        return np.where(self.keys[pos] == key, self.area[pos], 0)

    def frames_of(self, index: int) -> np.ndarray:
        """Sorted frames where object ``index`` is present."""
        return self._obj_frames[self._obj_bounds[index] : self._obj_bounds[index + 1]]

    def present_objects(self) -> np.ndarray:
        """Indices of objects present in at least one frame."""
        return np.unique(self.index)

    def frame_bounds(self, n: int) -> np.ndarray:
        """Row ranges of each frame: rows ``b[t]:b[t+1]`` belong to frame ``t``."""
        return np.searchsorted(self.frame, np.arange(n + 1))


def _chunks(truth, pred, step, progress, desc, frames=None):
    """(start, truth labels, pred labels) per chunk; only chunks holding ``frames``."""
    from tqdm.auto import tqdm

    n = truth.n_frames
    starts = range(0, n, step)
    if frames is not None:
        starts = sorted({int(f) // step * step for f in frames})
    with tqdm(total=len(starts), desc=desc, unit="chunk", disable=not progress, leave=False) as bar:
        for start in starts:
            stop = min(start + step, n)
            yield start, truth.read_labels(start, stop), pred.read_labels(start, stop)
            bar.update(1)


def _bboxes(labels) -> dict:
    """(frame in chunk, id) -> (y0, y1, x0, x1) of every object in a chunk."""
    from ecoseg.measure.regions import region_stats

    s = region_stats(labels, perimeter=False)
    return {
        (int(f), int(i)): (int(y0), int(y1), int(x0), int(x1))
        for f, i, y0, y1, x0, x1 in zip(
            s["frame"], s["object_id"], s["bbox_y0"], s["bbox_y1"], s["bbox_x0"], s["bbox_x1"]
        )
    }


def _union_box(a, b, pad, shape):
    pad = pad + 2
    y0 = max(min(a[0], b[0]) - pad, 0)
    y1 = min(max(a[1], b[1]) + pad, shape[0])
    x0 = max(min(a[2], b[2]) - pad, 0)
    x1 = min(max(a[3], b[3]) + pad, shape[1])
    return slice(y0, y1), slice(x0, x1)


def _trackeval(n, T, P, o_frame, o_t, o_p, o_iou, threshold) -> dict[str, dict]:
    """HOTA, Identity and CLEAR from TrackEval's metric classes."""
    from trackeval.metrics import CLEAR, HOTA, Identity

    # TrackEval indexes arrays by id: compact the ids that occur to 0 .. k-1
    t_used, p_used = T.present_objects(), P.present_objects()
    t_lut = np.full(len(T.ids), -1)
    t_lut[t_used] = np.arange(len(t_used))
    p_lut = np.full(len(P.ids), -1)
    p_lut[p_used] = np.arange(len(p_used))
    tb, pb = T.frame_bounds(n), P.frame_bounds(n)
    ob = np.searchsorted(o_frame, np.arange(n + 1))
    gt_ids, tr_ids, sims = [], [], []
    for t in range(n):
        gi = T.index[tb[t] : tb[t + 1]]
        pi = P.index[pb[t] : pb[t + 1]]
        sim = np.zeros((len(gi), len(pi)))
        if ob[t + 1] > ob[t]:
            rows = np.searchsorted(gi, o_t[ob[t] : ob[t + 1]])
            cols = np.searchsorted(pi, o_p[ob[t] : ob[t + 1]])
            sim[rows, cols] = o_iou[ob[t] : ob[t + 1]]
        gt_ids.append(t_lut[gi].astype(int))
        tr_ids.append(p_lut[pi].astype(int))
        sims.append(sim)
    data = {
        "num_timesteps": n,
        "num_gt_ids": len(t_used),
        "num_tracker_ids": len(p_used),
        "num_gt_dets": len(T.keys),
        "num_tracker_dets": len(P.keys),
        "gt_ids": gt_ids,
        "tracker_ids": tr_ids,
        "similarity_scores": sims,
    }
    config = {"THRESHOLD": float(threshold), "PRINT_CONFIG": False}
    hota_m, id_m, clear_m = HOTA(), Identity(dict(config)), CLEAR(dict(config))
    # combine_sequences recomputes the final fields from the counts (also after the early
    # returns of eval_sequence when one side is empty)
    hota = hota_m.combine_sequences({"video": hota_m.eval_sequence(data)})
    ident = id_m.combine_sequences({"video": id_m.eval_sequence(data)})
    clear = clear_m.combine_sequences({"video": clear_m.eval_sequence(data)})
    return {
        "hota": {
            "hota": float(np.mean(hota["HOTA"])),
            "deta": float(np.mean(hota["DetA"])),
            "assa": float(np.mean(hota["AssA"])),
            "loca": float(np.mean(hota["LocA"])),
            "detre": float(np.mean(hota["DetRe"])),
            "detpr": float(np.mean(hota["DetPr"])),
            "assre": float(np.mean(hota["AssRe"])),
            "asspr": float(np.mean(hota["AssPr"])),
        },
        "identity": {
            "idf1": float(ident["IDF1"]),
            "idp": float(ident["IDP"]),
            "idr": float(ident["IDR"]),
            "idtp": int(ident["IDTP"]),
            "idfn": int(ident["IDFN"]),
            "idfp": int(ident["IDFP"]),
        },
        "clear": {
            "mota": float(clear["MOTA"]),
            "motp": float(clear["MOTP"]),
            "tp": int(clear["CLR_TP"]),
            "fn": int(clear["CLR_FN"]),
            "fp": int(clear["CLR_FP"]),
            "idsw": int(clear["IDSW"]),
            "mt": int(clear["MT"]),
            "pt": int(clear["PT"]),
            "ml": int(clear["ML"]),
            "frag": int(clear["Frag"]),
        },
    }


def _count_errors(n, T, t_class, P, p_class) -> dict:
    def per_frame(S, mask):
        sel = mask[S.index]
        return np.bincount(S.frame[sel], minlength=n)

    def errors(tc, pc):
        if n == 0:
            return {"mae": None, "maxn_truth": 0, "maxn_pred": 0, "maxn_error": 0}
        return {
            "mae": float(np.mean(np.abs(pc - tc))),
            "maxn_truth": int(tc.max()),
            "maxn_pred": int(pc.max()),
            "maxn_error": int(pc.max()) - int(tc.max()),
        }

    t_all = np.ones(len(T.ids), bool)
    p_all = np.ones(len(P.ids), bool)
    out = {"all": errors(per_frame(T, t_all), per_frame(P, p_all))}
    t_cls = np.array([t_class.get(int(i), "unknown") for i in T.ids], dtype=object)
    p_cls = np.array([p_class.get(int(i), "unknown") for i in P.ids], dtype=object)
    known = [c for c in dict.fromkeys(t_cls.tolist()) if c != "unknown"]
    if not any(c in known for c in p_cls.tolist()):
        return out  # class-less prediction: only class-agnostic counts are meaningful
    for cls in known:
        out[cls] = errors(per_frame(T, t_cls == cls), per_frame(P, p_cls == cls))
    return out


def _area_error(t_area, p_area) -> dict:
    if t_area.size == 0:
        return {"median_relative_error": None, "median_relative_bias": None, "n": 0}
    rel = (p_area - t_area) / t_area
    return {
        "median_relative_error": float(np.median(np.abs(rel))),
        "median_relative_bias": float(np.median(rel)),
        "n": int(rel.size),
    }


def _mean(values) -> float | None:
    return float(np.mean(values)) if len(values) else None


def _clean(value):
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return v if math.isfinite(v) else None
    return value
