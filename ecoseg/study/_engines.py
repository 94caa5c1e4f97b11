"""What each engine of a study's videos takes, asked of the engine and said in the study file's
words: a model name (a SAM 3 one or a SAM 2 variant, looked up by the network), an image size,
engine parameters (``params:``), and a library check's message with its key for its option."""

from __future__ import annotations

import re
from typing import Any

from ecoseg._checks import did_you_mean
from ecoseg._cli import one_line
from ecoseg.errors import ConfigError, EcosegError

# the parameters a SAM 3 photo survey takes (:func:`ecoseg.engine.concepts.check_survey`)
SURVEY_PARAMETERS = frozenset({"score_threshold"})

__all__ = [
    "SURVEY_PARAMETERS",
    "check_model",
    "check_params",
    "engine_parameters",
    "key_words",
    "sam3_name",
    "size_reason",
]


def key_words(exc: Exception) -> str:
    """The message of a check of the library, whose keyword leads it before its ``ecoseg``
    option, in the study file's words: its key (``image_size (--image-size) must be ...`` ->
    ``image_size: must be ...``), as the study's own checks say ``image_size: must be``.

    Examples
    --------
    >>> key_words(ConfigError("image_size (--image-size) must be a multiple of 14, got 500"))
    'image_size: must be a multiple of 14, got 500'
    >>> key_words(ConfigError("fast (--fast, bf16) is for the networks"))
    'fast: is for the networks'
    """
    return re.sub(r"^([a-z_]+) \(--[^()]*\)", r"\1:", str(exc))


def sam3_name(model: Any) -> bool:
    """Whether ``model`` names a SAM 3 model, by the rule of :func:`ecoseg.segment` (which
    tracks concepts with it): its name starts with ``sam3``; any other name is a SAM 2 one.

    Examples
    --------
    >>> sam3_name("sam3-reduced"), sam3_name("sam2.1-large"), sam3_name(None)
    (True, False, False)
    """
    return str(model).startswith("sam3")


def check_model(model: Any, engine: str, ctx: str) -> None:
    """``model:`` refused as :func:`ecoseg.segment` refuses it, by the network's own lookup
    (:func:`ecoseg.sam3.config.get_config` for SAM 3, which
    :func:`~ecoseg.engine.checks.concept_request` asks too, else
    :func:`ecoseg.sam2.variants.get_variant`, which ``sam2.build`` asks), in its words
    after ``ctx`` and the key, with the closest known name. The classical engine's videos
    take the SAM 2 check: their model is one of ``defaults:`` for the videos of the others."""
    if engine == "sam3":
        from ecoseg.sam3.config import PRESETS as known
        from ecoseg.sam3.config import get_config as lookup
    else:
        from ecoseg.sam2.variants import VARIANTS as known
        from ecoseg.sam2.variants import get_variant as lookup
    try:
        lookup(model)
    except ConfigError as exc:
        hint = did_you_mean(str(model), known)
        raise ConfigError(f"{ctx} model: {exc}{hint}") from None


def size_reason(image_size: Any, engine: str, model: str) -> str:
    """Why the network of ``engine``'s ``model`` does not take ``image_size``, in the study
    file's words without the key; ``""`` where it takes it (``None``: its own size; the
    classical motion tracker has no network, so it takes none).

    Examples
    --------
    >>> size_reason(512, "sam2", "sam2.1-tiny"), size_reason(None, "sam3", "sam3")
    ('', '')
    >>> size_reason(512, "sam3", "sam3")
    'must be a multiple of 14 from 112 to 4032 (e.g. 336, 672, 1008), got 512'
    """
    from ecoseg.engine import check_image_size

    try:
        check_image_size(image_size, engine, model)
    except ConfigError as exc:
        return key_words(exc).removeprefix("image_size: ")
    return ""


def engine_parameters(engine: str, auto: bool = False) -> frozenset[str] | None:
    """The names of the parameters ``engine`` takes in ``params:`` (the sam2 engine: those of
    automatic discovery with ``auto``, none with prompts); ``None`` where its settings cannot
    be imported (an engine not installed: any is passed on).

    Examples
    --------
    >>> "min_area" in engine_parameters("classical"), engine_parameters("sam2")
    (True, frozenset())
    >>> "points_per_side" in engine_parameters("sam2", auto=True)
    True
    """
    import dataclasses

    if engine == "sam2" and not auto:
        return frozenset()
    try:
        if engine == "classical":
            from ecoseg.engine.classical import ClassicalParams as settings
        elif engine == "sam3":
            from ecoseg.engine.concept_rules import ConceptSettings as settings
        else:
            from ecoseg.engine.discovery_params import DiscoveryParams as settings
    except ImportError:  # pragma: no cover - engine not installed
        return None
    return frozenset(field.name for field in dataclasses.fields(settings))


def check_params(engine: str, params: dict, ctx: str) -> dict:
    """``params:`` of a video of ``engine``, its names as text, refused as the engine's
    settings refuse them (the classical motion tracker's, SAM 3 concept tracking's, which
    takes ``detect_every`` as a key of its own), after ``ctx`` (the file, line and video)."""
    params = {str(k): v for k, v in params.items()}
    if engine == "classical":
        try:
            from ecoseg.engine.classical import ClassicalParams
        except ImportError:  # pragma: no cover - engine not installed
            return params
        try:
            ClassicalParams(**params)
        except TypeError as exc:
            raise ConfigError(f"{ctx} params: {one_line(exc)}") from None
        except (ValueError, EcosegError) as exc:
            raise ConfigError(f"{ctx} params: {one_line(exc)}") from None
    elif engine == "sam3":
        if "detect_every" in params:
            raise ConfigError(f"{ctx} params: give detect_every as `detect_every:` of its own")
        try:
            from ecoseg.engine.concept_rules import ConceptSettings
        except ImportError:  # pragma: no cover - torch not installed
            return params
        try:
            ConceptSettings(**params)
        except (TypeError, ValueError, EcosegError) as exc:
            raise ConfigError(f"{ctx} params: {one_line(exc)}") from None
    return params
