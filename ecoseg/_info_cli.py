"""The ``ecoseg info`` subcommand (a shell over :mod:`ecoseg.info`).

Public names in a private module: :mod:`ecoseg.cli` registers it; users run the command.

A video file or image folder given as a STORE is summarised as ``segment`` would read it
(frames, size as displayed, times, what was done to show it as players do).

Exit status: 0 when every store is well, 1 when ``--verify`` or ``--video`` found a problem
(one line per problem on stdout, naming the store, the array and the frames), 2 for a
mistake (not a store, a video that cannot be opened) through the CLI's one-line errors. Of
several stores, one that is a mistake gets its error line and the others are still summarised
(and verified); the exit status is then 2.
"""

from __future__ import annotations

import json
import sys

from ecoseg._cli import cli_words, one_line
from ecoseg.errors import ConfigError, EcosegError, StoreError, VideoError

__all__ = ["add_info"]

EXIT_DAMAGED = 1
EXIT_MISTAKE = 2


def add_info(sub) -> None:
    """Add the ``info`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "info",
        help="what a mask store holds; --verify: whether it survived a copy intact",
        description=(
            "Summarise mask stores: frame size, frames, complete or interrupted, duration, "
            "objects by class and class source, review edits, provenance and calibration. "
            "--verify reads every chunk and lists each missing or damaged one with its frames "
            "(exit status 1 if any). A video file or image folder is summarised as segment "
            "would read it: frames, size as displayed, times, rotation, timing notes. "
            "See docs/store.md."
        ),
    )
    p.add_argument(
        "stores", nargs="+", metavar="STORE", help="mask stores (or videos: what segment reads)"
    )
    p.add_argument(
        "--verify", action="store_true", help="read every chunk; report missing or damaged ones"
    )
    p.add_argument(
        "--video",
        default=None,
        metavar="VIDEO",
        help="check that this video is the one the STORE was made from",
    )
    p.add_argument("--json", action="store_true", help="one JSON object per store, one per line")
    p.set_defaults(func=_run_info)


def _run_info(args) -> int:
    if args.video is not None and len(args.stores) > 1:
        raise ConfigError("--video goes with one STORE")
    from ecoseg.info.summary import open_store
    from ecoseg.info.video import is_video
    from ecoseg.io._common import missing_video

    status = 0
    for path in args.stores:
        try:
            if _missing_video(path):  # not "no such store": it is named as a video
                raise VideoError(missing_video(path))
            if is_video(path):  # what segment would read from it (frames, size, times, notes)
                _video_one(path, args)
                continue
            with open_store(path) as store:  # once per store: summary and verify share it
                status = max(status, _info_one(path, store, args))
        except EcosegError as exc:  # one of several: said, and the others still summarised
            if len(args.stores) == 1 or getattr(args, "debug", False):
                raise
            sys.stdout.flush()
            print(f"ecoseg: error: {cli_words(one_line(exc))}", file=sys.stderr)
            status = EXIT_MISTAKE
    return status


def _missing_video(path) -> bool:
    """Whether ``path`` names a local video file (``dive.mp4``) that is not there."""
    import os

    from ecoseg.io.folder import VIDEO_SUFFIXES

    text = os.fspath(path)
    return (
        "://" not in text
        and os.path.splitext(text)[1].lower() in VIDEO_SUFFIXES
        and not os.path.lexists(text)
    )


def _video_one(path, args) -> None:
    """Summarise a video file or image folder given where a store is expected."""
    from ecoseg.info.video import video_summary

    if args.verify or args.video is not None:
        raise ConfigError(
            f"{path}: a video, not a mask store; --verify and --video check a STORE "
            f"(ecoseg info STORE --video {path})"
        )
    found = video_summary(path)
    print(json.dumps(found.to_dict(), allow_nan=False) if args.json else "\n".join(found.lines()))


def _info_one(path, store, args) -> int:
    """Summarise (and check) one open store; print it; its exit status."""
    from ecoseg._cli import show_progress
    from ecoseg.info import summary, verify

    checking = args.verify or args.video is not None
    status = 0
    try:
        found, unreadable = summary(store), None
    except StoreError as exc:
        if not checking:
            raise
        found, unreadable = None, " ".join(str(exc).split())
    problems = None
    if checking:
        problems = verify(
            store, args.video, chunks=args.verify, progress=show_progress(args) and not args.json
        )
        if unreadable is not None and not problems:
            raise StoreError(unreadable)  # not damage that verify can name
        status = EXIT_DAMAGED if problems else 0
    if args.json:
        print(json.dumps(_record(path, found, unreadable, problems), allow_nan=False))
    else:
        _print(path, found, unreadable, problems, args)
    return status


def _record(path, found, unreadable, problems) -> dict:
    """The JSON object of one store."""
    record = found.to_dict() if found is not None else {"path": str(path), "error": unreadable}
    if problems is not None:
        record["ok"] = not problems
        record["problems"] = [p.to_dict() for p in problems]
    return record


def _print(path, found, unreadable, problems, args) -> None:
    """The human summary of one store, then its problems, one line each."""
    if found is not None:
        print("\n".join(found.lines()))
    else:
        print(f"{path}\n  summary      cannot be read: {unreadable}")
    if problems is None:
        return
    checked = [what for what, on in (("chunks", args.verify), ("video", args.video)) if on]
    if problems:
        n, what = len(problems), " and ".join(checked)
        print(f"  verify       {n} problem{'s' if n != 1 else ''} (checked: {what})")
        for p in problems:
            print(p.describe())
    else:
        done = "every chunk present and readable" if args.verify else ""
        if args.video is not None:
            recorded = found is None or found.video_path or found.video_sha256
            video = "is the store's video" if recorded else "(the store records no video)"
            done += ("; " if done else "") + f"{args.video} {video}"
        print(f"  verify       ok: {done}")
