"""Prompts from annotations: another tool's boxes, polygons and masks as SAM 2 prompts with the
annotation's classes (:func:`to_prompts`; from a file: :func:`prompts_from_file`).
"""

from __future__ import annotations

import os
from typing import Any

from ecoseg._checks import short_repr, whole_number
from ecoseg.errors import ConfigError, FormatError, PromptError
from ecoseg.formats._annotation_model import Annotations
from ecoseg.formats._importing import read_annotations

__all__ = ["prompts_from_file", "to_prompts"]


def to_prompts(ann: Annotations, *, frames: Any = None) -> Any:
    """SAM 2 prompts from annotations: a mask prompt where there is a mask or polygon, else
    a box prompt, on every annotated frame (or only ``frames``); each object's class is the
    annotation's class (species).

    Returns
    -------
    ecoseg.prompts.Prompts

    Raises
    ------
    FormatError
        No annotation on the chosen frames.
    ConfigError
        ``frames`` is no list of whole frame numbers, or names a frame the video does not have
        (frames are the video's, counted from 0, whatever the file's numbering).
    TypeError
        ``ann`` is not :class:`Annotations` (a file: read it with :func:`read_annotations`).

    Examples
    --------
    >>> from ecoseg.formats import Annotations, Instance, Track
    >>> ann = Annotations(width=64, height=48, n_frames=3, tracks=(Track(4, "grouper"),),
    ...                   instances=(Instance(frame=1, track=4, box=(5, 6, 20, 30)),))
    >>> p = to_prompts(ann)
    >>> p.classes(), p.frames(), p.at(1)[0][1].box.tolist()
    ({4: 'grouper'}, [1], [5.0, 6.0, 20.0, 30.0])
    """
    from ecoseg.formats._painting import rasterize
    from ecoseg.prompts import Prompts

    if not isinstance(ann, Annotations):  # the file itself: an AttributeError on .instances
        raise TypeError(
            "to_prompts: ann must be annotations read with read_annotations(path, format, "
            f"video), got {short_repr(ann)}"
        )
    try:
        if isinstance(frames, str | bytes):  # "12" is no list of frames 1 and 2
            raise TypeError(frames)
        wanted = None if frames is None else {whole_number(f) for f in frames}
    except (TypeError, ValueError):  # no list (5); a fraction (0.5 was frame 0)
        raise ConfigError(
            f"to_prompts: frames must be a list of frame numbers, got {short_repr(frames)}"
        ) from None
    n = ann.n_frames
    outside = sorted(f for f in wanted or () if not 0 <= f < n)
    if outside:  # they prompted on nothing, without a word
        numbered = f" (this file's frame {ann.first_frame} is frame 0)" if ann.first_frame else ""
        raise ConfigError(
            f"{ann.source or 'to_prompts'}: prompt frames {', '.join(map(str, outside[:5]))}"
            f"{' ...' if len(outside) > 5 else ''} are not frames of the video ({n} frames, "
            f"0..{n - 1}): give the video's frame numbers, counted from 0{numbered}"
        )
    shapes = []
    for inst in ann.instances:
        if wanted is not None and inst.frame not in wanted:
            continue
        if inst.rle is not None or inst.polygons:
            mask = rasterize(inst, ann.height, ann.width)
            if mask.any():
                shapes.append((inst.track, inst.frame, None, mask))
                continue
        box = inst.bounds()
        if box is not None:
            shapes.append((inst.track, inst.frame, box, None))
    if not shapes:
        raise FormatError(f"{ann.source}: no boxes or masks to prompt with")
    try:
        return Prompts.from_shapes(shapes, ann.class_of())
    except PromptError as exc:  # e.g. classes "Fish" and "fish": name the file
        raise PromptError(f"{ann.source}: {exc}") from None


def prompts_from_file(
    path: str | os.PathLike,
    format: str,
    video: Any,
    *,
    frames: Any = None,
    align: str = "index",
) -> Any:
    """SAM 2 prompts from another tool's annotation file (see :func:`to_prompts`).

    Examples
    --------
    >>> import ecoseg, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=3, size=(64, 48))
    >>> f = ecoseg.export(clip.truth, "viame", os.path.join(d, "boxes.csv"))
    >>> p = prompts_from_file(f, "viame", clip.video, frames=[0])
    >>> p.frames()
    [0]
    """
    ann = read_annotations(path, format, video, align=align)
    return to_prompts(ann, frames=frames)
