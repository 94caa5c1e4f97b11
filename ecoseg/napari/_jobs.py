"""Segmentation runs of the napari widget, free of Qt: jobs, their checks, runs as generators.

The widget turns its Points/Shapes layers into :class:`~ecoseg.prompts.Prompts` with
:func:`~ecoseg.napari._from_layers.prompts_from_layers` (SAM 2), or its *find* names and
exemplar rectangles into :class:`~ecoseg.prompts.Concept` records with
:func:`~ecoseg.napari._from_layers.concepts_from_layers` (SAM 3 concept tracking), makes a
:class:`Job` and iterates :func:`run_job` in a napari worker thread; every
:class:`FrameUpdate` it yields is painted into the Labels layer on the GUI thread. The Cancel
button sets the job's ``cancel`` event: every engine (SAM 2, SAM 3's videos and photo surveys,
the motion tracker) stops through its own ``cancel``, as ``ecoseg segment`` does, so nothing
after the frame being made is computed (SAM 2 and SAM 3 hand that frame out; the motion
tracker, as ``segment``, drops the frames it holds back for linking). Closing the generator
(napari's worker quit when the application quits) stops the engine before its next frame and
releases the video.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ecoseg.errors import ConfigError, PromptError
from ecoseg.napari._from_layers import require_concepts

__all__ = [
    "ENGINES",
    "ENGINE_NAMES",
    "engine_choice",
    "FrameUpdate",
    "Job",
    "check_job",
    "check_no_network",
    "check_settings",
    "run_job",
    "survey",
]

#: What a job can run: SAM 2 (prompted objects), SAM 3 (concepts), the motion tracker.
ENGINES = ("sam2", "sam3", "classical")

#: The engines as the widget names them everywhere, in a sentence ("which SAM 2 ignores",
#: "tracking with the motion tracker…") and, capitalised, in its *engine* choices
#: (:func:`engine_choice`), with what each choice takes.
ENGINE_NAMES = {"sam2": "SAM 2", "sam3": "SAM 3", "classical": "the motion tracker"}
_ENGINE_TAKES = {
    "sam2": "click / box prompts",
    "sam3": "find by name or example",
    "classical": "no prompts, no weights",
}


def engine_choice(engine: str) -> str:
    """The label of ``engine`` among the widget's *engine* choices: its name in
    :data:`ENGINE_NAMES` (capitalised, without the article) and what it takes.

    Examples
    --------
    >>> engine_choice("sam3")
    'SAM 3 (find by name or example)'
    >>> engine_choice("classical")
    'Motion tracker (no prompts, no weights)'
    """
    name = ENGINE_NAMES[engine].removeprefix("the ")
    return f"{name[0].upper()}{name[1:]} ({_ENGINE_TAKES[engine]})"


@dataclass(frozen=True)
class FrameUpdate:
    """The masks of one frame, as a run produces it."""

    index: int
    time: float
    labels: np.ndarray
    object_ids: tuple[int, ...]
    scores: tuple[float, ...]


@dataclass
class Job:
    """What to run.

    Attributes
    ----------
    video : str
        Video path.
    engine : {"sam2", "sam3", "classical"}
    prompts : Prompts, optional
        Needed by ``"sam2"``.
    concepts : tuple of Concept
        Needed by ``"sam3"``: what to find on every frame (names and/or exemplar boxes).
    detect_every : int
        ``"sam3"``: run the concept detector on every N-th frame.
    as_video : bool
        ``"sam3"`` on an image folder: track it as a video of frames; otherwise a folder
        given concepts is a photo survey, each photograph searched on its own
        (:func:`ecoseg.engine.survey_rule.is_photo_survey`, as ``ecoseg segment``).
    model, checkpoint, pretrained, image_size, device
        As for :func:`ecoseg.sam2.build` (``"sam3"``: :func:`ecoseg.sam3.build`).
    fast : bool
        ``"sam2"`` and ``"sam3"``: the network in bf16 (:func:`ecoseg.segment`'s ``fast``).
    start : int
        First frame whose masks are reported (the classical tracker still reads from frame 0).
    stop : int, optional
        Frames from ``stop`` on are not processed (default: to the end).
    params : dict
        Classical tracker, discovery or concept tracking
        (:class:`~ecoseg.engine.concept_rules.ConceptSettings`) parameters.
    auto : bool
        SAM 2 with automatic discovery of unprompted organisms (:mod:`ecoseg.engine.discovery`).
    fps : float, optional
        Frame rate of an image folder ``video`` (frame ``i`` at ``i / fps`` s; the motion
        tracker's speeds use it); None: the folder reader's default, and always for a video
        file (timed by its own timestamps; :func:`ecoseg.io.video.open_video` refuses a rate
        for one).
    cancel : threading.Event
        Set to stop before the next frame: passed to the engine, as ``segment``'s ``cancel``
        (SAM 2 and SAM 3 hand out the frame being made).
    objects : dict
        ``{id: {"class", "source", ...}}`` of discovered objects and concept tracks, filled
        while running.
    """

    video: str
    engine: str = "sam2"
    prompts: Any = None
    concepts: tuple = ()
    detect_every: int = 1
    as_video: bool = False
    model: str = "sam2.1-tiny"
    checkpoint: str | None = None
    pretrained: bool = True
    image_size: int | None = None
    device: str | None = None
    fast: bool = False
    start: int = 0
    stop: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    auto: bool = False
    fps: float | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    #: classes of the objects as they are found (automatic discovery adds to it while running)
    objects: dict[int, dict[str, str]] = field(default_factory=dict)
    #: warnings for the user, filled while running (an image folder read in name order, the
    #: motion tracker's moving camera, fast (bf16) on a CPU without bf16 instructions)
    notices: list[str] = field(default_factory=list)

    def first(self) -> int:
        """The first frame this job reports (SAM 2: none before its first prompt)."""
        first = self.start
        if self.auto:
            return first
        if self.engine == "sam2" and self.prompts is not None and len(self.prompts.objects):
            first = max(first, min(self.prompts.frames()))
        return first

    def total(self, n_frames: int) -> int:
        """Frames this job reports for a video of ``n_frames`` frames."""
        stop = n_frames if self.stop is None else min(self.stop, n_frames)
        return max(0, stop - self.first())


# ------------------------------------------------------------------------------- checks
def check_job(job: Job, n_frames: int) -> None:
    """Refuse, before the widget clears a layer for it, a job that would fail before its first
    frame: one that tracks no frame of an ``n_frames`` video, then settings that cannot run
    (:func:`check_settings`: a network that cannot be built, from an unknown model, an input
    size the model refuses, weights neither in the cache nor at the given path or a SAM 3
    checkpoint with no tokenizer vocabulary beside it or in the cache; what a photo survey
    cannot use; a network setting for the motion tracker).
    The run would refuse it too, but only after *Track* had cleared the masks made before.

    Raises
    ------
    EcosegError
        One line (:class:`~ecoseg.errors.ConfigError`, :class:`~ecoseg.errors.CheckpointError`).

    Examples
    --------
    >>> check_job(Job("v.mp4", engine="classical", stop=3), 10)
    >>> check_job(Job("v.mp4", start=5, stop=4), 10)
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: nothing to track: track until is frame 3, before frame 5 where ...
    >>> check_job(Job("v.mp4", checkpoint="no/such.pt"), 10)
    Traceback (most recent call last):
    ...
    ecoseg.errors.CheckpointError: no/such.pt: checkpoint file not found
    """
    if job.stop is not None and job.total(n_frames) == 0:
        # it ran, tracked nothing and said "done: 0 frames" (Track had cleared the layer)
        raise ConfigError(
            f"nothing to track: track until is frame {job.stop - 1}, before frame "
            f"{job.first()} where tracking starts (its first click or box, or the current frame)"
        )
    check_settings(job)


def check_settings(job: Job) -> None:
    """Refuse a job whose settings cannot run, before its video is opened: an unknown engine,
    discovery for another engine than SAM 2, a model or input size the network refuses, weights
    neither in the cache nor at the given path, a SAM 3 checkpoint without its vocabulary, what
    a photo survey cannot use, a network setting for the motion tracker. In the words
    :func:`ecoseg.segment` refuses them with, which also checks the model before it reads the
    video. :func:`check_job` (the widget, before *Track*) and :func:`run_job` (unless the
    job was checked so) ask here.

    Raises
    ------
    EcosegError
        One line (:class:`~ecoseg.errors.ConfigError`, :class:`~ecoseg.errors.CheckpointError`).

    Examples
    --------
    >>> check_settings(Job("v.mp4", engine="classical"))
    >>> check_settings(Job("no/such/video.mp4", model="sam2.1-tyni"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: unknown SAM 2 variant 'sam2.1-tyni'; valid names: sam2.1-tiny, ...
    """
    import os

    from ecoseg.errors import CheckpointError

    if job.engine not in ENGINES:
        raise ConfigError(f"unknown engine {job.engine!r}; choose {', '.join(ENGINES)}")
    if job.auto and job.engine != "sam2":
        raise ConfigError("automatic discovery needs the SAM 2 engine")
    if job.engine == "sam2":
        from ecoseg.sam2 import weights
        from ecoseg.sam2.variants import get_variant

        get_variant(job.model, job.image_size)
    elif job.engine == "sam3":
        from ecoseg.sam3 import weights
        from ecoseg.sam3.config import get_config

        get_config(job.model, job.image_size)
        if survey(job):  # what a photo survey cannot use, in the words segment() says it
            from ecoseg.engine.concepts import check_survey

            check_survey(
                job.video,
                job.concepts,
                detect_every=job.detect_every,
                fast=job.fast,
                fps=job.fps,
                params=job.params,
            )
    else:
        check_no_network(job)
        return
    if job.checkpoint is not None:
        if not os.path.isfile(job.checkpoint):  # as the network's loader says it
            raise CheckpointError(f"{job.checkpoint}: checkpoint file not found")
        if job.engine == "sam3":  # its vocabulary, as the run checks it
            weights.require_vocabulary(job.checkpoint)
    elif job.pretrained:
        weights.cached_weights(job.model)


def survey(job: Job) -> bool:
    """Whether ``job`` is a photo survey: SAM 3 on a folder of images (or an image), not
    ``as_video`` (:func:`ecoseg.engine.survey_rule.is_photo_survey`, the rule of every entry).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> survey(Job(folder, engine="sam3")), survey(Job(folder, engine="sam3", as_video=True))
    (True, False)
    """
    from ecoseg.engine.survey_rule import is_photo_survey

    return job.engine == "sam3" and is_photo_survey(job.video, job.as_video)


def check_no_network(job: Job) -> None:
    """Refuse a network setting (an input size, a checkpoint, random weights) for the motion
    tracker, which has none, as ``ecoseg segment --engine classical`` refuses ``--image-size``,
    ``--checkpoint`` and ``--random-weights``: the widget ran it and said nothing. Spelled
    ``keyword (--flag)``, so the widget names its controls
    (:func:`~ecoseg.napari._check.napari_words`).

    Raises
    ------
    ConfigError
        One line naming every setting given and how to take it back.

    Examples
    --------
    >>> check_no_network(Job("v.mp4", engine="classical"))
    >>> check_no_network(Job("v.mp4", engine="classical", image_size=512, pretrained=False))
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: image_size=512 (--image-size), pretrained=False \
(--random-weights) are for the sam2 and sam3 engines' networks; the classical motion tracker \
has none: set image_size (--image-size) to model default, untick pretrained=False \
(--random-weights)
    """
    given = [
        (said, remedy)
        for said, remedy, on in (
            (
                f"image_size={job.image_size} (--image-size)",
                "set image_size (--image-size) to model default",
                bool(job.image_size),
            ),
            ("checkpoint (--checkpoint)", "clear checkpoint (--checkpoint)", bool(job.checkpoint)),
            (
                "pretrained=False (--random-weights)",
                "untick pretrained=False (--random-weights)",
                not job.pretrained,
            ),
        )
        if on
    ]
    if given:
        raise ConfigError(
            f"{', '.join(s for s, _ in given)} {'is' if len(given) == 1 else 'are'} for the "
            "sam2 and sam3 engines' networks; the classical motion tracker has none: "
            + ", ".join(r for _, r in given)
        )


# ------------------------------------------------------------------------------- running
def _sam2_results(job: Job, reader) -> Iterator[Any]:
    from ecoseg import sam2
    from ecoseg.engine.session import propagate

    if not job.auto and (job.prompts is None or not len(job.prompts.objects)):
        raise PromptError("the sam2 engine needs prompts: click on an object first")
    net = _network(sam2, job)
    fast = _fast(job, net.device)
    if job.auto:
        from ecoseg.engine.discovery import DiscoveryEngine

        engine = DiscoveryEngine(net, reader, job.prompts, params=job.params or None, fast=fast)
        job.objects = engine.objects  # the same dict: the widget sees objects as they come
        return engine.run(output="labels", cancel=job.cancel)
    return propagate(net, reader, job.prompts, cancel=job.cancel, output="labels", fast=fast)


def _network(family, job: Job):
    """``family.build`` (:mod:`ecoseg.sam2` or :mod:`ecoseg.sam3`) of the job's network."""
    from ecoseg.engine.settings import build_network

    # random weights from the seed a segment run uses: the same network as `ecoseg segment`
    return build_network(
        family, job.model, job.checkpoint, job.pretrained, job.image_size, job.device
    )


def _fast(job: Job, device) -> bool:
    """``job.fast`` as it runs on ``device``; on a CPU without bf16 instructions the reason it
    runs fp32 goes to ``job.notices`` (the widget shows it), not to the terminal (kept from
    this thread only, :func:`~ecoseg.napari._warned.own_warnings`: Python's
    ``catch_warnings`` took every thread's warnings meanwhile, and on leaving put back the
    settings it found, over those of a napari worker started or ended meanwhile)."""
    from ecoseg.engine._runtime import SlowBf16Warning, fast_bf16
    from ecoseg.napari._warned import own_warnings

    with own_warnings() as caught:
        fast = fast_bf16(job.fast, device)
    job.notices.extend(str(w.message) for w in caught if w.category is SlowBf16Warning)
    return fast


def _sam3_results(job: Job, reader) -> Iterator[Any]:
    from ecoseg import sam3
    from ecoseg.engine.concept_rules import ConceptSettings
    from ecoseg.engine.concept_session import ConceptRun, concept_tokenizer

    require_concepts(job.model, job.concepts)
    settings = ConceptSettings.from_params(job.params, job.detect_every)
    net = _network(sam3, job)
    tokenizer = concept_tokenizer(net, job.pretrained or job.checkpoint is not None)
    fast = _fast(job, net.device)
    run = ConceptRun(net, reader, job.concepts, settings, tokenizer=tokenizer, fast=fast)
    job.objects = run.objects  # the same dict: the widget sees tracks as they start
    return run.run(cancel=job.cancel)


def _survey_results(job: Job) -> Iterator[Any]:
    """A photo survey's results, each photograph searched on its own, as ``ecoseg segment``
    makes them (:func:`ecoseg.engine.concepts.survey_results`): once ``job.cancel`` is set
    the engine stops before the next photograph, and the one searched meanwhile is kept, as
    a cancelled ``segment`` keeps it in its store."""
    from ecoseg.engine.concepts import list_images, survey_predictor, survey_results

    require_concepts(job.model, job.concepts, "type a name in Find")
    # what a survey cannot use, its score_threshold too: refused by check_settings (check_survey)
    threshold = (job.params or {}).get("score_threshold")
    predictor = survey_predictor(
        job.model,
        job.checkpoint,
        pretrained=job.pretrained,
        image_size=job.image_size,
        device=job.device,
        score_threshold=0.5 if threshold is None else float(threshold),
    )[0]
    files = list_images(job.video)
    names = [c.name for c in job.concepts]
    return survey_results(predictor, files, names, job.objects, cancel=job.cancel)


def run_job(job: Job, *, checked: bool = False) -> Iterator[FrameUpdate]:
    """Run a job, yielding the masks of every frame from ``job.start`` as they are made.

    What the user should hear goes to ``job.notices`` (the widget shows them when the run
    ends): an image folder whose names carry no frame numbers is read in name order, said
    once, in the words ``ecoseg segment`` warns with (not for a photo survey, whose
    photographs are no frames); the motion tracker's moving camera.

    Parameters
    ----------
    job : Job
    checked : bool
        :func:`check_job` has just checked ``job`` (the widget, before *Track*): its settings
        are not checked again (:func:`check_settings` once per click).

    Yields
    ------
    FrameUpdate
        In frame order; frames without objects have an all-zero label image.

    Raises
    ------
    ConfigError, PromptError, VideoError, CheckpointError
        Bad settings or weights (:func:`check_settings`, before the video is opened), then a
        bad video or prompts.

    Examples
    --------
    >>> from ecoseg.sample import sample
    >>> updates = list(run_job(Job(str(sample().video), engine="classical", stop=3)))
    >>> [u.index for u in updates]
    [0, 1, 2]
    """
    from ecoseg.io.video import open_video

    if not checked:  # an unknown model too, before the video is opened (as segment)
        check_settings(job)
    reader = open_video(job.video, fps=job.fps)
    try:
        note = getattr(reader, "order_note", None)
        if note is not None and not survey(job):  # a photo survey's names are free: no frames
            # an image folder whose names carry no frame numbers, read in name order: said
            # once a run, in the words ecoseg segment warns with (ecoseg.io.video.as_reader)
            job.notices.append(note)
        n = len(reader)
        stop = n if job.stop is None else min(int(job.stop), n)
        checked = job  # the caller's job keeps its prompts as given
        if job.prompts is not None:  # boxes past the frame's edge cut to it
            checked = replace(checked, prompts=job.prompts.validate(reader.width, reader.height, n))
        if job.concepts:
            from ecoseg.prompts import validate_concepts

            concepts = validate_concepts(job.concepts, reader.width, reader.height, n)
            checked = replace(checked, concepts=concepts)
        if job.engine == "classical":
            from ecoseg.engine.classical import track

            results = track(
                reader.frames(0, stop),
                params=job.params or None,
                fps=reader.fps,
                warn=False,
                cancel=job.cancel,
            )
        elif survey(job):
            results = _survey_results(checked)
        elif job.engine == "sam3":
            results = _sam3_results(checked, reader)
        else:
            results = _sam2_results(checked, reader)
        # the engine's dict of objects, filled while it runs: the widget reads the caller's job
        job.objects = checked.objects
        # every engine stops itself (its cancel, as segment's): nothing after the frame or
        # photograph being made when Cancel was pressed is computed
        try:
            for result in results:
                if result.index >= stop:
                    break
                if result.index < job.start:
                    continue
                yield FrameUpdate(
                    index=int(result.index),
                    time=float(result.time),
                    labels=result.label_image(),
                    object_ids=tuple(int(i) for i in result.object_ids),
                    scores=tuple(float(s) for s in result.scores),
                )
            motion = getattr(results, "camera_motion", None)
            if motion is not None and motion.too_fast:
                job.notices.append(f"motion tracker: {job.video}: {motion.summary()}")
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
    finally:
        reader.close()
