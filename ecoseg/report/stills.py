"""The report's images from the videos: a still per video under its tracks, sample frames."""

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
    "trajectory_panels",
]

SAMPLE_FRAMES = 3


def trajectory_panels(videos: list[VideoInfo], regions: Any) -> tuple[list[dict], list[dict]]:
    """Per video its tracks over a still (frame n/2), and the videos that had no still.

    A still is held reduced to its panel's pixels (:func:`~ecoseg.report.figures.fit_still`),
    not the video's."""
    import pandas as pd

    panels, missing = [], []
    width_px = F.panel_pixels(min(len(videos), F.TRAJECTORY_COLUMNS))
    for v in videos:
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
        reader, reason = open_reader(v)
        still, note, scale = None, None, 1
        if reader is not None:
            index = v.n_frames // 2
            try:
                still, scale = F.fit_still(reader.read(index).image, width_px)
            except (EcosegError, IndexError) as exc:
                reason = f"frame {index} unreadable ({' '.join(str(exc).split())})"
            finally:
                reader.close()
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
) -> list[dict[str, Any]]:
    """Per video its sample frames with the masks overlaid, labels and captions.

    A frame wider than twice its panel's pixels is reduced to them
    (:func:`~ecoseg.report.figures.fit_still`; its labels picked at each block's centre)
    before the masks are painted on it. ``picked``: the frames' labels as
    :func:`sample_labels` gives them (default: read here)."""
    regions, counts = tables.get("regions"), tables.get("counts")
    if picked is None:
        picked = sample_labels(videos, counts)
    rows = []
    for v, samples in zip(videos, picked):
        reader, reason = open_reader(v)
        frames = []
        width_px = F.panel_pixels(len(samples))  # the figure's panels are no wider
        try:
            for sample in samples:
                i = sample["frame"]
                image = None
                if reader is not None:
                    try:
                        image = reader.read(i).image
                    except (EcosegError, IndexError):
                        image = None
                if image is None:  # grey, made at the panel's size (a 4K frame is 25 MB)
                    size = (v.height, v.width)
                    image, scale = blank_still(v.height, v.width, width_px)
                else:
                    size = image.shape[:2]
                    image, scale = F.fit_still(image, width_px)
                shown = sample["labels"]
                if scale != sample["scale"]:  # a frame of another width than the store's
                    shown = F.fit_labels(_labels(v, i), scale)
                by_id = {
                    oid: colors.get(v.classes.get(oid, ""), "#8a8f94") for oid in sample["ids"]
                }
                tags = []
                if regions is not None and len(regions):
                    r = regions[(regions["video"] == v.name) & (regions["frame"] == i)]
                    tags = [
                        (float(x), float(y), f"#{int(o)}")
                        for o, x, y in zip(r["object_id"], r["centroid_x_px"], r["centroid_y_px"])
                    ]
                n_obj = len(by_id)
                caption = f"frame {i} · {_t(v, i)} · {n_obj} object{'s' if n_obj != 1 else ''}"
                if reader is None:
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
        finally:
            if reader is not None:
                reader.close()
        rows.append({"title": v.name, "frames": frames})
    return rows


def _labels(v: VideoInfo, i: int) -> np.ndarray:
    """Frame ``i`` of the labels of ``v``'s store."""
    from ecoseg.store import MaskStore

    with MaskStore.open(v.store_path) as store:
        return np.asarray(store.read_labels(i, i + 1)[0])
