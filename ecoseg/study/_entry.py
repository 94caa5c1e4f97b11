"""One entry of a study file's ``videos:``, checked in full and read into a
:class:`~ecoseg.study.records.VideoSpec`: its settings merged over ``defaults:``, the engine
decided (concepts or a SAM 3 model: sam3; prompts or auto: sam2; else the classical motion
tracker; a ``defaults:`` model names only the engine of a prompt file nothing else does, and goes
only to the videos of the engine it names; the defaults' size only to those whose network takes
it, their network settings only to the videos with a network, ``detect_every:`` and
``as_video:`` only to the concept videos, and neither ``detect_every:``, ``fast:``, ``fps:`` nor
a parameter but ``score_threshold`` to a photo survey), and every value refused as
:func:`ecoseg.segment` would refuse it, named with its line."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from ecoseg._cli import one_line
from ecoseg._paths import check_checkpoint, plain_name
from ecoseg.errors import ConfigError
from ecoseg.io._common import missing_video
from ecoseg.provenance import class_key, one_spelling
from ecoseg.study._engines import (
    SURVEY_PARAMETERS,
    check_model,
    check_params,
    engine_parameters,
    key_words,
    sam3_name,
    size_reason,
)
from ecoseg.study._keys import SETTING_KEYS, VIDEO_KEYS, check_keys
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

__all__ = ["parse_video"]


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
    from ecoseg.engine.survey_rule import is_photo_survey

    engine = asked = merged.get("engine")
    concepts, detect_every = _parse_concepts(merged, at)
    # the entry's own model names its engine; a model from defaults goes only to the videos of
    # the engine it names, so it names only the engine of a prompt file nothing else names (a
    # SAM 3 name: the file's exemplars)
    named = entry.get("model")
    if "model" not in entry and engine is None and not concepts and prompts is not None:
        named = defaults.get("model")
    if concepts or engine == "sam3" or sam3_name(named):
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
    if "model" not in entry and model is not None and sam3_name(model) != (engine == "sam3"):
        model = None  # the defaults' model is for the videos of the other engine
        if "checkpoint" not in entry:  # and so are its weights
            merged.pop("checkpoint", None)
    if model is None:
        model = "sam3" if engine == "sam3" else DEFAULT_MODEL
    check_model(model, engine, at("model"))
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
    if engine == "classical" and "pretrained" not in entry:
        pretrained = True  # the defaults' random weights are for the networks' videos
    as_video = _parse_as_video(merged, engine, at)
    survey = engine == "sam3" and is_photo_survey(video_path, as_video)
    if survey and "detect_every" not in entry:
        detect_every = 1  # the defaults' detector interval is for the concept videos
    if survey and "fps" not in entry:
        merged.pop("fps", None)  # and their frame rate for the folders tracked as a video
    fast = merged.get("fast", False)
    if not isinstance(fast, bool):
        raise ConfigError(f"{at('fast')} fast: must be true or false, got {fast!r}")
    if (engine == "classical" or survey) and "fast" not in entry:
        fast = False  # the defaults' bf16 is for the networks' video runs
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
    if "image_size" not in entry and size_reason(image_size, engine, model):
        image_size = None  # the defaults' size is for the videos whose network takes it
    try:  # the size the network takes (the classical engine has none), as segment() checks it
        check_image_size(image_size, engine, model)
    except ConfigError as exc:
        raise ConfigError(f"{at('image_size')} {key_words(exc)}") from None
    from ecoseg._device import check_device_name

    # `device: CPU` as cpu, as segment() takes it
    device = check_device_name(merged.get("device"), f"{at('device')} device")
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
        known = SURVEY_PARAMETERS if survey else engine_parameters(engine, bool(auto))
        params = {k: v for k, v in params.items() if known is None or str(k) in known}
        merged["params"] = params  # as the photo survey's check reads them
    params = check_params(engine, params, at("params"))
    if params and engine == "sam2" and prompts is not None:  # nothing would read them
        if "params" in entry:
            raise ConfigError(
                f"{at('params')} params: the sam2 engine with prompts takes no parameters"
            )
        params = {}  # the defaults' settings are for the videos of other engines

    calibration, spec = study_calibration(merged.get("calibration"), at("calibration"))
    fps = parse_fps(merged.get("fps"), video_path, source, at("fps"))
    if survey:
        _check_survey(merged, video_path, prompts, request, detect_every, fast, at)

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


def _parse_as_video(merged: dict, engine: str, at) -> bool:
    """``as_video:`` checked: true or false, and only for ``concepts:`` (SAM 3)."""
    as_video = merged.get("as_video", False)
    if not isinstance(as_video, bool):
        raise ConfigError(f"{at('as_video')} as_video: must be true or false, got {as_video!r}")
    if engine != "sam3" and as_video:
        raise ConfigError(
            f"{at('as_video')} as_video: is for `concepts:` (SAM 3); the other engines "
            "track a folder of images as a video anyway"
        )
    return as_video


def _check_survey(merged, video, prompts, request, detect_every, fast, at) -> None:
    """What a photo survey (SAM 3 on an image folder or an image, not ``as_video``:
    :func:`ecoseg.engine.survey_rule.is_photo_survey`, as ``ecoseg segment``) cannot use,
    refused in the study file's words (``fast: true``), naming the key; ``detect_every`` and
    ``fast`` as the video took them (from its entry: the defaults' are the concept videos')."""
    from ecoseg.engine.concepts import check_survey

    try:
        check_survey(
            video.name,
            request.concepts,
            objects=request.objects,
            prompt_file=prompts.name if prompts is not None else None,
            detect_every=detect_every,
            fast=fast,
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
