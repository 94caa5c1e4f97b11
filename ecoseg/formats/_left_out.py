"""What an import leaves out because nothing of it lies on the frame, with one
:class:`ShapesLeftOutWarning` naming it: boxes wholly outside the frame (an animal out of view:
MOT ground truth keeps people walking out of the picture, a tracker may keep a box going a few
frames past the edge) and the objects whose every box is such a box (:func:`leave_out_beyond`),
and objects of a file that no frame shows (:func:`warn_objects_left_out`).

A box that covers pixel centres, but none of the frame, is out of view there (a box with an
outline, CVAT's turned box or VIAME's ``(poly)``, by its outline); a box that covers no pixel
centre wherever it lies (thinner than a pixel between pixel centres) is a broken annotation,
refused by :func:`~ecoseg.formats._painting.refuse_empty_shapes`.
"""

from __future__ import annotations

from dataclasses import replace

from ecoseg._warn import warn
from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Annotations, Instance
from ecoseg.formats._painting import (
    box_pixels,
    box_text,
    polygon_covers,
    polygon_covers_anywhere,
)
from ecoseg.formats._values import ANOTHER_SIZE

__all__ = [
    "ShapesLeftOutWarning",
    "MANY_OUTSIDE",
    "another_videos",
    "beyond_frame",
    "leave_out_beyond",
    "warn_objects_left_out",
]


class ShapesLeftOutWarning(UserWarning):
    """Objects or shapes of an imported file left out of the import: a CVAT file's tracks or
    shapes without an area (points, polylines, cuboids, skeletons) or with no visible shape,
    a YouTube-VIS track that no frame shows, an object whose every box lies outside the frame
    (:mod:`ecoseg.formats.cvat` names it too)."""


def beyond_frame(inst: Instance, width: int, height: int) -> bool:
    """Whether ``inst`` is a box (no mask) that covers pixel centres but none of the
    ``width x height`` frame: the animal is out of view there. A box with polygons (CVAT's
    turned box: the polygon of its corners; VIAME's ``(poly)``: an outline in the box) is
    judged by its polygons, as they are its pixels.

    Examples
    --------
    >>> beyond_frame(Instance(0, 1, box=(12, 1, 15, 4)), 10, 8)  # right of the frame
    True
    >>> beyond_frame(Instance(0, 1, box=(-5, 1, 0.3, 4)), 10, 8)  # no pixel centre of it
    True
    >>> beyond_frame(Instance(0, 1, box=(8, 1, 15, 4)), 10, 8)  # cut, not out of view
    False
    >>> import numpy as np
    >>> turned = np.array([[2.0, -5], [3, -4], [-4, 3], [-5, 2]])  # beyond the corner
    >>> beyond_frame(Instance(0, 1, box=(-5, -5, 3, 3), polygons=(turned,)), 10, 8)
    True
    """
    if inst.box is None or inst.rle is not None:
        return False
    if inst.polygons:
        return not any(polygon_covers(p, height, width) for p in inst.polygons) and any(
            polygon_covers_anywhere(p) for p in inst.polygons
        )
    c0, r0, c1, r1 = box_pixels(inst.box)
    return min(c1, width) <= max(c0, 0) or min(r1, height) <= max(r0, 0)


MANY_OUTSIDE = 10
"""The boxes wholly outside the frame (at least this many, and at least a quarter of the
file's boxes) that make a file another video's: MOT ground truth and trackers keep an animal
a few frames past the edge, never most of a file's animals out of view."""


def another_videos(ann: Annotations, beyond: tuple[Instance, ...]) -> str | None:
    """The refusal of a file ``ann`` whose boxes wholly outside the frame (``beyond``) are
    every box, or many (:data:`MANY_OUTSIDE` or more, and a quarter of its boxes or more):
    made for another video, or for another frame size of it (a file of a 1280x720 video on
    its 640x360 copy has three quarters of its boxes outside); None for a few.

    Examples
    --------
    >>> boxes = tuple(Instance(k, 1, box=(2, 1, 4, 3), where=f"line {k + 1}") for k in range(3))
    >>> far = tuple(Instance(k, 2, box=(90, 1, 94, 3), where=f"line {k + 4}") for k in range(10))
    >>> from ecoseg.formats._annotation_model import Track
    >>> ann = Annotations(width=10, height=8, n_frames=10, source="gt.txt",
    ...                   tracks=(Track(1), Track(2)), instances=boxes + far)
    >>> print(another_videos(ann, far))  # doctest: +ELLIPSIS
    gt.txt: 10 of its 13 boxes lie outside the 10x8 frame (line 4 first: x 90..94, y 1..3; ...
    >>> another_videos(ann, far[:9]) is None  # a few: animals out of view, left out
    True
    """
    boxes = [i for i in ann.instances if i.box is not None and i.rle is None]
    n = len(beyond)
    if n < len(ann.instances) and (n < MANY_OUTSIDE or 4 * n < len(boxes)):
        return None
    first = beyond[0]
    x0, y0 = (min(i.box[k] for i in boxes) for k in (0, 1))
    x1, y1 = (max(i.box[k] for i in boxes) for k in (2, 3))
    where = (
        f"{first.where} first: {box_text(first.box)}; its boxes span {box_text((x0, y0, x1, y1))}"
    )
    if n == len(ann.instances):
        many, nothing = "every box lies", "nothing of it is on the video; "
    else:
        many, nothing = f"{n} of its {len(boxes)} boxes lie", ""
    return (
        f"{ann.source}: {many} outside the {ann.width}x{ann.height} frame ({where}): {nothing}"
        + ANOTHER_SIZE
    )


def leave_out_beyond(ann: Annotations) -> tuple[Annotations, tuple[Instance, ...]]:
    """``ann`` without its boxes that lie wholly outside the frame (:func:`beyond_frame`),
    and those boxes. An object whose every instance is such a box has no pixel: it is left
    out too, with one :class:`ShapesLeftOutWarning` naming the file and the objects (it was
    an object with no mask). A file whose every instance is such a box, or many of its boxes
    (:func:`another_videos`), is refused: it does not fit the video (another video's
    annotation, or another size's).

    Examples
    --------
    >>> import warnings
    >>> from ecoseg.formats._annotation_model import Track
    >>> ann = Annotations(width=10, height=8, n_frames=2, source="gt.txt",
    ...                   tracks=(Track(1), Track(2)),
    ...                   instances=(Instance(0, 1, box=(1, 1, 4, 4), where="line 1"),
    ...                              Instance(1, 1, box=(12, 1, 15, 4), where="line 2"),
    ...                              Instance(0, 2, box=(20, 1, 25, 4), where="line 3")))
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     kept, beyond = leave_out_beyond(ann)
    >>> [(i.frame, i.track) for i in kept.instances], [i.where for i in beyond]
    ([(0, 1)], ['line 3', 'line 2'])
    >>> print(seen[0].message)  # doctest: +ELLIPSIS
    gt.txt: 1 object left out (object 2, line 3 first): every box of it lies outside ...
    """
    beyond = tuple(i for i in ann.instances if beyond_frame(i, ann.width, ann.height))
    if not beyond:
        return ann, ()
    if (refusal := another_videos(ann, beyond)) is not None:
        raise FormatError(refusal)
    out = {id(i) for i in beyond}
    kept = tuple(i for i in ann.instances if id(i) not in out)
    shown = {i.track for i in kept}
    first: dict[int, str] = {}  # the objects with a box outside, and where the first is
    for inst in beyond:
        first.setdefault(inst.track, inst.where)
    gone = {t for t in first if t not in shown}
    warn_objects_left_out(
        ann.source,
        [f"object {t}, {first[t]} first" for t in sorted(gone)],
        f"every box of it lies outside the {ann.width}x{ann.height} frame, so it is in view "
        "on no frame",
    )
    tracks = tuple(t for t in ann.tracks if t.id not in gone)
    return replace(ann, tracks=tracks, instances=kept), beyond


def warn_objects_left_out(source: str, named: list[str], why: str) -> None:
    """One :class:`ShapesLeftOutWarning`: ``source``'s objects ``named`` (where each is in
    the file; the first three shown) are left out of the import, because ``why`` (said of
    one object); nothing when ``named`` is empty.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warn_objects_left_out("a.json", ["annotations[0] (id 4)", "annotations[2] (id 9)"],
    ...                           "no frame shows it")
    >>> print(seen[0].message)
    a.json: 2 objects left out (annotations[0] (id 4); annotations[2] (id 9)): no frame shows it
    """
    if not named:
        return
    n = len(named)
    shown = "; ".join(named[:3]) + ("; ..." if n > 3 else "")
    warn(
        f"{source}: {n} object{'s' if n > 1 else ''} left out ({shown}): {why}",
        ShapesLeftOutWarning,
    )
