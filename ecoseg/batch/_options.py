"""The keyword arguments of each video's run in a campaign (:func:`segment_options`;
SAM 3 concept tracking: :func:`concept_options`), checked before any work as each video's
``segment`` would check them, and what a local cluster's machine lacks to run them
(:func:`check_this_machine`).
"""

from __future__ import annotations

import os
from typing import Any

from ecoseg._paths import check_file, check_in_folder, plain_name
from ecoseg.errors import ConfigError

__all__ = ["check_this_machine", "concept_options", "segment_options"]


def segment_options(
    names, engine, model, checkpoint, pretrained, image_size, device, params, prompts, auto
) -> dict[str, dict[str, Any]]:
    """Per-video keyword arguments of :func:`ecoseg.segment`, validated before any work."""
    from ecoseg.engine import (
        DEFAULT_MODEL,
        check_device,
        check_image_size,
        check_model_checkpoint,
        check_network_settings,
        check_params,
        choose_engine,
        params_dict,
    )

    prompts = _prompt_files(prompts, names)
    check_network_settings(  # what each video's segment() would refuse, before any work
        engine, bool(prompts), auto, model=model, checkpoint=checkpoint, pretrained=pretrained
    )
    engine = choose_engine(engine, prompts=bool(prompts), auto=auto)
    params = params_dict(params)
    check_params(params, engine, auto)
    _check_device(device)
    check_image_size(image_size, engine)
    check_device(device, engine)
    if engine == "classical":
        from ecoseg.engine.classical import ClassicalParams

        ClassicalParams.from_dict(params)
    else:  # (an unknown model: refused by check_network_settings, in segment's words)
        model = DEFAULT_MODEL if model is None else model
        missing = [n for n in names if n not in prompts]
        if missing and not auto:
            raise ConfigError(
                f"the sam2 engine needs a prompt file for every video; none for {missing[0]!r} "
                "(or use auto discovery)"
            )
        for name, path in prompts.items():
            check_file(path, f"prompt file of {name!r}", kind="JSON")
        check_model_checkpoint(model, checkpoint)
    common = {"engine": engine, "auto": auto}
    return _per_video(
        names, prompts, common, model, checkpoint, pretrained, image_size, device, params
    )


def _per_video(
    names, prompts, common, model, checkpoint, pretrained, image_size, device, params
) -> dict[str, dict[str, Any]]:
    """The keyword arguments of each video's run: the network options, ``common`` and the
    video's own prompt file."""
    common = {
        **common,
        "model": model,
        "checkpoint": None if checkpoint is None else os.fspath(checkpoint),
        "pretrained": pretrained,
        "image_size": image_size,
        "device": device,
        "params": params,
        "progress": False,
    }
    return {n: {**common, "prompts": prompts.get(n)} for n in names}


def check_this_machine(engine: str, options: dict[str, Any]) -> None:
    """Refuse, before any work, a network run this machine cannot do: a device it lacks, or
    weights neither given nor in its cache; every video's run would fail on it (each then
    reported, not retried). Checked only for a local cluster (a scheduler's workers are other
    machines, and each task meets what its own lacks), and only where a video is to be
    segmented (stores all complete need neither): before any video is opened, hashed or
    probed where one has no store yet (and no other store in OUT could be its), else once the
    campaign is planned."""
    if engine == "classical":
        return
    from ecoseg._device import resolve_device

    resolve_device(options["device"])  # 'device 'cuda': CUDA is not available here'
    if options["pretrained"] and options["checkpoint"] is None:
        if engine == "sam3":
            from ecoseg.sam3.weights import cached_weights
        else:
            from ecoseg.sam2.weights import cached_weights
        cached_weights(options["model"])


def _prompt_files(prompts, names) -> dict[str, str]:
    """Prompt file paths by video name; one-line :class:`ConfigError` for a name not a video.
    ``prompts`` a folder: its ``<name>.json`` of each of ``names`` that has one there."""
    if isinstance(prompts, str | os.PathLike):  # (names already resolved: no store read again)
        folder = check_in_folder(prompts, "prompts")
        files = {n: folder / f"{n}.json" for n in names}
        return {n: os.fspath(path) for n, path in files.items() if path.is_file()}
    prompts = {plain_name(str(k)) or str(k): os.fspath(v) for k, v in (prompts or {}).items()}
    unknown = sorted(set(prompts) - set(names))
    if unknown:
        raise ConfigError(f"prompts given for {unknown[0]!r}, which is not one of the videos")
    return prompts


def _check_device(device) -> None:
    """A device name ``segment`` accepts (or None), else one-line :class:`ConfigError`."""
    from ecoseg._device import check_device_name

    check_device_name(device, "device (--device)")


def concept_options(
    names, engine, model, checkpoint, pretrained, image_size, device, params, prompts, auto,
    concepts, detect_every, as_video=False,
) -> dict[str, dict[str, Any]]:  # fmt: skip
    """Per-video keyword arguments of a SAM 3 concept run (a photo survey's where the video
    is an image folder and not ``as_video``), validated before any work."""
    from ecoseg.engine import check_model_checkpoint, params_dict
    from ecoseg.engine.checks import concept_request
    from ecoseg.engine.concept_rules import ConceptSettings
    from ecoseg.errors import PromptError

    try:  # the model (SAM 3 when none; a preset), --engine, --auto, the size; names blank, repeated
        model = concept_request(
            model, None, concepts, engine=engine, auto=auto, image_size=image_size
        ).model
    except PromptError as exc:
        raise ConfigError(str(exc)) from None
    if isinstance(detect_every, bool) or not isinstance(detect_every, int) or detect_every < 1:
        raise ConfigError(f"detect_every must be a positive integer, got {detect_every!r}")
    concepts = [str(c) for c in concepts or ()]
    params = params_dict(params)
    ConceptSettings.from_params(params, detect_every)
    prompts = _prompt_files(prompts, names)
    for name in names:  # each video's prompt file read (one-line errors naming it), combined
        request = concept_request(model, prompts.get(name), concepts)
        try:
            request.require_concepts()
        except ConfigError as exc:
            raise ConfigError(f"{name}: {exc}") from None
    check_model_checkpoint(model, checkpoint)
    _check_device(device)
    common = {"concepts": concepts, "detect_every": detect_every}
    if as_video:  # absent otherwise: the options of runs made before it existed
        common["as_video"] = True
    return _per_video(
        names, prompts, common, model, checkpoint, pretrained, image_size, device, params
    )
