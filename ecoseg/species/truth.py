"""Name tracks from a ground-truth store: the class of the truth animal a track overlaps most.

Used to stand in for a reviewer on synthetic footage (benchmarks, the shipped demo model) and
to review a store against annotations someone already made.
"""

from __future__ import annotations

import numpy as np

__all__ = ["truth_classes"]


def truth_classes(store, truth, *, min_overlap: float = 0.5) -> dict[int, str | None]:
    """Track id -> class of the truth object covering most of its pixels, over all frames
    the truth annotates (every frame, or its provenance's ``annotated_frames``).

    Parameters
    ----------
    store, truth : MaskStore, str or Path
        The tracks and the ground truth (same frames and size).
    min_overlap : float
        The truth object must cover at least this fraction of the track's pixels; otherwise
        the track is not matched (None: a false track, or two animals merged). A track
        seen on no annotated frame is left out.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(96, 64), n_fish=2,
    ...                     n_invertebrates=0)
    >>> names = truth_classes(clip.truth, clip.truth)
    >>> all(c is not None for c in names.values())
    True
    """
    from ecoseg.errors import ConfigError
    from ecoseg.provenance import annotated_frames
    from ecoseg.store import opened_store

    with opened_store(store) as pred, opened_store(truth) as ref:
        if (pred.height, pred.width) != (ref.height, ref.width) or pred.n_frames > ref.n_frames:
            raise ConfigError(
                f"{pred.path} ({pred.n_frames} frames of {pred.width}x{pred.height}) does not fit "
                f"the truth {ref.path} ({ref.n_frames} frames of {ref.width}x{ref.height})"
            )
        cls = {int(o["id"]): str(o["class"]) for o in ref.objects}
        # only the frames the truth annotates (an imported CVAT task of every N-th frame)
        scored = np.asarray(annotated_frames(ref.provenance_record, ref.n_frames, ref.path))
        pairs: dict[tuple[int, int], int] = {}
        size: dict[int, int] = {}
        step = pred.chunk_frames
        for start in range(0, pred.n_frames, step):
            stop = min(start + step, pred.n_frames)
            rows = scored[(scored >= start) & (scored < stop)] - start
            if len(rows) == 0:
                continue
            p = pred.read_labels(start, stop)[rows].ravel().astype(np.int64)
            t = ref.read_labels(start, stop)[rows].ravel()
            fg = p > 0
            key = p[fg] * (2**32) + t[fg].astype(np.int64)
            for k, n in zip(*(a.tolist() for a in np.unique(key, return_counts=True))):
                pid, tid = divmod(k, 2**32)
                size[pid] = size.get(pid, 0) + n
                if tid:
                    pairs[(pid, tid)] = pairs.get((pid, tid), 0) + n
    best: dict[int, tuple[int, int]] = {}
    for (pid, tid), n in pairs.items():
        if n > best.get(pid, (0, 0))[0]:
            best[pid] = (n, tid)
    return {
        pid: cls.get(best[pid][1]) if pid in best and best[pid][0] >= min_overlap * total else None
        for pid, total in sorted(size.items())
    }
