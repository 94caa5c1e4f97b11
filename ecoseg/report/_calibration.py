"""Saving a study's calibration of a video into the study's own store of it, said once: the
one function of ``ecoseg study`` (before a video is classified and measured, and when it keeps
a video's tables) and of ``ecoseg report --study`` (before it measures a study's store). It
lives here, below :mod:`ecoseg.study`, because the report never imports the study package;
so does :func:`recorded_calibration`, the report's reading of the study manifest's record
(:mod:`ecoseg.study.manifest` names its file with :data:`MANIFEST`), which tells the study's
own earlier calibration from one set by hand, for both alike, and
:func:`recorded_classification`, its record of the study's last classification of a store
(which a report's steps need where that classification logged no entry).
:func:`calibration_set_by_hand` says, without writing, what a run would replace (for ``ecoseg
study --check``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecoseg.errors import CalibrationError

__all__ = [
    "MANIFEST",
    "calibration_set_by_hand",
    "recorded_calibration",
    "recorded_classification",
    "save_study_calibration",
]

#: The study manifest's file name in a study's output folder (:mod:`ecoseg.study.manifest`).
MANIFEST = "ecoseg-study.json"


def recorded_calibration(output: str | Path, name: str) -> dict | None:
    """The study manifest's record (in the study's ``output`` folder) of the calibration of
    video ``name``'s last measurement, as ``ecoseg study`` hands it to
    :func:`save_study_calibration` (``recorded``); ``None`` when there is none: not measured,
    no manifest, or one that does not read (a calibration stored then counts as set by hand).

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> cal = {"spec": 0.2, "mm_per_px": 0.2, "method": "scale"}
    >>> doc = {"videos": {"a": {"measure": {"inputs": {"calibration": cal}}}}}
    >>> _ = (out / MANIFEST).write_text(json.dumps(doc))
    >>> recorded_calibration(out, "a")["mm_per_px"], recorded_calibration(out, "b")
    (0.2, None)
    """
    record = (_measure_record(output, name).get("inputs") or {}).get("calibration")
    return record if isinstance(record, dict) else None


def recorded_classification(output: str | Path, name: str) -> dict | None:
    """The study manifest's record (in the study's ``output`` folder) of the classification
    the study's last measurement of video ``name`` made: ``model_sha256``, ``calibration``
    (the store's, as a classification records it) and ``edits``, the number of entries in
    the store's edit log after it. ``None`` when that measurement did not classify (``ecoseg
    study --no-classify``, no ``species_model``), or there is none, or the manifest is an
    older ecoseg's or does not read.

    A classification logs an entry only where it changed a track's entry (or the store's
    calibration); this record says that the study did classify where it logged none.

    Examples
    --------
    >>> import json, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp())
    >>> made = {"model_sha256": "ab12", "calibration": None, "edits": 2}
    >>> doc = {"videos": {"a": {"measure": {"classified": made}}, "b": {"measure": {}}}}
    >>> _ = (out / MANIFEST).write_text(json.dumps(doc))
    >>> recorded_classification(out, "a")["edits"], recorded_classification(out, "b")
    (2, None)
    """
    record = _measure_record(output, name).get("classified")
    return record if isinstance(record, dict) else None


def _measure_record(output: str | Path, name: str) -> dict:
    """The study manifest's record of video ``name``'s last measurement (empty: none, no
    manifest, or one that does not read)."""
    import json

    try:
        record = json.loads((Path(output) / MANIFEST).read_text())["videos"][name]["measure"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return record if isinstance(record, dict) else {}


def save_study_calibration(
    store: str | Path,
    name: str,
    calibration: Any,
    recorded: dict | None = None,
    log: Callable[[str], None] | None = None,
) -> None:
    """Save a study's ``calibration`` of video ``name`` (a
    :class:`~ecoseg.measure.calibration.Calibration`; ``None``: in pixels, clear it) into
    its ``store``, as :func:`ecoseg.measure.measure` would save it (refused when its points
    fall outside the store's frame; a plain mm per pixel equal to the stored one's keeps how
    that was measured), and say it once when it replaces another calibration stored there:

    - one the study did not save (``recorded``, the study manifest's record of the
      calibration of the video's last measurement, says otherwise, or there is none: set by
      hand with ``ecoseg measure`` or ``ecoseg classify --calibration``, or in napari): the
      :class:`~ecoseg.errors.CalibrationReplacedWarning` of ``ecoseg measure``
      (:func:`~ecoseg.measure.calibration.warn_if_replaced`), since that calibration is lost;
    - the study's own of its last measurement (its study file's calibration changed since):
      the progress line ``measure NAME: calibration NEW replaces the study's own OLD, as the
      study file now gives it`` through ``log``, not a warning, since the study file asked
      for it.

    Nothing changes (and the store is not opened for writing) when it holds that calibration.

    Examples
    --------
    >>> import warnings
    >>> from ecoseg.measure.calibration import Calibration
    >>> from ecoseg.store import MaskStore
    >>> store = MaskStore.create("memory://doc-study-cal", height=2, width=2, overwrite=True)
    >>> Calibration.from_scale(0.3).save(store)  # set by hand
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     save_study_calibration(store.path, "a", Calibration.from_scale(0.2))
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    memory://doc-study-cal: the calibration 0.2 mm/px (scale) replaces the stored 0.3 mm/px ...
    >>> study_own = {"mm_per_px": 0.2, "method": "scale"}
    >>> save_study_calibration(store.path, "a", Calibration.from_scale(0.25), study_own, print)
    measure a: calibration 0.25 mm/px (scale) replaces the study's own 0.2 mm/px (scale), as \
the study file now gives it
    """
    from ecoseg.measure.calibration import Calibration, warn_if_replaced
    from ecoseg.measure.regions import save_calibration
    from ecoseg.store import MaskStore

    with MaskStore.open(store) as reader:
        stored = Calibration.load(reader)
        if calibration is not None:  # as measure refuses it, before anything is written
            calibration.check_frame(reader.width, reader.height, reader.path)
    new = None if calibration is None else calibration.saved_over(stored)
    if (None if new is None else new.to_dict()) == (None if stored is None else stored.to_dict()):
        return  # nothing changes (and nothing is opened for writing)
    with MaskStore.open(store, mode="a") as writer:
        if stored is not None:
            ours = _as_dict(_study_own(recorded, stored))
            if ours == stored.to_dict() and log is not None:
                log(
                    f"measure {name}: calibration {new or 'none (pixels)'} replaces the "
                    f"study's own {stored}, as the study file now gives it"
                )
            else:
                warn_if_replaced(writer, new)
        save_calibration(writer, new)


def calibration_set_by_hand(
    store: str | Path, calibration: Any, recorded: dict | None = None
) -> str | None:
    """What ``ecoseg study --check`` says of a study's ``store`` whose calibration was set by
    hand since the study saved its own there (``recorded``: the manifest's record of the
    calibration of the video's last measurement; ``calibration``: the study's now, a
    :class:`~ecoseg.measure.calibration.Calibration` or ``None`` for pixels), which a run
    replaces with the study's (:func:`save_study_calibration`): one line naming the store and
    both calibrations; ``None`` when the store holds the study's own (or what a run will save
    there anyway). Nothing is written.

    Examples
    --------
    >>> from ecoseg.measure.calibration import Calibration
    >>> from ecoseg.store import MaskStore
    >>> store = MaskStore.create("memory://doc-study-hand", height=2, width=2, overwrite=True)
    >>> study_own = {"mm_per_px": 0.2, "method": "scale"}
    >>> Calibration.from_scale(0.2).save(store)  # as the study saved it
    >>> print(calibration_set_by_hand(store.path, Calibration.from_scale(0.2), study_own))
    None
    >>> Calibration.from_scale(0.3).save(store)  # set by hand
    >>> print(calibration_set_by_hand(store.path, Calibration.from_scale(0.2), study_own))
    memory://doc-study-hand: its calibration 0.3 mm/px (scale) was set by hand since the study \
saved 0.2 mm/px (scale) there; a run will put the study's 0.2 mm/px (scale) back
    """
    from ecoseg.measure.calibration import Calibration
    from ecoseg.store import MaskStore

    with MaskStore.open(store) as reader:
        stored, where = Calibration.load(reader), reader.path
    new = None if calibration is None else calibration.saved_over(stored)
    ours = _study_own(recorded, stored)
    if _as_dict(new) == _as_dict(stored) or _as_dict(ours) == _as_dict(stored):
        return None  # nothing a run changes, or the study's own (its file changed since)
    return (
        f"{where}: its calibration {stored or 'none (pixels)'} was set by hand since the study "
        f"saved {ours or 'none (pixels)'} there; a run will put the study's "
        f"{new or 'none (pixels)'} back"
    )


def _study_own(recorded: dict | None, stored: Any) -> Any:
    """What the study saved at its last measurement (``recorded``), as it saved it over
    ``stored``; ``None``: none (pixels), or a record of no calibration."""
    from ecoseg.measure.calibration import Calibration

    try:
        return Calibration.from_dict(recorded).saved_over(stored)
    except (CalibrationError, TypeError):
        return None


def _as_dict(calibration: Any) -> dict | None:
    return None if calibration is None else calibration.to_dict()
