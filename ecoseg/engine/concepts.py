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
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._device import resolve_device
from ecoseg._paths import check_overwrite
from ecoseg.engine.results import FrameResult, write_results
from ecoseg.errors import PromptError, StoreError, VideoError
from ecoseg.provenance import created, survey_video

__all__ = ["segment_images", "list_images", "instance_labels"]


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


def _results(predictor, files, concepts, objects) -> Iterator[FrameResult]:
    """Each photograph's instances, numbered on from the last photograph's; an instance left
    with no pixel (wholly under better-scoring ones, or an empty mask) is not an object, as a
    concept track whose every pixel went to another is not on its frame: ``ecoseg info``,
    ``measure`` and the review count the same objects."""
    from ecoseg.io.folder import load_rgb8

    next_id = 1
    for index, path in enumerate(files):
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
        Progress bar, or ``progress(done, total)`` after each image.

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
        ``out`` exists and ``overwrite`` is not set, or is something no ecoseg store (a file,
        a folder, another tool's zarr store), which is never replaced.
    """
    from ecoseg.io.folder import exif_upright
    from ecoseg.io.folder import image_size as read_size
    from ecoseg.store import Location, MaskStore, discard_on_failure
    from ecoseg.store.identify import not_replaceable

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
    if (kept := not_replaceable(Location(out))) is not None:  # not 'pass --overwrite' first
        raise StoreError(kept)
    check_overwrite(out, overwrite, error=StoreError)

    from ecoseg import sam3
    from ecoseg.engine.concept_session import concept_tokenizer
    from ecoseg.engine.settings import RANDOM_WEIGHTS_SEED, build_network
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

    width, height = sizes[0]
    info = getattr(net, "checkpoint_info", None)
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
        "parameters": {"score_threshold": float(score_threshold), "device": run_device},
        "prompts": {"concepts": [{"text": c} for c in concepts]},
        "model": {
            "variant": name,
            "image_size": int(net.image_size),
            "pretrained": info is not None,
            # random weights this run drew: their seed (a network passed in: the caller's)
            **({"seed": RANDOM_WEIGHTS_SEED} if info is None and isinstance(model, str) else {}),
            **({"checkpoint": {"path": info["path"], "sha256": info["sha256"]}} if info else {}),
        },
        "created": created(),
    }
    store = MaskStore.create(
        out, height=height, width=width, provenance=provenance, overwrite=overwrite
    )
    objects: dict[int, dict[str, str]] = {}
    with discard_on_failure(store):  # a survey cannot resume: a failed one leaves no store
        write_results(
            store,
            _results(predictor, files, concepts, objects),
            times=np.arange(len(files), dtype=np.float64),
            objects=objects,
            source="concept",
            total=len(files),
            progress=progress,
        )
        store.mark_complete()
    return str(out)
