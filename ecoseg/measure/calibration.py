"""Spatial calibration: millimetres per pixel, from a number, a scale bar or laser points.

A calibration is stored with the mask store (``store.calibration``, a JSON dict) so every
table measured from the store later uses the same scale.

Command-line syntax (``ecoseg measure --calibration SPEC``), parsed by
:func:`parse_calibration`:

``0.5`` or ``0.5 mm/px``
    0.5 mm per pixel; the unit ``mm/px`` (as ecoseg prints a calibration) may follow the
    number and changes nothing (:func:`bare_spec`); any other unit is refused.
``scale-bar:x0,y0,x1,y1,length_mm``
    The two ends of a scale bar (or any object of known length) in video pixels, and its
    real length in millimetres: mm/px = length_mm / distance.
``lasers:x0,y0,x1,y1[,x2,y2,x3,y3...],spacing_mm``
    Spots of parallel lasers a known distance apart (the usual two-laser rig, or several
    pairs): consecutive points form pairs, mm/px = spacing_mm / mean pair distance.
``none``
    No calibration: measure in pixels and clear the one stored with the store
    (:func:`is_uncalibrated`; ``ecoseg measure`` and ``ecoseg classify``).
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecoseg._checks import did_you_mean, number_text, short_repr
from ecoseg._warn import warn
from ecoseg.errors import CalibrationError, CalibrationReplacedWarning

__all__ = [
    "MAX_MM_PER_PX",
    "METHODS",
    "MIN_MM_PER_PX",
    "SCALE_UNIT",
    "SPEC_FORMS",
    "Calibration",
    "as_calibration",
    "bare_spec",
    "is_uncalibrated",
    "parse_calibration",
    "scale_text",
    "warn_if_replaced",
]

#: Plausible range of a video calibration (0.1 um to 1 m per pixel); outside it the value is
#: almost certainly a unit mistake (m or um instead of mm, px/mm instead of mm/px).
MIN_MM_PER_PX = 1e-4
MAX_MM_PER_PX = 1e3

#: How a calibration is measured (its ``method``): a number, a scale bar, laser spots, a
#: synthetic clip's own scale, a napari layer's scale. A store's calibration is read whatever
#: its method says (:meth:`Calibration.from_dict`); a new one names one of these.
METHODS = ("scale", "scale_bar", "laser_points", "synthetic", "napari layer scale")

#: The one unit a number in a spec may carry: how ecoseg prints a calibration (``2.5 mm/px``).
SCALE_UNIT = "mm/px"

#: The forms of a calibration spec, as a refused one names them.
SPEC_FORMS = (
    "mm per pixel ('0.5' or '0.5 mm/px'), 'scale-bar:x0,y0,x1,y1,length_mm', "
    "'lasers:x0,y0,x1,y1[,...],spacing_mm' or 'none' (pixels)"
)

# a number (as float() reads it) and a unit after it: a letter or a slash, then anything
_DECIMAL_COMMA = re.compile(r"(?<=\d),(?=\d)")  # 2,5: a decimal comma, as many locales write it
_THOUSANDS = re.compile(r"(?<![\d.])[1-9]\d{0,2},\d{3}(?![\d.])")  # 1,000: or a thousands comma
_NUMBER_UNIT = re.compile(
    r"([-+]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?|inf(?:inity)?|nan))\s*((?:[^\W\d_]|/).*)",
    re.IGNORECASE,
)


def scale_text(mm_per_px: float) -> str:
    """``mm_per_px`` as ecoseg prints it, with every digit it needs: typed back (``ecoseg
    measure --calibration``, a study's ``calibration:``) it is the same number.

    Examples
    --------
    >>> scale_text(0.25), scale_text(25.0), scale_text(50 / 3)
    ('0.25 mm/px', '25 mm/px', '16.666666666666668 mm/px')
    """
    return f"{number_text(mm_per_px)} {SCALE_UNIT}"


def _check_scale(value: Any, what: str = "mm_per_px") -> float:
    if isinstance(value, bool | np.bool_):  # YAML `yes`/`true` is not a scale
        raise CalibrationError(f"calibration {what}={value!r} is not a number")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CalibrationError(f"calibration {what}={value!r} is not a number") from None
    if not math.isfinite(v):
        raise CalibrationError(f"calibration {what}={value!r} is not finite")
    if v <= 0:
        raise CalibrationError(f"calibration {what}={v:g} must be positive")
    if not MIN_MM_PER_PX <= v <= MAX_MM_PER_PX:
        raise CalibrationError(
            f"calibration {what}={v:g} mm/px is outside the plausible range "
            f"{MIN_MM_PER_PX:g}..{MAX_MM_PER_PX:g} (wrong unit?)"
        )
    return v


def _check_length(value: Any, what: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise CalibrationError(f"calibration {what}={value!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise CalibrationError(f"calibration {what}={value!r} must be a positive finite number")
    return v


def _points(points: Any, what: str) -> np.ndarray:
    try:
        p = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise CalibrationError(f"calibration {what} {points!r} are not numbers") from None
    if p.ndim != 2 or p.shape[1] != 2 or len(p) < 2:
        raise CalibrationError(f"calibration {what} must be (x, y) pairs, got shape {p.shape}")
    if not np.isfinite(p).all():
        raise CalibrationError(f"calibration {what} contain non-finite values: {p.tolist()}")
    return p


@dataclass(frozen=True)
class Calibration:
    """Millimetres per pixel and how they were obtained.

    Parameters
    ----------
    mm_per_px : float
        Length of one pixel side in millimetres (square pixels).
    method : str
        One of :data:`METHODS`: ``"scale"``, ``"scale_bar"``, ``"laser_points"``, ...
    details : dict
        The measurements it came from (JSON data), e.g. the scale-bar end points.

    Raises
    ------
    CalibrationError
        ``mm_per_px`` is not a finite number in ``MIN_MM_PER_PX .. MAX_MM_PER_PX``, or
        ``method`` is not one of :data:`METHODS`.

    Examples
    --------
    >>> cal = Calibration.from_scale_bar((10, 10), (110, 10), length_mm=50)
    >>> cal.mm_per_px
    0.5
    >>> Calibration.from_dict(cal.to_dict()) == cal
    True
    >>> print(cal)
    0.5 mm/px (scale bar)
    """

    mm_per_px: float
    method: str = "scale"
    details: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "mm_per_px", _check_scale(self.mm_per_px))
        if self.method not in METHODS:  # method="laser" was stored without a word
            raise CalibrationError(
                f"calibration method {short_repr(self.method)} is unknown"
                f"{did_you_mean(str(self.method), METHODS)}; known: {', '.join(METHODS)}"
            )
        object.__setattr__(self, "details", dict(self.details or {}))

    def __str__(self) -> str:
        """How ecoseg names a calibration in what it prints: every digit of its mm per pixel
        (:func:`scale_text`) and how it was measured (``16.666666666666668 mm/px
        (synthetic)``)."""
        return f"{scale_text(self.mm_per_px)} ({self.method.replace('_', ' ')})"

    def saved_over(self, stored: Calibration | None) -> Calibration:
        """The calibration to save in place of ``stored``: ``stored`` itself when this one is
        its mm per pixel typed back as a plain number (as ecoseg prints a calibration: the
        same scale, and the store keeps how it was measured), else this one.

        Examples
        --------
        >>> synthetic = Calibration(50 / 3, "synthetic")
        >>> Calibration.from_scale(50 / 3).saved_over(synthetic) is synthetic
        True
        >>> print(Calibration.from_scale(16.67).saved_over(synthetic))
        16.67 mm/px (scale)
        """
        typed_back = self.method == "scale" and not self.details
        if stored is not None and typed_back and stored.mm_per_px == self.mm_per_px:
            return stored
        return self

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_scale(cls, mm_per_px: float) -> Calibration:
        """A calibration given directly in mm per pixel.

        Examples
        --------
        >>> Calibration.from_scale(0.25).mm_per_px
        0.25
        """
        return cls(mm_per_px, "scale", {})

    @classmethod
    def from_scale_bar(cls, p0: Sequence[float], p1: Sequence[float], length_mm: float):
        """From the two ends of a scale bar, ``(x, y)`` in pixels, and its real length.

        Examples
        --------
        >>> Calibration.from_scale_bar((0, 0), (30, 40), 100).mm_per_px
        2.0
        """
        pts = _points([p0, p1], "scale-bar points")
        length = _check_length(length_mm, "length_mm")
        dist = float(np.hypot(*(pts[1] - pts[0])))
        if dist == 0:
            raise CalibrationError(f"calibration scale bar has zero length in pixels: {p0}, {p1}")
        return cls(
            length / dist,
            "scale_bar",
            {"p0": pts[0].tolist(), "p1": pts[1].tolist(), "length_mm": length, "px": dist},
        )

    @classmethod
    def from_laser_points(cls, points: Any, spacing_mm: float) -> Calibration:
        """From spots of parallel lasers ``spacing_mm`` apart.

        Parameters
        ----------
        points : array of float, shape (2K, 2)
            ``(x, y)`` pixel positions; rows ``2k`` and ``2k + 1`` are one laser pair.
        spacing_mm : float
            Distance between the lasers of a pair.

        Examples
        --------
        >>> Calibration.from_laser_points([(0, 0), (100, 0), (0, 50), (0, 150)], 20).mm_per_px
        0.2
        """
        pts = _points(points, "laser points")
        if len(pts) % 2:
            raise CalibrationError(
                f"calibration needs laser points in pairs, got {len(pts)} points"
            )
        spacing = _check_length(spacing_mm, "spacing_mm")
        d = np.hypot(*(pts[1::2] - pts[0::2]).T)
        if (d == 0).any():
            raise CalibrationError(
                f"calibration laser pair {int(np.flatnonzero(d == 0)[0])} has zero distance "
                "(its two spots are one point)"
            )
        mean = float(d.mean())
        return cls(
            spacing / mean,
            "laser_points",
            {"points": pts.tolist(), "spacing_mm": spacing, "px": d.tolist()},
        )

    def check_frame(self, width: int, height: int, where: object = None) -> None:
        """Refuse scale-bar ends or laser spots outside a ``width`` x ``height`` frame.

        Points are measured on the video, so one outside the frame (a scale bar longer than
        the frame, coordinates of another video, x and y swapped) is a mistake. Pixel centres
        are at integers, so the frame runs from -0.5 (the outer edge of the first pixel: where
        a line drawn in napari to the image's left or top edge ends) to ``width - 0.5`` /
        ``height - 0.5`` (the outer edge of the last pixel), the same half pixel on each side.

        Raises
        ------
        CalibrationError
            Naming the point (or the bar's length) and the frame size.

        Examples
        --------
        >>> Calibration.from_scale_bar((0, 0), (90, 0), 50).check_frame(96, 64)
        >>> Calibration.from_scale_bar((-0.5, 10), (95.5, 10), 48).check_frame(96, 64)
        >>> Calibration.from_scale_bar((0, 0), (5000, 0), 50).check_frame(96, 64, "m.zarr")
        Traceback (most recent call last):
        ...
        ecoseg.errors.CalibrationError: m.zarr: calibration scale-bar end (5000, 0) is outside \
the 96x64 px frame, whose pixels' outer edges run from -0.5 to 95.5 in x and 63.5 in y (the \
bar is 5000 px long; give its ends in the video's pixels)
        """
        d = self.details
        if self.method == "scale_bar" and "p0" in d and "p1" in d:
            what, points = "scale-bar end", [d["p0"], d["p1"]]
            hint = (
                f"the bar is {float(d.get('px', 0)):g} px long; give its ends in the video's pixels"
            )
        elif self.method == "laser_points" and "points" in d:
            what, points = "laser spot", list(d["points"])
            hint = "give the spots in the video's pixels"
        else:
            return
        prefix = "" if where is None else f"{where}: "
        for x, y in points:
            if not (-0.5 <= x <= width - 0.5 and -0.5 <= y <= height - 0.5):
                raise CalibrationError(
                    f"{prefix}calibration {what} ({x:g}, {y:g}) is outside the {width}x{height} "
                    f"px frame, whose pixels' outer edges run from -0.5 to {width - 0.5:g} in x "
                    f"and {height - 0.5:g} in y ({hint})"
                )

    # ------------------------------------------------------------------ conversion
    def to_dict(self) -> dict[str, Any]:
        """JSON-able form, as stored in ``store.calibration``.

        Examples
        --------
        >>> Calibration.from_scale(0.25).to_dict()
        {'mm_per_px': 0.25, 'method': 'scale'}
        """
        return {"mm_per_px": self.mm_per_px, "method": self.method, **self._details_entry()}

    def _details_entry(self) -> dict[str, Any]:
        return {"details": dict(self.details)} if self.details else {}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Calibration:
        """Inverse of :meth:`to_dict`; validates the value. The method is kept as the store
        says it, one of :data:`METHODS` or not (a store another ecoseg or tool wrote).

        Examples
        --------
        >>> Calibration.from_dict({"mm_per_px": 0.5, "method": "scale_bar"}).method
        'scale_bar'
        """
        if not isinstance(data, Mapping) or "mm_per_px" not in data:
            raise CalibrationError(f"calibration {data!r} has no 'mm_per_px'")
        cal = cls(data["mm_per_px"], "scale", data.get("details") or {})
        object.__setattr__(cal, "method", str(data.get("method", "scale")))
        return cal

    def save(self, store) -> None:
        """Write this calibration into a mask store opened for writing (``mode="a"``).

        Examples
        --------
        >>> from ecoseg.store import MaskStore
        >>> store = MaskStore.create("memory://doc-cal-save", height=2, width=2, overwrite=True)
        >>> Calibration.from_scale(0.25).save(store)
        >>> store.calibration
        {'mm_per_px': 0.25, 'method': 'scale'}
        """
        store.calibration = self.to_dict()

    @classmethod
    def load(cls, store) -> Calibration | None:
        """The calibration stored with a mask store, or None if it has none.

        Examples
        --------
        >>> import ecoseg, tempfile
        >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
        >>> with ecoseg.MaskStore.open(clip.truth) as store:
        ...     Calibration.load(store).mm_per_px
        25.0
        >>> print(Calibration.load(ecoseg.MaskStore.create("memory://doc-cal-load", height=2,
        ...                                                width=2, overwrite=True)))
        None
        """
        data = store.calibration
        return cls.from_dict(data) if data else None


def is_uncalibrated(spec: Any) -> bool:
    """Whether ``spec`` is the calibration spec ``"none"`` (any case, spaces around): measure in
    pixels and clear a store's calibration (``ecoseg measure`` / ``ecoseg classify
    --calibration none``).

    Examples
    --------
    >>> is_uncalibrated(" None "), is_uncalibrated("0.5"), is_uncalibrated(None)
    (True, False, False)
    """
    return isinstance(spec, str) and spec.strip().lower() == "none"


def parse_calibration(spec: str | float) -> Calibration:
    """Parse the command-line calibration syntax (see the module docstring).

    Raises
    ------
    CalibrationError
        Naming the spec and what is wrong with it.

    Examples
    --------
    >>> parse_calibration("0.5").mm_per_px, parse_calibration("0.5 mm/px").mm_per_px
    (0.5, 0.5)
    >>> parse_calibration("scale-bar:0,0,200,0,100").mm_per_px
    0.5
    >>> parse_calibration("lasers:10,10,10,110,50").mm_per_px
    0.5
    """
    if isinstance(spec, int | float):  # a number (a study file's YAML one): named as given
        with _named(spec, SPEC_FORMS, quote=False):
            return Calibration.from_scale(spec)
    text = str(spec).strip()
    kind, sep, rest = text.partition(":")
    if not sep:
        mm_per_px = _scale(text)
        with _named(text, SPEC_FORMS, quote=False):  # '0': the spec typed, not mm_per_px=0
            return Calibration.from_scale(mm_per_px)
    values = [_number(v, text) for v in rest.split(",")] if rest.strip() else []
    kind = kind.strip().lower().replace("_", "-")
    if kind == "scale-bar":
        if len(values) != 5:
            raise CalibrationError(
                f"calibration {text!r}: scale-bar needs x0,y0,x1,y1,length_mm "
                f"(5 numbers), got {len(values)}"
            )
        with _named(text, "scale-bar:x0,y0,x1,y1,length_mm"):
            return Calibration.from_scale_bar(values[0:2], values[2:4], values[4])
    if kind in ("lasers", "laser", "laser-points"):
        if len(values) < 5 or (len(values) - 1) % 4:
            raise CalibrationError(
                f"calibration {text!r}: lasers needs x0,y0,x1,y1[,...],spacing_mm "
                f"(4 numbers per pair + 1), got {len(values)}"
            )
        with _named(text, "lasers:x0,y0,x1,y1[,...],spacing_mm"):
            return Calibration.from_laser_points(np.reshape(values[:-1], (-1, 2)), values[-1])
    hint = did_you_mean(kind, ("scale-bar", "lasers"))  # "lazers:", "Scalebar:"
    raise CalibrationError(f"calibration {text!r}: unknown kind {kind!r}{hint}; give {SPEC_FORMS}")


@contextlib.contextmanager
def _named(spec: str, form: str, quote: bool = True) -> Iterator[None]:
    """Within: a :class:`CalibrationError` names the spec it came from and the ``form`` of
    its kind (``calibration 'lasers:1,1,1,1,100': laser pair 0 has zero distance (...);
    give 'lasers:x0,y0,x1,y1[,...],spacing_mm'``; ``quote=False``: ``form`` is prose, such
    as :data:`SPEC_FORMS`, given as it is)."""
    try:
        yield
    except CalibrationError as exc:
        reason = str(exc).removeprefix("calibration ")
        give = repr(form) if quote else form
        raise CalibrationError(f"calibration {spec!r}: {reason}; give {give}") from None


def bare_spec(spec: Any) -> Any:
    """``spec`` without the unit ``mm/px`` after its number, as ecoseg prints a calibration
    (``"2.5 mm/px"`` -> ``"2.5"``): the spec recorded and replayed, the same whichever of the
    two was typed; any other spec as given (a unit other than ``mm/px`` is left for
    :func:`parse_calibration` to refuse).

    Examples
    --------
    >>> bare_spec("2.5 mm/px"), bare_spec(" 0.833333MM / px"), bare_spec("2.5")
    ('2.5', '0.833333', '2.5')
    >>> bare_spec("scale-bar:0,0,200,0,100"), bare_spec("2.5 cm/px"), bare_spec(2.5)
    ('scale-bar:0,0,200,0,100', '2.5 cm/px', 2.5)
    """
    if isinstance(spec, str):
        number, unit = _split_unit(spec.strip())
        if _is_scale_unit(unit):
            return number
    return spec


def _split_unit(text: str) -> tuple[str, str | None]:
    """``text`` as its number and the unit after it (as typed), or ``(text, None)`` (a
    number such as ``1e9``, whose ``e9`` is no unit, or no number)."""
    try:
        float(text)
    except ValueError:
        match = _NUMBER_UNIT.fullmatch(text)
        if match is not None:
            return match[1], match[2].strip()
    return text, None


def _is_scale_unit(unit: str | None) -> bool:
    return unit is not None and re.sub(r"\s+", "", unit).lower() == SCALE_UNIT


def _scale(text: str) -> float:
    """The mm per pixel of a spec that is a number, alone or followed by ``mm/px``."""
    number, unit = _split_unit(text)
    if unit is not None and not _is_scale_unit(unit):
        raise CalibrationError(
            f"calibration {text!r}: unit {unit!r} is not accepted; give millimetres per pixel, "
            f"a number alone or followed by {SCALE_UNIT!r}"
        )
    try:
        return float(number)
    except ValueError:
        raise CalibrationError(
            f"calibration {text!r}: not a number nor a spec{_decimal_comma_hint(text)}; "
            f"give {SPEC_FORMS}"
        ) from None


def _decimal_comma_hint(text: str) -> str:
    """`` (a decimal comma: write 2.5)`` for a refused spec that is a number written with a
    decimal comma (``2,5``, ``0,25 mm/px``: one comma between digits, and no ``:``, so not
    the numbers of a ``scale-bar:``/``lasers:`` spec), else ``""``. A comma before three
    digits (``1,000``) may as well separate thousands: both readings are given, where the
    thousands one is a plausible scale (``12,500`` is no 12500 mm/px).

    Examples
    --------
    >>> _decimal_comma_hint("0,25 mm/px"), _decimal_comma_hint("2,5,3")
    (' (a decimal comma: write 0.25 mm/px)', '')
    >>> _decimal_comma_hint("1,000")
    ' (a thousands separator or a decimal comma: write 1000 or 1.000)'
    >>> _decimal_comma_hint("12,500")
    ' (a decimal comma: write 12.500)'
    """
    dotted = _DECIMAL_COMMA.sub(".", text)
    if text.count(",") != 1 or dotted == text or _scale_or_none(dotted) is None:
        return ""
    joined = _DECIMAL_COMMA.sub("", text)
    if _THOUSANDS.search(text) and (_scale_or_none(joined) or math.inf) <= MAX_MM_PER_PX:
        return f" (a thousands separator or a decimal comma: write {joined} or {dotted})"
    return f" (a decimal comma: write {dotted})"


def _scale_or_none(text: str) -> float | None:
    try:
        return _scale(text)
    except CalibrationError:
        return None


def _number(value: str, spec: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise CalibrationError(f"calibration {spec!r}: {value.strip()!r} is not a number") from None


def as_calibration(value: Any) -> Calibration | None:
    """Coerce None, a number, a CLI spec string, a dict or a :class:`Calibration`.

    Examples
    --------
    >>> as_calibration({"mm_per_px": 2}).mm_per_px
    2.0
    >>> as_calibration(None) is None
    True
    >>> as_calibration(0)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.CalibrationError: calibration=0: mm_per_px=0 must be positive; give mm per ...
    """
    if value is None or isinstance(value, Calibration):
        return value
    if isinstance(value, Mapping):
        return Calibration.from_dict(value)
    if isinstance(value, str):
        return parse_calibration(value)
    if isinstance(value, bool):
        raise CalibrationError(f"calibration {value!r} is not a number")
    try:
        return Calibration.from_scale(value)
    except CalibrationError as exc:  # as `--calibration 0` says it, the argument as typed
        reason = str(exc).removeprefix("calibration ")
        raise CalibrationError(f"calibration={value}: {reason}; give {SPEC_FORMS}") from None


def warn_if_replaced(store, new: Calibration | None) -> None:
    """Warn when ``new`` replaces another calibration stored with ``store`` (a store object;
    it keeps one): a different ``mm_per_px`` or way of measuring it, or none (pixels), named
    both (:class:`~ecoseg.errors.CalibrationReplacedWarning`), as ``ecoseg measure`` and
    ``ecoseg classify --calibration`` say it. Nothing stored, or the same one: no word.

    Examples
    --------
    >>> import warnings
    >>> from ecoseg.store import MaskStore
    >>> store = MaskStore.create("memory://doc-cal-warn", height=2, width=2, overwrite=True)
    >>> warn_if_replaced(store, Calibration.from_scale(0.5))  # none stored: no word
    >>> Calibration.from_scale(0.25).save(store)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     warn_if_replaced(store, Calibration.from_scale(0.5))
    >>> print(caught[0].message)
    memory://doc-cal-warn: the calibration 0.5 mm/px (scale) replaces the stored 0.25 mm/px \
(scale); sizes are now measured with the new one
    """
    old = Calibration.load(store)
    if old is None or (new is not None and old.to_dict() == new.to_dict()):
        return
    if new is None:
        then = "sizes are now in pixels"
    elif new.mm_per_px == old.mm_per_px:  # another way of measuring the same scale
        then = "the same mm per pixel: sizes are unchanged"
    else:
        then = "sizes are now measured with the new one"
    warn(
        f"{store.path}: the calibration {new or 'none (pixels)'} replaces the stored {old}; "
        + then,
        CalibrationReplacedWarning,
    )
