"""Helpers shared by the tests of sam2 runs through :func:`ecoseg.segment` (``tests/engine`` is
on ``sys.path`` while its modules are collected, so they import this as ``engine_helpers``)."""

from __future__ import annotations

import numpy as np
import pytest

from ecoseg.prompts import FramePrompt, ObjectPrompts, Prompts

#: :func:`ecoseg.segment` settings of a small random-weight SAM 2 on the CPU
SEGMENT = dict(model="sam2.1-tiny", pretrained=False, image_size=64, device="cpu")


def small_clip(folder, frames: int):
    """A synthetic 96x64 clip of ``frames`` frames (seed 3) made in ``folder / "clip"``."""
    import ecoseg

    return ecoseg.synth(folder / "clip", frames=frames, size=(96, 64), seed=3)


def prompts(click_frames=(2,), box_frames=(4,)) -> Prompts:
    """Object 1 "fish" clicked at (30, 20) on ``click_frames``, object 2 "coral" boxed at
    (50, 30, 80, 60) on ``box_frames``."""
    click = [FramePrompt(f, np.array([[30.0, 20.0]]), np.array([1])) for f in click_frames]
    box = [FramePrompt(f, box=np.array([50.0, 30.0, 80.0, 60.0])) for f in box_frames]
    return Prompts((ObjectPrompts(1, "fish", tuple(click)), ObjectPrompts(2, "coral", tuple(box))))


def segment_cancelled(video, prompts, out, after: int, match: str | None = None, **options):
    """:func:`ecoseg.segment` of ``video`` into ``out``, cancelled: its ``cancel`` answers true
    from its call ``after + 1`` on. Asserts that the run raises ``Cancelled`` (with a message
    matching ``match``, if given)."""
    import ecoseg
    from ecoseg.engine import Cancelled

    calls = iter(range(1000))
    with pytest.raises(Cancelled, match=match):
        ecoseg.segment(
            video, prompts, out=out, progress=False, cancel=lambda: next(calls) >= after, **options
        )
