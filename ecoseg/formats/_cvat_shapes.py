"""A shape of a CVAT XML file (of a track or an image) read into ecoseg's geometry, shared by
:mod:`ecoseg.formats.cvat` (tracks) and :mod:`ecoseg.formats._cvat_images` (images): masks
(CVAT's run lengths in their box), polygons, boxes (turned by their ``rotation``), ellipses
(the pixels whose centre is inside), the in-between shapes of a track as CVAT interpolates
them (:func:`box_between`, :func:`ellipse_between`, :func:`polygon_between`), a shape's
``score`` attribute, and the shapes that mark no
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
    "polygon_between",
    "polygon_pose",
    "rotated_box",
    "shape_geometry",
    "shape_between",
    "shape_score",
    "shortest_turn",
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


def polygon_pose(el: ET.Element, where: str) -> np.ndarray:
    """The points ``(n, 2)`` of a CVAT ``<polygon>`` (at least 3, finite).

    Examples
    --------
    >>> polygon_pose(ET.fromstring('<polygon points="0,0;4,0;4,3"/>'), "p").tolist()
    [[0.0, 0.0], [4.0, 0.0], [4.0, 3.0]]
    """
    return _points(el.get("points"), where)


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


def polygon_between(start: np.ndarray, end: np.ndarray, a: float) -> np.ndarray:
    """The points of a track's polygon a fraction ``a`` (0 < a < 1) of the way from the
    keyframe polygon ``start`` to the next, ``end`` (each ``(n, 2)``), as CVAT interpolates
    a polygon (cvat-core's ``PolyTrack``, the server's ``polyshape_interpolation``, which an
    export writes): both are closed by their first point; each vertex is placed at its
    fraction of the perimeter from there; each vertex of ``start`` is paired with the vertex
    of ``end`` nearest in that fraction, and each vertex of ``end`` left unpaired with the
    nearest of ``start`` (the first on a tie); each pair moves linearly; then the points of
    each run (the start vertices paired with one end vertex, or the end vertices paired with
    one start vertex) are thinned: a point nearer than ``L / (2 N)`` to the last one kept is
    dropped (``L``: the run's length on its keyframe, ``N``: its number of vertices there),
    and a run of two points nearer than that becomes their mean; the closing point is
    dropped again (the last one).

    Examples
    --------
    >>> square = np.array([[0, 0], [4, 0], [4, 4], [0, 4]])
    >>> polygon_between(square, square + [2, 0], 0.5).tolist()
    [[1.0, 0.0], [5.0, 0.0], [5.0, 4.0], [1.0, 4.0]]
    >>> five = np.array([[0, 0], [4, 0], [6, 2], [4, 4], [0, 4]])  # a vertex more
    >>> polygon_between(square, five, 0.5).tolist()
    [[0.0, 0.0], [4.0, 0.0], [5.0, 3.0], [4.0, 4.0], [0.0, 4.0]]
    >>> notch = np.array([[0, 0], [4, 0], [4, 2], [4, 4], [0, 4]])  # (4, 0) and (4, 2) pair
    >>> polygon_between(notch, square, 0.9).round(9).tolist()  # with (4, 0): 0.2 apart, merged
    [[0.0, 0.0], [4.0, 0.1], [4.0, 4.0], [0.0, 4.0]]
    """
    left = np.vstack([start, start[:1]]).astype(np.float64)
    right = np.vstack([end, end[:1]]).astype(np.float64)
    lf, rf = _perimeter_fractions(left), _perimeter_fractions(right)
    pairs = [[int(np.argmin(np.abs(rf - f)))] for f in lf]  # argmin: the first on a tie
    paired = {j for js in pairs for j in js}
    for j in range(len(right)):
        if j not in paired:
            pairs[int(np.argmin(np.abs(lf - rf[j])))].append(j)
    pairs = [sorted(js) for js in pairs]
    moved = np.array([left[i] + (right[j] - left[i]) * a for i, js in enumerate(pairs) for j in js])
    first = np.cumsum([0] + [len(js) for js in pairs])  # each start vertex's first moved point
    out: list[np.ndarray] = []
    opened = None  # the first start vertex of a run paired with one end vertex

    def thin(length: float, n: int, lo: int, hi: int) -> None:
        limit = length / (2 * n)
        kept, last = [moved[lo]], lo
        for k in range(lo + 1, hi):
            if _distance(moved[k], moved[last]) >= limit:
                kept.append(moved[k])
                last = k
        kept.append(moved[hi])
        if len(kept) == 2 and _distance(moved[hi], moved[lo]) < limit:
            kept = [(moved[lo] + moved[hi]) / 2]
        out.extend(kept)

    def left_run(i0: int, i1: int) -> None:  # start vertices i0..i1, paired with one
        if first[i0] == first[i1]:
            out.append(moved[first[i0]])
        else:
            thin(_length(left[i0 : i1 + 1]), i1 - i0 + 1, first[i0], first[i1])

    for i, js in enumerate(pairs):
        if len(js) == 1:
            if opened is not None and js[0] == pairs[opened][0]:
                continue
            if opened is not None:
                left_run(opened, i - 1)
            opened = i
            continue
        if opened is not None:
            left_run(opened, i - 1)
            opened = None
        thin(_length(right[js[0] : js[-1] + 1]), js[-1] - js[0] + 1, first[i], first[i + 1] - 1)
    if opened is not None:
        left_run(opened, len(pairs) - 1)
    return np.array(out[:-1])


#: the shapes a track interpolates between keyframes, and the pose (numbers) of each
POSES = {"box": box_pose, "ellipse": ellipse_pose, "polygon": polygon_pose}


def shape_between(tag: str, start, end, a: float, height: int, width: int) -> dict | None:
    """The geometry of a track's ``tag`` shape (one of :data:`POSES`) a fraction ``a`` of the
    way from the keyframe pose ``start`` to the next, ``end``, as CVAT interpolates it
    (:func:`box_between`, :func:`ellipse_between`, :func:`polygon_between`); None when it
    covers no pixel centre of the frame (an ellipse or polygon between two keyframes that
    do; a box is kept, as a box is, and left out later when wholly outside).

    Examples
    --------
    >>> shape_between("polygon", np.array([[0, 0], [4, 0], [4, 4]]),
    ...               np.array([[2, 0], [6, 0], [6, 4]]), 0.5, 8, 8)["polygons"][0].tolist()
    [[1.0, 0.0], [5.0, 0.0], [5.0, 4.0]]
    """
    if tag == "box":
        return box_between(start, end, a)
    if tag == "ellipse":
        return ellipse_between(start, end, a, height, width)
    points = polygon_between(start, end, a)
    if len(points) < 3 or not polygon_covers(points, height, width):
        return None
    return {"polygons": (points,)}


def _along(points: np.ndarray) -> np.ndarray:
    """Each point's distance from the first along the path through ``points`` (n, 2), added
    up step by step as CVAT adds them (so that near ties are paired as CVAT pairs them)."""
    dx, dy = np.diff(points, axis=0).T
    return np.concatenate([[0.0], np.cumsum(np.sqrt(dx**2 + dy**2))])


def _distance(p: np.ndarray, q: np.ndarray) -> float:
    return float(np.sqrt((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2))


def _length(points: np.ndarray) -> float:
    """The length of the path through ``points`` (n, 2)."""
    return float(_along(points)[-1])


def _perimeter_fractions(points: np.ndarray) -> np.ndarray:
    """Each point's distance along the path through ``points`` as a fraction of its length."""
    along = _along(points)
    return along / along[-1]


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
    >>> for c in caught:  # the second line wrapped here  # doctest: +NORMALIZE_WHITESPACE
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
