"""The frame rate of an image folder tracked in the *Segment & track* widget.

A folder of numbered images carries no time, so the widget's *frame rate* field gives it one,
as ``ecoseg segment FOLDER --fps N`` does: frame ``i`` is at ``i / N`` s. The rate applies to
image folders only (not a video file, timed by its own timestamps, nor a single image,
which has no time axis: :func:`ecoseg.io._common.not_a_folder`). The video layer is re-timed
to it (the time under the widget), the masks layer takes its times, and the masks' recorded
video says ``"image_folder": true`` with the rate, as a store made by ``segment`` does, so the
saved store opens again at that rate (:func:`ecoseg.napari._layers.store_layers`).

Free of Qt: the functions take a layer's ``metadata["ecoseg"]`` and its frame shape.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._checks import number_text as rate_text
from ecoseg.io._common import DEFAULT_FPS, check_fps

__all__ = ["DEFAULT_FPS", "folder_rate", "is_folder", "rate_text", "retime", "video_record"]


def is_folder(meta: Mapping[str, Any]) -> bool:
    """Whether a video layer (its ``metadata["ecoseg"]``) shows a folder of images.

    Examples
    --------
    >>> import tempfile
    >>> is_folder({"kind": "video", "video": tempfile.mkdtemp()})
    True
    >>> is_folder({"kind": "video", "video": "reef.mp4"})
    False
    """
    video = meta.get("video")
    return meta.get("kind") == "video" and bool(video) and Path(str(video)).is_dir()


def folder_rate(text: str, folder: str) -> float:
    """The rate typed in the field for ``folder``; empty: :data:`DEFAULT_FPS`.

    Raises
    ------
    ecoseg.errors.VideoError
        One line naming the folder: not a number above 0 (as ``segment --fps`` refuses it).

    Examples
    --------
    >>> folder_rate(" 10 ", "frames"), folder_rate("", "frames")
    (10.0, 30.0)
    >>> folder_rate("0", "frames")
    Traceback (most recent call last):
    ecoseg.errors.VideoError: frames: bad fps '0' for an image folder; expected a number > 0
    """
    text = str(text).strip()
    return check_fps(text, folder, text=True) if text else DEFAULT_FPS


def retime(meta: MutableMapping[str, Any], frames: int, fps: float) -> bool:
    """Time a folder's layer (its ``metadata["ecoseg"]``) at ``fps``: frame ``i`` at
    ``i / fps`` s, as the folder reader times it. Returns whether anything changed.

    Examples
    --------
    >>> meta = {"fps": 30.0, "time_s": np.arange(3) / 30.0}
    >>> retime(meta, 3, 10.0), meta["time_s"].tolist(), retime(meta, 3, 10.0)
    (True, [0.0, 0.1, 0.2], False)
    """
    times = np.arange(int(frames)) / float(fps)
    old = meta.get("time_s")
    if meta.get("fps") == fps and old is not None and np.array_equal(np.asarray(old), times):
        return False
    meta["fps"] = float(fps)
    meta["time_s"] = times
    return True


def video_record(meta: Mapping[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    """The masks' recorded video (``provenance["video"]``) for a video layer.

    A video file: its path. An image folder: also its rate, size and frame count and
    ``"image_folder": true``, as :meth:`ecoseg.io.folder.ImageFolderReader.record` records it
    for ``segment`` (without the sha256, which would read every image again).

    Parameters
    ----------
    meta : dict
        The video layer's ``metadata["ecoseg"]``.
    shape : tuple of int
        The layer's data shape ``(t, y, x, ...)``.

    Examples
    --------
    >>> import tempfile
    >>> video_record({"kind": "video", "video": "reef.mp4", "fps": 30.0}, (5, 48, 64, 3))
    {'path': 'reef.mp4'}
    >>> d = tempfile.mkdtemp()
    >>> r = video_record({"kind": "video", "video": d, "fps": 10.0}, (5, 48, 64, 3))
    >>> {k: v for k, v in r.items() if k != "path"}
    {'fps': 10.0, 'width': 64, 'height': 48, 'frames': 5, 'image_folder': True}
    """
    record: dict[str, Any] = {"path": meta.get("video")}
    if is_folder(meta):
        n, h, w = (int(s) for s in shape[:3])
        fps = meta.get("fps") or DEFAULT_FPS
        record.update(fps=float(fps), width=w, height=h, frames=n, image_folder=True)
    return record
