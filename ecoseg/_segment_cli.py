"""The ``ecoseg segment`` subcommand (a shell over :func:`ecoseg.segment`).

Public names in a private module: :mod:`ecoseg.cli` registers them; users run the command.
"""

from __future__ import annotations

import os
import sys

from ecoseg._cli import (
    add_engine_options,
    add_fps_option,
    check_network_options,
    engine_options,
    engine_params,
    show_progress,
)
from ecoseg._formats_cli import add_prompts_from, prompts_from
from ecoseg.errors import ConfigError

__all__ = ["add_segment"]


def add_segment(sub) -> None:
    """Add the ``segment`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "segment",
        help="segment and track organisms in a video into a mask store",
        description=(
            "Segment and track organisms in VIDEO into a zarr mask store. The sam2 engine "
            "follows the objects in a prompt file; the classical motion tracker needs no "
            "prompts and no weights; SAM 3 (--model sam3 --concepts NAME ...) finds and tracks "
            "every instance of named concepts. Default engine: sam2 with --prompts, "
            "--prompts-from or --auto, else classical."
        ),
    )
    p.add_argument(
        "video",
        metavar="VIDEO",
        help="video file or folder of numbered images (with --concepts: a video file is tracked; "
        "an image or a folder of images is a photo survey, segmented photo by photo, unless "
        "--as-video; ecoseg:sample/video.mp4 is the bundled sample clip)",
    )
    p.add_argument("-o", "--out", required=True, help="mask store to write (STORE.zarr)")
    p.add_argument("--prompts", default=None, metavar="FILE.json", help="prompt file (JSON)")
    add_engine_options(
        p,
        concepts_help="SAM 3: find and track every instance of these concepts through a video "
        "file, or find them in an image or a folder of images (one store frame per image, "
        "e.g. photo quadrats)",
    )
    p.add_argument(
        "--score-threshold",
        type=float,
        metavar="S",
        default=None,
        help="with --concepts: keep instances scoring above this (default 0.5; a photo survey's "
        "one setting)",
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store")
    p.add_argument(
        "--key-interval",
        type=int,
        default=None,
        metavar="N",
        help="with --auto: the key interval, in frames: look for new organisms on every N-th "
        "frame, from frame 0 (default 15)",
    )
    p.add_argument(
        "--discovery",
        default=None,
        metavar="FILE.json",
        help="with --auto: discovery settings (thresholds, class rules; see docs/discovery.md); "
        "the same as --params",
    )
    p.add_argument(
        "--forward-only",
        action="store_true",
        help="sam2 engine: leave the frames before the earliest prompt empty instead of "
        "tracking backwards from it",
    )
    add_fps_option(p)
    add_prompts_from(p)
    p.set_defaults(func=_run_segment)


def _run_segment(args) -> int:
    # network options on a motion-tracker run, and an unknown SAM 2 --model: refused before a
    # missing --checkpoint file is and before --prompts-from reads the video (concept runs are
    # checked by engine_options)
    check_network_options(args, args.prompts is not None or args.prompts_from is not None)
    prompts = prompts_from(args)
    options = engine_options(args)
    threshold = args.score_threshold
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--score-threshold must be a score in [0, 1], got {threshold}")
    concepts = args.concepts is not None or (options["model"] or "").startswith("sam3")
    if concepts:  # a survey or a video by the one rule (is_photo_survey), in segment() too
        return _run_concepts(args, prompts, options)
    if args.detect_every != 1:
        raise ConfigError("--detect-every needs --concepts and a video file")
    if threshold is not None:
        raise ConfigError("--score-threshold needs --concepts")
    given = [
        flag
        for flag, value in (("--discovery", args.discovery), ("--key-interval", args.key_interval))
        if value is not None
    ]
    if given and not args.auto:  # the options given, not both (one named what nobody typed)
        raise ConfigError(f"{' and '.join(given)} need{'s' * (len(given) == 1)} --auto")
    options["params"] = _segment_params(args, options["params"])
    import warnings

    from ecoseg.engine.classical.motion import FastCameraWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FastCameraWarning)  # said below, in one line
        out = _segment(args, prompts, options)
    _warn_fast_camera(out, args.video)
    return 0


def _segment(args, prompts, options: dict, survey: bool = False) -> str:
    """:func:`ecoseg.segment` with the command's options; prints and returns the store (and,
    for a ``--resume`` of a store that was complete already, that nothing was left to do; for
    an image folder timed at the default rate, not a ``survey`` of photographs, that rate)."""
    from ecoseg.engine import segment

    done = args.resume and _complete(args.out)
    out = segment(
        args.video,
        prompts,
        out=args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        backward=not args.forward_only,  # concept tracking refuses --forward-only first
        fps=args.fps,  # concept tracking refuses it: a video file has its own timestamps
        progress=show_progress(args),
        **options,
    )
    print(f"masks: {out}" + (" (complete already: nothing was left to do)" if done else ""))
    if args.fps is None and not survey and os.path.isdir(os.fspath(args.video)):
        from ecoseg.io.folder import DEFAULT_FPS

        print(  # a time-lapse segmented without its rate: times and speeds silently 30 fps
            f"times: frame i at i / {DEFAULT_FPS:g} s ({DEFAULT_FPS:g} fps, the default: images "
            "carry no time; --fps N gives their real rate)"
        )
    return out


def _complete(out) -> bool:
    """Whether ``out`` is a complete store (before a ``--resume``); False for anything else
    (no store, not a store, damaged: the run says what)."""
    from ecoseg.store import MaskStore

    try:
        with MaskStore.open(out) as store:
            return store.complete
    except Exception:
        return False


def _warn_fast_camera(out, video) -> None:
    """One line on stderr, naming ``video``, when the motion tracker found the camera too fast
    (provenance)."""
    from ecoseg.store import MaskStore

    store = MaskStore.open(out)
    try:
        motion = store.provenance_record.camera_motion
    finally:
        store.close()
    if motion is not None and motion.too_fast:
        print(f"ecoseg: warning: {os.fspath(video)}: {motion.summary()}", file=sys.stderr)


def _run_concepts(args, prompts, options) -> int:
    """A concept run: a photo survey or concept tracking, as :func:`ecoseg.segment` decides
    (:func:`ecoseg.engine.survey_rule.is_photo_survey`), which refuses what each cannot use."""
    from ecoseg.engine.survey_rule import is_photo_survey

    survey = is_photo_survey(args.video, args.as_video)
    if args.detect_every < 1:
        raise ConfigError(f"--detect-every must be a positive integer, got {args.detect_every}")
    ignored = [
        flag
        for flag, on in (
            # concept tracking runs forward only (a survey's refusal names it with the rest)
            ("--forward-only", args.forward_only and not survey),
            ("--key-interval", args.key_interval is not None),  # --auto's
            ("--discovery", args.discovery is not None),  # --auto's
        )
        if on
    ]
    if ignored:
        what = (
            "a photo survey (--concepts on images: each photograph detected on its own)"
            if survey
            else "concept tracking (--concepts on a video: the detector finds the concepts' "
            "instances on every --detect-every frame)"
        )
        raise ConfigError(
            f"{args.video}: {', '.join(ignored)} {'do' if len(ignored) > 1 else 'does'} not "
            f"apply to {what}; leave it out"
        )
    if isinstance(prompts, str | os.PathLike) and args.concepts:  # named as typed: --concepts
        from ecoseg.prompts import combine_concepts, load_prompts

        combine_concepts(
            load_prompts(prompts).concepts, args.concepts, str(prompts), name="--concepts"
        )
    params = options["params"]
    if args.score_threshold is not None:  # a concept setting like the others
        if "score_threshold" in (params or {}):
            raise ConfigError("give the score threshold once: --score-threshold or --params")
        options["params"] = {**(params or {}), "score_threshold": args.score_threshold}
    # segment() refuses --engine and --auto (check_concept_run), and what a survey cannot use
    _segment(args, prompts, options, survey)  # its progress bar says "2 photographs, a survey"
    return 0


def _segment_params(args, params: dict | None) -> dict | None:
    """``segment``'s engine settings: ``params`` (read from ``--params``), or ``--discovery``
    (its older name with ``--auto``), with ``--key-interval`` on top."""
    if args.params is not None and args.discovery is not None:
        raise ConfigError("give the discovery settings once: --params or --discovery")
    params = params or engine_params(args.discovery, "--discovery")
    if args.key_interval is not None:  # named as typed, not as the setting it becomes
        from ecoseg.engine.discovery_params import check_key_interval

        check_key_interval(args.key_interval, "--key-interval")
        params = {**(params or {}), "key_interval": args.key_interval}
    return params
