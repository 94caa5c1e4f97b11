"""Train a species model from reviewed tracks and name the unreviewed tracks of stores.

:func:`train_model` fits a :class:`~ecoseg.species.model.SpeciesModel` on the reviewed tracks of
one or more stores; :func:`classify` writes, for every track no person has named, the most
probable species and its probability into the store's object table
(``class_source="classified"``). A track whose probability is below ``threshold`` stays
``unknown`` (``class_source="unknown"``, the best guess kept as ``class_suggestion``) and comes
first in :func:`review_queue`, so the next round of review goes where the model is least sure.

Tracks named by a person (``reviewed``, a class typed with the prompt, a concept's name:
:func:`~ecoseg.species.edits.named_by_person`) are never changed; classes from discovery's
colour rules (``class_source="rule"``), from an earlier classification and from a concept of
exemplars alone (class ``visual``: no name was typed) are replaced. Each classification of a
store is one entry of its edit log (``kind="classify"``), so ``ecoseg edit STORE --undo``
restores the classes it replaced, and the calibration a ``--calibration`` saved with it. A
model that does not know species an earlier classification named says so
(:class:`NarrowerModelWarning`): those tracks lose their names because it cannot give them.
"""

from __future__ import annotations

import hashlib
import json
import numbers
import os
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from ecoseg._cancel import check_cancel
from ecoseg._checks import check_path_arg
from ecoseg._paths import check_distinct_stores, check_outside_store
from ecoseg._warn import warn
from ecoseg.errors import ClassNameWarning, ConfigError
from ecoseg.measure.calibration import is_uncalibrated, parse_calibration, warn_if_replaced
from ecoseg.measure.regions import class_source_of as class_source
from ecoseg.provenance import case_clashes, clean_class_name
from ecoseg.species.edits import named_by_person
from ecoseg.species.features import (
    FEATURE_VERSION,
    TrackFeatures,
    feature_weights,
    store_feature_names,
    track_features,
)
from ecoseg.species.model import (
    FEW_TRACKS,
    ModelError,
    SpeciesModel,
    SpeciesModelWarning,
    check_model_output,
    model_file_path,
    recorded_model_name,
    scale_ratio,
)

__all__ = [
    "NarrowerModelWarning",
    "check_feature_version",
    "check_model_fits",
    "classify",
    "review_queue",
    "store_sha256",
    "train_model",
    "training_rows",
]


class NarrowerModelWarning(UserWarning):
    """A classification renames tracks an earlier classification named with species the new
    model does not know: they lose those names because the model cannot give them, not
    because it decided otherwise (printed by the CLI as one ``ecoseg: warning:`` line; ``ecoseg
    edit STORE --undo`` gives them back)."""


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


def check_feature_version(fitted: SpeciesModel, model="model") -> None:
    """Refuse a species model trained on track features of another version than this
    ecoseg computes, from the model alone (``ecoseg study --check`` before any store is made).

    Parameters
    ----------
    fitted : SpeciesModel
        The model.
    model : str or Path
        The model as the refusal names it (its file).

    Raises
    ------
    ModelError
        Naming ``model`` and both versions.

    Examples
    --------
    >>> m = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["x"],
    ...                      feature_version=FEATURE_VERSION + 1)
    >>> check_feature_version(m, "species.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.species.model.ModelError: species.json: trained on track features of version 2, ...
    """
    if fitted.feature_version != FEATURE_VERSION:
        raise ModelError(
            f"{model}: trained on track features of version {fitted.feature_version}, this "
            f"ecoseg computes version {FEATURE_VERSION}; re-train it with this ecoseg"
        )


def check_model_fits(fitted: SpeciesModel, store, calibration=None, model="model") -> None:
    """Refuse a species model that cannot name the tracks of ``store`` for what the model
    and the store alone say, before a track feature is measured or anything is written: a
    model of another feature version than this ecoseg's (:func:`check_feature_version`), one
    whose sizes are in other units than the store's will be (mm for a calibrated store, px
    for one without), one of other features than the store's (network embeddings in one
    only: :func:`~ecoseg.species.features.store_feature_names`; both
    :meth:`~ecoseg.species.model.SpeciesModel.check_features`), or, in pixels, one of frames
    of another scale (:meth:`~ecoseg.species.model.SpeciesModel.check_frame`).
    :func:`classify` checks every store with it before measuring any, and ``ecoseg study``
    before it saves a video's calibration into its store, so a refused run leaves the store
    as it was.

    Parameters
    ----------
    fitted : SpeciesModel
        The model.
    store : MaskStore, str or Path
        The store it would name the tracks of.
    calibration : dict, optional
        The calibration its features will be measured with (``Calibration.to_dict()``);
        ``{}``: none, in pixels; default: the store's own.
    model : str or Path
        The model as the refusal of another feature version names it (its file).

    Raises
    ------
    ModelError
        Naming the model (another feature version) or the store (other units, other
        features, frames of another scale).

    Examples
    --------
    >>> from ecoseg.species.features import FEATURE_NAMES
    >>> from ecoseg.store import MaskStore
    >>> store = MaskStore.create("memory://doc-fits", height=2, width=2, overwrite=True)
    >>> X = np.eye(2, len(FEATURE_NAMES))
    >>> m = SpeciesModel.fit(X, ["a", "b"], feature_names=FEATURE_NAMES, units="mm",
    ...                      feature_version=FEATURE_VERSION)
    >>> check_model_fits(m, store, {"mm_per_px": 0.5, "method": "scale"})
    >>> check_model_fits(m, store)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.species.model.ModelError: memory://doc-fits: the model was trained on calibrated ...
    >>> m = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["emb_0"], units="mm",
    ...                      feature_version=FEATURE_VERSION)
    >>> check_model_fits(m, store, {"mm_per_px": 0.5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.species.model.ModelError: memory://doc-fits: the store's track features (...) are ...
    """
    from ecoseg.store import opened_store

    check_feature_version(fitted, model)
    with opened_store(store) as s:  # the names and units as track_features will give them
        cal = (s.calibration if calibration is None else calibration) or {}
        units = "mm" if cal.get("mm_per_px") else "px"
        fitted.check_features(store_feature_names(s), FEATURE_VERSION, str(s.path), units)
        if units == "px":
            fitted.check_frame(int(s.width), int(s.height), str(s.path))


def _as_list(items) -> list:
    if items is None:
        return []
    if isinstance(items, str | os.PathLike) or not isinstance(items, Sequence):
        return [items]
    return list(items)


def _videos(videos, n: int, option: str = "videos (--video)") -> list:
    """One video (or None) per store of ``n``; ``option``: the caller's keyword, spelled
    ``keyword (--flag)`` (the CLI says the flag alone).

    Examples
    --------
    >>> _videos(["a.mp4", "b.mp4", "c.mp4"], 2, "train_videos (--train-video)")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: train_videos (--train-video): 3 videos given for 2 stores ...
    """
    videos = _as_list(videos)
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
    return _train_model(stores, videos, samples, C, progress, "videos", "--video")


def _train_model(
    stores, videos, samples, C, progress, keyword: str, flag: str, cancel=None
) -> SpeciesModel:
    """:func:`train_model`, naming the keyword that gives the videos (``keyword``, ``flag``:
    a caller's own, :func:`classify`'s ``train_videos`` and ``--train-video``) when their
    number is not the stores' or one is not found."""
    X, y, names, training, units, where = [], [], None, [], set(), []
    stores = _as_list(stores)
    video_option = f"{keyword}=... ({flag} PATH)"
    for store, video in zip(stores, _videos(videos, len(stores), f"{keyword} ({flag})")):
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
    _warn_few(y, stores)
    for group in case_clashes(y):  # two classes of the model for what is likely one species
        warn(
            f"{', '.join(str(s) for s in stores)}: reviewed class names "
            f"{' and '.join(repr(g) for g in group)} differ only in letter case and train "
            f"{len(group)} species; if they are one, name their tracks alike (ecoseg edit "
            "STORE --set-class ID=NAME)",
            ClassNameWarning,
        )
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


def _warn_few(labels: list[str], stores: list) -> None:
    """Warn of species learnt from fewer than FEW_TRACKS reviewed tracks (two species at least
    are checked by the fit)."""
    counts = Counter(labels)
    few = sorted(c for c, n in counts.items() if n < FEW_TRACKS)
    if len(counts) < 2 or not few:
        return
    listed = ", ".join(f"{c} {counts[c]}" for c in few)
    warn(
        f"{', '.join(str(s) for s in stores)}: species with fewer than {FEW_TRACKS} reviewed "
        f"tracks ({listed}): the model names them, but its probabilities overstate what it "
        "learnt from so few; review more tracks of each (ecoseg edit STORE --set-class ID=NAME)",
        SpeciesModelWarning,
    )


def _warn_unknown_species(model: SpeciesModel, feats: TrackFeatures) -> None:
    """Warn when a store's reviewed tracks name a species the model does not know: its other
    tracks get the name of a species the model knows."""
    known = set(model.classes)
    missing: dict[str, int] = {}
    for oid, cls, rev in zip(feats.ids, feats.classes, feats.reviewed):
        if rev and cls != "unknown" and cls not in known:
            missing.setdefault(cls, int(oid))
    if not missing:
        return
    listed = ", ".join(f"{c!r} (track {t})" for c, t in sorted(missing.items()))
    warn(
        f"{feats.store}: its reviewed tracks name {listed}, which the model does not know (it "
        f"names {', '.join(model.classes)}): unreviewed tracks of "
        f"{'that species' if len(missing) == 1 else 'those species'} get one of its names; "
        f"train on this store too (--train {feats.store})",
        SpeciesModelWarning,
    )


def _warn_narrower(store, model: SpeciesModel, lost: Counter) -> None:
    """Warn when tracks an earlier classification named (``lost``: their count by class) lose
    names the model does not know."""
    n = sum(lost.values())
    if not n:
        return
    it = "them" if n > 1 else "it"
    if len(lost) == 1:
        named = f"the name {next(iter(lost))!r} an earlier classification gave {it}, a species"
    else:
        listed = ", ".join(f"{c!r} ({k})" for c, k in sorted(lost.items()))
        named = f"the names {listed} an earlier classification gave them, species"
    warn(
        f"{store}: {n} track{'s' * (n > 1)} lose{'s' * (n == 1)} {named} the model does not "
        f"know (it names {', '.join(model.classes)}); ecoseg edit {store} --undo gives {it} back",
        NarrowerModelWarning,
    )


def _label(obj: dict, cls: str, p: float, threshold: float) -> dict:
    obj = dict(obj)
    if p >= threshold:
        obj.update({"class": cls, "class_source": "classified"})
        obj.pop("class_suggestion", None)
    else:
        obj.update({"class": "unknown", "class_source": "unknown", "class_suggestion": cls})
    obj["class_probability"] = float(p)
    obj["reviewed"] = False
    return obj


def classify(
    stores,
    *,
    train: Sequence | str | os.PathLike | None = None,
    model: SpeciesModel | str | os.PathLike | None = None,
    save_model: str | os.PathLike | None = None,
    threshold: float = 0.5,
    videos=None,
    train_videos=None,
    samples: int = 8,
    overwrite: bool = False,
    progress: bool = False,
    keep_visual: bool = False,
    model_sha256: str | None = None,
    calibration=None,
    model_bytes: bytes | None = None,
    model_file: str | None = None,
    cancel=None,
) -> pd.DataFrame:
    """Name the unreviewed tracks of ``stores`` with a model trained on reviewed tracks.

    Parameters
    ----------
    stores : path or sequence of paths
        Stores to classify (written in place: the object table only).
    train : path or sequence of paths, optional
        Stores whose reviewed tracks train the model (may include ``stores``).
    model : SpeciesModel or path, optional
        A saved model instead of (or, with ``train``, never together with) training;
        ``"ecoseg:species_model.json"`` (:data:`~ecoseg.species.model.SHIPPED_MODEL`) is the
        model ecoseg ships, which a classification's record names so by whatever path it was
        given (its path is of one machine only).
    save_model : path, optional
        Write the trained model there (JSON; refuses to replace a file unless ``overwrite``).
    threshold : float
        Tracks whose best probability is below it stay ``unknown`` (0 names every track).
    videos, train_videos : path or sequence, optional
        Videos of ``stores`` and ``train`` (default: from each store's provenance).
    samples : int
        Frames per track whose colours are measured.
    overwrite : bool
        Replace ``save_model`` if it exists.
    progress : bool
        Show progress bars.
    keep_visual : bool
        Leave the tracks of a concept of exemplars alone (class ``visual``) as they are, as
        ``classify`` did before it named them (``ecoseg classify --keep-visual``): for
        replaying an old edit log (:func:`ecoseg.species.review.kept_visual`). The store's
        classification record says which was done (``names_visual``).
    model_sha256 : str, optional
        The SHA-256 the model must record of itself (the one a classification's record
        names, ``ecoseg classify --model-sha256``): a substitute file of another model is
        refused before any store is read (a report's reproduce steps give it).
    calibration : Calibration, str or float, optional
        Measure the tracks' sizes and speeds with this calibration (a
        :class:`~ecoseg.measure.calibration.Calibration` or an ``ecoseg measure
        --calibration`` spec), saved into each store with its classification, as a study
        saves its calibration before it classifies (default: each store's own); one that
        replaces another stored warns as :func:`ecoseg.measure` does
        (:func:`~ecoseg.measure.calibration.warn_if_replaced`; the stored mm per pixel as a
        number too: it is saved as given, not kept as measure keeps it). Each
        classification's record keeps the calibration it measured with (``calibration``), so
        a report's steps make it again with it (``ecoseg classify --calibration``).
        ``"none"`` measures in pixels and clears the stores' calibrations (recorded as
        none), as a study with no calibration leaves its stores: the step that replays a
        classification made uncalibrated on a store made again with a calibration.
    model_bytes : bytes, optional
        The contents of the file ``model`` when the caller has read them already (a study
        hashes them first): the file is not read again.
    model_file : str, optional
        How each classification's record names the model file (``model_file``), in place of
        ``model`` as given: a study names its ``species_model`` relative to the study's folder,
        where its report's steps run, so a study folder moved or shared still names it.
    cancel : threading.Event or callable, optional
        Once set (from another thread), the track features being measured (of a training
        store or a store to classify) stop before the next chunk of masks or video frame
        and :class:`~ecoseg.errors.Cancelled` is raised, naming the store and the frame.
        Nothing is written then (no store's classes, calibration or edit log, no
        ``save_model``): every store is named before any is written, so the same call again
        classifies as an uninterrupted one. Set once the stores are being written, it is
        not looked at: they are written, all of them.

    Returns
    -------
    pandas.DataFrame
        One row per track of each store: ``store``, ``object_id``, ``class``,
        ``class_probability``, ``class_source``, ``class_suggestion`` (the best guess, also
        below the threshold), ``reviewed``; least confident first over all stores.
        ``attrs``: ``model_sha256``, ``stores`` (every store given) and ``changed`` (those
        where a track's entry or the stored calibration changed: only these get an undoable
        edit-log entry, whose undo gives both back) and ``calibration_only`` (those of
        ``changed`` where no track's entry changed: the entry saved the calibration alone).

    Raises
    ------
    ConfigError
        No store to classify, neither or both of ``train`` and ``model``, a threshold
        outside [0, 1], too few species among the reviewed tracks.
    StoreError
        A store (or training store) is missing or malformed, or an interrupted ``ecoseg edit``
        left it half written (:func:`ecoseg.store.check_finished`); nothing is trained, saved
        or written then.
    ModelError
        The model file is tampered with, foreign, made for other features, or not the model
        of ``model_sha256``.
    Cancelled
        ``cancel`` was set while the track features were measured (see ``cancel``).

    Warns
    -----
    NarrowerModelWarning
        Once per store where tracks an earlier classification named lose names the model
        does not know (naming the species, the number of tracks and ``ecoseg edit STORE
        --undo``, which gives them back).
    SpeciesModelWarning
        Species learnt from few reviewed tracks, or a store's reviewed tracks naming a
        species the model does not know.
    CalibrationReplacedWarning
        ``calibration`` replaces another calibration stored (see ``calibration``).

    Examples
    --------
    >>> import numpy as np, tempfile
    >>> from ecoseg.store import MaskStore
    >>> from ecoseg.species.review import apply_edits
    >>> from ecoseg.species.edits import Edit
    >>> img = np.zeros((3, 8, 24, 3), np.uint8)
    >>> lab = np.zeros((3, 8, 24), np.uint32)
    >>> for oid, x, rgb in ((1, 2, (220, 60, 40)), (2, 14, (40, 60, 220)), (3, 8, (210, 70, 50))):
    ...     img[:, 2:6, x:x + 4], lab[:, 2:6, x:x + 4] = rgb, oid
    >>> path = tempfile.mkdtemp() + "/m.zarr"
    >>> with MaskStore.create(path, height=8, width=24,
    ...                       objects=[(i, "unknown", "tracker") for i in (1, 2, 3)]) as s:
    ...     s.append(lab, [0.0, 0.1, 0.2])
    >>> _ = apply_edits(path, [Edit("set_class", (1,), cls="red"),
    ...                        Edit("set_class", (2,), cls="blue")])
    >>> out = classify(path, train=path, videos=[img], train_videos=[img])
    >>> out[["object_id", "class", "class_source"]].values.tolist()
    [[3, 'red', 'classified'], [1, 'red', 'reviewed'], [2, 'blue', 'reviewed']]
    """
    from ecoseg.species.review import open_for_edit, read_meta, record_classification
    from ecoseg.store import check_finished, opened_store

    check_cancel(cancel, "classify")
    if not _as_list(stores):  # before training (and --save-model): an empty table said nothing
        raise ConfigError("classify: no stores to classify (give at least one store)")
    if (train is None) == (model is None):
        raise ConfigError("give either training stores (--train) or a model file (--model)")
    # any real number (np.float32 from an array too), not text or a bool
    if (
        isinstance(threshold, bool | np.bool_)
        or not isinstance(threshold, numbers.Real)
        or not 0.0 <= float(threshold) <= 1.0
    ):
        raise ConfigError(
            f"threshold (--threshold) must be a probability in [0, 1], got {threshold!r}"
        )
    if model is not None and not isinstance(model, SpeciesModel):
        check_path_arg(model, "classify: model", "a species model file or a SpeciesModel")
    if save_model is not None:
        check_path_arg(save_model, "classify: save_model", "a path to the model file to write")
    if model_sha256 is not None and not _is_sha256(model_sha256):
        raise ConfigError(
            f"model_sha256 (--model-sha256) must be 64 hexadecimal digits, got {model_sha256!r}"
        )
    # "none": in pixels, the stores' calibrations cleared (a report's step for a
    # classification recorded uncalibrated, on a store made again with one)
    uncalibrated = is_uncalibrated(calibration)
    if uncalibrated:
        calibration = None
    elif calibration is not None and not hasattr(calibration, "to_dict"):
        calibration = parse_calibration(calibration)
    measured_with = calibration.to_dict() if calibration is not None else None
    if uncalibrated:
        measured_with = {}  # no mm per pixel: not the store's own
    stores = _as_list(stores)
    check_distinct_stores(stores, "classify")  # each would be classified (and logged) twice
    store_videos = _videos(videos, len(stores))  # before training (and --save-model)
    for store in [*stores, *_as_list(train)]:  # named before training and saving the model
        with opened_store(store) as opened:  # missing, or half rewritten by an interrupted edit
            check_finished(opened)
            if calibration is not None and store in stores:  # saved into it: refused as
                calibration.check_frame(opened.width, opened.height, opened.path)  # measure
    if save_model is not None:
        check_model_output(save_model, overwrite)  # before any training
        for store in [*stores, *_as_list(train)]:  # not among a store's chunks
            check_outside_store(save_model, store, "--save-model")
    if model is None:
        fitted = _train_model(
            train, train_videos, samples, 1.0, progress, "train_videos", "--train-video", cancel
        )
    elif isinstance(model, SpeciesModel):
        fitted = model
    else:
        fitted = SpeciesModel.load(model_file_path(model), model_bytes)
    where = model if model is not None and not isinstance(model, SpeciesModel) else "model"
    for store in stores:  # before hours of features: what the model and the store say
        check_model_fits(fitted, store, measured_with, where)
    model_hash = fitted.to_dict()["sha256"]
    if model_file is None:  # the file it read (or saved), as given; the shipped model by name
        model_file = (
            save_model if model is None else None if isinstance(model, SpeciesModel) else model
        )
        model_file = None if model_file is None else recorded_model_name(model_file)
    if model_sha256 is not None and model_hash != model_sha256.lower():
        raise ModelError(
            f"{where}: the species model of SHA-256 {model_hash}, expected {model_sha256.lower()}"
            " (another model than the one asked for; nothing was classified)"
        )
    named = []  # every store checked and named before any is written: all or nothing
    for store, video in zip(stores, store_videos):
        feats = track_features(
            store,
            video,
            samples=samples,
            progress=progress,
            video_option="videos=... (--video PATH)",
            calibration=measured_with,
            cancel=cancel,
        )
        fitted.check_features(feats.names, FEATURE_VERSION, str(feats.store), feats.units)
        _warn_unknown_species(fitted, feats)
        names, probs = fitted.predict(feats.values)
        named.append(
            (store, feats, {int(i): (c, float(p)) for i, c, p in zip(feats.ids, names, probs)})
        )
    if save_model is not None:  # once every store is named: a refused store saves nothing
        fitted.save(save_model, overwrite=overwrite)
    frames, changed, calibration_only = [], [], []
    for store, feats, best in named:
        with open_for_edit(store) as s:
            calibration_before = s.calibration  # an undo of the classification puts it back
            # the one its features were measured with; another stored is replaced, said as
            # `ecoseg measure` says it (its own mm/px typed back too: a replay's record
            # must be the calibration typed, so it is not kept as measure keeps it)
            if calibration is not None:
                warn_if_replaced(s, calibration)
                calibration.save(s)
            elif uncalibrated and s.calibration:
                warn_if_replaced(s, None)
                s.calibration = None
            meta = read_meta(s)
            objects, lost = [], Counter()  # lost: earlier classes this model cannot give
            for obj in meta["objects"]:
                oid = int(obj["id"])
                # a guess, or nobody's (kept: a concept's track no person named, ``visual``)
                keep = keep_visual and class_source(obj) == "concept"
                if oid in best and not named_by_person(obj) and not keep:
                    if class_source(obj) == "classified" and obj["class"] not in fitted.classes:
                        lost[obj["class"]] += 1
                    obj = _label(obj, *best[oid], float(threshold))
                objects.append(obj)
            record = {
                "model_sha256": model_hash,
                "classes": list(fitted.classes),
                "threshold": float(threshold),
                "feature_version": FEATURE_VERSION,
                # whether tracks of a concept of exemplars alone were named: a record without
                # it is of a classify before they were (a replay keeps them, ``kept_visual``)
                "names_visual": not keep_visual,
                # the calibration its features were measured with (None: in pixels), so a
                # replay measures them alike (a study's may have changed since)
                "calibration": s.calibration or None,
                # the file it read (or saved), as given (or ``model_file``): a report's steps
                # name it while it is still that model (:func:`ecoseg.report.reproduce.reproduce`)
                **({"model_file": os.fspath(model_file)} if model_file is not None else {}),
                "time": datetime.now(UTC).isoformat(timespec="seconds"),
            }
            # one undoable entry, the calibration it saved included
            entry = record_classification(s, objects, record, calibration_before)
            _warn_narrower(feats.store, fitted, lost)
            if entry is not None:
                changed.append(str(feats.store))
                if not entry["ids"]:
                    calibration_only.append(str(feats.store))
        frames.append(_queue(str(feats.store), objects, set(best)))
    out = pd.concat(frames, ignore_index=True) if frames else _queue("", [], set())
    out = _least_confident_first(out)  # over all stores
    out.attrs["model_sha256"] = model_hash
    out.attrs["stores"] = [str(feats.store) for _, feats, _ in named]  # also those without tracks
    out.attrs["changed"] = changed  # stores with an edit-log entry (tracks or calibration)
    out.attrs["calibration_only"] = calibration_only  # of those, where no track's entry did
    return out


def _is_sha256(text) -> bool:
    """Whether ``text`` is a SHA-256 in hex (64 digits, either case)."""
    return (
        isinstance(text, str)
        and len(text) == 64
        and all(c in "0123456789abcdef" for c in text.lower())
    )


def _queue(store: str, objects: list[dict], present: set[int]) -> pd.DataFrame:
    rows = []
    for o in objects:
        if int(o["id"]) not in present:
            continue
        src = class_source(o)
        p = o.get("class_probability")
        rows.append(
            {
                "store": store,
                "object_id": int(o["id"]),
                "class": clean_class_name(o.get("class")),
                "class_probability": float(p) if p is not None else np.nan,
                "class_source": src,
                "class_suggestion": clean_class_name(o.get("class_suggestion") or o.get("class")),
                "reviewed": bool(o.get("reviewed", False)),
            }
        )
    df = pd.DataFrame(
        rows,
        columns=[
            "store",
            "object_id",
            "class",
            "class_probability",
            "class_source",
            "class_suggestion",
            "reviewed",
        ],
    )
    return _least_confident_first(df)


def _least_confident_first(df: pd.DataFrame) -> pd.DataFrame:
    """Unreviewed before reviewed, then by probability, stable. No probability counts as 0
    (a track nobody named, a concept's match), except for a class a person typed with the
    prompt, which counts as 1 (as in the tables): it came first, above every model's guess,
    so the queue's head asked the reviewer to check the names they had typed themselves."""
    typed = (df["class_source"] == "prompt").to_numpy()
    p = df["class_probability"].to_numpy(np.float64)
    p = np.where(np.isnan(p), np.where(typed, 1.0, 0.0), p)
    key = p + 2.0 * df["reviewed"].to_numpy()
    return df.iloc[np.argsort(key, kind="stable")].reset_index(drop=True)


def review_queue(store) -> pd.DataFrame:
    """The tracks of a store, least confident first (what to review next).

    Raises
    ------
    StoreError
        The store is missing or malformed, or an interrupted ``ecoseg edit`` left it half
        written (:func:`ecoseg.store.check_finished`: its tracks would be listed from half
        rewritten labels).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=3, size=(128, 72))
    >>> review_queue(clip.truth).columns.tolist()[:3]
    ['store', 'object_id', 'class']
    """
    from ecoseg.store import check_finished, opened_store, present_ids

    present: set[int] = set()
    with opened_store(store) as s:
        check_finished(s)  # no queue from half an edit
        n, step = s.n_frames, s.chunk_frames
        for start in range(0, n, step):
            present.update(present_ids(s.read_labels(start, min(start + step, n))).tolist())
        return _queue(str(s.path), s.objects, present)
