"""MOTS text (MOTSChallenge / KITTI MOTS): one RLE mask per object and frame.

One line per object and frame, space separated::

    <frame> <id> <class_id> <img_height> <img_width> <rle>

``rle`` is COCO's compressed RLE string (pycocotools); masks of one frame do not overlap.
Frames count from 1 (MOTSChallenge; KITTI MOTS counts from 0: read it with
``first_frame=0``). ``class_id`` is the 1-based index of the object's class in the sorted
class names, skipping 10 (the tenth class is 11, ...): class 10 marks MOTS's "ignore" regions,
and rows with class 10 are skipped on import. The names themselves and the scores are not
part of the format and are lost on export; imported objects are named ``"class_<class_id>"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from ecoseg.errors import FormatError
from ecoseg.formats import coco
from ecoseg.formats._annotation_model import Annotations, Instance, Track, file_annotations
from ecoseg.formats._files import read_table
from ecoseg.formats._rle import check_rle
from ecoseg.formats._values import integer, positive_id, size_differs

NAME = "mots"
KIND = "mask"
TIMES = False
SUFFIX = ".txt"
IGNORE_CLASS = 10


def class_ids(ann: Annotations) -> dict[str, int]:
    """``class_id`` of each class: 1-based in sorted name order, never the ignore class 10.

    Examples
    --------
    >>> ann = Annotations(8, 8, 1, tracks=tuple(Track(k, f"sp{k:02d}") for k in range(1, 12)))
    >>> list(class_ids(ann).values())
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12]
    """
    return {
        name: cid if cid < IGNORE_CLASS else cid + 1 for name, cid in coco.categories(ann).items()
    }


def write(ann: Annotations, path: Path) -> None:
    """Write ``ann``'s masks as a MOTS text file."""
    write_frames(ann, ann.frames(), path)


def write_frames(
    head: Annotations, frames: Iterable[tuple[int, list[Instance]]], path: Path
) -> None:
    """Write the masks of ``frames`` (``(frame, instances)`` in frame order) as a MOTS text
    file, frame by frame (``head``: the annotations' size and object classes)."""
    cats = class_ids(head)
    classes = head.class_of()
    size = f"{head.height} {head.width}"
    with open(path, "w", encoding="utf-8") as fh:
        for _, items in frames:
            fh.writelines(
                f"{inst.frame + 1} {inst.track} {cats[classes[inst.track]]} {size} "
                f"{inst.rle['counts']}\n"
                for inst in items
            )


def check_syntax(path: Path) -> None:
    """Refuse a malformed file without the video (each row's image size is checked against
    the video's afterwards): :func:`~ecoseg.formats.read_annotations` names it before a video
    that cannot be opened. Frames are taken as counting from 0 here (a file counted from 1 has
    no frame 0; ``first_frame`` is checked with the video)."""
    read(path, width=None, height=None, first_frame=0)


def read(path: Path, *, width: int, height: int, first_frame: int = 1) -> Annotations:
    """Read a MOTS text file."""
    table = read_table(path, " ")
    tracks: dict[int, Track] = {}
    instances = []
    for row in table.itertuples(index=False):
        where = f"line {row.line}"
        w = f"{path}: {where}"
        fields = [v for v in row[:-1] if v != ""]
        if len(fields) != 6:
            raise FormatError(f"{w}: expected 6 space-separated values, got {len(fields)}")
        frame = integer(fields[0], w, "frame") - first_frame
        if frame < 0:
            raise FormatError(f"{w}: frame {fields[0]} is before the first frame ({first_frame})")
        cls = integer(fields[2], w, "class_id")
        if cls == IGNORE_CLASS:
            continue
        oid = positive_id(fields[1], w)
        h, wd = integer(fields[3], w, "img_height"), integer(fields[4], w, "img_width")
        if height is not None and (h, wd) != (height, width):  # None: check_syntax's
            raise size_differs(w, f"image size {wd}x{h}", width, height)
        name = f"class_{cls}"
        if tracks.setdefault(oid, Track(oid, name)).class_ != name:
            raise FormatError(f"{w}: object {oid} changes class to {cls}")
        check_rle(fields[5], h, wd, w)  # refused now, not after a store is replaced
        instances.append(
            Instance(
                frame=frame, track=oid, rle={"size": [h, wd], "counts": fields[5]}, where=where
            )
        )
    return file_annotations(
        path, width, height, tracks.values(), instances, first_frame=first_frame
    )
