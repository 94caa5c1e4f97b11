"""Concept segmentation of still images (photo quadrats) with SAM 3, into a mask store.

:func:`segment_images` runs :class:`ecoseg.sam3.ConceptPredictor` on one image or on every
image of a folder and writes what it finds into an ordinary mask store, so benthic surveys
get the same tables (cover, counts, regions) as videos. The store's ``t`` axis is the image
index (``time`` = 0, 1, 2, ... "seconds", one per image, in natural file-name order; the file
names are kept in the provenance); every instance is an object of its own (nothing is tracked
from one photograph to the next) whose class is the concept that found it, with source
``"concept"``. Where instances overlap, the higher-scoring one keeps the pixel; an instance
left with no pixel is no object (as a concept track whose every pixel went to another is not
on its frame), and the objects are numbered on without a gap.

All images must have one size (a store has one frame size).

Which runs are surveys is one rule,
:func:`ecoseg.engine.survey_rule.is_photo_survey`: a folder of images (or one image)
given concepts, from any source (``--concepts``, a prompt file, :func:`ecoseg.segment`,
``ecoseg batch``, a study, the napari widget), is a photo survey; ``as_video=True``
(``--as-video``) tracks a folder of video frames by concept instead. Every entry point asks it
and refuses what a survey cannot use with :func:`check_survey`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._device import resolve_device
from ecoseg.engine.results import FrameResult, write_results
from ecoseg.errors import Cancelled, ConfigError, PromptError, StoreError, VideoError
from ecoseg.provenance import created, survey_video

__all__ = [
    "check_survey",
    "instance_labels",
    "list_images",
    "segment_images",
    "survey_line",
    "survey_predictor",
    "survey_results",
]


def survey_line(n: int, survey: bool) -> str:
    """What a concept run's progress and summary say it is.

    Examples
    --------
    >>> survey_line(3, True), survey_line(1, False)
    ('3 photographs, a survey', '1 frame, a video')
    """
    if survey:
        return f"{n} photograph{'s' * (n != 1)}, a survey"
    return f"{n} frame{'s' * (n != 1)}, a video"


def check_survey(
    source: Any,
    concepts: Sequence[Any] = (),
    *,
    objects: Sequence[Any] = (),
    prompt_file: Any = None,
    detect_every: int = 1,
    fast: bool = False,
    backward: bool = True,
    fps: float | None = None,
    params: Mapping[str, Any] | None = None,
) -> float | None:
    """Refuse, in one line naming each, what a photo survey cannot use; return the score
    threshold of ``params`` (None: not given).

    A survey detects each photograph on its own: it has no frames to click objects on or to
    draw exemplars on, no detector interval, no bf16 path, nothing to track backwards, no frame
    rate and no tracking parameters (only ``score_threshold``). It resumes and is cancelled as
    a video run is (:func:`segment_images`). The library spells each option ``keyword
    (--flag)``, so ``ecoseg`` and the napari widget name it their own way.

    Parameters
    ----------
    source
        The folder or image (named first in the message).
    concepts : sequence of Concept or str
        What to find (a :class:`~ecoseg.prompts.Concept` with exemplars is refused).
    objects : sequence
        A prompt file's objects (clicks, boxes), refused.
    prompt_file : str or Path, optional
        Where ``concepts`` and ``objects`` came from, named in the message.
    detect_every, fast, backward, fps, params
        As given to :func:`ecoseg.segment`.

    Raises
    ------
    ConfigError

    Examples
    --------
    >>> check_survey("quadrats", ["coral"], params={"score_threshold": 0.3})
    0.3
    >>> check_survey("quadrats", ["coral"], fast=True, detect_every=2)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: quadrats: a photo survey (concepts on images, each photograph ...
    """
    where = f" in {prompt_file}" if prompt_file is not None else ""
    params = dict(params or {})
    other = sorted(k for k in params if k != "score_threshold")
    exemplars = [
        getattr(c, "name", None) or "visual" for c in concepts if getattr(c, "exemplars", ())
    ]
    used = [
        said
        for said, on in (
            (f"objects to track (clicks, boxes{where})", len(objects) > 0),
            (
                f"exemplar boxes (concept {', '.join(map(repr, exemplars))}{where})",
                bool(exemplars),
            ),
            (f"detect_every={detect_every} (--detect-every)", detect_every != 1),
            ("fast=True (--fast)", bool(fast)),
            ("backward=False (--forward-only)", not backward),
            (f"fps={fps} (--fps, photographs have no time axis)", fps is not None),
            (f"params (--params) other than score_threshold: {', '.join(other)}", bool(other)),
        )
        if on
    ]
    if used:
        raise ConfigError(
            f"{source}: a photo survey (concepts on images, each photograph detected on its "
            f"own) takes no {', '.join(used)}; to track a folder of video frames instead, pass "
            "as_video=True (--as-video)"
        )
    threshold = params.get("score_threshold")
    if threshold is None:
        return None
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise ConfigError(f"score_threshold must be a score in [0, 1], got {threshold!r}")
    if not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"score_threshold must be a score in [0, 1], got {threshold}")
    return float(threshold)


def list_images(source: str | os.PathLike) -> list[Path]:
    """The image file ``source``, or the images in folder ``source`` in natural name order.

    Raises
    ------
    VideoError
        ``source`` is missing, not an image, or a folder without images.
    """
    from ecoseg.io._common import missing_video
    from ecoseg.io.folder import IMAGE_SUFFIXES, folder_images

    path = Path(source)
    if path.is_dir():
        return [path / name for name in folder_images(path)]  # as the folder reader lists it
    if not path.is_file():
        raise VideoError(missing_video(path))
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise VideoError(f"{path}: not an image ({', '.join(sorted(IMAGE_SUFFIXES))})")
    return [path]


def instance_labels(masks: np.ndarray, scores: np.ndarray, ids: Sequence[int]) -> np.ndarray:
    """One ``(H, W)`` uint32 label image from ``(N, H, W)`` masks; the best score wins overlaps.

    Examples
    --------
    >>> m = np.array([[[1, 1, 0]], [[0, 1, 1]]], bool)
    >>> instance_labels(m, np.array([0.9, 0.5]), [3, 4]).tolist()
    [[3, 3, 4]]
    """
    labels = np.zeros(masks.shape[1:], np.uint32)
    for k in np.argsort(scores, kind="stable"):  # ascending: the best is painted last
        labels[masks[k]] = ids[k]
    return labels


def survey_results(
    predictor, files, concepts, objects, *, start: int = 0, first_id: int = 1, cancel: Any = None
) -> Iterator[FrameResult]:
    """Each photograph's instances (``files``, found by ``predictor`` for ``concepts``; their
    records go into the dict ``objects``), numbered on from the last photograph's; an instance left
    with no pixel (wholly under better-scoring ones, or an empty mask) is not an object, as a
    concept track whose every pixel went to another is not on its frame: ``ecoseg info``,
    ``measure`` and the review count the same objects.

    From photograph ``start`` on (a resumed survey: the store holds those before), its objects
    numbered from ``first_id``; stops before the next photograph once ``cancel`` (a
    ``threading.Event`` or a callable) is set."""
    from ecoseg.engine._runtime import is_cancelled
    from ecoseg.io.folder import load_rgb8

    next_id = first_id
    for index, path in enumerate(files):
        if index < start:
            continue
        if is_cancelled(cancel):
            return
        found = predictor.predict(load_rgb8(str(path)), text=list(concepts))
        masks, scores, records = [], [], []
        for instances in found:
            for k in range(len(instances)):
                records.append(  # as a concept track is stored: its detection score
                    {
                        "class": instances.concept,
                        "source": "concept",
                        "class_source": "concept",
                        "class_probability": round(float(instances.scores[k]), 6),
                    }
                )
                masks.append(instances.masks[k])
                scores.append(float(instances.scores[k]))
        h, w = predictor.original_size
        stack = np.stack(masks) if masks else np.zeros((0, h, w), bool)
        labels = instance_labels(stack, np.asarray(scores), range(1, len(masks) + 1))
        present = np.zeros(len(masks) + 1, bool)
        present[np.unique(labels)] = True
        kept = np.flatnonzero(present[1:])  # in the order found
        renumber = np.zeros(len(masks) + 1, np.uint32)
        renumber[kept + 1] = np.arange(next_id, next_id + len(kept), dtype=np.uint32)
        for k, oid in zip(kept, range(next_id, next_id + len(kept))):
            objects[oid] = records[k]
        yield FrameResult(
            index=index,
            time=float(index),
            object_ids=np.arange(next_id, next_id + len(kept), dtype=np.int64),
            scores=np.asarray(scores, np.float32)[kept],
            labels=renumber[labels],
        )
        next_id += len(kept)


def _fingerprint(source: str | os.PathLike, files: Sequence[Path]) -> str:
    # what open_video(source).sha256() gives, so check_same_video compares like with like
    from ecoseg._hashing import sha256_file
    from ecoseg.io.folder import images_sha256

    return images_sha256(files) if Path(source).is_dir() else sha256_file(files[0])


def survey_predictor(
    model: Any = "sam3",
    checkpoint: str | os.PathLike | None = None,
    *,
    pretrained: bool = True,
    image_size: int | None = None,
    device: str | None = "auto",
    score_threshold: float = 0.5,
    tokenizer=None,
):
    """The :class:`~ecoseg.sam3.ConceptPredictor` of a survey, as :func:`segment_images` builds
    it (the napari widget too): ``(predictor, network, model name, device)``."""
    from ecoseg import sam3
    from ecoseg.engine.concept_session import concept_tokenizer
    from ecoseg.engine.settings import build_network
    from ecoseg.sam3 import ConceptPredictor

    run_device = resolve_device(device)
    if isinstance(model, str):
        name = model
        if checkpoint is not None and tokenizer is None:  # before the checkpoint is read
            from ecoseg.sam3.weights import require_vocabulary

            require_vocabulary(checkpoint)
        net = build_network(sam3, model, checkpoint, pretrained, image_size, run_device)
    else:
        net, name = model, getattr(getattr(model, "config", None), "name", "custom")
    if tokenizer is None:  # random weights without a downloaded vocabulary: bytes will do
        tokenizer = concept_tokenizer(net, pretrained or checkpoint is not None)
    predictor = ConceptPredictor(net, tokenizer=tokenizer, score_threshold=score_threshold)
    return predictor, net, name, run_device


def segment_images(
    source: str | os.PathLike,
    concepts: Sequence[str],
    *,
    out: str | os.PathLike,
    model: Any = "sam3",
    checkpoint: str | os.PathLike | None = None,
    pretrained: bool = True,
    image_size: int | None = None,
    device: str | None = "auto",
    overwrite: bool = False,
    score_threshold: float = 0.5,
    tokenizer=None,
    progress: bool | Callable[[int, int], Any] = True,
    chunk_frames: int = 4,
    resume: bool = False,
    cancel: Any = None,
) -> str:
    """Find every instance of ``concepts`` in still images and store them as masks.

    Parameters
    ----------
    source : str or Path
        An image file (PNG, JPEG, TIFF) or a folder of them, all of one size.
    concepts : sequence of str
        Noun phrases (``"parrotfish"``, ``"sea urchin"``); each becomes the class of the
        instances it finds.
    out : str or Path
        Mask store to write.
    model : str or SAM3Model
        SAM 3 preset name (``"sam3"``), or a built model.
    checkpoint, pretrained, image_size, device
        As :func:`ecoseg.sam3.build` (``device="auto"``: CUDA, else MPS, else CPU).
    overwrite : bool
        Replace an existing store.
    score_threshold : float
        Keep instances scoring above this (presence x detection; Meta's default 0.5).
    tokenizer : callable, optional
        Default: the vocabulary downloaded with the weights (:func:`ecoseg.sam3.load_tokenizer`);
        with random weights and no vocabulary downloaded, a byte-level one.
    progress : bool or callable
        Progress bar (``3 photographs, a survey``), or ``progress(done, total)`` after each
        image.
    chunk_frames : int
        Images per store chunk.
    resume : bool
        Continue a survey stopped early (cancelled, or its process killed) into its store:
        the photographs it lacks are searched, their objects numbered on; a complete store is
        left as it is. Refused where the store was made from other photographs or with
        other settings (concepts, threshold, weights).
    cancel : threading.Event or callable, optional
        Stop before the next photograph once set: raises :class:`~ecoseg.errors.Cancelled`
        and leaves a store that ``resume=True`` continues. (A survey that fails otherwise
        leaves no store, unless it was resumed.)

    Returns
    -------
    str
        The store path.

    Raises
    ------
    VideoError
        No images, an unreadable image, or images of different sizes.
    PromptError
        No concept, or an empty one.
    StoreError
        ``out`` exists and neither ``overwrite`` nor ``resume`` is set, or is something no
        ecoseg store (a file, a folder, another tool's zarr store), which is never replaced;
        with ``resume``, the store was made from other photographs or with other settings.
    Cancelled
        ``cancel`` was set.
    """
    from ecoseg.io.folder import exif_upright
    from ecoseg.io.folder import image_size as read_size
    from ecoseg.store import MaskStore, discard_on_failure

    files = list_images(source)
    concepts = list(concepts or [])
    # a blank name is parse_concepts' to refuse: it says which one
    if not concepts or any(not isinstance(c, str) for c in concepts):
        raise PromptError(f"give one or more non-empty concepts, got {concepts!r}")
    from ecoseg.prompts import parse_concepts

    # one spelling per species ("Parrotfish" and "parrotfish" refused), runs of spaces as one
    concepts = [c.name for c in parse_concepts(concepts, "concepts")]
    sizes = [read_size(str(p)) for p in files]
    for path, size in zip(files, sizes):
        if size != sizes[0]:
            raise VideoError(
                f"{path}: {size[0]}x{size[1]} px, but {files[0].name} is "
                f"{sizes[0][0]}x{sizes[0][1]}; one store holds images of one size"
            )
    if resume and overwrite:
        raise ConfigError(
            "resume=True (--resume) continues the store's run and overwrite=True (--overwrite) "
            "replaces the store: give one of them"
        )
    from ecoseg.engine.checks import check_new_store

    check_new_store(out, resume, overwrite)  # a partial store: the line says --resume
    width, height = sizes[0]
    upright = exif_upright(files) if Path(source).is_dir() else None  # read upright
    folder = {
        "path": str(source),
        "sha256": _fingerprint(source, files),
        "sha256_of": "open_video",
        "width": width,
        "height": height,
        "frames": len(files),
        **({"exif_upright": upright} if upright is not None else {}),
    }
    provenance = {
        "video": survey_video(folder, [p.name for p in files]),
        "engine": "sam3-concepts",
        "parameters": {"score_threshold": float(score_threshold)},
        "prompts": {"concepts": [{"text": c} for c in concepts]},
    }
    store = None
    if resume:  # before SAM 3 loads: another folder, a changed setting, or nothing to do
        wanted = {**provenance, "model": _model_wanted(model, checkpoint, pretrained, image_size)}
        store = _resumed(out, wanted)
        if store is not None and store.complete:  # nothing left: the store is left as it is
            store.close()
            return str(out)
    try:
        predictor, net, name, run_device = survey_predictor(
            model,
            checkpoint,
            pretrained=pretrained,
            image_size=image_size,
            device=device,
            score_threshold=score_threshold,
            tokenizer=tokenizer,
        )
    except BaseException:
        if store is not None:
            store.close()
        raise
    provenance["parameters"]["device"] = run_device
    provenance.update(model=_model_entry(net, name, isinstance(model, str)), created=created())
    if store is None:
        store = MaskStore.create(
            out,
            height=height,
            width=width,
            chunk_frames=chunk_frames,
            provenance=provenance,
            overwrite=overwrite,
        )
    done = store.n_frames
    objects: dict[int, dict[str, str]] = {}
    found = survey_results(
        predictor,
        files,
        concepts,
        objects,
        start=done,
        first_id=max(map(int, store.object_ids), default=0) + 1,
        cancel=cancel,
    )
    from ecoseg.engine._runtime import until_cancelled

    stopped = None
    # a failed survey leaves no store (a plain run again is not refused); a cancelled one, or
    # one resumed, keeps what it stored: resume=True (--resume) continues it
    with discard_on_failure(store) if done == 0 else _closing(store):
        try:
            write_results(
                store,
                until_cancelled(found, cancel, store, len(files)),
                times=np.arange(len(files), dtype=np.float64),
                objects=objects,
                source="concept",
                total=len(files),
                progress=progress,
                desc=survey_line(len(files), True),
                unit="photograph",  # the bar said 2.24s/frame of photographs
            )
        except Cancelled as exc:
            stopped = exc
        else:
            store.mark_complete()
    if stopped is not None:
        raise stopped
    return str(out)


@contextmanager
def _closing(store) -> Iterator[Any]:
    try:
        yield store
    finally:
        store.close()


def _model_wanted(model, checkpoint, pretrained: bool, image_size: int | None) -> dict:
    """The model entry a survey records, before its network is built
    (:func:`~ecoseg.engine.settings.survey_model_record`; a network passed in: its own)."""
    if not isinstance(model, str):
        return _model_entry(model, getattr(getattr(model, "config", None), "name", "custom"), False)
    from ecoseg.engine.settings import survey_model_record
    from ecoseg.sam3.config import get_config

    size = get_config(model, image_size).image_size
    return survey_model_record(model, checkpoint, pretrained, size)


def _model_entry(net, name: str, built_here: bool) -> dict:
    """The model entry of a survey's network: the weights it holds (its checkpoint_info), the
    file given, or for real weights without one the cached download, recorded with the sha256
    read when loaded."""
    from ecoseg.engine.settings import model_record

    info = getattr(net, "checkpoint_info", None)
    entry = model_record(name, None, info is not None, int(net.image_size))
    if info is not None:
        entry["checkpoint"] = {"path": info["path"], "sha256": info["sha256"]}
    elif not built_here:  # random weights of a network passed in: the caller's
        del entry["seed"]
    return entry


def _resumed(out, wanted: dict):
    """The survey store ``out`` opened to continue (``None``: none there, a new one is made),
    after refusing one made from other photographs or with other settings."""
    from ecoseg.engine.resume import check_resumable
    from ecoseg.store import MaskStore

    try:
        store = MaskStore.open(out, mode="a")
    except StoreError:
        if "://" not in str(out) and Path(out).exists():
            raise
        return None  # nothing to resume: a new store
    try:
        check_resumable(out, store.provenance_record, wanted)
    except BaseException:
        store.close()
        raise
    return store
