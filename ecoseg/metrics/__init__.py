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

HOTA/IDF1/MOTA are TrackEval's own figures: its mask readers (DAVIS, MOTS) build the same
IoU matrices (pycocotools' IoU of RLE masks), class-agnostic as its DAVIS evaluation, the
video one sequence; HOTA and its parts are means over the IoU thresholds 0.05..0.95.

Object correspondence for J&F and the area error: each truth object is matched to at most
one predicted object so that the total IoU summed over all frames is maximal (Hungarian
assignment, ``scipy.optimize.linear_sum_assignment``; DAVIS's unsupervised evaluation
maximises mean J&F over all frames, TrackEval's ``JAndF`` mean J: the same pairs when every
object is present on every frame). HOTA/IDF1/MOTA do their own per-frame matching as their
definitions prescribe.

Deviations from the DAVIS protocol, chosen for videos in which animals come and go: a truth
object is scored only on the frames where it or its matched prediction is present (DAVIS
scores every frame, and a frame where both are absent as J = F = 1, which would reward
videos with few animals), and every frame is scored (DAVIS drops the first and last frame of
its semi-supervised benchmark); DAVIS's recall and decay are not reported. Where every
object is present on every frame, J, F and J&F equal TrackEval's ``JAndF``.

Void pixels (255 of an indexed PNG) of a DAVIS-style truth folder are left out of every
score: the prediction is background there, as TrackEval's DAVIS reader and DAVIS's
unsupervised evaluation treat them for J and F (:class:`VoidPixels`).

A truth store that annotates only some frames (its provenance's ``annotated_frames``, e.g. an
imported CVAT task of every 5th frame) is compared on those frames only: the others were never
annotated, so a mask there is neither right nor wrong. So is a DAVIS-style PNG folder with a
PNG for some frames only (every k-th frame): the frames with a PNG are scored. The result's
``scored_frames`` and ``note`` say so.

A truth whose provenance records another video than the prediction's (another sha256, length,
size or frame count) is scored all the same, a truth drawn on a re-encoded copy being
legitimate, but the result's ``video_note`` and an :class:`OtherVideoWarning` name both videos
and how they differ (:mod:`ecoseg.metrics.pairing`). A pair given the wrong way round is
refused: an annotation (``ecoseg synth``'s truth, or one imported without confidences) as the
prediction and a run of ``ecoseg segment`` nobody reviewed as its truth
(:func:`~ecoseg.metrics.pairing.swap_note`); any other pair is scored as given, a store
against itself with a :class:`SameStoreWarning` (most likely a wrong path).

The stores are read chunk by chunk, once for the overlaps and the boundary F of every pair of
objects that overlap on a frame, and again only on the frames where a pair matched over the
video is present on both sides without overlapping; memory stays bounded by a chunk of frames.

The package, one module per part (every name below is importable from ``ecoseg.metrics``):

- :mod:`ecoseg.metrics.evaluation`: :func:`evaluate`, the passes over the stores, the
  result's JSON and what it says beside its figures (:func:`result_note`);
- :mod:`ecoseg.metrics.jf`: the DAVIS pieces of J&F (:func:`jaccard`, :func:`boundary_f`,
  :func:`seg2bmap`, :func:`bound_pixels`);
- :mod:`ecoseg.metrics.truth`: a DAVIS-style PNG folder as the truth (:func:`truth_from_pngs`)
  and its void pixels (:class:`VoidPixels`); images in it that are not PNG are not read, and
  named (:class:`NotPngWarning`);
- :mod:`ecoseg.metrics.pairing`: whether the truth records the prediction's video
  (:func:`video_note`, the result's ``video_note`` and :class:`OtherVideoWarning`), and
  whether the two are given the wrong way round (:func:`swap_note`, :func:`check_pair`) or
  are one store (:func:`same_store_note`, :class:`SameStoreWarning`);
- ``_overlaps`` (:func:`pair_counts` and the sparse per-object areas both passes share),
  ``_boundaries`` (the boundary F of many mask pairs of two label stacks at once, equal to
  :func:`boundary_f` of each), ``_tracking`` (HOTA, IDF1 and MOTA by TrackEval), ``_counting``
  (count, MaxN and area errors).
"""

from __future__ import annotations

from ecoseg.metrics._overlaps import pair_counts
from ecoseg.metrics.evaluation import evaluate, result_note, scored_note
from ecoseg.metrics.jf import BOUND_TH, bound_pixels, boundary_f, jaccard, seg2bmap
from ecoseg.metrics.pairing import (
    OtherVideoWarning,
    SameStoreWarning,
    check_pair,
    same_store_note,
    swap_note,
    video_note,
)
from ecoseg.metrics.truth import (
    NotPngWarning,
    VoidPixels,
    is_png_folder,
    png_frames,
    truth_from_pngs,
)

__all__ = [
    "BOUND_TH",
    "NotPngWarning",
    "OtherVideoWarning",
    "SameStoreWarning",
    "VoidPixels",
    "bound_pixels",
    "boundary_f",
    "check_pair",
    "evaluate",
    "is_png_folder",
    "jaccard",
    "pair_counts",
    "png_frames",
    "result_note",
    "same_store_note",
    "scored_note",
    "seg2bmap",
    "swap_note",
    "truth_from_pngs",
    "video_note",
]
