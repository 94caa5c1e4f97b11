"""Former home of the SAM 2 video engine, kept so existing imports keep working.

The engine now lives in :mod:`ecoseg.engine.tracker` (the tracker core),
:mod:`ecoseg.engine.tracker_state` (the tracker's typed state),
:mod:`ecoseg.engine.session` (:class:`StreamingSession`, :func:`propagate`),
:mod:`ecoseg.engine.storing` (the backward pass and results for the store writer),
:mod:`ecoseg.engine.resume` (the tracker's resume state) and :mod:`ecoseg.engine._runtime`
(prefetching, encoding, results on the device). Import from those; this module only
re-exports their public names.
"""

from __future__ import annotations

from ecoseg.engine._runtime import label_index, prefetch, preprocess_frame
from ecoseg.engine.session import StreamingSession, propagate
from ecoseg.engine.storing import backward_results, store_results
from ecoseg.engine.tracker import MemoryWindow, VideoTracker, fill_holes
from ecoseg.engine.tracker_state import FrameOutput, ObjectTrack, TrackedFrame, TrackerState

__all__ = [
    "FrameOutput",
    "MemoryWindow",
    "ObjectTrack",
    "StreamingSession",
    "TrackedFrame",
    "TrackerState",
    "VideoTracker",
    "backward_results",
    "fill_holes",
    "label_index",
    "prefetch",
    "preprocess_frame",
    "propagate",
    "store_results",
]
