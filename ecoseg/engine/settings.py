"""The settings a run records in its store, and which of a store's recorded ones differ.

One place for both checks that a store was made with the settings asked for now:
``segment --resume`` (:func:`~ecoseg.engine.resume.check_resumable`, before it adds frames to
a store) and ``ecoseg batch`` (before it skips a complete store). Both compare what shapes a
store's masks or their times, as the store's provenance records it: the engine, the engine's
parameters, the prompts (their content: objects, concepts and exemplars, not the file's path),
the model (variant, image size, pretrained or random weights, checkpoint sha256, not its
path), ``auto`` discovery, backward tracking, and an image folder's rate (``--fps``).

Not compared: the device (``cpu``, ``cuda``, ``mps``): the same network and settings give
the same masks up to float rounding there (a logit within one float step of 0 may flip a
pixel), so a store made on a GPU is the one a CPU run would make; nor progress bars, threads,
workers or chunk sizes. bf16 (``fast``) is compared as recorded: a store made in bf16 is not
the exact fp32 run asked for, and the other way round; a record without it (``fast`` is
recorded only when bf16 ran) is an fp32 run, said ``fast: False``.

An engine parameter added to ecoseg after a store was made is not in that store's record;
the older code behaved as its default, so a run that asks for the default still matches
(resumed, or skipped by ``batch``) and one that asks for another value is a change, named
*not recorded in the store* (:func:`parameter_defaults`). ``backward`` is no such parameter:
a store that does not record it was tracked forwards only, as the code then did.
Random weights (``pretrained=False``) are drawn from :data:`RANDOM_WEIGHTS_SEED`, recorded
as the model entry's ``seed``; a store made before they were seeded records none and was made
by unseeded weights no run can draw again, so its lack of a seed is no change.

Exports
-------
describe_change
    What differs between two recorded values, in a few words.
changed_settings
    Which recorded settings differ between two provenances, and how.
settings_change
    Those differences as one phrase for an error message ("" if none), the engine first.
parameter_defaults
    An engine's parameters at their defaults (what a store that does not record a newer
    parameter was made with).
model_record
    The provenance entry of the network a run uses.
survey_model_record
    That entry for a photo survey, which records real weights taken from the cache with
    their path and sha256.
build_network
    That network, its random weights (``pretrained=False``) drawn from
    :data:`RANDOM_WEIGHTS_SEED` so a run can be repeated.
requested_settings
    The provenance a :func:`ecoseg.segment` run with given keyword arguments records, without
    reading the video or loading a network (for ``ecoseg batch``).
DEFAULT_MODEL
    The SAM 2 variant a run uses when none is given (re-exported by :mod:`ecoseg.engine`).
RANDOM_WEIGHTS_SEED
    The seed of a run's random weights (recorded as the model entry's ``seed``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecoseg.provenance import Provenance

__all__ = [
    "DEFAULT_MODEL",
    "RANDOM_WEIGHTS_SEED",
    "build_network",
    "changed_settings",
    "describe_change",
    "model_record",
    "parameter_defaults",
    "requested_settings",
    "settings_change",
    "survey_model_record",
]

#: The SAM 2 variant a run uses when no model is given (``model=None``, no ``--model``).
DEFAULT_MODEL = "sam2.1-tiny"

#: The seed of the random weights of a run without real ones (``pretrained=False``,
#: ``--random-weights``): the same network every time, so its store can be made again.
RANDOM_WEIGHTS_SEED = 0


def describe_change(stored, wanted, limit: int = 3) -> str:
    """What differs between two recorded settings (JSON values), in a few words.

    Dicts are compared key by key (up to ``limit`` keys named); a prompt record's
    ``concepts`` by their names (then their exemplars) and its ``objects`` by id.

    Examples
    --------
    >>> describe_change({"detect_every": 1, "nms_iou": 0.1}, {"detect_every": 2, "nms_iou": 0.1})
    'detect_every: 1 in the store, 2 now'
    >>> describe_change({"concepts": [{"text": "wrasse"}], "objects": []},
    ...                 {"concepts": [{"text": "wrasse"}, {"text": "sea urchin"}], "objects": []})
    "concepts: ['wrasse'] in the store, ['wrasse', 'sea urchin'] now"
    """
    if not (isinstance(stored, dict) and isinstance(wanted, dict)):
        return f"{_short(stored)} in the store, {_short(wanted, 'not set')} now"
    parts = []
    for key in sorted(set(stored) | set(wanted), key=str):
        a, b = stored.get(key, _ABSENT), wanted.get(key, _ABSENT)
        if a == b:
            continue
        lists = all(isinstance(x, list) or x is None or x is _ABSENT for x in (a, b))
        if key == "concepts" and lists:
            parts.append(_concepts_change(_items(a), _items(b)))
        elif key == "objects" and lists:
            parts.append(_objects_change(_items(a), _items(b)))
        else:
            parts.append(f"{key}: {_value(a)} in the store, {_value(b, 'not set')} now")
    shown = parts[:limit]
    if len(parts) > limit:
        shown.append(f"{len(parts) - limit} more")
    return "; ".join(shown)


def _items(value) -> list:
    return value if isinstance(value, list) else []


def _concept_name(c) -> str:
    if isinstance(c, dict):
        return c.get("text") or "visual"
    return str(c)


def _concepts_change(a: list, b: list) -> str:
    names_a, names_b = [_concept_name(c) for c in a], [_concept_name(c) for c in b]
    if names_a != names_b:
        return f"concepts: {names_a} in the store, {names_b} now"
    changed = [n for n, x, y in zip(names_a, a, b) if x != y]
    return "exemplars of concept " + ", ".join(repr(n) for n in changed)


def _objects_change(a: list, b: list) -> str:
    by_a = {o.get("id"): o for o in a if isinstance(o, dict)}
    by_b = {o.get("id"): o for o in b if isinstance(o, dict)}
    ids = sorted(
        (i for i in set(by_a) | set(by_b) if by_a.get(i) != by_b.get(i)),
        key=lambda i: (not isinstance(i, int), i if isinstance(i, int) else str(i)),
    )
    shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
    return f"prompts of object {shown}" if ids else "object prompts"


#: A key a record lacks (told apart from one recorded as ``None``).
_ABSENT = object()


def _short(value, missing: str = "not recorded", width: int = 60) -> str:
    text = missing if value is None or value is _ABSENT else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _value(value, missing: str = "not recorded") -> str:
    """A dict entry's value: ``missing`` where the key is absent, ``None`` where recorded so."""
    return "None" if value is None else _short(value, missing)


def changed_settings(stored: Provenance, wanted: Provenance, model: bool = True) -> tuple[str, str]:
    """Which settings that shape the masks, or their times, differ between two provenances
    ("" if none), and how (:func:`describe_change`); an image folder's rate too (``--fps``;
    a video file's rate is its own). The engine is :func:`settings_change`'s to compare.

    Parameters
    ----------
    stored, wanted : Provenance
        The store's record and the run's.
    model : bool
        Compare the model entry (``False``: the run has not chosen its network yet).

    Returns
    -------
    (str, str)
        What differs (``"parameters and prompts"``) and how (``"min_area: 30 in the store,
        50 now; ..."``).

    Examples
    --------
    >>> a = Provenance.from_dict({"parameters": {"min_area": 30, "device": "cuda"}})
    >>> b = Provenance.from_dict({"parameters": {"min_area": 50, "device": "cpu"}})
    >>> changed_settings(a, b)
    ('parameters', 'min_area: 30 in the store, 50 now')
    """

    def values(key: str):
        a, b = (json.loads(json.dumps(p.get(key), default=str)) for p in (stored, wanted))
        if key == "model":  # the same checkpoint may lie elsewhere now
            for m in (a, b):
                if isinstance(m, dict) and isinstance(m.get("checkpoint"), dict):
                    m["checkpoint"].pop("path", None)
            if isinstance(a, dict) and isinstance(b, dict) and "seed" not in a:
                b.pop("seed", None)  # random weights of a store made before they were seeded
        if key == "parameters":  # another device: the same masks up to float rounding
            for m in (a, b):
                if isinstance(m, dict):
                    m.pop("device", None)
            if isinstance(a, dict) and isinstance(b, dict) and set(b) - set(a):
                a.update(_unrecorded_defaults(a, b, wanted))
            for m, other in ((a, b), (b, a)):  # bf16 is recorded only when it ran: else fp32
                if isinstance(m, dict) and isinstance(other, dict) and "fast" in other:
                    m.setdefault("fast", False)
        return a, b

    names = {
        "parameters": "parameters",
        "prompts": "prompts",
        "model": "model settings",
        "auto": "automatic discovery setting",
        "backward": "backward tracking setting",
    }
    if not model:
        del names["model"]
    changed, details = [], []
    for key, text in names.items():
        a, b = values(key)
        if a != b:
            changed.append(text)
            details.append(_backward_change(a, b) if key == "backward" else describe_change(a, b))
    made, now = (p.video.fps if p.video is not None else None for p in (stored, wanted))
    if wanted.video is not None and wanted.video.extra.get("image_folder") and made != now:
        made_text = f"{made:g} fps" if isinstance(made, int | float) else "not recorded"
        changed.append(f"image folder's frame rate (--fps: the store's {made_text}, now {now:g})")
    listed = (
        ", ".join(changed[:-1]) + " and " + changed[-1] if len(changed) > 1 else "".join(changed)
    )
    return listed, "; ".join(d for d in details if d)


def _backward_change(stored, wanted) -> str:
    """A change of ``backward`` in the option's words (it said "True in the store, False
    now"): a store without the key was tracked forwards only, as the code then did.

    Examples
    --------
    >>> _backward_change(True, False)
    'the store tracked the frames before the first prompt backwards, --forward-only now'
    >>> _backward_change(None, True)
    'the store left the frames before the first prompt empty (--forward-only), not now'
    """
    if stored is True:
        return "the store tracked the frames before the first prompt backwards, --forward-only now"
    if wanted is True:
        return "the store left the frames before the first prompt empty (--forward-only), not now"
    return describe_change(stored, wanted)


def parameter_defaults(engine: str | None, auto: bool = False) -> dict[str, Any]:
    """Every engine parameter a run records, at its default (JSON values; ``{}`` where the
    engine records no defaults: SAM 2 with prompts records only what is given).

    A parameter added to ecoseg after a store was made is missing from that store's record;
    its default is how the older code behaved, so the comparison takes it as recorded at its
    default (:func:`changed_settings`).

    Parameters
    ----------
    engine : str
        The recorded engine (``"classical"``, ``"sam2"``, ``"sam3-concepts"``).
    auto : bool
        SAM 2's automatic discovery (``--auto``).

    Returns
    -------
    dict

    Examples
    --------
    >>> parameter_defaults("classical")["still_frames"]
    75
    >>> parameter_defaults("sam2")
    {}
    """
    if engine == "classical":
        from ecoseg.engine.classical import ClassicalParams

        values = ClassicalParams().to_dict()
    elif engine == "sam3-concepts":
        from ecoseg.engine.concept_rules import ConceptSettings

        values = ConceptSettings().to_dict()
    elif engine == "sam2" and auto:
        from ecoseg.engine.discovery import DiscoveryParams

        values = DiscoveryParams().to_dict()
    else:
        values = {}
    return json.loads(json.dumps(values, default=str))


def _unrecorded_defaults(stored: dict, wanted: dict, run: Provenance) -> dict:
    """The parameters ``stored`` lacks that ``wanted`` asks for at their default."""
    defaults = parameter_defaults(run.engine, run.get("auto") is True)
    return {
        k: wanted[k]
        for k in set(wanted) - set(stored)
        if k in defaults and defaults[k] == wanted[k]
    }


def settings_change(stored: Provenance, wanted: Provenance, model: bool = True) -> str:
    """What differs between a store's recorded settings and a run's, as one phrase for an
    error message, or ``""`` when nothing that shapes the masks does.

    Parameters
    ----------
    stored, wanted : Provenance
        The store's record and the run's.
    model : bool
        As for :func:`changed_settings`.

    Returns
    -------
    str

    Examples
    --------
    >>> old = Provenance.from_dict({"engine": "classical", "parameters": {"min_area": 30}})
    >>> settings_change(old, Provenance.from_dict({"engine": "sam2"}))
    'the store was made with the classical engine, not sam2'
    >>> new = Provenance.from_dict({"engine": "classical", "parameters": {"min_area": 50}})
    >>> settings_change(old, new)
    'the parameters differ from the run that made the store (min_area: 30 in the store, 50 now)'
    >>> settings_change(old, old)
    ''
    """
    if stored.engine != wanted.engine:
        return f"the store was made with the {stored.engine} engine, not {wanted.engine}"
    changed, details = changed_settings(stored, wanted, model=model)
    if not changed:
        return ""
    verb = "differ" if changed.endswith("s") or " and " in changed else "differs"
    how = f" ({details})" if details else ""
    return f"the {changed} {verb} from the run that made the store{how}"


def model_record(
    name: str,
    checkpoint: str | os.PathLike | None,
    pretrained: bool,
    image_size: int,
) -> dict[str, Any]:
    """The provenance entry (``"model"``) of the network a run uses.

    A checkpoint's sha256 comes from :func:`ecoseg._hashing.cached_sha256_file`: a large
    checkpoint is read once, then known by its size, mtime, ctime and inode, so
    ``segment --resume --checkpoint FILE`` (and ``batch``, which compares the same record)
    does not hash it again on every run.

    Parameters
    ----------
    name : str
        The variant (``"sam2.1-tiny"``, ``"sam3"``).
    checkpoint : str or Path, optional
        The weights file given (recorded with its sha256).
    pretrained : bool
        Whether real weights were asked for (a checkpoint counts as such).
    image_size : int
        The network's input size.

    Returns
    -------
    dict

    Examples
    --------
    >>> model_record("sam2.1-tiny", None, False, 1024)
    {'variant': 'sam2.1-tiny', 'image_size': 1024, 'pretrained': False, 'seed': 0}
    """
    info: dict[str, Any] = {
        "variant": name,
        "image_size": image_size,
        "pretrained": bool(pretrained or checkpoint is not None),
    }
    if not info["pretrained"]:  # random weights: the seed they were drawn from
        info["seed"] = RANDOM_WEIGHTS_SEED
    if checkpoint is not None:
        from ecoseg._hashing import cached_sha256_file

        info["checkpoint"] = {"path": str(checkpoint), "sha256": cached_sha256_file(checkpoint)}
    return info


def survey_model_record(
    name: str,
    checkpoint: str | os.PathLike | None,
    pretrained: bool,
    image_size: int,
) -> dict[str, Any]:
    """The model entry a photo survey records (:func:`ecoseg.engine.concepts.segment_images`),
    before its network is built: :func:`model_record`, and for real weights without a
    checkpoint the cached download's path and sha256, as the survey records the weights its
    network holds (a video run records none for them). Where the cache lacks them, none: the
    run itself refuses the missing weights.

    Examples
    --------
    >>> survey_model_record("sam3-reduced", None, False, 112)
    {'variant': 'sam3-reduced', 'image_size': 112, 'pretrained': False, 'seed': 0}
    """
    info = model_record(name, checkpoint, pretrained, image_size)
    if checkpoint is None and pretrained:
        from ecoseg.sam3 import weights

        cached = weights.weights_path(name) if name in weights.entries() else None
        if cached is not None and cached.is_file():
            from ecoseg._hashing import cached_sha256_file

            info["checkpoint"] = {"path": str(cached), "sha256": cached_sha256_file(cached)}
    return info


def build_network(
    family,
    name: str,
    checkpoint: str | os.PathLike | None,
    pretrained: bool,
    image_size: int | None,
    device,
):
    """``family.build(name, checkpoint, ...)`` (:mod:`ecoseg.sam2` or :mod:`ecoseg.sam3`),
    random weights drawn from :data:`RANDOM_WEIGHTS_SEED`: a run with ``pretrained=False``
    (``--random-weights``) gets the same network each time, so its store can be made again
    (the report's reproduce line, a study run again). The caller's torch random state is left
    as it was.

    Parameters
    ----------
    family : module
        :mod:`ecoseg.sam2` or :mod:`ecoseg.sam3`.
    name, checkpoint, pretrained, image_size, device
        As for ``family.build``.

    Returns
    -------
    torch.nn.Module

    Examples
    --------
    >>> import torch
    >>> from ecoseg import sam2
    >>> a = build_network(sam2, "sam2.1-tiny", None, False, 64, "cpu")
    >>> _ = torch.rand(3)  # the caller's random state moves on: the weights do not
    >>> b = build_network(sam2, "sam2.1-tiny", None, False, 64, "cpu")
    >>> all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    True
    """
    kwargs = dict(pretrained=pretrained, image_size=image_size, device=device)
    if pretrained or checkpoint is not None:
        return family.build(name, checkpoint, **kwargs)
    import torch

    with torch.random.fork_rng(devices=[]):  # the weights are made on the CPU
        torch.default_generator.manual_seed(RANDOM_WEIGHTS_SEED)
        return family.build(name, checkpoint, **kwargs)


def requested_settings(
    options: Mapping[str, Any],
    video: str | os.PathLike | None = None,
    made: Provenance | None = None,
) -> Provenance:
    """The settings a :func:`ecoseg.segment` run with ``options`` records in its store.

    The video is not read and no network is loaded: the model's image size comes from its
    configuration and a checkpoint's sha256 from the hash cache (see :func:`model_record`).

    Parameters
    ----------
    options : mapping
        :func:`ecoseg.segment`'s keyword arguments, already validated, with ``prompts`` the
        prompt file's path (or ``None``); ``concepts`` present: a SAM 3 concept run, else
        ``engine`` is the one chosen (``"sam2"`` or ``"classical"``); ``as_video`` as for
        :func:`ecoseg.segment`.
    video : str or Path, optional
        The video; a local image folder adds its rate (``fps``, default 30); given concepts
        it is a photo survey's by :func:`ecoseg.engine.survey_rule.is_photo_survey`.
    made : Provenance, optional
        The store's record: where it was made on a CPU and records no bf16, ``fast`` is taken
        as that CPU's exact fp32 (a CPU without bf16 instructions runs ``fast`` in fp32).

    Returns
    -------
    Provenance
        ``engine``, ``parameters`` (no ``device``), ``prompts``, ``model``, ``auto`` or
        ``backward`` as :func:`ecoseg.segment` records them, and the folder's ``video`` rate.

    Examples
    --------
    >>> requested_settings({"engine": "classical", "params": {"min_area": 50}}).engine
    'classical'
    """
    path = options.get("prompts")
    params = dict(options.get("params") or {})
    record: dict[str, Any] = {}
    survey = False
    if "concepts" in options:
        from ecoseg.engine.checks import concept_request
        from ecoseg.engine.concept_rules import ConceptSettings
        from ecoseg.engine.survey_rule import is_photo_survey
        from ecoseg.prompts import Prompts
        from ecoseg.sam3.config import get_config

        request = concept_request(
            options.get("model") or None,
            path,
            options["concepts"],
            image_size=options.get("image_size"),
        )
        model, wanted, objects = request.model, request.concepts, request.objects
        survey = video is not None and is_photo_survey(video, options.get("as_video", False))
    else:
        from ecoseg.prompts import load_prompts

        given = load_prompts(path) if path is not None else None
    if survey:  # as segment_images records it
        size = get_config(model, options.get("image_size")).image_size
        record.update(
            engine="sam3-concepts",
            parameters={"score_threshold": float(params.get("score_threshold", 0.5))},
            prompts={"concepts": [{"text": c.name} for c in wanted]},
        )
    elif "concepts" in options:
        settings = ConceptSettings.from_params(params, options.get("detect_every", 1))
        size = get_config(model, options.get("image_size")).image_size
        record.update(
            engine="sam3-concepts",
            parameters=settings.to_dict(),
            prompts=_as_cut(Prompts(objects, tuple(wanted)), made).to_dict(),
        )
    else:
        auto, engine = bool(options.get("auto")), options["engine"]
        model = options.get("model") or DEFAULT_MODEL
        record["engine"] = engine
        if given is not None:
            record["prompts"] = _as_cut(given, made).to_dict()
        if engine == "classical":
            from ecoseg.engine.classical import ClassicalParams

            record["parameters"] = ClassicalParams.from_dict(params).to_dict()
        else:
            from ecoseg.sam2.variants import get_variant

            if auto:
                from ecoseg.engine.discovery import DiscoveryParams

                params = DiscoveryParams.from_dict(params).to_dict()
                record["auto"] = True
            else:
                record["backward"] = bool(options.get("backward", True))
            record["parameters"] = params
            size = get_variant(model, options.get("image_size")).image_size
    if record["engine"] != "classical":
        if options.get("fast") and not _fp32_cpu(made):  # recorded when bf16 ran
            record["parameters"] = {**record["parameters"], "fast": True}
        weights = (options.get("checkpoint"), options.get("pretrained", True))
        record["model"] = (survey_model_record if survey else model_record)(model, *weights, size)
        if survey and all(weights[1:]) and weights[0] is None:
            _cached_as_made(record["model"], made)
    if not survey and video is not None and "://" not in str(video) and Path(video).is_dir():
        from ecoseg.io.folder import DEFAULT_FPS

        fps = options.get("fps")
        record["video"] = {"fps": DEFAULT_FPS if fps is None else fps, "image_folder": True}
    return Provenance.from_dict(record)


def _cached_as_made(model: dict[str, Any], made: Provenance | None) -> None:
    """A survey asking for the cached weights where this machine's cache lacks them: the
    weights its store records are taken as those (nothing here tells them apart; a run that
    has to segment refuses the missing weights first), so a complete store is skipped on a
    machine without them, as a video's is."""
    recorded = made.get("model") if made is not None else None
    if "checkpoint" not in model and isinstance(recorded, dict) and "checkpoint" in recorded:
        model["checkpoint"] = recorded["checkpoint"]


def _as_cut(prompts, made: Provenance | None):
    """``prompts`` with boxes cut to the store's frame, as the run that made it recorded them
    (it cut a box reaching past the edge, with a warning then; none again here)."""
    size = (made.video.width, made.video.height) if made and made.video else (None, None)
    if not all(isinstance(n, int) and n > 0 for n in size):
        return prompts
    from ecoseg._warn import unsaid
    from ecoseg.errors import PromptClippedWarning

    with unsaid(PromptClippedWarning):  # this thread's only (a filter is every thread's)
        return prompts.validate(*size)


def _fp32_cpu(made: Provenance | None) -> bool:
    """Whether a store was made on a CPU in fp32 (``fast`` not in effect there)."""
    parameters = made.get("parameters") if made is not None else None
    return (
        isinstance(parameters, dict)
        and parameters.get("device") == "cpu"
        and not parameters.get("fast")
    )
