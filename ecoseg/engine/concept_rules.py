"""Concept tracking rules of SAM 3's video predictor: settings, association, track bookkeeping.

SAM 3 tracks a *concept* ("parrotfish") through a video by running its detector on a frame,
propagating every object it already tracks with the SAM 2-style tracker, and reconciling the
two. This module holds that reconciliation as pure functions over mask tensors plus one small
typed state object (:class:`TrackBook`); the networks are run by
:mod:`ecoseg.engine.concept_tracker` and the streaming run by
:mod:`ecoseg.engine.concept_session`.

The rules (those of SAM 3's video model, as transformers' ``Sam3VideoModel`` implements them;
the names of its settings are given in :class:`ConceptSettings`):

1. **Detection.** Per concept, score = sigmoid(query logit) x sigmoid(presence logit); mask
   non-maximum suppression among queries above ``score_threshold`` (greedy, mask IoU above
   ``nms_iou``); detections above ``score_threshold`` are kept, concepts concatenated in order.
2. **Association** (:func:`associate`), on binarised low-resolution masks, only within a
   concept: a track is *unmatched* when it is not empty and no detection overlaps it with IoU
   >= ``track_match_iou``; a detection is *new* when its score is >= ``new_track_score`` and it
   overlaps no track with IoU >= ``match_iou``; a detection matches every track it overlaps with
   IoU >= ``match_iou`` (many tracks may share one detection); a detection that is not new,
   scores >= ``recondition_score`` and overlaps its best track with IoU >= ``recondition_iou``
   may re-prompt that track.
3. **Confirmation and removal** (:meth:`TrackBook.update`): a new track starts with
   ``keep_alive_init``; a matched track gains one (up to ``keep_alive_max``), an unmatched one
   loses one (down to ``keep_alive_min``). A track that started less than ``hotstart_delay``
   frames ago is removed once it has been unmatched on ``hotstart_unmatched`` frames, or once it
   has shared a detection with an older track on ``hotstart_duplicates`` frames. Outputs are
   held back ``hotstart_delay`` frames so a removed track never shows.
4. **Suppression** before the memories are written: within a concept, of two tracks whose
   masks overlap with IoU >= ``occlusion_iou``, the one occluded more recently is blanked
   (:func:`recent_occlusion_suppression`); then per pixel only the highest logit keeps its
   foreground, and a track whose area shrinks below ``shrink_ratio`` of its own by that rule is
   blanked for its memory (:func:`shrink_suppression`). Memories of tracked objects encode
   these masks with object scores +-10 from whether the mask is empty.
5. **Re-prompting** (re-conditioning): every ``recondition_every`` frames a track whose tracker
   score logit exceeds ``recondition_score`` and that a confident detection matches becomes a
   conditioning frame of the tracker with its own mask (``recondition_on_track_masks``) or the
   detection's.
6. **Output** (:func:`output_masks`): masks resized to the video, removed and empty tracks
   dropped, and within a concept each pixel given to the track with the highest tracker score.
7. **Prompted objects** (clicks, boxes or masks, concept index :data:`PROMPTED`) are tracked
   by the same tracker in the same batch; the rules above leave them alone (no removal,
   suppression or re-prompting), and a detection overlapping one starts no track.

What differs from the oracle is written down in ``docs/concepts.md``: the state is bounded
(counters instead of per-frame lists), detection may run every N frames, and where
transformers' port differs from Meta's predictor the port's behaviour is a setting, off by
default (``reencode_on_new_objects``, ``mask_prompt_multimask``, ``shift_ids_on_removal``;
``text_geometry_token`` on).

Exports
-------
ConceptSettings, Concept, Exemplar
    Typed settings and prompts.
mask_iou, nms_keep, associate, Association
    Detection and association.
TrackBook
    Per-track bookkeeping (ids, concepts, scores, keep-alive, hotstart removal, occlusion).
recent_occlusion_suppression, pixel_non_overlap, shrink_suppression, output_masks
    Suppression and non-overlap rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ecoseg._checks import check_field_kinds, field_values
from ecoseg.prompts import Concept, Exemplar

__all__ = [
    "Association",
    "Concept",
    "ConceptSettings",
    "Exemplar",
    "PROMPTED",
    "TrackBook",
    "associate",
    "mask_iou",
    "nms_keep",
    "output_masks",
    "pixel_non_overlap",
    "recent_occlusion_suppression",
    "shrink_suppression",
]

#: Logit given to blanked (suppressed) masks.
NO_OBJECT_LOGIT = -10.0

#: Concept index of objects prompted with clicks, boxes or masks (SAM 2-style) in a concept
#: run: they are never removed, suppressed or re-prompted by the concept rules, and a
#: detection that overlaps one (IoU >= ``match_iou``, any concept) starts no track.
PROMPTED = -1


@dataclass(frozen=True)
class ConceptSettings:
    """Thresholds of concept tracking (defaults: SAM 3's, as transformers' ``Sam3VideoConfig``).

    Attributes
    ----------
    detect_every : int
        Run the detector on every N-th frame (1: every frame, as SAM 3). Frames in between
        are tracked only: no new tracks, no confirmation or removal, no re-prompting.
    score_threshold : float
        Keep detections scoring above this (``score_threshold_detection``, 0.5).
    nms_iou : float
        Mask IoU above which the lower-scoring detection is dropped (``det_nms_thresh``,
        0.1); 0 turns NMS off.
    match_iou : float
        IoU for a detection to match a track (``assoc_iou_thresh``, 0.1).
    track_match_iou : float
        IoU a track needs with some detection not to count as unmatched
        (``trk_assoc_iou_thresh``, 0.5).
    new_track_score : float
        Score a detection needs to start a track (``new_det_thresh``, 0.7).
    recondition_every : int
        Re-prompt matched tracks on frames that are multiples of this
        (``recondition_every_nth_frame``, 16; 0: never).
    recondition_score, recondition_iou : float
        Detection score and IoU, and tracker score logit, a re-prompt needs
        (``high_conf_thresh``, ``high_iou_thresh``; 0.8 each).
    recondition_on_track_masks : bool
        Re-prompt with the track's own mask (True, SAM 3's default) or the detection's.
    hotstart_delay, hotstart_unmatched, hotstart_duplicates : int
        Outputs are held back ``hotstart_delay`` frames (15); a track younger than that is
        removed after ``hotstart_unmatched`` (8) unmatched frames or ``hotstart_duplicates``
        (8) frames sharing a detection with an older track.
    suppress_unmatched_only_within_hotstart : bool
        When False, tracks whose keep-alive falls to 0 are hidden (not removed) on that frame.
    keep_alive_init, keep_alive_max, keep_alive_min : int
        Keep-alive counter: start, ceiling, floor (30, 30, -1).
    occlusion_iou : float
        IoU above which the more recently occluded of two tracks is blanked
        (``suppress_overlapping_based_on_recent_occlusion_threshold``, 0.7; 0: off).
    decrease_keep_alive_when_empty : bool
        Count empty tracker masks as unmatched for the keep-alive (False).
    fill_hole_area : int
        Fill background holes and remove foreground specks of at most this many
        low-resolution pixels (16; transformers skips it without its optional CUDA kernels,
        which equals 0).
    max_objects : int
        At most this many tracks (the highest-scoring new detections are kept).
    mask_input_threshold : float
        A detection's mask *logit* at or above this is foreground when it becomes a track's
        mask prompt (0.5, as the oracle).
    shrink_ratio : float
        Area ratio below which a track is blanked for its memory after the per-pixel rule.
    mask_prompt_multimask : bool
        The pointer of a track started from a detection's mask comes from the best of the
        three masks the heads give (transformers' port) instead of the single-mask output
        (Meta's predictor, False).
    reencode_on_new_objects : bool
        On a frame where tracks start, re-encode the other tracks' memories of that frame
        from their raw tracker masks (binarised), as transformers' port does; Meta's predictor
        keeps the suppressed masks (False).
    text_geometry_token : bool
        A text-only concept's prompt also carries the geometry encoder's CLS token, pooled on
        each frame (Meta's model, True); transformers' port leaves it out (False).
    shift_ids_on_removal : bool
        On a frame where tracks are removed, hand the tracked masks and tracker scores out to
        the ids left after the removal, in order (new tracks last), so each one after a
        removed track's slot goes to the next id: transformers' port does this (it labels
        its outputs after its session has dropped the removed tracks). False: each mask
        keeps its own track's id.
    """

    detect_every: int = 1
    score_threshold: float = 0.5
    nms_iou: float = 0.1
    match_iou: float = 0.1
    track_match_iou: float = 0.5
    new_track_score: float = 0.7
    recondition_every: int = 16
    recondition_score: float = 0.8
    recondition_iou: float = 0.8
    recondition_on_track_masks: bool = True
    hotstart_delay: int = 15
    hotstart_unmatched: int = 8
    hotstart_duplicates: int = 8
    suppress_unmatched_only_within_hotstart: bool = True
    keep_alive_init: int = 30
    keep_alive_max: int = 30
    keep_alive_min: int = -1
    occlusion_iou: float = 0.7
    decrease_keep_alive_when_empty: bool = False
    fill_hole_area: int = 16
    max_objects: int = 10000
    mask_input_threshold: float = 0.5
    shrink_ratio: float = 0.3
    mask_prompt_multimask: bool = False
    reencode_on_new_objects: bool = False
    text_geometry_token: bool = True
    shift_ids_on_removal: bool = False

    def __post_init__(self) -> None:
        from ecoseg.errors import ConfigError

        if not isinstance(self.detect_every, int) or self.detect_every < 1:
            raise ConfigError(f"detect_every must be a positive integer, got {self.detect_every!r}")
        check_field_kinds(self, "concept tracking parameters", error=ConfigError)
        if self.hotstart_delay > 0 and (
            self.hotstart_unmatched > self.hotstart_delay
            or self.hotstart_duplicates > self.hotstart_delay
        ):
            raise ConfigError(
                "hotstart_unmatched and hotstart_duplicates must be <= hotstart_delay"
            )

    @classmethod
    def from_params(cls, params=None, detect_every: int = 1) -> ConceptSettings:
        """Settings from a user's parameter mapping; a name that is not a setting is a
        one-line :class:`~ecoseg.errors.ConfigError`.

        Examples
        --------
        >>> ConceptSettings.from_params({"hotstart_delay": 0}, detect_every=2).detect_every
        2
        """
        from ecoseg.errors import ConfigError

        given = dict(params or {}).get("detect_every", detect_every)
        if given != detect_every and (
            isinstance(given, bool) or not isinstance(given, int) or given < 1
        ):
            raise ConfigError(
                f"concept tracking parameters: detect_every must be a positive integer, "
                f"got {given!r}"
            )
        if given != detect_every:  # the argument would silently win
            # at 1 the argument is most likely its default, given by nobody: say so, and how
            default = ", its default" if detect_every == 1 else ""
            raise ConfigError(
                f"concept tracking parameters: detect_every {given!r} differs from "
                f"detect_every={detect_every} (--detect-every{default}); give it once, as its "
                f"own setting: detect_every={given!r} (--detect-every)"
            )
        values = field_values(cls, params, "concept tracking parameters", error=ConfigError)
        return cls(**{**values, "detect_every": detect_every})

    def to_dict(self) -> dict:
        """Plain values (for provenance)."""
        from dataclasses import asdict

        return asdict(self)


# ---------------------------------------------------------------------------------------
# detection and association
# ---------------------------------------------------------------------------------------
def mask_iou(a: Tensor, b: Tensor) -> Tensor:
    """IoU of every pair of binary masks, ``(N, H, W)`` x ``(M, H, W)`` -> ``(N, M)``.

    Examples
    --------
    >>> a = torch.zeros(1, 2, 2, dtype=torch.bool); a[0, 0] = True
    >>> mask_iou(a, torch.ones(1, 2, 2, dtype=torch.bool)).tolist()
    [[0.5]]
    """
    a = a.flatten(1).float()
    b = b.flatten(1).float()
    inter = a @ b.T
    union = a.sum(1)[:, None] + b.sum(1)[None, :] - inter
    return inter / union.clamp(min=1)


def nms_keep(scores: Tensor, masks: Tensor, score_threshold: float, iou: float) -> Tensor:
    """Greedy mask NMS: which detections survive (above ``score_threshold``, not overlapping a
    higher-scoring survivor with IoU > ``iou``). ``iou <= 0`` keeps all above the threshold.

    Examples
    --------
    >>> m = torch.zeros(3, 4, 4); m[:2, :2, :2] = 1; m[2, 2:, 2:] = 1
    >>> nms_keep(torch.tensor([0.9, 0.8, 0.7]), m, 0.5, 0.1).tolist()
    [True, False, True]
    """
    valid = scores > score_threshold
    if iou <= 0 or int(valid.sum()) < 2:
        return valid
    idx = torch.nonzero(valid)[:, 0]
    order = idx[torch.argsort(scores[idx], descending=True, stable=True)]
    ious = mask_iou(masks[order] > 0, masks[order] > 0)
    alive = torch.ones(len(order), dtype=torch.bool)
    for i in range(len(order)):
        if alive[i]:
            later = torch.arange(len(order)) > i
            alive &= ~(later & (ious[i].cpu() > iou))
    keep = torch.zeros_like(valid)
    keep[order[alive.to(order.device)]] = True
    return keep


@dataclass(frozen=True)
class Association:
    """Result of :func:`associate` (indices into the detections, ids of tracks).

    Attributes
    ----------
    new : list of int
        Detections that start tracks.
    unmatched : list of int
        Non-empty tracks no detection confirms.
    empty : list of int
        Tracks whose mask is empty.
    matches : dict of int to list of int
        Detection -> the tracks it matches.
    recondition : dict of int to int
        Track -> the confident detection that may re-prompt it.
    """

    new: list[int]
    unmatched: list[int]
    empty: list[int]
    matches: dict[int, list[int]]
    recondition: dict[int, int]


def associate(
    det_masks: Tensor,
    det_scores: Tensor,
    det_concepts: Tensor,
    trk_masks: Tensor,
    trk_ids: Sequence[int],
    trk_concepts: Tensor,
    settings: ConceptSettings,
) -> Association:
    """Match detections with tracks by mask IoU within each concept (rule 2 of the module).

    Parameters
    ----------
    det_masks : Tensor, shape (N, h, w)
        Detection mask logits (> 0 is foreground).
    det_scores : Tensor, shape (N,)
    det_concepts : Tensor of int, shape (N,)
    trk_masks : Tensor, shape (M, h, w)
        Track mask logits on the same grid.
    trk_ids : sequence of int, length M
    trk_concepts : Tensor of int, shape (M,)
    settings : ConceptSettings

    Examples
    --------
    >>> d = torch.full((2, 4, 4), -1.0); d[0, :2, :2] = 1; d[1, 2:, 2:] = 1
    >>> a = associate(d, torch.tensor([0.9, 0.9]), torch.tensor([0, 0]), d[:1].clone(), [7],
    ...               torch.tensor([0]), ConceptSettings())
    >>> a.new, a.unmatched, a.matches, a.recondition
    ([1], [], {0: [7], 1: []}, {7: 0})
    """
    ids = torch.as_tensor(list(trk_ids), dtype=torch.long)
    n, m = det_masks.shape[0], trk_masks.shape[0]
    if m == 0:
        return Association(list(range(n)), [], [], {}, {})
    trk_bin = trk_masks > 0
    nonempty = trk_bin.flatten(1).any(1).cpu()
    if n == 0:
        return Association([], ids[nonempty].tolist(), ids[~nonempty].tolist(), {}, {})
    ious = mask_iou(det_masks > 0, trk_bin)
    same = det_concepts.to(ious.device)[:, None] == trk_concepts.to(ious.device)[None, :]
    ious = torch.where(same, ious, torch.zeros_like(ious)).cpu()
    scores = det_scores.float().cpu()
    trk_matched = (ious >= settings.track_match_iou).any(0)
    unmatched = ids[nonempty & ~trk_matched].tolist()
    empty = ids[~nonempty].tolist()
    det_hits = ious >= settings.match_iou
    is_new = (scores >= settings.new_track_score) & ~det_hits.any(1)
    best_iou, best = ious.max(1)
    confident = (
        (scores >= settings.recondition_score) & ~is_new & (best_iou >= settings.recondition_iou)
    )
    matches = {i: ids[det_hits[i]].tolist() for i in range(n)}
    recondition: dict[int, int] = {}
    for i in range(n):
        if confident[i]:
            recondition[int(ids[best[i]])] = i
    return Association(torch.nonzero(is_new)[:, 0].tolist(), unmatched, empty, matches, recondition)


# ---------------------------------------------------------------------------------------
# bookkeeping
# ---------------------------------------------------------------------------------------
@dataclass
class TrackBook:
    """Per-track bookkeeping of concept tracking (bounded: counters, not frame lists).

    Attributes
    ----------
    ids : list of int
        Live tracks in tracker order (oldest first).
    concept : dict of int to int
        Track -> concept index.
    det_score : dict of int to float
        Track -> the detection score it started with (its class probability).
    first_frame : dict of int to int
    unmatched : dict of int to int
        Track -> number of frames it was unmatched.
    keep_alive : dict of int to int
    duplicates : dict of (int, int) to int
        (older track, younger track) -> frames they shared a detection; only pairs whose
        younger track can still be removed are kept.
    removed : set of int
        Tracks removed by the hotstart rules (hidden from every output).
    last_occluded : dict of int to int
        Track -> last frame its mask was empty or suppressed (-1: never).
    next_id : int
    """

    ids: list[int] = field(default_factory=list)
    concept: dict[int, int] = field(default_factory=dict)
    det_score: dict[int, float] = field(default_factory=dict)
    first_frame: dict[int, int] = field(default_factory=dict)
    unmatched: dict[int, int] = field(default_factory=dict)
    keep_alive: dict[int, int] = field(default_factory=dict)
    duplicates: dict[tuple[int, int], int] = field(default_factory=dict)
    removed: set[int] = field(default_factory=set)
    last_occluded: dict[int, int] = field(default_factory=dict)
    next_id: int = 1

    def concepts_of(self, ids: Sequence[int]) -> Tensor:
        return torch.tensor([self.concept[i] for i in ids], dtype=torch.long)

    def start(self, frame: int, concepts: Sequence[int], scores: Sequence[float]) -> list[int]:
        """New track ids for detections of ``concepts`` with ``scores`` on ``frame``."""
        new = []
        for c, s in zip(concepts, scores):
            i = self.next_id
            self.next_id += 1
            self.concept[i], self.det_score[i] = int(c), float(s)
            self.first_frame[i] = int(frame)
            new.append(i)
        return new

    def update(
        self, frame: int, assoc: Association, new_ids: Sequence[int], s: ConceptSettings
    ) -> tuple[set[int], set[int]]:
        """Keep-alive and hotstart rules for ``frame`` (rule 3): ``(removed, hidden)`` ids."""
        for i in new_ids:
            self.keep_alive[i] = s.keep_alive_init
        matched = {t for tracks in assoc.matches.values() for t in tracks}
        for i in matched:
            self.keep_alive[i] = min(s.keep_alive_max, self.keep_alive[i] + 1)
        for i in assoc.unmatched:
            self.unmatched[i] = self.unmatched.get(i, 0) + 1
            self.keep_alive[i] = max(s.keep_alive_min, self.keep_alive[i] - 1)
        if s.decrease_keep_alive_when_empty:
            for i in assoc.empty:
                self.keep_alive[i] = max(s.keep_alive_min, self.keep_alive[i] - 1)
        horizon = frame - s.hotstart_delay
        removed: set[int] = set()
        hidden: set[int] = set()
        for i, count in self.unmatched.items():
            if i in self.removed:
                continue
            if count >= s.hotstart_unmatched and self.first_frame[i] > horizon:
                removed.add(i)
            if (
                self.keep_alive[i] <= 0
                and not s.suppress_unmatched_only_within_hotstart
                and i not in removed
            ):
                hidden.add(i)
        for tracks in assoc.matches.values():
            if len(tracks) < 2:
                continue
            first = min(tracks, key=lambda i: self.first_frame[i])
            for i in tracks:
                if i != first:
                    key = (first, i)
                    self.duplicates[key] = self.duplicates.get(key, 0) + 1
        for (_first, i), count in self.duplicates.items():
            if i in self.removed or i in removed:
                continue
            if self.first_frame[i] > horizon and count >= s.hotstart_duplicates:
                removed.add(i)
        self.removed |= removed
        # forget what can no longer matter (bounded state)
        self.duplicates = {
            k: v
            for k, v in self.duplicates.items()
            if self.first_frame.get(k[1], horizon) > horizon and k[1] not in self.removed
        }
        return removed, hidden

    def drop(self, ids: Sequence[int]) -> None:
        """Forget removed tracks (their ids stay in :attr:`removed`)."""
        gone = set(ids)
        self.ids = [i for i in self.ids if i not in gone]
        for d in (self.first_frame, self.unmatched, self.keep_alive, self.last_occluded):
            for i in gone:
                d.pop(i, None)


# ---------------------------------------------------------------------------------------
# suppression and non-overlap
# ---------------------------------------------------------------------------------------
def recent_occlusion_suppression(
    masks: Tensor, last_occluded: Tensor, concepts: Tensor, iou: float
) -> Tensor:
    """Which tracks to blank: of two same-concept tracks overlapping with IoU >= ``iou``, the
    one occluded more recently; only tracks that were both occluded before (last occlusion
    > -1) are compared, as in the oracle.

    Parameters
    ----------
    masks : Tensor of bool, shape (N, h, w)
    last_occluded : Tensor of int, shape (N,)
    concepts : Tensor of int, shape (N,)

    Examples
    --------
    >>> m = torch.ones(2, 2, 2, dtype=torch.bool)
    >>> recent_occlusion_suppression(m, torch.tensor([1, 3]), torch.tensor([0, 0]), 0.7).tolist()
    [False, True]
    """
    n = masks.shape[0]
    out = torch.zeros(n, dtype=torch.bool)
    if n < 2 or iou <= 0:
        return out
    last = last_occluded.cpu()
    concepts = concepts.cpu()
    for c in concepts.unique(sorted=True):
        idx = torch.nonzero(concepts == c)[:, 0]
        if len(idx) < 2 or c < 0:
            continue
        ious = mask_iou(masks[idx.to(masks.device)], masks[idx.to(masks.device)]).cpu()
        pairs = torch.triu(ious >= iou, diagonal=1)
        li, lj = last[idx][:, None], last[idx][None, :]
        sup_i = pairs & (li > lj) & (lj > -1)
        sup_j = pairs & (lj > li) & (li > -1)
        out[idx] = sup_i.any(1) | sup_j.any(0)
    return out


def pixel_non_overlap(logits: Tensor) -> Tensor:
    """Per pixel only the highest logit keeps its value; the others are clamped to <= -10.

    ``logits`` has the objects on its first axis.

    Examples
    --------
    >>> x = torch.tensor([[[1.0, 3.0]], [[2.0, -1.0]]])
    >>> pixel_non_overlap(x).tolist()
    [[[-10.0, 3.0]], [[2.0, -10.0]]]
    """
    if logits.shape[0] <= 1:
        return logits
    best = logits.argmax(0, keepdim=True)
    rows = torch.arange(logits.shape[0], device=logits.device).view(-1, *[1] * (logits.dim() - 1))
    return torch.where(best == rows, logits, logits.clamp(max=NO_OBJECT_LOGIT))


def shrink_suppression(logits: Tensor, concepts: Tensor, ratio: float) -> Tensor:
    """Within each concept, blank (clamp to <= -10) tracks that keep less than ``ratio`` of
    their area under :func:`pixel_non_overlap` (rule 4). ``logits`` is ``(N, 1, h, w)``.

    Examples
    --------
    >>> x = torch.tensor([[[[1.0, 1.0]]], [[[2.0, -1.0]]]])
    >>> shrink_suppression(x, torch.tensor([0, 0]), 0.6)[0].max().item()
    -10.0
    """
    out = logits.clone()
    concepts = concepts.to(logits.device)
    for c in concepts.unique(sorted=True):
        idx = torch.nonzero(concepts == c)[:, 0]
        if len(idx) < 2 or c < 0:
            continue
        group = out[idx]
        after = pixel_non_overlap(group)
        before_area = (group > 0).sum(dim=(-1, -2)).clamp(min=1)
        after_area = (after > 0).sum(dim=(-1, -2))
        keep = (after_area / before_area) >= ratio
        out[idx] = torch.where(keep[..., None, None], group, group.clamp(max=NO_OBJECT_LOGIT))
    return out


def output_masks(
    logits: Tensor, tracker_scores: Tensor, concepts: Tensor, size: tuple[int, int]
) -> Tensor:
    """Binary masks at video size from low-resolution logits (rule 6).

    Bilinear resize, foreground where > 0, then within each concept every pixel goes to the
    track with the highest tracker score (ties: the earlier track).

    Parameters
    ----------
    logits : Tensor, shape (N, h, w)
    tracker_scores : Tensor, shape (N,)
    concepts : Tensor of int, shape (N,)
    size : (height, width)

    Returns
    -------
    Tensor of bool, shape (N, height, width)

    Examples
    --------
    >>> x = torch.ones(2, 2, 2)
    >>> output_masks(x, torch.tensor([0.4, 0.9]), torch.tensor([0, 0]), (2, 2)).sum((1, 2)).tolist()
    [0, 4]
    """
    import torch.nn.functional as F

    if logits.shape[0] == 0:
        return torch.zeros(0, *size, dtype=torch.bool, device=logits.device)
    up = F.interpolate(logits[:, None].float(), size=size, mode="bilinear", align_corners=False)
    masks = up[:, 0] > 0
    concepts = concepts.to(masks.device)
    scores = tracker_scores.to(masks.device).float()
    out = masks.clone()
    for c in concepts.unique(sorted=True):
        idx = torch.nonzero(concepts == c)[:, 0]
        if len(idx) < 2 or c < 0:
            continue
        group = masks[idx]
        valued = torch.where(
            group, scores[idx][:, None, None], torch.full_like(group, 0, dtype=scores.dtype) - 10.0
        )
        out[idx] = group & (pixel_non_overlap(valued) > 0)
    return out
