"""The accuracy section: each store evaluated against its ground truth, the headline
metrics per video and the full results."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg.errors import EcosegError
from ecoseg.report._numbers import fixed_decimals
from ecoseg.report.read import VideoInfo

__all__ = ["accuracy"]


_HEADLINE_METRICS = (
    (("jf", "mean"), "J&F"),
    (("jf", "j_mean"), "J"),
    (("jf", "f_mean"), "F"),
    (("hota", "hota"), "HOTA"),
    (("hota", "deta"), "DetA"),
    (("hota", "assa"), "AssA"),
    (("identity", "idf1"), "IDF1"),
    (("clear", "mota"), "MOTA"),
)


def accuracy(videos: list[VideoInfo], progress: bool = False) -> dict[str, Any] | None:
    with_truth = [v for v in videos if v.truth]
    if not with_truth:
        return None
    from ecoseg.metrics import evaluate, result_note

    columns = []
    results = []
    for v in with_truth:
        if _not_there(v.truth):  # moved away (with its video): said in the study's words
            results.append((v, None, f"truth store not found at {v.truth_shown or v.truth}"))
            continue
        try:
            metrics = evaluate(v.store_path, v.truth, progress=progress)
        except EcosegError as exc:
            results.append((v, None, " ".join(str(exc).split())))
            continue
        results.append((v, metrics, None))
        for path, label in _HEADLINE_METRICS:
            if _dig(metrics, path) is not None and label not in columns:
                columns.append(label)
    rows = []
    for v, metrics, error in results:
        cells = []
        for path, label in _HEADLINE_METRICS:
            if label in columns:
                cells.append(fixed_decimals(_dig(metrics, path), 3) if metrics else "")
        rows.append(
            {
                "video": v.name,
                "truth": v.truth_shown or v.truth,
                "cells": cells,
                "error": error,
                # the frames scored, and a truth made from another video (as campaign scores)
                "note": (result_note(metrics) or None) if metrics else None,
                "other_video": bool(metrics and metrics.get("video_note")),
                "details": json.dumps(_plain(metrics), sort_keys=True, indent=1)
                if metrics
                else None,
            }
        )
    return {"columns": columns, "rows": rows}


def _not_there(truth: str) -> bool:
    """Whether ``truth`` is a local path with nothing there (a URL is left to evaluate)."""
    text = str(truth)
    return "://" not in text and not Path(text).exists()


def _dig(d, path):
    for k in path:
        if not isinstance(d, Mapping) or k not in d:
            return None
        d = d[k]
    return float(d) if isinstance(d, int | float) and not isinstance(d, bool) else None


def _plain(obj):
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)
    return obj
