"""Helpers shared by the command-line shells (``cli``, ``study``, ``batch``; ``napari`` reads
the library's spelling of an option, :data:`KEYWORD_OPTION`).

Public names in a private module: other ecoseg modules import them, users do not.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import select
import stat
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ecoseg._checks import did_you_mean
from ecoseg._device import check_device_name
from ecoseg._paths import (
    check_out_parent,
    check_out_suffix,
    check_overwrite,
    check_text_replaceable,
    read_file_text,
)
from ecoseg.errors import ConfigError

__all__ = [
    "OneLineParser",
    "OUTPUT_OPTIONS",
    "add_engine_options",
    "add_fps_option",
    "add_quiet_options",
    "QUIET_COMMANDS",
    "device_option",
    "command_parser",
    "show_progress",
    "check_network_options",
    "check_out_file",
    "check_outputs",
    "engine_options",
    "engine_params",
    "KEYWORD_OPTION",
    "frame_rate",
    "is_keyword",
    "logger",
    "cli_words",
    "one_line",
    "one_line_warnings",
    "reader_gone",
    "write_line",
]


class OneLineParser(argparse.ArgumentParser):
    """argparse with ecoseg's one-line errors: a mistyped option or value prints
    ``ecoseg: error: COMMAND: REASON`` and exits 2 (no usage block; ``--help`` shows it).

    Examples
    --------
    >>> import contextlib, io
    >>> p = OneLineParser(prog="ecoseg segment")
    >>> _ = p.add_argument("--engine", choices=("sam2", "classical"))
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err), contextlib.suppress(SystemExit):
    ...     p.parse_args(["--engine", "sam3"])
    >>> print(err.getvalue().strip())  # doctest: +ELLIPSIS
    ecoseg: error: segment: argument --engine: invalid choice: 'sam3' ...--help`)
    """

    #: The subcommands this parser was given (:meth:`add_subparsers`), for
    #: :func:`command_parser`; None without.
    commands: argparse._SubParsersAction | None = None

    def add_subparsers(self, **kwargs):
        """argparse's, kept as :attr:`commands` (argparse itself keeps it only privately)."""
        self.commands = super().add_subparsers(**kwargs)
        return self.commands

    def parse_known_args(self, args=None, namespace=None):
        """A subcommand refuses words it does not know itself, so the error names it and its
        ``--help`` (the top parser said ``unrecognized arguments`` and pointed to
        ``ecoseg --help``)."""
        known, extra = super().parse_known_args(args, namespace)
        if extra and " " in self.prog:
            # the top parser's own options go before the command
            sub = self.prog.split(" ", 1)[1]
            hint = f"; --debug goes before the command: `ecoseg --debug {sub} ...`" * (
                "--debug" in extra
            )
            self.error(f"unrecognized arguments: {' '.join(extra)}{hint}")
        return known, extra

    def error(self, message: str):
        command = self.prog.split(" ", 1)[1] + ": " if " " in self.prog else ""
        reason = one_line(_with_suggestion(message))
        self.exit(2, f"ecoseg: error: {command}{reason} (see `{self.prog} --help`)\n")


def _with_suggestion(message: str) -> str:
    """argparse's ``invalid choice: 'X' (choose from ...)`` with the closest choice first
    (``ecoseg mesure`` and ``--engine clasical`` were told only the whole list).

    Examples
    --------
    >>> _with_suggestion("argument command: invalid choice: 'mesure' (choose from 'measure')")
    "argument command: invalid choice: 'mesure' (did you mean 'measure'?) (choose from 'measure')"
    """
    found = re.search(r"invalid choice: '([^']*)' \(choose from (.*)\)$", message)
    if found is None:
        return message
    close = did_you_mean(found.group(1), re.findall(r"'([^']*)'", found.group(2)))
    cut = found.end(1) + 1  # after the quote closing X
    return message[:cut] + close + message[cut:]


def engine_params(value: str | None, flag: str = "--params") -> dict[str, Any] | None:
    """Engine settings given on the command line: a JSON object, or a JSON file holding one.

    Parameters
    ----------
    value : str or None
        Text starting with ``{`` or ``[`` is read as JSON; anything else names a file.
    flag : str
        The option, for the one-line error.

    Raises
    ------
    ConfigError
        The file is missing, the JSON is invalid, or it is not an object.

    Examples
    --------
    >>> engine_params('{"min_area": 30}')
    {'min_area': 30}
    >>> engine_params(None) is None
    True
    >>> engine_params("[1, 2]")
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: --params: must be a JSON object of engine settings
    """
    if value is None:
        return None
    where = flag
    if value.lstrip()[:1] in ("{", "["):
        text = value
    else:
        where = value
        hint = f" ({flag} takes a JSON object or a .json file)"
        text = read_file_text(value, "settings file", hint=hint)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must be a JSON object of engine settings")
    return data


def device_option(text: str) -> str:
    """The value of ``--device``: a name :func:`ecoseg._device.check_device_name` takes (the
    library's one rule), or argparse's one-line refusal in its words.

    Examples
    --------
    >>> device_option("CUDA:1")
    'cuda:1'
    >>> device_option("gpu")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: unknown device 'gpu' (did you mean 'cuda'?); use auto, cpu, cuda, cuda:N or mps
    """  # noqa: E501
    try:
        return check_device_name(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_engine_options(p: argparse.ArgumentParser, concepts_help: str) -> None:
    """Add the engine options ``segment`` and ``batch`` share (read back by
    :func:`engine_options`).

    Parameters
    ----------
    p : argparse.ArgumentParser
        The command's parser.
    concepts_help : str
        Help of ``--concepts``, which the commands apply to different inputs.

    Examples
    --------
    >>> p = OneLineParser(prog="ecoseg segment")
    >>> add_engine_options(p, "concepts to find")
    >>> args = p.parse_args(["--model", "sam3", "--concepts", "coral", "--detect-every", "2"])
    >>> args.model, args.concepts, args.detect_every, args.device
    ('sam3', ['coral'], 2, 'auto')
    """
    p.add_argument(
        "--engine",
        choices=("sam2", "classical"),
        default=None,
        help="sam2: SAM 2 follows prompted objects (and --auto finds more); classical: the "
        "motion tracker, no prompts and no weights (default sam2 with prompts or --auto, else "
        "classical; --concepts runs SAM 3 and takes no --engine)",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="NAME",
        help="SAM 2 variant (default sam2.1-tiny), or sam3 / sam3-reduced with --concepts",
    )
    p.add_argument(
        "--checkpoint", default=None, metavar="PATH", help="checkpoint file (.pt or .safetensors)"
    )
    p.add_argument(
        "--concepts", nargs="+", action="extend", default=None, metavar="NAME", help=concepts_help
    )
    p.add_argument(
        "--detect-every",
        type=int,
        default=1,
        metavar="N",
        help="with --concepts on a video: run the concept detector on every N-th frame (default 1)",
    )
    p.add_argument(
        "--as-video",
        action="store_true",
        help="with --concepts: track a folder of images as the frames of a video (by default a "
        "folder of images, or one image, given concepts is a photo survey, each photograph "
        "detected on its own; docs/concepts.md)",
    )
    p.add_argument(
        "--image-size",
        type=int,
        default=None,
        metavar="PIXELS",
        help="network input size in pixels (default the model's)",
    )
    p.add_argument(
        "--device",
        type=device_option,  # the library's names, in any case (--device CPU, cuda:1)
        default="auto",
        metavar="auto|cpu|cuda|cuda:N|mps",
        help="where the network runs (sam2 engine; default auto: CUDA, else Apple MPS, else CPU; "
        "cuda:N: GPU N, counted from 0)",
    )
    p.add_argument(
        "--auto",
        action="store_true",
        help="also find and track organisms nobody clicked (sam2 engine; prompts optional)",
    )
    p.add_argument(
        "--params",
        default=None,
        metavar="JSON|FILE.json",
        help="engine settings, a JSON object or file: the motion tracker's (docs/classical.md), "
        "with --auto discovery's, with --concepts concept tracking's (docs/concepts.md)",
    )
    p.add_argument(
        "--random-weights",
        action="store_true",
        help="build the network with random weights (tests and benchmarks only)",
    )
    p.add_argument(
        "--fast",
        action="store_true",
        help="sam2 engine and SAM 3 concept tracking (not photo surveys): run the network in "
        "bf16 (faster on GPUs, and SAM 2 about 1.3x on CPUs with bf16; a CPU without bf16 "
        "stays fp32 with a warning; masks within the bf16 bar of the tests, not bit-identical "
        "to the exact default)",
    )


def engine_options(args: argparse.Namespace) -> dict[str, Any]:
    """The options of :func:`add_engine_options` as keyword arguments of
    :func:`ecoseg.segment` and :func:`ecoseg.batch`, checked before any work.

    The model defaults to ``sam3`` with ``--concepts``; without, no ``--model`` is ``None``
    (the library's default, :data:`ecoseg.engine.DEFAULT_MODEL`, which it tells from a chosen
    model); ``--params`` is read (:func:`engine_params`).

    Raises
    ------
    ConfigError
        ``--concepts`` is given with a model that is not SAM 3, the model is unknown, its
        checkpoint file is missing, or ``--params`` is not a JSON object.
    PromptError
        A ``--concepts`` name is blank, repeated or alike another but for case or spacing.

    Examples
    --------
    >>> p = OneLineParser(prog="ecoseg batch")
    >>> add_engine_options(p, "concepts to find")
    >>> options = engine_options(p.parse_args(["--params", '{"min_area": 30}']))
    >>> options["model"], options["params"], options["pretrained"]
    (None, {'min_area': 30}, True)
    >>> engine_options(p.parse_args(["--concepts", "coral", "--model", "sam2.1-tiny"]))
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: concepts (--concepts) need a SAM 3 model (--model sam3), not \
'sam2.1-tiny'
    """
    from ecoseg.engine import (
        DEFAULT_MODEL,
        check_concept_run,
        check_model_checkpoint,
        check_weights_source,
    )

    checkpoint = args.checkpoint
    check_weights_source(checkpoint, not args.random_weights)
    model = args.model or ("sam3" if args.concepts is not None else None)
    if args.concepts is not None:
        check_concept_run(model)  # the library's words (engine and --auto: checked later)
        from ecoseg.prompts import parse_concepts

        # blank, repeated or alike names, named as typed (the library says ``concepts``), as
        # --fps is checked here (frame_rate) and ``fps=`` by the library
        parse_concepts(args.concepts, "--concepts")
    # the model before its checkpoint file, whose line says how to get the model's weights
    check_model_checkpoint(model or DEFAULT_MODEL, checkpoint)
    return {
        "engine": args.engine,
        "model": model,
        "checkpoint": checkpoint,
        "pretrained": not args.random_weights,
        "image_size": args.image_size,
        "device": args.device,
        "params": engine_params(args.params),
        "auto": args.auto,
        "concepts": args.concepts,
        "detect_every": args.detect_every,
        "fast": args.fast,
        "as_video": args.as_video,
    }


def check_network_options(args: argparse.Namespace, has_prompts: bool) -> None:
    """Refuse network options (``--model``, ``--checkpoint``, ``--random-weights``) for a run
    that will use the classical motion tracker, and a ``--model`` SAM 2 does not know, in the
    words :func:`ecoseg.segment` refuses them with
    (:func:`ecoseg.engine.check_network_settings`), before any work. Concept runs
    (``--concepts`` or a SAM 3 model) are left to :func:`ecoseg.engine.check_concept_run`.

    Examples
    --------
    >>> p = OneLineParser(prog="ecoseg segment")
    >>> add_engine_options(p, "concepts to find")
    >>> check_network_options(p.parse_args(["--model", "sam2.1-large", "--auto"]), False)
    >>> check_network_options(p.parse_args(["--model", "sam2.1-large"]), False)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: --model is for the sam2 engine's network, but without prompts or --auto this run uses the classical motion tracker, which has none: give prompts or --auto (or --engine sam2), or drop --model
    """  # noqa: E501
    from ecoseg.engine import check_network_settings, check_weights_source

    if args.concepts is None and not (args.model or "").startswith("sam3"):
        # (concept tracking, SAM 3, is checked by engine.check_concept_run); a run with no
        # network is said as such first, then a checkpoint given with random weights
        check_network_settings(
            args.engine,
            has_prompts,
            args.auto,
            model=args.model,
            checkpoint=args.checkpoint,
            pretrained=not args.random_weights,
        )
    check_weights_source(args.checkpoint, not args.random_weights)


def check_out_file(
    path: str | None,
    overwrite: bool,
    flag: str = "--out",
    *,
    suffix: str | None = None,
    what: str = "",
    file_name: str | None = None,
) -> None:
    """Refuse an output file that is a folder or a binary file (a video), that cannot be made,
    that is named as another kind of file than ``suffix`` (``what`` it is: the phrase of
    :func:`ecoseg._paths.check_out_suffix`; with ``file_name``, also one named as a folder,
    ``results/``), or that exists without ``--overwrite``.

    Examples
    --------
    >>> import tempfile
    >>> check_out_file(tempfile.mkdtemp(), overwrite=True)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...: is a folder; give a file name (--out)
    >>> check_out_file("m.csv", False, suffix=".json", what="the metrics are a JSON file")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: m.csv: the metrics are a JSON file, not a .csv file; name it m.json
    """
    if path is None:
        return
    if Path(path).is_dir():
        raise ConfigError(f"{path}: is a folder; give a file name ({flag})")
    check_out_parent(path, flag)
    check_text_replaceable(path)  # first: --overwrite would not help
    if suffix is not None:  # nor would it here
        check_out_suffix(path, suffix, what, file_name=file_name)
    check_overwrite(path, overwrite)


OUTPUT_OPTIONS = {"out": "--out", "save_model": "--save-model"}
"""The options that name an output (argparse ``dest`` -> option), checked by
:func:`check_outputs`."""


def check_outputs(args: argparse.Namespace) -> None:
    """Refuse, before any work, an output option whose folder cannot be made (a file on the
    way, no permission): one line naming the path and the option, not an ``[Errno 20]``.

    Examples
    --------
    >>> import argparse, pathlib, tempfile
    >>> notes = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = notes.write_text("site A")
    >>> check_outputs(argparse.Namespace(out=str(notes / "tables"), overwrite=False))
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...tables: cannot be written: ...notes.txt is a file, not a folder...
    """
    for dest, flag in OUTPUT_OPTIONS.items():
        value = getattr(args, dest, None)
        if isinstance(value, str):
            check_out_parent(value, flag)


#: A run of whitespace that breaks a line: a line break or tab with the spaces about it.
_LINE_BREAK = re.compile(r"\s*[^\S ]\s*")


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line, its class name if empty: each line break or tab,
    with the indentation about it, becomes one space. Runs of spaces stay: a value the
    message echoes (the ``repr`` of what the user typed, ``'4=  '``) is shown as typed.

    Examples
    --------
    >>> one_line(ValueError("bad value\\n  in frame 3"))
    'bad value in frame 3'
    >>> one_line(ValueError("--set-class '4=  ': expected ID=CLASS"))
    "--set-class '4=  ': expected ID=CLASS"
    >>> one_line(KeyError())
    'KeyError'
    """
    return _LINE_BREAK.sub(" ", str(exc)).strip() or type(exc).__name__


#: An option as the library spells it for both kinds of user: ``keyword (--flag)`` or
#: ``keyword=VALUE (--flag METAVAR, more words)`` (groups: keyword, value, flag, metavar,
#: more). :func:`cli_words` names it by its flag; the napari widgets by the label of their
#: control (:func:`ecoseg.napari._check.napari_words`).
KEYWORD_OPTION = re.compile(
    r"(?<![\w-])([a-z_][a-z0-9_]*)(?:=([^\s()]+))? "
    r"\((--[a-z][a-z0-9-]*)( [A-Z][A-Z0-9_]*)?(?:, ([^()]+))?\)"
)


def is_keyword(keyword: str, value: str | None, flag: str) -> bool:
    """Whether ``keyword`` before ``(flag)`` (a :data:`KEYWORD_OPTION` match) is the option's
    Python keyword, not prose: one with a value, one in snake_case, the flag's own name or
    its plural (the keyword of a repeated option).

    Examples
    --------
    >>> is_keyword("videos", None, "--video"), is_keyword("discovery", None, "--auto")
    (True, False)
    """
    name = flag[2:]
    return value is not None or "_" in keyword or keyword in (name, f"{name}s")


def cli_words(text: str) -> str:
    """``text`` with the Python spelling of an option, written before the command's, left
    out: ``image_size (--image-size) must be ...`` says ``--image-size must be ...`` and
    ``pass overwrite=True (--overwrite)`` says ``pass --overwrite``; a value other than
    True/False follows its option (``detect_every=5 (--detect-every)`` -> ``--detect-every
    5``) unless the option names its own (``checkpoint=PATH (--checkpoint PATH)`` ->
    ``--checkpoint PATH``), and words after the option stay in parentheses
    (``fast (--fast, bf16)`` -> ``--fast (bf16)``). A keyword without a value is snake_case
    (``n_fish (--fish)``) or the option's own name (``fps (--fps)``; or its plural, the keyword
    of a repeated option: ``videos (--video)``), so prose before an option
    (``automatic discovery (--auto)``) stays.

    The one mechanism by which the ``ecoseg`` command shows the library's errors and warnings
    in its own words: the library spells an option ``keyword (--flag)`` or ``keyword=VALUE
    (--flag ...)``, and the Python API keeps both spellings.

    Examples
    --------
    >>> cli_words("T1: already exists; pass overwrite=True (--overwrite) to replace it")
    'T1: already exists; pass --overwrite to replace it'
    >>> cli_words("backward=False (--forward-only) applies to the sam2 engine")
    '--forward-only applies to the sam2 engine'
    >>> cli_words("detect_every 3 differs from detect_every=5 (--detect-every)")
    'detect_every 3 differs from --detect-every 5'
    >>> cli_words("pass a checkpoint file with checkpoint=PATH (--checkpoint PATH)")
    'pass a checkpoint file with --checkpoint PATH'
    >>> cli_words("image_size (--image-size) must be a multiple of 14, got 500")
    '--image-size must be a multiple of 14, got 500'
    >>> cli_words("n_fish (--fish) must be an integer between 0 and 1000, got -1")
    '--fish must be an integer between 0 and 1000, got -1'
    >>> cli_words("fast (--fast, bf16) is for the networks")
    '--fast (bf16) is for the networks'
    >>> cli_words("videos (--video): 3 videos given for 2 stores (give one per store)")
    '--video: 3 videos given for 2 stores (give one per store)'
    >>> cli_words("automatic discovery (--auto) needs the sam2 engine")
    'automatic discovery (--auto) needs the sam2 engine'
    """

    def option(match: re.Match) -> str:
        keyword, value, flag, metavar, more = match.groups()
        if not is_keyword(keyword, value, flag):
            return match[0]  # prose before an option, not its keyword
        if value is not None and value not in ("True", "False") and not metavar:
            flag += f" {value}"  # "--detect-every 5"; a switch, or "--video PATH" itself
        return f"{flag}{metavar or ''}" + (f" ({more})" if more else "")

    return KEYWORD_OPTION.sub(option, text)


@contextlib.contextmanager
def one_line_warnings() -> Iterator[None]:
    """Within: ecoseg's own warnings print as one ``ecoseg: warning: ...`` line on stderr
    (:func:`write_line`, below any progress bar), and so do other libraries' warnings that
    ecoseg says for a campaign's video (:func:`ecoseg._warn.is_ours`: numpy's
    ``RuntimeWarning`` in a ``batch`` worker, naming the video).

    Other libraries' warnings of the command's own thread print as Python prints them.

    Examples
    --------
    >>> import contextlib, io
    >>> from ecoseg.engine._runtime import SlowBf16Warning
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err), one_line_warnings():
    ...     warnings.warn("running exact fp32", SlowBf16Warning)
    >>> err.getvalue()
    'ecoseg: warning: running exact fp32\\n'
    """
    shown = warnings.showwarning

    from ecoseg._warn import is_ours

    def show(message, category, filename, lineno, file=None, line=None):
        if is_ours(message, category):
            write_line(f"ecoseg: warning: {cli_words(one_line(message))}")
        else:
            shown(message, category, filename, lineno, file, line)

    with warnings.catch_warnings():
        warnings.showwarning = show
        yield


def logger(
    progress: bool, command: str, clean: Callable[[str], str] | None = None
) -> Callable[[str], None]:
    """A function printing ``ecoseg COMMAND: message`` lines on stderr, or nothing.

    Parameters
    ----------
    progress : bool
        ``False`` gives a function that prints nothing.
    command : str
        The command named at the start of each line (``"study"``, ``"batch"``).
    clean : callable, optional
        Applied to each message first (e.g. to strip credentials from URLs).

    Returns
    -------
    callable
        ``log(message)``.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     logger(True, "study")("tables: combining")
    ...     logger(False, "study")("not shown")
    >>> err.getvalue()
    'ecoseg study: tables: combining\\n'
    """
    if not progress:
        return lambda msg: None
    if clean is None:
        return lambda msg: write_line(f"ecoseg {command}: {msg}")
    return lambda msg: write_line(f"ecoseg {command}: {clean(msg)}")


def write_line(line: str) -> None:
    """Print ``line`` on stderr below any progress bar: through tqdm's ``write`` where tqdm is
    loaded, so that a bar drawn there (``ecoseg batch``'s, a video's frames) is cleared for
    the line and drawn again below it. A plain print went on from the bar's text and left it
    cut ('segment:  50%|#####     | 20/40ecoseg study: ...'). The one way the commands'
    progress lines (:func:`logger`) and warnings (:func:`one_line_warnings`) are printed.

    Examples
    --------
    >>> import contextlib, io
    >>> err = io.StringIO()
    >>> with contextlib.redirect_stderr(err):
    ...     write_line("ecoseg study: tables: combining")
    >>> err.getvalue()
    'ecoseg study: tables: combining\\n'
    """
    tqdm = sys.modules.get("tqdm")  # no bar was drawn unless tqdm was imported
    if tqdm is None:
        print(line, file=sys.stderr, flush=True)
    else:
        tqdm.tqdm.write(line, file=sys.stderr)
        sys.stderr.flush()


def frame_rate(text: str) -> float:
    """``--fps`` as argparse reads it: a finite number of frames per second above 0.

    Examples
    --------
    >>> frame_rate("10"), frame_rate("0.5")
    (10.0, 0.5)
    >>> frame_rate("nan")
    Traceback (most recent call last):
    argparse.ArgumentTypeError: must be a number of frames per second above 0, got 'nan'
    """
    from ecoseg.errors import VideoError
    from ecoseg.io.folder import check_fps

    try:
        return check_fps(text, text=True)
    except VideoError:
        raise argparse.ArgumentTypeError(
            f"must be a number of frames per second above 0, got {text!r}"
        ) from None


def add_fps_option(p: argparse.ArgumentParser, what: str = "VIDEO") -> None:
    """Add ``--fps N``: the frame rate of an image folder (``segment``, ``batch``, ``import``).

    Examples
    --------
    >>> p = OneLineParser(prog="ecoseg segment")
    >>> add_fps_option(p)
    >>> p.parse_args(["--fps", "2.5"]).fps, p.parse_args([]).fps
    (2.5, None)
    """
    from ecoseg.io.folder import DEFAULT_FPS

    p.add_argument(
        "--fps",
        type=frame_rate,
        default=None,
        metavar="N",
        help=f"when {what} is a folder of numbered images (frames or photographs): its frame rate, "
        f"frame i at i/N s (default {DEFAULT_FPS:g}: images carry no time; give the real rate of "
        "a time-lapse or of frames extracted at another rate). Refused for a video file, timed "
        "by its own timestamps, and a single image (a photograph), which has no time axis",
    )


#: The commands with progress bars or progress lines on stderr: they take ``--quiet`` (an
#: action of a command after its name: ``weights download``).
QUIET_COMMANDS = (
    "demo",
    "synth",
    "segment",
    "edit",
    "measure",
    "evaluate",
    "export",
    "import",
    "report",
    "classify",
    "info",
    "study",
    "batch",
    "weights download",
)


def add_quiet_options(sub: argparse._SubParsersAction) -> None:
    """Add ``--quiet`` to each command of :data:`QUIET_COMMANDS` (once, for all of them).

    Examples
    --------
    >>> p = OneLineParser(prog="ecoseg")
    >>> sub = p.add_subparsers(dest="command")
    >>> _ = sub.add_parser("measure")
    >>> add_quiet_options(sub)
    >>> [show_progress(p.parse_args(["measure", *quiet])) for quiet in (["--quiet"], [])]
    [False, True]
    """
    for name in QUIET_COMMANDS:
        if (parser := command_parser(sub, name)) is not None:
            parser.add_argument(
                "--quiet",
                action="store_true",
                help="no progress bars or progress lines on stderr (results, warnings and "
                "errors still print): for scripts and cluster logs",
            )


def command_parser(sub: argparse._SubParsersAction, name: str) -> argparse.ArgumentParser | None:
    """The parser of command ``name`` (``"measure"``; ``"weights download"``, an action of a
    command) among the subcommands ``sub``, or ``None`` where there is none."""
    command, *actions = name.split()
    parser = sub.choices.get(command)
    for action in actions:
        commands = getattr(parser, "commands", None)
        parser = commands.choices.get(action) if commands is not None else None
    return parser


def show_progress(args: argparse.Namespace) -> bool:
    """Whether a command shows its progress on stderr: not with ``--quiet``."""
    return not getattr(args, "quiet", False)


def reader_gone() -> bool:
    """Whether stdout is a pipe whose reader (``head``) stopped reading, not a broken pipe of
    something else (a cluster's): then the rest of the output goes to the null device, so that
    nothing is said, now or at exit."""
    try:
        fd = sys.stdout.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return False
        if hasattr(select, "poll"):  # a pipe's writing end without a reader polls as an error
            poll = select.poll()
            poll.register(fd, select.POLLOUT)
            if not any(e & (select.POLLERR | select.POLLHUP) for _, e in poll.poll(0)):
                return False
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError):  # no real stdout (captured by a test, a notebook)
        return False
    return True


def close_progress_bars() -> None:
    """Close the progress bars still open (a pass a Ctrl-C left suspended, as the backward
    pass of ``segment``), so that they end their lines now: left to the interpreter's exit,
    a bar redrew itself after ``ecoseg: interrupted``, or that line joined a bar's."""
    tqdm = sys.modules.get("tqdm")  # no bar was made unless tqdm was imported
    if tqdm is None:
        return
    for bar in list(getattr(tqdm.tqdm, "_instances", ())):
        with contextlib.suppress(Exception):  # a bar half made: nothing to close
            bar.close()
