"""Count, MaxN and area errors of :func:`ecoseg.metrics.evaluate`: per class (and
class-agnostic, ``"all"``) and the median relative area error of matched objects."""

from __future__ import annotations

import numpy as np

__all__ = ["area_error", "count_errors"]


def count_errors(n, T, t_class, P, p_class) -> dict:
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


def area_error(t_area, p_area) -> dict:
    if t_area.size == 0:
        return {"median_relative_error": None, "median_relative_bias": None, "n": 0}
    rel = (p_area - t_area) / t_area
    return {
        "median_relative_error": float(np.median(np.abs(rel))),
        "median_relative_bias": float(np.median(rel)),
        "n": int(rel.size),
    }
