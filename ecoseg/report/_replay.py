"""A study's or a store's reviews and classifications replayed as commands on the report's page.

A reviewed or classified store's edit log becomes ``ecoseg edit`` / ``ecoseg classify``
commands (:func:`review_steps`); a study's store gets those of a person's reviews, with the
study's species model and the copies it kept of other models (:func:`study_reviews`). The files
the commands read (:class:`InputFile`) and the ``--calibration`` value of a recorded
calibration (:func:`calibration_arg`) are shared with :mod:`ecoseg.report.reproduce`, which
re-exports the public names.
"""

from __future__ import annotations

import base64
import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ecoseg._checks import number_text
from ecoseg.report._calibration import recorded_classification
from ecoseg.report.read import VideoInfo

__all__ = [
    "InputFile",
    "StudyReplay",
    "calibration_arg",
    "recorded_models",
    "review_steps",
    "study_reviews",
    "unrecorded_calibration",
]

_q = shlex.quote


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
    merges: Sequence[int] = (),
    reviews: Sequence[int] = (),
    visual: Sequence[int] = (),
    models: Mapping[str, Sequence[str]] | None = None,
    calibrated: str | None = None,
    kept: int = 0,
    unmade: Sequence[int] = (),
    names: Sequence[int] = (),
) -> list[str]:
    """The ``ecoseg edit`` and ``ecoseg classify`` commands that replay a store's edit log.

    Edits between classifications go into one ``ecoseg edit`` (it applies them in order), except
    in a log with an undo: an ``--undo`` takes back one command (every entry of it,
    :func:`ecoseg.species.review.apply_edits`), so there each command of the log is one ``ecoseg
    edit`` (an entry of a log from before commands were numbered: its own) and each command an
    undo took back one ``--undo``; a classification needs the species model file the log names
    by its SHA-256 (``--model-sha256``: another model's file is refused). An edit or a
    classification an undo took back and that undo are no steps: they cancel out
    (:func:`ecoseg.species._edit_log.replayed_edits`; kept only where a later split's new
    id needs them, or among the first ``kept`` entries, which a page names a later one of by
    its number), so the store made again holds the same edits, and no step asks for a
    model file whose classification was undone. The splits numbered
    in ``unchecked``
    (:func:`ecoseg.species.review.unchecked_splits`: made before ecoseg checked splits, which
    ``--split`` now refuses, or before a split's new part lost the name a person gave the track,
    which ``--split`` would count as ``unknown``) are replayed with ``--unchecked-split``, which
    makes them as they were. A merge numbered in ``merges``
    (:func:`ecoseg.species.review.refused_merges`: two different names of one rank, merged
    before ``--merge`` refused them) is replayed with ``--unchecked-merge``, which keeps the
    first track's name as the old merge did and logs the one entry it logged: the store made
    again has the same labels, scores, object table and numbered log; so is one made before
    names were ranked that named the merged track otherwise than ``--merge`` does today
    (:func:`ecoseg.species._old_edits.ranked_otherwise`). A merge numbered in ``unmade``
    (:func:`ecoseg.species.review.unmade_merges`: it named the track as neither does) is
    made with ``--merge``, and its step's comment says the track may be named otherwise. The
    reviewed marks numbered in ``reviews`` (:func:`ecoseg.species.review.refused_reviews`: an
    ``unknown`` track with a suggestion, marked before ``--reviewed`` refused it) are replayed
    with ``--unchecked-reviewed``, the class names numbered in ``names``
    (:func:`ecoseg.species.review.refused_names`: a name differing only in letter case from one
    left beside it, given before ``--set-class`` refused it) with ``--unchecked-set-class``,
    and the classifications numbered in ``visual``
    (:func:`ecoseg.species.review.kept_visual`: made before ``classify`` named the tracks of a
    concept of exemplars alone, which it left ``visual``) with ``--keep-visual``. ``models``
    gives the ``ecoseg classify`` options of a model known by its SHA-256 (a study's own
    species model: its file and video; :func:`recorded_models`: a file a classification records
    that is still its model); any other is ``--model SPECIES_MODEL.json``, with a comment
    saying why no file is named. ``calibrated`` is the ``--calibration`` spec of the store
    where the steps begin (None: none): a classification that recorded another calibration
    than the store has at its step (``calibration`` in its record) is made with
    ``--calibration``, which saves it into the store, as the study or ``ecoseg measure`` did
    before it classified (``--calibration none`` for one made uncalibrated: in pixels, the
    store's calibration cleared, as a study with no calibration left it; a record from before
    classifications recorded it: as the store is, which its comment says,
    :func:`unrecorded_calibration`).

    Examples
    --------
    >>> log = [{"n": 1, "kind": "merge", "ids": [3, 7], "command": 1},
    ...        {"n": 2, "kind": "split", "ids": [5], "frame": 9, "new_id": 12, "command": 1},
    ...        {"n": 3, "kind": "classify", "ids": [5], "classification":
    ...         {"model_sha256": "ab12", "threshold": 0.7, "calibration": None}}]
    >>> steps = review_steps("reef.zarr", log)
    >>> for step in steps:
    ...     print(step.split("   # ")[0])
    ecoseg edit reef.zarr --merge 3,7 --split 5@9
    ecoseg classify reef.zarr --model SPECIES_MODEL.json --model-sha256 ab12 --threshold 0.7
    >>> steps[1].split("   # ")[1]  # what the file stands for, and why it is not named
    'SPECIES_MODEL.json: that model (the store records no file of it)'
    >>> undone = {"n": 4, "kind": "undo", "ids": [], "undoes": 3, "command": 4}
    >>> review_steps("reef.zarr", [*log, undone])  # the classification undone: no step
    ['ecoseg edit reef.zarr --merge 3,7 --split 5@9']
    >>> old = [{"n": 1, "kind": "split", "ids": [5], "frame": 3, "new_id": 6}]
    >>> review_steps("reef.zarr", old, unchecked=[1])
    ['ecoseg edit reef.zarr --unchecked-split 5@3']
    >>> old = [{"n": 1, "kind": "merge", "ids": [3, 7]}]
    >>> review_steps("reef.zarr", old, merges=[1])  # two names refused today: as it was
    ['ecoseg edit reef.zarr --unchecked-merge 3,7']
    >>> # an old log (no command numbers): each entry its own command; the split undone is
    >>> # replayed, so the later split gets its new id (7) again
    >>> old = [{"n": 1, "kind": "split", "ids": [5], "frame": 3, "new_id": 6},
    ...        {"n": 2, "kind": "undo", "ids": [], "undoes": 1},
    ...        {"n": 3, "kind": "split", "ids": [5], "frame": 4, "new_id": 7}]
    >>> review_steps("reef.zarr", old)  # doctest: +NORMALIZE_WHITESPACE
    ['ecoseg edit reef.zarr --split 5@3', 'ecoseg edit reef.zarr --undo',
     'ecoseg edit reef.zarr --split 5@4']
    >>> merge = [{"n": 1, "kind": "merge", "ids": [3, 7]}]  # named as no rule does today
    >>> print(review_steps("reef.zarr", merge, unmade=[1])[0])
    ecoseg edit reef.zarr --merge 3,7   # edit log entry 1, a merge of an older ecoseg, named ...
    >>> review_steps("reef.zarr", [{"n": 1, "kind": "reviewed", "ids": [4]}], reviews=[1])
    ['ecoseg edit reef.zarr --unchecked-reviewed 4']
    >>> named = [{"n": 1, "kind": "set_class", "ids": [4], "cls": "Wrasse"}]
    >>> review_steps("reef.zarr", named, names=[1])  # beside 'wrasse': refused today
    ['ecoseg edit reef.zarr --unchecked-set-class 4=Wrasse']
    >>> print(review_steps("reef.zarr", [{"n": 1, "kind": "classify", "ids": [2]}], visual=[1])[0])
    ecoseg classify reef.zarr --model SPECIES_MODEL.json --keep-visual   # model SHA-256 not ...
    """
    from ecoseg.species._edit_log import replayed_edits
    from ecoseg.species._edit_record import Edit

    log = replayed_edits(log, kept)  # an edit taken back and its undo: no steps
    models = {**recorded_models(log), **(models or {})}
    steps: list[str] = []
    edits: list[str] = []
    said: list[str] = []  # the comment of the ``ecoseg edit`` being gathered

    def flush() -> None:
        if edits:
            comment = "   # " + "; ".join(said) if said else ""
            steps.append(" ".join(["ecoseg", "edit", _q(store), *edits]) + comment)
            edits.clear()
            said.clear()

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
            before = {"split": unchecked, "reviewed": reviews, "merge": merges, "set_class": names}
            if n in before.get(edit.kind, ()):
                edit = replace(edit, unchecked=True)  # made as it was, before today's rule
            if edit.kind == "merge" and n in unmade:
                said.append(unmade_merge(n, edit.ids[0]))
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
            cmd += ["--calibration", _q(spec or "none")]  # none: in px, the store's cleared
            calibrated = spec
        elif "calibration" not in record:  # an older ecoseg's: not known, said
            notes.append(unrecorded_calibration(calibrated))
        if n in visual:  # as it was made: the tracks of an exemplar-only concept left visual
            cmd.append("--keep-visual")
        notes = [n for n in notes if n]
        steps.append(" ".join(cmd) + ("   # " + "; ".join(notes) if notes else ""))
    flush()
    return steps


def unmade_merge(n: int, track: int) -> str:
    """What a replay says of the merge that is edit log entry ``n``, of an older ecoseg, that
    named the merged track ``track`` as neither ``--merge`` nor ``--unchecked-merge`` does
    (:func:`ecoseg.species.review.unmade_merges`): its step makes it with ``--merge``.

    Examples
    --------
    >>> unmade_merge(3, 7)
    'edit log entry 3, a merge of an older ecoseg, named track 7 as no ecoseg edit of ...'
    """
    return (
        f"edit log entry {n}, a merge of an older ecoseg, named track {track} as no ecoseg "
        "edit of today does: made with --merge, the track may be named otherwise"
    )


def unrecorded_calibration(calibrated: str | None) -> str:
    """What a replay says of a classification recorded before classifications recorded
    their calibration: it is made with the calibration the store has there (``calibrated``,
    a ``--calibration`` spec; None: none, in pixels), which may not be the one it used.

    Nothing else tells which that was: a store keeps the calibration it has now, not the
    ones it had, and a study's manifest the one of its last measure. (A species model that
    records its units refuses a store in other units, so with one, what can differ unnoticed
    is the mm per pixel.)

    Examples
    --------
    >>> unrecorded_calibration("20")
    "calibration not recorded (an older ecoseg's): made with the store's here, 20; it may ..."
    >>> unrecorded_calibration(None)
    "calibration not recorded (an older ecoseg's): made in pixels, as the store is here; it ..."
    """
    here = (
        f"with the store's here, {calibrated}" if calibrated else "in pixels, as the store is here"
    )
    return f"calibration not recorded (an older ecoseg's): made {here}; it may have used another"


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
    commands run in, as the stores and videos are). The model ecoseg ships is named
    ``ecoseg:species_model.json`` (:data:`~ecoseg.species.model.SHIPPED_MODEL`, which
    ``classify --model`` takes), on any machine: by a record of that name, one of its path
    here, or one of a file gone or changed (an older ecoseg recorded its path on the machine
    it ran on) when the model ecoseg ships here has the recorded SHA-256
    (:func:`~ecoseg.species.model.portable_model_name`, as ``ecoseg edit --log`` names it).

    Examples
    --------
    >>> recorded_models([{"n": 1, "kind": "classify", "ids": [2], "classification":
    ...     {"model_sha256": "ab12", "model_file": "nowhere/species.json"}}])
    {}
    """
    from ecoseg.species.model import portable_model_name

    found: dict[str, list[str]] = {}
    for entry in log:
        sha = _classified_by(entry)
        file = (entry.get("classification") or {}).get("model_file")
        if sha is None or sha in found:
            continue
        if (name := portable_model_name(file, sha)) is not None:
            found[sha] = ["--model", name]
    return found


@dataclass(frozen=True)
class StudyReplay:
    """The review steps of a study's store, the files they read and the notes they need."""

    steps: list[str]
    files: list[InputFile]
    notes: list[str]
    #: the store's log does not start with the one classification of the study's model
    #: the first run makes (none, another calibration, several): the first run must not
    #: classify (``ecoseg study --no-classify``)
    unclassified: bool = False
    #: the store's log does not end with a classification of the study's model with
    #: today's calibration, and the study's last run did not make one that logged nothing
    #: (it did not classify, ``--no-classify``): the closing run must not classify either,
    #: or it would classify the store once more
    last_unclassified: bool = False


def study_reviews(v: VideoInfo, study: Any, whole: bool = False, last: bool = False) -> StudyReplay:
    """The review steps of a study's store, run from the study folder.

    A study with a ``species_model`` classifies its store itself each time it measures it.
    Its classifications (those of that model's SHA-256) before a person's first edit are
    made again by the first ``ecoseg study --no-report``, and the last one after the last
    one by the closing ``ecoseg study``; the others (a study run between two rounds of
    review, or run again after the last with another calibration) are ``ecoseg classify``
    steps with the study's model and video, in their place in the log, so an ``--undo`` of
    one takes back what it took back then. None of them is a review: a log of one
    classification of the study's alone, with today's calibration, gives no steps (the
    study run once); one of several (the study run again with another calibration) gives a
    step for each but the one a run makes. A classification recorded before classifications
    recorded their calibration is made with the store's calibration there, and the page
    says so (:func:`unrecorded_calibration`; for the first run's, a note).

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
    (``unclassified``), or it would name the tracks where the study did not; so does a log
    with no review and several classifications of the study's where the closing run
    classifies (``last`` False: it makes the last); then (``whole``) every store's
    classifications before its first review are steps too. Likewise a log that does not end
    with a classification of the study's model (the study's last run, after the last review,
    did not classify: ``--no-classify``; or it never classified) or that ends with one of
    another calibration than today's (the study run again with another calibration, then
    with today's and ``--no-classify``) needs a closing run that does not classify
    (``last_unclassified``), or it would classify the store once more; then (``last``) every
    store's classifications after its last review are steps too (a store with no review: all
    but the one the first run makes). A classification that changed no track's entry logs
    none: where the study manifest records that the last run classified the store with the
    study's model and today's calibration, after the log's last entry
    (:func:`~ecoseg.report._calibration.recorded_classification`), the closing run
    classifies as it did, and every entry of the log is a step or the first run's. A
    store with no tracks, none ever (no entry names a track), logs nothing when a run
    classifies it: every entry of its log (a person's ``ecoseg classify`` that saved another
    calibration) is a step, and it needs neither run not to classify. An edit undone and its
    undo are no steps, except before an entry the notes name by its number
    (:func:`_numbered`): the store made again numbers its entries as the store does.
    """
    try:
        spec = study.video(v.name)
    except KeyError:
        return StudyReplay([], [], [])
    from ecoseg.species._edit_log import replayed_edits

    sha = _model_sha256(getattr(spec, "species_model", None))
    # before the log is cut: an undo beside what it took back; those before an entry the
    # page names by its number kept, so the store made again numbers it alike
    kept = _numbered(v.edits, replayed_edits(v.edits), sha)
    log = replayed_edits(v.edits, kept)
    models: dict[str, list[str]] = {}
    video = study.relative(spec.path)
    if sha is not None:  # the study's own classifications, named by its model's SHA-256
        models[sha] = ["--model", study.relative(spec.species_model), "--video", video]
    files, notes = _other_models(v.name, log, sha, study, spec, models, video)

    def own(entry: dict) -> bool:
        return sha is not None and _classified_by(entry) == sha

    person = [k for k, entry in enumerate(log) if not own(entry)]
    # the calibration the study gives the store now: its first run measures with it
    today = calibration_arg(spec.calibration.to_dict()) if spec.calibration else None
    # the study's classifications before a review (a log of them alone: all of them)
    first = log[: person[0]] if person else log
    # the closing run makes the last classification after the last review, with today's
    # calibration: a log that does not end with one (the last run did not classify) or ends
    # with one of another calibration needs a closing run that does not classify
    ended = bool(log) and own(log[-1]) and not _other_calibration(log[-1], today)
    # but where the study's last run did classify, after the log's last entry, and changed
    # no track's entry (so it logged none), the closing run classifies as it did: no entry
    unlogged = sha is not None and not ended and _classified_unlogged(v, study, sha, today)
    # a store with no tracks, none ever (no entry names one): the study's runs name nothing
    # in it and save its calibration before they classify, so they log nothing whether they
    # classify or not; every entry of its log (a person's ``ecoseg classify`` that saved
    # another calibration, logged with no track) is a step, and it asks neither run not to
    # classify (which would make every store's first or last classifications steps)
    trackless = not v.objects and not any(entry.get("ids") for entry in v.edits)
    # the first run makes one classification, with today's calibration: none (the first
    # entry a review, or no entry), one with another calibration or two (a calibration
    # changed and measured again) are steps of their own; but two with no review after them
    # where the closing run does not classify (``last``): the first run's, then steps
    unclassified = (
        sha is not None
        and not trackless
        and (
            not first
            or _other_calibration(first[0], today)
            or (len(first) > 1 and (bool(person) or not last))
        )
    )
    last_unclassified = sha is not None and not trackless and not ended and not unlogged
    # any before it (the study run again with another calibration) are steps, or the store
    # made again would lack them; all of them where the closing run does not classify, or
    # where its classification is no entry of the log
    closing = 0 if last or unlogged or trackless else 1
    if trackless:  # no run logs anything in it: every entry a step
        start, end = 0, len(log)
    elif person:
        start = 0 if whole else person[0]
        end = max(person[-1] + 1, len(log) - closing)
    else:  # the study's classifications alone: the first run makes the first (or none:
        # ``whole``), the closing one the last (or none: ``last``), steps the others
        start, end = (0 if whole else 1), len(log) - closing
    log = log[start:end]
    made = first and not unclassified and not trackless  # by the first run
    if made and "calibration" not in (first[0].get("classification") or {}):
        notes.append(  # remade by the first run, with the calibration the study gives now
            f"{v.name}: edit log entry {first[0].get('n')}, a classification of an older "
            "ecoseg, did not record its calibration: the first run makes it with the study's "
            f"now ({today or 'none, in pixels'}), which may not be the one it used."
        )
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
        kept=max(0, kept - start),  # the log's first entries are the store's, as they are
        unmade=v.unmade_merges,
        names=v.refused_names,
    )
    return StudyReplay(steps, files, notes, unclassified, last_unclassified)


def _numbered(edits: list[dict], log: list[dict], sha: str | None) -> int:
    """How many of a study store's log entries ``edits``, from the first, its replay makes
    as they are, an edit undone and its undo too (``kept`` of
    :func:`~ecoseg.species._edit_log.replayed_edits`): up to the last one the page's notes
    name by its number, as ``ecoseg edit STORE --log`` numbers it (a classification with a
    model not the study's, ``sha``; a first one of the study's that recorded no calibration),
    so the store made again gives it the same number. ``log`` is the replay's entries with
    no such pair kept.

    Examples
    --------
    >>> edits = [{"n": 1, "kind": "delete", "ids": [2]},
    ...          {"n": 2, "kind": "undo", "ids": [], "undoes": 1},
    ...          {"n": 3, "kind": "classify", "ids": [4], "classification": {"model_sha256": "b"}},
    ...          {"n": 4, "kind": "delete", "ids": [5]}]
    >>> _numbered(edits, edits[2:], "a"), _numbered(edits, edits[3:], "a")
    (3, 0)
    """
    named = {id(e) for e in log if _classified_by(e) not in (None, sha)}
    record = (log[0].get("classification") or {}) if log else {}
    if log and sha is not None and _classified_by(log[0]) == sha and "calibration" not in record:
        named.add(id(log[0]))  # the first run's, said of in a note
    return max((k + 1 for k, entry in enumerate(edits) if id(entry) in named), default=0)


def _classified_unlogged(v: VideoInfo, study: Any, sha: str, calibrated: str | None) -> bool:
    """Whether the study's last run classified video ``v``'s store with the model of SHA-256
    ``sha``, with the calibration ``calibrated`` (a ``--calibration`` spec, None for none),
    and the store's edit log has had no entry since, by the study manifest's record
    (:func:`~ecoseg.report._calibration.recorded_classification`): a classification that
    changed no track's entry logs none, yet the study did classify."""
    record = recorded_classification(study.output, v.name)
    return (
        record is not None
        and record.get("model_sha256") == sha
        and record.get("edits") == len(v.edits)
        and "calibration" in record
        and not _other_calibration({"classification": record}, calibrated)
    )


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
