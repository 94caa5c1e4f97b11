"""MOTChallenge 2D box text (``det.txt`` / tracker results / ``gt.txt``).

One line per object and frame, comma separated::

    <frame>,<id>,<bb_left>,<bb_top>,<bb_width>,<bb_height>,<conf>,<x>,<y>,<z>

Frames count from 1; boxes are in pixels (left, top, width, height); ``conf`` is the object's
score on the frame; the world coordinates ``x, y, z`` are -1. Written as a tracker result
file, which trackeval's ``MotChallenge2DBox`` reads. Read: 6 to 10 columns (``gt.txt``'s
``conf`` flag, class and visibility columns are accepted; a row with ``conf`` 0 in a
9-column ground-truth file is ignored, as the benchmark does). Classes are not part of the
format: they are lost on export, and imported objects are ``"unknown"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Annotations, Instance, Track, file_annotations
from ecoseg.formats._files import read_table
from ecoseg.formats._values import integer, number, positive_id

NAME = "mot"
KIND = "box"
TIMES = False
SUFFIX = ".txt"


def rows(ann: Annotations) -> list[list]:
    """The rows (frame 1-based, id, left, top, width, height, conf, -1, -1, -1)."""
    return [row(inst) for inst in ann.instances]


def row(inst: Instance) -> list:
    """The row of one instance (frame 1-based, id, left, top, width, height, conf, -1, -1, -1).

    Examples
    --------
    >>> ",".join(_fmt(v) for v in row(Instance(0, 7, box=(10.0, 20.0, 40.5, 60.0), score=0.9)))
    '1,7,10,20,30.5,40,0.9,-1,-1,-1'
    """
    x0, y0, x1, y1 = inst.bounds()
    score = 1.0 if inst.score is None else inst.score
    return [inst.frame + 1, inst.track, x0, y0, x1 - x0, y1 - y0, score, -1, -1, -1]


def _fmt(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def write(ann: Annotations, path: Path) -> None:
    """Write ``ann``'s boxes as a MOTChallenge text file."""
    write_frames(ann, ann.frames(), path)


def write_frames(
    head: Annotations, frames: Iterable[tuple[int, list[Instance]]], path: Path
) -> None:
    """Write the boxes of ``frames`` (``(frame, instances)`` in frame order) as a MOTChallenge
    text file, frame by frame (``head``: the annotations' size and objects)."""
    with open(path, "w", encoding="utf-8") as fh:
        for _, items in frames:
            fh.writelines(",".join(_fmt(v) for v in row(inst)) + "\n" for inst in items)


def read(path: Path, *, width: int, height: int) -> Annotations:
    """Read a MOTChallenge box file."""
    table = read_table(path, ",")
    ncol = table.shape[1] - 1
    if len(table) and ncol < 6:
        line = int(table["line"].iloc[0])
        raise FormatError(f"{path}: line {line}: expected at least 6 comma-separated values")
    gt = ncol == 9
    tracks = {}
    instances = []
    for row in table.itertuples(index=False):
        where = f"line {row.line}"
        w = f"{path}: {where}"
        if sum(1 for v in row[:ncol] if v != "") < 6:
            raise FormatError(f"{w}: expected at least 6 comma-separated values")
        frame = integer(row[0], w, "frame")
        if frame < 1:
            raise FormatError(f"{w}: frame {row[0]} (MOT frames count from 1)")
        oid = positive_id(row[1], w)
        left, top, bw, bh = (number(v, w, "box value") for v in row[2:6])
        if bw <= 0 or bh <= 0:
            raise FormatError(f"{w}: box width and height must be positive, got {bw:g}x{bh:g}")
        if left >= width or top >= height or left + bw <= 0 or top + bh <= 0:
            raise FormatError(
                f"{w}: box ({left:g}, {top:g}, {bw:g}, {bh:g}) lies outside the "
                f"{width}x{height} frame"
            )
        conf = number(row[6], w, "conf") if ncol > 6 and row[6] != "" else None
        if gt and conf == 0:
            continue  # ground truth: not to be considered
        tracks[oid] = Track(oid)
        instances.append(
            Instance(
                frame=frame - 1,
                track=oid,
                box=(left, top, left + bw, top + bh),
                score=None if gt or conf is None or conf < 0 else conf,
                where=where,
            )
        )
    return file_annotations(path, width, height, tracks.values(), instances)
