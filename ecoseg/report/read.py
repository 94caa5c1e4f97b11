"""What the report reads: its stores, their tables, the study's metadata and the videos.

:func:`read_video` opens one store (provenance, objects, times) and joins what the study says
about its video; :func:`read_tables` takes the tables given (or measures the stores now) and
puts them in the combined form (a ``video`` column first); :func:`open_reader` opens a video
for stills, if its file is there and matches the store.

``study`` is a loaded study object (:func:`ecoseg.study.load_study`) or ``None``; it is only
read through its attributes (``videos``, ``video(name)``, ``relative(path)``, ``output``,
``path``, ``store_path(video)``), so the report never imports :mod:`ecoseg.study`.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._bundled import bundled_name
from ecoseg._checks import short_repr
from ecoseg._paths import same_location
from ecoseg._store_video import find_video, video_looked_in
from ecoseg.errors import ConfigError, EcosegError
from ecoseg.measure.tables import combine_tables, one_spelling
from ecoseg.provenance import ObjectRecord, Provenance
from ecoseg.report._calibration import recorded_calibration, save_study_calibration

__all__ = [
    "NOT_RECORDED",
    "VideoInfo",
    "is_study_store",
    "open_reader",
    "read_tables",
    "read_video",
    "shown_paths",
    "store_names",
]

#: ``VideoInfo.video_shown`` of a store whose provenance names no video
NOT_RECORDED = "(not recorded)"


def store_names(stores: list[Any]) -> list[str] | None:
    """The names a report gives stores passed as a list (``ecoseg report STORE...``): each
    store's file name without ``.zarr`` (or ``.zip``), or its path without ``.zarr`` where two
    file names are alike; None where two paths still are.

    Examples
    --------
    >>> store_names(["out/north.zarr", "south.zarr"])
    ['north', 'south']
    >>> store_names(["a/masks.zarr", "b/masks.zarr"])
    ['a/masks', 'b/masks']
    """
    names = [_store_name(s) for s in stores]
    if len(set(names)) != len(names):
        names = [str(s).rstrip("/").removesuffix(".zarr") for s in stores]
    return names if len(set(names)) == len(names) else None


def _store_name(path: Any) -> str:
    text = str(path).rstrip("/")
    base = text.rsplit("/", 1)[-1]
    return base.removesuffix(".zarr").removesuffix(".zip") or text


@dataclass
class VideoInfo:
    """One store of the report with what is known about its video."""

    name: str
    store_path: str  # to open
    store_shown: str  # as displayed
    provenance: Provenance
    objects: list[ObjectRecord]
    calibration: dict | None
    ecoseg_version: str
    complete: bool
    n_frames: int
    height: int
    width: int
    times: np.ndarray
    site: str | None = None
    transect: str | None = None
    date: str | None = None
    depth_m: float | None = None
    notes: str | None = None
    video_path: Path | None = None  # to read stills from
    video_shown: str = ""
    #: where a recorded video found nowhere was looked for
    #: (:func:`ecoseg._store_video.video_looked_in`, from where the page's commands run); ""
    #: when found, or not a store's recorded path
    video_looked: str = ""
    calibration_spec: Any = None
    truth: str | None = None
    truth_shown: str | None = None
    pretrained: bool | None = None
    classes: dict = field(default_factory=dict)
    #: the store's edit log (review edits and classifications, oldest first)
    edits: list[dict] = field(default_factory=list)
    #: log numbers of splits an ``ecoseg edit`` of today would make otherwise: made before
    #: ecoseg checked splits, or whose new part kept a name a person gave (replayed
    #: ``--unchecked-split``; :func:`ecoseg.species.review.unchecked_splits`)
    unchecked_splits: list[int] = field(default_factory=list)
    #: log numbers of merges of two names a person gave, made before ``--merge`` refused
    #: them, or made before names were ranked and named otherwise today (replayed
    #: ``--unchecked-merge``; :func:`ecoseg.species.review.refused_merges`)
    refused_merges: list[int] = field(default_factory=list)
    #: log numbers of merges of an older ecoseg that named the merged track as neither
    #: ``--merge`` nor ``--unchecked-merge`` does (replayed ``--merge``, its step says so;
    #: :func:`ecoseg.species.review.unmade_merges`)
    unmade_merges: list[int] = field(default_factory=list)
    #: log numbers of reviewed marks of an ``unknown`` track with a suggestion, made before
    #: ``--reviewed`` refused them (replayed ``--unchecked-reviewed``)
    refused_reviews: list[int] = field(default_factory=list)
    #: log numbers of class names set that differ only in letter case from one left beside
    #: them, given before ``--set-class`` refused them (replayed ``--unchecked-set-class``;
    #: :func:`ecoseg.species.review.refused_names`)
    refused_names: list[int] = field(default_factory=list)
    #: log numbers of classifications that left the tracks of a concept of exemplars alone
    #: (``visual``) unnamed, as before ``classify`` named them (replayed ``--keep-visual``;
    #: :func:`ecoseg.species.review.kept_visual`)
    kept_visual: list[int] = field(default_factory=list)
    #: frames per ``labels`` chunk
    chunk_frames: int = 0
    #: why the video at ``video_path`` is not used for stills, once :func:`open_reader` has
    #: checked it ("" when it is the store's video, ``None`` before the check)
    video_refused: str | None = None
    #: :func:`ecoseg.measure.incomplete_note` of a store whose run did not finish (read with
    #: ``need_frames``), else ``None``: the report warns with it once
    incomplete: str | None = None
    #: the calibration the report measures the study's own store with when no tables are
    #: given (:attr:`study_store`): its study entry's (``None``: in pixels), saved into it
    #: first as ``ecoseg study`` saves it (:func:`~ecoseg.report._calibration.
    #: save_study_calibration`); any other store is measured with its own, nothing written
    measure_calibration: Any = None
    #: the study manifest's record of the calibration of the video's last measurement by
    #: ``ecoseg study`` (:func:`~ecoseg.report._calibration.recorded_calibration`), so one
    #: the study saved is told from one set by hand as the study tells them
    measure_recorded: dict | None = None
    #: why the store is not measured with its study entry's calibration: it is not the
    #: study's store of that video and holds another one (the report changes no store but
    #: the study's); ``None`` when nothing stands in the way
    not_the_studys: str | None = None
    #: whether the store is the study's own store of its video (:func:`is_study_store`), the
    #: one ``ecoseg study`` makes; ``False`` for any other, and without a study
    study_store: bool = False
    #: who writes a store whose run has not finished, from another live process (its writer
    #: lock: :func:`ecoseg.store.live_writer`, read once as the store is read), so every part
    #: of the page says "still being written", not "unfinished"; ``None`` for a finished store
    #: or a run that stopped
    writer: str | None = None

    @property
    def mm_per_px(self) -> float | None:
        cal = self.calibration or {}
        v = cal.get("mm_per_px")
        return float(v) if v else None

    @property
    def photos(self) -> tuple[str, ...] | None:
        """The photographs of a photo survey, one per frame (None: a video)."""
        return self.provenance.photos

    @property
    def duration_s(self) -> float:
        t = self.times
        if len(t) == 0:
            return 0.0
        video = self.provenance.video
        fps = float(video.fps or 0) if video is not None else 0.0
        fps = fps or None
        step = float(np.median(np.diff(t))) if len(t) > 1 else (1.0 / fps if fps else 0.0)
        return float(t[-1] - t[0] + step)


def read_video(
    name: str,
    path: str,
    shown: str,
    study: Any = None,
    *,
    store: Any = None,
    need_frames: bool = True,
    judge_splits: bool = True,
) -> VideoInfo:
    """One store of the report with what the study (if any) says about its video.

    Parameters
    ----------
    name : str
        The video's name in the report (and in the study).
    path : str
        Where the store is.
    shown : str
        The store path as the page shows it.
    study : optional
        A loaded study.
    store : MaskStore, optional
        The store at ``path``, already open: read, and left open (default: opened and
        closed here).
    need_frames : bool
        Refuse a store that an interrupted ``ecoseg edit`` left half written
        (:func:`ecoseg.store.check_finished`: its stills and tables would show half an edit)
        or that holds no frames (:func:`ecoseg.measure.check_has_frames`): a report gives no
        page of no numbers. ``ecoseg info`` describes such stores instead.
    judge_splits : bool
        Find the log's splits made before splits were checked
        (:func:`ecoseg.species.review.unchecked_splits`: one pass over the labels of a store
        whose log has a split) and its merges made before two different names of one rank
        were refused or before names were ranked
        (:func:`ecoseg.species.review.refused_merges`,
        :func:`~ecoseg.species.review.unmade_merges`, both from one reading of the merges'
        backup attributes: :func:`~ecoseg.species.review.old_merges`) and its
        reviewed marks ``--reviewed`` refuses today
        (:func:`ecoseg.species.review.refused_reviews`: the marks' backup attributes) and
        its class names given before ``--set-class`` refused one differing only in letter
        case from one left beside it (:func:`ecoseg.species.review.refused_names`: backup
        attributes) and
        its classifications that left exemplar-only concept tracks unnamed
        (:func:`ecoseg.species.review.kept_visual`: their backup attributes), for the
        reproduce steps; ``ecoseg info`` needs none of them.

    Returns
    -------
    VideoInfo
    """
    from ecoseg.measure import check_has_frames, incomplete_note
    from ecoseg.species import edit_log
    from ecoseg.species.review import (
        kept_visual,
        old_merges,
        refused_names,
        refused_reviews,
        unchecked_splits,
    )
    from ecoseg.store import MaskStore, check_finished, live_writer

    owned = store is None
    if owned:
        store = MaskStore.open(path)
    try:
        if need_frames:  # as measure refuses them: a page of half an edit, of no numbers
            check_finished(store)
            check_has_frames(store)
        info = VideoInfo(
            name=name,
            store_path=str(path),
            store_shown=shown,
            provenance=store.provenance_record,
            objects=list(store.object_records().values()),
            calibration=store.calibration,
            ecoseg_version=store.writer_version,
            complete=store.complete,
            n_frames=store.n_frames,
            height=store.height,
            width=store.width,
            times=np.asarray(store.read_time(), dtype=float),
            edits=edit_log(store),
            chunk_frames=store.chunk_frames,
            incomplete=incomplete_note(store) if need_frames else None,
            writer=None if store.complete else live_writer(path),
        )
        # each judge reads the store's attributes again: only for a log with its kind of edit
        # (a log without one gives it nothing to find)
        kinds = {e.get("kind") for e in info.edits} if judge_splits else set()
        if "split" in kinds:
            info.unchecked_splits = unchecked_splits(store)
        if "merge" in kinds:
            merges = old_merges(store)  # their backups read once for both lists
            info.refused_merges, info.unmade_merges = merges.refused, merges.unmade
        if "reviewed" in kinds:
            info.refused_reviews = refused_reviews(store)
        if "set_class" in kinds:
            info.refused_names = refused_names(store)
        if "classify" in kinds:
            info.kept_visual = kept_visual(store)
    finally:
        close = getattr(store, "close", None) if owned else None
        if close is not None:
            close()
    info.classes = {o.id: o.class_name for o in info.objects}
    video = info.provenance.video
    recorded = video.path if video is not None else None
    # the bundled sample by its name, also where an older ecoseg recorded its path here
    info.video_shown = (bundled_name(recorded) or str(recorded)) if recorded else NOT_RECORDED
    if recorded:
        found = find_video(recorded, path)
        info.video_path = found or Path(str(recorded))
        if found is not None and Path(str(recorded)).is_absolute() and found != Path(recorded):
            # where it is now (a study folder moved or copied), not where it was
            info.video_shown = shown_beside(found, path, shown)
        if found is None:
            info.video_looked = video_looked_in(
                recorded, path, shown=lambda p: shown_beside(p, path, shown)
            )
    spec = None
    if study is not None:
        try:
            spec = study.video(name)
        except KeyError:
            spec = None
    if spec is not None:
        info.site, info.transect, info.date = spec.site, spec.transect, spec.date
        info.depth_m, info.notes = spec.depth_m, spec.notes
        info.video_path, info.video_shown = spec.path, spec.source
        info.video_looked = ""  # the study's path: entry, the one place
        info.calibration_spec = spec.calibration_spec
        info.pretrained = spec.pretrained
        info.study_store = is_study_store(path, study, spec)
        if info.study_store:  # measured with the study's calibration, saved into it first
            info.measure_calibration = spec.calibration
            info.measure_recorded = recorded_calibration(study.output, name)
            if spec.calibration is None:  # in pixels, as the study measures it: cleared
                info.calibration = None
        if spec.calibration is not None:
            if not info.study_store:  # named like the study's video, but another store:
                info.not_the_studys = _not_the_studys(info, study, spec)  # never written into
            info.calibration = calibration_dict(spec.calibration, spec.calibration_spec)
        if spec.truth is not None:
            info.truth = str(spec.truth)
            info.truth_shown = study.relative(spec.truth)
    return info


def shown_beside(found: Path, path: Any, shown: str) -> str:
    """``found`` (a video found for the store at ``path``) as the page shows paths: from the
    folder the store's shown path ``shown`` is relative to (as it is where ``shown`` is
    absolute, or ``path`` is not a local path).

    Examples
    --------
    >>> shown_beside(Path("/new/study/a/video.mp4"), "/new/study/out/a.zarr", "out/a.zarr")
    'a/video.mp4'
    """
    if not isinstance(path, str | os.PathLike) or os.path.isabs(shown):
        return str(found)
    store, tail = os.path.abspath(path), os.sep + os.path.normpath(shown)
    if not store.endswith(tail):  # (shown from another folder: ../x.zarr)
        return str(found)
    root = store[: -len(tail)] or os.sep
    return Path(os.path.relpath(os.path.abspath(found), root)).as_posix()


def is_study_store(path: str | os.PathLike, study: Any, spec: Any) -> bool:
    """Whether the store at ``path`` is ``study``'s own store of the video ``spec``: the one
    ``ecoseg study`` writes (``study.store_path(spec)``, under the study's output), not
    another store that bears the video's name (``a.zarr`` of an ``ecoseg segment`` run
    elsewhere): :func:`ecoseg._paths.same_location` (the same files under another name, a link,
    are its store). A URL is never the study's, even one its output is written as (a study's
    output is a local folder).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from types import SimpleNamespace
    >>> out = Path(tempfile.mkdtemp())
    >>> study = SimpleNamespace(store_path=lambda spec: out / "stores" / f"{spec.name}.zarr")
    >>> spec = SimpleNamespace(name="a")
    >>> (out / "stores" / "a.zarr").mkdir(parents=True)
    >>> (out / "a.zarr").mkdir()
    >>> is_study_store(out / "stores" / "a.zarr", study, spec)
    True
    >>> is_study_store(out / "a.zarr", study, spec)  # another store of that name
    False
    """
    if "://" in str(path):
        return False
    return same_location(path, study.store_path(spec))


def _not_the_studys(info: VideoInfo, study: Any, spec: Any) -> str | None:
    """Why ``info``'s store, not the study's store of the video ``spec``, cannot be measured
    with the study's calibration (it holds another, which measuring would replace); ``None``
    when it holds the study's already (measured as it is, nothing written): the same, or the
    study's is its mm per pixel as a plain number (:meth:`Calibration.saved_over`)."""
    from ecoseg._checks import number_text
    from ecoseg.measure.calibration import Calibration

    try:
        stored = Calibration.from_dict(info.calibration) if info.calibration else None
    except (EcosegError, TypeError, ValueError):
        stored = None
    if stored is not None and spec.calibration.saved_over(stored).to_dict() == stored.to_dict():
        return None
    given = spec.calibration_spec
    given = number_text(given) if isinstance(given, float | int) else str(given)
    # measure needs a tables folder: one beside the store, as the report's replay names it
    tables = os.path.splitext(str(info.store_path).rstrip("/"))[0] + ".tables"
    measure = " ".join(shlex.quote(a) for a in (str(info.store_path), "-o", tables))
    return (
        f"report: {info.store_path}: not the study's store of video {info.name!r} (that is "
        f"{study.relative(study.store_path(spec))}), and its calibration "
        f"{stored or 'none (pixels)'} is not the study's {spec.calibration}, which the report "
        "would save into it: give the study's store, calibrate this one first (`ecoseg "
        f"measure {measure} --calibration {shlex.quote(given)}`), or report it without the study"
    )


def calibration_dict(cal: Any, spec: Any) -> dict:
    """A calibration object as the dict a store records, with the spec it was written as."""
    to_dict = getattr(cal, "to_dict", None)
    d = dict(to_dict()) if callable(to_dict) else {"mm_per_px": float(cal.mm_per_px)}
    if spec is not None:
        d.setdefault("spec", spec)
    return d


def check_tables(tables: Any) -> None:
    """A ConfigError naming what is wrong with the ``tables`` given to :func:`ecoseg.report`:
    not a dict (nor a folder, which the report reads first), a table name that is not one of
    :data:`ecoseg.measure.TABLES` (its sections were left out without a word) or a table that
    is not a DataFrame.

    Examples
    --------
    >>> check_tables({"region": None})
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: report: tables: unknown table 'region' (known: regions, tracks, \
counts, maxn, cover)
    """
    import pandas as pd

    from ecoseg.measure import TABLES

    if not isinstance(tables, Mapping):
        raise ConfigError(
            "report: tables must be a dict of DataFrames by name, as ecoseg.measure returns, "
            f"or the folder ecoseg measure wrote them into, got {short_repr(tables)}"
        )
    for name, df in tables.items():
        if name not in TABLES:
            raise ConfigError(
                f"report: tables: unknown table {name!r} (known: {', '.join(TABLES)})"
            )
        if not isinstance(df, pd.DataFrame):
            raise ConfigError(f"report: tables[{name!r}] must be a DataFrame, got {short_repr(df)}")


def read_tables(videos: list[VideoInfo], tables: Any, *, progress: bool = False) -> dict[str, Any]:
    """The tables of the report, combined across videos (a ``video`` column first).

    ``tables`` given with one store may lack the ``video`` column; their class names are read
    in the one spelling, as :func:`~ecoseg.measure.tables.read_table` reads a file's
    (:func:`~ecoseg.measure.tables.one_spelling`: a DataFrame an older ecoseg wrote with
    ``"sea  urchin"`` and ``"sea urchin"`` gives one species; a ``maxn`` table with two
    spellings of one name has those rows rebuilt from the ``counts`` table given, with a
    warning, and is refused without one). ``None`` measures every store now: first it
    refuses a store that is not the study's but bears the name of a study video whose
    calibration it does not hold (:attr:`VideoInfo.not_the_studys`: measuring it would save
    the study's into it), then saves into each study's own store its
    :attr:`VideoInfo.measure_calibration` (the study's; none: cleared, in pixels) as ``ecoseg
    study`` saves it, warning once for one that replaces another set by hand, and saying in a
    progress line (``progress``) one that replaces the study's own of its last measurement
    (:attr:`VideoInfo.measure_recorded`), as the study says them, and measures
    each store with the calibration it holds (any other store: its own, nothing written);
    ``progress``: a bar per store.
    """
    if tables is not None:
        check_tables(tables)
        out = {}
        for name in sorted(tables, key=lambda n: n == "maxn"):  # the counts MaxN is made from
            df = one_spelling(tables[name], name, counts=out.get("counts"), refuse=True)
            if "video" not in df.columns:
                if len(videos) != 1:
                    raise ConfigError(
                        f"table {name!r} has no 'video' column; with several stores pass the "
                        "tables combined by ecoseg.measure.tables.combine_tables"
                    )
                df = combine_tables({videos[0].name: {name: df}}, {})[name]
            out[name] = df
        return {name: out[name] for name in tables}
    from ecoseg.measure import measure

    for v in videos:  # before any store is measured (the study's own take its calibration)
        if v.not_the_studys:
            raise ConfigError(v.not_the_studys)
    from ecoseg._cli import logger

    log = logger(progress, "report")
    for v in videos:  # as `ecoseg study` saves it and says it, once where it replaces another
        if v.study_store:
            save_study_calibration(
                v.store_path, v.name, v.measure_calibration, v.measure_recorded, log
            )
    # each measured with the calibration it holds now (a study's own store: the study's)
    per_video = {v.name: measure(v.store_path, None, progress=progress) for v in videos}
    meta = {
        v.name: {"site": v.site, "transect": v.transect, "date": v.date, "depth_m": v.depth_m}
        for v in videos
    }
    # each store's tables let go of a column at a time as they are stacked: a report of several
    # stores holds about the combined tables, not them and every store's as well
    return combine_tables(per_video, meta, release=True)


def open_reader(v: VideoInfo) -> tuple[Any, str | None]:
    """A video reader for ``v`` if its file is there and is the store's video, else a reason.

    The video must be the one the store records (:func:`ecoseg.io.video.video_mismatch`:
    frame size, frame count, then the sha256, the file read once, about 0.7 s of CPU per GB);
    the verdict is kept on ``v`` (:attr:`VideoInfo.video_refused`), so a report reads each
    video's hash once however many stills it draws.
    """
    from ecoseg.io.video import open_video, video_mismatch

    if v.video_path is None:
        return None, "the video path is not recorded in the store"
    if not v.video_path.exists():
        if v.video_looked:  # the recorded path once, then where it was looked for
            return None, f"{v.video_shown} is not found: {v.video_looked}"
        return None, f"video not found at {v.video_shown}"
    if v.video_refused:
        return None, v.video_refused
    try:
        reader = open_video(v.video_path)
    except EcosegError as exc:
        return None, f"video unreadable ({' '.join(str(exc).split())})"
    if v.video_refused is None:
        try:
            why = video_mismatch(reader, v.provenance.video)
            if why is None and ((reader.width, reader.height) != (v.width, v.height)):
                why = f"it is {reader.width}x{reader.height} px, the store {v.width}x{v.height}"
            if why is None and len(reader) < v.n_frames:
                why = f"it has {len(reader)} frames, the store {v.n_frames}"
        except (OSError, EcosegError) as exc:
            why = f"unreadable ({' '.join(str(exc).split())})"
        v.video_refused = (
            f"the video at {v.video_shown} is not the store's video: {why}" if why else ""
        )
    if v.video_refused:
        reader.close()
        return None, v.video_refused
    return reader, None


def shown_paths(paths: Sequence[str], study, out: Path) -> list[str]:
    """How each store path is displayed: relative to the study output, else as given."""
    shown = []
    for p in paths:
        text = str(p)
        if study is not None and "://" not in text:
            try:
                text = Path(
                    os.path.relpath(Path(text).resolve(), study.output.resolve())
                ).as_posix()
            except ValueError:
                pass
        shown.append(text)
    return shown
