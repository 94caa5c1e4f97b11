""":func:`evaluate`: a predicted mask store against a ground-truth store (see
:mod:`ecoseg.metrics` for what it reports, how objects are matched and how the stores are
read)."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from ecoseg._checks import check_switch, frame_list, positive_int, short_repr, whole_number
from ecoseg._warn import warn
from ecoseg.errors import ConfigError, StoreError
from ecoseg.metrics._boundaries import pairs_boundary_f
from ecoseg.metrics._counting import area_error, count_errors
from ecoseg.metrics._overlaps import Presence, pair_counts
from ecoseg.metrics._tracking import trackeval_scores
from ecoseg.metrics.jf import BOUND_TH, bound_pixels
from ecoseg.metrics.pairing import (
    OtherVideoWarning,
    SameStoreWarning,
    frames_note,
    same_store_note,
    swap_note,
    video_note,
)
from ecoseg.metrics.truth import (
    VoidPixels,
    check_truth,
    is_png_folder,
    png_frames,
    png_side,
    truth_from_pngs,
)
from ecoseg.provenance import annotated_frames

__all__ = ["evaluate", "result_note", "scored_note"]


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
        only those are scored. Its void pixels (255 of an indexed PNG) are left out of every
        score, as DAVIS's evaluation leaves them out (:class:`VoidPixels`).
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
             frames), "video_note": str (only when the truth records another video),
             "same_store_note": str (only when the truth is pred itself),
             "unfinished": str (only when pred's run did not finish),
             "void_pixels": int (only when a PNG truth marks some on the scored frames),
             "size": [W, H], "truth_objects": int, "pred_objects": int,
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
        ``video_note``: the truth's provenance records another video than ``pred``'s
        (:func:`~ecoseg.metrics.pairing.video_note`: another sha256, length, size or frame
        count); scored all the same (a truth drawn on a re-encoded copy is legitimate), but
        said, naming both videos and how they differ.
        ``same_store_note``: ``truth`` is ``pred`` itself (the same path, or the same files
        under another name: :func:`~ecoseg.metrics.pairing.same_store_note`), so every figure
        is perfect; the line of the :class:`~ecoseg.metrics.pairing.SameStoreWarning`.
        ``void_pixels``: the truth's void pixels on the scored frames, where the prediction
        was set to background before scoring.
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
        A store is missing or malformed, an interrupted ``ecoseg edit`` left one half written
        (:func:`ecoseg.store.check_finished`), the two do not have the same frames (the
        message says when ``pred``'s run did not finish: its scores would be of part of the
        video), the truth's ``annotated_frames`` entry is malformed or names no frame of it,
        ``frames`` names a frame the truth does not annotate, or the two look swapped: an
        annotation (``ecoseg synth``'s truth, an imported one) given as ``pred`` and a run
        nobody reviewed as ``truth`` (:func:`~ecoseg.metrics.pairing.swap_note`).
    ConfigError
        ``iou_threshold`` outside (0, 1], ``bound_th`` <= 0, ``frames`` or ``chunk_frames`` bad.
    FormatError
        ``truth`` is a PNG folder with a file whose name holds no frame number, or whose
        frame is past the end of ``pred``.

    Warns
    -----
    OtherVideoWarning
        The truth records another video than ``pred`` (the result's ``video_note``).
    SameStoreWarning
        ``truth`` is ``pred`` itself (the same path or the same files,
        :func:`~ecoseg.metrics.pairing.same_store_note`): scored, every figure perfect; the
        same line is kept in the result's ``same_store_note``.
    IncompleteStoreWarning
        ``pred``'s run did not finish (its frames still match the truth's): scored, and said
        once in ``measure``'s words (:func:`ecoseg.measure.incomplete_note`); the same words
        are kept in the result's ``unfinished``, so a saved ``eval.json`` says it too.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(96, 64))
    >>> import warnings
    >>> with warnings.catch_warnings():  # a store against itself says so: a sanity check here
    ...     warnings.simplefilter("ignore")
    ...     r = evaluate(clip.truth, clip.truth)
    >>> r["jf"]["mean"], r["hota"]["hota"], r["identity"]["idf1"], r["clear"]["mota"]
    (1.0, 1.0, 1.0, 1.0)
    """
    from ecoseg.measure import IncompleteStoreWarning, incomplete_note
    from ecoseg.store import check_finished, opened_store

    _check_thresholds(iou_threshold, bound_th)
    progress = check_switch(progress, "evaluate: progress")  # "no" showed a bar
    settings = (iou_threshold, bound_th, chunk_frames, progress)
    with opened_store(pred) as pred_store:  # one opened from a path is closed again
        check_finished(pred_store)
        note = incomplete_note(pred_store, "the metrics")
        if is_png_folder(truth):
            side = png_side(pred_store)  # (refusals name the store and its video)
            if frames is None:  # a mask past the end of a run that did not finish: say so
                why = _unfinished(pred_store)
                frames = png_frames(truth, pred_store.n_frames, why=why, of=side)
            void = VoidPixels(truth, width=pred_store.width, height=pred_store.height)
            with tempfile.TemporaryDirectory(prefix="ecoseg-truth-") as tmp:
                out = Path(tmp) / "truth.zarr"  # (the import finds the void: read once)
                with truth_from_pngs(truth, pred_store, out, void=void) as store:
                    result = _evaluate(pred_store, store, *settings, frames, void)
        else:
            if isinstance(truth, str | Path) and Path(truth).is_dir():
                if not (Path(truth) / "zarr.json").exists():  # say that PNGs are accepted too
                    check_truth(truth)  # raises, naming a store or PNG folders it holds
            with opened_store(truth) as truth_store:
                check_finished(truth_store)
                if (swapped := swap_note(pred_store, truth_store)) is not None:
                    raise StoreError(swapped)  # an annotation scored against a run: no figures
                same = same_store_note(pred_store, truth_store)
                if same is not None:
                    warn(same, SameStoreWarning)  # a sanity check, or a wrong path: scored
                result = _evaluate(pred_store, truth_store, *settings, frames)
                if same is not None:  # and kept with the figures (a script reads the JSON)
                    result["same_store_note"] = same
    if "video_note" in result:  # a wrong pairing or a re-encoded copy: scored, and said
        warn(result["video_note"], OtherVideoWarning)
    if note is not None:  # scored: every frame the truth has is there, but said so, and
        warn(note, IncompleteStoreWarning)  # kept with the figures
        result["unfinished"] = note
    return result


def _unfinished(pred) -> str:
    """Why ``pred`` has fewer frames than the truth when its run did not finish ("" if it did):
    the tail of a refusal (metrics of part of a video against the whole would be wrong)."""
    from ecoseg.measure import resume_hint
    from ecoseg.store import live_writer

    if pred.complete:
        return ""
    if (writer := live_writer(pred.location)) is not None:
        return f": its run is still going ({writer}); evaluate it once that has finished"
    return f": its run did not finish; continue it with {resume_hint(pred)}"


def _evaluate(
    pred, truth, iou_threshold, bound_th, chunk_frames, progress, frames, void=None
) -> dict:
    """:func:`evaluate` of two open, finished stores; ``void``: the truth's void pixels
    (:class:`~ecoseg.metrics.truth.VoidPixels`), where the prediction is set to background."""
    n = truth.n_frames
    shape = (truth.height, truth.width)
    why = _unfinished(pred) if pred.n_frames < n else ""  # a killed run: not scored
    if (mismatch := frames_note(pred, truth, why)) is not None:
        raise StoreError(mismatch)
    # -1 read no frame: a perfect match scored 0; 0 was the default without a word
    step = truth.chunk_frames if chunk_frames is None else chunk_frames
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

    # ---- pass 1: overlaps (sparse: only (frame, object) pairs that exist), and the boundary
    # F of every overlapping pair: the matched pairs are nearly always among them
    parts, f_parts = [], []
    for start, t_lab, p_lab in _chunks(
        truth, pred, step, progress, "evaluate (overlaps)", None if every else scored, void
    ):
        lo, hi = np.searchsorted(scored, [start, start + len(t_lab)])
        if hi - lo < len(t_lab):
            rows = scored[lo:hi] - start
            t_lab, p_lab = t_lab[rows], p_lab[rows]
        pc = pair_counts(t_lab, p_lab)
        on = (pc["truth"] > 0) & (pc["pred"] > 0)  # the rows of o_* below, in their order
        f_parts.append(
            pairs_boundary_f(
                t_lab, p_lab, pc["frame"][on], pc["truth"][on], pc["pred"][on], bound_pix
            )
        )
        pc["frame"] = pc["frame"] + lo
        parts.append(pc)
    keys = ("frame", "truth", "pred", "count")
    pc = {k: np.concatenate([p[k] for p in parts] or [np.zeros(0, np.int64)]) for k in keys}
    o_f = np.concatenate(f_parts or [np.zeros(0)])
    T = Presence(pc["frame"], pc["truth"], pc["count"], truth.object_ids)
    P = Presence(pc["frame"], pc["pred"], pc["count"], pred.object_ids)
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

    # ---- boundary F of matched pairs on the frames where both are present: pass 1's where
    # they overlap; pass 2 reads only the frames where a matched pair does not
    f_pair, missing = _known_f(pf_frame, pf_t, pf_p, o_frame, o_t, o_p, o_f, T, P)
    todo = np.unique(pf_video[missing])
    for start, t_lab, p_lab in _chunks(
        truth, pred, step, progress, "evaluate (boundaries)", todo, void
    ):
        lo, hi = np.searchsorted(pf_video, [start, start + len(t_lab)])
        rows = lo + np.flatnonzero(missing[lo:hi])
        f_pair[rows] = pairs_boundary_f(
            t_lab, p_lab, pf_video[rows] - start, T.ids[pf_t[rows]], P.ids[pf_p[rows]], bound_pix
        )
    f_sum = np.bincount(pf_t, weights=f_pair, minlength=len(T.ids))  # in frame order, as before

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
    if (other := video_note(pred, truth)) is not None:
        result["video_note"] = other
    left_out = sum(void.counts.get(int(f), 0) for f in scored) if void is not None else 0
    if left_out:
        result["void_pixels"] = int(left_out)
    m = len(scored)
    result.update(trackeval_scores(m, T, P, o_frame, o_t, o_p, o_iou, iou_threshold))
    result["counts"] = count_errors(m, T, t_class, P, p_class)
    ta = T.area_of(pf_frame, pf_t).astype(np.float64)
    pa = P.area_of(pf_frame, pf_p).astype(np.float64)
    result["area"] = area_error(ta, pa)
    return _clean(result)


def _known_f(pf_frame, pf_t, pf_p, o_frame, o_t, o_p, o_f, T, P):
    """Boundary F of the pairs ``(pf_frame, pf_t, pf_p)`` that pass 1 scored (those that
    overlap: ``o_*``), and which pairs it did not (their F is 0 here)."""
    key = (pf_frame * len(T.ids) + pf_t) * len(P.ids) + pf_p
    known = (o_frame * len(T.ids) + o_t) * len(P.ids) + o_p
    order = np.argsort(known, kind="stable")
    known = known[order]
    pos = np.minimum(np.searchsorted(known, key), max(len(known) - 1, 0))
    found = known[pos] == key if len(known) else np.zeros(len(key), bool)
    f = np.where(found, o_f[order][pos] if len(known) else 0.0, 0.0)
    return f.astype(np.float64), ~found


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
    'scored on 10 of 60 frames: the truth annotates only those (frames 10, 15, 20, ..., 55); \
masks on the other frames are not counted'
    >>> scored_note([0, 5, 10, 15], 60).split("(")[1]
    'frames 0, 5, 10, 15); masks on the other frames are not counted'
    """
    scored = list(scored)
    return (
        f"scored on {len(scored)} of {n} frames: the truth annotates only those (frames "
        f"{frame_list(scored)}); masks on the other frames are not counted"
    )


def result_note(result: dict[str, Any]) -> str:
    """What an :func:`evaluate` result says beside its figures, in one line: its ``note``
    (the frames scored), its ``video_note`` (a truth made from another video), its
    ``same_store_note`` (a store scored against itself) and its ``unfinished`` (a prediction
    whose run did not finish), ``"; "`` between them, ``""`` when none is there; a campaign's
    scores and the report's accuracy table show it.

    Examples
    --------
    >>> result_note({"note": "scored on 4 of 20 frames", "video_note": "t.zarr: another video"})
    'scored on 4 of 20 frames; t.zarr: another video'
    >>> result_note({"jf": {}})
    ''
    """
    keys = ("note", "video_note", "same_store_note", "unfinished")
    return "; ".join(filter(None, (result.get(k) for k in keys)))


def _chunks(truth, pred, step, progress, desc, frames=None, void=None):
    """(start, truth labels, pred labels) per chunk; only chunks holding ``frames``; the
    prediction is background on the truth's ``void`` pixels."""
    from ecoseg._progress import progress_bar

    n = truth.n_frames
    starts = range(0, n, step)
    if frames is not None:
        starts = sorted({int(f) // step * step for f in frames})
    with progress_bar(
        total=len(starts), desc=desc, unit="chunk", disable=not progress, leave=False
    ) as bar:
        for start in starts:
            stop = min(start + step, n)
            p_lab = pred.read_labels(start, stop)
            left_out = void(start, stop) if void is not None else None
            if left_out is not None:
                p_lab = np.where(left_out, 0, p_lab).astype(p_lab.dtype)
            yield start, truth.read_labels(start, stop), p_lab
            bar.update(1)


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
