"""Run a study: segment each video, measure, combine the tables, write the report.

Every step is skipped when the fingerprints in the manifest (:mod:`ecoseg.study.manifest`) say
its inputs have not changed. Videos are segmented by the same task as ``ecoseg batch``
(:func:`ecoseg.batch.jobs.run_job`), here one after another or on a Dask cluster
(:mod:`ecoseg.study.segmenting`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecoseg._checks import check_path_arg
from ecoseg._cli import logger
from ecoseg._paths import check_out_folder, relpath
from ecoseg.batch.cluster import check_cancel_here, check_count
from ecoseg.errors import Cancelled, ConfigError, EcosegError
from ecoseg.measure import TABLES, check_has_frames
from ecoseg.measure.tables import (
    combine_tables,
    read_table,
    unclean_class_names,
    write_table,
)
from ecoseg.report._calibration import save_study_calibration
from ecoseg.study.checks import (
    check_frames_fit,
    check_own_tables,
    check_readable,
    check_store_made,
    check_truth_frames,
    check_video,
    machine_lack,
    store_kept,
    video_places,
)
from ecoseg.study.config import load_study
from ecoseg.study.manifest import (
    calibration_record,
    digest,
    file_sha256,
    files_match,
    load_manifest,
    measured_from,
    save_manifest,
    segment_inputs,
)
from ecoseg.study.moved import check_renamed, moved_truths, moved_videos
from ecoseg.study.records import Study, VideoSpec
from ecoseg.study.segmenting import raise_in_study, segment_videos, study_cancelled
from ecoseg.study.species_models import check_model_versions, read_species_model

__all__ = ["StudyResult", "run_study"]


@dataclass
class StudyResult:
    """What :func:`run_study` did and where its outputs are.

    Attributes
    ----------
    study : Study
    stores : dict of str to Path
        Store of each video, by video name.
    tables : dict of str to Path
        Combined Parquet table files by table name (CSV next to each).
    report : Path
    segmented, measured : list of str
        Videos whose store / tables were (re)made in this run; empty when nothing changed.
    not_found : list of str
        Videos not where the study file says (moved away), whose finished stores were kept
        (:mod:`ecoseg.study.moved`); the report has no stills of them.
    truth_not_found : list of str
        Videos among those whose ``truth:`` store is not there either (moved away with
        them): the report says so and does not score them.
    tables_written, report_written : bool
        Whether the combined tables / the report were rewritten in this run.

    Examples
    --------
    A study of one short synthetic clip, run twice: the second run finds nothing to redo.

    >>> import ecoseg, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> clip = ecoseg.synth(d / "T1", frames=4, size=(64, 48))
    >>> text = "name: reef\\noutput: out\\nvideos:\\n  - path: T1/video.mp4\\n"
    >>> _ = (d / "study.yaml").write_text(text)
    >>> result = run_study(d / "study.yaml", progress=False, report=False)
    >>> tables = result.load_tables()
    >>> sorted(tables), list(tables["maxn"].columns[:3])
    (['counts', 'cover', 'maxn', 'regions', 'tracks'], ['video', 'site', 'transect'])
    >>> print(run_study(d / "study.yaml", progress=False, report=False).summary())
    study: reef (1 video)
    stores: 0 made, 1 unchanged
    tables: 0 video(s) measured, combined tables unchanged
    report: not written
    """

    study: Study
    stores: dict[str, Path]
    tables: dict[str, Path]
    report: Path
    segmented: list[str] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    truth_not_found: list[str] = field(default_factory=list)
    tables_written: bool = False
    report_written: bool = False

    def __repr__(self) -> str:  # one line: the dataclass repr held the whole study
        n, made = len(self.study.videos), len(self.segmented)
        return (
            f"<StudyResult {self.study.name!r}: {n} video{'s' * (n != 1)}, {made} store"
            f"{'s' * (made != 1)} made, {len(self.measured)} measured, report {str(self.report)!r}>"
        )

    def load_tables(self) -> dict[str, Any]:
        """The combined tables as DataFrames, by table name (example: :class:`StudyResult`)."""
        return {name: read_table(p) for name, p in self.tables.items()}

    def summary(self) -> str:
        """A few printable lines: what this run made and what it left unchanged (example:
        :class:`StudyResult`)."""
        n = len(self.study.videos)
        lines = [
            f"study: {self.study.name} ({n} video{'s' if n != 1 else ''})",
            f"stores: {len(self.segmented)} made, {n - len(self.segmented)} unchanged",
            *(
                [f"videos not found: {', '.join(self.not_found)} (their stores kept)"]
                if self.not_found
                else []
            ),
            *(
                [f"truth not found: {', '.join(self.truth_not_found)} (not scored in the report)"]
                if self.truth_not_found
                else []
            ),
            f"tables: {len(self.measured)} video(s) measured, combined tables "
            + ("written" if self.tables_written else "unchanged"),
            "report: "
            + (
                f"{self.report}"
                if self.report_written
                else f"{self.report} (unchanged)"
                if self.report.exists()
                else "not written"
            ),
        ]
        return "\n".join(lines)


def run_study(
    study: str | os.PathLike | Study,
    *,
    output: str | os.PathLike | None = None,
    progress: bool = True,
    scheduler: Any = None,
    report: bool = True,
    workers: int | None = None,
    threads: int | None = None,
    classify: bool = True,
    cancel: Any = None,
) -> StudyResult:
    """Run a study: segment each video, measure, combine the tables and write the report.

    Work whose inputs have not changed since the last run is skipped (see the module docs).

    Parameters
    ----------
    study : str, Path or Study
        The study file (or a study loaded with :func:`load_study`). A video no longer where
        the file says (moved away) is not segmented again: its finished store is kept when
        its settings are unchanged (:mod:`ecoseg.study.moved`), and the tables and the
        report are made from the stores.
    output : str or Path, optional
        Write here instead of the study's ``output:`` folder (e.g. to leave a shared study
        folder untouched).
    progress : bool
        Print one line per step and show progress bars.
    scheduler : optional
        Where to segment the videos: ``None`` runs them one after another here; an object with
        ``submit(fn, *args)`` returning futures (a :class:`concurrent.futures.Executor` or a
        ``dask.distributed.Client``) runs them there; a string is taken as the address of a Dask
        scheduler. Runs there go through :func:`ecoseg.batch.run_tasks` (sam2 videos on
        CUDA ask for a ``GPU`` resource).
    report : bool
        Write the report (default); ``False`` stops after the tables.
    classify : bool
        Name the tracks of the videos that have a ``species_model:`` with it before they are
        measured (default). ``False`` measures them without it (``ecoseg study
        --no-classify``), as a study whose ``species_model:`` was added later measured them
        first; the next run that classifies measures them again. A report's reproduce steps
        use it where a store's first classification was not the study's model's (a model
        added after a person's first review, or a model file since replaced), and to close
        where the study's last run did not classify (a store's log does not end with a
        classification of the study's model with today's calibration).
    workers, threads : int, optional
        With no ``scheduler``: segment the videos on a local Dask cluster of this many worker
        processes / threads per worker (:func:`ecoseg.batch.connect`) instead of one after
        another here; sized as for ``ecoseg batch`` (at most one worker per video, and by
        default as many as the CPUs allow, or one for GPU work).
    cancel : threading.Event or callable, optional
        Once set: the video being segmented stops before its next frame (its store flushed,
        as :func:`ecoseg.segment`'s ``cancel``), no further video starts, and
        :class:`~ecoseg.errors.Cancelled` is raised (no tables nor report made); set later, the
        run stops before its next step (a video's tables, the combined tables, the report),
        those written so far kept whole, or inside a video's classify (its species model's
        track features) or measure step, before their next chunk of masks or video frame,
        with nothing of that step written (its store's classes and edit log, its tables, its
        manifest entry as they were). The same
        call again resumes the study: it ends as an uninterrupted run. The workers of a
        Dask cluster (a client, a scheduler address, ``workers``/``threads``) see it as a
        named ``distributed.Event`` set once it is
        (:func:`~ecoseg.batch.cluster.cancel_reaching`); refused (:class:`ConfigError`) with
        a process pool, whose workers it cannot reach.

    Returns
    -------
    StudyResult

    Raises
    ------
    ConfigError
        A bad study file, or an output folder/store the study did not make, or a file the
        study did not write where one of its tables goes, before any work; a video that is
        not there whose store the study cannot keep (none finished, other settings), or
        whose tables it must measure again with a ``species_model:``; a ``device:``
        this machine lacks (:mod:`ecoseg.study.checks`) for a video to segment (a video
        whose store is kept needs none), before any work (with a ``scheduler``: where the
        video's task runs).
    CheckpointError
        Network weights neither given (``checkpoint:``) nor in the weights cache, likewise.
    StoreError
        A store the study keeps (or resumes) was left half written by an interrupted
        ``ecoseg edit`` (:func:`ecoseg.store.check_finished`), before any work.
    VideoError
        Before any work, every video to segment that does not open (cut off, damaged, not a
        video), in one line naming each (:func:`~ecoseg.study.checks.check_readable`, as
        ``ecoseg study --check`` says it).
    ModelError
        A ``species_model:`` that ``classify`` refuses for a store the run measures again
        (:func:`~ecoseg.species.classify.check_model_fits`), before any store is written into;
        one of another feature version, or of other units or frames of another scale than
        the video's calibration and frame size give its store, for a video to segment, before
        any work (:func:`~ecoseg.study.species_models.check_model_versions`,
        :func:`~ecoseg.study.checks.check_frames_fit`).
    CalibrationError
        A ``calibration:`` outside the frame: for a video to segment, before any work
        (:func:`~ecoseg.study.checks.check_frames_fit`), for a store kept, before any store
        is written into.
    Cancelled
        ``cancel`` stopped the segmentation (see ``cancel``), named after the video's entry,
        a video's classify or measure step (its entry, the store and the frame), or a later
        step before it started (a video's tables: its entry; the combined tables or the
        report: the study file).
    EcosegError
        What a video's segmentation raised, named after the video's entry in the study file
        (``study.yaml: line 9: videos[1] (south):``).

    Examples
    --------
    >>> study = "data/study/study.yaml"
    >>> result = run_study(study, progress=False)  # requires: data  # doctest: +SKIP
    >>> result.report.name  # requires: data  # doctest: +SKIP
    'report.html'
    """
    from ecoseg.store import check_finished, opened_store

    if workers is not None or threads is not None:
        check_count(workers, "workers (--workers)")
        check_count(threads, "threads (--threads)")
    local = scheduler is None and (workers is not None or threads is not None)
    check_cancel_here(cancel, scheduler, "run_study")
    if output is not None:
        check_path_arg(output, "run_study: output", "a path to the output folder")
    shown = None  # how errors name the study file: as given (a Study: its path)
    if not isinstance(study, Study):
        check_path_arg(study, "run_study: study", "a study file or a study from load_study")
        shown, study = study, load_study(study, require_videos=False)
    if output is not None:
        check_out_folder(output)  # a file: named as the user typed it, not resolved
        study = dataclasses.replace(study, output=Path(output).resolve())
    log = logger(progress, "study")
    output = study.output
    check_out_folder(output)
    manifest = load_manifest(output)
    moved = moved_videos(study, manifest, shown)  # not there: kept on their stores, or refused
    if scheduler is None:  # this machine segments a video with no store yet: what it lacks
        # fails at once, before any video is hashed (a video with a store: once planned)
        new = [v for v in study.videos if not study.store_path(v).exists()]
        for video in (v for v in new if machine_lack(v) is not None):
            check_video(video, video_places(study)[video.name])
    hashes = manifest["hashes"]
    entries = manifest["videos"]
    result = StudyResult(
        study=study,
        stores={v.name: study.store_path(v) for v in study.videos},
        tables={t: output / "tables" / f"{t}.parquet" for t in TABLES},
        report=output / "report.html",
        not_found=list(moved),
        truth_not_found=moved_truths(study),
    )

    check_renamed(study, manifest, shown)  # before any work, as `study --check` does
    check_own_tables(study)  # a user's own file among the tables: before any is written
    # 1. segmentation: plan every video first, so a bad store fails before any work
    jobs = []
    for video in study.videos:
        store = study.store_path(video)
        inputs = segment_inputs(video, hashes, moved.get(video.name))
        fingerprint = digest(inputs)
        entry = entries.get(video.name)
        check_store_made(study, video, entry)  # (as `study --check` refuses it)
        seg = (entry or {}).get("segment") or {}
        same = store.exists() and seg.get("fingerprint") == fingerprint
        if same:  # kept or resumed: its tables and report must not come from half an edit
            with opened_store(store) as opened:
                check_finished(opened)
        if store_kept(store, seg, fingerprint):
            seg["done"] = True
            if video.name in moved:
                log(f"segment {video.name}: video not found at {video.source}; its store kept")
            else:
                log(f"segment {video.name}: unchanged, kept")
            continue
        if store.exists() and not same and (n := reviewed_edits(store)):
            raise ConfigError(
                f"{store}: {n} review edit(s) (`ecoseg edit {store} --log`) would be lost by "
                f"segmenting video {video.name!r} again with its changed inputs; move the "
                "store away (or rename the video) to segment it anew"
            )
        jobs.append((video, store, inputs, fingerprint, same))  # same inputs: resume

    places = video_places(study)  # the study file read once
    if scheduler is None:  # only a video to segment needs this machine's device or weights
        for video, *_ in jobs:
            check_video(video, places[video.name])
    # a cut-off or damaged video: every one named now, not the first once the others are done
    shapes = check_readable(study, shown=shown, videos=[video for video, *_ in jobs])
    # a truth of other frames than its video: the report step's refusal, before any work
    check_truth_frames(study, shown=shown, videos=[video for video, *_ in jobs])
    models: dict[Path, tuple[bytes, Any]] = {}  # each species_model file read once (hashed)
    if classify:  # of a video to segment: a model no store fits, before any work, as --check
        check_model_versions(study, [video for video, *_ in jobs], shown=shown, models=models)
    # what the measure and classify steps refuse of its frame size (as probed above) or
    # units: not after the long segmentation, before any
    check_frames_fit(
        study,
        shown=shown,
        videos=[video for video, *_ in jobs],
        classify=classify,
        models=models,
        shapes=shapes,
    )

    def species_model_of(video: VideoSpec) -> tuple[bytes, Any] | None:
        """The bytes and the model of the video's ``species_model:`` (``None``: none, or not
        classified), refused as ``study --check`` refuses it (no model: its file named)."""
        path = video.species_model if classify else None
        if path is not None and path not in models:
            models[path] = read_species_model(path)
        return None if path is None else models[path]

    per_video_dir = output / "tables" / "videos"

    def planned(videos: list[VideoSpec]) -> list[tuple[VideoSpec, dict, Any]]:
        """Each video's tables inputs and whether they are measured again
        (:func:`_measure_again`), after what a run refuses of a video to measure is checked
        for every one of them, before any store is written (a calibration saved, tracks
        named): a species model classify refuses for its store, a store measure refuses, a
        calibration outside its frame."""
        plans = []
        for video in videos:
            entry = entries[video.name]
            m_inputs = {
                "store": entry["segment"]["fingerprint"],
                "calibration": calibration_record(video),
            }
            if (read := species_model_of(video)) is not None:  # hashed; its copy kept below
                m_inputs["species_model"] = hashlib.sha256(read[0]).hexdigest()
            again = _measure_again(
                video, entry.get("measure") or {}, m_inputs, study, per_video_dir
            )
            plans.append((video, m_inputs, again))
        for video, _inputs, again in plans:
            store, cal = study.store_path(video), video.calibration
            with opened_store(store) as opened:  # (as save_study_calibration refuses it)
                if cal is not None:
                    cal.check_frame(opened.width, opened.height, opened.path)
                if again is not None:  # refused as measure refuses it (no frames observed)
                    check_has_frames(opened)
            if again is None or (read := species_model_of(video)) is None:
                continue
            if video.name in moved:
                raise ConfigError(
                    f"{places[video.name]['']} species_model: its tables are measured again and "
                    f"the species model names the tracks from the video's frames, but the video "
                    f"is not found at {video.source} (bring it back, then run the study again)"
                )
            # what classify refuses of the model and the store alone (another feature
            # version, other features, sizes in mm for a store in pixels or the reverse,
            # pixels of frames of another scale), with the calibration saved below
            from ecoseg.species.classify import check_model_fits

            check_model_fits(
                read[1], store, {} if cal is None else cal.to_dict(), video.species_model
            )
        return plans

    # a store kept (not segmented now): what a run refuses of it to measure, before any work
    segmented_now = {video.name for video, *_ in jobs}
    planned([video for video in study.videos if video.name not in segmented_now])
    output.mkdir(parents=True, exist_ok=True)  # (a refused run leaves no folder behind)
    prints = {}
    for video, store, inputs, fingerprint, same in jobs:
        prints[video.name] = fingerprint
        # a store of other inputs keeps its place until the run replaces it: its entry claims
        # the new inputs only when made (a run that failed before had it kept as theirs)
        anew = store.exists() and not same
        entries[video.name] = {
            "store": relpath(store, output),
            "segment": {
                "fingerprint": None if anew else fingerprint,
                "inputs": inputs,
                "done": False,
            },
        }
    save_manifest(output, manifest)

    def finished(video: VideoSpec) -> None:
        entries[video.name]["segment"]["fingerprint"] = prints[video.name]
        entries[video.name]["segment"]["done"] = True
        result.segmented.append(video.name)
        save_manifest(output, manifest)

    segment_videos(
        jobs,
        progress,
        scheduler,
        log,
        finished,
        places,
        local=local,
        workers=workers,
        threads=threads,
        cancel=cancel,
    )

    # 2. per-video tables: store fingerprint + calibration. Every video planned and checked
    # first (a store kept: before step 1 too), so a refused run leaves every store as it was
    plans = planned(study.videos)
    for video, m_inputs, again in plans:
        if again is not None:  # (a set cancel: the tables measured so far kept, whole)
            _stop_if_cancelled(cancel, places[video.name][""], "before its tables were measured")
        entry = entries[video.name]
        store = study.store_path(video)
        folder = per_video_dir / video.name
        # the study's calibration, saved first (sizes in mm of a species model need it; an
        # earlier run's must not linger), said once when it replaces another; where the
        # tables are kept, one set since by hand (`ecoseg measure --calibration`, napari) is
        # replaced: the study file is the record, and the tables were measured with it
        recorded = ((entry.get("measure") or {}).get("inputs") or {}).get("calibration")
        if again is None:
            save_study_calibration(store, video.name, video.calibration, recorded, log)
            log(f"measure {video.name}: unchanged, kept")
            continue
        said, older = again
        log(said)
        if older:  # its fingerprint stays; the combined tables and the report made of the
            # old tables are made again (also after a run killed in between)
            manifest.pop("tables", None)
            manifest.pop("report", None)
        from ecoseg.measure import measure

        save_study_calibration(store, video.name, video.calibration, recorded, log)
        if (read := species_model_of(video)) is not None:
            from ecoseg.species import classify as name_tracks
            from ecoseg.species import edit_log
            from ecoseg.species.model import SHIPPED_MODEL, keep_copy, recorded_model_name

            model_bytes, fitted = read
            # named as the study file names it: the record holds no path of this machine;
            # the model ecoseg ships by its name, however the study file names it
            model_file = recorded_model_name(video.species_model)
            if model_file != SHIPPED_MODEL:
                model_file = study.recorded(video.species_model)
            try:  # a set cancel: the store's classes and edit log as they were
                named = name_tracks(
                    store,
                    model=fitted,  # read above, from the bytes hashed
                    videos=[video.path],
                    progress=False,
                    model_file=model_file,
                    cancel=cancel,
                )
            except Cancelled as exc:
                raise study_cancelled(exc, f"{places[video.name]['']} classify:") from None
            # by its SHA-256: a replay can make this classification again after the study's
            # file is replaced (the report offers the copy)
            keep_copy(model_bytes, output / "species_models")
            # which model classified it, and the log's length after: a classification that
            # changed no track's entry logs none, and a report's steps still know this run
            # classified the store (:func:`ecoseg.report._calibration.recorded_classification`)
            classified = {
                "model_sha256": named.attrs["model_sha256"],
                "calibration": None if video.calibration is None else video.calibration.to_dict(),
                "edits": len(edit_log(store)),
            }
        try:  # a set cancel: no table written, the manifest's entry as it was
            tables = measure(
                store, None, calibration=video.calibration, progress=False, cancel=cancel
            )
        except Cancelled as exc:
            raise study_cancelled(exc, f"{places[video.name]['']} measure:") from None
        for name in sorted(tables):
            write_table(tables[name], folder, name, formats=("parquet",))
        # the review state after the study's own classification: a later edit is a change
        m_fp = digest({**m_inputs, "review": review_state(store)})
        entry["measure"] = {"fingerprint": m_fp, "inputs": m_inputs, "tables": sorted(tables)}
        if read is not None:
            entry["measure"]["classified"] = classified
        result.measured.append(video.name)
        save_manifest(output, manifest)

    # 3. combined tables: every video's table fingerprint + its metadata
    t_fp = digest([[entries[v.name]["measure"]["fingerprint"], v.meta] for v in study.videos])
    table_dir = output / "tables"
    rec = manifest.get("tables") or {}
    if rec.get("fingerprint") != t_fp or not files_match(table_dir, rec.get("files", {})):
        _stop_if_cancelled(cancel, f"{shown or study.path}:", "before the combined tables")
        log("tables: combining")
        per_video = {
            v.name: {
                t: read_table(per_video_dir / v.name / f"{t}.parquet")
                for t in entries[v.name]["measure"]["tables"]
            }
            for v in study.videos
        }
        # each video's tables let go of as they are stacked: about one set of tables held
        combined = combine_tables(per_video, {v.name: v.meta for v in study.videos}, release=True)
        del per_video
        files = {}
        for name in sorted(combined):
            for fmt, sha in write_table(combined[name], table_dir, name).items():
                files[f"{name}.{fmt}"] = sha
        manifest["tables"] = {"fingerprint": t_fp, "files": files}
        result.tables_written = True
        save_manifest(output, manifest)
    else:
        log("tables: unchanged, kept")
    result.tables = {
        t: table_dir / f"{t}.parquet" for t in TABLES if (table_dir / f"{t}.parquet").exists()
    }

    # 4. report
    from ecoseg._version import __version__

    truth_fp = {  # None: moved away with its video, scored again once it is back
        v.name: file_sha256(v.truth, hashes) if v.truth.exists() else None
        for v in study.videos
        if v.truth is not None
    }
    # a video moved away has no stills in the page: made again with them when it is back
    gone = {"videos_not_found": sorted(moved)} if moved else {}
    r_fp = digest(
        {
            **gone,
            "tables": t_fp,
            "stores": [entries[v.name]["segment"]["fingerprint"] for v in study.videos],
            "videos": [[v.name, v.source, str(v.calibration_spec)] for v in study.videos],
            "study": [study.name, study.title, study.description, study.relative(study.path)],
            # the page embeds the study file: notes, comments, a device, all shown as written
            "study_file": _text_sha256(study.path),
            "truth": truth_fp,
            "ecoseg": __version__,
            "epoch": os.environ.get("SOURCE_DATE_EPOCH"),
        }
    )
    rep = manifest.get("report") or {}
    if not report:
        log("report: not requested")
    elif rep.get("fingerprint") != r_fp or not files_match(
        output, {"report.html": rep.get("sha256")}
    ):
        _stop_if_cancelled(cancel, f"{shown or study.path}:", "before the report")
        log("report: writing")
        from ecoseg._hashing import sha256_file
        from ecoseg.report import report as write_report

        _check_truths(study, result.stores)  # named with its `truth:` line, not the store's
        tables = {name: read_table(path) for name, path in result.tables.items()}
        write_report(
            [result.stores[v.name] for v in study.videos],
            result.report,
            tables=tables,
            study=study,
            overwrite=True,  # the study's own report (the manifest says so)
        )
        manifest["report"] = {"fingerprint": r_fp, "sha256": sha256_file(result.report)}
        result.report_written = True
    else:
        log("report: unchanged, kept")
    manifest["ecoseg"] = __version__
    save_manifest(output, manifest)
    return result


def _stop_if_cancelled(cancel: Any, place: str, when: str) -> None:
    """Raise :class:`~ecoseg.errors.Cancelled` if ``cancel`` is set, between the steps after
    the segmentation (each video's tables, the combined tables, the report), each of which is
    written whole or not at all: ``place`` names the study entry or file, ``when`` the step
    not started, as :func:`~ecoseg.study.segmenting.study_cancelled` words it.

    Examples
    --------
    >>> _stop_if_cancelled(lambda: False, "s.yaml:", "before the report")
    >>> _stop_if_cancelled(lambda: True, "s.yaml:", "before the report")
    Traceback (most recent call last):
    ecoseg.errors.Cancelled: s.yaml: cancelled before the report; the same run_study call \
(ecoseg study) again continues the study
    """
    if cancel is None:
        return
    from ecoseg._cancel import is_cancelled

    if is_cancelled(cancel):
        raise study_cancelled(Cancelled(f"cancelled {when}"), place)


def _check_truths(study: Study, stores: dict[str, Path]) -> None:
    """Refuse a video's ``truth:`` store that cannot be its truth (another frame size or
    count, or swapped: :func:`ecoseg.metrics.check_pair`, as the report refuses it) in one
    line naming the study file's ``truth:`` line; one not found (moved away) is the page's."""
    from ecoseg.metrics import check_pair
    from ecoseg.study.config import video_places as key_places

    places = None
    for video in study.videos:
        if video.truth is None:
            continue
        try:
            check_pair(stores[video.name], video.truth)
        except EcosegError as exc:
            places = places or key_places(study, ("truth",))
            raise_in_study(exc, places[video.name]["truth"])


def _text_sha256(path: Path) -> str | None:
    """sha256 of the study file as the report will embed it (``None``: unreadable)."""
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _measure_again(
    video: VideoSpec, meas: dict, m_inputs: dict, study: Study, per_video_dir: Path
) -> tuple[str, bool] | None:
    """Whether the video's tables are measured again: ``None`` when they are kept (measured
    from these inputs and this review state, all there), else the progress line that says
    why and whether they are an older ecoseg's (the combined tables and report made of them
    are made again)."""
    folder = per_video_dir / video.name
    stored = [folder / f"{t}.parquet" for t in meas.get("tables", ())]
    # a calibration written another way that means the same is the same (0.25, "0.25")
    if not measured_from(meas, m_inputs, review_state(study.store_path(video))) or not all(
        p.exists() for p in stored
    ):
        return f"measure {video.name}", False
    # tables an older ecoseg wrote with a class name in another spelling (NFD, two spaces)
    # are measured again: their rows of one species cannot all be joined
    old = sorted({n for p in stored for n in unclean_class_names(p)})
    if old:
        return f"measure {video.name}: tables of an older ecoseg (class {old[0]!r}), again", True
    if _no_maxn_rows(video, folder):
        # an older ecoseg gave a motion-tracker run that found nothing no rows, which left its
        # video out of its site's mean, rather than 'unknown' 0
        return f"measure {video.name}: tables of an older ecoseg (no MaxN row), again", True
    return None


def review_state(store: Path) -> str:
    """A digest of the store's edit log: it changes with every review edit or classification,
    so tables measured before a person reviewed the store are measured again."""
    from ecoseg.species import edit_log

    return digest(edit_log(store))


def reviewed_edits(store: Path) -> int:
    """How many edits a person made on the store that it still holds (``ecoseg edit``: what a
    study cannot make again, unlike the classifications it runs itself; an edit an
    ``--undo`` took back is gone already: :func:`ecoseg.species._edit_log.person_edits`)."""
    from ecoseg.species import edit_log
    from ecoseg.species._edit_log import person_edits

    try:
        log = edit_log(store)
    except (EcosegError, OSError, ValueError):  # not a store (any more): nothing to keep
        return 0
    return len(person_edits(log))


def _no_maxn_rows(video, folder: Path) -> bool:
    """Whether the kept MaxN table of a motion-tracker or ``auto`` video has no row: an
    older ecoseg's of a run that found nothing (one now has ``unknown`` with a MaxN of 0,
    :func:`ecoseg.measure.counts.looked_for_classes`)."""
    if not (video.engine == "classical" or video.auto):
        return False
    return len(read_table(folder / "maxn.parquet")) == 0
