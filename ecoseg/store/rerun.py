"""The ``ecoseg segment`` command a store's provenance records: one builder of its options, for
the command that continues an interrupted run (:func:`resume_command`: the refusal of an
unfinished output store, ``measure``'s warning, ``ecoseg info``) and the report's
*Reproduce* section (:func:`ecoseg.report.reproduce.store_command`, which offers the prompt
file and engine settings as files to download).
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Callable
from typing import Any

from ecoseg._checks import number_text
from ecoseg._store_video import find_video
from ecoseg.provenance import RUN_ENGINES, ModelInfo, Provenance

__all__ = [
    "rate_options",
    "recorded_options",
    "resume_command",
    "resume_hint",
    "segment_options",
]

#: recorded parameters that are not settings of the engine (or that have their own flag)
_NOT_SETTINGS = ("device", "fast")

#: what a recorded input becomes on the command: ``(kind, value) -> argument``, kind one of
#: "prompts" and "params" (dicts) and "checkpoint" (the recorded path)
Shown = Callable[[str, Any], str]


def segment_options(prov: Provenance, shown: Shown) -> list[str] | None:
    """The options of the ``ecoseg segment`` run that made a store, after ``VIDEO -o STORE``:
    every setting its provenance records that shapes its masks (engine, model, input size,
    checkpoint, device, precision, direction, an image folder's frame rate, prompts or
    concepts, engine settings). ``None`` for a store no ``ecoseg segment`` run made (another
    engine, an import, none recorded).

    Parameters
    ----------
    prov : Provenance
        The store's provenance.
    shown : callable
        ``shown(kind, value)``: the argument that gives a recorded prompt file
        (``"prompts"``), engine settings (``"params"``) or checkpoint (``"checkpoint"``), as
        the caller offers them (already quoted for a shell).

    Examples
    --------
    >>> prov = Provenance.from_dict({"engine": "sam2", "backward": False,
    ...     "model": {"variant": "sam2.1-small", "image_size": 512, "pretrained": True},
    ...     "parameters": {"device": "cpu", "fast": True}, "prompts": {"objects": [{"id": 1}]}})
    >>> " ".join(segment_options(prov, lambda kind, value: kind.upper() + ".json"))
    '--engine sam2 --model sam2.1-small --image-size 512 --device cpu --fast --prompts \
PROMPTS.json --forward-only'
    >>> segment_options(Provenance.from_dict({"engine": "import"}), str) is None
    True
    """
    engine = prov.engine
    if engine not in RUN_ENGINES:
        return None
    cmd = rate_options(prov)
    if engine != "sam3-concepts":
        cmd += ["--engine", engine]
    params = {k: val for k, val in (prov.parameters or {}).items() if k not in _NOT_SETTINGS}
    prompts = dict(prov.prompts or {})
    if engine != "classical":
        cmd += _network_flags(prov, shown)
    if engine == "sam2":
        auto = bool(prov.get("auto"))
        if prompts.get("objects") or not auto:
            cmd += ["--prompts", shown("prompts", prompts)]
        if auto:
            cmd.append("--auto")
        if prov.get("backward") is False:
            cmd.append("--forward-only")
    elif engine == "sam3-concepts":
        concepts = prompts.get("concepts") or []
        if prompts.get("objects") or any(c.get("exemplars") for c in concepts):
            cmd += ["--prompts", shown("prompts", prompts)]
        else:
            cmd += ["--concepts", *(shlex.quote(str(c["text"])) for c in concepts)]
        # photo quadrats: one threshold, no tracking settings
        if prov.is_survey:
            threshold = params.pop("score_threshold", 0.5)
            params = {}
            if threshold != 0.5:
                cmd += ["--score-threshold", f"{threshold:g}"]
        every = params.pop("detect_every", 1)
        if every != 1:
            cmd += ["--detect-every", str(every)]
        video = prov.video
        if not prov.is_survey and video is not None and video.extra.get("image_folder"):
            cmd.append("--as-video")  # an image folder tracked: a survey without it
    if params:
        cmd += ["--params", shown("params", params)]
    return cmd


def recorded_options(prov: Provenance) -> list[str] | None:
    """:func:`segment_options` as a command typed again: engine settings as JSON text, the
    checkpoint's recorded path, and ``PROMPTS.json`` for the prompt file the run was given
    (its name is not recorded; resuming checks the prompts are the same).

    Examples
    --------
    >>> prov = Provenance.from_dict({"engine": "classical", "parameters": {"threshold": 4.0}})
    >>> recorded_options(prov)
    ['--engine', 'classical', '--params', '\\'{"threshold": 4.0}\\'']
    >>> recorded_options(Provenance()) is None
    True
    """
    return segment_options(prov, _typed)


def _typed(kind: str, value: Any) -> str:
    if kind == "prompts":
        return "PROMPTS.json"
    if kind == "params":
        return shlex.quote(json.dumps(value))
    return shlex.quote(str(value))


def resume_command(video: str | None, path: Any, options: list[str] | None = None) -> str:
    """The command that continues an interrupted ``ecoseg segment`` run into the store at
    ``path``; one source for the refusal of such a store as a new run's output, ``ecoseg
    measure``'s warning and ``ecoseg info``.

    Parameters
    ----------
    video : str or None
        The video the store records; ``VIDEO`` stands for it when none is recorded. A
        recorded absolute path that is not there is shown where
        :func:`ecoseg._store_video.find_video` finds the video now (a folder moved or copied whole
        with its stores and videos).
    path : str or Path
        The store. Both are quoted for a shell where they need it.
    options : list of str, optional
        The run's options (:func:`recorded_options`), which resuming checks are the same;
        none: the command ends at ``--resume``.

    Returns
    -------
    str

    Examples
    --------
    >>> resume_command("clips/reef 1.mp4", "out/m.zarr")
    "ecoseg segment 'clips/reef 1.mp4' -o out/m.zarr --resume"
    >>> resume_command(None, "m.zarr", ["--engine", "classical"])
    'ecoseg segment VIDEO -o m.zarr --resume --engine classical'
    """
    if video and isinstance(path, str | os.PathLike) and os.path.isabs(video):
        found = find_video(video, path)  # (where it is now: the folder moved)
        video = str(found) if found is not None else video
    shown = shlex.quote(video) if video else "VIDEO"
    command = ["ecoseg", "segment", shown, "-o", shlex.quote(str(path)), "--resume"]
    return " ".join(command + (options or []))


def resume_hint(store: Any) -> str:
    """The command that continues ``store``'s unfinished run, in backquotes, with the options
    its provenance records (:func:`recorded_options`; a store that records no ``ecoseg
    segment`` run adds "and the run's options"): the one tail of every message about such a
    store (its refusal as a new run's output, ``measure``'s warning, ``evaluate``'s refusal).

    Examples
    --------
    >>> from ecoseg.store import MaskStore
    >>> s = MaskStore.create("memory://doc-resume-hint", height=2, width=2, overwrite=True)
    >>> print(resume_hint(s))
    `ecoseg segment VIDEO -o memory://doc-resume-hint --resume` and the run's options
    >>> s = MaskStore.create("memory://doc-resume-hint", height=2, width=2, overwrite=True,
    ...     provenance={"engine": "classical", "video": {"path": "reef 1.mp4"}})
    >>> print(resume_hint(s))
    `ecoseg segment 'reef 1.mp4' -o memory://doc-resume-hint --resume --engine classical`
    """
    record = store.provenance_record
    video = record.video.path if record.video is not None else None
    options = recorded_options(record)
    command = f"`{resume_command(video, store.path, options)}`"
    return command if options is not None else f"{command} and the run's options"


def _network_flags(prov: Provenance, shown: Shown) -> list[str]:
    """Model, input size, checkpoint, weights, device and precision of a network's store."""
    model = prov.model or ModelInfo()
    default = "sam3" if prov.engine == "sam3-concepts" else "sam2.1-tiny"
    flags = ["--model", str(model.variant or default)]
    if model.image_size:
        flags += ["--image-size", str(model.image_size)]
    if model.checkpoint_path:
        flags += ["--checkpoint", shown("checkpoint", str(model.checkpoint_path))]
    elif model.pretrained is False:
        flags.append("--random-weights")
    parameters = prov.parameters or {}
    if parameters.get("device"):
        flags += ["--device", str(parameters["device"])]
    if parameters.get("fast"):
        flags.append("--fast")
    return flags


def rate_options(prov: Provenance) -> list[str]:
    """``--fps N`` for a store made from an image folder timed at a rate other than the
    default (a video file's rate is its own; a photo survey has none); for ``ecoseg import``'s
    command too.

    Examples
    --------
    >>> folder = {"path": "timelapse", "fps": 1 / 3, "image_folder": True}
    >>> rate_options(Provenance.from_dict({"video": folder}))
    ['--fps', '0.3333333333333333']
    >>> rate_options(Provenance.from_dict({"video": {"path": "v.mp4", "fps": 25.0}}))
    []
    """
    from ecoseg.io.folder import DEFAULT_FPS

    video = prov.video
    if video is None or not video.extra.get("image_folder") or video.fps in (None, DEFAULT_FPS):
        return []
    return ["--fps", number_text(video.fps)]
