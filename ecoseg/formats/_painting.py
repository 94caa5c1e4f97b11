"""Instances drawn as masks: one instance's mask from its RLE, polygons or box
(:func:`rasterize`), and a frame's label image (:func:`paint_frame`).

A pixel belongs to a polygon or a box when its centre ``(col + 0.5, row + 0.5)`` is inside
or on its edge (see :mod:`ecoseg.formats._common` and :func:`box_pixels`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from ecoseg.errors import FormatError
from ecoseg.formats._annotation_model import Instance
from ecoseg.formats._rle import decode_rle, rle_area

__all__ = [
    "BoxesCutWarning",
    "box_pixels",
    "box_text",
    "no_pixel_error",
    "polygon_covers",
    "polygon_covers_anywhere",
    "rasterize",
    "refuse_empty_shapes",
    "paint_frame",
    "warn_cut_boxes",
]


class BoxesCutWarning(UserWarning):
    """Boxes of an imported file reach past the frame's edge: the store holds them cut to
    the frame, so a box format exported from it gives the cut boxes; those wholly outside it
    (the animal out of view) are left out."""


def rasterize(inst: Instance, height: int, width: int) -> np.ndarray:
    """The instance's mask: its RLE, else its polygons (pixel centres inside), else its box."""
    if inst.rle is not None:
        return decode_rle(inst.rle, height, width, inst.where)
    mask = np.zeros((height, width), bool)
    if inst.polygons:
        from skimage.draw import polygon as draw_polygon

        for poly in inst.polygons:
            # pixel centres sit at integer + 0.5 in edge coordinates; skimage tests integers
            rr, cc = draw_polygon(poly[:, 1] - 0.5, poly[:, 0] - 0.5, shape=(height, width))
            mask[rr, cc] = True
        return mask
    if inst.box is not None:
        c0, r0, c1, r1 = box_pixels(inst.box)
        mask[max(0, r0) : min(height, r1), max(0, c0) : min(width, c1)] = True
    return mask


def box_pixels(box) -> tuple[int, int, int, int]:
    """The pixels a box ``(x0, y0, x1, y1)`` in pixel edges covers, as ``(c0, r0, c1, r1)``
    (columns ``c0..c1 - 1``, rows ``r0..r1 - 1``): those whose centre ``(c + 0.5, r + 0.5)``
    is inside the box or on its edge, the rule polygons are filled by.

    An edge at a whole number falls between pixels; a fractional edge goes to the nearest
    pixel boundary, and an edge through pixel centres (``.5``) takes those pixels in, on every
    side and at every position (Python's ``round`` sent 2.5 to 2 and 3.5 to 4, so such a
    box grew or shrank by its position's parity).

    Examples
    --------
    >>> box_pixels((10.0, 20.0, 40.0, 60.0))
    (10, 20, 40, 60)
    >>> box_pixels((2.5, 3.5, 4.5, 5.5))  # edges through pixel centres: those pixels in
    (2, 3, 5, 6)
    >>> box_pixels((2.3, 2.7, 4.7, 4.2))
    (2, 3, 5, 4)
    """
    x0, y0, x1, y1 = box
    return (
        math.ceil(x0 - 0.5),
        math.ceil(y0 - 0.5),
        math.floor(x1 + 0.5),
        math.floor(y1 + 0.5),
    )


def polygon_covers(points: np.ndarray, height: int, width: int) -> bool:
    """Whether a polygon ``(x, y)`` (pixel edges) holds the centre of a pixel of the frame,
    as :func:`rasterize` fills it (without drawing the frame: :func:`_fills`).

    Examples
    --------
    >>> polygon_covers(np.array([[1, 1], [4, 1], [4, 3]]), 6, 8)
    True
    >>> polygon_covers(np.array([[1, 1], [4, 4], [7, 7]]), 6, 8)  # points on a line
    False
    """
    return _fills(np.asarray(points, np.float64), height, width)


def polygon_covers_anywhere(points: np.ndarray) -> bool:
    """Whether a polygon ``(x, y)`` (pixel edges) holds the centre of any pixel, wherever it
    lies (the frame's or not), as :func:`rasterize` would fill it on a frame large enough:
    one that holds none is a broken annotation, one that holds some, but none of the frame,
    is out of view there. Exact at any size (:func:`_fills`: a polygon spanning more than
    2048 x 2048 pixels was taken to cover some, a flat one too).

    Examples
    --------
    >>> polygon_covers_anywhere(np.array([[-9, 1], [-5, 1], [-5, 4]]))
    True
    >>> polygon_covers_anywhere(np.array([[-9, 1], [-5, 5], [-1, 9]]))  # points on a line
    False
    >>> polygon_covers_anywhere(np.array([[0, 0], [1e6, 1e6], [1e6, 1e6 + 1e-3]]))  # huge
    True
    >>> polygon_covers_anywhere(np.array([[0, 0], [1e6, 1e6], [2e6, 2e6]]))  # huge, flat
    False
    """
    return _fills(np.asarray(points, np.float64), None, None)


#: crossings (rows x edges) :func:`_fills` computes at a time, bounding its memory
_CHUNK = 2**20


def _fills(points: np.ndarray, height: int | None, width: int | None) -> bool:
    """Whether :func:`rasterize`'s fill (skimage's, pixel centres at integer + 0.5) paints a
    pixel of the ``height`` x ``width`` frame (None: of any frame), in time and memory of the
    rows it spans times its edges (a fill costs its box's area), in chunks of rows.

    On each row's centre line the edges' crossings (an edge crosses where one end is above
    the line and the other on or below it, the fill's rule) pair up, even-odd, into spans:
    a centre inside a span by more than rounding is painted. Centres the fill may paint that
    no span holds so are on the outline: near a crossing, on a horizontal edge along the
    line, at a vertex; those few are put to the fill's own test (skimage's
    ``points_in_poly``, the test its fill runs on every pixel of the box)."""
    p = points - 0.5  # pixel centres at integers, as rasterize shifts them for the fill
    x0, y0 = p[:, 0].copy(), p[:, 1].copy()  # an edge from (x0, y0) to (x1, y1)
    x1, y1 = np.concatenate((x0[1:], x0[:1])), np.concatenate((y0[1:], y0[:1]))
    xmin, ymin, xmax, ymax = float(x0.min()), float(y0.min()), float(x0.max()), float(y0.max())
    tol = 1e-9 * max(1.0, -xmin, -ymin, xmax, ymax)  # beyond rounding of the crossings
    r_lo, r_hi = math.ceil(ymin - tol), math.floor(ymax + tol)
    c_lo, c_hi = math.ceil(xmin - tol), math.floor(xmax + tol)
    if height is not None:
        r_lo, r_hi, c_lo, c_hi = (
            max(r_lo, 0),
            min(r_hi, height - 1),
            max(c_lo, 0),
            min(c_hi, width - 1),
        )
    if r_lo > r_hi or c_lo > c_hi:
        return False
    near: list[np.ndarray] = []  # (x, y) centres on the outline, for the fill's own test

    def outline_covers() -> bool:
        from skimage.measure import points_in_poly

        pts = np.concatenate(near) if near else np.empty((0, 2))
        pts = pts[
            (pts[:, 0] >= c_lo) & (pts[:, 0] <= c_hi) & (pts[:, 1] >= r_lo) & (pts[:, 1] <= r_hi)
        ]
        return any(points_in_poly(pts[k : k + _CHUNK], p).any() for k in range(0, len(pts), _CHUNK))

    slanted = y0 != y1
    ex0, ey0, ex1, ey1 = x0[slanted], y0[slanted], x1[slanted], y1[slanted]
    slope = (ex1 - ex0) / (ey1 - ey0)

    def spans_hold(rows: np.ndarray) -> bool:
        """Whether a centre lies well inside a span of one of ``rows`` (the others near a
        crossing go to ``near``)."""
        rows = rows.astype(np.float64)[:, None]
        xs = np.where((ey0 > rows) != (ey1 > rows), ex0 + (rows - ey0) * slope, np.inf)
        xs.sort(axis=1)  # an even number of crossings, then inf (one at least if odd)
        n = xs.shape[1] // 2 * 2
        first = np.maximum(np.floor(xs[:, 0:n:2] + tol) + 1, c_lo)  # first centre > left
        last = np.minimum(np.ceil(xs[:, 1:n:2] - tol) - 1, c_hi)  # last centre < right
        if (first <= last).any():  # (no span: inf <= c_hi is False)
            return True
        with np.errstate(invalid="ignore"):  # inf - inf where a row has fewer crossings
            r, k = np.nonzero(np.abs(xs - np.round(xs)) <= tol)
        near.append(np.stack([np.round(xs[r, k]), rows[r, 0]], axis=1))
        return False

    for f in (0.5, 0.25, 0.75):  # the common case, in O(points): a centre inside such a row
        if spans_hold(np.array([r_lo + math.floor(f * (r_hi - r_lo))])):
            return True
    corner = np.round(p)
    near.append(corner[(np.abs(corner - p) <= tol).all(axis=1)])
    flat = (y0 == y1) & (y0 == np.round(y0)) & (y0 >= r_lo) & (y0 <= r_hi)
    for xa, xb, y in zip(x0[flat], x1[flat], y0[flat]):  # horizontal edges along a line
        a = max(math.ceil(min(xa, xb) - tol), c_lo)
        b = min(math.floor(max(xa, xb) + tol), c_hi)
        for k in range(a, b + 1, _CHUNK):
            xs = np.arange(k, min(k + _CHUNK, b + 1), dtype=np.float64)
            near.append(np.stack([xs, np.full_like(xs, y)], axis=1))
    step = max(1, _CHUNK // max(1, len(ex0)))
    for start in range(r_lo, r_hi + 1, step):
        if spans_hold(np.arange(start, min(start + step, r_hi + 1))):
            return True
        if sum(len(n) for n in near) > _CHUNK:
            if outline_covers():
                return True
            near.clear()
    return outline_covers()


def no_pixel_error(
    where: str,
    kind: str,
    width: int,
    height: int,
    why: str = "no pixel has its centre inside",
    fix: str = "enlarge it or delete it",
) -> FormatError:
    """The refusal of a shape that covers no pixel of the frame (it was imported as nothing,
    without a word)."""
    return FormatError(
        f"{where}: the {kind} covers no pixel of the {width}x{height} frame ({why}): it would "
        f"be imported as nothing; {fix}"
    )


def refuse_empty_shapes(ann) -> None:
    """FormatError naming the first polygon or box of ``ann`` (an instance without a mask)
    that is a broken annotation: a polygon that covers no pixel of the frame (its points lie
    on a line, it lies beyond the frame), a box that holds no pixel centre wherever it lies
    (thinner than a pixel, between pixel centres). Each was imported as nothing, so the
    animal was missing from that frame (or the store) without a word. A box that holds pixel
    centres, but none of the frame, is an animal out of view there, not refused
    (:func:`~ecoseg.formats._left_out.leave_out_beyond` leaves it out), and so is a box's
    outline (CVAT's turned box, VIAME's ``(poly)``: polygons with a box) that does. A mask
    whose RLE sets no pixel (a COCO, YouTube-VIS or MOTS mask of counts ``[h * w]``) is
    refused as such a polygon is (it was imported as nothing too).

    Examples
    --------
    >>> from ecoseg.formats._annotation_model import Annotations, Track
    >>> ann = Annotations(width=8, height=6, n_frames=1, source="gt.txt", tracks=(Track(1),),
    ...                   instances=(Instance(0, 1, box=(2.6, 1, 3.4, 3), where="line 1"),))
    >>> refuse_empty_shapes(ann)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.FormatError: gt.txt: line 1: the box covers no pixel of the 8x6 frame ...
    """
    h, w = ann.height, ann.width
    polygons: dict[int, bool] = {}  # a shape held over frames is one tuple: tested once
    empty = _empty_masks(ann.instances)
    for inst in ann.instances:
        if inst.rle is not None:
            if id(inst) in empty:
                raise no_pixel_error(
                    f"{ann.source}: {inst.where}", "mask", w, h, "its RLE sets none"
                )
            continue
        if inst.polygons:
            kind = "polygon"
            key = id(inst.polygons)
            if key not in polygons:  # an outline in a box: out of view beyond the frame
                polygons[key] = any(
                    polygon_covers(p, h, w) or (inst.box is not None and polygon_covers_anywhere(p))
                    for p in inst.polygons
                )
            covers = polygons[key]
        elif inst.box is not None:
            kind = "box"
            c0, r0, c1, r1 = box_pixels(inst.box)
            covers = c1 > c0 and r1 > r0  # anywhere: one beyond the frame is out of view
        else:
            continue
        if not covers:
            raise no_pixel_error(f"{ann.source}: {inst.where}", kind, w, h)


def _empty_masks(instances) -> set[int]:
    """The ``id`` of each instance whose RLE sets no pixel."""
    return {id(i) for i in instances if i.rle is not None and rle_area(i.rle) == 0}


def warn_cut_boxes(ann, beyond=(), *, stored: bool = True) -> None:
    """One :class:`BoxesCutWarning` when boxes of ``ann`` (box-only instances) reach past the
    frame's edge (MOT ground truth has many, of people half out of view), or ``beyond`` (the
    boxes wholly outside the frame, left out of ``ann``) is not empty, naming how many and the
    first; nothing when none does. ``stored=False`` (annotations read, not stored): those left
    out only, since the others are kept as the file gives them.

    Examples
    --------
    >>> import warnings
    >>> from ecoseg.formats._annotation_model import Annotations, Track
    >>> ann = Annotations(width=8, height=6, n_frames=1, source="gt.txt", tracks=(Track(1),),
    ...                   instances=(Instance(0, 1, box=(-2, 1, 4, 3), where="line 1"),))
    >>> with warnings.catch_warnings(record=True) as seen:
    ...     warnings.simplefilter("always")
    ...     warn_cut_boxes(ann)
    ...     warn_cut_boxes(ann, (Instance(1, 1, box=(9, 1, 12, 3), where="line 2"),))
    >>> print(seen[0].message)  # doctest: +ELLIPSIS
    gt.txt: 1 box reaches past the edge of the 8x6 frame (line 1 first: x -2..4, y 1..3); ...
    >>> print(seen[1].message)  # doctest: +ELLIPSIS
    gt.txt: 2 boxes reach past the edge of the 8x6 frame (line 1 first: ...), 1 so far that ...
    """
    from ecoseg._warn import warn

    cut = [
        inst
        for inst in (ann.instances if stored else ())
        if inst.box is not None
        and inst.rle is None
        and not inst.polygons
        and (min(inst.box[:2]) < 0 or inst.box[2] > ann.width or inst.box[3] > ann.height)
    ]
    size = f"{ann.width}x{ann.height}"
    if not cut and not beyond:
        return
    if not cut:
        many = f"{len(beyond)} boxes lie" if len(beyond) > 1 else "1 box lies"
        warn(
            f"{ann.source}: {many} outside the {size} frame, covering no pixel of it "
            f"({beyond[0].where} first: {box_text(beyond[0].box)}): left out, as the animal "
            "is out of view there",
            BoxesCutWarning,
        )
        return
    n = len(cut) + len(beyond)
    first = min(cut + list(beyond), key=lambda i: (i.frame, i.track))
    many = f"{n} boxes reach" if n > 1 else "1 box reaches"
    gone = ""
    if beyond:
        gone = (
            f", {len(beyond)} so far that {'they cover' if len(beyond) > 1 else 'it covers'} "
            f"no pixel of it ({beyond[0].where} first: {box_text(beyond[0].box)}): left out, "
            "as the animal is out of view there"
        )
    warn(
        f"{ann.source}: {many} past the edge of the {size} frame "
        f"({first.where} first: {box_text(first.box)}){gone}; the store holds such boxes cut "
        "to the frame, so a box format exported from it gives the cut boxes",
        BoxesCutWarning,
    )


def box_text(box) -> str:
    """A box ``(x0, y0, x1, y1)`` as the warnings and refusals of boxes outside the frame
    name it.

    Examples
    --------
    >>> box_text((650.0, 2, 700.5, 60))
    'x 650..700.5, y 2..60'
    """
    x0, y0, x1, y1 = box
    return f"x {x0:g}..{x1:g}, y {y0:g}..{y1:g}"


def paint_frame(instances: Iterable[Instance], height: int, width: int) -> np.ndarray:
    """Label image (uint32) of one frame's instances.

    Larger objects are painted first, so where masks or boxes overlap the smaller object stays
    visible (a box-only format then gives the covered object a smaller box).
    """
    labels = np.zeros((height, width), np.uint32)
    items = []
    for inst in instances:
        mask = rasterize(inst, height, width)
        items.append((int(mask.sum()), inst.track, mask))
    for _, track, mask in sorted(items, key=lambda item: (-item[0], item[1])):
        labels[mask] = track
    return labels
