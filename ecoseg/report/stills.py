"""The report's images from the videos: a still per video under its tracks, sample frames.

Each video is opened once for both (:func:`video_frames`): opening one indexes every packet
of the file, and each reader started a decoder of its own."""

from __future__ import annotations

from typing import Any

import numpy as np

from ecoseg.errors import EcosegError
from ecoseg.report import figures as F
from ecoseg.report._fit import blank_still
from ecoseg.report.read import VideoInfo, open_reader

__all__ = [
    "SAMPLE_FRAMES",
    "frame_rows",
    "sample_indices",
    "sample_labels",
    "stills_wanted",
    "trajectory_panels",
    "video_frames",
]

SAMPLE_FRAMES = 3


def video_frames(videos: list[VideoInfo], wanted: list[dict[int, list[int]]]) -> list[dict]:
    """Per video the frames ``wanted`` of it (frame index -> the widths of the panels it is
    drawn in), each reduced to each width as it is read (:func:`~ecoseg.report.figures.fit_still`),
    the video opened once and its frames read in order.

    Returns per video ``{"reason", "fitted", "errors"}``: why its video is not used (None when
    it is), ``fitted[(frame, width)] = (image, scale, (height, width) read)``, and per frame
    that did not decode the reason.
    """
    out = []
    for v, frames in zip(videos, wanted):
        reader, reason = open_reader(v) if frames else (None, None)
        fitted, errors = {}, {}
        if reader is not None:
            try:
                for i in sorted(frames):
                    try:
                        image = reader.read(i).image
                    except (EcosegError, IndexError) as exc:
                        errors[i] = " ".join(str(exc).split())
                        continue
                    for width_px in frames[i]:
                        fitted[(i, width_px)] = (*F.fit_still(image, width_px), image.shape[:2])
                    del image  # (a 4K frame is 25 MB) before the next is read
            finally:
                reader.close()
        out.append({"reason": reason, "fitted": fitted, "errors": errors})
    return out


def stills_wanted(
    videos: list[VideoInfo], picked: list[list[dict[str, Any]]] | None = None
) -> list[dict[int, list[int]]]:
    """The frames :func:`trajectory_panels` (frame n/2) and :func:`frame_rows` (``picked``,
    :func:`sample_labels`'s) draw of each video, for :func:`video_frames`."""
    width_px = F.panel_pixels(min(len(videos), F.TRAJECTORY_COLUMNS))
    wanted: list[dict[int, list[int]]] = [{v.n_frames // 2: [width_px]} for v in videos]
    for frames, samples in zip(wanted, picked or []):
        for sample in samples:
            frames.setdefault(sample["frame"], []).append(F.panel_pixels(len(samples)))
    return wanted


def trajectory_panels(
    videos: list[VideoInfo], regions: Any, seen: list[dict] | None = None
) -> tuple[list[dict], list[dict]]:
    """Per video its tracks over a still (frame n/2), and the videos that had no still.

    A still is held reduced to its panel's pixels (:func:`~ecoseg.report.figures.fit_still`),
    not the video's. ``seen``: the videos' frames as :func:`video_frames` gives them for
    :func:`stills_wanted` (default: read here)."""
    import pandas as pd

    if seen is None:
        seen = video_frames(videos, stills_wanted(videos))
    panels, missing = [], []
    width_px = F.panel_pixels(min(len(videos), F.TRAJECTORY_COLUMNS))
    for v, got in zip(videos, seen):
        if regions is not None and len(regions):
            columns = ["object_id", "class", "frame", "centroid_x_px", "centroid_y_px"]
            d = regions.loc[regions["video"] == v.name, columns]  # not the other columns
            tracks = pd.DataFrame(
                {
                    "object_id": d["object_id"].to_numpy(),
                    "class": d["class"].astype(str).array,  # not a Python str per row
                    "frame": d["frame"].to_numpy(),
                    "x": d["centroid_x_px"].to_numpy(dtype=float),
                    "y": d["centroid_y_px"].to_numpy(dtype=float),
                }
            )
        else:
            tracks = pd.DataFrame({"object_id": [], "class": [], "frame": [], "x": [], "y": []})
        index = v.n_frames // 2
        still, note, scale = None, None, 1
        reason = got["reason"]
        if (index, width_px) in got["fitted"]:
            still, scale, _ = got["fitted"][(index, width_px)]
        elif index in got["errors"]:
            reason = f"frame {index} unreadable ({got['errors'][index]})"
        if still is None:
            note = f"{reason}: drawn on a blank background"
            missing.append({"video": v.name, "reason": reason})
        else:
            note = f"still: frame {v.n_frames // 2} ({_t(v, v.n_frames // 2)})"
        panels.append(
            {
                "title": v.name,
                "note": note,
                "still": still,
                "scale": scale,
                "height": v.height,
                "width": v.width,
                "mm_per_px": v.mm_per_px,
                "tracks": tracks,
            }
        )
    return panels, missing


def _ids(labels: np.ndarray, rows: int = 128) -> list[int]:
    """The object ids on a frame's ``labels`` (0 left out), ascending: ``np.unique`` of
    bands of ``rows`` rows, not the sorted copy of the whole frame it makes (32 MB at 4K).

    Examples
    --------
    >>> _ids(np.array([[0, 7], [3, 7], [0, 0]]), rows=1)
    [3, 7]
    """
    bands = [np.unique(labels[r : r + rows]) for r in range(0, len(labels), rows)]
    found = np.unique(np.concatenate(bands)) if bands else []
    return [int(x) for x in found if x]


def _t(v: VideoInfo, i: int) -> str:
    return f"{float(v.times[i]):.2f} s" if 0 <= i < len(v.times) else "?"


def sample_indices(v: VideoInfo, counts: Any) -> list[int]:
    """The frames shown for ``v``: early, the busiest, late (:data:`SAMPLE_FRAMES` at most)."""
    n = v.n_frames
    if n == 0:
        return []
    picks = [round((n - 1) * 0.15)]
    if counts is not None and len(counts):
        mine = counts.loc[counts["video"] == v.name, ["frame", "count"]]
        c = mine.groupby("frame", sort=True)["count"].sum()
        if len(c) and c.max() > 0:
            picks.append(int(c.idxmax()))  # the busiest frame (first if tied)
    picks += [round((n - 1) * 0.85), (n - 1) // 2, round((n - 1) * 0.35), 0, n - 1]
    out: list[int] = []
    for i in picks:
        i = int(min(max(i, 0), n - 1))
        if i not in out:
            out.append(i)
        if len(out) == SAMPLE_FRAMES:
            break
    return sorted(out)


def sample_labels(videos: list[VideoInfo], counts: Any) -> list[list[dict[str, Any]]]:
    """Per video its sample frames' labels (:func:`sample_indices`) as :func:`frame_rows`
    paints them: each ``{"frame", "scale", "labels", "ids"}``, the labels picked at the
    centre of each block of the factor :func:`~ecoseg.report.figures.fit_still` reduces a
    frame of the video's width by (in the smallest unsigned type that holds its ids), and the
    frame's object ids (0 left out).

    Read before any video frame is decoded (:func:`~ecoseg.report.sections.build_context`
    calls it ahead of the trajectories' stills): the memory a video decoder has let go of
    stays with the process, under whatever is allocated after it. A frame of labels is read
    alone (32 MB at 4K: only its Blosc blocks are decoded, :mod:`ecoseg.store.blosc_frames`)
    and reduced before the next is read.
    """
    from ecoseg.store import MaskStore

    out = []
    for v in videos:
        indices = sample_indices(v, counts)
        k = max(1, int(v.width) // max(1, F.panel_pixels(len(indices))))  # fit_still's factor
        picked = []
        with MaskStore.open(v.store_path) as store:
            for i in indices:
                labels = np.asarray(store.read_labels(i, i + 1)[0])
                ids = _ids(labels)
                shown = F.fit_labels(labels, k)
                del labels  # (the frame's labels at full size) before the next is read
                # held until the video's frames are painted: in the fewest bytes that hold
                # its ids (overlay paints any integer labels alike)
                small = shown.astype(np.min_scalar_type(max(ids, default=0)))
                picked.append({"frame": i, "scale": k, "labels": small, "ids": ids})
        out.append(picked)
    return out


def frame_rows(
    videos: list[VideoInfo],
    tables: Any,
    colors: dict,
    picked: list[list[dict[str, Any]]] | None = None,
    seen: list[dict] | None = None,
) -> list[dict[str, Any]]:
    """Per video its sample frames with the masks overlaid, labels and captions.

    A frame wider than twice its panel's pixels is reduced to them
    (:func:`~ecoseg.report.figures.fit_still`; its labels picked at each block's centre)
    before the masks are painted on it. ``picked``: the frames' labels as
    :func:`sample_labels` gives them (default: read here); ``seen``: the videos' frames as
    :func:`video_frames` gives them for :func:`stills_wanted` (default: read here)."""
    regions, counts = tables.get("regions"), tables.get("counts")
    if picked is None:
        picked = sample_labels(videos, counts)
    if seen is None:
        seen = video_frames(videos, stills_wanted(videos, picked))
    rows = []
    for v, samples, got in zip(videos, picked, seen):
        frames = []
        width_px = F.panel_pixels(len(samples))  # the figure's panels are no wider
        for sample in samples:
            i = sample["frame"]
            if (i, width_px) in got["fitted"]:
                image, scale, size = got["fitted"][(i, width_px)]
            else:  # grey, made at the panel's size (a 4K frame is 25 MB)
                size = (v.height, v.width)
                image, scale = blank_still(v.height, v.width, width_px)
            shown = sample["labels"]
            if scale != sample["scale"]:  # a frame of another width than the store's
                shown = F.fit_labels(_labels(v, i), scale)
            by_id = {oid: colors.get(v.classes.get(oid, ""), "#8a8f94") for oid in sample["ids"]}
            tags = []
            if regions is not None and len(regions):
                r = regions[(regions["video"] == v.name) & (regions["frame"] == i)]
                tags = [
                    (float(x), float(y), f"#{int(o)}")
                    for o, x, y in zip(r["object_id"], r["centroid_x_px"], r["centroid_y_px"])
                ]
            n_obj = len(by_id)
            caption = f"frame {i} · {_t(v, i)} · {n_obj} object{'s' if n_obj != 1 else ''}"
            if got["reason"] is not None:
                caption += " · no video"
            frames.append(
                {
                    "image": F.overlay(image, shown, by_id),
                    "labels": tags,
                    "caption": caption,
                    "size": size,
                    "scale": scale,
                }
            )
        rows.append({"title": v.name, "frames": frames})
    return rows


def _labels(v: VideoInfo, i: int) -> np.ndarray:
    """Frame ``i`` of the labels of ``v``'s store."""
    from ecoseg.store import MaskStore

    with MaskStore.open(v.store_path) as store:
        return np.asarray(store.read_labels(i, i + 1)[0])
