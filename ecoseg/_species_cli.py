"""The ``ecoseg edit`` and ``ecoseg classify`` subcommands (shells over :mod:`ecoseg.species`).

Public names in a private module: :mod:`ecoseg.cli` registers them; users run the command.
"""

from __future__ import annotations

import argparse
import json

from ecoseg.errors import ConfigError

__all__ = [
    "EditAction",
    "add_classify",
    "add_edit",
    "class_lines",
    "queue_line",
]


class EditAction(argparse.Action):
    """Collect edits in command-line order: ``args.edits`` = [(option, value), ...]."""

    def __call__(self, parser, namespace, values, option_string=None):
        edits = list(getattr(namespace, "edits", None) or [])
        edits.append((self.dest, values))
        namespace.edits = edits


def add_edit(sub) -> None:
    """Add the ``edit`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "edit",
        help="review edits on a mask store: set class, merge, split, delete, undo",
        description=(
            "Apply review edits to a mask store, in the order given. All of them are checked "
            "against the store (and the edits before them) first: if one is invalid, the "
            "command names it and changes nothing. Labels are rewritten chunk-atomically and "
            "every edit is kept in the store's append-only edit log (--log prints it); --undo "
            "takes back the last command, every edit of it, its labels byte for byte. A "
            "killed command is completed as a whole by the next edit or --resume."
        ),
    )
    p.add_argument("store", metavar="STORE", help="mask store (edited in place)")
    for flag, dest, metavar, text in (
        (
            "--set-class",
            "set_class",
            "ID=NAME",
            "name a track's species (marks it reviewed; a name differing only in letter case "
            "from one in the store is refused)",
        ),
        (
            "--unchecked-set-class",
            "unchecked_set_class",
            "ID=NAME",
            "a name set as ecoseg set it before it refused one differing only in letter case "
            "from one in the store (written with a warning); for replaying old edit logs",
        ),
        ("--merge", "merge", "A,B", "merge track B into track A"),
        (
            "--unchecked-merge",
            "unchecked_merge",
            "A,B",
            "a merge as ecoseg made it before it ranked names or refused two different names "
            "a person gave as surely (track A keeps its class); for replaying old edit logs",
        ),
        (
            "--split",
            "split",
            "ID@FRAME",
            "give a track a new id from FRAME on (FRAME after the track's first frame, at "
            "most its last); the new part is another animal: a name a person gave the track "
            "is only its suggestion",
        ),
        (
            "--unchecked-split",
            "unchecked_split",
            "ID@FRAME",
            "a split as ecoseg made it before it checked splits (at or before the track's "
            "first frame the new id takes the whole track; after its last one nothing moves; "
            "the new part keeps the track's class and source); for replaying old edit logs, "
            "as a report's reproduce steps do",
        ),
        ("--delete", "delete", "ID", "remove a false track"),
        (
            "--reviewed",
            "reviewed",
            "ID",
            "confirm a track's current class (an unknown track with a suggestion is refused: "
            "name it with --set-class ID=NAME)",
        ),
        (
            "--unchecked-reviewed",
            "unchecked_reviewed",
            "ID",
            "a reviewed mark as ecoseg made it before it refused one on an unknown track with "
            "a suggestion; for replaying old edit logs",
        ),
    ):
        p.add_argument(flag, dest=dest, metavar=metavar, action=EditAction, help=text)
    p.add_argument(
        "--undo",
        dest="undo",
        nargs=0,
        action=EditAction,
        help="undo the last command (every edit it made)",
    )
    p.add_argument(
        "--resume",
        action="store_true",
        help="only complete what a killed run left pending (an edit and the rest of its command)",
    )
    p.add_argument(
        "--log",
        action="store_true",
        help="print the edit log in plain words, each edit an undo took back marked with that "
        "undo (alone: read only)",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="with --log: print the log's entries as stored, one JSON object per line",
    )
    p.set_defaults(func=_run_edit, edits=[])


def _run_edit(args) -> int:
    from ecoseg._cli import show_progress
    from ecoseg.species import Edit, Review, apply_edits, edit_log, parse_edit_args
    from ecoseg.species._edit_log import done_words
    from ecoseg.species._edit_record import cli_words

    edits = []
    for kind, value in args.edits:
        if kind == "undo":
            edits.append(Edit("undo"))
        else:
            try:
                edits += parse_edit_args(**{kind: [value]})
            except ConfigError as exc:  # name the store and the option, as the checks do
                where = f"--{kind.replace('_', '-')} {value}"
                text = str(exc) if str(exc).startswith("--") else f"{where}: {exc}"
                raise ConfigError(f"{args.store}: {text}; nothing was changed") from None
    if args.json and not args.log:
        raise ConfigError(
            f"{args.store}: --json says how --log prints the edit log; give it with --log; "
            "nothing was changed"
        )
    if not edits and not args.resume and not args.log:
        raise ConfigError(
            "no edit given (--set-class, --merge, --split, --delete, --reviewed, "
            "--undo, --resume or --log)"
        )
    if args.log and not edits and not args.resume:
        return _print_log(args.store, args.json)
    before = len(edit_log(args.store))
    Review(args.store)  # completes a pending edit (and the rest of its command) first
    done = len(edit_log(args.store)) - before
    if done:
        print(f"completed {done} edit(s) an interrupted command left pending")
    # all checked first
    applied = (
        apply_edits(args.store, edits, words=cli_words, progress=show_progress(args))
        if edits
        else []
    )
    undid = any(e["kind"] == "undo" for e in applied)  # the log, read for what it undid
    log = {e.get("n"): e for e in edit_log(args.store)} if undid else {}
    typed = edits if len(edits) == len(applied) else [None] * len(applied)
    for edit, entry in zip(typed, applied):
        print(f"edit {entry['n']}: {done_words(entry, cli_words, edit, log, args.store)}")
    if args.log:
        _print_entries(edit_log(args.store), args.json)
    return 0


def _print_entries(log: list[dict], as_json: bool) -> None:
    """The log on stdout: in plain words, undone edits marked (``log_lines``), or as stored."""
    from ecoseg.species import log_lines

    for line in [json.dumps(e) for e in log] if as_json else log_lines(log):
        print(line)


def _print_log(path: str, as_json: bool = False) -> int:
    """``ecoseg edit STORE --log`` alone: print the log read-only (no writer lock, so it works
    while another command writes the store) and say what an interrupted command left."""
    import sys

    from ecoseg.species import edit_log
    from ecoseg.store import ATTRS_KEY, MaskStore, unfinished_edits, unfinished_note

    with MaskStore.open(path) as store:
        log = edit_log(store)
        left = unfinished_edits(store.attrs.get(ATTRS_KEY, {}))
    _print_entries(log, as_json)
    if not log and not left:  # on stderr: stdout stays the log's lines (none)
        print(f"{path}: no edits yet", file=sys.stderr)
    if left:  # informs only: reading the log is harmless
        print(f"{path}: {unfinished_note(left, path)} (not in the log yet)", file=sys.stderr)
    return 0


def add_classify(sub) -> None:
    """Add the ``classify`` subcommand to an argparse subparsers object."""
    p = sub.add_parser(
        "classify",
        help="name the species of unreviewed tracks with a model trained on reviewed ones",
        description=(
            "Train a species model on the reviewed tracks of --train stores (or load --model) "
            "and write a class and a calibrated probability to every unreviewed track of the "
            "stores. Tracks below --threshold stay 'unknown' and come first in the review "
            "queue (printed, least confident first)."
        ),
    )
    p.add_argument("stores", nargs="+", metavar="STORE", help="mask stores to classify")
    # repeated options add up (--train a.zarr --train b.zarr trains on both; the last one
    # alone was used, silently)
    p.add_argument(
        "--train",
        nargs="+",
        action="extend",
        metavar="REVIEWED_STORE",
        default=None,
        help="stores with reviewed tracks to train on",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="FILE",
        help="a saved species model (JSON) instead; ecoseg:species_model.json: the one ecoseg "
        "ships (ecoseg demo's)",
    )
    p.add_argument(
        "--model-sha256",
        default=None,
        metavar="HEX",
        help="refuse a --model file that is not the species model of this SHA-256 (the one a "
        "classification's record names; a report's reproduce steps give it)",
    )
    p.add_argument(
        "--save-model", default=None, metavar="FILE", help="write the trained model here (JSON)"
    )
    p.add_argument(
        "--threshold",
        type=float,
        metavar="P",
        default=0.5,
        help="probability below which a track stays unknown (default 0.5)",
    )
    p.add_argument(
        "--video",
        nargs="+",
        action="extend",
        metavar="VIDEO",
        default=None,
        help="the video of each STORE (default from the store's provenance)",
    )
    p.add_argument(
        "--train-video",
        nargs="+",
        action="extend",
        metavar="VIDEO",
        default=None,
        help="the video of each --train store (default from its provenance)",
    )
    p.add_argument(
        "--calibration",
        default=None,
        metavar="SPEC",
        help="measure the tracks with this calibration (MM_PER_PX, also as '2.5 mm/px', "
        "scale-bar or lasers spec, as for ecoseg measure), saved into the stores with the "
        "classification (default each store's own); 'none': in pixels, the stores' "
        "calibrations cleared; a report's steps give the one a classification recorded; "
        "one that replaces another stored warns, naming both, as ecoseg measure does",
    )
    p.add_argument("--overwrite", action="store_true", help="replace --save-model")
    p.add_argument(
        "--queue", type=int, metavar="N", default=10, help="review-queue rows to print (default 10)"
    )
    p.add_argument(
        "--keep-visual",
        action="store_true",
        help="leave tracks of a concept of exemplars alone (class visual) as they are, as "
        "classify did before it named them; for replaying old edit logs",
    )
    p.set_defaults(func=_run_classify)


def class_lines(counts) -> list[str]:
    """The lines of a store's tracks per class and class source, in aligned columns (a
    species name longer than 16 characters widens its column rather than shifting its row).

    Examples
    --------
    >>> import pandas as pd
    >>> counts = pd.Series([2, 1], index=pd.MultiIndex.from_tuples(
    ...     [("Acanthurus lineatus", "classified"), ("wrasse", "reviewed")]))
    >>> for line in class_lines(counts):
    ...     print(line)
      Acanthurus lineatus classified  2
      wrasse              reviewed    1
    """
    width = max([16, *(len(str(cls)) for cls, _ in counts.index)])
    return [f"  {cls:<{width}} {src:<11} {n}" for (cls, src), n in counts.items()]


def _run_classify(args) -> int:
    from ecoseg.species import classify

    if args.queue < 0:
        raise ConfigError(f"--queue must be 0 or more (rows of the review queue), got {args.queue}")
    from ecoseg._cli import show_progress

    table = classify(
        args.stores,
        train=args.train,
        model=args.model,
        save_model=args.save_model,
        threshold=args.threshold,
        videos=args.video,
        train_videos=args.train_video,
        overwrite=args.overwrite,
        progress=show_progress(args),
        keep_visual=args.keep_visual,
        model_sha256=args.model_sha256,
        calibration=args.calibration,
    )
    for store in table.attrs["stores"]:
        sub = table[table["store"] == store]
        if not len(sub):  # an empty store (or one whose tracks were all deleted)
            print(f"{store}: no tracks, nothing to classify")
            continue
        counts = sub.groupby(["class", "class_source"]).size()
        if store in table.attrs["calibration_only"]:
            same = ", none changed; the calibration was saved (an edit: --undo takes it back)"
        elif store not in table.attrs["changed"]:
            same = ", none changed (no edit recorded)"
        else:
            same = ""
        print(f"{store}: {len(sub)} tracks{same}")
        for line in class_lines(counts):
            print(line)
    if args.save_model:
        print(f"model: {args.save_model} (sha256 {table.attrs['model_sha256'][:12]})")
    todo = table[~table["reviewed"]].head(args.queue)
    if len(todo):
        print("review next (least confident first):")
        for row in todo.to_dict("records"):
            print(f"  {queue_line(row)}")
    return 0


def queue_line(row) -> str:
    """One track of the review queue (a row of :func:`ecoseg.classify`'s table, as a
    mapping), as ``ecoseg classify`` prints it: a track the model left ``unknown`` says so,
    with its best guess (it read like a name given, ``wrasse p=0.48``, and ``--reviewed``
    on it would have confirmed ``unknown``).

    Examples
    --------
    >>> queue_line({"store": "a.zarr", "object_id": 4, "class": "unknown",
    ...             "class_suggestion": "wrasse", "class_probability": 0.48,
    ...             "class_source": "unknown"})
    'a.zarr track 4: unknown, best guess wrasse p=0.48 (name it: --set-class 4=wrasse)'
    >>> queue_line({"store": "a.zarr", "object_id": 5, "class": "wrasse",
    ...             "class_suggestion": "wrasse", "class_probability": 0.61,
    ...             "class_source": "classified"})
    'a.zarr track 5: wrasse p=0.61'
    """
    from ecoseg.species._edit_record import Edit, cli_words

    p = row["class_probability"]  # none for a class the model did not give (a prompt's)
    how = f"p={p:.2f}" if p == p else f"class from {row['class_source']}, no probability"
    head = f"{row['store']} track {row['object_id']}: "
    guess = row["class_suggestion"]
    if row["class"] == "unknown" and guess != "unknown":
        name = cli_words(Edit("set_class", (int(row["object_id"]),), cls=guess))
        return f"{head}unknown, best guess {guess} {how} (name it: {name})"
    return f"{head}{guess} {how}"
