"""What ecoseg reads from a video file or image folder, before segmenting it (``ecoseg info
VIDEO``): frames, size as displayed, frame times, and what was done to show it as players do.

:func:`is_video` tells a video (a file named like one, or a folder of images that is not a
store) from a store; :func:`video_summary` opens it as ``segment`` would
(:func:`ecoseg.io.open_video`), so its warnings (variable timing, a cut-off file, several
video streams) and refusals are the ones ``segment`` gives.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from typing import Any

from ecoseg.info.summary import video_notes

__all__ = ["VideoSummary", "is_video", "video_summary"]


def is_video(path: Any) -> bool:
    """Whether ``path`` is a local video file or image folder rather than a mask store.

    A file named as a video (:data:`ecoseg.io.folder.VIDEO_SUFFIXES`), or a folder with images
    (:func:`ecoseg.io.folder.image_names`) and no ``zarr.json``. Anything else (a store, a URL,
    a ``.zip``) is left to the store's own checks.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> is_video(clip.video), is_video(clip.truth)
    (True, False)
    """
    from ecoseg.io.folder import VIDEO_SUFFIXES, image_names

    if not isinstance(path, str | os.PathLike) or "://" in os.fspath(path):
        return False
    p = os.fspath(path)
    if os.path.isfile(p):
        return os.path.splitext(p)[1].lower() in VIDEO_SUFFIXES
    if os.path.isdir(p) and not os.path.exists(os.path.join(p, "zarr.json")):
        return bool(image_names(p))
    return False


@dataclass(frozen=True)
class VideoSummary:
    """A video as ``segment`` reads it; ``notes`` as a store's provenance would record them.

    Attributes
    ----------
    path : str
        The video file or image folder.
    frames, width, height : int
        Frame count and frame size as displayed (turned upright), the size masks will have.
    fps, duration_s : float
        Average frame rate; duration (last frame's time plus its display time).
    end_s : float
        Time of the last frame (frame 0 is at 0 s).
    sha256 : str
        The fingerprint a store made from it records.
    image_folder : bool
        A folder of images, timed at the rate given (30 fps unless ``--fps``).
    notes : list of str
        What was done to show it as players do (:func:`ecoseg.info.summary.video_notes`).
    """

    path: str
    frames: int
    width: int
    height: int
    fps: float
    duration_s: float
    end_s: float
    sha256: str
    image_folder: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The summary as a JSON-ready dict (``ecoseg info VIDEO --json``), ``"kind": "video"``."""
        return {"kind": "video", **asdict(self)}

    def lines(self) -> list[str]:
        """The summary for people, in the layout of a store's.

        Examples
        --------
        >>> s = VideoSummary("dive.mov", 30, 1080, 1920, 30.0, 1.0, 0.967, "ab12",
        ...                  notes=["turned upright by its display matrix (1 quarter turn "
        ...                         "clockwise)"])
        >>> print("\\n".join(s.lines()))
        dive.mov: a video, not a mask store (`ecoseg segment` makes one)
          frames       30 of 1080x1920 px (as displayed)
          time         1 s (0.000 to 0.967 s), 30 fps
          video        sha256 ab12
                       turned upright by its display matrix (1 quarter turn clockwise)
        """
        kind = "an image folder" if self.image_folder else "a video"
        rate = f"{self.fps:g} fps"
        if self.image_folder:
            rate += " (images carry no time: segment --fps gives the rate)"
        out = [
            f"{self.path}: {kind}, not a mask store (`ecoseg segment` makes one)",
            f"frames       {self.frames} of {self.width}x{self.height} px (as displayed)",
            f"time         {self.duration_s:.3g} s (0.000 to {self.end_s:.3f} s), {rate}",
            f"video        sha256 {self.sha256}",
        ]
        out += [f"             {note}" for note in self.notes]
        return out[:1] + ["  " + line for line in out[1:]]


def video_summary(path: Any) -> VideoSummary:
    """What ``segment`` would read from the video file or image folder at ``path``.

    Raises
    ------
    ecoseg.errors.VideoError
        What :func:`ecoseg.io.open_video` refuses (one line naming the file).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> s = video_summary(ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(64, 48)).video)
    >>> s.frames, (s.width, s.height), s.fps, s.notes
    (3, (64, 48), 30.0, [])
    """
    from ecoseg.io import open_video
    from ecoseg.io.folder import unnumbered_note

    with open_video(path) as video:
        record = video.record()
        times = video.times
        folder = bool(record.get("image_folder"))
        # an image folder whose names carry no frame numbers: what segment warns of
        order = unnumbered_note([os.path.basename(f) for f in video.files]) if folder else None
        return VideoSummary(
            path=str(path),
            frames=len(video),
            width=video.width,
            height=video.height,
            fps=float(video.fps),
            duration_s=float(video.duration),
            end_s=float(times[-1]),
            sha256=record["sha256"],
            image_folder=folder,
            notes=video_notes(record) + ([order] if order else []),
        )
