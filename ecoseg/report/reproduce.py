"""The commands that make a report's stores and page again, shown on the page.

Every setting a store's provenance records that shapes its masks goes into its command: the
model, input size, checkpoint name, device, precision, direction, an image folder's frame rate
(``--fps``, which times its frames), and the prompt file and
engine settings as files the page offers for download (``<video>.prompts.json``,
``<video>.params.json``), so the commands run as shown. A reviewed or classified store's edit
log follows as ``ecoseg edit`` / ``ecoseg classify`` commands (:func:`review_steps`).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ecoseg._checks import number_text
from ecoseg.io.folder import DEFAULT_FPS
from ecoseg.provenance import ModelInfo
from ecoseg.report.read import VideoInfo

__all__ = [
    "Command",
    "InputFile",
    "calibration_arg",
    "measure_command",
    "recorded_models",
    "reproduce",
    "review_steps",
    "store_command",
]

#: recorded parameters that are not settings of the engine (or that have their own flag)
_NOT_SETTINGS = ("device", "fast")


@dataclass(frozen=True)
class InputFile:
    """A file a command reads (a prompt file, engine settings), offered on the page."""

    name: str
    text: str

    @property
    def uri(self) -> str:
        """The file as a ``data:`` URI for the page's download link."""
        data = base64.b64encode(self.text.encode()).decode("ascii")
        return "data:application/json;base64," + data


@dataclass(frozen=True)
class Command:
    """One shell command and the files it reads."""

    text: str
    files: tuple[InputFile, ...] = ()


def reproduce(
    videos: list[VideoInfo], study: Any, out: Path, title: str | None = None
) -> dict[str, Any]:
    """How to make the page again: ``ecoseg study`` for a study, else one command per store.

    ``title`` is the page title the report was asked for (``--title``); the ground-truth
    stores of the videos (``--truth``) come from ``videos``.

    Returns
    -------
    dict
        ``study`` (the command, or None), ``where`` (the folder to run it in), ``steps`` (the
        commands, one per store, then ``ecoseg report``) and ``files`` (the
        :class:`InputFile` records the steps read).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> study = SimpleNamespace(path=Path("field/study.yaml"))
    >>> reproduce([], study, Path("field/out/report.html"))["study"]
    'ecoseg study study.yaml'
    """
    if study is not None:
        run = f"ecoseg study {_q(study.path.name)}"
        replays = [_study_reviews(v, study) for v in videos]
        if any(r.unclassified for r in replays):  # a first run that classifies none: every
            # store's classifications of the study's model before its first review are steps
            replays = [_study_reviews(v, study, whole=True) for v in videos]
        reviews = [step for r in replays for step in r.steps]
        # the first run classifies a store only where the study's model made its log's first
        # entry (not a model added after a review, nor a model file since replaced)
        first = f"{run} --no-report" + (" --no-classify" * any(r.unclassified for r in replays))
        files = {f.name: f for r in replays for f in r.files}
        return {
            "study": run,
            "where": "in the folder that holds the study file (its text is below)",
            # a person's review goes between a run that makes the stores and one that
            # measures them again and writes the page
            "steps": [first, *reviews, run] if reviews else [],
            "files": list(files.values()),
            "notes": [note for r in replays for note in r.notes],
        }
    commands = [store_command(v) for v in videos]
    stores = " ".join(_q(v.store_shown) for v in videos)
    steps = []
    for v, c in zip(videos, commands):
        steps.append(c.text)
        if not getattr(v, "complete", True):
            steps.append(_unfinished_note(v))
    steps += [
        step
        for v in videos
        for step in review_steps(
            v.store_shown,
            v.edits,
            v.unchecked_splits,
            v.refused_merges,
            v.refused_reviews,
            v.kept_visual,
            calibrated=_made_calibrated(v),
        )
    ]
    # a calibration is saved into a store by `ecoseg measure`, not by `segment`: without
    # this step the page made again would be in pixels
    steps += [cmd for v in videos if (cmd := measure_command(v)) is not None]
    page = ["ecoseg", "report", stores, "-o", _q(out.name)]
    truths = [v.truth_shown or v.truth for v in videos]
    if all(truths):
        page += [a for t in truths for a in ("--truth", _q(t))]
    if title:
        page += ["--title", _q(title)]
    steps.append(" ".join(page))
    if any(truths) and not all(truths):
        steps.append("# the ground truth of some videos was given in Python (report(truth=...))")
    return {
        "study": None,
        "where": None,
        "steps": steps,
        "files": [f for c in commands for f in c.files],
        "notes": [],
    }


def store_command(v: VideoInfo) -> Command:
    """The command that makes one store again, from its provenance.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from ecoseg.provenance import Provenance
    >>> prov = Provenance.from_dict({"engine": "sam2", "backward": False,
    ...     "model": {"variant": "sam2.1-small", "image_size": 512, "pretrained": True},
    ...     "parameters": {"device": "cpu", "fast": True}, "prompts": {"objects": [{"id": 1}]}})
    >>> cmd = store_command(SimpleNamespace(name="reef 1", provenance=prov,
    ...                     video_shown="reef 1.mp4", store_shown="reef 1.zarr"))
    >>> cmd.text
    "ecoseg segment 'reef 1.mp4' -o 'reef 1.zarr' --engine sam2 --model sam2.1-small \
--image-size 512 --device cpu --fast --prompts 'reef 1.prompts.json' --forward-only"
    >>> [f.name for f in cmd.files]
    ['reef 1.prompts.json']
    """
    prov = v.provenance
    if prov.get("generator") == "ecoseg.synth":
        return Command(_synth_command(v))
    engine = prov.engine or "classical"
    if engine == "import":
        return Command(_import_command(v))
    if engine not in ("sam2", "classical", "sam3-concepts"):
        return Command(f"# {v.name}: made by {engine!r}; ecoseg has no command for it")
    cmd = ["ecoseg", "segment", _q(v.video_shown), "-o", _q(v.store_shown), *_rate_flags(prov)]
    if engine != "sam3-concepts":
        cmd += ["--engine", engine]
    params = {k: val for k, val in (prov.parameters or {}).items() if k not in _NOT_SETTINGS}
    prompts = dict(prov.prompts or {})
    files: list[InputFile] = []

    def attach(kind: str, data: dict, flag: str) -> None:
        file = InputFile(f"{_file_stem(v.name)}.{kind}.json", json.dumps(data, indent=2) + "\n")
        files.append(file)
        cmd.extend([flag, _q(file.name)])

    if engine != "classical":
        cmd += _network_flags(prov)
    if engine == "sam2":
        auto = bool(prov.get("auto"))
        if prompts.get("objects") or not auto:
            attach("prompts", prompts, "--prompts")
        if auto:
            cmd.append("--auto")
        if prov.get("backward") is False:
            cmd.append("--forward-only")
    elif engine == "sam3-concepts":
        concepts = prompts.get("concepts") or []
        if prompts.get("objects") or any(c.get("exemplars") for c in concepts):
            attach("prompts", prompts, "--prompts")
        else:
            cmd += ["--concepts", *(_q(c["text"]) for c in concepts)]
        if _is_image_survey(prov):  # photo quadrats: one threshold, no tracking settings
            threshold = params.pop("score_threshold", 0.5)
            params = {}
            if threshold != 0.5:
                cmd += ["--score-threshold", f"{threshold:g}"]
        every = params.pop("detect_every", 1)
        if every != 1:
            cmd += ["--detect-every", str(every)]
    if params:
        attach("params", params, "--params")
    return Command(" ".join(cmd), tuple(files))


def _made_calibrated(v: Any) -> str | None:
    """The calibration a store's command gives it (its ``--calibration`` spec): a synthetic
    clip's own (``ecoseg synth`` records it), else none (``segment`` records none)."""
    cal = getattr(v, "calibration", None)
    prov = getattr(v, "provenance", None)
    if isinstance(cal, dict) and cal.get("method") == "synthetic" and prov is not None:
        if prov.get("generator") == "ecoseg.synth":
            return calibration_arg(cal)
    return None


def _unfinished_note(v: Any) -> str:
    """A comment under an unfinished store's command: the command makes more than it holds."""
    video = getattr(v.provenance, "video", None)
    total = getattr(video, "frames", None)
    of = f" of the video's {total}" if total else ""
    return (
        f"# {v.store_shown} holds {v.n_frames} frames{of} (its run did not finish); the command "
        "above runs to the end, so its numbers will differ"
    )


def measure_command(v: VideoInfo) -> str | None:
    """The ``ecoseg measure`` command that saves a store's calibration into it (None if none,
    or the synthetic clip's own, which its ``ecoseg synth`` command records again).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> measure_command(SimpleNamespace(name="reef 1", store_shown="reef 1.zarr",
    ...     calibration={"mm_per_px": 0.25, "method": "scale"}))
    "ecoseg measure 'reef 1.zarr' -o 'reef 1.tables' --calibration 0.25"
    >>> measure_command(SimpleNamespace(name="r", store_shown="r.zarr", calibration=None))
    """
    cal = getattr(v, "calibration", None)
    prov = getattr(v, "provenance", None)
    if isinstance(cal, dict) and cal.get("method") == "synthetic" and prov is not None:
        if prov.get("generator") == "ecoseg.synth":  # `ecoseg synth` records it itself
            return None
    spec = calibration_arg(cal)
    if spec is None:
        return None
    out = f"{_file_stem(v.name)}.tables"
    return " ".join(
        ["ecoseg", "measure", _q(v.store_shown), "-o", _q(out), "--calibration", _q(spec)]
    )


def calibration_arg(cal: Any) -> str | None:
    """A recorded calibration as the ``--calibration`` value that records it again.

    The spec it was given as when that is recorded, else made from the method's details
    (scale-bar ends, laser spots), else the plain mm per pixel; numbers at full precision.

    Examples
    --------
    >>> calibration_arg({"mm_per_px": 0.1, "method": "scale"})
    '0.1'
    >>> calibration_arg({"mm_per_px": 0.5, "method": "scale_bar", "details": {
    ...     "p0": [0.0, 0.0], "p1": [30.0, 40.0], "length_mm": 25.0, "px": 50.0}})
    'scale-bar:0,0,30,40,25'
    >>> calibration_arg(None) is None
    True
    """
    if not isinstance(cal, dict) or not cal.get("mm_per_px"):
        return None
    spec = cal.get("spec")
    if isinstance(spec, str) and spec:
        return spec
    details = cal.get("details") or {}
    method = cal.get("method")
    try:
        if method == "scale_bar":
            nums = [*details["p0"], *details["p1"], details["length_mm"]]
            return "scale-bar:" + ",".join(number_text(x) for x in nums)
        if method == "laser_points":
            nums = [c for p in details["points"] for c in p] + [details["spacing_mm"]]
            return "lasers:" + ",".join(number_text(x) for x in nums)
    except (KeyError, TypeError):
        pass
    return number_text(cal["mm_per_px"])


def review_steps(
    store: str,
    log: list[dict],
    unchecked: Sequence[int] = (),
    merges: Mapping[int, Any] | None = None,
    reviews: Sequence[int] = (),
    visual: Sequence[int] = (),
    models: Mapping[str, Sequence[str]] | None = None,
    calibrated: str | None = None,
) -> list[str]:
    """The ``ecoseg edit`` and ``ecoseg classify`` commands that replay a store's edit log.

    Edits between classifications go into one ``ecoseg edit`` (it applies them in order), except
    in a log with an undo: an ``--undo`` takes back one command (every entry of it,
    :func:`ecoseg.species.review.apply_edits`), so there each command of the log is one ``ecoseg
    edit`` (an entry of a log from before commands were numbered: its own) and each command an
    undo took back one ``--undo``; a classification needs the species model file the log names
    by its SHA-256 (``--model-sha256``: another model's file is refused). The splits numbered
    in ``unchecked``
    (:func:`ecoseg.species.review.unchecked_splits`: made before ecoseg checked splits, which
    ``--split`` now refuses, or before a split's new part lost the name a person gave the track,
    which ``--split`` would count as ``unknown``) are replayed with ``--unchecked-split``, which
    makes them as they were. A merge numbered in ``merges``
    (:func:`ecoseg.species.review.refused_merges`: two different names of one rank, merged
    before ``--merge`` refused them) gets the ``--set-class`` given there just before it, in the
    merge's command (so an ``--undo`` of that merge undoes the ``--set-class`` too), so it goes
    through and names the merged track as it did. The store made again then has the same labels,
    scores and object table, and one more ``set_class`` entry in its log per such merge. The
    reviewed marks numbered in ``reviews`` (:func:`ecoseg.species.review.refused_reviews`: an
    ``unknown`` track with a suggestion, marked before ``--reviewed`` refused it) are replayed
    with ``--unchecked-reviewed``, and the classifications numbered in ``visual``
    (:func:`ecoseg.species.review.kept_visual`: made before ``classify`` named the tracks of a
    concept of exemplars alone, which it left ``visual``) with ``--keep-visual``. ``models``
    gives the ``ecoseg classify`` options of a model known by its SHA-256 (a study's own
    species model: its file and video; :func:`recorded_models`: a file a classification records
    that is still its model); any other is ``--model SPECIES_MODEL.json``, with a comment
    saying why no file is named. ``calibrated`` is the ``--calibration`` spec of the store
    where the steps begin (None: none): a classification that recorded another calibration
    than the store has at its step (``calibration`` in its record) is made with
    ``--calibration``, which saves it into the store, as the study or ``ecoseg measure`` did
    before it classified (a record from before classifications recorded it: as the store is).

    Examples
    --------
    >>> log = [{"n": 1, "kind": "merge", "ids": [3, 7], "command": 1},
    ...        {"n": 2, "kind": "split", "ids": [5], "frame": 9, "new_id": 12, "command": 1},
    ...        {"n": 3, "kind": "classify", "ids": [5], "classification":
    ...         {"model_sha256": "ab12", "threshold": 0.7}},
    ...        {"n": 4, "kind": "undo", "ids": [], "undoes": 3}]
    >>> steps = review_steps("reef.zarr", log)
    >>> for step in steps:
    ...     print(step.split("   # ")[0])
    ecoseg edit reef.zarr --merge 3,7 --split 5@9
    ecoseg classify reef.zarr --model SPECIES_MODEL.json --model-sha256 ab12 --threshold 0.7
    ecoseg edit reef.zarr --undo
    >>> steps[1].split("   # ")[1]  # what the file stands for, and why it is not named
    'SPECIES_MODEL.json: that model (the store records no file of it)'
    >>> old = [{"n": 1, "kind": "split", "ids": [5], "frame": 3, "new_id": 6}]
    >>> review_steps("reef.zarr", old, unchecked=[1])
    ['ecoseg edit reef.zarr --unchecked-split 5@3']
    >>> from ecoseg.species.edits import Edit
    >>> old = [{"n": 1, "kind": "merge", "ids": [3, 7]}, {"n": 2, "kind": "undo", "ids": [],
    ...         "undoes": 1}]
    >>> review_steps("reef.zarr", old, merges={1: Edit("set_class", (3,), cls="blue tang")})
    ["ecoseg edit reef.zarr --set-class '3=blue tang' --merge 3,7", 'ecoseg edit reef.zarr --undo']
    >>> # an old log (no command numbers): each entry its own command
    >>> old = [{"n": 1, "kind": "delete", "ids": [2]}, {"n": 2, "kind": "delete", "ids": [4]},
    ...        {"n": 3, "kind": "undo", "ids": [], "undoes": 2},
    ...        {"n": 4, "kind": "undo", "ids": [], "undoes": 1}]
    >>> review_steps("reef.zarr", old)  # doctest: +NORMALIZE_WHITESPACE
    ['ecoseg edit reef.zarr --delete 2', 'ecoseg edit reef.zarr --delete 4',
     'ecoseg edit reef.zarr --undo --undo']
    >>> review_steps("reef.zarr", [{"n": 1, "kind": "reviewed", "ids": [4]}], reviews=[1])
    ['ecoseg edit reef.zarr --unchecked-reviewed 4']
    >>> review_steps("reef.zarr", [{"n": 1, "kind": "classify", "ids": [2]}], visual=[1])[0]
    'ecoseg classify reef.zarr --model SPECIES_MODEL.json --keep-visual   # model SHA-256 not ...'
    """
    from ecoseg.species._edit_record import Edit

    merges = merges or {}
    models = {**recorded_models(log), **(models or {})}
    steps: list[str] = []
    edits: list[str] = []

    def flush() -> None:
        if edits:
            steps.append(" ".join(["ecoseg", "edit", _q(store), *edits]))
            edits.clear()

    # an --undo takes back a whole command: where the log has one, each command is its own
    # ``ecoseg edit`` (old logs: each entry its own command), so the undo takes back as much
    def command(k: int, entry: dict) -> Any:
        return entry.get("command", entry.get("n", f"entry {k}"))

    commands = {entry.get("n"): command(k, entry) for k, entry in enumerate(log)}
    apart = any(entry.get("kind") == "undo" for entry in log)
    line, last_undo = None, None
    for k, entry in enumerate(log):
        n = int(entry.get("n", 0))
        if apart and command(k, entry) != line:
            if not (entry.get("kind") == "undo" and set(edits) == {"--undo"}):
                flush()  # undos after undos: one line (an undo is never taken back)
            line = command(k, entry)
        if entry.get("kind") == "undo":  # one --undo per command it took back
            undo = (command(k, entry), commands.get(entry.get("undoes"), f"entry {k}"))
            if undo != last_undo:
                edits.append("--undo")
            last_undo = undo
            continue
        last_undo = None
        if entry.get("kind") != "classify":
            edit = Edit.from_dict(entry)
            if n in (
                unchecked if edit.kind == "split" else reviews if edit.kind == "reviewed" else ()
            ):
                edit = replace(edit, unchecked=True)
            if edit.kind == "merge" and n in merges:  # in its command: undone with it
                edits.extend(_q(a) for a in merges[n].cli_args())
            edits.extend(_q(a) for a in edit.cli_args())
            continue
        flush()
        record = entry.get("classification") or {}
        sha = record.get("model_sha256") or "not recorded"
        known = models.get(sha, ["--model", "SPECIES_MODEL.json"])
        # ``--model FILE`` and the model's SHA-256, so a substitute file of another model is
        # refused, then the rest (``--video``)
        cmd = ["ecoseg", "classify", _q(store), *(_q(a) for a in known[:2])]
        if sha != "not recorded":
            cmd += ["--model-sha256", _q(sha)]
        cmd += [_q(a) for a in known[2:]]
        threshold = record.get("threshold", 0.5)
        if threshold != 0.5:
            cmd += ["--threshold", f"{threshold:g}"]
        notes = [_placeholder(sha, known, record.get("model_file"))]
        if _other_calibration(entry, calibrated):  # than the store has at this step
            spec = calibration_arg(record["calibration"])
            if spec is None:
                notes.append("classified uncalibrated (sizes in px): this step measures in mm")
            else:
                cmd += ["--calibration", _q(spec)]
                calibrated = spec
        if n in visual:  # as it was made: the tracks of an exemplar-only concept left visual
            cmd.append("--keep-visual")
        notes = [n for n in notes if n]
        steps.append(" ".join(cmd) + ("   # " + "; ".join(notes) if notes else ""))
    flush()
    return steps


def _placeholder(sha: str, known: list[str], recorded: Any) -> str:
    """The comment after a classification's step that names no model file (``--model
    SPECIES_MODEL.json``): what the file must be, and why the step does not name one."""
    if sha == "not recorded":
        return "model SHA-256 not recorded"
    if known[1] != "SPECIES_MODEL.json":
        return ""
    if isinstance(recorded, str) and recorded:
        why = f"{recorded} was it: gone or another model now"
    else:
        why = "the store records no file of it"
    return f"SPECIES_MODEL.json: that model ({why})"


def recorded_models(log: list[dict]) -> dict[str, list[str]]:
    """The ``--model FILE`` of each species model a store's classifications record a file of
    (``model_file``, as ``classify`` was given it) that is still that model (the file there
    has the recorded SHA-256), by the SHA-256: the steps name it rather than
    ``SPECIES_MODEL.json``. A path is tried as recorded (relative to the folder the report's
    commands run in, as the stores and videos are).

    Examples
    --------
    >>> recorded_models([{"n": 1, "kind": "classify", "ids": [2], "classification":
    ...     {"model_sha256": "ab12", "model_file": "nowhere/species.json"}}])
    {}
    """
    from ecoseg.species.model import is_model

    found: dict[str, list[str]] = {}
    for entry in log:
        sha = _classified_by(entry)
        file = (entry.get("classification") or {}).get("model_file")
        if sha is None or sha in found or not isinstance(file, str) or not file:
            continue
        if is_model(file, sha):
            found[sha] = ["--model", file]
    return found


@dataclass(frozen=True)
class _Replay:
    """The review steps of a study's store, the files they read and the notes they need."""

    steps: list[str]
    files: list[InputFile]
    notes: list[str]
    #: the store's log does not start with a classification of the study's model: the
    #: first run must not classify (``ecoseg study --no-classify``)
    unclassified: bool = False


def _study_reviews(v: VideoInfo, study: Any, whole: bool = False) -> _Replay:
    """The review steps of a study's store, run from the study folder.

    A study with a ``species_model`` classifies its store itself each time it measures it.
    Its classifications (those of that model's SHA-256) before a person's first edit are
    made again by the first ``ecoseg study --no-report``, and those after the last one by the
    closing ``ecoseg study``; the ones between (a study run between two rounds of review) are
    ``ecoseg classify`` steps with the study's model and video, in their place in the log, so
    an ``--undo`` of one takes back what it took back then. None of them is a review: a log
    of the study's classifications alone gives no steps.

    A classification with another model (a model file the study named before it was replaced,
    a person's own ``ecoseg classify``) is a step too, with the study's video and the model
    named ``species_model.<SHA-256, first 12>.json``: the copy the study kept of it
    (``output/species_models/<SHA-256>.json``, :func:`ecoseg.species.model.keep_copy`; or a
    file of that name beside the study file) is offered with the page; a note names each such
    model and its classifications (by their entries in the log: their dates would differ on a
    page made again), and says when no copy is there (the step then
    stops for want of the file: the tables made without it would differ). A log that does not
    start with a classification of the study's model (one added after the first review, or
    replaced since the first run) needs a first run that does not classify
    (``unclassified``), or it would name the tracks where the study did not; then (``whole``)
    every store's classifications before its first review are steps too.
    """
    try:
        spec = study.video(v.name)
    except KeyError:
        return _Replay([], [], [])
    log = list(v.edits)
    models: dict[str, list[str]] = {}
    sha = _model_sha256(getattr(spec, "species_model", None))
    video = study.relative(spec.path)
    if sha is not None:  # the study's own classifications, named by its model's SHA-256
        models[sha] = ["--model", study.relative(spec.species_model), "--video", video]
    files, notes = _other_models(v.name, log, sha, study, spec, models, video)

    def own(entry: dict) -> bool:
        return sha is not None and _classified_by(entry) == sha

    person = [k for k, entry in enumerate(log) if not own(entry)]
    # the calibration the study gives the store now: its first run measures with it
    today = calibration_arg(spec.calibration.to_dict()) if spec.calibration else None
    first = log[: person[0]] if person else []  # the study's classifications before a review
    # the first run makes one classification, with today's calibration: two (a calibration
    # changed and measured again) or one with another calibration are steps of their own
    unclassified = (
        sha is not None
        and bool(person)
        and (person[0] == 0 or len(first) > 1 or _other_calibration(first[0], today))
    )
    log = log[0 if whole else person[0] : person[-1] + 1] if person else []
    where = study.relative(study.store_path(spec))
    steps = review_steps(
        where,
        log,
        v.unchecked_splits,
        v.refused_merges,
        v.refused_reviews,
        v.kept_visual,
        models=models,
        calibrated=today,
    )
    return _Replay(steps, files, notes, unclassified)


def _other_calibration(entry: dict, calibrated: str | None) -> bool:
    """Whether a classification recorded a calibration other than ``calibrated`` (a
    ``--calibration`` spec, None for none); a record from before classifications recorded
    one is taken to have had it."""
    record = entry.get("classification") or {}
    return "calibration" in record and calibration_arg(record["calibration"]) != calibrated


def _classified_by(entry: dict) -> str | None:
    """The model SHA-256 of a classification's log entry (None for any other entry)."""
    record = entry.get("classification")
    if entry.get("kind") != "classify" or not isinstance(record, dict):
        return None
    return record.get("model_sha256") or "not recorded"


def _other_models(
    name: str,
    log: list[dict],
    sha: str | None,
    study: Any,
    spec: Any,
    models: dict[str, list[str]],
    video: str,
) -> tuple[list[InputFile], list[str]]:
    """The ``ecoseg classify`` options (into ``models``), the files and the notes of a study
    store's classifications with a model that is not the study's species model now."""
    from ecoseg.species.model import find_copy

    used: dict[str, list[dict]] = {}
    for entry in log:
        other = _classified_by(entry)
        if other is not None and other != sha:
            used.setdefault(other, []).append(entry)
    files, notes = [], []
    now = (
        f"the study's species_model now is {study.relative(spec.species_model)} (SHA-256 {sha})"
        if sha is not None
        else "the study names no species_model now"
    )
    for other, entries in used.items():
        # by their entries, not their dates: a replay makes them again on the day it runs,
        # and its page is the same page
        numbers = [str(e.get("n")) for e in entries]
        when = f"entr{'y' if len(numbers) == 1 else 'ies'} {', '.join(numbers)}"
        if other == "not recorded":  # no file to name: the steps say SPECIES_MODEL.json
            notes.append(
                f"{name}: classified (edit log {when}) with a species model whose SHA-256 it "
                "did not record: its step needs that model saved as SPECIES_MODEL.json."
            )
            continue
        file = f"species_model.{other[:12]}.json"
        models[other] = ["--model", file, "--video", video]
        said = (
            f"{name}: classified (edit log {when}) with the species model of SHA-256 {other}, "
            f"which is not the study's: {now}. "
        )
        copy = find_copy(study.output / "species_models", other, None) or find_copy(
            study.folder, other, file
        )
        if copy is not None:
            files.append(InputFile(file, copy.read_text(encoding="utf-8")))
            notes.append(said + f"Its step reads the copy of that model offered below, {file}.")
        else:
            notes.append(
                said + f"No copy of that model is kept (a study keeps one of each model it "
                f"classifies with in {study.relative(study.output / 'species_models')}/): its "
                f"step needs that model saved as {file} beside the study file and stops "
                "without it (the tables made without it would differ)."
            )
    return files, notes


def _model_sha256(path: Any) -> str | None:
    """The SHA-256 a species model file records of itself (the one a classification's record
    names); None without a file, or for one that is no species model."""
    if path is None:
        return None
    try:
        sha = json.loads(Path(path).read_text(encoding="utf-8")).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return sha if isinstance(sha, str) else None


def _network_flags(prov) -> list[str]:
    """Model, input size, checkpoint, weights, device and precision of a network's store."""
    model = prov.model or ModelInfo()
    default = "sam3" if prov.engine == "sam3-concepts" else "sam2.1-tiny"
    flags = ["--model", str(model.variant or default)]
    if model.image_size:
        flags += ["--image-size", str(model.image_size)]
    if model.checkpoint_path:
        flags += ["--checkpoint", _q(Path(str(model.checkpoint_path)).name)]
    elif model.pretrained is False:
        flags.append("--random-weights")
    parameters = prov.parameters or {}
    if parameters.get("device"):
        flags += ["--device", str(parameters["device"])]
    if parameters.get("fast"):
        flags.append("--fast")
    return flags


def _import_command(v: VideoInfo) -> str:
    """The ``ecoseg import`` command of a store made from another tool's annotation file."""
    record = v.provenance.get("import") or {}
    name = str(record.get("file") or "ANNOTATIONS")
    cmd = ["ecoseg", "import", _q(name), "--format", str(record.get("format") or "?")]
    cmd += ["--video", _q(v.video_shown), "-o", _q(v.store_shown), *_rate_flags(v.provenance)]
    if record.get("align", "index") != "index":
        cmd += ["--align", str(record["align"])]
    if record.get("first_frame") is not None:
        cmd += ["--first-frame", str(record["first_frame"])]
    sha = record.get("sha256") or "not recorded"
    return " ".join(cmd) + f"   # {name}: the annotation file with SHA-256 {sha}"


def _rate_flags(prov) -> list[str]:
    """``--fps N`` for a store made from an image folder timed at a rate other than the
    default (a video file's rate is its own; a photo survey has none).

    Examples
    --------
    >>> from ecoseg.provenance import Provenance
    >>> folder = {"path": "timelapse", "fps": 1 / 3, "image_folder": True}
    >>> _rate_flags(Provenance.from_dict({"video": folder}))
    ['--fps', '0.3333333333333333']
    >>> _rate_flags(Provenance.from_dict({"video": {"path": "v.mp4", "fps": 25.0}}))
    []
    """
    video = prov.video
    if video is None or not video.extra.get("image_folder") or video.fps in (None, DEFAULT_FPS):
        return []
    return ["--fps", number_text(video.fps)]


def _is_image_survey(prov) -> bool:
    video = prov.video
    return video is not None and "images" in (video.extra or {})


def _synth_command(v: VideoInfo) -> str:
    """The ``ecoseg synth`` command that made a synthetic store again."""
    p = v.provenance.parameters or {}
    folder = Path(v.store_shown).parent.as_posix()
    cmd = ["ecoseg", "synth", "-o", _q(folder if folder not in ("", ".") else "clip")]
    for key, flag in (("seed", "--seed"), ("frames", "--frames"), ("fps", "--fps")):
        if key in p:
            cmd += [flag, number_text(p[key]) if isinstance(p[key], float) else str(p[key])]
    if isinstance(p.get("size"), list) and len(p["size"]) == 2:
        cmd += ["--size", f"{p['size'][0]}x{p['size'][1]}"]
    if "camera" in p:
        cmd += ["--camera", str(p["camera"])]
    for key, flag in (
        ("n_fish", "--fish"),
        ("n_invertebrates", "--invertebrates"),
        ("crf", "--crf"),
    ):
        if key in p:
            cmd += [flag, str(p[key])]
    return " ".join(cmd) + f"   # {v.name}: synthetic ground truth"


def _file_stem(name: str) -> str:
    """A video's name as a file name (path separators and control characters replaced)."""
    return re.sub(r"[\\/:\x00-\x1f]", "_", str(name)) or "video"


def _q(text: str) -> str:
    return shlex.quote(str(text))
