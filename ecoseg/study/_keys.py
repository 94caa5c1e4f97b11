"""The keys of a study file, and the refusal of a key that is none of them (with a "did you
mean"): what :func:`ecoseg.study.config.load_study` accepts at the top, in ``defaults:`` and in
each video's entry (docs/report.md shows them all; ``ecoseg.study.config`` re-exports them)."""

from __future__ import annotations

from ecoseg._checks import did_you_mean
from ecoseg.errors import ConfigError

__all__ = ["SETTING_KEYS", "TOP_KEYS", "VIDEO_KEYS", "check_keys"]

#: The keys of a study file; ``defaults:`` takes :data:`SETTING_KEYS`, each video
#: :data:`VIDEO_KEYS`.
TOP_KEYS = ("name", "title", "description", "output", "defaults", "videos")
SETTING_KEYS = (
    "engine",
    "model",
    "checkpoint",
    "pretrained",
    "image_size",
    "device",
    "params",
    "calibration",
    "species_model",
    "concepts",
    "detect_every",
    "as_video",
    "fast",
    "fps",
)
VIDEO_KEYS = (
    "path",
    "name",
    "site",
    "transect",
    "date",
    "depth_m",
    "prompts",
    "auto",
    "truth",
    "notes",
    *SETTING_KEYS,
)


def check_keys(
    mapping: dict, allowed: tuple[str, ...], where: str, ctx: str, lines: dict | None = None
) -> None:
    """Refuse the first key of ``mapping`` not in ``allowed``, naming ``where`` (the file), the
    key's line (``lines``: by key) and ``ctx`` (``"defaults: "``, ``"videos[2] (b): "``).

    Examples
    --------
    >>> check_keys({"calibraton": 1}, ("calibration",), "study.yaml", "", {"calibraton": 4})
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: study.yaml: line 4: unknown key 'calibraton' (did you mean \
'calibration'?) (allowed: calibration)
    """
    for key in mapping:
        if key not in allowed:
            hint = did_you_mean(str(key), allowed)
            line = (lines or {}).get(str(key))
            at = f" line {line}:" if line is not None else ""
            raise ConfigError(
                f"{where}:{at} {ctx}unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"
            )
