"""The values of a study entry, checked one at a time: text, dates, calibrations, an image
folder's rate and the files a study names (relative to the study file). Each refusal starts
with ``ctx``, the entry's place in the study file (``"study.yaml: line 7: videos[1] (b):"``)."""

from __future__ import annotations

import datetime as _dt
import math
import os
from pathlib import Path
from typing import Any

from ecoseg._bundled import PREFIX, local_path
from ecoseg._cli import one_line
from ecoseg._paths import check_file
from ecoseg.errors import CalibrationError, ConfigError
from ecoseg.study._lines import at_line

__all__ = [
    "opt_str",
    "opt_text",
    "parse_date",
    "parse_fps",
    "resolve",
    "study_calibration",
    "study_file",
]


def parse_fps(value: Any, video: Path, source: str, ctx: str) -> float | None:
    """``fps:``, an image folder's frame rate: a number above 0, for an image folder only (not
    a video file, timed by its own timestamps, nor a single image)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{ctx} fps: must be a number of frames per second, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{ctx} fps: must be a number of frames per second above 0, got {value}")
    if video.exists() and not video.is_dir():  # (a video moved away: its store was made)
        from ecoseg.io._common import not_a_folder

        raise ConfigError(
            f"{ctx} fps: applies to image folders only; {source} is {not_a_folder(video)} (set "
            "`fps:` on the image folders' entries, not in `defaults:`)"
        )
    return float(value)


def opt_str(mapping: dict, key: str, where: str, lines: dict) -> str | None:
    """A string value of a top-level key (``None`` if absent), named with its line."""
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(
            f"{at_line(where, lines.get(key))} {key}: must be a string, got {value!r}"
        )
    return value


def opt_text(mapping: dict, key: str, ctx: str) -> str | None:
    """A text value (a number is taken as text: ``transect: 2``), ``None`` if absent."""
    value = mapping.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f"{ctx} {key}: must be text, got {value!r}")
    return str(value)


def parse_date(value: Any, ctx: str) -> str | None:
    """``date:`` as ISO text (``"2024-03-12"``), from a date or a text in that form (the text
    of a date YAML could not build, ``2023-13-45``, is refused with the reason)."""
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    why = ""
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value).isoformat()
        except ValueError:
            why = _not_a_date(value)
    raise ConfigError(f"{ctx} date: must be a date like 2024-03-12, got {value!r}{why}")


def _not_a_date(text: str) -> str:
    """Why ``text``, written as a date (or a date and time), is none: `` (month must be in
    1..12)`` for ``2023-13-45``, else ``""``."""
    for read in (_dt.date.fromisoformat, _dt.datetime.fromisoformat):
        try:
            read(text)
        except ValueError as exc:
            if not str(exc).startswith("Invalid isoformat string"):
                return f" ({exc})"
    return ""


def study_calibration(value: Any, ctx: str):
    """``calibration:`` as a ``Calibration`` and the spec it was written as (``None, None``
    when there is none, or ``none``, as ``ecoseg measure --calibration none`` spells it: a
    video's entry so measures in pixels whatever ``defaults:`` say): mm per pixel (a number,
    or one followed by ``mm/px`` as ecoseg prints it, recorded as the number alone), or a
    scale-bar or lasers spec."""
    from ecoseg.measure.calibration import (
        bare_spec,
        is_uncalibrated,
        parse_calibration,
    )

    if value is None or is_uncalibrated(value):
        return None, None

    try:
        if isinstance(value, bool):
            raise CalibrationError(f"expected mm per pixel or a spec, got {value!r}")
        if isinstance(value, int | float):  # refused as the spec typed: `calibration 0: ...`
            return parse_calibration(value), float(value)
        if isinstance(value, str):
            return parse_calibration(value), bare_spec(value)  # '2.5 mm/px': '2.5'
        raise CalibrationError(
            f"expected mm per pixel, 'scale-bar:x0,y0,x1,y1,LENGTH_MM' or "
            f"'lasers:x0,y0,x1,y1,SPACING_MM', got {value!r}"
        )
    except CalibrationError as exc:  # `calibration 0: ...` names the key: not said twice
        reason = one_line(exc)
        key = "" if reason.startswith("calibration ") else "calibration: "
        raise ConfigError(f"{ctx} {key}{reason}") from None


def study_file(folder: Path, text: str, what: str, where: str) -> Path:
    """The JSON file ``text`` of a study entry (relative to the study's ``folder``), refused as
    :func:`~ecoseg._paths.check_file` does, after the entry's place in the study file. The
    name of a file ecoseg ships (``ecoseg:species_model.json``) is that file here
    (:func:`ecoseg._bundled.local_path`)."""
    try:
        path = local_path(text) if text.startswith(PREFIX) else resolve(folder, text)
        return check_file(Path(path), what, kind="JSON", shown=text)
    except ConfigError as exc:
        raise ConfigError(f"{where} {exc}") from None


def resolve(folder: Path, text: str) -> Path:
    """A path of the study file (``~`` expanded), relative to the study's ``folder``."""
    p = Path(os.path.expanduser(text))
    return p if p.is_absolute() else (folder / p)
