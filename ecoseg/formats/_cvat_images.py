"""CVAT for images 1.1 XML: one ``<image>`` per task frame, each holding that frame's shapes.

Read by :func:`ecoseg.formats.cvat.read` when the file has ``<image>`` elements and no
``<track>``::

    <annotations>
      <version>1.1</version>
      <meta><task>... <start_frame>0</start_frame> <frame_filter>step=5</frame_filter>
            <size>12</size> ...</task></meta>
      <image id="5" name="frame_000005" width="W" height="H">
        <box label="parrotfish" source="manual" occluded="0" xtl=".." ytl=".." xbr=".."
             ybr=".." z_order="0" group_id="2"/>
        <mask label="grouper" rle="..." left=".." top=".." width=".." height=".."/>
      </image>
      <image id="10" name="frame_000010" width="W" height="H"/>   (a frame with no animal)
    </annotations>

CVAT's writer (``dump_as_cvat_annotation`` in cvat-ai/cvat
``cvat/apps/dataset_manager/formats/cvat.py``) writes an ``<image>`` for every task frame,
empty ones included, and leaves out the frames deleted in CVAT. Its ``id`` is the frame
number CVAT's export uses (the *video* frame ``start_frame + k * step`` of task frame ``k``,
as ``frame="..."`` in the video format) and, for a video task, its ``name`` is
``frame_NNNNNN`` of that same number (CVAT's import matches the name first). The shapes of a
track are written as shapes of each frame it is visible on, with neither a track id nor
keyframes: identity is lost. So each shape is an object of its own (a
:class:`IdentityUnknownWarning` says so: counts and MaxN are right, tracking scores are not),
unless shapes name their object, by a ``track_id`` XML attribute or an ``object_id`` (or
``track_id``) ``<attribute>``: then shapes naming one id are one object (a track id 0 is
shifted by 1, as for tracks), and a shape naming none is an object of its own.

Written (:func:`write_images`) for a photo survey's store, as an images task (``<mode>annotation``):
an ``<image>`` per photograph, ``id`` its frame and ``name`` its file name, each mask a
``<mask>`` of its image with the ``score`` and ``object_id`` attributes (so the file is read
back into the same objects, and onto the folder, by name, into the survey), and the object's
``class_probability``, ``class_source`` (and ``reviewed``) where it has them (read back too:
:mod:`~ecoseg.formats._cvat_class`).

Annotated frames: the frames of the ``<image>`` elements. Task frames without one (with the
task's ``<size>`` known) are deleted frames; a file without ``<meta>`` annotates the frames it
lists (their first, step and last: the ones missing between are deleted).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import TextIO

from ecoseg._warn import warn
from ecoseg.errors import FormatError
from ecoseg.formats._annotated import listed_frames, warn_unlisted
from ecoseg.formats._annotation_model import Annotations, Instance, file_annotations
from ecoseg.formats._cvat_class import ObjectClasses, class_attributes
from ecoseg.formats._cvat_rle import rle_to_cvat
from ecoseg.formats._cvat_shapes import NO_AREA, shape_geometry, shape_score, warn_left_out
from ecoseg.formats._photo_names import folder_frames
from ecoseg.formats._values import integer, positive_id, size_differs
from ecoseg.provenance import AnnotatedFrames


class IdentityUnknownWarning(UserWarning):
    """A CVAT for images file: its shapes do not say which animal they are, so each is an
    object of its own (counts and MaxN are right; tracks and tracking scores are not)."""


def _frame_of(el: ET.Element, path: Path) -> int:
    """The video frame of an ``<image>``: its ``id``, which its ``frame_NNNNNN`` name (if it
    has one) must agree with."""
    where = f'{path}: <image id="{el.get("id")}" name="{el.get("name")}">'
    frame = integer(el.get("id"), where, "id")
    m = re.fullmatch(r"frame_(\d+)(\.\w+)?", Path(el.get("name") or "").name)
    if m and int(m.group(1)) != frame:
        raise FormatError(
            f"{where}: the name is video frame {int(m.group(1))} but the id is {frame} "
            "(CVAT writes both as the video frame number)"
        )
    return frame


def _named(sh: ET.Element, where: str) -> tuple[str, int] | None:
    """``("track", id)`` or ``("object", id)`` a shape names, None when it names none."""
    if sh.get("track_id") not in (None, ""):
        return "track", integer(sh.get("track_id"), where, "track_id")
    for attr in sh.findall("attribute"):
        name, text = attr.get("name"), (attr.text or "").strip()
        if name in ("object_id", "track_id") and text:
            kind = "object" if name == "object_id" else "track"
            return kind, integer(text, where, name)
    return None


def read_images(
    root: ET.Element,
    path: Path,
    frames,
    *,
    width: int,
    height: int,
    meta: bool,
    folder: tuple[str, ...] | None = None,
) -> Annotations:
    """The :class:`Annotations` of a CVAT for images file (shapes without an area are left
    out, with a :class:`~ecoseg.formats._left_out.ShapesLeftOutWarning`).

    ``frames``: the task's frames (:class:`~ecoseg.formats._cvat_task.TaskFrames`; ``meta``: whether
    the file has task settings). ``folder``: an image folder's file names, in frame order:
    where the images' ``name``s are its files (an images task of photographs), each image goes
    on the file of its name (:func:`~ecoseg.formats._photo_names.folder_frames`), not on the
    frame of its ``id``, and the annotations carry them as ``image_names``; the frames it
    annotates are then those it lists.

    Examples
    --------
    >>> from ecoseg.formats._cvat_task import TaskFrames
    >>> xml = ('<annotations><image id="5" name="frame_000005"><box label="cod" xtl="1" '
    ...        'ytl="1" xbr="3" ybr="3"/><points label="cod" points="1,1"/></image>'
    ...        '<image id="10"/></annotations>')
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     ann = read_images(ET.fromstring(xml), Path("a.xml"),
    ...         TaskFrames(0, 1, None, ""), width=8, height=6, meta=False)
    >>> [(i.frame, i.track) for i in ann.instances], ann.annotated.to_dict()
    ([(5, 1)], {'start': 5, 'step': 5, 'count': 2})
    """
    images = root.findall("image")
    named = [(f'<image id="{el.get("id")}">', el.get("name")) for el in images]
    by_name = folder_frames(named, folder, path)
    seen: dict[int, str] = {}
    shapes = []  # (frame, element, where, named)
    skipped: dict[str, int] = {}
    for j, el in enumerate(images):
        frame = _frame_of(el, path)
        iwhere = f'<image id="{el.get("id")}">'
        if frame in seen:
            raise FormatError(f"{path}: {iwhere}: frame {frame} is listed twice")
        seen[frame] = iwhere
        if meta and not frames.contains(frame):
            raise FormatError(f"{path}: {iwhere}: {frames.refusal(frame)}")
        for key, size in (("width", width), ("height", height)):
            if el.get(key) and integer(el.get(key), f"{path}: {iwhere}", key) != size:
                raise size_differs(f"{path}: {iwhere}", f"{key} {el.get(key)}", width, height)
        for k, sh in enumerate(el):
            if sh.tag == "tag":
                continue
            if sh.tag in NO_AREA:
                skipped[sh.tag] = skipped.get(sh.tag, 0) + 1
                continue
            where = f"{iwhere} <{sh.tag}> #{k + 1}"
            on = frame if by_name is None else by_name[j]  # the photograph of its name
            shapes.append((on, sh, where, _named(sh, f"{path}: {where}")))
    start, step, count = frames.start, frames.step, frames.size
    if not meta and seen:  # the frames the file lists: their first, step and last
        ts = sorted(seen)
        step = math.gcd(*(b - a for a, b in zip(ts, ts[1:]))) or 1
        start, count = ts[0], (ts[-1] - ts[0]) // step + 1
    shift = 1 if any(nm == ("track", 0) for *_, nm in shapes) else 0
    ids = {
        nm: positive_id(nm[1] + shift * (nm[0] == "track"), f"{path}: {w}")
        for *_, w, nm in shapes
        if nm
    }
    fresh = max(ids.values(), default=0)
    classes: dict[int, str] = {}
    found = ObjectClasses(path)  # ecoseg's class probability and class source, if given
    instances = []
    for frame, sh, where, nm in shapes:
        if nm is None:
            fresh += 1
            oid = fresh
        else:
            oid = ids[nm]
        label = sh.get("label")
        if not label:
            raise FormatError(f"{path}: {where}: no label")
        if classes.setdefault(oid, label) != label:
            raise FormatError(
                f"{path}: {where}: object {oid} is labelled {label!r} here and "
                f"{classes[oid]!r} on an earlier shape; give all its shapes one label"
            )
        found.note(oid, sh, where)
        score = shape_score(sh, f"{path}: {where}")
        geom = shape_geometry(sh, f"{path}: {where}", width, height)
        instances.append(Instance(frame=frame, track=oid, score=score, where=where, **geom))
    if any(nm is None for *_, nm in shapes):
        warn(
            f"{path}: a CVAT for images file does not say which animal each shape is: each of "
            "its shapes is an object of its own (counts and MaxN are right; tracks and "
            "tracking scores are not; export 'CVAT for video 1.1' for tracks)",
            IdentityUnknownWarning,
        )
    last = None if count is None else start + (count - 1) * step
    listed = range(start, last + 1, step) if last is not None else ()
    deleted = tuple(t for t in listed if t not in seen)
    annotated = AnnotatedFrames(start=start, step=step, count=count, deleted=deleted)
    n_frames = None if last is None else last + 1
    if not (seen or meta):
        annotated = None
    if by_name is not None:  # the photographs it lists (as a COCO file's images)
        annotated, n_frames = listed_frames(by_name), max(by_name) + 1
        if annotated is None:
            warn_unlisted(str(path), by_name, "images")
    warn_left_out(path, skipped, "shape")
    return file_annotations(
        path,
        width,
        height,
        [found.track(oid, label) for oid, label in sorted(classes.items())],
        instances,
        n_frames=n_frames,
        annotated=annotated,
        image_names=None if by_name is None else tuple(folder),
    )


def write_images(fh: TextIO, head: Annotations, frames: Iterable, task: range, object_id: str):
    """Write the ``<image>`` elements of a photo survey's CVAT for images file: one per task
    frame (``task``; empty ones too, as CVAT writes them), named by its photograph
    (``head.image_names``), each holding its masks (``frames``: ``(frame, instances)`` in
    frame order) with their ``score`` and object id (the attribute ``object_id``), as they
    come (memory does not grow with the frames).

    Examples
    --------
    >>> import io, numpy as np
    >>> from ecoseg.formats._annotation_model import Track
    >>> from ecoseg.formats._rle import encode_masks
    >>> mask = np.zeros((1, 3, 4), bool); mask[0, 1, 1:3] = True
    >>> inst = Instance(frame=1, track=2, rle=encode_masks(mask)[0], score=0.5)
    >>> head = Annotations(4, 3, 2, (Track(2, "cod"),), image_names=("a.jpg", "b.jpg"))
    >>> fh = io.StringIO()
    >>> write_images(fh, head, [(0, []), (1, [inst])], range(2), "object_id")
    >>> print(fh.getvalue())  # doctest: +NORMALIZE_WHITESPACE
    <BLANKLINE>
      <image id="0" name="a.jpg" width="4" height="3" />
      <image id="1" name="b.jpg" width="4" height="3">
        <mask label="cod" source="auto" occluded="0" rle="0, 2" left="1" top="1" width="2"
              height="1" z_order="0">
          <attribute name="score">0.5</attribute>
          <attribute name="object_id">2</attribute>
        </mask>
      </image>
    """
    classes = head.class_of()
    also = {t.id: class_attributes(t) for t in head.tracks}  # class probability and source
    labels: dict[int, str] = {}  # each object's label="..." as ET escapes it
    pending = iter(frames)
    item = next(pending, None)
    for t in task:
        items = []
        while item is not None and item[0] <= t:
            if item[0] == t:
                items = item[1]
            item = next(pending, None)
        el = ET.Element("image", {"id": str(t), "name": head.image_names[t]})
        el.set("width", str(head.width))
        el.set("height", str(head.height))
        opened = ET.tostring(el, encoding="unicode")[: -len(" />")]
        if not items:
            fh.write(f"\n  {opened} />")
            continue
        fh.write(f"\n  {opened}>")
        for inst in items:
            oid = inst.track
            if oid not in labels:
                tag = ET.tostring(ET.Element("mask", {"label": classes[oid]}), encoding="unicode")
                labels[oid] = tag[len("<mask ") : -len(" />")]
            runs, left, top, w, h = rle_to_cvat(inst.rle, head.height, head.width, inst.where)
            score = (
                ""
                if inst.score is None
                else f'\n      <attribute name="score">{float(inst.score)!r}</attribute>'
            )
            fh.write(
                f'\n    <mask {labels[oid]} source="auto" occluded="0" '
                f'rle="{", ".join(map(str, runs))}" left="{left}" top="{top}" width="{w}" '
                f'height="{h}" z_order="0">{score}'
                f'\n      <attribute name="{object_id}">{int(oid)}</attribute>{also[oid]}'
                "\n    </mask>"
            )
        fh.write("\n  </image>")
