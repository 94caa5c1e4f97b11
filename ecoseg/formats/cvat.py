"""CVAT for video 1.1 XML (interpolation mode): one ``<track>`` per mask.

Written::

    <annotations>
      <version>1.1</version>
      <meta><task>... <size>T</size> <mode>interpolation</mode> <labels>(one <label> per class,
            type mask, a mutable number attribute "score", text attributes "object_id" and,
            where the store has them, "class_probability", "class_source" and "reviewed")
            </labels> <original_size><width>W</width><height>H</height></original_size>
            </task></meta>
      <track id="0" label="parrotfish" source="auto" group_id="3">
        <mask frame="0" keyframe="1" outside="0" occluded="0" rle="4, 2, 5, ..." left="120"
              top="80" width="31" height="12" z_order="0">
          <attribute name="score">0.97</attribute>
          <attribute name="object_id">3</attribute>
          <attribute name="class_probability">0.8125</attribute>   (where the store has one)
          <attribute name="class_source">classified</attribute></mask>   (likewise; and
          "reviewed" where the class source does not say the reviewed flag)
        <mask frame="1" keyframe="1" outside="1" .../>   (the same mask, ending it)
      </track>
      <track id="1" label="parrotfish" source="auto" group_id="3"> (object 3 on frame 1) ...
    </annotations>

CVAT has no mask tracks: its importer (``load_anno`` in cvat-ai/cvat
``cvat/apps/dataset_manager/formats/cvat.py``) turns a track of masks into its first mask,
and its exporter writes each mask as a track of its own, a keyframe and an ``outside`` copy on
the next task frame. So each mask is written that way, in frame order as the frames come
(nothing is held), tracks numbered from 0, and its object is named twice: the ``object_id``
attribute, which CVAT keeps on upload when the task's label declares it (``<labels>`` above)
and writes back in its exports, and the track's ``group_id``, which tools that read the XML
keep but CVAT drops from an uploaded mask track. Read back, tracks with the same
``object_id`` are one object; a track without one (a mask drawn in CVAT) is an object of its
own, numbered after the named ones. The task frames are the frames the store annotates:
every frame (``<start_frame>`` 0, ``<frame_filter>`` empty), or, for a store that records
some frames only (``provenance["annotated_frames"]``, e.g. imported from a task of every 5th
frame), ``<start_frame>`` its first, ``<stop_frame>`` its last and
``<frame_filter>step=N</frame_filter>``, ``<size>`` their number, so CVAT shows the annotator
those frames again and the frames between stay unannotated rather than empty.

``rle`` is CVAT's own mask encoding: alternating run lengths of background and object pixels,
starting with background, over the mask's box (``left``, ``top``, ``width``, ``height``) in
row-major order.

Read: ``<track>`` elements with ``<mask>``, ``<polygon>``, ``<box>`` (a ``rotation`` makes it
the polygon of its turned corners, as CVAT converts it) or ``<ellipse>`` shapes (the pixels
whose centre is inside); tracks of shapes without an area (``<points>``, ``<polyline>``,
``<cuboid>``, ``<skeleton>``) are left out with a :class:`ShapesLeftOutWarning`, and ``<tag>``
elements are ignored. As in CVAT, a track continues from its last shape until an
``outside="1"`` shape or the end of the task; on frames between two shapes of a kind,
boxes, ellipses and polygons are interpolated as CVAT interpolates them (cvat-core's
``RectangleTrack``, ``EllipseTrack`` and ``PolyTrack``; the server's
``simple_interpolation`` and ``polyshape_interpolation``, which its export writes): a box's
edges, an ellipse's centre and radii linearly, and the ``rotation`` linearly the short way
round (350 to 10 degrees turns through 0; a half turn goes clockwise as CVAT's annotation
view turns it; the server's export, ``find_angle_diff``, turns a half turn by +1 degree
instead); a polygon's vertices paired by their fraction of the perimeter and moved
linearly, then thinned (``_cvat_shapes.polygon_between``). CVAT interpolates towards an
``outside="1"`` shape too (it keeps where the animal was when it left: the position there,
when the annotator marked it outside between two keyframes). CVAT's own exports write every
frame of a track (``keyframe="0"`` on the in-between ones), so this matters for files of
keyframes only (written by hand or by other tools). A mask lies on its own
frame only: CVAT has no mask tracks (it writes each mask as a track of one shape, and reads a
mask track as its first shape), so its export of a mask on the task's last-but-one frame, which
has no ``outside`` shape, is not held onto the last. The task's settings come from
``<meta><task>``, a job export's ``<meta><job>`` or, in a project export, the
``<meta><project><tasks><task>`` of the tracks' ``task_id`` (tracks of several tasks, several
videos, are refused: :func:`project_task`). A track is an object, unless tracks name their
objects (``object_id``, above); CVAT numbers tracks from 0: when a file has a track 0 every id
is shifted by 1. The ``score`` attribute, if any, becomes the object's score on that frame (a
score outside [0, 1] is refused); the ``class_probability``, ``class_source`` and
``reviewed`` attributes, if any, the object's (:mod:`~ecoseg.formats._cvat_class`; a file
without them gives none); an object labelled differently on two tracks is refused. A
file with neither a ``<meta>`` task nor tracks (a bare ``<annotations/>``) is refused: it
cannot be told from a task where no animal was seen.

Task frames: a CVAT task made from part of a video (``<start_frame>``, ``<stop_frame>``) or
from every N-th frame (``<frame_filter>step=N</frame_filter>``) shows the annotator the video
frames ``start_frame + k * N``, ``k = 0 .. size - 1``, and CVAT writes those video frame numbers
in ``frame`` (its export maps task frame k to ``k * N + start_frame``; its import maps back and
refuses any other frame). A shape is therefore held, or interpolated, over task frames
only: video frames between them, which the annotator never saw, get nothing (a
:class:`SkippedFramesWarning` says so). :attr:`Annotations.annotated` holds the task frames;
an imported store records them (``provenance["annotated_frames"]``) and
:func:`ecoseg.evaluate` scores a prediction against it on those frames only. A shape on a
frame that is not a task frame is refused, naming the setting.

CVAT for images 1.1 files (``<image>`` elements of shapes, no tracks) are read by
:mod:`ecoseg.formats._cvat_images`, with the same task settings; a photo survey's store is
written as one (an images task, an ``<image>`` per photograph named by its file).

Deleted frames: CVAT's XML does not list the frames deleted in CVAT; its export leaves them
out, and :func:`deleted_frames` finds them from that (a dataset export's missing
``images/frame_NNNNNN.*``; a gap in a track CVAT wrote frame by frame). They are no
annotated frames: shapes are not held onto them, and :attr:`Annotations.annotated` lists
them as ``deleted``. The export writes a store's deleted frames as task frames without shapes
(the XML cannot mark them), with an :class:`~ecoseg.formats.UnannotatedFramesWarning`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path

from ecoseg._paths import read_file_bytes
from ecoseg._version import __version__
from ecoseg._warn import warn
from ecoseg.errors import FormatError
from ecoseg.formats._annotated import annotated_range
from ecoseg.formats._annotation_model import Annotations, Instance, file_annotations
from ecoseg.formats._cvat_class import ObjectClasses, class_attributes, declared
from ecoseg.formats._cvat_images import read_images, write_images
from ecoseg.formats._cvat_rle import mask_to_cvat as mask_to_cvat
from ecoseg.formats._cvat_rle import rle_to_cvat
from ecoseg.formats._cvat_shapes import NO_AREA as NO_AREA
from ecoseg.formats._cvat_shapes import (
    NOT_SHOWN,
    POSES,
    shape_between,
    shape_geometry,
    shape_score,
    warn_left_out,
)
from ecoseg.formats._cvat_shapes import ShapesLeftOutWarning as ShapesLeftOutWarning
from ecoseg.formats._cvat_shapes import cvat_to_mask as cvat_to_mask
from ecoseg.formats._cvat_task import TaskFrames, deleted_frames, project_task, task_frames
from ecoseg.formats._files import check_not_binary
from ecoseg.formats._values import integer, positive_id, size_differs
from ecoseg.provenance import created

NAME = "cvat"
KIND = "mask"
TIMES = False
SUFFIX = ".xml"
#: what names the frames a file annotates (its frames past the video's end are refused)
LISTS = "task frames"
#: :func:`read` matches an images task's ``<image name=...>`` to an image folder's files by
#: name (``images=``)
BY_NAME = True

#: the mask attribute that names its object (CVAT keeps a mask's attributes that its label
#: declares; it drops the ``group_id`` of a mask track: module docstring)
OBJECT_ID = "object_id"


# --------------------------------------------------------------------------- writing
def _sub(parent: ET.Element, tag: str, text=None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = str(text)
    return el


def _task_frames(ann: Annotations) -> range:
    """The video frames of the task: those the store annotates, deleted ones included."""
    some = annotated_range(ann) is not None
    return ann.annotated.frames(ann.n_frames) if some else range(ann.n_frames)


def _document(ann: Annotations, name: str) -> ET.Element:
    """The ``<annotations>`` element with its ``<version>`` and ``<meta>``, no tracks: a video
    task (``interpolation``), or an images task (``annotation``) for a photo survey."""
    frames = _task_frames(ann)
    last = frames[-1] if len(frames) else frames.start
    root = ET.Element("annotations")
    _sub(root, "version", "1.1")
    meta = _sub(root, "meta")
    task = _sub(meta, "task")
    now = created()
    for tag, text in (
        ("id", 0),
        ("name", name),
        ("size", len(frames)),
        ("mode", "interpolation" if ann.image_names is None else "annotation"),
        ("overlap", 0),
        ("bugtracker", ""),
        ("flipped", "False"),
        ("created", now),
        ("updated", now),
        ("start_frame", frames.start),  # task frame k is video frame start + k * step
        ("stop_frame", last),
        ("frame_filter", f"step={frames.step}" if frames.step > 1 else ""),
    ):
        _sub(task, tag, text)
    labels = _sub(task, "labels")
    # the class attributes as text, default empty: a mask drawn in CVAT reads as having none
    specs = (
        ("score", "True", "number", "1", "0\n1\n0.0001"),
        (OBJECT_ID, "False", "text", "", ""),
        *((name, "False", "text", "", "") for name in declared(ann.tracks)),
    )
    for cls in ann.classes:
        label = _sub(labels, "label")
        _sub(label, "name", cls)
        _sub(label, "type", "mask")
        attrs = _sub(label, "attributes")
        for spec in specs:
            attr = _sub(attrs, "attribute")
            for tag, text in zip(
                ("name", "mutable", "input_type", "default_value", "values"), spec
            ):
                _sub(attr, tag, text)
    segment = _sub(_sub(task, "segments"), "segment")
    for tag, text in (("id", 0), ("start", 0), ("stop", max(0, len(frames) - 1)), ("url", "")):
        _sub(segment, tag, text)
    owner = _sub(task, "owner")
    _sub(owner, "username", f"ecoseg {__version__}")
    _sub(owner, "email", "")
    size = _sub(task, "original_size")
    _sub(size, "width", ann.width)
    _sub(size, "height", ann.height)
    _sub(meta, "dumped", now)

    return root


def write(ann: Annotations, path: Path) -> None:
    """Write ``ann`` as a CVAT for video 1.1 XML file (CVAT for images 1.1 for a photo
    survey's: :func:`write_frames`)."""
    write_frames(ann, ann.frames(), path)


def write_frames(
    head: Annotations, frames: Iterable[tuple[int, list[Instance]]], path: Path
) -> None:
    """Write the masks of ``frames`` (``(frame, instances)`` in frame order) as a CVAT for
    video 1.1 XML file, each mask as it comes (memory does not grow with the frames;
    ``head``: the size, objects, classes and annotated frames).

    Each mask is a ``<track>`` of its own (CVAT keeps one mask per track, :func:`_track`),
    numbered from 0 in frame order; its object is the ``group_id`` and the ``object_id``
    attribute. A photo survey's (``head.image_names``: its photographs) is a CVAT for images
    1.1 file of an images task, an ``<image>`` per photograph named by its file
    (:func:`~ecoseg.formats._cvat_images.write_images`), so CVAT shows the photographs'
    names and the file is read back, onto the folder, into the survey.
    """
    task = _task_frames(head)
    root = _document(head, Path(head.source).stem or "ecoseg")
    ET.indent(root, space="  ")
    text = ET.tostring(root, encoding="unicode")
    end = "\n</annotations>"  # after the tracks, each on a line of its own
    assert text.endswith(end), text[-40:]
    with open(path, "w", encoding="utf-8", errors="xmlcharrefreplace", newline="\n") as fh:
        fh.write("<?xml version='1.0' encoding='utf-8'?>\n" + text[: -len(end)])
        if head.image_names is not None:  # a photo survey: an images task
            write_images(fh, head, frames, task, OBJECT_ID)
        else:
            _write_tracks(fh, head, frames, task)
        fh.write(end)


def _write_tracks(fh, head: Annotations, frames: Iterable, task: range) -> None:
    """Each mask of ``frames`` as a ``<track>`` of its own, numbered from 0 as they come."""
    classes = head.class_of()
    also = {t.id: class_attributes(t) for t in head.tracks}  # class probability and source
    opened: dict[int, str] = {}  # each object's <track ... as ET escapes its label
    n = 0
    for _, items in frames:
        for inst in items:
            oid = inst.track
            if oid not in opened:
                el = ET.Element("track", {"label": classes[oid], "source": "auto"})
                opened[oid] = ET.tostring(el, encoding="unicode")[len("<track ") : -len(" />")]
            coded = rle_to_cvat(inst.rle, head.height, head.width, inst.where)
            nxt = inst.frame + task.step  # the next task frame: the mask's end
            fh.write(
                f'\n  <track id="{n}" {opened[oid]} group_id="{oid}">'
                + _mask(inst.frame, coded, outside=False, score=inst.score, oid=oid, also=also[oid])
                + (_mask(nxt, coded, outside=True, score=None) if nxt in task else "")
                + "\n  </track>"
            )
            n += 1


def _mask(
    frame: int, coded: tuple, *, outside: bool, score, oid: int | None = None, also: str = ""
) -> str:
    """One ``<mask>`` element of a track as ElementTree writes it (indented, on its own
    line; its attributes are numbers: nothing to escape), with the ``score`` and
    ``object_id`` attributes of a visible mask, then ``also`` (its object's class
    attributes, :func:`~ecoseg.formats._cvat_class.class_attributes`).

    Examples
    --------
    >>> el = _mask(4, ([0, 2], 1, 1, 2, 1), outside=False, score=0.5, oid=3)
    >>> print(el)  # its first line wrapped here  # doctest: +NORMALIZE_WHITESPACE
    <BLANKLINE>
        <mask frame="4" keyframe="1" outside="0" occluded="0" rle="0, 2" left="1" top="1"
              width="2" height="1" z_order="0">
          <attribute name="score">0.5</attribute>
          <attribute name="object_id">3</attribute>
        </mask>
    """
    runs, left, top, w, h = coded
    el = (
        f'\n    <mask frame="{frame}" keyframe="1" outside="{int(outside)}" occluded="0" '
        f'rle="{", ".join(map(str, runs))}" left="{left}" top="{top}" width="{w}" '
        f'height="{h}" z_order="0"'
    )
    if score is None and oid is None:
        return el + " />"
    attrs = "" if score is None else f'\n      <attribute name="score">{float(score)!r}</attribute>'
    if oid is not None:
        attrs += f'\n      <attribute name="{OBJECT_ID}">{int(oid)}</attribute>'
    return el + ">" + attrs + also + "\n    </mask>"


# --------------------------------------------------------------------------- reading
def _flag(el: ET.Element, key: str, where: str) -> bool:
    value = el.get(key, "0")
    if value not in ("0", "1"):
        raise FormatError(f'{where}: {key}="{value}" must be 0 or 1')
    return value == "1"


class SkippedFramesWarning(UserWarning):
    """A CVAT task with a frame step: the video frames between its frames were never shown."""


def _check_labels(root: ET.Element, tracks: list[ET.Element], path: Path) -> None:
    """Refuse a track's (or an image's shape's) label that the file's ``<labels>`` do not
    declare, where it declares some: a misspelt label ('parotfish') was imported as a
    species of its own, counted apart from the task's 'parrotfish'.

    Examples
    --------
    >>> xml = ('<annotations><meta><task><labels><label><name>goby</name></label></labels>'
    ...        '</task></meta><track id="0" label="gobi"/></annotations>')
    >>> root = ET.fromstring(xml)
    >>> _check_labels(root, root.findall("track"), Path("a.xml"))
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.xml: <track id="0">: label 'gobi' is not one of the \
labels the file declares (<labels>: 'goby'): ...
    """
    declared = {(n.text or "").strip() for n in root.iterfind("meta//labels/label/name")}
    declared.discard("")
    if not declared:  # a file written by hand or by another tool: any label
        return
    for el in tracks:
        for shape in (el, *el):  # a track's label, or the shapes' of an image
            label = shape.get("label")
            if label is None or label.strip() in declared:
                continue
            where = f'<{el.tag} id="{el.get("id")}">' + (
                f" <{shape.tag}>" if shape is not el else ""
            )
            names = ", ".join(repr(n) for n in sorted(declared)[:8])
            raise FormatError(
                f"{path}: {where}: label {label!r} is not one of the labels the file declares "
                f"(<labels>: {names}{', ...' if len(declared) > 8 else ''}): a misspelt label "
                "would be counted as a species of its own; correct it, or declare it in <labels>"
            )


def check_syntax(path: Path) -> None:
    """Refuse a file that is no CVAT XML (not well-formed, another root element) without the
    video: :func:`~ecoseg.formats.read_annotations` names it before a video that cannot be
    opened (its task's size is checked against the video's once that is open)."""
    _root(path)


def _root(path: Path) -> ET.Element:
    """The ``<annotations>`` element of a CVAT XML file; FormatError for an empty, binary or
    not well-formed file, or another root element."""
    head = read_file_bytes(path, "CVAT XML file", limit=8192, error=FormatError)
    check_not_binary(path, head)  # a video given as the file: "not well-formed XML (invalid token)"
    if len(head) < 8192 and not head.strip():  # "not well-formed XML (no element found: ...)"
        raise FormatError(f"{path}: the file is empty (no XML in it)")
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise FormatError(f"{path}: not well-formed XML ({exc})") from None
    except OSError as exc:  # after the head was read (EIO on a failing card): one line
        reason = " ".join(str(exc.strerror or exc).split())
        raise FormatError(f"{path}: cannot be read: {reason}") from None
    if root.tag != "annotations":
        raise FormatError(f"{path}: root element is <{root.tag}>, not <annotations>")
    return root


def read(
    path: Path, *, width: int, height: int, images: tuple[str, ...] | None = None
) -> Annotations:
    """Read a CVAT for video 1.1 (or for images 1.1) XML file (``images``: an image folder's
    file names, in frame order, which a CVAT for images file's images are matched to by name
    where they are its files: :func:`~ecoseg.formats._cvat_images.read_images`)."""
    root = _root(path)
    folder = images
    images = root.find("image") is not None and root.find("track") is None
    tracks_el = root.findall("image" if images else "track")  # images name their task_id too
    task = root.find("meta/task")
    if task is None:
        task = root.find("meta/job")
    if task is None and root.find("meta/project") is not None:
        task = project_task(root, tracks_el, path)
    if task is None and not tracks_el:  # it was a store of frames "with no animals"
        raise FormatError(
            f"{path}: <annotations> with no <meta> task and no tracks or images: it says "
            "neither which frames were annotated nor what was on them, so it cannot be told "
            "from 'no animals seen' (a CVAT export carries <meta> with the task's frames; "
            "export the task again)"
        )
    if task is not None:
        osize = task.find("original_size")
        if osize is not None:
            w = integer(osize.findtext("width"), f"{path}: <original_size>", "width")
            h = integer(osize.findtext("height"), f"{path}: <original_size>", "height")
            if (w, h) != (width, height):
                raise size_differs(f"{path}", f"<original_size> {w}x{h}", width, height)
    _check_labels(root, tracks_el, path)
    frames = task_frames(task, path)
    if frames.step > 1:
        warn(
            f"{path}: the task shows one video frame in {frames.step} ({frames.setting}); the "
            "frames between were never annotated and are left empty, which is not 'no "
            "animals': an imported store records the annotated frames, and ecoseg evaluate "
            "scores only those, and ecoseg measure counts only those",
            SkippedFramesWarning,
        )
    if images:  # CVAT for images 1.1: shapes on their frames, no tracks
        return read_images(
            root,
            path,
            frames,
            width=width,
            height=height,
            meta=task is not None,
            folder=folder,
        )
    raw_ids = [integer(t.get("id"), f'{path}: <track id="{t.get("id")}">', "id") for t in tracks_el]
    shift = 1 if any(i == 0 for i in raw_ids) else 0
    named = [object_of(el, f'{path}: <track id="{raw}">') for el, raw in zip(tracks_el, raw_ids)]
    fresh = max((i for i in named if i is not None), default=None)
    classes: dict[int, str] = {}
    found = ObjectClasses(path)  # ecoseg's class probability and class source, if given
    parsed = []
    skipped: dict[str, int] = {}
    for el, raw, ident in zip(tracks_el, raw_ids, named):
        twhere = f'<track id="{raw}">'
        if raw < 0:
            raise FormatError(f"{path}: {twhere}: negative track id")
        if ident is not None:
            oid = ident
        elif fresh is None:  # no track names its object: a track is an object
            oid = positive_id(raw + shift, f"{path}: {twhere}")
        else:  # a mask drawn in CVAT beside named ones: an object of its own
            fresh += 1
            oid = positive_id(fresh, f"{path}: {twhere}")
        label = el.get("label")
        if not label:
            raise FormatError(f"{path}: {twhere}: no label")
        kind = next((sh.tag for sh in el), None)
        if kind in NO_AREA:
            skipped[kind] = skipped.get(kind, 0) + 1
            continue
        shapes = _shapes(el, twhere, path, frames, width, height)
        if all(outside for _, outside, *_ in shapes):  # an empty object in the store
            skipped[NOT_SHOWN] = skipped.get(NOT_SHOWN, 0) + 1
            continue
        if classes.setdefault(oid, label) != label:
            raise FormatError(
                f"{path}: {twhere}: object {oid} is labelled {label!r} here and "
                f"{classes[oid]!r} on an earlier track; give all its masks one label"
            )
        for sh in el:
            found.note(oid, sh, f'{twhere} <{sh.tag} frame="{sh.get("frame")}">')
        parsed.append((oid, shapes, any(sh.get("keyframe") == "0" for sh in el)))
    warn_left_out(path, skipped, "track")
    deleted = deleted_frames(path, frames, [(shapes, every) for _, shapes, every in parsed])
    instances = []
    for oid, shapes, _ in parsed:
        instances.extend(_held(shapes, oid, frames, (height, width), deleted))
    last = frames.last
    return file_annotations(
        path,
        width,
        height,
        [found.track(oid, label) for oid, label in classes.items()],
        instances,
        n_frames=None if last is None else last + 1,
        annotated=None if task is None and not deleted else frames.annotated(deleted),
    )


def object_of(el: ET.Element, where: str) -> int | None:
    """The object a ``<track>`` names: the ``object_id`` attribute of its first shape that
    has one; None when none has.

    ecoseg writes each mask as a track of its own with that attribute (CVAT keeps it where
    the task's label declares it). The track's ``group_id`` is not read: CVAT drops it from
    an uploaded mask track, and groups masks of one frame (parts) in its own files.

    Examples
    --------
    >>> track = '<track><mask frame="0"><attribute name="object_id">7</attribute></mask></track>'
    >>> object_of(ET.fromstring(track), "t")
    7
    >>> object_of(ET.fromstring('<track group_id="7"><mask frame="0"/></track>'), "t") is None
    True
    """
    for sh in el:
        for attr in sh.findall("attribute"):
            if attr.get("name") == OBJECT_ID and (attr.text or "").strip():
                swhere = f'{where} <{sh.tag} frame="{sh.get("frame")}">'
                return positive_id(attr.text.strip(), swhere)
    return None


def _shapes(el, twhere, path, frames: TaskFrames, width, height) -> list[tuple]:
    """``(frame, outside, geometry, score, where, tag, pose)`` of a track's shapes, by frame
    (``pose``: a box's, ellipse's or polygon's numbers, :func:`_pose`; else None)."""
    shapes = []
    for sh in el:
        swhere = f'{twhere} <{sh.tag} frame="{sh.get("frame")}">'
        frame = integer(sh.get("frame"), f"{path}: {swhere}", "frame")
        outside = _flag(sh, "outside", f"{path}: {swhere}")
        # CVAT ends a one-frame shape with an outside shape one step later, past the end
        past_end = outside and frames.last is not None and frame == frames.last + frames.step
        if not frames.contains(frame) and not past_end:
            raise FormatError(f"{path}: {swhere}: {frames.refusal(frame)}")
        geom = None if outside else shape_geometry(sh, f"{path}: {swhere}", width, height)
        score = shape_score(sh, f"{path}: {swhere}")
        pose = _pose(sh, f"{path}: {swhere}") if geom or outside else None
        shapes.append((frame, outside, geom, score, swhere, sh.tag, pose))
    shapes.sort(key=lambda s: s[0])
    return shapes


def _pose(el: ET.Element, where: str):
    """The pose (``POSES``) of a box, ellipse or polygon, which CVAT interpolates towards
    from the shape before, an ``outside="1"`` one too (it keeps where the animal was last
    seen); None for other shapes and for an outside one without a valid pose (nothing is
    read from it but its frame: the shape before is held up to it)."""
    if el.tag not in POSES:
        return None
    try:
        return POSES[el.tag](el, where)
    except FormatError:
        if el.get("outside") != "1":
            raise
        return None


def _held(
    shapes: list[tuple],
    oid: int,
    frames: TaskFrames,
    size: tuple[int, int],
    deleted: tuple[int, ...] = (),
) -> list[Instance]:
    """Each visible shape on its task frame and the task frames after it, up to the next shape
    (a box, an ellipse or a polygon interpolated towards a next one of its kind, an
    ``outside`` one too, as CVAT does: ``shape_between``; ``size``: the frame's ``(height,
    width)``) or the end of the task
    (its own frame when the file gives no size; a mask's own frame always), deleted frames
    left out."""
    gone = set(deleted)
    out = []
    for k, (frame, outside, geom, score, swhere, tag, pose) in enumerate(shapes):
        if outside:
            continue
        nxt = shapes[k + 1] if k + 1 < len(shapes) else None
        if tag == "mask":
            end = frame + 1  # CVAT has no mask tracks: a mask lies on its own frame only
        elif nxt is not None:
            end = nxt[0]
        else:
            end = frames.last + 1 if frames.last is not None else frame + 1
        for t in range(frame, max(end, frame + 1), frames.step):
            if t in gone:
                continue
            g = geom
            if t > frame and pose is not None and nxt and nxt[5] == tag and nxt[6] is not None:
                g = shape_between(tag, pose, nxt[6], (t - frame) / (nxt[0] - frame), *size)
                if g is None:  # a thin one between pixel centres: nothing on the frame
                    continue
            where = swhere if t == frame else f"{swhere} (held to frame {t})"
            out.append(Instance(frame=t, track=oid, score=score, where=where, **g))
    return out
