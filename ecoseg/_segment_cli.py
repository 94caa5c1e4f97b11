"""The ``ecoseg segment`` subcommand (a shell over :func:`ecoseg.segment`).

Public names in a private module: :mod:`ecoseg.cli` registers them; users run the command.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ecoseg._cli import engine_params
from ecoseg._formats_cli import add_prompts_from, prompts_from
from ecoseg.errors import ConfigError

__all__ = ["add_fast_flag", "add_segment"]


def add_segment(sub) -> None:
    """Add the ``segment`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "segment",
        help="segment and track organisms in a video into a mask store",
        description=(
            "Segment and track organisms in VIDEO into a zarr mask store. The sam2 engine "
            "follows the objects in a prompt file; the classical motion tracker needs no "
            "prompts and no weights. Default engine: sam2 with --prompts, else classical."
        ),
    )
    p.add_argument(
        "video",
        help="video file or folder of numbered images (with --concepts: an image or a folder)",
    )
    p.add_argument("-o", "--out", required=True, help="mask store to write (STORE.zarr)")
    p.add_argument("--engine", choices=("sam2", "classical"), default=None)
    p.add_argument(
        "--model",
        default=None,
        help="SAM 2 variant (default sam2.1-tiny), or sam3 / sam3-reduced with --concepts",
    )
    p.add_argument("--checkpoint", default=None, help="checkpoint file (.pt or .safetensors)")
    p.add_argument("--prompts", default=None, help="prompt file (JSON)")
    p.add_argument(
        "--concepts",
        nargs="+",
        default=None,
        metavar="NAME",
        help="SAM 3: find every instance of these concepts in an image or a folder of images "
        "(one store frame per image, e.g. photo quadrats)",
    )
    p.add_argument(
        "--score-threshold",
        type=float,
        default=None,
        help="with --concepts: keep instances scoring above this (default 0.5)",
    )
    p.add_argument("--image-size", type=int, default=None, help="network input size")
    p.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda", "mps"),
        default="auto",
        metavar="auto|cpu|cuda|mps",
        help="where the network runs (sam2 engine); auto: CUDA, else Apple MPS, else CPU",
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run")
    p.add_argument("--overwrite", action="store_true", help="replace an existing store")
    p.add_argument(
        "--auto",
        action="store_true",
        help="also find and track organisms nobody clicked (sam2 engine; prompts optional)",
    )
    p.add_argument(
        "--key-interval",
        type=int,
        default=None,
        metavar="N",
        help="with --auto: look for new organisms every N frames (default 15)",
    )
    p.add_argument(
        "--discovery",
        default=None,
        metavar="FILE.json",
        help="with --auto: discovery settings (thresholds, class rules; see docs/discovery.md); "
        "the same as --params",
    )
    p.add_argument(
        "--params",
        default=None,
        metavar="JSON|FILE.json",
        help="engine settings, a JSON object or file: the motion tracker's (docs/classical.md), "
        "with --auto discovery's, with --concepts concept tracking's (docs/concepts.md)",
    )
    p.add_argument(
        "--forward-only",
        action="store_true",
        help="sam2 engine: leave the frames before the earliest prompt empty instead of "
        "tracking backwards from it",
    )
    p.add_argument(
        "--random-weights",
        action="store_true",
        help="build the network with random weights (tests and benchmarks only)",
    )
    add_prompts_from(p)
    _add_concept_flags(p)
    add_fast_flag(p)
    p.set_defaults(func=_run_segment)


def add_fast_flag(p) -> None:
    """``--fast`` of ``segment`` and ``batch``: the sam2 network in bf16 (docs/performance.md)."""
    p.add_argument(
        "--fast",
        action="store_true",
        help="sam2 engine: run the network in bf16 (about 1.3x faster on CPUs with bf16; "
        "masks within the bf16 bar of the tests, not bit-identical to the exact default)",
    )


def _add_concept_flags(p) -> None:
    """SAM 3 concept *tracking* flags of ``segment`` (a video with --concepts; docs/concepts.md)."""
    p.add_argument(
        "--detect-every",
        type=int,
        default=1,
        metavar="N",
        help="with --concepts on a video: run the concept detector on every N-th frame",
    )


def _run_segment(args) -> int:
    from ecoseg.engine import segment

    prompts = prompts_from(args)

    checkpoint = args.checkpoint
    if checkpoint is not None and not Path(checkpoint).is_file():
        raise ConfigError(f"{checkpoint}: checkpoint file not found")
    concept_model = str(args.model or "").startswith("sam3")
    threshold = args.score_threshold
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"--score-threshold must be a score in [0, 1], got {threshold}")
    if (args.concepts is not None or concept_model) and _is_video_file(args.video):
        return _run_concept_tracking(args, prompts, checkpoint)
    if args.detect_every != 1:
        raise ConfigError("--detect-every needs --concepts and a video file")
    if threshold is not None and args.concepts is None:
        raise ConfigError("--score-threshold needs --concepts")
    if args.concepts is not None:
        return _run_concepts(args, checkpoint)
    if args.model is None:
        args.model = "sam2.1-tiny"
    if (args.discovery is not None or args.key_interval is not None) and not args.auto:
        raise ConfigError("--discovery and --key-interval need --auto")
    params = _segment_params(args)
    import warnings

    from ecoseg.engine.classical.motion import FastCameraWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FastCameraWarning)  # said below, in one line
        out = segment(
            args.video,
            prompts,
            out=args.out,
            engine=args.engine,
            model=args.model,
            checkpoint=checkpoint,
            image_size=args.image_size,
            device=args.device,
            resume=args.resume,
            overwrite=args.overwrite,
            auto=args.auto,
            params=params,
            pretrained=not args.random_weights,
            backward=not args.forward_only,
            fast=args.fast,
        )
    print(f"masks: {out}")
    _warn_fast_camera(out)
    return 0


def _warn_fast_camera(out) -> None:
    """One line on stderr when the motion tracker found the camera too fast (provenance)."""
    from ecoseg.store import MaskStore

    store = MaskStore.open(out)
    try:
        motion = store.provenance_record.camera_motion
    finally:
        store.close()
    if motion is not None and motion.too_fast:
        print(f"ecoseg: warning: {motion.summary()}", file=sys.stderr)


def _is_video_file(path: str) -> bool:
    """A video file (concept tracking) rather than an image or a folder (photo surveys)."""
    from ecoseg.engine.concepts import list_images

    p = Path(path)
    if p.is_dir():
        return False
    try:
        list_images(p)
    except Exception:  # not an image: a video (its reader names any problem)
        return True
    return False


def _run_concept_tracking(args, prompts, checkpoint) -> int:
    from ecoseg.engine import segment

    if args.detect_every < 1:
        raise ConfigError(f"--detect-every must be a positive integer, got {args.detect_every}")
    model = args.model or "sam3"
    if not model.startswith("sam3"):
        raise ConfigError(f"--concepts needs a SAM 3 model (--model sam3), got {model!r}")
    params = engine_params(args.params)
    if args.score_threshold is not None:  # a concept-tracking setting like the others
        if "score_threshold" in (params or {}):
            raise ConfigError("give the score threshold once: --score-threshold or --params")
        params = {**(params or {}), "score_threshold": args.score_threshold}
    out = segment(
        args.video,
        prompts,
        out=args.out,
        model=model,
        checkpoint=checkpoint,
        image_size=args.image_size,
        device=args.device,
        resume=args.resume,
        overwrite=args.overwrite,
        pretrained=not args.random_weights,
        concepts=args.concepts,
        detect_every=args.detect_every,
        params=params,
        fast=args.fast,
    )
    print(f"masks: {out}")
    return 0


def _run_concepts(args, checkpoint) -> int:
    from ecoseg.engine.concepts import segment_images

    model = args.model or "sam3"
    if not model.startswith("sam3"):
        raise ConfigError(f"--concepts needs a SAM 3 model (--model sam3), got {model!r}")
    used = [
        f
        for f, on in (
            ("--prompts", args.prompts),
            ("--auto", args.auto),
            ("--resume", args.resume),
            ("--engine", args.engine),
            ("--fast", args.fast),
            ("--params", args.params),
        )
        if on
    ]
    if used:
        raise ConfigError(f"--concepts does not combine with {', '.join(used)}")
    out = segment_images(
        args.video,
        args.concepts,
        out=args.out,
        model=model,
        checkpoint=checkpoint,
        pretrained=not args.random_weights,
        image_size=args.image_size,
        device=args.device,
        overwrite=args.overwrite,
        score_threshold=0.5 if args.score_threshold is None else args.score_threshold,
    )
    print(f"masks: {out}")
    return 0


def _segment_params(args) -> dict | None:
    """``segment``'s engine settings: ``--params``, or ``--discovery`` (its older name with
    ``--auto``), with ``--key-interval`` on top."""
    if args.params is not None and args.discovery is not None:
        raise ConfigError("give the discovery settings once: --params or --discovery")
    params = engine_params(args.params) or engine_params(args.discovery, "--discovery")
    if args.key_interval is not None:
        params = {**(params or {}), "key_interval": args.key_interval}
    return params
