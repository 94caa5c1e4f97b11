"""The ``ecoseg`` command.

Every subcommand is a thin shell over the public Python API. Errors a user can cause
(:class:`ecoseg.errors.EcosegError`) print one line, ``ecoseg: error: <reason>``, and exit with
status 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ecoseg._bundled import local_path
from ecoseg._campaign_cli import add_batch, add_study
from ecoseg._cli import (
    OneLineParser,
    add_quiet_options,
    check_out_file,
    check_outputs,
    cli_words,
    close_progress_bars,
    one_line,
    one_line_warnings,
    reader_gone,
    show_progress,
)
from ecoseg._formats_cli import add_export, add_import
from ecoseg._hashing import hash_cache_path
from ecoseg._info_cli import add_info
from ecoseg._paths import check_outside_store
from ecoseg._segment_cli import add_segment
from ecoseg._species_cli import add_classify, add_edit
from ecoseg._version import __version__
from ecoseg.errors import ConfigError, EcosegError
from ecoseg.provenance import source_date_epoch

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
        "--frames",
        type=int,
        metavar="N",
        default=150,
        help="number of frames (default 150, at most 100000)",
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
        help="mm per pixel ('2.5' or '2.5 mm/px': a decimal point, not a comma), or "
        "scale-bar/lasers spec (default the store's own); 'none': in pixels, the store's "
        "calibration cleared",
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
    print(_measured_with(tables["regions"].attrs.get("calibration"), args))
    return 0


def _measured_with(calibration, args) -> str:
    """The line saying the units of the tables: the calibration they were measured with and
    where it came from (a stored one is reused without being given), or none (pixels)."""
    if not calibration:
        return "calibration: none, sizes in pixels only (--calibration MM_PER_PX adds mm columns)"
    from ecoseg.measure.calibration import Calibration

    text = str(Calibration.from_dict(calibration))
    given = args.calibration is not None
    return f"calibration: {text}" + ("" if given else f", the one stored with {args.store}")


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
            "frame, or of some frames: only those are scored); ecoseg:sample/truth.zarr is the "
            "bundled sample's"
        ),
    )
    p.add_argument(
        "-o", "--out", default=None, help="write the JSON here, a .json file (default stdout)"
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=_run_evaluate)


def _run_evaluate(args) -> int:
    from ecoseg.metrics import evaluate, is_png_folder
    from ecoseg.metrics.truth import check_truth
    from ecoseg.store import check_opens

    check_opens(args.store)  # the inputs before the output: a missing store is named before
    args.truth = local_path(args.truth)  # ecoseg:sample/truth.zarr, the bundled sample's
    check_truth(args.truth)  # an --out file that exists
    what = "the metrics are a JSON file"
    check_out_file(args.out, args.overwrite, suffix=".json", what=what, file_name="metrics.json")
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
        help="ground-truth store; give it once per STORE, in the same order "
        "(ecoseg:sample/truth.zarr: the bundled sample's)",
    )
    p.add_argument("--title", default=None, help="page title")
    p.add_argument("--overwrite", action="store_true", help="replace an existing file")
    p.set_defaults(func=_run_report)


def _run_report(args) -> int:
    from ecoseg.metrics.truth import check_truth
    from ecoseg.report import report
    from ecoseg.store import check_opens

    for store in args.stores:  # the stores reported on before their truths, as by evaluate
        check_opens(store)
    # ecoseg:sample/truth.zarr: the bundled sample's truth, as a report's steps name it
    args.truth = [local_path(t) for t in args.truth] if args.truth else None
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


# --------------------------------------------------------------------------- study, batch
command("study")(add_study)
command("batch")(add_batch)


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
    wsub.add_parser(
        "list", help="variants, files and whether they are cached (or damaged, and why)"
    )
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
        from ecoseg.sam3.config import PRESETS  # only here: it loads torch

        test = (  # the laptop trial's model (docs/concepts.md), looked for among weights
            f": a small test configuration with no published weights (segment --model {name} "
            "--random-weights runs it)"
            if name in PRESETS
            else ""
        )
        raise ConfigError(f"unknown weights {name!r}{test}; valid names: {', '.join(known)}")
    if args.action == "list":
        rows = weights.list_weights() + hub_weights.list_weights()
        print(f"{'variant':<18} {'cached':<7} file")
        for row in rows:
            cached = "damaged" if row["damaged"] else "yes" if row["cached"] else "no"
            damage = f": {row['damaged']}" if row["damaged"] else ""  # as `weights verify` says
            print(f"{row['variant']:<18} {cached:<7} {row['path']}{damage}")
    elif args.action == "download":
        if args.overwrite and args.checkpoint is None:
            raise ConfigError(
                "--overwrite is for --checkpoint (a file replacing the cached one); a download "
                "never replaces a cached file: delete it to download it again"
            )
        module = hub_weights if hub else weights
        progress = show_progress(args)
        kwargs = dict(checkpoint=args.checkpoint, overwrite=args.overwrite, progress=progress)
        print(module.download(args.name, **kwargs))
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
        source_date_epoch()  # before SciPy loads: NumPy reads it with int() then
        hash_cache_path()  # a relative ECOSEG_HASH_CACHE: refused before any work
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
