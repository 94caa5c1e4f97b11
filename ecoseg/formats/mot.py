"""MOTChallenge 2D box text (``det.txt`` / tracker results / ``gt.txt``).

One line per object and frame, comma separated::

    <frame>,<id>,<bb_left>,<bb_top>,<bb_width>,<bb_height>,<conf>,<x>,<y>,<z>

Frames count from 1; boxes are in pixels (left, top, width, height); ``conf`` is the object's
score on the frame; the world coordinates ``x, y, z`` are -1. Written as a tracker result
file, which trackeval's ``MotChallenge2DBox`` reads. Classes are lost on that export.

``layout="gt"`` (``--mot-layout gt``) writes the 9-column ground-truth layout instead::

    <frame>,<id>,<bb_left>,<bb_top>,<bb_width>,<bb_height>,1,<class>,1

(``conf`` the flag 1: to be considered; visibility 1), with the class names in
``labels.txt`` beside the file, one per line, class 1 first (as CVAT's and Datumaro's "MOT
1.1" export writes them; an ``"unknown"`` object is class -1). The import reads them back
(below); scores are lost there, as the ground-truth layout has no score column.

Read: 6 to 10 columns, separated by commas (spaces after them allowed) or, where a file has no
comma, by spaces or tabs (as trackeval's and motmetrics' readers take them). The 9-column
ground-truth layout (``gt.txt``: ``conf`` flag, class, visibility) is read as the benchmark
reads it: a row with ``conf`` 0 is ignored, and the class column names the object's class:
line ``class`` of a ``labels.txt`` beside the file (as CVAT's and Datumaro's "MOT 1.1" export
writes it, one name per line), else ``"class_<class>"``; objects of other files, and of class
-1 or 0, are ``"unknown"``. Track id -1 marks a box without a track (MOTChallenge's
``det.txt``, CVAT's export of a single shape): each such row is an object of its own, as a
COCO annotation without a track id is; a file mixing them with tracked rows is refused, naming
the first of each. In such rows ``conf`` is the detector's own score, read as it is: MOT17's
public detections carry raw detector scores (DPM's unbounded, negative ones too; SDP's and
Faster R-CNN's in [0, 1]), so no range is asked of it (a NaN is refused), while a store holds
probabilities only (:func:`~ecoseg.formats._stores.write_store` refuses one outside [0, 1]).
Tracked rows' ``conf`` is a score in [0, 1]. A comma ending every row makes no column of its
own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Annotations, Instance, Track, file_annotations
from ecoseg.formats._files import read_table, read_text
from ecoseg.formats._values import integer, number, positive_id, probability

NAME = "mot"
KIND = "box"
TIMES = False
SUFFIX = ".txt"
#: The class names of a ground-truth file, beside it.
LABELS = "labels.txt"
#: The layouts the export writes: a tracker result (10 columns) or ground truth (9, classes).
LAYOUTS = ("tracker", "gt")


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
    head: Annotations,
    frames: Iterable[tuple[int, list[Instance]]],
    path: Path,
    layout: str = "tracker",
) -> None:
    """Write the boxes of ``frames`` (``(frame, instances)`` in frame order) as a MOTChallenge
    text file, frame by frame (``head``: the annotations' size and objects), in the tracker
    result ``layout`` or the ground-truth one (``"gt"``: each object's class index among
    :func:`label_names`, whose ``labels.txt`` the caller writes)."""
    index = {name: k for k, name in enumerate(label_names(head), 1)}
    classes = {t.id: index.get(t.class_, -1) for t in head.tracks}
    with open(path, "w", encoding="utf-8") as fh:
        for _, items in frames:
            for inst in items:
                values = row(inst)
                if layout == "gt":
                    values = [*values[:6], 1, classes.get(inst.track, -1), 1]
                fh.write(",".join(_fmt(v) for v in values) + "\n")


def label_names(head: Annotations) -> list[str]:
    """The lines of the ``labels.txt`` of a ground-truth export: the class names of ``head``'s
    objects, sorted, ``"unknown"`` aside (class -1); FormatError for a name a line cannot hold.

    Examples
    --------
    >>> label_names(Annotations(8, 8, 1, tracks=(Track(1, "goby"), Track(2, "unknown"),
    ...     Track(3, "crab"))))
    ['crab', 'goby']
    """
    names = [c for c in head.classes if c != "unknown"]
    for name in names:
        if name != name.strip() or "\n" in name or "\r" in name:
            raise FormatError(
                f"{head.source}: class {name!r} cannot be a line of {LABELS} (spaces at its "
                "ends or a line break); rename it (ecoseg edit --set-class)"
            )
    return names


def read(path: Path, *, width: int, height: int) -> Annotations:
    """Read a MOTChallenge box file."""
    table = read_table(path, ",")
    if len(table) and table.shape[1] == 2:  # no comma: spaces or tabs between the fields
        table = read_table(path, " ")
    ncol = table.shape[1] - 1
    while ncol > 6 and len(table) and (table[ncol - 1].str.strip() == "").all():
        ncol -= 1  # a comma ending every row (some writers add one): no column of its own
    if len(table) and ncol < 6:
        line = int(table["line"].iloc[0])
        raise FormatError(f"{path}: line {line}: expected at least 6 comma-separated values")
    gt = ncol == 9
    names = _label_names(path) if gt else None
    tracks: dict[int, Track] = {}
    instances = []
    tracked: list[str] = []  # where the rows with and without a track id are
    untracked: list[str] = []
    for row in table.itertuples(index=False):
        where = f"line {row.line}"
        w = f"{path}: {where}"
        if sum(1 for v in row[:ncol] if v != "") < 6:
            raise FormatError(f"{w}: expected at least 6 comma-separated values")
        frame = integer(row[0], w, "frame")
        if frame < 1:
            raise FormatError(f"{w}: frame {row[0]} (MOT frames count from 1)")
        untracked_row = integer(row[1], w, "object id") == -1
        oid = None if untracked_row else positive_id(row[1], w)
        left, top, bw, bh = (number(v, w, "box value") for v in row[2:6])
        if bw <= 0 or bh <= 0:
            raise FormatError(f"{w}: box width and height must be positive, got {bw:g}x{bh:g}")
        conf = number(row[6], w, "conf") if ncol > 6 and row[6] != "" else None
        if gt and conf == 0:
            continue  # ground truth: not to be considered
        score = None  # ground truth: conf is a flag; -1: no score (the format's blank)
        if not gt and conf is not None and conf != -1:  # det.txt: the detector's own score
            score = conf if untracked_row else probability(row[6], w, "conf")
        (untracked if untracked_row else tracked).append(where)
        cls = _class_name(row[7], names, path, w) if gt else "unknown"
        instances.append(
            Instance(
                frame=frame - 1,
                track=-1 if oid is None else oid,
                box=(left, top, left + bw, top + bh),
                score=score,
                where=where,
            )
        )
        if oid is not None and tracks.setdefault(oid, Track(oid, cls)).class_ != cls:
            raise FormatError(f"{w}: track {oid} is '{cls}' here but '{tracks[oid].class_}' before")
        if oid is None:
            tracks[-len(untracked)] = Track(-len(untracked), cls)  # numbered below
    if tracked and untracked:
        raise FormatError(
            f"{path}: {untracked[0]} has track id -1 (a box without a track) but "
            f"{len(tracked)} rows have a track ({tracked[0]} first): a file's rows all have a "
            "track id or none (an untracked box cannot be told from a tracked animal whose id "
            "was lost)"
        )
    if untracked:  # each box an object of its own, numbered from 1 in file order
        classes = [tracks[-k].class_ for k in range(1, len(untracked) + 1)]
        tracks = {k: Track(k, cls) for k, cls in enumerate(classes, 1)}
        instances = [replace(inst, track=k) for k, inst in enumerate(instances, 1)]
    return file_annotations(path, width, height, tracks.values(), instances, first_frame=1)


def check_syntax(path: Path) -> None:
    """Refuse a malformed file without the video (a MOT file needs no size to be read):
    :func:`~ecoseg.formats.read_annotations` names it before a video that cannot be opened."""
    read(path, width=0, height=0)


def _label_names(path: Path) -> list[str] | None:
    """The class names of a ``labels.txt`` beside a ground-truth file (one per line, class 1
    first, as CVAT's and Datumaro's MOT export writes it), None when there is none."""
    labels = path.parent / LABELS
    if not labels.is_file() or labels == path:
        return None
    return [line.strip() for line in read_text(labels, "labels file").splitlines()]


def _class_name(value: str, names: list[str] | None, path: Path, where: str) -> str:
    """The class of a ground-truth row's class column: its line of ``labels.txt``, else
    ``class_<n>``; ``"unknown"`` for -1 or 0 (no class).

    Examples
    --------
    >>> _class_name("2", ["crab", "goby"], Path("gt.txt"), "gt.txt: line 1")
    'goby'
    >>> _class_name("7", None, Path("gt.txt"), "gt.txt: line 1")
    'class_7'
    >>> _class_name("-1", ["crab"], Path("gt.txt"), "gt.txt: line 1")
    'unknown'
    """
    cid = integer(value, where, "class")
    if cid <= 0:
        return "unknown"
    if names is None:
        return f"class_{cid}"
    if cid > len(names) or not names[cid - 1]:
        raise FormatError(
            f"{where}: class {cid} has no name in {path.parent / 'labels.txt'} ({len(names)} lines)"
        )
    return names[cid - 1]
