"""Whether a predicted store and its truth record the same video (:func:`video_note`).

:func:`~ecoseg.metrics.evaluate` compares two stores frame by frame; it refuses stores of other
frame counts or sizes, but a truth of another clip with the same frames and size (two transects
filmed alike, a campaign's truths paired with the wrong stores) scores near 0 with no word.
A truth drawn on a re-encoded copy of the video is legitimate, so nothing is refused: the
result and a :class:`OtherVideoWarning` say it.

What counts as "another video", from the two stores' provenance (``video``) and frame times:

- both record a sha256 (of the same kind: a photo survey stored before one fingerprint hashed
  names and bytes only) and they are equal: the same video, whatever its path (a moved file);
  no note;
- the recorded frame size, frame count or image names differ, or the durations (the stores'
  frame times: the last frame's time plus a frame) differ by more than half a frame: another
  video, or a copy re-timed to another frame rate; said firmly, with what differs;
- only the sha256 differs (same frames, size and duration): another file of the same length,
  a re-encoded copy (which scores as the original would) or another clip filmed alike (which
  scores nothing); said mildly, naming both;
- a store that records no video, or one of the pair that records no sha256 where nothing else
  differs: nothing to tell; no note.

Which way round (:func:`swap_note`, refused by :func:`check_pair`): given the other way round,
a prediction scored against its truth gives wrong figures with no word (recall read as
precision, the truth's counts as the prediction's). The two stores' provenance says which is
which where it can:

- an annotation: the exact truth of ``ecoseg synth`` (engine ``truth``), or an annotation
  imported from another tool (engine ``import``) whose file gave no confidences (every score
  1.0; one with confidences is another tool's predictions);
- a run nobody reviewed: a store of ``ecoseg segment`` (engine ``sam2``, ``classical`` or
  ``sam3-concepts``) with no review edit in its edit log that it still holds (a
  classification by ``ecoseg classify`` is no review, nor is an edit an ``--undo`` took back:
  :func:`ecoseg.species._edit_log.person_edits`), no reviewed object and no painting in
  napari (a ``napari`` entry).

An annotation given as the prediction and a run nobody reviewed as its truth is refused. Every
other pair is scored as given: a store against itself, two imports, two runs (one engine
against another), a run a person reviewed (the truth a review makes), a napari layer, a store
whose provenance says too little.

A store against itself (:func:`same_store_note`: the same path, or the same files under
another name) is a legitimate sanity check, but more often a wrong path (``evaluate
masks.zarr --truth masks.zarr``) whose perfect scores look like a result: scored, and a
:class:`SameStoreWarning` says so. A copy of a store is another store (no word).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ecoseg._paths import same_location
from ecoseg.provenance import RUN_ENGINES

__all__ = [
    "OtherVideoWarning",
    "SameStoreWarning",
    "check_pair",
    "frames_note",
    "same_store_note",
    "swap_note",
    "video_note",
]


class OtherVideoWarning(UserWarning):
    """The truth records another video than the predicted store (:func:`video_note`)."""


def video_note(pred: Any, truth: Any) -> str | None:
    """One line naming both videos and how they differ, or ``None`` when the truth and the
    predicted store record the same video (or too little to tell).

    Parameters
    ----------
    pred, truth : MaskStore
        Open stores (of the same frame count and size: :func:`~ecoseg.metrics.evaluate`
        refuses others before asking).

    Returns
    -------
    str or None
        ``"TRUTH: the truth was made from A, the store PRED from B: ..."``; see the module
        docs for when.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> from ecoseg.store import MaskStore
    >>> d = tempfile.mkdtemp()
    >>> a = ecoseg.synth(d + "/a", frames=3, size=(64, 48), seed=1)
    >>> b = ecoseg.synth(d + "/b", frames=3, size=(64, 48), seed=2)
    >>> video_note(MaskStore.open(a.truth), MaskStore.open(a.truth)) is None
    True
    >>> video_note(MaskStore.open(a.truth), MaskStore.open(b.truth))  # doctest: +ELLIPSIS
    '.../b/truth.zarr: the truth was made from video.mp4, the store .../a/truth.zarr from \
video.mp4: other files (sha256 ... vs ...) of the same 3 frames, 64x48 px, 0.10 s: fine if one \
is a re-encoded copy of the other, meaningless scores if they are different clips'
    """
    p_video = pred.provenance_record.video
    t_video = truth.provenance_record.video
    if p_video is None or t_video is None:
        return None
    p_sha, t_sha = _comparable_sha256(p_video, t_video)
    if p_sha is not None and p_sha == t_sha:
        return None
    differs = []
    p_size, t_size = p_video.frame_size, t_video.frame_size
    if p_size is not None and t_size is not None and p_size != t_size:
        differs.append(f"{t_size[0]}x{t_size[1]} vs {p_size[0]}x{p_size[1]} px")
    p_n, t_n = _count(p_video.frames), _count(t_video.frames)
    if p_n is not None and t_n is not None and p_n != t_n:
        differs.append(f"{t_n} vs {p_n} frames")
    p_names = (p_video.extra or {}).get("images")
    t_names = (t_video.extra or {}).get("images")
    if isinstance(p_names, list) and isinstance(t_names, list) and p_names != t_names:
        differs.append("other image names")
    p_times, t_times = pred.read_time(), truth.read_time()
    p_long, t_long = _duration(p_times), _duration(t_times)
    if p_long is not None and t_long is not None and abs(p_long - t_long) > _half_frame(p_times):
        differs.append(f"{t_long:.2f} s vs {p_long:.2f} s long")
    sha = f"sha256 {t_sha[:8]} vs {p_sha[:8]}" if p_sha is not None and t_sha is not None else ""
    head = f"{truth.path}: the truth was made from {_name(t_video)}, the store {pred.path} from "
    head += _name(p_video)
    if differs:
        shown = "; ".join(differs + ([sha] if sha else []))
        return (
            f"{head}: they differ ({shown}): the scores compare other footage unless the truth "
            "was drawn on a re-timed copy of this video"
        )
    if not sha:  # nothing recorded differs, and no fingerprint to tell them apart
        return None
    size = f", {p_size[0]}x{p_size[1]} px" if p_size is not None else ""
    long = f", {p_long:.2f} s" if p_long is not None else ""
    return (
        f"{head}: other files ({sha}) of the same {len(p_times)} frames{size}{long}: fine if "
        "one is a re-encoded copy of the other, meaningless scores if they are different clips"
    )


class SameStoreWarning(UserWarning):
    """The truth is the predicted store itself (:func:`same_store_note`)."""


def same_store_note(pred: Any, truth: Any) -> str | None:
    """One line when ``truth`` is the store ``pred`` itself: the same path, or the same files
    under another name (a link, another spelling: :func:`ecoseg._paths.same_location`); URLs
    as written, zarr ``Store`` objects by identity. ``None`` for two stores, a copy included.

    Parameters
    ----------
    pred, truth : MaskStore
        Open stores, as given to :func:`~ecoseg.metrics.evaluate`.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> from ecoseg.store import MaskStore
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> truth = MaskStore.open(clip.truth)
    >>> same_store_note(truth, truth)  # doctest: +ELLIPSIS
    '.../truth.zarr: scored against itself (the truth is the same store): every score is \
perfect and says nothing; was another truth store meant?'
    """
    if not same_location(pred, truth):
        return None
    named = "" if str(truth.path) == str(pred.path) else f" {truth.path}"
    return (
        f"{pred.path}: scored against itself (the truth{named} is the same store): every "
        "score is perfect and says nothing; was another truth store meant?"
    )


def swap_note(pred: Any, truth: Any) -> str | None:
    """One line when ``pred`` and ``truth`` look given the wrong way round: an annotation as
    the prediction, a run nobody reviewed as its truth (see the module docs); ``None`` for
    every other pair.

    Parameters
    ----------
    pred, truth : MaskStore
        Open stores, as given to :func:`~ecoseg.metrics.evaluate`.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> from ecoseg.store import MaskStore
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> run = ecoseg.segment(clip.video, out=clip.truth.parent / "masks.zarr", progress=False)
    >>> truth, masks = MaskStore.open(clip.truth), MaskStore.open(run)
    >>> swap_note(masks, truth) is None, swap_note(truth, truth) is None
    (True, True)
    >>> swap_note(truth, masks)  # doctest: +ELLIPSIS
    '.../truth.zarr: given as the prediction, is the exact truth of a synthetic clip, and the \
truth .../masks.zarr is a classical run nobody reviewed: they look swapped; swap them (evaluate \
.../masks.zarr against the truth .../truth.zarr)'
    """
    if str(pred.path) == str(truth.path):
        return None
    made = _annotation(pred)
    if made is None or not _unreviewed_run(truth):
        return None
    return (
        f"{pred.path}: given as the prediction, is {made}, and the truth {truth.path} is a "
        f"{truth.provenance_record.engine} run nobody reviewed: they look swapped; swap them "
        f"(evaluate {truth.path} against the truth {pred.path})"
    )


def frames_note(pred: Any, truth: Any, why: str = "") -> str | None:
    """Why two open stores cannot be scored frame by frame (another frame size, another frame
    count, each named with the video it records), or None: the one line of
    :func:`~ecoseg.metrics.evaluate`'s refusal and of the report's (:func:`check_pair`).
    ``why``: the tail for a count of a run that did not finish.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> a = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48)).truth
    >>> b = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(64, 48)).truth
    >>> from ecoseg.store import MaskStore
    >>> frames_note(MaskStore.open(a), MaskStore.open(a)) is None
    True
    >>> print(frames_note(MaskStore.open(a), MaskStore.open(b)))  # doctest: +ELLIPSIS
    /.../truth.zarr: has 3 frames (video video.mp4) but the truth /.../truth.zarr has 4 (video ...)
    """
    if (pred.height, pred.width) != (truth.height, truth.width):
        return (
            f"{pred.path}: frames are {pred.width}x{pred.height}{_video_of(pred)} but the "
            f"truth {truth.path} has {truth.width}x{truth.height}{_video_of(truth)}"
        )
    if pred.n_frames != truth.n_frames:
        return (
            f"{pred.path}: has {pred.n_frames} frames{_video_of(pred)} but the truth "
            f"{truth.path} has {truth.n_frames}{_video_of(truth)}{why}"
        )
    return None


def _video_of(store: Any) -> str:
    """``" (video V)"``: the video a store records, for a refusal naming it; ``""`` if none."""
    video = store.provenance_record.video
    return f" (video {video.path})" if video is not None and video.path else ""


def check_pair(pred: Any, truth: Any) -> None:
    """Refuse a prediction and its truth given the wrong way round (:func:`swap_note`), or
    that cannot be scored frame by frame (:func:`frames_note`: another frame size or count;
    a prediction whose run did not finish, with fewer frames, is left to ``evaluate``, which
    says so in its words).

    ``pred`` and ``truth``: mask stores, paths or URLs (opened read-only and closed again). A
    truth that is a folder of PNG masks, or a side that does not open, is left to the
    caller's own checks (:func:`~ecoseg.metrics.evaluate` refuses it in its words).

    Raises
    ------
    StoreError
        :func:`swap_note`'s or :func:`frames_note`'s line.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48))
    >>> run = ecoseg.segment(clip.video, out=clip.truth.parent / "masks.zarr", progress=False)
    >>> check_pair(run, clip.truth)
    >>> check_pair(clip.truth, run)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: .../truth.zarr: given as the prediction, ...: they look swapped; ...
    """
    from ecoseg.errors import StoreError
    from ecoseg.metrics.truth import is_png_folder
    from ecoseg.store import opened_store

    if is_png_folder(truth):
        return
    try:
        with opened_store(pred) as p, opened_store(truth) as t:
            note = swap_note(p, t)
            if note is None and (p.complete or p.n_frames > t.n_frames):
                note = frames_note(p, t)
    except StoreError:  # missing, damaged: the caller says so in its own words
        return
    if note is not None:
        raise StoreError(note)


def _annotation(store: Any) -> str | None:
    """What ``store`` is when it is an annotation (the module docs), else None."""
    prov = store.provenance_record
    if prov.engine == "truth":
        return "the exact truth of a synthetic clip"
    if prov.engine != "import":
        return None
    scores = store.read_scores()
    if np.any((scores > 0) & (scores < 1)):  # the file's confidences: another tool's output
        return None
    source = prov.get("import")
    source = source if isinstance(source, dict) else {}
    named = " ".join(f"{source.get(k)}" for k in ("format", "file") if source.get(k))
    return f"an annotation imported from {named}" if named else "an imported annotation"


def _unreviewed_run(store: Any) -> bool:
    """Whether ``store`` is a run of ``ecoseg segment`` that no person touched (the module
    docs): no review edit it still holds, no reviewed object, no napari painting."""
    from ecoseg.species._edit_log import person_edits
    from ecoseg.store import ATTRS_KEY

    prov = store.provenance_record
    if prov.engine not in RUN_ENGINES or prov.get("napari") is not None:
        return False
    records = store.object_records().values()
    if any(r.reviewed or r.class_source == "reviewed" for r in records):
        return False
    meta = store.attrs.get(ATTRS_KEY)
    edits = meta.get("edits") if isinstance(meta, dict) else None
    # ecoseg classify logs its naming too: a model's, not a person's; and an edit undone
    # is one the store no longer holds
    return not person_edits(edits if isinstance(edits, list) else [])


def _comparable_sha256(a: Any, b: Any) -> tuple[str | None, str | None]:
    """The two recorded sha256, or ``(None, None)`` when they are not of one kind: a photo
    survey stored before one fingerprint (``images`` without ``sha256_of``) hashed names and
    bytes only (:func:`ecoseg.io.folder.legacy_survey_sha256`)."""
    from ecoseg.io.folder import legacy_survey

    sha = [v.sha256 if isinstance(v.sha256, str) and v.sha256 else None for v in (a, b)]
    if legacy_survey(a) != legacy_survey(b):
        return None, None
    return sha[0], sha[1]


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _duration(times: np.ndarray) -> float | None:
    """The last frame's time plus one frame (the median step), or None for fewer than 2."""
    if len(times) < 2 or not np.all(np.isfinite(times)):
        return None
    return float(times[-1] + np.median(np.diff(times)))


def _half_frame(times: np.ndarray) -> float:
    """Half the median frame step (1 ms at least)."""
    return max(float(np.median(np.diff(times))) / 2, 1e-3)


def _name(video: Any) -> str:
    return str(video.path) if video.path else "(path not recorded)"
