"""The per-video summary section: one row per video, the sentences of runs that did
not finish, and the MaxN table."""

from __future__ import annotations

from typing import Any

from ecoseg._checks import number_text
from ecoseg.report._looked import video_classes
from ecoseg.report._numbers import fixed_decimals
from ecoseg.report.read import VideoInfo

__all__ = ["maxn_cell", "maxn_table", "summary_rows", "unfinished"]


def summary_rows(videos: list[VideoInfo], tables) -> list[dict[str, Any]]:
    tracks, maxn, cover = tables.get("tracks"), tables.get("maxn"), tables.get("cover")
    rows = []
    for v in videos:
        n_tracks = int((tracks["video"] == v.name).sum()) if tracks is not None else 0
        m = maxn[maxn["video"] == v.name] if maxn is not None else None
        maxn_text = (
            ", ".join(
                f"{c} {int(n)}"
                for c, n in sorted(zip(m["class"].astype(str), m["maxn"]))
                if int(n) > 0
            )
            if m is not None
            else ""
        )
        mean_cover = None
        if cover is not None:
            c = cover.loc[cover["video"] == v.name, ["frame", "cover_fraction"]]
            per_frame = c.groupby("frame")["cover_fraction"].sum()  # the frames observed
            mean_cover = float(per_frame.sum() / max(1, len(per_frame)) * 100)
        rows.append(
            {
                "video": v.name,
                "site": v.site or "",
                "transect": v.transect or "",
                "date": v.date or "",
                "depth": fixed_decimals(v.depth_m, 1),
                "duration": "–" if v.provenance.is_survey else f"{v.duration_s:.1f}",  # photographs
                "frames": _frames_text(v),
                "size": f"{v.width}×{v.height}",
                # every digit, as the calibration section and `scale_text` print it: the
                # stored calibration typed back, not one rounded to 4 digits
                "mm_per_px": number_text(v.mm_per_px) if v.mm_per_px else "none",
                "tracks": n_tracks,
                "maxn": maxn_text or "none",
                "cover": fixed_decimals(mean_cover, 2),
            }
        )
    return rows


def _video_frames(v: VideoInfo) -> int | None:
    video = v.provenance.video
    frames = video.frames if video is not None else None
    return int(frames) if frames else None


def _frames_text(v: VideoInfo) -> str:
    """Frames the numbers cover; an unfinished run's says of how many and that it stopped
    (or, one another process still writes, that it is still being written)."""
    if v.complete:
        return str(v.n_frames)
    total = _video_frames(v)
    state = "still being written" if v.writer else "unfinished"
    return f"{v.n_frames} of {total} ({state})" if total else f"{v.n_frames} ({state})"


def unfinished(videos: list[VideoInfo]) -> list[str]:
    """A sentence per store whose run did not finish: the frames and times its numbers cover;
    one another live process still writes (its writer lock) is said to be still being written,
    by whom, as ``ecoseg info`` says it, not to have stopped."""
    lines = []
    for v in videos:
        if v.complete:
            continue
        total = _video_frames(v)
        of = f" of the video's {total}" if total else ""
        span = ""
        if len(v.times):
            span = f" ({float(v.times[0]):.3f}–{float(v.times[-1]):.3f} s)"
        state = (
            f"still being written ({v.writer}); wait for that run to finish"
            if v.writer
            else "its run did not finish"
        )
        lines.append(
            f"{v.name}: {state}; its numbers cover frames 0–{v.n_frames - 1}{span}{of} only"
        )
    return lines


def maxn_table(videos, maxn, classes) -> dict[str, Any] | None:
    if maxn is None:
        return None
    rows = []
    for v in videos:
        d = maxn[maxn["video"] == v.name]
        own = video_classes(d, "maxn", classes)  # saw nothing at all: 0 of every class
        d = d.set_index("class")
        cells = []
        for c in classes:
            if c not in own:  # not a class of this video: its tables say nothing of it
                cells.append("–")
            elif c in d.index and int(d.loc[c, "maxn"]) > 0:
                row = d.loc[c]
                cells.append(maxn_cell(row["maxn"], row.get("frame"), row["time_s"], v.photos))
            else:
                cells.append("0")
        rows.append({"video": v.name, "cells": cells})
    absent = any("–" in r["cells"] for r in rows)
    return {"classes": classes, "rows": rows, "absent": absent}


def maxn_cell(maxn, frame, time_s, photos=None) -> str:
    """A MaxN table cell: the value, when (ms: frame steps of any rate stay apart) and where;
    in a photo survey (``photos``: its images, one per frame) the photograph, not a time.

    Examples
    --------
    >>> maxn_cell(3, 2, 0.07)
    '3 at 0.070 s (frame 2)'
    >>> maxn_cell(1, None, 12.5)
    '1 at 12.500 s'
    >>> maxn_cell(4, 1, 1.0, ("q1.jpg", "q2.jpg"))
    '4 in q2.jpg (frame 1)'
    """
    try:
        frame = int(frame)
    except (TypeError, ValueError):  # no frame column (tables made elsewhere), or <NA>
        return f"{int(maxn)} at {float(time_s):.3f} s"
    if photos is not None and 0 <= frame < len(photos):
        return f"{int(maxn)} in {photos[frame]} (frame {frame})"
    return f"{int(maxn)} at {float(time_s):.3f} s (frame {frame})"
