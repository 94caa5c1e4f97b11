"""Checks of user-given numbers and parameter names shared by ecoseg's modules (one wording for
one mistake), and the one way a number is written back for a user to type again."""

from __future__ import annotations

import dataclasses
import difflib
import numbers
import os
from typing import Any

import numpy as np

__all__ = [
    "as_int",
    "check_field_kinds",
    "check_path_arg",
    "check_switch",
    "did_you_mean",
    "few_items",
    "field_values",
    "frame_range",
    "non_negative_int",
    "number_text",
    "positive_int",
    "short_repr",
    "whole_number",
]


def as_int(value) -> int:
    """``value`` as an int when it is a whole number (``3``, ``3.0``, ``np.int64(3)``).

    Raises
    ------
    ValueError
        ``value`` is a bool or has a fractional part.
    TypeError
        ``value`` is not a number.

    Examples
    --------
    >>> as_int(4.0), as_int(np.uint8(7))
    (4, 7)
    >>> as_int(2.5)
    Traceback (most recent call last):
    ...
    ValueError: 2.5
    """
    if isinstance(value, bool) or not float(value).is_integer():
        raise ValueError(value)
    return int(value)


def whole_number(value) -> int:
    """``value`` as an int when it is a whole number of any numeric type (``2.0`` from a pandas
    column, ``np.int64``): the one rule for a frame number a user gives in Python. Never text
    (``"12"``, which ``float`` would read), a bool, a fraction or infinity.

    Raises
    ------
    ValueError
        ``value`` is anything else (one exception, for the caller's message).

    Examples
    --------
    >>> whole_number(2.0), whole_number(np.int64(5))
    (2, 5)
    >>> whole_number("12")
    Traceback (most recent call last):
    ...
    ValueError: 12
    """
    try:
        if isinstance(value, str | bytes):
            raise TypeError(value)
        return as_int(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(value) from None


def frame_range(start, stop, n: int) -> tuple[int, int]:
    """``start:stop`` of ``n`` frames by Python's slice rules, taking whole numbers of any type
    (``2.0`` from a pandas column, ``np.int64``: :func:`whole_number`); anything else is a
    TypeError naming it (the one rule of the store's and the video readers' frame ranges).

    Examples
    --------
    >>> frame_range(2.0, None, 10), frame_range(-3, None, 10)
    ((2, 10), (7, 10))
    >>> frame_range(0.5, 4, 10)
    Traceback (most recent call last):
    ...
    TypeError: start must be a whole frame number or None, got 0.5
    """
    bounds = []
    for name, value in (("start", start), ("stop", stop)):
        try:
            bounds.append(None if value is None else whole_number(value))
        except ValueError:
            got = short_repr(value)
            raise TypeError(f"{name} must be a whole frame number or None, got {got}") from None
    first, last, _ = slice(*bounds).indices(n)
    return first, last


def positive_int(
    value,
    name: str,
    *,
    where: object = None,
    error: type[Exception] = ValueError,
    exact: bool = False,
) -> int:
    """``value`` as an int >= 1, or ``error`` with a one-line reason.

    Parameters
    ----------
    value
        What the user gave.
    name : str
        The parameter's name, for the message.
    where : object, optional
        The file or store the value is for; the message starts with it.
    error : type of Exception
        Raised for a bad value (for example :class:`~ecoseg.errors.StoreError`).
    exact : bool
        Accept integers only (``int``, numpy integers); by default a whole float (``2.0``)
        is accepted too. A bool or text (``"3"``) is never accepted (:func:`whole_number`).

    Examples
    --------
    >>> positive_int(3.0, "step")
    3
    >>> positive_int(0, "height", where="masks.zarr", error=KeyError)
    Traceback (most recent call last):
    ...
    KeyError: 'masks.zarr: height must be a positive integer, got 0'
    >>> positive_int(2.0, "chunk_frames", exact=True)
    Traceback (most recent call last):
    ...
    ValueError: chunk_frames must be a positive integer, got 2.0
    >>> positive_int("3", "step")
    Traceback (most recent call last):
    ...
    ValueError: step must be a positive integer, got '3'
    """
    return _int_at_least(value, 1, name, "a positive", where, error, exact)


def non_negative_int(
    value, name: str, *, where: object = None, error: type[Exception] = ValueError
) -> int:
    """``value`` as an int >= 0 (a whole float too, never a bool or text), or ``error`` with a
    one-line reason (the parameters of :func:`positive_int`).

    Examples
    --------
    >>> non_negative_int(0, "first_frame")
    0
    >>> non_negative_int(-5, "first_frame", where="gt.txt")
    Traceback (most recent call last):
    ...
    ValueError: gt.txt: first_frame must be a non-negative integer, got -5
    """
    return _int_at_least(value, 0, name, "a non-negative", where, error, False)


def _int_at_least(value, low: int, name: str, words: str, where, error, exact: bool) -> int:
    try:
        if exact and (isinstance(value, bool) or not isinstance(value, int | np.integer)):
            raise ValueError(value)
        n = whole_number(value)
    except ValueError:
        n = low - 1
    if n < low:
        prefix = "" if where is None else f"{where}: "
        raise error(f"{prefix}{name} must be {words} integer, got {value!r}")
    return n


def short_repr(value, limit: int = 60) -> str:
    """``repr(value)`` for a one-line error message, or its type when that repr is long or
    spans lines (an xarray Dataset, a DataFrame, an image array). A one-line string (a path,
    however deep) is written whole up to 240 characters, then its first and last 100.

    Examples
    --------
    >>> short_repr([0, 1]), short_repr(slice(0, 3))
    ('[0, 1]', 'slice(0, 3, None)')
    >>> short_repr(np.zeros((64, 96))), short_repr(["frame"] * 20)
    ('<numpy.ndarray>', '<list>')
    >>> short_repr("/surveys/2026/" + "site-a/" * 8 + "GX010001.MP4").endswith("GX010001.MP4'")
    True
    """
    text = repr(value)
    if len(text) <= limit and "\n" not in text:
        return text
    if isinstance(value, str) and "\n" not in value:  # a path: its file name is the point
        return text if len(text) <= 240 else f"{text[:100]}...{text[-100:]}"
    kind, module = type(value), type(value).__module__.split(".")[0]
    name = kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
    return f"<{name}>"


def few_items(items, limit: int = 8) -> str:
    """A list or dict written out when short, else its first ``limit`` items and how many in
    all: a repr for a notebook that stays one short line however long the video.

    Examples
    --------
    >>> few_items([0, 5]), few_items({1: "wrasse"})
    ('[0, 5]', "{1: 'wrasse'}")
    >>> few_items(list(range(100)), 3), few_items({i: "fish" for i in range(1, 50)}, 2)
    ('[0, 1, 2, ...] (100)', "{1: 'fish', 2: 'fish', ...} (49)")
    """
    if len(items) <= limit:
        return repr(items)
    if isinstance(items, dict):
        head = ", ".join(f"{k!r}: {v!r}" for k, v in list(items.items())[:limit])
        return f"{{{head}, ...}} ({len(items)})"
    head = ", ".join(repr(x) for x in list(items)[:limit])
    return f"[{head}, ...] ({len(items)})"


def frame_list(frames, limit: int = 4) -> str:
    """Frame numbers for a message: all of them up to ``limit``, else the first three,
    ``...`` and the last (never ``20..55``, which reads as every frame between).

    Examples
    --------
    >>> frame_list([0, 5, 10, 15]), frame_list(range(10, 60, 5))
    ('0, 5, 10, 15', '10, 15, 20, ..., 55')
    """
    frames = [int(f) for f in frames]
    if len(frames) > limit:
        return ", ".join(str(f) for f in frames[:3]) + f", ..., {frames[-1]}"
    return ", ".join(str(f) for f in frames)


def check_path_arg(value, name: str, what: str, *, hint: str = "") -> None:
    """Refuse a ``value`` that is no path (a str or :class:`os.PathLike`) in one line naming
    the argument, before ``Path(value)`` fails with *expected str, bytes or os.PathLike*.

    Parameters
    ----------
    value
        What the user gave.
    name : str
        The function and argument, for the message (``"synth: out"``).
    what : str
        What the argument is (``"a path to the output folder"``).
    hint : str
        Added to the message (what to pass instead, for a value that shows the mistake).

    Examples
    --------
    >>> check_path_arg("clip", "synth: out", "a path to the output folder")
    >>> check_path_arg(None, "synth: out", "a path to the output folder")
    Traceback (most recent call last):
    ...
    TypeError: synth: out must be a path to the output folder, got None
    """
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be {what}, got {short_repr(value)}{hint}")


def check_switch(value, name: str) -> bool:
    """``value`` as a bool when it is one (``True``, ``np.True_``), else a TypeError naming
    ``name``: text such as ``"no"`` or ``"False"`` is true to ``if``, so ``overwrite="no"``
    replaced an existing output and ``resume="no"`` resumed.

    Examples
    --------
    >>> check_switch(np.False_, "overwrite")
    False
    >>> check_switch("no", "overwrite")
    Traceback (most recent call last):
    ...
    TypeError: overwrite must be True or False, got 'no'
    """
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False, got {short_repr(value)}")
    return bool(value)


def did_you_mean(word: str, choices) -> str:
    """`` (did you mean 'x'?)`` with the closest of ``choices`` to ``word``, or ``""``: in any
    case (``SCALE`` is close to ``scale``), or else the one choice that ``word`` begins
    (``laser`` of ``laser_points``, which is too short for :mod:`difflib` to call close).
    A word of three letters or fewer is not close to a choice it differs from in its first
    letter only (``tpu`` and ``xpu`` are other devices, not typos of ``cpu``; two letters of
    three are enough for :mod:`difflib`).

    Examples
    --------
    >>> did_you_mean("promt", ["prompt", "truth"]), did_you_mean("zzz", ["prompt"])
    (" (did you mean 'prompt'?)", '')
    >>> did_you_mean("SCALE", ["scale", "scale_bar"]), did_you_mean("laser", ["laser_points"])
    (" (did you mean 'scale'?)", " (did you mean 'laser_points'?)")
    >>> did_you_mean("tpu", ["cpu", "cuda"]), did_you_mean("cpy", ["cpu", "cuda"])
    ('', " (did you mean 'cpu'?)")
    """
    folded = {}
    for choice in choices:
        folded.setdefault(str(choice).lower(), choice)
    typed = str(word).lower()

    def other_name(choice: str) -> bool:  # tpu against cpu: alike but the first letter
        short = len(typed) <= 3 and len(choice) == len(typed)
        return short and choice[0] != typed[0] and choice[1:] == typed[1:]

    close = difflib.get_close_matches(typed, [c for c in folded if not other_name(c)], n=1)
    if not close and len(typed) >= 3:  # a word cut short: the one choice it begins, if one
        begun = [c for c in folded if c.startswith(typed)]
        close = begun if len(begun) == 1 else []
    return f" (did you mean {folded[close[0]]!r}?)" if close else ""


def check_field_kinds(settings, what: str, *, error: type[Exception] = ValueError) -> None:
    """Refuse a field of a settings dataclass whose value is not of the kind its annotation
    says, in one line naming the field: a number for ``float``, a whole number for ``int``
    (``3.0`` and ``np.int64(3)`` are), ``True``/``False`` for ``bool`` (also ``0``/``1``);
    ``None`` where the annotation allows it. Text (``"4"``, which the comparisons of a check
    would fail on with a TypeError, or ``"false"``, which is true) and bools as numbers are
    refused. Fields of other annotations are left to the class's own checks.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Params:
    ...     threshold: float = 5.0
    ...     gap: int = 2
    ...     split: bool = True
    ...     area: float | None = None
    >>> check_field_kinds(Params(4, 3.0, False, None), "tracker")
    >>> check_field_kinds(Params(threshold="4"), "tracker")
    Traceback (most recent call last):
    ...
    ValueError: tracker: threshold must be a number, got '4'
    >>> check_field_kinds(Params(split="false"), "tracker")
    Traceback (most recent call last):
    ...
    ValueError: tracker: split must be true or false, got 'false'
    """
    for f in dataclasses.fields(settings):
        kind = str(f.type).replace(" ", "")
        value = getattr(settings, f.name)
        if value is None and kind.endswith("|None"):
            continue
        kind = kind.removesuffix("|None")
        is_bool = isinstance(value, bool | np.bool_)
        if kind == "bool":
            ok = is_bool or (isinstance(value, numbers.Integral) and value in (0, 1))
            noun = "true or false"
        elif kind == "int":
            ok, noun = not is_bool and _is_whole(value), "a whole number"
        elif kind == "float":
            ok, noun = not is_bool and isinstance(value, numbers.Real), "a number"
        else:
            continue
        if not ok:
            raise error(f"{what}: {f.name} must be {noun}, got {short_repr(value)}")


def _is_whole(value) -> bool:
    try:
        whole_number(value)
    except ValueError:
        return False
    return True


def number_text(x: float) -> str:
    """``x`` as a user would type it and it reads back as the same float: a whole number as
    an integer (``30``, ``1000000``, not ``1e+06``), short where that is exact (``12.5``,
    ``29.97``), every digit otherwise (``29.97002997002997``, not ``29.97``, for 30000/1001).

    Examples
    --------
    >>> number_text(30.0), number_text(12.5), number_text(30000 / 1001)
    ('30', '12.5', '29.97002997002997')
    >>> number_text(1234567.0), number_text(1e6), number_text(0.25)
    ('1234567', '1000000', '0.25')
    """
    x = float(x)
    if x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    short = f"{x:g}"
    return short if float(short) == x else repr(x)


def field_values(
    cls: type, values: dict[str, Any] | None, what: str, *, error: type[Exception] = ValueError
) -> dict[str, Any]:
    """A copy of ``values`` (None: empty) whose keys are all fields of the dataclass ``cls``,
    else ``error`` naming the first unknown key and the known ones.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Params:
    ...     size: int = 1
    ...     gap: int = 2
    >>> field_values(Params, {"size": 3}, "tracker")
    {'size': 3}
    >>> field_values(Params, {"sise": 3}, "tracker")
    Traceback (most recent call last):
    ...
    ValueError: tracker: unknown parameter 'sise' (did you mean 'size'?); known: gap, size
    """
    values = dict(values or {})
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - names)
    if unknown:  # a typo's fix first: SAM 3's concept tracking has 27 names to read through
        close = did_you_mean(unknown[0], sorted(names))
        raise error(
            f"{what}: unknown parameter {unknown[0]!r}{close}; known: {', '.join(sorted(names))}"
        )
    return values
