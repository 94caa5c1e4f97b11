"""A study file's ``defaults:`` checked against the study's videos: each value goes only to the
videos it fits (a model to the videos of the engine it names, a size to those whose network
takes it, parameters to the engines that have them, a GPU, bf16 and random weights to the
networks' videos), so a value that fits no network, or that no video of the study takes, is
refused at its ``defaults:`` line rather than unused without a word; and which defaults a video
took (:func:`took_default`), for where its errors point."""

from __future__ import annotations

from typing import Any

from ecoseg._checks import did_you_mean
from ecoseg._device import device_name
from ecoseg.errors import ConfigError
from ecoseg.study._engines import (
    SURVEY_PARAMETERS,
    check_model,
    engine_parameters,
    sam3_name,
    size_reason,
)
from ecoseg.study.records import VideoSpec

__all__ = [
    "check_default_image_size",
    "check_default_model",
    "check_default_params",
    "check_default_size_taken",
    "check_defaults_taken",
    "normal_defaults",
    "took_default",
]


def normal_defaults(defaults: Any) -> Any:
    """``defaults:`` as the videos take it: its ``device:`` in any case in the spelling of
    :data:`ecoseg._device.DEVICES` (``CPU`` as ``cpu``, as :func:`ecoseg.segment` takes it),
    so that a video that took it compares equal to it (:func:`took_default`); anything but a
    mapping as it is, for the checks to name.

    Examples
    --------
    >>> normal_defaults({"device": "CUDA:1", "fast": True})
    {'device': 'cuda:1', 'fast': True}
    """
    if not isinstance(defaults, dict) or "device" not in defaults:
        return defaults
    return {**defaults, "device": device_name(defaults["device"])}


def check_default_model(defaults: dict, ctx: str) -> None:
    """Refuse a ``defaults:`` ``model:`` that no network knows, after ``ctx`` (the file and
    the key's line), whether or not a video takes it: each video takes it only where it names
    that video's engine (a SAM 2 variant: the sam2 videos; a SAM 3 model: the concept videos),
    so a misspelt name could be taken by none and go unnoticed. Looked up as
    :func:`ecoseg.segment` would (by :func:`~ecoseg.study._engines.sam3_name`), in the
    network's words.

    Examples
    --------
    >>> check_default_model({"model": "sam3-reduced"}, "s.yaml: line 2: defaults:")
    >>> check_default_model({"model": "sam2.1-tyni"}, "s.yaml: line 2: defaults:")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: s.yaml: line 2: defaults: model: unknown SAM 2 variant \
'sam2.1-tyni'; valid names: ... (did you mean 'sam2.1-tiny'?)
    """
    model = defaults.get("model")
    if model is not None:  # null: the default model of each video's engine
        check_model(model, "sam3" if sam3_name(model) else "sam2", ctx)


def check_default_image_size(defaults: dict, ctx: str) -> None:
    """Refuse a ``defaults:`` ``image_size:`` that neither network (SAM 2, any SAM 3 model)
    takes, after ``ctx`` (the file and the key's line), whether or not a video takes it: each
    video with a network takes it only where its network takes it (``512``: the sam2 videos,
    ``1008``: the concept videos, ``448``: both), so a size that fits none would be taken by
    none and go unnoticed. A size that is no positive integer is refused at the videos.

    Examples
    --------
    >>> check_default_image_size({"image_size": 1008}, "s.yaml: line 2: defaults:")
    >>> check_default_image_size({"image_size": 500}, "s.yaml: line 2: defaults:")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: s.yaml: line 2: defaults: image_size: 500 fits neither network: \
SAM 2's must be a multiple of 32 ..., got 500; SAM 3's must be a multiple of 14 ..., got 500
    """
    from ecoseg.engine import DEFAULT_MODEL
    from ecoseg.sam3.config import PRESETS

    size = defaults.get("image_size")
    if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
        return
    networks = [("sam2", DEFAULT_MODEL)] + [("sam3", name) for name in PRESETS]
    if all(size_reason(size, engine, model) for engine, model in networks):
        raise ConfigError(
            f"{ctx} image_size: {size} fits neither network: SAM 2's "
            f"{size_reason(size, 'sam2', DEFAULT_MODEL)}; SAM 3's "
            f"{size_reason(size, 'sam3', 'sam3')}"
        )


def check_default_params(defaults: dict, ctx: str) -> None:
    """Refuse a ``defaults:`` parameter (in ``params:``) that no engine takes, after ``ctx``
    (the file and the key's line), whether or not a video takes it: each video takes the
    defaults' parameters its engine has (``min_area``: the motion tracker's videos,
    ``score_threshold``: the concept videos, ``points_per_side``: those with ``auto: true``),
    so a misspelt one would be taken by none and go unnoticed.

    Examples
    --------
    >>> check_default_params({"params": {"min_area": 30}}, "s.yaml: line 2: defaults:")
    >>> check_default_params({"params": {"min_aera": 30}}, "s.yaml: line 2: defaults:")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: s.yaml: line 2: defaults: params: no engine takes a parameter \
'min_aera' (did you mean 'min_area'?)
    """
    params = defaults.get("params")
    if not isinstance(params, dict):
        return  # none, or refused at the videos (not a mapping)
    known: set[str] = set()
    for engine, auto in (("classical", False), ("sam3", False), ("sam2", True)):
        names = engine_parameters(engine, auto)
        if names is None:  # pragma: no cover - an engine not installed takes any
            return
        known |= names
    for name in map(str, params):
        if name not in known:
            raise ConfigError(
                f"{ctx} params: no engine takes a parameter {name!r}{did_you_mean(name, known)}"
            )


def check_default_size_taken(defaults: dict, videos: list, specs: list, ctx: str) -> None:
    """Refuse a ``defaults:`` ``image_size:`` that no video takes, while some video leaves it
    to ``defaults:`` (``videos``: the entries as written, ``specs``: as read): when those
    videos are all the motion tracker's (no network to size), or none of their networks takes
    it (``512`` in a study of concept videos: each would run at its network's own size without
    a word). ``ctx``: the file and the key's line."""
    size = defaults.get("image_size")
    taking = [
        spec
        for entry, spec in zip(videos, specs, strict=True)
        if not (isinstance(entry, dict) and "image_size" in entry)
    ]
    if size is None or not taking or any(spec.image_size == size for spec in taking):
        return
    free = [spec for spec in taking if spec.engine != "classical"]
    if not free:
        raise ConfigError(
            f"{ctx} image_size: {size} is the size of a network's input, but no video of the "
            "study takes it from here (the classical motion tracker has no network): drop it"
        )
    first = free[0]
    index = specs.index(first)
    raise ConfigError(
        f"{ctx} image_size: {size} fits the network of none of the videos that take it from "
        f"here (videos[{index}] ({first.name}), {first.model}: "
        f"{size_reason(size, first.engine, first.model)}); give each engine's videos a size "
        "their network takes in their entries"
    )


def check_defaults_taken(defaults: dict, videos: list, specs: list, ctx) -> None:
    """Refuse a ``defaults:`` ``model:``, ``checkpoint:``, parameter (in ``params:``), GPU
    ``device:``, ``fast: true``, ``detect_every:``, ``as_video: true``, ``pretrained: false``
    or ``fps:`` that no video of the study takes, while some video leaves it to ``defaults:``
    (``videos``: the entries as written, ``specs``: as read): each goes only to the videos it
    fits (a SAM 3 model: the concept videos; ``min_area``: the motion tracker's; a GPU, bf16
    and random weights: the networks' videos; bf16, the detector interval, the frame rate and
    the parameters but ``score_threshold`` not a photo survey), so ``model: sam3`` in a study
    without concepts was unused without a word. ``ctx(key)``: the file and the key's line,
    then ``defaults:``.

    Examples
    --------
    >>> from pathlib import Path
    >>> video = VideoSpec("a", Path("a.mp4"), "a.mp4", engine="classical", model="sam2.1-tiny")
    >>> check_defaults_taken({"model": "sam3"}, [{}], [video], lambda key: "s.yaml: defaults:")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: s.yaml: defaults: model: sam3 is a SAM 3 model, but no video of \
the study tracks concepts (`concepts:`): drop it
    """

    def free(key: str) -> list[VideoSpec]:  # the videos that leave ``key`` to defaults:
        return [
            spec
            for entry, spec in zip(videos, specs, strict=True)
            if not (isinstance(entry, dict) and key in entry)
        ]

    def refuse(key: str, said: str) -> None:
        raise ConfigError(f"{ctx(key)} {said}: drop it")

    model = defaults.get("model")
    networks = [spec for spec in free("model") if spec.engine != "classical"]
    if model is not None and free("model") and not any(v.model == model for v in networks):
        if sam3_name(model):
            refuse(
                "model",
                f"model: {model} is a SAM 3 model, but no video of the study "
                "tracks concepts (`concepts:`)",
            )
        refuse(
            "model",
            f"model: {model} is a SAM 2 variant, but no video of the study uses "
            "the sam2 engine (`prompts:` or `auto: true`)",
        )
    checkpoint = defaults.get("checkpoint")
    taking = free("checkpoint")
    if (
        checkpoint is not None
        and taking
        and not any(v.engine != "classical" and v.checkpoint is not None for v in taking)
    ):
        of = f"the default model's ({model}) network" if model is not None else "a network"
        refuse(
            "checkpoint",
            f"checkpoint: {checkpoint} is the weights of {of}, but no video "
            "of the study takes them from here",
        )
    params = defaults.get("params")
    taking = free("params")
    if isinstance(params, dict) and taking:
        for name in map(str, params):
            if not any(name in v.params for v in taking):
                said = (
                    f"params: {name} is a parameter of {_engines_of(name)}, but no video of the "
                    "study takes it from here"
                )
                if name in (engine_parameters("sam3") or ()) and any(v.survey for v in taking):
                    said += f" (a photo survey takes only {', '.join(sorted(SURVEY_PARAMETERS))})"
                refuse("params", said)
    for key, said in _RUN_SETTINGS.items():
        value = defaults.get(key)
        if value is not None and free(key) and not any(getattr(v, key) == value for v in free(key)):
            shown = str(value).lower() if isinstance(value, bool) else value
            refuse(key, f"{key}: {shown} {said}")


# what each of these keys is for, when no video of the study takes it from defaults:
_RUN_SETTINGS = {
    "device": "is for the sam2 and sam3 engines' networks, but no video of the study takes it "
    "from here (the classical motion tracker runs on the CPU)",
    "fast": "(bf16) is for the networks' video runs, but no video of the study takes it from "
    "here (the classical motion tracker has no network; a photo survey takes none)",
    "detect_every": "is for SAM 3 concept tracking of a video (`concepts:`), but no video of "
    "the study takes it from here",
    "as_video": "is for `concepts:` (SAM 3), but no video of the study takes it from here",
    "pretrained": "(random weights) is for the sam2 and sam3 engines' networks, but no video of "
    "the study takes it from here (the classical motion tracker has no network)",
    "fps": "is the frame rate of an image folder tracked as a video, but no video of the study "
    "takes it from here (a photo survey has none)",
}


def _engines_of(name: str) -> str:
    """The engines that have the parameter ``name``, in the study file's words."""
    said = {
        ("classical", False): "the classical motion tracker",
        ("sam3", False): "SAM 3 concept tracking",
        ("sam2", True): "SAM 2's automatic discovery (`auto: true`)",
    }
    has = [
        words
        for (engine, auto), words in said.items()
        if name in (engine_parameters(engine, auto) or ())
    ]
    return " and ".join(has) or "an engine"


# the keys a video took from defaults: where its own value is theirs
_TAKEN_AS_IS = ("model", "image_size", *_RUN_SETTINGS)


def took_default(video: VideoSpec, key: str, value: Any) -> bool:
    """Whether ``video``, whose entry does not give ``key``, took ``defaults:``'s ``value``
    of it: a model, its checkpoint, an image size, a device, ``fast:``, ``detect_every:``,
    ``as_video:``, ``pretrained:``, ``fps:`` or ``params:`` from ``defaults:`` goes only to
    the videos it fits (a SAM 2
    model: not the concept videos), so an error about a video that did not take it names the
    video's entry, not the ``defaults:`` line.

    Examples
    --------
    >>> from pathlib import Path
    >>> video = VideoSpec("a", Path("a.mp4"), "a.mp4", engine="sam3", model="sam3")
    >>> took_default(video, "model", "sam2.1-large"), took_default(video, "model", "sam3")
    (False, True)
    """
    if key == "checkpoint":
        return video.checkpoint is not None
    if key == "params":
        return bool(video.params) or not value
    if key in _TAKEN_AS_IS:
        return value is None or getattr(video, key) == value
    return True
