"""The ``ecoseg study`` and ``ecoseg batch`` subcommands: campaigns of many videos, segmented on
a Dask cluster (shells over :mod:`ecoseg.study` and :mod:`ecoseg.batch`).

Public names in a private module: :mod:`ecoseg.cli` registers them; users run the command.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ecoseg._cli import (
    add_engine_options,
    add_fps_option,
    check_network_options,
    engine_options,
    show_progress,
)
from ecoseg._paths import check_in_folder, check_out_folder

__all__ = ["add_batch", "add_study"]


def _cluster_options(p) -> None:
    """``--scheduler``, ``--workers`` and ``--threads``: where ``study`` and ``batch`` segment
    (both size a local cluster with :func:`ecoseg.batch.cluster.local_workers`)."""
    p.add_argument(
        "--scheduler", default=None, metavar="ADDR", help="address of a running Dask scheduler"
    )
    p.add_argument(
        "--workers",
        type=int,
        metavar="N",
        default=None,
        help="local cluster: worker processes (default one per core, at most 4)",
    )
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        default=None,
        help="threads per local Dask worker (default 1)",
    )


def add_study(sub) -> None:
    """Add the ``study`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "study",
        help="run a field study: one store per video, combined tables, report",
        description=(
            "Run the videos named in a study file (YAML; see docs/report.md) into one mask "
            "store each, the measurement tables combined across videos (with site, transect, "
            "date and depth columns) and a self-contained HTML report, under the study's "
            "output folder. A re-run redoes only what a changed input or parameter affects."
        ),
    )
    p.add_argument("study", metavar="STUDY.yaml", help="the study file")
    p.add_argument(
        "-o", "--out", default=None, help="output folder (default the study file's `output:`)"
    )
    # its older name (every other command's output is -o/--out): still read, not shown
    p.add_argument("--output", dest="out", default=None, help=argparse.SUPPRESS)
    _cluster_options(p)
    p.add_argument(
        "--check",
        action="store_true",
        help=(
            "only validate the study file, that each video a run would segment (not one "
            "whose finished store it keeps) opens (its header and "
            "first frame: a cut-off or damaged file is named), and that this machine has its "
            "device and network weights (not with --scheduler: its workers run the videos); "
            "a video not found (moved away) must have a finished store, which a run keeps; "
            "a store the study did not make is refused as a run refuses it; a study store "
            "whose calibration was set by hand since the study saved its own is named (a run "
            "puts the study's back); a species_model that is no species model, or that "
            "cannot name the tracks of a study store for the calibration the study file "
            "gives its video, is refused naming the store (not with --no-classify)"
        ),
    )
    p.add_argument("--no-report", action="store_true", help="stop after the tables")
    p.add_argument(
        "--no-classify",
        action="store_true",
        help=(
            "measure without the videos' species_model (a report's reproduce steps use it "
            "where a store's first classification was not the study's model's, or the last "
            "run did not classify); the next run classifies and "
            "measures them again"
        ),
    )
    p.set_defaults(func=_run_study)


def _run_study(args) -> int:
    from ecoseg.study import load_study, run_study

    if args.check:  # an output that is a file: refused here as the run refuses it
        from ecoseg.study.manifest import load_manifest
        from ecoseg.study.moved import check_renamed, moved_truths, moved_videos

        study = load_study(args.study, require_videos=False)
        output = study.output if args.out is None else Path(args.out).resolve()
        check_out_folder(output if args.out is None else args.out)  # -o named as typed
        # a video moved away: its finished store is kept, or the run would refuse it
        placed = dataclasses.replace(study, output=output)
        manifest = load_manifest(output)
        moved = moved_videos(placed, manifest, args.study)
        check_renamed(placed, manifest, args.study)  # a store the run would leave unused
        from ecoseg.study.checks import (
            check_frames_fit,
            check_machine,
            check_own_tables,
            check_readable,
            check_store_made,
            check_truth_frames,
            hand_calibrations,
        )
        from ecoseg.study.species_models import check_species_models

        check_own_tables(placed)  # a user's own file among the tables: refused as a run does
        for video in placed.videos:  # a store the study did not make: refused as a run does
            check_store_made(placed, video, manifest["videos"].get(video.name))
        # a calibration set by hand on a study's store: said, as a run warns when it puts
        # the study's back (nothing is changed here)
        hand = hand_calibrations(placed, manifest)
        if not args.no_classify:  # a species model a run would refuse, for a study store too
            check_species_models(placed, shown=args.study)

        if args.scheduler is None:  # the videos run here: a device or weights it lacks
            check_machine(study, output)
        # a cut-off or damaged video: every one named now, not the first when a run reaches it
        shapes = check_readable(study, output, shown=args.study)
        # a truth of other frames than its video: refused now, not at the report step
        check_truth_frames(placed, shown=args.study)
        # a calibration or species model of another frame size (as probed above) or units:
        # refused now, not once the video is segmented
        check_frames_fit(placed, shown=args.study, classify=not args.no_classify, shapes=shapes)
        gone = f"; not found, their stores kept: {', '.join(moved)}" if moved else ""
        if truths := moved_truths(study):
            gone += f"; truth not found, not scored: {', '.join(truths)}"
        for line in hand:
            print(line)
        print(f"{args.study}: ok, {len(study.videos)} video(s), output {output}{gone}")
        return 0
    result = run_study(
        args.study,
        output=args.out,
        progress=show_progress(args),
        scheduler=args.scheduler,
        report=not args.no_report,
        workers=args.workers,
        threads=args.threads,
        classify=not args.no_classify,
    )
    print(result.summary())
    return 0


def add_batch(sub) -> None:
    """Add the ``batch`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "batch",
        help="segment many videos as Dask tasks, one store per video",
        description=(
            "Segment every VIDEO into OUT/<video name>.zarr (videos sharing a file name in "
            "several folders: OUT/<folder>__<video name>.zarr), one Dask task per video, on a "
            "local cluster or an existing scheduler (--scheduler). OUT and the videos may be local "
            "paths or fsspec URLs (s3://, gs://, ...; credentials from the environment). Failed "
            "videos are retried (not where the failure is certain to come again: bad settings "
            "or prompts, missing weights, a device the worker lacks, a video that cannot be "
            "decoded), then reported in "
            "OUT/batch-summary.csv; a re-run skips finished "
            "stores (of the same video file and settings) and resumes partial ones. See "
            "docs/scale.md."
        ),
    )
    p.add_argument("videos", nargs="+", metavar="VIDEO", help="video files, folders or URLs")
    p.add_argument("-o", "--out", required=True, help="folder or URL for the stores")
    _cluster_options(p)
    p.add_argument(
        "--retries",
        type=int,
        metavar="N",
        default=2,
        help=(
            "new attempts of a failed video (default 2); a failure certain to come again "
            "(bad settings or prompts, missing weights, a device the worker lacks, a video that "
            "cannot be decoded) is not retried"
        ),
    )
    p.add_argument(
        "--prompts-dir",
        default=None,
        metavar="DIR",
        help="prompt file of each video as DIR/<video name>.json, named as its store "
        "(DIR/site-a__GX010001.json where file names repeat in folders; sam2 engine, or SAM 3 "
        "concepts with exemplar boxes)",
    )
    add_engine_options(
        p, concepts_help="SAM 3 concept tracking: find these in every video (docs/concepts.md)"
    )
    add_fps_option(p, "every VIDEO")
    p.add_argument(
        "--chunk-frames",
        type=int,
        metavar="N",
        default=4,
        help="frames per labels chunk (default 4)",
    )
    p.add_argument(
        "--measure",
        action="store_true",
        help="also write per-frame counts and cover of the stores of these videos (dask.array) "
        "to OUT/campaign-*.csv, replacing earlier ones",
    )
    p.add_argument(
        "--truth-dir",
        default=None,
        metavar="DIR",
        help="also score every store against its truth, DIR/<video name>.zarr (a mask store) "
        "or DIR/<video name>/ (PNG masks), as `ecoseg evaluate` does, into one table "
        "OUT/campaign-scores.csv; videos without a truth there are named and not scored",
    )
    p.set_defaults(func=_run_batch)


def _run_batch(args) -> int:
    from ecoseg.batch import batch, video_name

    check_network_options(args, args.prompts_dir is not None)  # before the checkpoint's file
    options = engine_options(args)
    if args.truth_dir is not None:
        check_in_folder(args.truth_dir, "truth")
    from ecoseg.batch._inputs import check_own_tables

    measured = ["campaign-counts.csv", "campaign-cover.csv"] if args.measure else []
    scored = ["campaign-scores.csv"] if args.truth_dir is not None else []
    check_own_tables(str(args.out), measured + scored)  # (batch() checks its summary)
    if args.prompts_dir is not None:  # (checked before the videos; batch() finds each
        check_in_folder(args.prompts_dir, "prompts")  # video's file by its store's name)
    summary = batch(  # checks every option before any work, as segment() does
        args.videos,
        args.out,
        scheduler=args.scheduler,
        workers=args.workers,
        threads=args.threads,
        retries=args.retries,
        prompts=args.prompts_dir,
        chunk_frames=args.chunk_frames,
        progress=show_progress(args),
        fps=args.fps,
        **options,
    )
    for row in summary.itertuples():
        extra = f" ({row.error})" if row.error else ""
        frames = f"{row.frames} frame{'s' if row.frames != 1 else ''}"
        print(f"{row.video}: {row.status}, {frames} -> {row.store}{extra}")
    print(f"summary: {summary.attrs['summary']}")
    if args.measure:
        from ecoseg.batch import campaign_tables, store_location, write_tables
        from ecoseg.batch.tables import tables_videos

        ok = summary["status"] != "failed"
        names = [video_name(store) for store in summary.loc[ok, "store"]]  # OUT/<name>.zarr
        failed = summary.loc[~ok, "video"].tolist()
        if names:
            stores = {name: store_location(args.out, name) for name in names}
            tables = campaign_tables(stores, scheduler=args.scheduler, progress=show_progress(args))
            gone = {video_name(store) for store in summary.loc[~ok, "store"]}  # (said below)
            dropped = [v for v in tables_videos(args.out) if v not in stores and v not in gone]
            written = write_tables(tables, args.out)
            for location in written:
                print(f"table: {location}" + (" (INCOMPLETE)" if failed else ""))
            if dropped:  # an earlier run's tables held more videos than this run's
                print(
                    f"tables: replaced tables that also held {len(dropped)} video(s) not in "
                    f"this run ({_few(dropped)}); give every video of the campaign to measure "
                    "them all"
                )
        if failed:  # the tables must not pass for the whole campaign
            which = f"{len(failed)} failed video(s): {', '.join(failed)}"
            print(
                f"tables: INCOMPLETE, without the {which}"
                if names
                else f"tables: not written, no store of the {which}; any campaign-*.csv "
                "already there is from an earlier run"
            )
    if args.truth_dir is not None:
        _batch_scores(args, summary)
    return 1 if (summary["status"] == "failed").any() else 0


def _batch_scores(args, summary) -> None:
    """``ecoseg batch --truth-dir``: the campaign's scores, OUT/campaign-scores.csv."""
    from ecoseg.batch import store_location, video_name
    from ecoseg.batch.scores import campaign_scores, find_truths
    from ecoseg.batch.tables import tables_videos, write_csv
    from ecoseg.batch.urls import join_url, redact_url

    ok = summary["status"] != "failed"
    names = [video_name(store) for store in summary.loc[ok, "store"]]  # OUT/<name>.zarr
    truths = find_truths(args.truth_dir, names)
    missing = [n for n in names if n not in truths]
    if truths:
        stores = {n: store_location(args.out, n) for n in names}
        scores = campaign_scores(stores, truths, progress=show_progress(args))
        location = join_url(args.out, "campaign-scores.csv")
        dropped = [v for v in tables_videos(args.out, "scores") if v not in truths]
        write_csv(scores, location)
        failed = (~ok).sum()
        print(
            f"scores: {redact_url(location)} ({len(truths)} video(s)"
            + (f"; {failed} failed video(s) not scored" if failed else "")
            + ")"
        )
        if dropped:  # an earlier run's scores held more videos than this run's
            print(
                f"scores: replaced a table that also held {len(dropped)} video(s) not scored "
                f"in this run ({_few(dropped)}); give every video of the campaign to score "
                "them all"
            )
    if missing:
        print(f"scores: no truth in {args.truth_dir} for {len(missing)} video(s) ({_few(missing)})")


def _few(names: list[str]) -> str:
    """The first three names, and how many more (``T1, T2, T3 and 8 more``)."""
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
