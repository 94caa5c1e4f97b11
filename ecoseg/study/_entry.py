"""One entry of a study file's ``videos:``, checked in full and read into a
:class:`~ecoseg.study.records.VideoSpec`: its settings merged over ``defaults:``, the engine
decided (concepts or a SAM 3 model: sam3; prompts or auto: sam2; else the classical motion
tracker; a ``defaults:`` model names only the engine of a prompt file nothing else does, and goes
only to the videos of the engine it names; the defaults' size only to those whose network takes
it, their network settings only to the videos with a network, ``detect_every:`` and
``as_video:`` only to the concept videos), and every value refused as :func:`ecoseg.segment`
would refuse it, named with its line."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ecoseg._cli import one_line
from ecoseg._paths import check_checkpoint, plain_name
from ecoseg.errors import ConfigError, EcosegError
from ecoseg.io._common import missing_video
from ecoseg.provenance import class_key, one_spelling
from ecoseg.study._keys import SETTING_KEYS, VIDEO_KEYS, check_keys, did_you_mean
from ecoseg.study._lines import at_line
from ecoseg.study._values import (
    opt_text,
    parse_date,
    parse_fps,
    resolve,
    study_calibration,
    study_file,
)
from ecoseg.study.records import VideoSpec

__all__ = [
    "check_default_image_size",
    "check_default_model",
    "check_default_params",
    "check_default_size_taken",
    "check_defaults_taken",
    "engine_parameters",
    "key_words",
    "parse_video",
    "took_default",
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


def parse_video(
    entry: Any,
    i: int,
    defaults: dict,
    folder: Path,
    where: str,
    lines: dict | None = None,
    *,
    defaults_lines: dict | None = None,
    line: int | None = None,
    require_video: bool = True,
    default_name: str | None = None,
) -> VideoSpec:
    """One entry of ``videos:``; ``lines`` are its keys' lines, ``defaults_lines`` those of
    ``defaults:`` and ``line`` the entry's own, so every error names the line to look at.
    ``require_video=False`` takes a video that is not there (moved away: the runner keeps a
    finished store made from it, :mod:`ecoseg.study.moved`), and its ``truth:`` store if that
    is not there either (the report does not score it). ``default_name`` names an entry
    without ``name:`` (default: the file stem; :func:`~ecoseg.study._across.default_names`)."""
    label = f"videos[{i}]"
    lines = lines or {}
    defaults_lines = defaults_lines or {}

    def at(key: str | None = None) -> str:
        """``"FILE: line N: videos[i] (name):"`` with the line where ``key`` is written (the
        entry's, else the defaults' value it takes), else the entry's line."""
        found = lines.get(key, defaults_lines.get(key)) if key is not None else None
        return f"{at_line(where, found, line)} {label}:"

    if isinstance(entry, str):
        entry = {"path": entry}
        lines = {"path": line} if line is not None else {}
    if not isinstance(entry, dict):
        raise ConfigError(f"{at()} must be a mapping with at least `path:`")
    if "path" not in entry or entry["path"] in (None, ""):
        raise ConfigError(f"{at('path')} missing `path:` (the video file)")
    source = entry["path"]
    if not isinstance(source, str):
        raise ConfigError(f"{at('path')} path: must be a string, got {source!r}")
    name = entry.get("name")
    if name is None:
        name = default_name or Path(source.rstrip("/")).stem
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{at('name')} name: must be a non-empty string")
    if (plain := plain_name(name)) is None:
        raise ConfigError(
            f"{at('name')} name {name!r} would escape the output folder or is not a "
            "plain file name (use letters, digits, spaces, '.', '_' and '-')"
        )
    name = plain  # NFC: the same store whichever machine typed or listed the name
    label = f"{label} ({name})"
    check_keys(entry, VIDEO_KEYS, where, f"{label}: ", lines)
    video_path = resolve(folder, source)
    if require_video and not video_path.exists():
        raise ConfigError(f"{at('path')} {missing_video(source)}")

    merged = {k: defaults[k] for k in SETTING_KEYS if k in defaults}
    merged.update({k: entry[k] for k in SETTING_KEYS if k in entry})

    prompts_text = entry.get("prompts")
    auto = entry.get("auto")
    if auto is not None and not isinstance(auto, bool):
        raise ConfigError(f"{at('auto')} auto: must be true or false, got {auto!r}")
    prompts = None
    if prompts_text is not None:
        if not isinstance(prompts_text, str):
            raise ConfigError(f"{at('prompts')} prompts: must be a file path, got {prompts_text!r}")
        if auto:
            raise ConfigError(f"{at('auto')} give either `prompts:` or `auto: true`, not both")
        prompts = study_file(folder, prompts_text, "prompt file", at("prompts"))
    elif auto is False:
        raise ConfigError(f"{at('auto')} `auto: false` needs a `prompts:` file")

    from ecoseg.engine import DEFAULT_MODEL, ENGINES, check_device, check_fast, check_image_size

    engine = asked = merged.get("engine")
    concepts, detect_every = _parse_concepts(merged, at)
    # the entry's own model names its engine; a model from defaults goes only to the videos of
    # the engine it names, so it names only the engine of a prompt file nothing else names (a
    # SAM 3 name: the file's exemplars)
    named = entry.get("model")
    if "model" not in entry and engine is None and not concepts and prompts is not None:
        named = defaults.get("model")
    if concepts or engine == "sam3" or _sam3_name(named):
        if engine not in (None, "sam3"):
            raise ConfigError(
                f"{at('engine')} concepts and SAM 3 models are tracked by SAM 3: drop "
                f"`engine: {engine}`"
            )
        if auto:
            raise ConfigError(f"{at('auto')} SAM 3 concept tracking takes no `auto: true`")
        engine = "sam3"
    elif "detect_every" in entry:  # the defaults' is for the concept videos
        raise ConfigError(
            f"{at('detect_every')} detect_every: needs `concepts:` (SAM 3 concept tracking)"
        )
    if engine is None:
        engine = "sam2" if prompts is not None or auto else "classical"
    if engine != "sam3" and engine not in ENGINES:
        raise ConfigError(
            f"{at('engine')} engine: unknown engine {engine!r} (choose {', '.join(ENGINES)})"
        )
    if auto and engine != "sam2":
        raise ConfigError(
            f"{at('engine')} `auto: true` is SAM 2's automatic discovery; drop `engine: {engine}`"
        )
    if engine == "sam2" and prompts is None and not auto:
        raise ConfigError(
            f"{at('engine')} the sam2 engine needs a `prompts:` file (or `auto: true`)"
        )
    if engine == "classical" and prompts is not None:
        raise ConfigError(
            f"{at('prompts')} the classical engine takes no prompts; set `engine: sam2`"
        )
    if engine != "sam3":
        detect_every = 1
        if "as_video" not in entry:  # the defaults' as_video: is for the concept videos
            merged.pop("as_video", None)

    model = merged.get("model")  # null: the default, as segment(model=None)
    if "model" not in entry and model is not None and _sam3_name(model) != (engine == "sam3"):
        model = None  # the defaults' model is for the videos of the other engine
        if "checkpoint" not in entry:  # and so are its weights
            merged.pop("checkpoint", None)
    if model is None:
        model = "sam3" if engine == "sam3" else DEFAULT_MODEL
    _check_model(model, engine, at("model"))
    if engine == "classical":
        _check_no_network(entry, asked, at)
    request = None  # no concepts: not a SAM 3 run
    if engine == "sam3":
        request = _concept_request(model, prompts, prompts_text, concepts, at("prompts"))

    checkpoint = merged.get("checkpoint")
    if checkpoint is not None:
        if not isinstance(checkpoint, str):
            raise ConfigError(
                f"{at('checkpoint')} checkpoint: must be a file path, got {checkpoint!r}"
            )
        checkpoint_path = resolve(folder, checkpoint)
        try:  # the message `segment --checkpoint` gives: where to get the weights
            check_checkpoint(checkpoint_path, model, shown=checkpoint, option="`checkpoint:`")
        except ConfigError as exc:
            raise ConfigError(f"{at('checkpoint')} {exc}") from None
        checkpoint = checkpoint_path

    pretrained = merged.get("pretrained", True)
    if not isinstance(pretrained, bool):
        raise ConfigError(
            f"{at('pretrained')} pretrained: must be true or false, got {pretrained!r}"
        )
    fast = merged.get("fast", False)
    if not isinstance(fast, bool):
        raise ConfigError(f"{at('fast')} fast: must be true or false, got {fast!r}")
    if engine == "classical" and "fast" not in entry:
        fast = False  # the defaults' bf16 is for the networks' videos
    try:
        check_fast(fast, engine)
    except ConfigError as exc:
        raise ConfigError(f"{at('fast')} {key_words(exc)}") from None
    image_size = merged.get("image_size")
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, int) or image_size <= 0
    ):
        raise ConfigError(
            f"{at('image_size')} image_size: must be a positive integer, got {image_size!r}"
        )
    if "image_size" not in entry and _size_reason(image_size, engine, model):
        image_size = None  # the defaults' size is for the videos whose network takes it
    try:  # the size the network takes (the classical engine has none), as segment() checks it
        check_image_size(image_size, engine, model)
    except ConfigError as exc:
        raise ConfigError(f"{at('image_size')} {key_words(exc)}") from None
    device = merged.get("device")
    from ecoseg._device import DEVICES

    if device is not None and device not in DEVICES and not str(device).startswith("cuda:"):
        raise ConfigError(
            f"{at('device')} device: must be one of {', '.join(DEVICES)}, got {device!r}"
        )
    if engine == "classical" and "device" not in entry and device not in (None, "auto", "cpu"):
        device = None  # the defaults' GPU is for the videos of other engines
    try:  # a GPU for the motion tracker, as segment() refuses it
        check_device(device, engine, None, "remove `device:` or set `device: cpu`")
    except ConfigError as exc:
        raise ConfigError(f"{at('device')} {exc}") from None
    params = merged.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{at('params')} params: must be a mapping of engine parameters")
    if "params" not in entry:  # the defaults' parameters go to the engines that have them
        known = engine_parameters(engine, bool(auto))
        params = {k: v for k, v in params.items() if known is None or str(k) in known}
        merged["params"] = params  # as the photo survey's check reads them
    params = _check_params(engine, params, at("params"))
    if params and engine == "sam2" and prompts is not None:  # nothing would read them
        if "params" in entry:
            raise ConfigError(
                f"{at('params')} params: the sam2 engine with prompts takes no parameters"
            )
        params = {}  # the defaults' settings are for the videos of other engines

    calibration, spec = study_calibration(merged.get("calibration"), at("calibration"))
    fps = parse_fps(merged.get("fps"), video_path, source, at("fps"))
    as_video = _check_survey(merged, engine, video_path, prompts, request, detect_every, at)

    truth = entry.get("truth")
    if truth is not None:
        if not isinstance(truth, str):
            raise ConfigError(f"{at('truth')} truth: must be a store path, got {truth!r}")
        truth_path = resolve(folder, truth)
        # a truth moved away with its video (its store kept) is taken as written: the report
        # is made without scoring it; beside a video that is there, it is a wrong path
        if not truth_path.exists() and (require_video or video_path.exists()):
            raise ConfigError(f"{at('truth')} {truth}: truth store not found")
        truth = truth_path

    species_model = merged.get("species_model")
    if species_model is not None:
        if not isinstance(species_model, str):
            raise ConfigError(
                f"{at('species_model')} species_model: must be a file path, got {species_model!r}"
            )
        species_model = study_file(folder, species_model, "species model file", at("species_model"))

    depth = entry.get("depth_m")
    if depth is not None:
        if (
            isinstance(depth, bool)
            or not isinstance(depth, int | float)
            or not math.isfinite(depth)
        ):
            raise ConfigError(f"{at('depth_m')} depth_m: must be a number of metres, got {depth!r}")
        if depth < 0:
            raise ConfigError(
                f"{at('depth_m')} depth_m: is the depth below the surface in metres, 0 or "
                f"more, got {depth!r}"
            )
        depth = float(depth) + 0.0  # -0.0 (written `-0.0`) is the surface, 0.0

    return VideoSpec(
        name=name,
        path=video_path,
        source=source,
        site=opt_text(entry, "site", at("site")),
        transect=opt_text(entry, "transect", at("transect")),
        date=parse_date(entry.get("date"), at("date")),
        depth_m=depth,
        notes=opt_text(entry, "notes", at("notes")),
        calibration=calibration,
        calibration_spec=spec,
        prompts=prompts,
        engine=engine,
        model=model,
        checkpoint=checkpoint,
        pretrained=pretrained,
        image_size=image_size,
        device=device,
        params=params,
        truth=truth,
        species_model=species_model,
        concepts=concepts,
        detect_every=detect_every,
        fast=fast,
        auto=bool(auto),
        fps=fps,
        as_video=as_video,
    )


def _check_survey(merged, engine, video, prompts, request, detect_every, at) -> bool:
    """``as_video:`` checked; for a photo survey (SAM 3 on an image folder or an image, not
    ``as_video``: :func:`ecoseg.engine.survey_rule.is_photo_survey`, as ``ecoseg segment``),
    what it cannot use refused in the study file's words (``fast: true``), naming the key."""
    from ecoseg.engine.concepts import check_survey
    from ecoseg.engine.survey_rule import is_photo_survey

    as_video = merged.get("as_video", False)
    if not isinstance(as_video, bool):
        raise ConfigError(f"{at('as_video')} as_video: must be true or false, got {as_video!r}")
    if engine != "sam3":
        if as_video:
            raise ConfigError(
                f"{at('as_video')} as_video: is for `concepts:` (SAM 3); the other engines "
                "track a folder of images as a video anyway"
            )
        return False
    if not is_photo_survey(video, as_video):
        return as_video
    try:
        check_survey(
            video.name,
            request.concepts,
            objects=request.objects,
            prompt_file=prompts.name if prompts is not None else None,
            detect_every=detect_every,
            fast=bool(merged.get("fast", False)),
            fps=merged.get("fps"),
            params=merged.get("params") or {},
        )
    except ConfigError as exc:
        said = re.sub(
            r"\b([a-z_]+)=(\S+) \(--[^()]*\)",
            lambda m: f"`{m[1]}: {m[2].lower() if m[2] in ('True', 'False') else m[2]}`",
            str(exc),
        )
        said = said.replace("params (--params)", "`params:`")
        raise ConfigError(f"{at('concepts')} {said}") from None
    return False


def _parse_concepts(merged: dict, at) -> tuple[tuple[str, ...], int]:
    """``concepts:`` (a name or a list of names) and ``detect_every:``, checked; ``at(key)``
    names the file, the key's line and the video."""
    ctx = at("concepts")
    concepts = merged.get("concepts")
    if concepts is None:
        concepts = []
    elif isinstance(concepts, str):
        concepts = [concepts]
    if not isinstance(concepts, list) or not all(
        isinstance(c, str) and c.strip() for c in concepts
    ):
        raise ConfigError(f"{ctx} concepts: must be a name or a list of names, got {concepts!r}")
    names = [one_spelling(c) for c in concepts]  # the spelling a Concept keeps
    keys = [class_key(n) for n in names]  # "Parrotfish" and "parrotfish": one species
    dup = next((k for k, key in enumerate(keys) if keys.index(key) < k), None)
    if dup is not None:
        first = names[keys.index(keys[dup])]
        if first == names[dup]:
            raise ConfigError(f"{ctx} concepts: {first!r} is given twice")
        raise ConfigError(
            f"{ctx} concepts: {first!r} and {names[dup]!r} differ only in case or spacing: "
            "their tracks would be counted as two species; give the concept once"
        )
    from ecoseg.errors import PromptError
    from ecoseg.prompts import Concept, check_concept_names

    try:  # a name with a comma (YAML's `concepts: a, b` is one name), 'unknown', 'visual'
        check_concept_names([Concept(n) for n in names])
    except PromptError as exc:
        raise ConfigError(f"{ctx} concepts: {exc}") from None
    every = merged.get("detect_every", 1)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ConfigError(
            f"{at('detect_every')} detect_every: must be a positive integer, got {every!r}"
        )
    return tuple(names), every


def _check_no_network(entry: dict, asked: str | None, at) -> None:
    """Refuse ``model:``, ``checkpoint:`` or ``pretrained: false`` in the entry of a video the
    classical motion tracker segments, as ``segment`` refuses ``--model``, ``--checkpoint`` and
    ``--random-weights`` for it (:func:`ecoseg.engine.checks.check_network_settings`): they
    were dropped without a word. From ``defaults:`` they are for the videos with a network.
    ``asked`` is the engine written (``None``: none, the motion tracker for want of prompts)."""
    given = {"model": entry.get("model"), "checkpoint": entry.get("checkpoint")}
    given["pretrained"] = "false" if entry.get("pretrained") is False else None
    for key, value in given.items():
        if value is None:  # not in the entry, or null: the default, as in segment()
            continue
        said = f"`{key}: {value}` is for the sam2 engine's network"
        if asked == "classical":
            raise ConfigError(
                f"{at(key)} {said}; the classical motion tracker has none: drop `{key}:`"
            )
        raise ConfigError(
            f"{at(key)} {said}, but without `prompts:` or `auto: true` this video uses the "
            f"classical motion tracker, which has none: give `prompts:` or `auto: true`, or "
            f"drop `{key}:`"
        )


def _sam3_name(model: Any) -> bool:
    """Whether ``model`` names a SAM 3 model, by the rule of :func:`ecoseg.segment` (which
    tracks concepts with it): its name starts with ``sam3``; any other name is a SAM 2 one.

    Examples
    --------
    >>> _sam3_name("sam3-reduced"), _sam3_name("sam2.1-large"), _sam3_name(None)
    (True, False, False)
    """
    return str(model).startswith("sam3")


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


def check_default_model(defaults: dict, ctx: str) -> None:
    """Refuse a ``defaults:`` ``model:`` that no network knows, after ``ctx`` (the file and
    the key's line), whether or not a video takes it: each video takes it only where it names
    that video's engine (a SAM 2 variant: the sam2 videos; a SAM 3 model: the concept videos),
    so a misspelt name could be taken by none and go unnoticed. Looked up as
    :func:`ecoseg.segment` would (by :func:`_sam3_name`), in the network's words.

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
        _check_model(model, "sam3" if _sam3_name(model) else "sam2", ctx)


def _size_reason(image_size: Any, engine: str, model: str) -> str:
    """Why the network of ``engine``'s ``model`` does not take ``image_size``, in the study
    file's words without the key; ``""`` where it takes it (``None``: its own size; the
    classical motion tracker has no network, so it takes none).

    Examples
    --------
    >>> _size_reason(512, "sam2", "sam2.1-tiny"), _size_reason(None, "sam3", "sam3")
    ('', '')
    >>> _size_reason(512, "sam3", "sam3")
    'must be a multiple of 14 from 112 to 4032 (e.g. 336, 672, 1008), got 512'
    """
    from ecoseg.engine import check_image_size

    try:
        check_image_size(image_size, engine, model)
    except ConfigError as exc:
        return key_words(exc).removeprefix("image_size: ")
    return ""


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
    if all(_size_reason(size, engine, model) for engine, model in networks):
        raise ConfigError(
            f"{ctx} image_size: {size} fits neither network: SAM 2's "
            f"{_size_reason(size, 'sam2', DEFAULT_MODEL)}; SAM 3's "
            f"{_size_reason(size, 'sam3', 'sam3')}"
        )


def check_default_size_taken(defaults: dict, videos: list, specs: list, ctx: str) -> None:
    """Refuse a ``defaults:`` ``image_size:`` that no video takes although some could: the
    videos with a network whose entry gives no size of its own (``videos``: the entries as
    written, ``specs``: as read), when none of their networks takes it (``512`` in a study of
    concept videos: each would run at its network's own size without a word). ``ctx``: the
    file and the key's line."""
    size = defaults.get("image_size")
    free = [
        spec
        for entry, spec in zip(videos, specs, strict=True)
        if spec.engine != "classical" and not (isinstance(entry, dict) and "image_size" in entry)
    ]
    if size is None or not free or any(spec.image_size == size for spec in free):
        return
    first = free[0]
    index = specs.index(first)
    raise ConfigError(
        f"{ctx} image_size: {size} fits the network of none of the videos that take it from "
        f"here (videos[{index}] ({first.name}), {first.model}: "
        f"{_size_reason(size, first.engine, first.model)}); give each engine's videos a size "
        "their network takes in their entries"
    )


def check_defaults_taken(defaults: dict, videos: list, specs: list, ctx) -> None:
    """Refuse a ``defaults:`` ``model:``, ``checkpoint:`` or parameter (in ``params:``) that
    no video of the study takes, while some video leaves it to ``defaults:`` (``videos``: the
    entries as written, ``specs``: as read): each goes only to the videos it fits (a SAM 3
    model: the concept videos; ``min_area``: the motion tracker's), so ``model: sam3`` in a
    study without concepts was unused without a word. ``ctx(key)``: the file and the key's
    line, then ``defaults:``.

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
        if _sam3_name(model):
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
                refuse(
                    "params",
                    f"params: {name} is a parameter of "
                    f"{_engines_of(name)}, but no video of the study takes it from here",
                )


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


def took_default(video: VideoSpec, key: str, value: Any) -> bool:
    """Whether ``video``, whose entry does not give ``key``, took ``defaults:``'s ``value``
    of it: a model, its checkpoint, an image size, a device, ``fast:``, ``detect_every:``,
    ``as_video:`` or ``params:`` from ``defaults:`` goes only to the videos it fits (a SAM 2
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
    if key in ("model", "image_size", "device", "fast", "detect_every", "as_video"):
        return value is None or getattr(video, key) == value
    return True


def _check_model(model: Any, engine: str, ctx: str) -> None:
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


def _concept_request(model: str, prompts: Path | None, shown, concepts, ctx: str):
    """A SAM 3 video's :class:`~ecoseg.engine.checks.ConceptRequest`: its prompt file read,
    its concepts combined with ``concepts:`` and something to find, as ``segment`` checks
    them (:func:`~ecoseg.engine.checks.concept_request`), in the study file's words."""
    from ecoseg.engine.checks import concept_request
    from ecoseg.errors import PromptError

    try:
        request = concept_request(model, prompts, concepts, shown=shown)
    except PromptError as exc:
        raise ConfigError(f"{ctx} prompts: {one_line(exc)}") from None
    try:
        request.require_concepts("`concepts: [name, ...]` or a `prompts:` file with concepts")
    except ConfigError as exc:
        raise ConfigError(f"{ctx} {exc}") from None
    return request


def _check_params(engine: str, params: dict, ctx: str) -> dict:
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
