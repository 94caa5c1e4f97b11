"""The ``ecoseg`` command.

Every subcommand is a thin shell over the public Python API. Errors a user can cause
(:class:`ecoseg.errors.EcosegError`) print one line, ``ecoseg: error: <reason>``, and exit with
status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ecoseg._cli import (
    OneLineParser,
    add_engine_options,
    add_fps_option,
    add_quiet_options,
    check_network_options,
    check_out_file,
    check_outputs,
    cli_words,
    close_progress_bars,
    engine_options,
    one_line,
    one_line_warnings,
    reader_gone,
    show_progress,
)
from ecoseg._formats_cli import add_export, add_import
from ecoseg._info_cli import add_info
from ecoseg._paths import check_in_folder, check_out_folder, check_outside_store
from ecoseg._segment_cli import add_segment
from ecoseg._species_cli import add_classify, add_edit
from ecoseg._version import __version__
from ecoseg.errors import ConfigError, EcosegError

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_READER_GONE = 141  # as a shell reports a command ended by SIGPIPE (`... | head -1`)


def _worker_ignores_ctrl_c() -> None:
    """In a worker process of a local Dask cluster started by ``ecoseg batch`` or ``ecoseg
    study`` (each imports the command's script, and so this module, as ``__mp_main__`` before
    anything else), ignore SIGINT: Ctrl-C in a terminal reaches every process of the group, and
    a worker process still starting printed a KeyboardInterrupt traceback from the middle of
    its imports under 'ecoseg: interrupted'. The command closes its workers itself
    (:func:`ecoseg.batch.connect`; started workers ignore it too: ``ecoseg.batch._worker``)."""
    import signal

    running = sys.modules.get("__mp_main__")
    if running is not None and running is not sys.modules.get("__main__"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)


_worker_ignores_ctrl_c()

_COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {}


def command(name: str):
    """Register a function that adds the subparser for ``name``."""

    def deco(fn):
        _COMMANDS[name] = fn
        return fn

    return deco


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive, got {text!r}")
    return w, h


# --------------------------------------------------------------------------- synth
@command("synth")
def _add_synth(sub):
    p = sub.add_parser(
        "synth",
        help="make a synthetic reef clip with exact ground truth",
        description="Render a procedural reef clip (video.mp4) and its truth store (truth.zarr).",
    )
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--seed", type=int, metavar="N", default=0, help="random seed (default 0)")
    p.add_argument(
        "--frames", type=int, metavar="N", default=150, help="number of frames (default 150)"
    )
    p.add_argument(
        "--size",
        type=_size,
        default=(640, 360),
        metavar="WIDTHxHEIGHT",
        help="frame size in pixels (default 640x360)",
    )
    p.add_argument(
        "--fps", type=float, metavar="N", default=30.0, help="frames per second (default 30)"
    )
    p.add_argument(
        "--camera",
        choices=("static", "pan", "shake", "fast-pan"),
        default="static",
        help="camera motion (default static)",
    )
    p.add_argument("--fish", type=int, metavar="N", default=6, help="number of fish (default 6)")
    p.add_argument(
        "--invertebrates",
        type=int,
        metavar="N",
        default=2,
        help="number of slow invertebrates (default 2)",
    )
    p.add_argument(
        "--crf",
        type=int,
        metavar="N",
        default=20,
        help="H.264 quality, 0 = lossless, 51 = worst (default 20)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    p.set_defaults(func=_run_synth)


def _run_synth(args) -> int:
    from ecoseg.measure.calibration import scale_text
    from ecoseg.synth import synth

    result = synth(
        args.out,
        seed=args.seed,
        frames=args.frames,
        size=args.size,
        fps=args.fps,
        camera=args.camera,
        n_fish=args.fish,
        n_invertebrates=args.invertebrates,
        crf=args.crf,
        overwrite=args.overwrite,
        progress=show_progress(args),
    )
    print(f"video: {result.video}")
    print(f"truth: {result.truth}")
    print(f"calibration: {scale_text(result.mm_per_px)}")  # typed back: the same
    return 0


# --------------------------------------------------------------------------- segment
command("segment")(add_segment)


# --------------------------------------------------------------------------- measure
@command("measure")
def _add_measure(sub):
    p = sub.add_parser(
        "measure",
        help="regions, tracks, counts/MaxN and cover tables from a mask store",
        description=(
            "Measure a mask store into tidy tables (Parquet + CSV): regions, tracks, counts, "
            "maxn, cover. Calibration: MM_PER_PX (a number, or one followed by 'mm/px' as ecoseg "
            "prints it: '2.5 mm/px'), 'scale-bar:x0,y0,x1,y1,LENGTH_MM' or "
            "'lasers:x0,y0,x1,y1,SPACING_MM' (stored with the store); 'none': in pixels, "
            "the store's calibration cleared."
        ),
    )
    p.add_argument("store", metavar="STORE", help="mask store")
    p.add_argument("-o", "--out", required=True, help="output folder for the tables")
    p.add_argument(
        "--calibration",
        default=None,
        help="mm per pixel ('2.5' or '2.5 mm/px') or scale-bar/lasers spec (default the "
        "store's own); 'none': in pixels, the store's calibration cleared",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing tables")
    p.set_defaults(func=_run_measure)


def _run_measure(args) -> int:
    from ecoseg.measure import measure

    tables = measure(
        args.store,
        args.out,
        calibration=args.calibration,  # a spec, or 'none': measure parses it
        overwrite=args.overwrite,
        progress=show_progress(args),
    )
    for name, df in tables.items():  # write_table writes both files
        rows = f"{len(df)} row{'' if len(df) == 1 else 's'}"
        print(f"{name}: {rows} -> {Path(args.out) / name}.parquet, .csv")
    return 0


# --------------------------------------------------------------------------- evaluate
@command("evaluate")
def _add_evaluate(sub):
    p = sub.add_parser(
        "evaluate",
        help="accuracy of a mask store against a truth store (JSON)",
        description=(
            "J&F, HOTA/DetA/AssA, IDF1, MOTA, count, MaxN and area errors as JSON. A truth "
            "that annotates only some frames (an imported CVAT task of every N-th frame) is "
            "compared on those frames only, and the output says so."
        ),
    )
    p.add_argument("store", metavar="STORE", help="predicted mask store")
    p.add_argument(
        "--truth",
        required=True,
        metavar="TRUTH",
        help=(
            "ground-truth mask store, or a DAVIS-style folder of indexed PNG masks (of every "
            "frame, or of some frames: only those are scored)"
        ),
    )
    p.add_argument(
        "-o", "--out", default=None, help="write the JSON here, a .json file (default stdout)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    from ecoseg.metrics import evaluate, is_png_folder

    check_out_file(args.out, args.overwrite, suffix=".json", what="the metrics are a JSON file")
    if args.out:  # not into a store it reads (its zarr.json), nor into a DAVIS truth folder
        check_outside_store(args.out, args.store)
        pngs = is_png_folder(args.truth)
        kind = "folder of PNG masks" if pngs else "mask store"
        check_outside_store(args.out, args.truth, kind=kind)
    result = evaluate(args.store, args.truth, progress=show_progress(args))  # stdout: JSON
    text = json.dumps(result, indent=2, allow_nan=True)
    if args.out:  # its folder made, as every command's output (checked before the work)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text + "\n")
        print(f"metrics: {args.out}")
    else:
        print(text)
    if result.get("note"):  # also in the JSON; on stderr so that stdout stays JSON
        print(f"{args.truth}: {result['note']}", file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- formats
command("export")(add_export)
command("import")(add_import)


# --------------------------------------------------------------------------- report
@command("report")
def _add_report(sub):
    p = sub.add_parser(
        "report",
        help="a self-contained HTML report of mask stores",
        description=(
            "Write one HTML file (figures embedded, tables as CSV downloads, nothing fetched "
            "when it is opened): provenance, per-video summary, counts and MaxN, sizes, "
            "trajectories, speeds, cover, sample frames with masks, sites, and accuracy with "
            "--truth. Same inputs give the same bytes (SOURCE_DATE_EPOCH sets the date shown)."
        ),
    )
    p.add_argument("stores", nargs="+", metavar="STORE", help="mask stores, one per video")
    p.add_argument("-o", "--out", required=True, help="HTML file to write")
    p.add_argument(
        "--study",
        default=None,
        metavar="STUDY.yaml",
        help="study file the stores belong to (STUDY.yaml)",
    )
    p.add_argument(
        "--truth",
        action="append",
        default=None,
        metavar="TRUTH",
        help="ground-truth store; give it once per STORE, in the same order",
    )
    p.add_argument("--title", default=None, help="page title")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.set_defaults(func=_run_report)


def _run_report(args) -> int:
    from ecoseg.metrics.truth import check_truth
    from ecoseg.report import report

    for truth in args.truth or ():  # a typo is refused, as by `evaluate --truth`, not put on
        check_truth(truth)  # the page (where a study's truth moved away with its video goes)
    study = None
    if args.study is not None:
        from ecoseg.study import load_study

        study = load_study(args.study, require_videos=False)
    path = report(
        args.stores,
        args.out,
        study=study,
        title=args.title,
        truth=args.truth,
        overwrite=args.overwrite,
        progress=show_progress(args),
    )
    print(f"report: {path}")
    return 0


# --------------------------------------------------------------------------- study
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


@command("study")
def _add_study(sub):
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


# --------------------------------------------------------------------------- batch
@command("batch")
def _add_batch(sub):
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
        print(f"{row.video}: {row.status}, {row.frames} frames -> {row.store}{extra}")
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
                shown = ", ".join(dropped[:3]) + (
                    f" and {len(dropped) - 3} more" if len(dropped) > 3 else ""
                )
                print(
                    f"tables: replaced tables that also held {len(dropped)} video(s) not in "
                    f"this run ({shown}); give every video of the campaign to measure them all"
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
    from ecoseg.batch.tables import write_csv
    from ecoseg.batch.urls import join_url, redact_url

    ok = summary["status"] != "failed"
    names = [video_name(store) for store in summary.loc[ok, "store"]]  # OUT/<name>.zarr
    truths = find_truths(args.truth_dir, names)
    missing = [n for n in names if n not in truths]
    if truths:
        stores = {n: store_location(args.out, n) for n in names}
        scores = campaign_scores(stores, truths, progress=show_progress(args))
        location = join_url(args.out, "campaign-scores.csv")
        write_csv(scores, location)
        failed = (~ok).sum()
        print(
            f"scores: {redact_url(location)} ({len(truths)} video(s)"
            + (f"; {failed} failed video(s) not scored" if failed else "")
            + ")"
        )
    if missing:
        shown = ", ".join(missing[:3]) + (
            f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        )
        print(f"scores: no truth in {args.truth_dir} for {len(missing)} video(s) ({shown})")


# --------------------------------------------------------------------------- demo
@command("demo")
def _add_demo(sub):
    p = sub.add_parser(
        "demo",
        help="run the whole job on the bundled sample clip",
        description=(
            "Segment and track the bundled reef sample with the motion tracker, measure it and "
            "compare with its ground truth. Works offline on a CPU."
        ),
    )
    p.add_argument("-o", "--out", default="ecoseg-demo", help="output folder (default ecoseg-demo)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier demo run")
    p.set_defaults(func=_run_demo)


def _run_demo(args) -> int:
    from ecoseg.demo import run_demo

    summary = run_demo(args.out, overwrite=args.overwrite, progress=show_progress(args))
    print(summary)
    return 0


# --------------------------------------------------------------------------- edit, classify
command("edit")(add_edit)
command("classify")(add_classify)


# --------------------------------------------------------------------------- info
command("info")(add_info)


# --------------------------------------------------------------------------- weights
@command("weights")
def _add_weights(sub):
    p = sub.add_parser(
        "weights",
        help="list, download, verify or locate SAM 2 / SAM 3 checkpoints",
        description=(
            "Manage the official SAM 2 / 2.1 checkpoints and the gated SAM 3 weights (your own "
            "Hugging Face token) in the weights cache (ECOSEG_WEIGHTS_DIR overrides its location)."
        ),
    )
    wsub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    wsub.add_parser("list", help="variants, files and whether they are cached")
    d = wsub.add_parser("download", help="download a checkpoint into the cache")
    d.add_argument("name", metavar="NAME", help="variant, e.g. sam2.1-tiny or sam3")
    d.add_argument(
        "--checkpoint",
        metavar="PATH",
        default=None,
        help="adopt a checkpoint downloaded by hand (checked) instead of fetching it",
    )
    d.add_argument(
        "--overwrite",
        action="store_true",
        help="let --checkpoint replace a different checkpoint already in the cache",
    )
    v = wsub.add_parser("verify", help="check cached checkpoints against their sha256")
    v.add_argument("name", nargs="?", default=None, metavar="NAME", help="variant (default all)")
    pa = wsub.add_parser("path", help="print the cache path of a checkpoint")
    pa.add_argument("name", metavar="NAME", help="variant, e.g. sam2.1-tiny or sam3")
    p.set_defaults(func=_run_weights)


def _run_weights(args) -> int:
    from ecoseg.sam2 import weights
    from ecoseg.sam3 import weights as hub_weights

    name = getattr(args, "name", None)
    hub = name in hub_weights.entries()
    known = [row["variant"] for row in weights.list_weights()] + list(hub_weights.entries())
    if name is not None and name not in known:  # said "unknown SAM 2 variant", sam3 unlisted
        raise ConfigError(f"unknown weights {name!r}; valid names: {', '.join(known)}")
    if args.action == "list":
        rows = weights.list_weights() + hub_weights.list_weights()
        print(f"{'variant':<18} {'cached':<7} file")
        for row in rows:
            print(f"{row['variant']:<18} {'yes' if row['cached'] else 'no':<7} {row['path']}")
    elif args.action == "download":
        if args.overwrite and args.checkpoint is None:
            raise ConfigError(
                "--overwrite is for --checkpoint (a file replacing the cached one); a download "
                "never replaces a cached file: delete it to download it again"
            )
        module = hub_weights if hub else weights
        print(module.download(args.name, checkpoint=args.checkpoint, overwrite=args.overwrite))
    elif args.action == "verify":
        failed = 0
        if args.name is None:
            results = weights.verify() + hub_weights.verify()
        else:
            results = (hub_weights if hub else weights).verify(args.name)
        if not results:  # nothing cached: say so rather than print nothing
            print(f"no weights in {weights.cache_dir()} yet (ecoseg weights download NAME)")
        for name, ok, reason in results:
            print(f"{name}: {'ok' if ok else 'FAILED'} {reason}")
            failed += not ok
        return 1 if failed else 0
    else:
        print((hub_weights if hub else weights).weights_path(args.name))
    return 0


# --------------------------------------------------------------------------- main
def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="ecoseg",
        description=(
            "Segment, track and measure organisms in reef and habitat video. "
            "Start with `ecoseg demo`."
        ),
    )
    parser.add_argument("--version", action="version", version=f"ecoseg {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add in _COMMANDS.values():
        add(sub)
    add_quiet_options(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecoseg`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        check_outputs(args)
        with one_line_warnings():
            code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader gone is found here, not in Python's flush at exit
        return code
    except (EcosegError, OSError) as exc:  # OSError: disk full, permissions, ...: not a bug
        if isinstance(exc, BrokenPipeError) and reader_gone():
            return EXIT_READER_GONE
        if args.debug:
            raise
        close_progress_bars()
        print(f"ecoseg: error: {cli_words(one_line(exc))}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, EcosegError) else 1
    except KeyboardInterrupt:
        close_progress_bars()
        print("ecoseg: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
