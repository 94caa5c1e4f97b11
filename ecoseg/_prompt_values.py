"""Checks of the values in a prompt: numbers, click labels, boxes against the frame, and
class and concept names spelled alike but for case or spacing.

Public names in a private module: :mod:`ecoseg.prompts` uses them for SAM 2 objects and SAM 3
exemplars alike, so one mistake gets one wording (and offers :func:`check_concept_names` as its
own). Names are compared as the stores spell them (:func:`ecoseg.provenance.class_key`). JSON
``true`` is Python's ``True``, an ``int``, and ``np.asarray(["10"], float)`` reads text as a
number: neither is a number here.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable

import numpy as np

from ecoseg._warn import warn
from ecoseg.errors import PromptClippedWarning, PromptError
from ecoseg.provenance import class_key, clean_class_name

__all__ = [
    "blank_text",
    "check_box",
    "check_concept_names",
    "check_concept_text",
    "check_frame",
    "check_object_classes",
    "check_points",
    "click_labels",
    "exemplar_label",
    "image_boxes",
    "image_points",
    "fit_box",
    "float_array",
    "is_number",
    "shown",
]


def is_number(value, kinds: str = "iuf") -> bool:
    """Whether ``value`` is a number, or nested lists of numbers, of these numpy kinds
    (``"iu"``: integers only); true/false and text never are.

    Examples
    --------
    >>> is_number([1, 2.5]), is_number([True, 0]), is_number("10"), is_number(1.0, "iu")
    (True, False, False, False)
    """
    if isinstance(value, list | tuple):
        return all(is_number(v, kinds) for v in value)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):
        return False
    if arr.dtype.kind == "O" and arr.ndim:
        return all(is_number(v, kinds) for v in arr.ravel().tolist())
    return arr.dtype.kind in kinds


def shown(value) -> str:
    """``value`` as a prompt file spells it (``true``, ``"10"``), else as Python does.

    Examples
    --------
    >>> shown([True, "10"]), shown(np.zeros(1))
    ('[true, "10"]', 'array([0.])')
    """
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)


def float_array(value, where: str, what: str) -> np.ndarray:
    """``value`` (coordinates) as finite float64 numbers; None is none.

    Raises
    ------
    PromptError
        Not numbers (text, true/false), NaN or infinity, or ``"points"`` not in pairs; the
        message starts with ``where``.

    Examples
    --------
    >>> float_array([[1, 2]], "frame 0", "points").tolist()
    [[1.0, 2.0]]
    >>> float_array([0, 0, "10", 5], "frame 0", "box")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: frame 0: box must be numbers (not text or true/false), got \
[0, 0, "10", 5]
    """
    value = value if value is not None else []
    if not is_number(value):
        raise PromptError(
            f"{where}: {what} must be numbers (not text or true/false), got {shown(value)}"
        )
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):  # ragged lists
        raise PromptError(f"{where}: {what} must be numbers, got {shown(value)}") from None
    if not np.isfinite(arr).all():
        verb = "contain" if what.endswith("s") else "contains"  # points contain, a box contains
        raise PromptError(f"{where}: {what} {verb} NaN or infinity: {arr.tolist()}")
    if what == "points" and arr.size % 2:
        raise PromptError(f"{where}: points must be [[x, y], ...], got {arr.tolist()}")
    return arr


def click_labels(value, where: str) -> np.ndarray:
    """Click labels as int64: each the integer 1 (on the object) or 0 (not on it), flat.

    The one check of every route a click label takes to a network: prompt files and
    :class:`ecoseg.prompts.FramePrompt`, :func:`ecoseg.engine.propagate` and a session's
    ``add_prompts`` (prompts of any type), the SAM 2 and SAM 3 image predictors. SAM 2's
    network also reads 2 and 3 (a box's corners, which a box gives) and -1 (padding): as
    click labels they would be taken for a box or for nothing.

    Raises
    ------
    PromptError
        Another value (2, 3, -1), ``true``/``false``, ``1.0`` or ``1.7`` among them.

    Examples
    --------
    >>> click_labels([1, 0], "frame 0").tolist()
    [1, 0]
    >>> click_labels([True], "frame 0")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: frame 0: click labels must be integers 0 or 1, got [true]
    """
    value = value if value is not None else []
    try:
        labels = np.asarray(value).reshape(-1)
    except (TypeError, ValueError):
        labels = None
    if labels is None or not is_number(value, "iu") or not np.isin(labels, (0, 1)).all():
        given = value.tolist() if isinstance(value, np.ndarray) else value  # [2], not array([2])
        raise PromptError(f"{where}: click labels must be integers 0 or 1, got {shown(given)}")
    return labels.astype(np.int64)


def exemplar_label(value, where: str) -> int:
    """An exemplar's label: the integer 1 (around an instance) or 0 (around something that is
    not one); ``true`` and ``1.0`` are not labels (a prompt file's exemplars and the SAM 3
    image predictor's alike).

    Examples
    --------
    >>> exemplar_label(0, "exemplar 2")
    0
    >>> exemplar_label(1.5, "exemplar 2")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: exemplar 2: label must be the integer 1 (positive) or 0 \
(negative), got 1.5
    """
    if not is_number(value, "iu") or np.ndim(value) or value not in (0, 1):
        raise PromptError(
            f"{where}: label must be the integer 1 (positive) or 0 (negative), got {shown(value)}"
        )
    return int(value)


def check_frame(frame: int, n_frames: int | None, where: str) -> None:
    """Refuse a prompt's ``frame`` outside a video of ``n_frames`` frames (``0 <= frame <
    n_frames``; ``None``: the length is not known, any frame passes). Every route a prompt
    takes (:meth:`ecoseg.prompts.Prompts.validate`, a session's ``add_prompts``) checks it
    here.

    Raises
    ------
    PromptError
        The frame is outside the video; ``where`` starts the message.

    Examples
    --------
    >>> check_frame(4, 5, "object 1, frame 4")
    >>> check_frame(5, 5, "object 1, frame 5")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: object 1, frame 5: frame index out of range (video has 5 frames)
    """
    if n_frames is not None and not 0 <= frame < n_frames:
        raise PromptError(f"{where}: frame index out of range (video has {n_frames} frames)")


def check_points(points, width: int, height: int, where: str, area: str = "frame") -> None:
    """Refuse a click ``(x, y)`` outside a ``width`` x ``height`` frame (or ``area``): inside is
    ``0 <= x < width`` and ``0 <= y < height``.

    A click names a pixel, as in SAM 2, whose prompt encoder moves a point to the centre of
    its pixel (``+ 0.5``): ``x == width`` is the centre of a pixel past the edge. A box's
    corners are edges instead, so a box may end at ``width`` (see :func:`fit_box`). Every
    route a click takes (prompt files, :meth:`ecoseg.prompts.Prompts.validate`, a session's
    ``add_prompts``, napari) checks it here.

    Raises
    ------
    PromptError
        A point outside the frame; ``where`` starts the message.

    Examples
    --------
    >>> check_points([[0, 0], [63.5, 47.9]], 64, 48, "object 1, frame 0")
    >>> check_points([[64, 10]], 64, 48, "object 1, frame 0")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: object 1, frame 0: point (64, 10) is outside the 64x48 frame
    """
    points = points if points is not None else []
    for x, y in np.asarray(points, dtype=np.float64).reshape(-1, 2).tolist():
        if not (0 <= x < width and 0 <= y < height):
            raise PromptError(
                f"{where}: point ({x:g}, {y:g}) is outside the {width}x{height} {area}"
            )


def check_box(box, where: str) -> np.ndarray:
    """``box`` as ``[x0, y0, x1, y1]`` float64 numbers, refused in one line starting with
    ``where`` when it is not four numbers in one flat list (corner pairs ``[[x0, y0], [x1,
    y1]]`` too: read flat, they were taken silently) or is empty or inverted: an object's box
    and an exemplar's alike, in a prompt file and in Python.

    Examples
    --------
    >>> check_box([0, 0, 10, 5], "frame 0").tolist()
    [0.0, 0.0, 10.0, 5.0]
    >>> check_box([[0, 0], [10, 5]], "frame 0")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: frame 0: box must be [x0, y0, x1, y1], got [[0.0, 0.0], [10.0, 5.0]]
    >>> check_box([10, 0, 10, 5], "frame 0")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: frame 0: box [10.0, 0.0, 10.0, 5.0] is empty or inverted (need \
x0 < x1, y0 < y1)
    """
    arr = float_array(box, where, "box")
    if arr.shape != (4,):
        raise PromptError(f"{where}: box must be [x0, y0, x1, y1], got {arr.tolist()}")
    if not (arr[0] < arr[2] and arr[1] < arr[3]):
        raise PromptError(
            f"{where}: box {arr.tolist()} is empty or inverted (need x0 < x1, y0 < y1)"
        )
    return arr


def fit_box(box, width: int, height: int, where: str, area: str = "frame") -> np.ndarray | None:
    """``box`` ``(x0, y0, x1, y1)`` cut to a ``width`` x ``height`` frame (or ``area``), with a
    :class:`~ecoseg.errors.PromptClippedWarning`; None when it lies inside the frame.

    Raises
    ------
    PromptError
        The box lies wholly outside the frame; ``where`` starts the message.

    Examples
    --------
    >>> fit_box([0, 0, 10, 10], 64, 48, "object 1, frame 0") is None
    True
    >>> fit_box([70, 0, 80, 10], 64, 48, "object 1, frame 0")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: object 1, frame 0: box [70.0, 0.0, 80.0, 10.0] is outside the \
64x48 frame
    """
    box = np.asarray(box, dtype=np.float64)
    x0, y0, x1, y1 = box.tolist()
    if x1 <= 0 or y1 <= 0 or x0 >= width or y0 >= height:
        raise PromptError(f"{where}: box {box.tolist()} is outside the {width}x{height} {area}")
    cut = np.clip(box, 0, [width, height, width, height])
    if (cut == box).all():
        return None
    warn(
        f"{where}: box {box.tolist()} reaches past the edge of the {width}x{height} {area}; "
        f"cut to {cut.tolist()}",
        PromptClippedWarning,
    )
    return cut


def image_points(points, width: int, height: int) -> None:
    """Refuse a click outside a ``width`` x ``height`` image (:func:`check_points`), in
    ``(N, 2)`` or ``(K, N, 2)`` points, naming its index (``points[1]``, ``points[0][2]``): the
    SAM 2 and SAM 3 image predictors (whose click labels are :func:`click_labels`).

    Examples
    --------
    >>> image_points([[5, 5], [64, 10]], 64, 48)
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: points[1]: point (64, 10) is outside the 64x48 image
    """
    arr = np.asarray(points, dtype=np.float64)
    for index in np.ndindex(arr.shape[:-1]):
        where = "points" + "".join(f"[{i}]" for i in index)
        check_points(arr[index], width, height, where, "image")


def image_boxes(boxes, width: int, height: int, name: str = "box") -> np.ndarray:
    """``(K, 4)`` boxes checked as a prompt file's are (:func:`check_box`, :func:`fit_box`
    against a ``width`` x ``height`` image), each named by its index (``box[1]``; ``box`` for
    one flat box): the SAM 2 and SAM 3 image predictors.

    Examples
    --------
    >>> image_boxes([[0, 0, 10, 5], [2, 2, 8, 8]], 64, 48).tolist()
    [[0.0, 0.0, 10.0, 5.0], [2.0, 2.0, 8.0, 8.0]]
    >>> image_boxes([[0, 0, 10, 5], [8, 2, 2, 8]], 64, 48)
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: box[1]: box [8.0, 2.0, 2.0, 8.0] is empty or inverted (need \
x0 < x1, y0 < y1)
    """
    rows = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    checked = []
    for i, row in enumerate(rows):
        where = name if np.ndim(boxes) == 1 else f"{name}[{i}]"
        row = check_box(row, where)
        cut = fit_box(row, width, height, where, "image")  # outside: refused; past: cut
        checked.append(row if cut is None else cut)
    return np.asarray(checked, dtype=np.float64).reshape(-1, 4)


def blank_text(text) -> str | None:
    """How a concept's text says nothing, in words (a blank echoed as ``' '`` is hard to
    read); None for a text with a letter in it, or for no text.

    Examples
    --------
    >>> blank_text("  "), blank_text(""), blank_text("\\t"), blank_text("wrasse")
    ('blank (only spaces)', 'empty', 'blank (only whitespace)', None)
    """
    if not isinstance(text, str) or text.strip():
        return None
    if not text:
        return "empty"
    return "blank (only spaces)" if set(text) == {" "} else "blank (only whitespace)"


def check_concept_text(text, where: str = "concept", kind: str = "concept") -> None:
    """Refuse a concept text with a line break, a NUL or another control character (a tab is
    white space): a concept is one name on one line, and its text is the class its tracks get
    (a prompt file's, ``--concepts``, :class:`ecoseg.prompts.Concept`, the SAM 3 image
    predictor's ``text=``). A name folded onto one line, or cut at a NUL, is another name.
    Discovery's class rules name classes so too (``kind="class"``).

    Examples
    --------
    >>> check_concept_text("parrot\\tfish")
    >>> check_concept_text("parrotfish\\nwrasse")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: concept 'parrotfish\\nwrasse' holds a line break: a concept is \
one name on one line
    """
    for ch in text if isinstance(text, str) else ():
        if ch in _LINE_BREAKS:
            what = "a line break"
        elif unicodedata.category(ch) == "Cc" and ch != "\t":
            what = "a NUL character" if ch == "\0" else f"the control character {ch!r}"
        else:
            continue
        raise PromptError(f"{where} {text!r} holds {what}: a {kind} is one name on one line")


def check_concept_names(concepts, classes: Iterable[str] = (), where: str = "") -> None:
    """Refuse concepts named twice, or spelled like another concept or class but not alike,
    a concept whose text is a class ecoseg keeps for tracks nobody named (``unknown``,
    ``visual``, in any case), and one with a comma (two names typed as one, as napari's
    *find* box would split them).

    Tracks take their concept's name as class, and every table counts classes by their exact
    spelling: ``"Parrotfish"`` and ``"parrotfish"`` would be two species in MaxN.

    Parameters
    ----------
    concepts : sequence of Concept
    classes : iterable of str
        Class names already in use (prompted objects' classes), which a concept may repeat
        exactly but not in another case or spacing.
    where : str
        How ``classes`` are named in the message (e.g. ``"object 3's class"``).

    Raises
    ------
    PromptError
        Naming both spellings.

    Examples
    --------
    >>> from ecoseg.prompts import Concept
    >>> check_concept_names([Concept("wrasse"), Concept("Parrotfish")], ["parrotfish"])
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: concept 'Parrotfish' and the class 'parrotfish' differ only in \
case or spacing: their tracks would be counted as two species; spell them the same
    """
    seen: dict[str, str] = {}
    for c in concepts:
        key = class_key(c.name)  # a concept of exemplars alone is the class "visual"
        if c.text and key in _RESERVED:  # typed: the class of tracks nobody named
            raise PromptError(f"concept {c.text!r} is {_RESERVED[key]}")
        if c.text and "," in c.text:  # "parrotfish,wrasse": one concept, tracked as one class
            parts = [repr(p.strip()) for p in c.text.split(",") if p.strip()]
            fix = "give each concept as a name of its own" if len(parts) > 1 else "leave it out"
            raise PromptError(
                f"concept {c.text!r} holds a comma: it would be one concept, its tracks one "
                f"class; {fix} ({', '.join(parts)})"
            )
        if key in seen:
            if not c.text:  # so was the other: no text may be "visual"
                raise PromptError(
                    "two concepts without text would both be the class 'visual': their "
                    "tracks would be counted as one species; give each a text"
                )
            if seen[key] == c.name:
                raise PromptError(f"concept {c.name!r} is given twice")
            raise PromptError(
                f"concepts {seen[key]!r} and {c.name!r} {_ALIKE}; give the concept once"
            )
        seen[key] = c.name
    for name in classes:
        other = seen.get(class_key(name))  # one spelling in the store: one species, fine
        if other is not None and clean_class_name(other) != clean_class_name(name):
            raise PromptError(
                f"concept {other!r} and {where or 'the class'} {name!r} "
                f"{_ALIKE}; spell them the same"
            )


def check_object_classes(objects) -> None:
    """Refuse two objects whose classes differ only in letter case (``"Parrotfish"``,
    ``"parrotfish"``): every table would count them as two species. Classes the store spells
    alike (``"parrotfish "``, ``"Unknown"`` and ``"unknown"``) are one class."""

    seen: dict[str, tuple[int, str]] = {}
    for o in objects:
        first = seen.setdefault(class_key(o.class_), (o.id, o.class_))
        if clean_class_name(first[1]) != clean_class_name(o.class_):
            raise PromptError(
                f"objects {first[0]} and {o.id}: classes {first[1]!r} and {o.class_!r} differ "
                "only in case: their tracks would be counted as two species; spell them the same"
            )


#: Characters that end a line (Python's str.splitlines, less the tab-like \x0b and \x0c).
_LINE_BREAKS = "\n\r\x1c\x1d\x1e\x85\u2028\u2029"

#: Texts a person cannot give a concept: the classes ecoseg gives tracks nobody named (their
#: tracks would be counted apart as unnamed, or named by ``classify`` as a guess).
_RESERVED = {
    "unknown": "the class of tracks nobody named: its tracks would be counted apart as "
    'unnamed, not as a species; give the name of what to find (e.g. "parrotfish")',
    "visual": "the class of a concept of exemplar boxes alone, whose tracks classify names as "
    'a guess; give the name of what to find (e.g. "parrotfish"), or leave the text out to '
    "find what the exemplar boxes show",
}

#: How two names alike but for case or spacing are refused (a concept's text is kept in its
#: one spelling, so two Unicode forms of one name are the same name, "given twice").
_ALIKE = "differ only in case or spacing: their tracks would be counted as two species"
