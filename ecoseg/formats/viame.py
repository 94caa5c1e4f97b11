"""VIAME CSV, the detection and track format VIAME and DIVE read and write.

One line per object and frame, comma separated (VIAME's "detection file conversions" spec)::

    1: track id, 2: video timestamp or image name, 3: frame (from 0),
    4-7: TL_x, TL_y, BR_x, BR_y, 8: detection confidence, 9: target length (-1: none),
    10, 11, ...: species, confidence pairs, then optional fields such as
    "(poly) x1 y1 x2 y2 ..." (a polygon), "(atr) name value", "(kp) head x y"

Lines starting with ``#`` are comments (the column header and DIVE's ``# metadata`` line).
Written: field 2 is the frame's time from the video's timestamps as ``HH:MM:SS.ffffff`` (what
DIVE writes for videos), field 8 the object's score on the frame (the store's per-frame
score), one species pair (the object's class with its class probability) and, with
``polygons=True``, the outline of the object's largest part as ``(poly)``. An object without a
class probability (a prompt's class, a truth's) has the species confidence 1, as DIVE writes a
class a person gave, and the track attribute ``(trk-atr) class_probability none`` (ecoseg's;
DIVE keeps a track attribute), so it reads back without one. The object's class source is
the track attribute ``(trk-atr) class_source classified`` (ecoseg's, where the store has one),
and its reviewed flag, where the class source does not say it
(:attr:`~ecoseg.formats._annotation_model.Track.reviewed`), ``(trk-atr) reviewed false``;
each is on every row of the object, as DIVE writes a track attribute. Boxes are pixel edges: a mask
covering columns 10..19 has TL_x 10 and BR_x 20. Read: field 8 is the object's score on the
frame; the object's class is its species of highest confidence, and that confidence its class
probability (none where a row of its track says ``(trk-atr) class_probability none``); its
class source and reviewed flag those of its rows' ``(trk-atr) class_source`` and
``(trk-atr) reviewed`` (one value of each per object, a second one refused, as is a source not
of :data:`~ecoseg.provenance.CLASS_SOURCES` and a flag not true or false), else none (a file
DIVE or another tool wrote: the object records no class source); a
``(poly)`` polygon, when given, is the mask, else the box is.
Spaces around a field are CSV padding (a hand-edited ``1, 0, ..., grouper, 0.9``): species
names are read without them, and a class that begins or ends with spaces is refused by the
export, so a species reads back as it was written. Confidences are scores in [0, 1] (field 8
may also be -1, the format's blank): any other, of field 8 or of a species pair, is refused.
An attribute whose value holds a comma is one field in double quotes, as DIVE writes it: a
comma outside quotes splits it, and the rest, which is no species with a confidence, is refused
as such (naming the attribute). VIAME numbers tracks from 0: when a file has a track 0 every
id is shifted by 1. Field 2 gives times for ``align="time"`` when it is a ``HH:MM:SS.f`` time
stamp; aligned by time, one meant as a stamp but malformed (``00:99:00``, ``00:01:75.000``) is
refused as such.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ecoseg._version import __version__
from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Annotations, Instance, Track, file_annotations
from ecoseg.formats._files import read_table
from ecoseg.formats._rle import decode_rle
from ecoseg.formats._values import class_source, flag, integer, number, positive_id, probability

NAME = "viame"
KIND = "box"
TIMES = True
SUFFIX = ".csv"

HEADER = (
    "# 1: Detection or Track-id,2: Video or Image Identifier,3: Unique Frame Identifier,"
    "4-7: Img-bbox(TL_x,TL_y,BR_x,BR_y),8: Detection or Length Confidence,"
    "9: Target Length (0 or -1 if invalid),10-11+: Repeated Species,"
    "Confidence Pairs or Attributes"
)
_STAMP = re.compile(r"^(\d+):([0-5]\d):([0-5]?\d(?:\.\d*)?)$")
#: a field 2 meant as a time stamp (digits, ':' and '.'), well-formed or not
_STAMP_LIKE = re.compile(r"[\d.:]*\d:[\d.:]*")
#: the track attribute of an object without a class probability (its species confidence 1
#: is no classifier's probability)
NO_PROBABILITY = "(trk-atr) class_probability none"
#: the track attributes of an object's class source and reviewed flag (ecoseg's)
SOURCE, REVIEWED = "class_source", "reviewed"


def timestamp(seconds: float) -> str:
    """``HH:MM:SS.ffffff`` of a time in seconds.

    Examples
    --------
    >>> timestamp(3725.25)
    '01:02:05.250000'
    """
    micro = int(round(seconds * 1e6))
    h, rest = divmod(micro, 3600 * 10**6)
    m, rest = divmod(rest, 60 * 10**6)
    s, us = divmod(rest, 10**6)
    return f"{h:02d}:{m:02d}:{s:02d}.{us:06d}"


def parse_timestamp(text: str) -> float | None:
    """Seconds of a ``HH:MM:SS.f`` stamp, None for anything else (an image name, or a stamp
    whose minutes or seconds are 60 or more, such as ``00:01:75.000``).

    Examples
    --------
    >>> parse_timestamp("00:01:15.5")
    75.5
    >>> parse_timestamp("00:01:75.000") is None
    True
    """
    match = _STAMP.match(text.strip())
    if not match:
        return None
    return int(match[1]) * 3600 + int(match[2]) * 60 + float(match[3])


def outline(mask: np.ndarray) -> np.ndarray | None:
    """Polygon ``(x, y)`` (pixel edges) around the largest part of a mask.

    The contour runs half way between object and background pixel centres, so the pixels
    whose centres lie inside it are those of the (hole-free) part.
    """
    from skimage.measure import find_contours

    padded = np.pad(mask, 1).astype(np.float32)
    contours = find_contours(padded, 0.5)
    if not contours:
        return None
    best = max(contours, key=lambda c: _area(c))
    # (row, col) in padded centre coordinates -> (x, y) in edge coordinates
    return np.stack([best[:, 1] - 0.5, best[:, 0] - 0.5], axis=1)


def _area(c: np.ndarray) -> float:
    y, x = c[:, 0], c[:, 1]
    return abs(float(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1)))) / 2


def rows(ann: Annotations, *, polygons: bool = False) -> list[list[str]]:
    """The data rows of ``ann`` (strings).

    Raises
    ------
    FormatError
        A class name starting with ``(``: VIAME and DIVE read such a field as an attribute
        (``(atr)``, ``(poly)``, ...), not as a species, so the file would lose it. A class name
        that begins or ends with spaces (or is empty): :func:`read` strips them as CSV padding
        while DIVE keeps them, so the species would not read back the same (and "fish" and
        "fish " would become one species in ecoseg).
    """
    check_classes(ann, {inst.track for inst in ann.instances})
    classes = ann.class_of()
    tracks = {t.id: t for t in ann.tracks}
    return [row(ann, inst, classes, polygons, tracks) for inst in ann.instances]


def unreadable_classes(ann: Annotations) -> set[int]:
    """The objects whose class VIAME CSV cannot hold as written: empty, with spaces at either
    end, or starting with ``(`` (see :func:`rows`)."""
    return {
        t.id
        for t in ann.tracks
        if not t.class_.strip() or t.class_ != t.class_.strip() or t.class_.startswith("(")
    }


def check_classes(ann: Annotations, objects) -> None:
    """Refuse the class of the lowest of ``objects`` (those with a mask) that VIAME CSV cannot
    hold as written (see :func:`rows`)."""
    classes = ann.class_of()
    for oid in sorted(set(objects) & unreadable_classes(ann)):
        name = classes[oid]
        if not name.strip() or name != name.strip():
            raise FormatError(
                f"{ann.source}: object {oid}: class {name!r} "
                + ("is empty" if not name.strip() else "begins or ends with spaces")
                + ", which VIAME CSV readers do not agree on (ecoseg's import strips them as "
                "padding, DIVE keeps them); rename it first "
                f"(ecoseg edit --set-class {oid}=NAME)"
            )
        raise FormatError(
            f"{ann.source}: object {oid}: class '{name}' starts with '(', which "
            "VIAME and DIVE read as an attribute, not a species; rename it first "
            f"(ecoseg edit --set-class {oid}=NAME)"
        )


def row(
    ann: Annotations, inst: Instance, classes: dict, polygons: bool, tracks: dict[int, Track]
) -> list[str]:
    """The data row (strings) of one instance; ``classes``: :meth:`Annotations.class_of`,
    ``tracks``: each object's :class:`Track` by id. With ``polygons`` the ``(poly)`` field is
    there, empty where the instance has no outline.

    Examples
    --------
    >>> ann = Annotations(20, 10, 1, (Track(2, "crab"), Track(3, "goby", 0.25, "classified")))
    >>> tracks = {t.id: t for t in ann.tracks}
    >>> inst = Instance(frame=0, track=2, box=(1, 2, 5, 6), score=0.5, time=0.0)
    >>> ",".join(row(ann, inst, ann.class_of(), False, tracks))
    '2,00:00:00.000000,0,1,2,5,6,0.5,-1,crab,1,(trk-atr) class_probability none'
    >>> inst = Instance(frame=0, track=3, box=(1, 2, 5, 6), score=0.5, time=0.0)
    >>> ",".join(row(ann, inst, ann.class_of(), False, tracks))
    '3,00:00:00.000000,0,1,2,5,6,0.5,-1,goby,0.25,(trk-atr) class_source classified'
    """
    x0, y0, x1, y1 = inst.bounds()
    score = 1.0 if inst.score is None else inst.score
    time = inst.time if inst.time is not None else ann.time_of(inst.frame)
    track = tracks.get(inst.track, Track(inst.track))
    species_conf = track.class_probability
    out = [
        str(inst.track),
        timestamp(time) if time is not None else f"frame_{inst.frame:06d}",
        str(inst.frame),
        *(_num(v) for v in (x0, y0, x1, y1)),
        _num(score),
        "-1",
        classes[inst.track],
        _num(1.0 if species_conf is None else species_conf),
    ]
    if polygons:
        poly = None
        if inst.rle is not None:
            poly = outline(decode_rle(inst.rle, ann.height, ann.width, inst.where))
        out.append(
            "" if poly is None else "(poly) " + " ".join(_num(round(v, 2)) for v in poly.ravel())
        )
    if species_conf is None:
        out.append(NO_PROBABILITY)
    if track.class_source is not None:
        out.append(f"(trk-atr) {SOURCE} {track.class_source}")
    if track.reviewed is not None:
        out.append(f"(trk-atr) {REVIEWED} {str(track.reviewed).lower()}")
    return out


def _num(value: float) -> str:
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(value)


def write(ann: Annotations, path: Path, *, polygons: bool = False, fps=None) -> None:
    """Write ``ann`` as a VIAME CSV (readable by DIVE)."""
    write_frames(ann, ann.frames(), path, polygons=polygons, fps=fps)


def write_frames(
    head: Annotations,
    frames: Iterable[tuple[int, list[Instance]]],
    path: Path,
    *,
    polygons: bool = False,
    fps=None,
) -> None:
    """Write the boxes of ``frames`` (``(frame, instances)`` in frame order) as a VIAME CSV,
    frame by frame (``head``: the annotations' size, objects and times). With ``polygons``
    every row has the ``(poly)`` field (empty where an instance has no outline).

    Raises
    ------
    FormatError
        An object with a mask has a class VIAME CSV cannot hold (see :func:`rows`); the
        lowest such object is named, so the refusal may come once every frame is written
        (the caller discards the file).
    """
    import csv

    import pandas as pd

    meta = ["# metadata"]
    if fps:
        meta.append(f"Fps: {fps:g}")
    meta.append(f'exported_by: "ecoseg {__version__}"')
    classes = head.class_of()
    unreadable = unreadable_classes(head)
    found: set[int] = set()
    tracks = {t.id: t for t in head.tracks}
    with open(path, "w", encoding="utf-8") as fh:  # DIVE reads UTF-8, whatever the locale
        fh.write(HEADER + "\n" + pd.DataFrame([meta]).to_csv(header=False, index=False))
        out = csv.writer(fh, lineterminator="\n")  # as pandas' to_csv quotes and ends rows
        for _, items in frames:
            for inst in items:
                out.writerow(row(head, inst, classes, polygons, tracks))
                if inst.track in unreadable:
                    found.add(inst.track)
                    if inst.track == min(unreadable):  # no lower one to name: refuse now
                        check_classes(head, found)
    check_classes(head, found)


def read(path: Path, *, width: int, height: int, times: bool = False) -> Annotations:
    """Read a VIAME CSV. With ``times`` (the file aligned by time), a field 2 meant as a time
    stamp but malformed (``00:99:00``, ``00:01:75.000``) is refused, quoting it (before:
    ``has no time``)."""
    table = read_table(path, ",")
    ncol = table.shape[1] - 1
    records = []
    for row in table.itertuples(index=False):
        fields = list(row[:ncol])
        while fields and fields[-1] == "":
            fields.pop()
        w = f"{path}: line {row.line}"
        if len(fields) < 9:
            raise FormatError(f"{w}: expected at least 9 comma-separated fields, got {len(fields)}")
        tid = integer(fields[0], w, "track id (field 1)")
        if tid < 0:
            raise FormatError(f"{w}: track id {tid} is negative")
        frame = integer(fields[2], w, "frame (field 3)")
        if frame < 0:
            raise FormatError(f"{w}: frame {frame} is negative (VIAME frames count from 0)")
        x0, y0, x1, y1 = (number(fields[k], w, f"box field {k + 1}") for k in range(3, 7))
        if not (x0 < x1 and y0 < y1):
            raise FormatError(f"{w}: box ({x0:g}, {y0:g}, {x1:g}, {y1:g}) is empty or inverted")
        conf = None  # -1: no confidence (the format's blank)
        if fields[7].strip() and number(fields[7], w, "confidence (field 8)") != -1:
            conf = probability(fields[7], w, "confidence (field 8)")
        species: list[tuple[str, float]] = []
        polys = []
        unclassified = False  # ecoseg's mark of a track without a class probability
        marks: dict[str, object] = {}  # ecoseg's class source and reviewed flag, if given
        k = 9
        while k < len(fields):
            item = fields[k].strip()
            if item.startswith("("):
                if item.startswith("(poly)"):
                    polys.append(_polygon(item, w, k))
                unclassified |= " ".join(item.split()) == NO_PROBABILITY
                _class_mark(item, marks, f"{w}: field {k + 1}")
                k += 1
                continue
            if not item:
                raise FormatError(f"{w}: field {k + 1}: empty species name")
            if k + 1 >= len(fields) or fields[k + 1].strip().startswith("("):
                _refuse_split_attribute(fields, k, w)
                raise FormatError(
                    f"{w}: field {k + 1}: species '{item}' has no confidence (species and "
                    "confidence come in pairs from field 10)"
                )
            try:
                value = float(fields[k + 1])
            except ValueError:
                _refuse_split_attribute(fields, k, w)
                raise FormatError(
                    f"{w}: field {k + 2}: confidence '{fields[k + 1]}' of species '{item}' is "
                    "not a number (an unknown class column?)"
                ) from None
            # the class is the species of highest confidence: a percentage or a logit
            # (or NaN) would pick it wrongly, and a store's class probability is in [0, 1]
            value = probability(
                fields[k + 1], f"{w}: field {k + 2}: species '{item}'", "confidence"
            )
            species.append((item, value))
            k += 2
        time = parse_timestamp(fields[1])
        if times and time is None and _STAMP_LIKE.fullmatch(fields[1].strip()):
            raise FormatError(
                f"{w}: time stamp (field 2) '{fields[1].strip()}' is malformed: expected "
                "HH:MM:SS.ffffff (minutes and seconds 00..59)"
            )
        records.append(
            (
                tid,
                frame,
                (x0, y0, x1, y1),
                conf,
                species,
                tuple(polys),
                time,
                f"line {row.line}",
                unclassified,
                marks,
            )
        )
    shift = 1 if any(r[0] == 0 for r in records) else 0
    best: dict[int, tuple[float, str]] = {}
    unclassified_ids = set()
    given: dict[tuple[int, str], tuple[object, str]] = {}  # (object, mark) -> value, line
    instances = []
    for tid, frame, box, conf, species, polys, time, where, unclassified, marks in records:
        oid = positive_id(tid + shift, f"{path}: {where}")
        for name, value in marks.items():
            first = given.setdefault((oid, name), (value, where))
            if first[0] != value:
                raise FormatError(
                    f"{path}: {where}: (trk-atr) {name} {_shown(value)} of track {tid}, but "
                    f"{_shown(first[0])} at {first[1]}: one {name.replace('_', ' ')} per "
                    "object"
                )
        for name, value in species:
            if oid not in best or value > best[oid][0]:
                best[oid] = (value, name)
        best.setdefault(oid, (-np.inf, "unknown"))
        if unclassified:
            unclassified_ids.add(oid)
        instances.append(
            Instance(
                frame=frame,
                track=oid,
                box=box,
                polygons=polys,
                score=conf,
                time=time,
                where=where,
            )
        )
    # the species' confidence is its class probability (VIAME's "species, confidence" pair),
    # unless ecoseg marked the track as having none; field 8 is a score on the frame only
    tracks = [
        Track(
            oid,
            name,
            float(p) if np.isfinite(p) and oid not in unclassified_ids else None,
            given.get((oid, SOURCE), (None,))[0],  # type: ignore[arg-type]
            given.get((oid, REVIEWED), (None,))[0],  # type: ignore[arg-type]
        )
        for oid, (p, name) in best.items()
    ]
    return file_annotations(path, width, height, tracks, instances)


def check_syntax(path: Path) -> None:
    """Refuse a malformed file without the video (a VIAME CSV needs no size to be read):
    :func:`~ecoseg.formats.read_annotations` names it before a video that cannot be opened."""
    read(path, width=0, height=0)


def _class_mark(item: str, marks: dict, where: str) -> None:
    """Note a field's class source or reviewed flag (``(trk-atr) class_source classified``,
    ``(trk-atr) reviewed false``: ecoseg's track attributes) in ``marks``; other fields are
    left alone.

    Examples
    --------
    >>> marks = {}
    >>> _class_mark("(trk-atr) class_source  reviewed", marks, "a.csv: line 2: field 12")
    >>> _class_mark("(trk-atr) reviewed false", marks, "a.csv: line 2: field 13")
    >>> _class_mark("(atr) note coral", marks, "a.csv: line 2: field 14")
    >>> marks
    {'class_source': 'reviewed', 'reviewed': False}
    >>> _class_mark("(trk-atr) class_source model", marks, "a.csv: line 3: field 12")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.csv: line 3: field 12: class_source 'model' is not one of \
prompt, concept, reviewed, classified, rule, unknown
    """
    words = item.split(None, 2)
    if len(words) < 2 or words[0] != "(trk-atr)" or words[1] not in (SOURCE, REVIEWED):
        return
    value = words[2].strip() if len(words) > 2 else ""
    if words[1] == SOURCE:
        marks[SOURCE] = class_source(value, where)
    else:
        marks[REVIEWED] = flag(value, where, REVIEWED)


def _shown(value: object) -> str:
    """A class source or reviewed flag as an error shows it."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _refuse_split_attribute(fields: list[str], k: int, where: str) -> None:
    """FormatError when field ``k`` (0-based), which is no species with a confidence, follows
    an attribute field (``(atr) name value``, ``(note) text``, ...): the rest of that field's
    value after a comma that is not in quotes (it read as a species without a confidence).

    Examples
    --------
    >>> fields = ["1"] * 9 + ["fish", "1", "(atr) note coral", " dead"]
    >>> _refuse_split_attribute(fields, 12, "a.csv: line 4")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.csv: line 4: field 13: ' dead' follows the attribute ...
    """
    before = fields[k - 1].strip()
    if not before.startswith("("):
        return
    raise FormatError(
        f"{where}: field {k + 1}: {fields[k]!r} follows the attribute '{before}' (field {k}) "
        "and is no species with a confidence: a comma in an attribute's value splits the "
        f'field unless it is in double quotes ("{fields[k - 1]},{fields[k]}"), as DIVE writes it'
    )


def _polygon(item: str, where: str, k: int) -> np.ndarray:
    try:
        values = [float(v) for v in item[len("(poly)") :].split()]
    except ValueError:
        raise FormatError(f"{where}: field {k + 1}: (poly) needs numbers x1 y1 x2 y2 ...") from None
    if len(values) < 6 or len(values) % 2 or not np.isfinite(values).all():
        raise FormatError(f"{where}: field {k + 1}: (poly) needs at least 3 points x y")
    return np.asarray(values, np.float64).reshape(-1, 2)
