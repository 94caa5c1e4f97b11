"""A species model trained on the reviewed tracks of stores (:func:`train_model`, public in
:mod:`ecoseg.species.classify` and :mod:`ecoseg.species`), what it records of them
(:func:`store_sha256`, :func:`frame_size`), and the stores and videos given to it and to
``classify`` (:func:`as_list`; :func:`videos_for`, one video per store).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ecoseg._class_names import new_spelling, set_class_words, track_list
from ecoseg._paths import check_distinct_stores
from ecoseg.errors import ConfigError
from ecoseg.species._classify_warnings import warn_few
from ecoseg.species.features import (
    FEATURE_VERSION,
    TrackFeatures,
    feature_weights,
    track_features,
)
from ecoseg.species.model import SpeciesModel, scale_ratio

__all__ = [
    "as_list",
    "check_training_spellings",
    "frame_size",
    "store_sha256",
    "train_model",
    "train_model_for",
    "training_rows",
    "videos_for",
]


def store_sha256(store) -> str:
    """sha256 of a store's object table and label values (what a model was trained on).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> len(store_sha256(clip.truth))
    64
    """
    from ecoseg.store import opened_store

    h = hashlib.sha256()
    with opened_store(store) as s:
        h.update(json.dumps(s.objects, sort_keys=True, separators=(",", ":")).encode())
        n, step = s.n_frames, s.chunk_frames
        for start in range(0, n, step):
            h.update(np.ascontiguousarray(s.read_labels(start, min(start + step, n))).tobytes())
    return h.hexdigest()


def frame_size(store) -> tuple[int, int]:
    """(width, height) of a store's frames."""
    from ecoseg.store import opened_store

    with opened_store(store) as s:
        return int(s.width), int(s.height)


def as_list(items) -> list:
    if items is None:
        return []
    if isinstance(items, str | os.PathLike) or not isinstance(items, Sequence):
        return [items]
    return list(items)


def videos_for(videos, n: int, option: str = "videos (--video)") -> list:
    """One video (or None) per store of ``n``; ``option``: the caller's keyword, spelled
    ``keyword (--flag)`` (the CLI says the flag alone).

    Examples
    --------
    >>> videos_for(["a.mp4", "b.mp4", "c.mp4"], 2, "train_videos (--train-video)")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: train_videos (--train-video): 3 videos given for 2 stores ...
    """
    videos = as_list(videos)
    if not videos:
        return [None] * n
    if len(videos) != n:
        raise ConfigError(
            f"{option}: {len(videos)} video{'s' * (len(videos) != 1)} given for {n} "
            f"store{'s' * (n != 1)} (give one per store)"
        )
    return videos


def training_rows(feats: TrackFeatures) -> tuple[np.ndarray, list[str]]:
    """The reviewed, named tracks of one store's features: rows and species names."""
    keep = np.array(
        [r and c != "unknown" for r, c in zip(feats.reviewed, feats.classes)], bool
    ).reshape(-1)
    return feats.values[keep], [c for c, k in zip(feats.classes, keep) if k]


def check_training_spellings(
    feats: TrackFeatures, labels: list[str], named_in: dict[str, str]
) -> None:
    """Refuse the reviewed tracks of ``feats`` (named ``labels``) where a name differs only in
    letter case from one a training track before them has (``named_in``: each name, the
    store that named it first; this store's names are added): the model would learn one
    species as two (:func:`ecoseg._class_names.new_spelling`)."""
    for name in labels:
        there = new_spelling(name, named_in)
        named_in.setdefault(name, str(feats.store))
        if there is None:
            continue
        ids = [
            int(i) for i, r, c in zip(feats.ids, feats.reviewed, feats.classes) if r and c == name
        ]
        few = ids[0] if len(ids) == 1 else ids if len(ids) <= 8 else "ID"  # ID: each of many
        respell = set_class_words(feats.store, few, there)
        raise ConfigError(
            f"{feats.store}: reviewed {track_list(ids)} named {name!r}, which differs only in "
            f"case from {there!r} (reviewed in {named_in[there]}): the model would learn one "
            f"species as two; use {there!r}{' for each' * (few == 'ID')}: {respell}"
        )


def train_model(
    stores,
    *,
    videos=None,
    samples: int = 8,
    C: float = 1.0,
    progress: bool = False,
) -> SpeciesModel:
    """Fit a species model on the reviewed tracks of ``stores``.

    Parameters
    ----------
    stores : path or sequence of paths (or MaskStores)
        Stores with reviewed tracks (``ecoseg edit STORE --set-class ID=NAME``).
    videos : path or sequence, optional
        The video of each store (default: found from the store's provenance).
    samples : int
        Frames per track whose colours are measured.
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    progress : bool
        Show progress bars.

    Returns
    -------
    SpeciesModel

    Raises
    ------
    ConfigError
        Fewer than two species among the reviewed tracks.
    VideoError
        A store's video is not found (given with ``videos=``) or is not the store's.
    """
    check_distinct_stores(as_list(stores), "train_model")  # its tracks would count twice
    return train_model_for(stores, videos, samples, C, progress, "videos", "--video")


def train_model_for(
    stores, videos, samples, C, progress, keyword: str, flag: str, cancel=None
) -> SpeciesModel:
    """:func:`train_model`, naming the keyword that gives the videos (``keyword``, ``flag``:
    a caller's own, :func:`~ecoseg.species.classify.classify`'s ``train_videos`` and
    ``--train-video``) when their number is not the stores' or one is not found."""
    X, y, names, training, units, where = [], [], None, [], set(), []
    named_in: dict[str, str] = {}  # each species name, the store that named it first
    stores = as_list(stores)
    video_option = f"{keyword}=... ({flag} PATH)"
    for store, video in zip(stores, videos_for(videos, len(stores), f"{keyword} ({flag})")):
        feats = track_features(
            store,
            video,
            samples=samples,
            progress=progress,
            video_option=video_option,
            cancel=cancel,
        )
        if names is not None and feats.names != names:
            raise ConfigError(
                f"{feats.store}: its track features differ from the other training stores' "
                "(network embeddings in some stores only?)"
            )
        names = feats.names
        units.add(feats.units)
        rows, labels = training_rows(feats)
        check_training_spellings(feats, labels, named_in)
        X.append(rows)
        y += labels
        training.append(
            {
                "store": Path(str(feats.store)).name,
                "sha256": store_sha256(store),
                "tracks": len(labels),
                "size": list(frame_size(store)),  # the scale of sizes in px
            }
        )
        where.append(str(feats.store))
    if names is None:
        raise ConfigError("no training stores given (--train STORE...)")
    if len(units) > 1:
        raise ConfigError(
            "some training stores are calibrated (sizes in mm) and some are not (px): "
            "calibrate them alike (ecoseg measure --calibration)"
        )
    if units == {"px"}:  # sizes in pixels mean one thing only at one frame scale
        for k, t in enumerate(training[1:], 1):
            ratio, (w0, h0) = scale_ratio(t["size"], [training[0]["size"]])
            if ratio is not None:
                w, h = t["size"]
                raise ConfigError(
                    f"{where[k]}: its frames are {w}x{h} and those of {where[0]} {w0}x{h0}; "
                    "uncalibrated stores (sizes in pixels) of footage of another scale cannot "
                    "train one model: calibrate them (ecoseg measure --calibration)"
                )
    warn_few(y, stores)
    try:
        return SpeciesModel.fit(
            np.concatenate(X) if X else np.zeros((0, len(names))),
            y,
            feature_names=names,
            feature_version=FEATURE_VERSION,
            C=C,
            training=training,
            units=units.pop(),
            weights=feature_weights(names),
        )
    except ConfigError as exc:  # e.g. one species only: name the training stores
        raise ConfigError(f"{', '.join(str(s) for s in stores)}: {exc}") from None
