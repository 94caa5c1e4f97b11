"""The values of a file's fields: finite numbers, integers, object ids, scores and class
sources, or a FormatError naming where the value is and what it should be."""

from __future__ import annotations

import math
import re
from typing import Any

from ecoseg.errors import FormatError
from ecoseg.provenance import CLASS_SOURCES

__all__ = [
    "ANOTHER_SIZE",
    "ANOTHER_VIDEO",
    "SizeMismatch",
    "class_source",
    "flag",
    "number",
    "integer",
    "positive_id",
    "probability",
    "size_differs",
]


ANOTHER_VIDEO = "is it the annotation of another video? Use it with the video it was made for"
"""How an import's refusal of a file that does not fit the video ends (frames past its end)."""

ANOTHER_SIZE = (
    "is it the annotation of another video (or of another frame size)? Use it with the "
    "video it was made for"
)
"""How an import's refusal of a file of another frame size ends (its recorded size, or its
boxes outside the frame)."""


class SizeMismatch(FormatError):
    """A size in an annotation file, or of a truth PNG, that is not the video's
    (:func:`size_differs`). ``parts`` holds what it says, so a caller that knows more of the
    video says it again naming it (``ecoseg.formats.import_annotations``: the video's path;
    ``ecoseg.evaluate``: the video and its store)."""

    parts: tuple[str, str, int, int] = ("", "", 0, 0)


def size_differs(
    where: str, found: str, width: int, height: int, *, of: str = "the video"
) -> SizeMismatch:
    """The error of a size ``found`` at ``where`` (a file, its line or element) that is not
    the ``width`` x ``height`` of ``of`` (the video, as far as the caller can name it): the
    one wording of the import's refusals and evaluate's.

    Examples
    --------
    >>> print(size_differs("gt.txt: line 3", "image size 64x48", 1920, 1080))
    gt.txt: line 3: image size 64x48, but the video is 1920x1080
    >>> error = size_differs("pngs/00000.png", "mask size 80x48", 64, 48)
    >>> print(size_differs(*error.parts, of="the video V.mp4 of the store S.zarr"))
    pngs/00000.png: mask size 80x48, but the video V.mp4 of the store S.zarr is 64x48
    """
    error = SizeMismatch(f"{where}: {found}, but {of} is {width}x{height}")
    error.parts = (where, found, width, height)
    return error


def number(value: Any, where: str, what: str) -> float:
    """A finite float, or FormatError naming ``where`` and ``what``."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise FormatError(f"{where}: {what} {value!r} is not a number") from None
    if not math.isfinite(out):
        raise FormatError(f"{where}: {what} {value!r} is not a finite number")
    return out


#: an integer's text, taken exactly by :func:`integer`
_INTEGER = re.compile(r"[-+]?[0-9]+")


def integer(value: Any, where: str, what: str) -> int:
    """An integer (also from '12' or 12.0), or FormatError. Integers and their text are
    taken exactly, not through a float (which named a frame 99999999999999999999 as
    100000000000000000000, an id 2**64 + 1 as 2**64).

    Examples
    --------
    >>> integer("99999999999999999999", "gt.txt: line 1", "frame"), integer(12.0, "a", "id")
    (99999999999999999999, 12)
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
        return int(value)
    out = number(value, where, what)
    if out != int(out):
        raise FormatError(f"{where}: {what} {value!r} is not an integer")
    return int(out)


def positive_id(value: Any, where: str) -> int:
    """An object id in 1..2**32-1, or FormatError."""
    oid = integer(value, where, "object id")
    if not 0 < oid < 2**32:
        raise FormatError(f"{where}: object id {oid} is outside 1..4294967295")
    return oid


def probability(value: Any, where: str, what: str = "score") -> float:
    """A score in [0, 1] (a store's scores are probabilities), or FormatError naming
    ``where``, ``what`` and the value, and how to rescale it.

    Detectors that write confidences in percent (35.0) or as raw logits (-2.3, 7.1) give
    values outside [0, 1]; no format ecoseg reads defines how to rescale them, so the file is
    refused rather than stored with a score no threshold or mean can use.

    Examples
    --------
    >>> probability("0.25", "gt.txt: line 1", "conf")
    0.25
    >>> probability(35.0, "gt.txt: line 3", "conf")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.FormatError: gt.txt: line 3: conf 35.0 is not a score in [0, 1]: rescale ...
    """
    out = number(value, where, what)
    if not 0.0 <= out <= 1.0:
        raise FormatError(
            f"{where}: {what} {value!r} is not a score in [0, 1]: rescale the file's scores "
            "(percentages: divide by 100; logits: apply a sigmoid)"
        )
    return out


def class_source(value: Any, where: str) -> str:
    """An object's class source (ecoseg's ``class_source`` in CVAT, COCO and YouTube-VIS):
    one of :data:`ecoseg.provenance.CLASS_SOURCES`, or FormatError naming ``where``.

    Examples
    --------
    >>> class_source("reviewed", "a.json: annotations[0]")
    'reviewed'
    >>> class_source("model", "a.json: annotations[3]")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.json: annotations[3]: class_source 'model' is not one of \
prompt, concept, reviewed, classified, rule, unknown
    """
    if value not in CLASS_SOURCES:
        raise FormatError(
            f"{where}: class_source {value!r} is not one of {', '.join(CLASS_SOURCES)}"
        )
    return str(value)


def flag(value: Any, where: str, what: str) -> bool:
    """A yes/no field: JSON's ``true``/``false``, or their text (``"true"``, ``"false"``, any
    case: a CVAT attribute's, a VIAME attribute's), or FormatError naming ``where`` and
    ``what``.

    Examples
    --------
    >>> flag(False, "a.json: annotations[0]", "reviewed"), flag(" True", "a.xml", "reviewed")
    (False, True)
    >>> flag(0, "a.json: annotations[2]", "reviewed")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.json: annotations[2]: reviewed 0 is not true or false
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise FormatError(f"{where}: {what} {value!r} is not true or false")
