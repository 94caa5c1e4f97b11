"""Input/output of footage: streaming video decode and image folders."""

from ecoseg.io._pyav import (
    PixelAspectWarning,
    TruncatedVideoWarning,
    VideoTimingWarning,
    VideoWarning,
)
from ecoseg.io.video import (
    Frame,
    FrameBatch,
    FrameIndexError,
    ImageFolderReader,
    VideoFileReader,
    VideoReader,
    open_video,
)

__all__ = [
    "Frame",
    "FrameBatch",
    "FrameIndexError",
    "ImageFolderReader",
    "PixelAspectWarning",
    "TruncatedVideoWarning",
    "VideoFileReader",
    "VideoReader",
    "VideoTimingWarning",
    "VideoWarning",
    "open_video",
]
