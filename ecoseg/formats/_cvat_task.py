"""The frames of a CVAT task, for both CVAT readers (video and images).

A CVAT task made from part of a video (``<start_frame>``, ``<stop_frame>``) or from every N-th
frame (``<frame_filter>step=N</frame_filter>``) shows the annotator the video frames
``start_frame + k * N``, ``k = 0 .. size - 1`` (:class:`TaskFrames`, read from ``<meta>`` by
:func:`task_frames`; in a project export, from the task its tracks name:
:func:`project_task`). :func:`deleted_frames` finds the task frames deleted in CVAT, as far
as an export shows them. The reader is :mod:`ecoseg.formats.cvat`, whose docstring tells the
whole story.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from ecoseg._checks import frame_list
from ecoseg.errors import FormatError
from ecoseg.formats._values import integer
from ecoseg.provenance import AnnotatedFrames


class TaskFrames:
    """The video frames a CVAT task shows: ``start + k * step`` for ``k = 0 .. size - 1``.

    ``size`` None: the file does not say how many (no ``<size>`` nor ``<stop_frame>``).

    Examples
    --------
    >>> f = TaskFrames(start=100, step=5, size=3, setting="start_frame 100, step=5")
    >>> [f.contains(t) for t in (100, 103, 110, 115)], f.last
    ([True, False, True, False], 110)
    """

    def __init__(self, start: int, step: int, size: int | None, setting: str):
        self.start, self.step, self.size, self.setting = start, step, size, setting

    @property
    def last(self) -> int | None:
        """The last task frame (a video frame number), None if the size is unknown."""
        return None if self.size is None else self.start + (self.size - 1) * self.step

    def annotated(self, deleted: tuple[int, ...] = ()) -> AnnotatedFrames:
        """The task frames as a store's provenance records them (less ``deleted``)."""
        return AnnotatedFrames(start=self.start, step=self.step, count=self.size, deleted=deleted)

    def contains(self, frame: int) -> bool:
        """Whether the video frame ``frame`` is a frame of the task."""
        k, r = divmod(frame - self.start, self.step)
        return r == 0 and k >= 0 and (self.size is None or k < self.size)

    def refusal(self, frame: int) -> str:
        """Why a shape on ``frame`` cannot be placed (it is no frame of the task)."""
        k, r = divmod(frame - self.start, self.step)
        if r == 0 and k >= 0:
            return f"frame {frame} is past the end of the task (its last frame is {self.last})"
        if self.last is None:  # the size is unknown
            frames = ", ".join(str(self.start + k * self.step) for k in range(3)) + ", ..."
        else:
            frames = frame_list(range(self.start, self.last + 1, self.step))
        return f"frame {frame} is not a frame of the task ({self.setting}: video frames {frames})"


def task_frames(task: ET.Element | None, path: Path) -> TaskFrames:
    """The task frames of ``<meta><task>`` (or ``<job>``): start_frame, frame_filter, size.

    CVAT writes ``<size>`` and ``<stop_frame>`` from one frame range (``size`` frames from
    ``start_frame`` every ``step``, the last at most ``stop_frame``): a file where they
    disagree is refused, naming both (before, ``<size>`` was taken without a word), as the
    task's frames (which the store records as annotated) cannot be told.

    Examples
    --------
    >>> meta = ET.fromstring("<task><size>4</size><start_frame>10</start_frame><stop_frame>"
    ...                      "29</stop_frame><frame_filter>step=5</frame_filter></task>")
    >>> task_frames(meta, Path("a.xml")).last
    25
    >>> meta.find("size").text = "5"
    >>> task_frames(meta, Path("a.xml"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.xml: <meta>: <size> 5 disagrees with <stop_frame> 29 (which ...
    """
    if task is None:
        return TaskFrames(0, 1, None, "no <meta>")
    where = f"{path}: <meta>"
    start = integer(task.findtext("start_frame") or "0", where, "start_frame")
    if start < 0:
        raise FormatError(f"{where}: <start_frame> {start} is negative")
    text = (task.findtext("frame_filter") or "").strip()
    step = 1
    if text:
        key, _, value = text.partition("=")
        if key.strip() != "step":
            raise FormatError(
                f"{where}: <frame_filter> '{text}' is not understood (CVAT writes 'step=N')"
            )
        step = integer(value.strip(), where, "frame_filter step")
        if step < 1:
            raise FormatError(f"{where}: <frame_filter> '{text}': the step must be at least 1")
    size = stop = None
    if task.findtext("stop_frame"):
        stop = integer(task.findtext("stop_frame"), where, "stop_frame")
        size = max(0, (stop - start) // step + 1)
    if task.findtext("size"):
        given = integer(task.findtext("size"), where, "size")
        if stop is not None and given != size:  # CVAT writes both from one frame range
            raise FormatError(
                f"{where}: <size> {given} disagrees with <stop_frame> {stop} (which makes "
                f"{size} task frames from <start_frame> {start}, step {step}): the file was "
                "edited or cut; export the task from CVAT again, or make them agree"
            )
        size = given
    parts = [f"<start_frame> {start}"] if start else []
    parts += [f"<frame_filter> step={step}"] if step != 1 else []
    return TaskFrames(start, step, size, ", ".join(parts) or "the task's frames")


def project_task(root: ET.Element, tracks: list[ET.Element], path: Path) -> ET.Element | None:
    """The ``<task>`` of a CVAT project export (``<meta><project><tasks>``) whose tracks the
    file holds (their ``task_id``), or its only task; None when neither says which.

    A project export holds the tracks of every task of the project, each task a video of its
    own with its own frame numbers: a file with tracks of several tasks is refused, naming
    them (they would be laid over each other on one video).
    """
    ids = list(dict.fromkeys(t.get("task_id") for t in tracks if t.get("task_id") is not None))
    if len(ids) > 1:
        named = ", ".join(ids[:5]) + (", ..." if len(ids) > 5 else "")
        raise FormatError(
            f"{path}: a CVAT project export with the tracks of {len(ids)} tasks (task_id "
            f"{named}); a store is one video: export the task of that video instead"
        )
    tasks = root.findall("meta/project/tasks/task")
    if ids:
        return next((t for t in tasks if (t.findtext("id") or "").strip() == ids[0]), None)
    return tasks[0] if len(tasks) == 1 else None


def deleted_frames(path: Path, frames: TaskFrames, tracks: list[tuple]) -> tuple[int, ...]:
    """The task frames deleted in CVAT, as far as an export shows them.

    ``tracks``: ``(shapes, every)`` per track (``shapes``: the reader's ``(frame, outside,
    geometry, score, where, ...)`` of each shape, by frame; ``every``: the track has
    interpolated shapes, ``keyframe="0"``). CVAT's XML does not list deleted frames; its export
    leaves them out. A dataset export (``annotations.xml`` beside ``images/``) has no
    ``images/frame_NNNNNN.*`` file for a deleted frame: every task frame without one is
    deleted (a visible shape on one is refused). CVAT writes an interpolated track on every
    task frame from its first shape to its ``outside="1"`` shape or the end of the task, less
    the deleted frames: a task frame missing inside such a stretch that no track has a shape
    on is deleted. Other deleted frames cannot be told from empty ones.
    """
    gone: set[int] = set()
    images = path.parent / "images"
    named: set[int] = set()
    if images.is_dir():
        for p in images.iterdir():
            m = re.fullmatch(r"frame_(\d+)", p.stem)
            if m and p.is_file():
                named.add(int(m.group(1)))
    if named and frames.size is not None:
        gone = {t for t in range(frames.start, frames.last + 1, frames.step) if t not in named}
        for shapes, _ in tracks:
            for frame, outside, _, _, where, *_ in shapes:
                if frame in gone and not outside:
                    raise FormatError(
                        f"{path}: {where}: frame {frame} has no image in {images} (CVAT leaves "
                        "out the images of deleted frames), but a shape lies on it"
                    )
    gaps: set[int] = set()
    for shapes, every in tracks:
        for k, (frame, outside, *_) in enumerate(shapes):
            if not every or outside:
                continue
            if k + 1 < len(shapes):
                end = shapes[k + 1][0]
            elif frames.last is not None:
                end = frames.last + frames.step
            else:
                continue
            gaps.update(range(frame + frames.step, end, frames.step))
    shaped = {s[0] for shapes, _ in tracks for s in shapes}
    return tuple(sorted(gone | (gaps - shaped)))
