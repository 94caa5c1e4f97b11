"""Input/output of footage: streaming video decode and image folders."""

from ecoseg.io.video import Frame, VideoReader, open_video

__all__ = ["Frame", "VideoReader", "open_video"]
