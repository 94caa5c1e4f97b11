"""A classification written into stores (:func:`write_classifications`, for
:func:`~ecoseg.species.classify.classify`): each track no person named gets the model's
species and probability (:func:`label_track`; below the threshold ``unknown``, the guess
kept as ``class_suggestion``), with the calibration its features were measured with, as
one undoable entry of each store's edit log (``kind="classify"``).
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime

import pandas as pd

from ecoseg.measure.calibration import warn_if_replaced
from ecoseg.measure.regions import class_source_of as class_source
from ecoseg.species._classify_warnings import lost_name, warn_narrower
from ecoseg.species._review_queue import queue_table
from ecoseg.species.edits import named_by_person
from ecoseg.species.features import FEATURE_VERSION
from ecoseg.species.model import SpeciesModel

__all__ = ["label_track", "write_classifications"]


def label_track(obj: dict, cls: str, p: float, threshold: float) -> dict:
    """A copy of the object table entry ``obj`` named ``cls`` by the model with probability
    ``p``: below ``threshold`` ``unknown``, ``cls`` kept as its ``class_suggestion``; unreviewed."""
    obj = dict(obj)
    if p >= threshold:
        obj.update({"class": cls, "class_source": "classified"})
        obj.pop("class_suggestion", None)
    else:
        obj.update({"class": "unknown", "class_source": "unknown", "class_suggestion": cls})
    obj["class_probability"] = float(p)
    obj["reviewed"] = False
    return obj


def write_classifications(
    named: list,
    fitted: SpeciesModel,
    model_hash: str,
    threshold,
    *,
    calibration,
    uncalibrated: bool,
    keep_visual: bool,
    model_file,
) -> tuple[list[pd.DataFrame], list[str], list[str]]:
    """Write the classification of each store of ``named`` (a store, its track features and
    each track's best species and probability, by id) into its object table, with the
    calibration its features were measured with (``calibration``; ``uncalibrated``: cleared),
    as one undoable entry of its edit log; the arguments as
    :func:`~ecoseg.species.classify.classify` was given them (``model_hash``: the model's
    SHA-256). Tracks a person named are not changed.

    Returns
    -------
    tuple
        Each store's tracks as a table (:func:`~ecoseg.species._review_queue.queue_table`),
        the stores where a track's entry or the stored calibration changed, and those of them
        where only the calibration did.

    Warns
    -----
    NarrowerModelWarning
        Once per store where tracks an earlier classification or discovery's colour rules
        named lose names the model does not know.
    CalibrationReplacedWarning
        ``calibration`` replaces another calibration stored.
    """
    from ecoseg.species.review import open_for_edit, read_meta, record_classification

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
            objects, lost = [], Counter()  # lost: earlier guesses this model cannot give
            for obj in meta["objects"]:
                oid = int(obj["id"])
                # a guess, or nobody's (kept: a concept's track no person named, ``visual``)
                keep = keep_visual and class_source(obj) == "concept"
                if oid in best and not named_by_person(obj) and not keep:
                    gone = lost_name(obj, fitted)
                    if gone is not None:
                        lost[gone] += 1
                    obj = label_track(obj, *best[oid], float(threshold))
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
            warn_narrower(feats.store, fitted, lost)
            if entry is not None:
                changed.append(str(feats.store))
                if not entry["ids"]:
                    calibration_only.append(str(feats.store))
        frames.append(queue_table(str(feats.store), objects, set(best)))
    return frames, changed, calibration_only
