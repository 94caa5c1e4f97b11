"""Per-frame results shared by the engines, and their conversion to label images."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class FrameResult:
    """What an engine produced for one video frame.

    Attributes
    ----------
    index : int
        Frame index in the video.
    time : float
        Frame time in seconds (from the stream's PTS).
    object_ids : ndarray of int, shape (N,)
        Ids of the objects reported on this frame.
    scores : ndarray of float32, shape (N,)
        Object presence score per object (SAM 2: sigmoid of the object-score logit;
        classical engine: 1.0 for detected objects).
    logits : ndarray of float32, shape (N, H, W), optional
        Mask logits at video resolution (SAM 2 engine); > 0 is foreground.
    labels : ndarray of uint32, shape (H, W), optional
        Instance label image (classical engine). Derived from ``logits`` when absent.
    """

    index: int
    time: float
    object_ids: np.ndarray
    scores: np.ndarray
    logits: np.ndarray | None = None
    labels: np.ndarray | None = field(default=None, repr=False)

    def label_image(self) -> np.ndarray:
        """The (H, W) uint32 label image of this frame (computed once from logits if needed)."""
        if self.labels is None:
            if self.logits is None:
                raise ValueError(f"frame {self.index}: result has neither labels nor logits")
            self.labels = labels_from_logits(self.object_ids, self.logits, self.scores)
        return self.labels


def labels_from_logits(
    object_ids: np.ndarray, logits: np.ndarray, scores: np.ndarray | None = None
) -> np.ndarray:
    """Resolve per-object mask logits into one instance label image.

    A pixel gets the id of the object with the highest logit among those whose logit is
    positive; where logits tie, the object with the higher presence score wins.

    Parameters
    ----------
    object_ids : ndarray of int, shape (N,)
    logits : ndarray of float, shape (N, H, W)
    scores : ndarray of float, shape (N,), optional

    Returns
    -------
    ndarray of uint32, shape (H, W)
        0 is background.

    Examples
    --------
    >>> import numpy as np
    >>> logits = np.array([[[1.0, -1.0]], [[2.0, -3.0]]])
    >>> labels_from_logits(np.array([4, 7]), logits)
    array([[7, 0]], dtype=uint32)
    """
    object_ids = np.asarray(object_ids)
    logits = np.asarray(logits)
    if logits.ndim != 3 or len(object_ids) != logits.shape[0]:
        raise ValueError(
            f"logits of shape {logits.shape} do not match {len(object_ids)} object ids"
        )
    if len(object_ids) == 0:
        return np.zeros(logits.shape[1:], dtype=np.uint32)
    order = np.arange(len(object_ids))
    if scores is not None:
        # stable: among equal logits the later (argmax picks first) -> sort by score desc
        order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ranked = logits[order]
    best = np.argmax(ranked, axis=0)
    fg = np.take_along_axis(ranked, best[None], axis=0)[0] > 0
    ids = np.asarray(object_ids, dtype=np.uint32)[order]
    return np.where(fg, ids[best], 0).astype(np.uint32)
