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
model that does not know species an earlier classification or the colour rules named says so
(:class:`NarrowerModelWarning`): those tracks lose their names because it cannot give them.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Sequence

import numpy as np
import pandas as pd

from ecoseg._cancel import check_cancel
from ecoseg._checks import check_path_arg
from ecoseg._paths import check_distinct_stores, check_outside_store
from ecoseg.errors import ConfigError
from ecoseg.measure.calibration import is_uncalibrated, parse_calibration
from ecoseg.species._classify_warnings import NarrowerModelWarning, warn_unknown_species
from ecoseg.species._classify_write import write_classifications
from ecoseg.species._model_fits import check_feature_version, check_model_fits
from ecoseg.species._review_queue import least_confident_first, queue_table, review_queue
from ecoseg.species._training import (
    as_list,
    store_sha256,
    train_model,
    train_model_for,
    training_rows,
    videos_for,
)
from ecoseg.species.features import FEATURE_VERSION, track_features
from ecoseg.species.model import (
    ModelError,
    SpeciesModel,
    check_model_output,
    model_file_path,
    recorded_model_name,
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
        Once per store where tracks an earlier classification or discovery's colour rules
        named lose names the model does not know (naming the species, the number of tracks
        and ``ecoseg edit STORE --undo`` or ``ecoseg.Review(STORE).undo()``, which gives
        them back).
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
    from ecoseg.store import check_finished, opened_store

    check_cancel(cancel, "classify")
    if not as_list(stores):  # before training (and --save-model): an empty table said nothing
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
    stores = as_list(stores)
    check_distinct_stores(stores, "classify")  # each would be classified (and logged) twice
    # a training store given twice counted its reviewed tracks twice: surer than it learnt
    check_distinct_stores(as_list(train), "classify --train")
    store_videos = videos_for(videos, len(stores))  # before training (and --save-model)
    for store in [*stores, *as_list(train)]:  # named before training and saving the model
        with opened_store(store) as opened:  # missing, or half rewritten by an interrupted edit
            check_finished(opened)
            if calibration is not None and store in stores:  # saved into it: refused as
                calibration.check_frame(opened.width, opened.height, opened.path)  # measure
    if save_model is not None:
        check_model_output(save_model, overwrite)  # before any training
        for store in [*stores, *as_list(train)]:  # not among a store's chunks
            check_outside_store(save_model, store, "--save-model")
    if model is None:
        fitted = train_model_for(
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
        warn_unknown_species(fitted, feats)
        names, probs = fitted.predict(feats.values)
        named.append(
            (store, feats, {int(i): (c, float(p)) for i, c, p in zip(feats.ids, names, probs)})
        )
    if save_model is not None:  # once every store is named: a refused store saves nothing
        fitted.save(save_model, overwrite=overwrite)
    frames, changed, calibration_only = write_classifications(
        named,
        fitted,
        model_hash,
        threshold,
        calibration=calibration,
        uncalibrated=uncalibrated,
        keep_visual=keep_visual,
        model_file=model_file,
    )
    out = pd.concat(frames, ignore_index=True) if frames else queue_table("", [], set())
    out = least_confident_first(out)  # over all stores
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
