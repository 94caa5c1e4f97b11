"""A shape of a CVAT XML file (of a track or an image) read into ecoseg's geometry, shared by
:mod:`ecoseg.formats.cvat` (tracks) and :mod:`ecoseg.formats._cvat_images` (images): masks
(CVAT's run lengths in their box), polygons, boxes (turned by their ``rotation``), ellipses
(the pixels whose centre is inside), the in-between shapes of a track as CVAT interpolates
them (boxes and ellipses: :func:`box_between`, :func:`ellipse_between`), a shape's ``score``
attribute, and the shapes that mark no
area (:data:`NO_AREA`), left out with one :class:`ShapesLeftOutWarning`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ecoseg._warn import warn
from ecoseg.errors import FormatError
from ecoseg.formats._left_out import ShapesLeftOutWarning
from ecoseg.formats._painting import (
    box_pixels,
    no_pixel_error,
    polygon_covers,
    polygon_covers_anywhere,
)
from ecoseg.formats._rle import decode_rle, encode_masks
from ecoseg.formats._values import integer, number, probability

__all__ = [
    "HeldPolygonsWarning",
    "NO_AREA",
    "NOT_SHOWN",
    "ShapesLeftOutWarning",
    "box_between",
    "box_geometry",
    "box_pose",
    "cvat_to_mask",
    "ellipse_between",
    "ellipse_geometry",
    "ellipse_mask",
    "ellipse_pose",
    "rotated_box",
    "shape_geometry",
    "shape_score",
    "shortest_turn",
    "warn_held_polygons",
    "warn_left_out",
]


def cvat_to_mask(
    runs: list[int], left: int, top: int, w: int, h: int, height: int, width: int, where: str
) -> np.ndarray:
    """Frame-sized boolean mask of CVAT run lengths (decoded by pycocotools)."""
    if w <= 0 or h <= 0:
        raise FormatError(f"{where}: mask width and height must be positive")
    if left < 0 or top < 0 or left + w > width or top + h > height:
        raise FormatError(
            f"{where}: mask box left={left} top={top} width={w} height={h} lies outside the "
            f"{width}x{height} frame"
        )
    if any(r < 0 for r in runs) or sum(runs) != w * h:
        raise FormatError(
            f"{where}: rle runs add up to {sum(runs)} pixels, not width x height = {w * h}"
        )
    # row-major runs over (h, w) are column-major runs over the transposed (w, h) box
    crop = decode_rle({"size": [w, h], "counts": runs}, w, h, where).T
    mask = np.zeros((height, width), bool)
    mask[top : top + h, left : left + w] = crop
    return mask


def _points(text: str | None, where: str) -> np.ndarray:
    try:
        pts = np.array([[float(v) for v in p.split(",")] for p in (text or "").split(";")])
    except ValueError:
        raise FormatError(f'{where}: points="{text}" is not x0,y0;x1,y1;...') from None
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3 or not np.isfinite(pts).all():
        raise FormatError(f"{where}: a polygon needs at least 3 points x,y")
    return pts


def shape_geometry(el: ET.Element, where: str, width: int, height: int) -> dict:
    """``{"rle"|"polygons"|"box": ...}`` of one shape element (of a track or an image); a
    turned box is the polygon of its corners with the box they lie in (a box wholly outside
    the frame, turned or not, is left out later, as the animal is out of view there).

    Examples
    --------
    >>> shape_geometry(ET.fromstring('<box xtl="1" ytl="2" xbr="4" ybr="5"/>'), "b", 8, 6)
    {'box': (1.0, 2.0, 4.0, 5.0)}
    """
    if el.tag == "mask":
        try:
            runs = [int(v) for v in (el.get("rle") or "").split(",")]
        except ValueError:
            raise FormatError(
                f'{where}: rle="{el.get("rle")}" is not comma-separated integers'
            ) from None
        box = [integer(el.get(k), where, k) for k in ("left", "top", "width", "height")]
        mask = cvat_to_mask(runs, *box, height, width, where)
        if not mask.any():
            raise _no_pixel(where, "mask", width, height, "its rle sets none")
        return {"rle": encode_masks(mask[None])[0]}
    if el.tag == "polygon":
        points = _points(el.get("points"), where)
        if not polygon_covers(points, height, width):
            raise _no_pixel(where, "polygon", width, height)
        return {"polygons": (points,)}
    if el.tag == "box":
        geom = box_geometry(*box_pose(el, where))
        if "polygons" in geom:  # CVAT's rotated box: its corners turned about its centre
            if not polygon_covers_anywhere(geom["polygons"][0]):  # one outside: left out
                raise _no_pixel(where, "box", width, height)
            return geom
        c0, r0, c1, r1 = box_pixels(geom["box"])
        if c1 <= c0 or r1 <= r0:  # one outside the frame is out of view: left out
            raise _no_pixel(where, "box", width, height)
        return geom
    if el.tag == "ellipse":
        geom = ellipse_geometry(*ellipse_pose(el, where), height, width)
        if geom is None:
            raise _no_pixel(where, "ellipse", width, height)
        return geom
    raise FormatError(
        f"{where}: <{el.tag}> shapes are not supported (use masks, polygons, boxes or ellipses)"
    )


def _no_pixel(where: str, kind: str, width: int, height: int, *why: str) -> FormatError:
    """The refusal of a shape that covers no pixel (it was imported as an empty object)."""
    return no_pixel_error(where, kind, width, height, *why, fix="enlarge it or delete it in CVAT")


def box_pose(el: ET.Element, where: str) -> tuple[tuple[float, float, float, float], float]:
    """The box ``(xtl, ytl, xbr, ybr)`` of a CVAT ``<box>`` and its ``rotation`` (degrees,
    0 without one); an empty or inverted box is refused.

    Examples
    --------
    >>> box_pose(ET.fromstring('<box xtl="1" ytl="2" xbr="4" ybr="5" rotation="30"/>'), "b")
    ((1.0, 2.0, 4.0, 5.0), 30.0)
    """
    x0, y0, x1, y1 = (number(el.get(k), where, k) for k in ("xtl", "ytl", "xbr", "ybr"))
    if not (x0 < x1 and y0 < y1):
        raise FormatError(f"{where}: box is empty or inverted")
    return (x0, y0, x1, y1), number(el.get("rotation", "0"), where, "rotation")


def box_geometry(box: tuple[float, float, float, float], angle: float) -> dict:
    """The geometry of a CVAT box turned by ``angle`` degrees: ``{"box": box}``, or for a
    turned box the polygon of its corners (:func:`rotated_box`) with the box they lie in.

    Examples
    --------
    >>> box_geometry((0, 0, 4, 2), 360)
    {'box': (0, 0, 4, 2)}
    >>> np.round(box_geometry((0, 0, 4, 2), 90)["box"], 6).tolist()
    [1.0, -1.0, 3.0, 3.0]
    """
    if not angle % 360:
        return {"box": tuple(box)}
    corners = rotated_box(box, angle)
    low, high = corners.min(axis=0).tolist(), corners.max(axis=0).tolist()
    return {"polygons": (corners,), "box": (*low, *high)}


def shortest_turn(start: float, end: float) -> float:
    """The turn (degrees, clockwise positive) from ``start`` to ``end`` the short way round,
    in (-180, 180]: a half turn is +180, as CVAT's annotation view (cvat-core's
    ``findAngleDiff``) takes it.

    Examples
    --------
    >>> shortest_turn(350, 10), shortest_turn(10, 350), shortest_turn(0, 180)
    (20.0, -20.0, 180.0)
    """
    turn = float((end - start) % 360)
    return turn - 360 if turn > 180 else turn


def box_between(
    start: tuple[tuple[float, float, float, float], float],
    end: tuple[tuple[float, float, float, float], float],
    a: float,
) -> dict:
    """The geometry (:func:`box_geometry`) of a track's box a fraction ``a`` of the way from
    the keyframe box ``start`` to the next, ``end`` (each ``(box, rotation)``,
    :func:`box_pose`), as CVAT interpolates a box: its edges linearly, and its rotation
    linearly the short way round (:func:`shortest_turn`).

    Examples
    --------
    >>> box_between(((0, 0, 4, 2), 0), ((2, 0, 6, 2), 0), 0.5)
    {'box': (1.0, 0.0, 5.0, 2.0)}
    >>> g = box_between(((0, 0, 4, 2), 350), ((0, 0, 4, 2), 50), 0.25)  # 350 + 60 / 4 = 5
    >>> np.allclose(g["polygons"][0], rotated_box((0, 0, 4, 2), 5))
    True
    """
    (b0, r0), (b1, r1) = start, end
    box = tuple((1 - a) * p + a * q for p, q in zip(b0, b1))
    return box_geometry(box, r0 + a * shortest_turn(r0, r1))


def ellipse_pose(el: ET.Element, where: str) -> tuple[tuple[float, float, float, float], float]:
    """The ``(cx, cy, rx, ry)`` of a CVAT ``<ellipse>`` and its ``rotation`` (degrees, 0
    without one); radii that are not positive are refused.

    Examples
    --------
    >>> ellipse_pose(ET.fromstring('<ellipse cx="5" cy="4" rx="3" ry="1" rotation="90"/>'), "e")
    ((5.0, 4.0, 3.0, 1.0), 90.0)
    """
    cx, cy, rx, ry = (number(el.get(k), where, k) for k in ("cx", "cy", "rx", "ry"))
    if rx <= 0 or ry <= 0:
        raise FormatError(f"{where}: ellipse radii must be positive, got rx={rx:g} ry={ry:g}")
    return (cx, cy, rx, ry), number(el.get("rotation", "0"), where, "rotation")


def ellipse_geometry(
    ellipse: tuple[float, float, float, float], angle: float, height: int, width: int
) -> dict | None:
    """``{"rle": ...}`` of the pixels of an ellipse ``(cx, cy, rx, ry)`` turned ``angle``
    degrees (:func:`ellipse_mask`); None when it covers no pixel centre of the frame.

    Examples
    --------
    >>> ellipse_geometry((2.0, 1.5, 2.0, 1.0), 0.0, 3, 5)["rle"]["size"]
    [3, 5]
    >>> ellipse_geometry((50.0, 1.5, 2.0, 1.0), 0.0, 3, 5) is None
    True
    """
    mask = ellipse_mask(*ellipse, angle, height, width)
    return {"rle": encode_masks(mask[None])[0]} if mask.any() else None


def ellipse_between(
    start: tuple[tuple[float, float, float, float], float],
    end: tuple[tuple[float, float, float, float], float],
    a: float,
    height: int,
    width: int,
) -> dict | None:
    """The geometry (:func:`ellipse_geometry`) of a track's ellipse a fraction ``a`` of the way
    from the keyframe ellipse ``start`` to the next, ``end`` (each ``((cx, cy, rx, ry),
    rotation)``, :func:`ellipse_pose`), as CVAT interpolates an ellipse: it stores one as the
    points ``cx, cy, cx + rx, cy - ry`` and moves them linearly (so centre and radii move
    linearly), and its rotation linearly the short way round (:func:`shortest_turn`), as a box.
    None when that ellipse covers no pixel centre (a thin one between two rows).

    Examples
    --------
    >>> g = ellipse_between(((2, 1.5, 1, 1), 0), ((2, 1.5, 3, 1), 0), 0.5, 3, 5)  # rx 2
    >>> np.array_equal(
    ...     decode_rle(g["rle"], 3, 5, "e"), ellipse_mask(2, 1.5, 2, 1, 0, 3, 5)
    ... )
    True
    """
    (e0, r0), (e1, r1) = start, end
    ellipse = tuple((1 - a) * p + a * q for p, q in zip(e0, e1))
    return ellipse_geometry(ellipse, r0 + a * shortest_turn(r0, r1), height, width)


def _turn(dx: np.ndarray, dy: np.ndarray, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """Offsets ``(dx, dy)`` turned by ``angle`` degrees clockwise on screen (y down), as CVAT
    turns its shapes."""
    a = np.deg2rad(angle)
    return np.cos(a) * dx - np.sin(a) * dy, np.sin(a) * dx + np.cos(a) * dy


def rotated_box(box: tuple[float, float, float, float], angle: float) -> np.ndarray:
    """The 4 corners (4, 2) of a CVAT box ``(xtl, ytl, xbr, ybr)`` with ``rotation`` ``angle``
    (degrees, clockwise on screen, about the box's centre).

    Examples
    --------
    >>> rotated_box((0, 0, 4, 2), 90).round(6).tolist()
    [[3.0, -1.0], [3.0, 3.0], [1.0, 3.0], [1.0, -1.0]]
    """
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = _turn(np.array([x0, x1, x1, x0]) - cx, np.array([y0, y0, y1, y1]) - cy, angle)
    return np.stack([cx + dx, cy + dy], axis=1) + 0.0


def ellipse_mask(
    cx: float, cy: float, rx: float, ry: float, angle: float, height: int, width: int
) -> np.ndarray:
    """The (height, width) mask of a CVAT ellipse: the pixels whose centre lies inside it
    (centre ``cx, cy``, radii ``rx, ry``, turned ``angle`` degrees clockwise on screen).

    Examples
    --------
    >>> ellipse_mask(2.0, 1.5, 2.0, 1.0, 0.0, 3, 5).astype(int).tolist()
    [[0, 0, 0, 0, 0], [1, 1, 1, 1, 0], [0, 0, 0, 0, 0]]
    """
    rows, cols = np.mgrid[0:height, 0:width]
    # pixel centres in the ellipse's own axes: turned back by the ellipse's angle
    u, v = _turn(cols + 0.5 - cx, rows + 0.5 - cy, -angle)
    return (u / rx) ** 2 + (v / ry) ** 2 <= 1.0


#: CVAT shapes that mark no area of the frame: their tracks are left out, with a warning
NO_AREA = ("points", "polyline", "cuboid", "skeleton")
#: the kind, in :func:`warn_left_out`, of a track with no visible shape (none, or every one
#: ``outside="1"``): it was imported as an object with no mask
NOT_SHOWN = "no visible shape"


def warn_left_out(path: Path, skipped: dict[str, int], what: str) -> None:
    """One :class:`ShapesLeftOutWarning` naming how many ``what`` (tracks, shapes) of each
    kind without an area (or, :data:`NOT_SHOWN`, tracks with no visible shape) were left out
    (none: nothing).

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_left_out(Path("a.xml"), {"points": 2}, "track")
    ...     warn_left_out(Path("a.xml"), {NOT_SHOWN: 1}, "track")
    >>> for c in caught:
    ...     print(c.message)
    a.xml: 2 tracks left out (2 of <points>): shapes that mark no area, and a store holds masks
    a.xml: 1 track left out (1 with no visible shape): every shape of it is outside="1" (or
    it has none), so nothing of it lies on a frame
    """
    if not skipped:
        return
    kinds = ", ".join(
        f"{n} with {kind}" if kind == NOT_SHOWN else f"{n} of <{kind}>"
        for kind, n in sorted(skipped.items(), key=lambda item: item[0] == NOT_SHOWN)
    )
    n = sum(skipped.values())
    why = []
    if set(skipped) - {NOT_SHOWN}:
        why.append("shapes that mark no area, and a store holds masks")
    if NOT_SHOWN in skipped:
        why.append(
            'every shape of it is outside="1" (or it has none), so nothing of it lies on a frame'
            if len(skipped) == 1
            else 'a track whose every shape is outside="1" (or that has none) lies on no frame'
        )
    warn(
        f"{path}: {n} {what}{'s' if n > 1 else ''} left out ({kinds}): {'; '.join(why)}",
        ShapesLeftOutWarning,
    )


class HeldPolygonsWarning(UserWarning):
    """A track of polygon keyframes only, with task frames between two different polygons:
    CVAT morphs the one into the other on those frames, ecoseg holds the earlier one."""


def warn_held_polygons(path: Path, tracks: list[list[tuple]], step: int) -> None:
    """One :class:`HeldPolygonsWarning` naming the first track (of ``tracks``, the shapes of
    the tracks of keyframes only, as ``cvat._shapes`` gives them) with task frames between
    two visible polygons whose points differ, and how many more there are (none: nothing).

    CVAT interpolates a polygon between its keyframes (cvat-core's ``PolyTrack`` and the
    server's ``polyshape_interpolation``, one algorithm: vertices paired by their fraction
    of the perimeter, the pairs moved linearly, points closer than a threshold merged);
    ecoseg holds the earlier polygon there. CVAT's own exports write every frame of a track,
    so only a file of keyframes (a hand-written or converted one) is read differently.

    Examples
    --------
    >>> import warnings
    >>> square = {"polygons": (np.array([[0, 0], [4, 0], [4, 4]]),)}
    >>> moved = {"polygons": (np.array([[2, 0], [6, 0], [6, 4]]),)}
    >>> track = [(0, False, square, None, '<track id="3"> <polygon frame="0">', "polygon"),
    ...          (4, False, moved, None, '<track id="3"> <polygon frame="4">', "polygon")]
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_held_polygons(Path("a.xml"), [track], 1)
    >>> print(caught[0].message)
    a.xml: <track id="3"> <polygon frame="0"> is held over frames 1..3 up to the next,
    different polygon of its track (frame 4), where CVAT morphs the one into the other;
    CVAT's own exports write those frames, so export the task from CVAT to read them as it
    shows them
    """
    gaps = []
    for shapes in tracks:
        for s, n in zip(shapes, shapes[1:]):
            if (s[5], n[5]) != ("polygon", "polygon") or s[1] or n[1] or n[0] - s[0] <= step:
                continue
            p, q = s[2]["polygons"][0], n[2]["polygons"][0]
            if p.shape != q.shape or not np.array_equal(p, q):
                gaps.append((s[4], s[0], n[0]))
                break
    if not gaps:
        return
    where, frame, nxt = gaps[0]
    more = f" (and {len(gaps) - 1} more tracks)" if len(gaps) > 1 else ""
    warn(
        f"{path}: {where}{more} is held over frames {frame + step}..{nxt - step} up to the "
        f"next, different polygon of its track (frame {nxt}), where CVAT morphs the one into "
        "the other; CVAT's own exports write those frames, so export the task from CVAT to "
        "read them as it shows them",
        HeldPolygonsWarning,
    )


def shape_score(el: ET.Element, where: str) -> float | None:
    """The ``score`` ``<attribute>`` of a shape (the last one given), None without one.

    Examples
    --------
    >>> shape_score(ET.fromstring('<mask><attribute name="score">0.5</attribute></mask>'), "m")
    0.5
    """
    score = None
    for attr in el.findall("attribute"):
        if attr.get("name") == "score" and attr.text not in (None, ""):
            score = probability(attr.text, where)
    return score
