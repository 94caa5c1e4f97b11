"""The typed state of the SAM 2 video tracker: per-frame outputs, object tracks, snapshots.

These records are what :class:`~ecoseg.engine.tracker.VideoTracker` holds and hands out; the
tracking itself (which memories a frame attends to, running the network) is
:mod:`ecoseg.engine.tracker`, which re-exports them. A :class:`TrackerState` is what resume
state (:mod:`ecoseg.engine.resume`) saves beside a store: :meth:`TrackerState.to_bytes` writes
plain data (tensors, numbers, lists, dicts) and no class or module names, so a snapshot reads
back whatever module the classes live in.

Exports
-------
FrameOutput
    What is kept of one object's prediction on one frame.
ObjectTrack
    One object's state (conditioning frames, frames still in the window, frames tracked).
TrackedFrame
    The prediction for all objects on one frame.
TrackerState
    A snapshot of a tracker (for rewinding and resume), and its serialisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

__all__ = ["FrameOutput", "ObjectTrack", "TrackedFrame", "TrackerState"]


@dataclass
class FrameOutput:
    """What is kept of one object's prediction on one frame.

    Attributes
    ----------
    frame : int
    mask_logits : Tensor, shape (1, h, w), optional
        Low-resolution (``image_size / 4``) mask logits; dropped once out of the window.
    obj_ptr : Tensor, shape (C,)
    score : Tensor, shape (1,)
        Object-score logit.
    memory : Tensor of bfloat16, shape (mem_dim, H, W), optional
        Spatial memory; dropped once out of the memory window.
    """

    frame: int
    mask_logits: torch.Tensor | None
    obj_ptr: torch.Tensor
    score: torch.Tensor
    memory: torch.Tensor | None


@dataclass
class ObjectTrack:
    """One object's state.

    Attributes
    ----------
    id : int
    cond : dict of int to FrameOutput
        Conditioning (prompted) frames, all kept.
    recent : dict of int to FrameOutput
        Non-conditioning frames still inside the memory or pointer window.
    spans : list of (first, last, reverse)
        Frames tracked so far (decides whether a new prompt is a correction).
    """

    id: int
    cond: dict[int, FrameOutput] = field(default_factory=dict)
    recent: dict[int, FrameOutput] = field(default_factory=dict)
    spans: list[list[Any]] = field(default_factory=list)

    def mark_tracked(self, t: int, reverse: bool) -> None:
        if self.spans:
            lo, hi, rev = self.spans[-1]
            if rev == reverse and (t == hi + 1 if not reverse else t == lo - 1):
                self.spans[-1] = [min(lo, t), max(hi, t), rev]
                return
        self.spans.append([t, t, reverse])

    def tracked(self, t: int) -> bool | None:
        """``None`` if frame ``t`` was never tracked, else the direction it was tracked in."""
        for lo, hi, rev in reversed(self.spans):
            if lo <= t <= hi:
                return rev
        return None

    def output(self, t: int) -> FrameOutput | None:
        return self.cond.get(t) or self.recent.get(t)


@dataclass(frozen=True)
class TrackedFrame:
    """The prediction for all objects on one frame (low resolution, on the model device).

    Attributes
    ----------
    index : int
    object_ids : list of int
    mask_logits : Tensor, shape (N, 1, h, w)
    scores : Tensor, shape (N, 1)
        Object-score logits.
    """

    index: int
    object_ids: list[int]
    mask_logits: torch.Tensor
    scores: torch.Tensor


@dataclass
class TrackerState:
    """A snapshot of a :class:`~ecoseg.engine.tracker.VideoTracker`: everything tracking
    needs from frame ``next_frame`` on (the bounded per-object state, nothing else).

    Snapshots make resuming and re-propagating exact: restoring one and tracking on gives the
    outputs an uninterrupted run gives (same device and settings). :meth:`to_bytes` /
    :meth:`from_bytes` serialise it with ``torch.save`` / ``torch.load(weights_only=True)``.

    Attributes
    ----------
    next_frame : int
        The next frame to track.
    reverse : bool
        Tracking direction.
    num_frames : int
        Video length.
    objects : list of ObjectTrack
        In registration (output) order.
    """

    next_frame: int
    reverse: bool
    num_frames: int
    objects: list[ObjectTrack]

    def nbytes(self) -> int:
        """Bytes held by the snapshot's tensors (shared ones counted once)."""
        seen: dict[int, int] = {}
        for tr in self.objects:
            for o in (*tr.cond.values(), *tr.recent.values()):
                for x in (o.mask_logits, o.obj_ptr, o.score, o.memory):
                    if x is not None:
                        seen[id(x)] = x.numel() * x.element_size()
        return sum(seen.values())

    def to_bytes(self) -> bytes:
        """Serialise (tensors moved to the CPU)."""
        import io

        def out(o: FrameOutput) -> dict:
            return {
                k: (None if v is None else v.detach().cpu())
                for k, v in (
                    ("mask_logits", o.mask_logits),
                    ("obj_ptr", o.obj_ptr),
                    ("score", o.score),
                    ("memory", o.memory),
                )
            }

        data = {
            "format": "ecoseg-tracker-state",
            "version": 1,
            "next_frame": self.next_frame,
            "reverse": self.reverse,
            "num_frames": self.num_frames,
            "objects": [
                {
                    "id": tr.id,
                    "cond": {int(f): out(o) for f, o in tr.cond.items()},
                    "recent": {int(f): out(o) for f, o in tr.recent.items()},
                    "spans": [[int(a), int(b), bool(r)] for a, b, r in tr.spans],
                }
                for tr in self.objects
            ],
        }
        buf = io.BytesIO()
        torch.save(data, buf)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> TrackerState:
        """Read a snapshot written by :meth:`to_bytes` (no pickled code is executed)."""
        import io

        d = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        if not isinstance(d, dict) or d.get("format") != "ecoseg-tracker-state":
            raise ValueError("not an ecoseg tracker state")

        def out(f: int, o: dict) -> FrameOutput:
            return FrameOutput(int(f), o["mask_logits"], o["obj_ptr"], o["score"], o["memory"])

        objects = [
            ObjectTrack(
                int(o["id"]),
                {int(f): out(f, v) for f, v in o["cond"].items()},
                {int(f): out(f, v) for f, v in o["recent"].items()},
                [list(s) for s in o["spans"]],
            )
            for o in d["objects"]
        ]
        return cls(int(d["next_frame"]), bool(d["reverse"]), int(d["num_frames"]), objects)
