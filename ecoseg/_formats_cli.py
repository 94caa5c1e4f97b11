"""The ``ecoseg export`` and ``ecoseg import`` subcommands and ``segment --prompts-from``
(shells over :mod:`ecoseg.formats`).

Public names in a private module: :mod:`ecoseg.cli` registers them; users run the command.
"""

from __future__ import annotations

from ecoseg._cli import add_fps_option, show_progress
from ecoseg.errors import ConfigError

__all__ = ["FORMAT_NAMES", "add_export", "add_import", "add_prompts_from", "prompts_from"]

FORMAT_NAMES = ("coco", "ytvis", "mot", "mots", "cvat", "viame", "davis")


def add_prompts_from(p) -> None:
    """segment's --prompts-from / --format / --prompt-frames options (annotation prompts)."""
    p.add_argument(
        "--prompts-from",
        default=None,
        metavar="FILE",
        help="another tool's annotations (boxes or masks) as prompts; needs --format",
    )
    p.add_argument("--format", default=None, choices=FORMAT_NAMES, help="format of --prompts-from")
    p.add_argument(
        "--prompt-frames",
        action="append",  # repeated, the frames add up (argparse kept the last list only)
        default=None,
        metavar="N,M,...",
        help="with --prompts-from: prompt only on these video frames, counted from 0 (a MOT "
        "file's frame 1 is frame 0; default every annotated frame); may be repeated",
    )


def prompts_from(args):
    """The prompts of a segment run: --prompts, or annotations from --prompts-from."""
    if args.prompts_from is None:
        if args.format is not None or args.prompt_frames is not None:
            raise ConfigError("--format and --prompt-frames go with --prompts-from")
        return args.prompts
    if args.prompts is not None:
        raise ConfigError("give --prompts or --prompts-from, not both")
    if args.format is None:
        raise ConfigError("--prompts-from needs --format (" + "|".join(FORMAT_NAMES) + ")")
    from ecoseg.formats import prompts_from_file

    frames = None
    if args.prompt_frames is not None:
        frames = []
        for given in args.prompt_frames:
            try:
                frames += [int(v) for v in given.split(",") if v.strip()]
            except ValueError:
                raise ConfigError(f"--prompt-frames: {given!r} is not N,M,...") from None
    return prompts_from_file(args.prompts_from, args.format, args.video, frames=frames)


def add_export(sub) -> None:
    """Add the ``export`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "export",
        help="write a mask store as COCO, YouTube-VIS, MOT, MOTS, CVAT, VIAME or DAVIS",
        description=(
            "Export a mask store to an annotation format: coco (instance segmentation JSON), "
            "ytvis (YouTube-VIS video JSON), mot (MOTChallenge boxes), mots (MOTS RLE text), "
            "cvat (CVAT for video 1.1 XML), viame (VIAME/DIVE CSV), davis (folder of indexed "
            "PNGs). See docs/formats.md for what each keeps."
        ),
    )
    p.add_argument("store", metavar="STORE", help="mask store")
    p.add_argument("--format", required=True, choices=FORMAT_NAMES, help="output format")
    p.add_argument("-o", "--out", required=True, help="output file (a folder for davis)")
    p.add_argument("--polygons", action="store_true", help="viame: add (poly) outlines")
    p.add_argument(
        "--mot-layout",
        choices=("tracker", "gt"),
        help="mot: tracker results (10 columns, scores; the default) or ground truth "
        "(9 columns, class index; names in labels.txt beside the file)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace an existing output")
    p.set_defaults(func=_run_export)


def _run_export(args) -> int:
    from ecoseg.formats import export

    path = export(
        args.store,
        args.format,
        args.out,
        overwrite=args.overwrite,
        progress=show_progress(args),
        polygons=args.polygons,
        mot_layout=args.mot_layout,
    )
    print(f"{args.format}: {path}")
    return 0


def add_import(sub) -> None:
    """Add the ``import`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "import",
        help="turn COCO, YouTube-VIS, MOT, MOTS, CVAT, VIAME or DAVIS annotations into a store",
        description=(
            "Import another tool's annotations of VIDEO into a mask store (e.g. a truth store "
            "for `ecoseg evaluate`). Masks stay masks, polygons are filled, boxes become "
            "filled boxes; ids, classes and confidences are kept."
        ),
    )
    p.add_argument("annotations", metavar="FILE_OR_FOLDER", help="annotation file (davis: folder)")
    p.add_argument("--format", required=True, choices=FORMAT_NAMES, help="input format")
    p.add_argument(
        "--video", required=True, metavar="VIDEO", help="the video the annotations belong to"
    )
    p.add_argument("-o", "--out", required=True, help="mask store to write")
    p.add_argument(
        "--align",
        choices=("index", "time"),
        default="index",
        help="match frames by number (index) or by the file's time stamps (time); default index",
    )
    p.add_argument(
        "--first-frame",
        type=int,
        metavar="N",
        default=None,
        help="mots: number of the first frame (default 1)",
    )
    add_fps_option(p, "--video")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store")
    p.set_defaults(func=_run_import)


def _run_import(args) -> int:
    from ecoseg.formats import import_annotations

    if args.first_frame is not None:  # said in the command's words, before the video is read
        if args.format != "mots":
            raise ConfigError(f"--first-frame goes with --format mots, not --format {args.format}")
        if args.first_frame < 0:
            raise ConfigError(
                f"--first-frame must be a non-negative integer, got {args.first_frame}"
            )
    out = import_annotations(  # the annotation file checked before the video, also at --fps
        args.annotations,
        args.format,
        args.video,
        args.out,
        align=args.align,
        overwrite=args.overwrite,
        progress=show_progress(args),
        first_frame=args.first_frame,
        photos=args.fps is None,  # --fps times the folder as footage, not a photo survey
        fps=args.fps,  # an image folder's rate (a video file refuses it)
    )
    print(f"masks: {out}")
    return 0
