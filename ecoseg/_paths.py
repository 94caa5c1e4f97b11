"""Path helpers shared by ecoseg's modules: outputs that may be written, files a user names
(checkpoint files that must exist), one answer to whether two paths are one place. Where the
video a store was made from is now: :mod:`ecoseg._store_video`.

The text of a file a user names is decoded by :mod:`ecoseg._text`.

Public names in a private module: other ecoseg modules import them, users do not.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Any

from ecoseg._text import decode_text
from ecoseg.errors import ConfigError

__all__ = [
    "check_checkpoint",
    "check_file",
    "check_in_folder",
    "check_not_folder",
    "check_out_folder",
    "check_out_parent",
    "check_out_suffix",
    "check_store_suffix",
    "check_distinct_stores",
    "check_outside_store",
    "check_overwrite",
    "check_text_replaceable",
    "exists_message",
    "folder_key",
    "is_within",
    "location_key",
    "plain_name",
    "as_local_path",
    "read_file_bytes",
    "read_file_text",
    "relpath",
    "same_location",
]


# letters (any script), digits, inner spaces, '.', '_' and '-'; starts with a letter or digit
_NAME_RE = re.compile(r"^[^\W_](?:[\w. -]*[\w.-])?$")


def plain_name(name: str) -> str | None:
    """``name`` in Unicode NFC if it is a plain file name for a store, else ``None``.

    Letters of any script, digits, inner spaces, ``.``, ``_`` and ``-``; never ``.``/``..``
    or a path. NFC, so a name typed on one machine and one read from a file name on another
    (macOS stores ``é`` as ``e`` + accent) name the same store.

    Examples
    --------
    >>> plain_name("Récif nord"), plain_name("Re\u0301cif") == "Récif", plain_name("../x")
    ('Récif nord', True, None)
    """
    name = unicodedata.normalize("NFC", name)
    if not _NAME_RE.match(name) or name in (".", ".."):
        return None
    return name


def folder_key(name: str) -> str:
    """What two store (file) names must not share: names equal but for case (or Unicode form)
    are one folder on macOS and Windows, so two videos would share one store there. Spaces are
    kept (``"T1  a"`` and ``"T1 a"`` are two folders everywhere), unlike class names
    (:func:`ecoseg.provenance.class_key`).

    Examples
    --------
    >>> folder_key("North-T1") == folder_key("north-t1"), folder_key("a  b") == folder_key("a b")
    (True, False)
    """
    return unicodedata.normalize("NFC", name).casefold()


def exists_message(path: str | os.PathLike) -> str:
    """The one wording for an output that exists and may not be replaced.

    Examples
    --------
    >>> exists_message("T1/tables")
    'T1/tables: already exists; pass overwrite=True (--overwrite) to replace it'
    """
    return f"{os.fspath(path)}: already exists; pass overwrite=True (--overwrite) to replace it"


def check_overwrite(
    path: str | os.PathLike,
    overwrite: bool,
    *,
    error: type[Exception] = ConfigError,
    exists: bool | None = None,
) -> None:
    """Refuse an existing output unless ``overwrite`` (one wording: :func:`exists_message`).

    Parameters
    ----------
    path : str or Path
        The output, as the user named it (the message starts with it).
    overwrite : bool
        Replacing is allowed.
    error : type of Exception
        Raised when refused (:class:`~ecoseg.errors.ConfigError`, ``StoreError``, ...).
    exists : bool, optional
        Whether the output counts as existing; default: a local path that exists (a URL
        never does here: its store checks it).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> check_overwrite(folder, overwrite=True)
    >>> check_overwrite(folder + "/new.csv", overwrite=False)
    >>> check_overwrite(folder, overwrite=False)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...: already exists; pass overwrite=True (--overwrite) to replace it
    >>> check_overwrite(folder, overwrite="no")  # text is true to `if`: it replaced the output
    Traceback (most recent call last):
    TypeError: overwrite must be True or False, got 'no'
    """
    # a bool or numpy's (without importing numpy here), in the words of _checks.check_switch
    numpy_bool = (
        str(getattr(overwrite, "dtype", "")) == "bool" and getattr(overwrite, "shape", 1) == ()
    )
    if not (isinstance(overwrite, bool) or numpy_bool):
        got = repr(overwrite) if len(repr(overwrite)) <= 60 else f"<{type(overwrite).__name__}>"
        raise TypeError(f"overwrite must be True or False, got {got}")
    if overwrite:
        return
    if exists is None:
        exists = "://" not in os.fspath(path) and Path(path).exists()
    if exists:
        raise error(exists_message(path))


def check_text_replaceable(
    path: str | os.PathLike, *, error: type[Exception] = ConfigError
) -> None:
    """Refuse, even with ``overwrite``, to replace a binary file (a video, a zipped mask store,
    an image: a NUL byte in its first 8 KiB) by a text output (JSON, HTML, CSV, XML), which no
    ecoseg command could have written there, and anything that is not a file or a folder (a
    named pipe, a device such as ``/dev/null``: the output is renamed into place, which put a
    file where the pipe or the device was).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> video = pathlib.Path(tempfile.mkdtemp()) / "reef.mp4"
    >>> check_text_replaceable(video)  # not there: nothing to replace
    >>> _ = video.write_bytes(bytes(4) + b"ftypmp42")
    >>> check_text_replaceable(video)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...reef.mp4: is not a text file ... even with overwrite ...
    """
    text = os.fspath(path)
    if "://" in text or not os.path.exists(text) or os.path.isdir(text):
        return
    if not os.path.isfile(text):
        raise error(
            f"{text}: is not a file (a named pipe, a device?); refusing to replace it even with "
            "overwrite (choose another output path)"
        )
    with open(text, "rb") as fh:
        if b"\0" in fh.read(8192):
            raise error(
                f"{text}: is not a text file (a video, a zipped mask store, an image?); "
                "refusing to replace it even with overwrite (choose another output path)"
            )


def check_out_folder(path: str | os.PathLike) -> None:
    """Refuse an output folder that exists as a file or is a zarr store (the one wording of
    every command that writes a folder: tables, a synthetic clip, a demo, a study, a batch's
    stores; a folder read, ``batch --prompts-dir``, is refused as a file in the same words); a
    URL is not checked.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> notes = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> check_out_folder(notes)
    >>> _ = notes.write_text("site A")
    >>> check_out_folder(notes)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...notes.txt: exists and is not a folder

    A zarr store (a mask store) is no folder to write into either: what went in would sit
    inside the store (``synth(out="truth.zarr")`` wrote a second clip there).
    """
    _check_not_file(path)
    text = os.fspath(path)
    if "://" not in text and os.path.isfile(os.path.join(text, "zarr.json")):
        raise ConfigError(
            f"{text}: is a zarr store (a mask store?), not a folder to write into; choose "
            "another output folder"
        )


def _check_not_file(path: str | os.PathLike) -> None:
    """Refuse a folder that exists as a file; a URL is not checked."""
    text = os.fspath(path)
    if "://" not in text and os.path.exists(text) and not os.path.isdir(text):
        raise ConfigError(f"{text}: exists and is not a folder")


def check_in_folder(path: str | os.PathLike, what: str) -> Path:
    """A folder to read from, as a ``Path``: refused as a file (:func:`check_out_folder`'s
    wording) or, not there, as ``'<path>: <what> folder not found'`` (the path as given).

    Examples
    --------
    >>> import tempfile
    >>> check_in_folder(tempfile.mkdtemp() + "/nowhere", "prompts")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...nowhere: prompts folder not found
    """
    _check_not_file(path)  # a file given for the folder: not 'not found'
    if not Path(path).is_dir():
        raise ConfigError(f"{os.fspath(path)}: {what} folder not found")
    return Path(path)


def check_not_folder(
    path: str | os.PathLike,
    what: str,
    *,
    error: type[Exception] = ConfigError,
    shown: str | os.PathLike | None = None,
) -> None:
    """Refuse a folder named where a file is expected, as a folder (not as 'not found': the path
    exists); the one wording of every command that reads a file the user names (most check the
    file is there too: :func:`check_file`). ``shown``: the path as the user wrote it, for the
    message (default ``path``).

    Examples
    --------
    >>> import tempfile
    >>> check_not_folder(tempfile.mkdtemp(), "study file (YAML)")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...: is a folder, not a study file (YAML)
    """
    if os.path.isdir(os.fspath(path)):
        raise error(f"{os.fspath(path if shown is None else shown)}: is a folder, not a {what}")


def check_file(
    path: str | os.PathLike,
    what: str,
    *,
    kind: str | None = None,
    error: type[Exception] = ConfigError,
    shown: str | os.PathLike | None = None,
    hint: str = "",
) -> Path:
    """``path`` as a Path when it names a file the user gave to be read; else ``error``, one
    line in the one wording of every such file: ``NAME: is a folder, not a WHAT (KIND)`` for a
    folder (:func:`check_not_folder`), ``NAME: WHAT not found`` for nothing there; ``hint``
    ends either.

    Parameters
    ----------
    path : str or Path
        The file.
    what : str
        What the file is, for the message (``"prompt file"``, ``"checkpoint file"``).
    kind : str, optional
        Its format, named after ``what`` when a folder is given (``"JSON"``, ``".txt"``).
    error : type of Exception
        Raised when refused (:class:`~ecoseg.errors.ConfigError`, ``PromptError``, ...).
    shown : str or Path, optional
        The path as the user wrote it, for the message (default ``path``).
    hint : str
        Added to the message (what the option takes: ``" (--params takes a JSON object or a
        .json file)"``).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "north.json").write_text("{}")
    >>> check_file(folder / "north.json", "prompt file", kind="JSON").name
    'north.json'
    >>> check_file(folder, "prompt file", kind="JSON")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...: is a folder, not a prompt file (JSON)
    >>> check_file("prompts/south.json", "prompt file", kind="JSON")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: prompts/south.json: prompt file not found
    >>> check_file("s.json", "settings file", hint=" (--params takes a JSON object)")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: s.json: settings file not found (--params takes a JSON object)
    >>> check_file("", "checkpoint file")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: '': an empty path is not a checkpoint file
    """
    if not os.fspath(path):  # Path("") is the working folder (it said ": is a folder")
        raise error(f"'': an empty path is not a {what}")
    p = Path(path)
    if p.is_file():
        return p
    name = os.fspath(path if shown is None else shown)
    named = (f"{what} ({kind})" if kind else what) + hint
    check_not_folder(p, named, error=error, shown=name)
    raise error(f"{name}: {what} not found{hint}")


def read_file_bytes(
    path: str | os.PathLike, what: str, *, limit: int | None = None, **check: Any
) -> bytes:
    """The bytes of a file the user named (at most ``limit`` of them), checked by
    :func:`check_file` (``check``: its keyword arguments) and read, in one line also when the
    read fails: a file gone between the check and the read is ``NAME: WHAT not found``, any
    other failure ``NAME: cannot be read: REASON`` (never an OSError traceback). The one reader
    of the files a user names: :func:`read_file_text` decodes what it returns.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> model = pathlib.Path(tempfile.mkdtemp()) / "m.json"
    >>> _ = model.write_bytes(b'{"classes": []}')
    >>> read_file_bytes(model, "species model file", limit=4)
    b'{"cl'
    """
    p = check_file(path, what, **check)
    error = check.get("error", ConfigError)
    name = os.fspath(check.get("shown") or path)
    try:
        with p.open("rb") as fh:
            return fh.read(-1 if limit is None else limit)
    except FileNotFoundError:  # removed after the check
        raise error(f"{name}: {what} not found{check.get('hint', '')}") from None
    except OSError as exc:
        reason = " ".join(str(exc.strerror or exc or type(exc).__name__).split())
        raise error(f"{name}: cannot be read: {reason}") from None


def read_file_text(path: str | os.PathLike, what: str, **check: Any) -> str:
    """The text (UTF-8, line ends made ``\\n`` as :meth:`pathlib.Path.read_text` makes them) of
    a file the user named, read by :func:`read_file_bytes` (one line when the check or the
    read fails). A byte order mark (Windows Notepad's "UTF-8 with BOM") is dropped; a file that
    is no UTF-8 text is one line in ``check["error"]`` naming the file and what it is: UTF-16
    (Windows' "Unicode"), binary (NUL bytes: a video given as a prompt file) or another
    encoding, with the line and byte (``line 2: not UTF-8 text (byte 0xe9); save it as UTF-8``:
    a Latin-1 file), where it said *not a text file* or Python's codec message.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> settings = pathlib.Path(tempfile.mkdtemp()) / "s.json"
    >>> _ = settings.write_text('{"min_area": 30}')
    >>> read_file_text(settings, "settings file")
    '{"min_area": 30}'
    >>> _ = settings.write_bytes('{"class": "m\u00e9rou"}'.encode("latin-1"))
    >>> read_file_text(settings, "settings file")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...s.json: line 1: not UTF-8 text (byte 0xe9); save it as UTF-8
    """
    data = read_file_bytes(path, what, **check)
    name = os.fspath(check.get("shown") or path)
    kind = f" ({check['kind']})" if check.get("kind") else ""
    return decode_text(data, name, error=check.get("error", ConfigError), kind=kind)


#: File name suffixes by the kind of file they say a file is: an output named with a suffix
#: of another kind than it is written as is refused (:func:`check_out_suffix`); any other
#: suffix, or none, is the user's choice.
SUFFIX_KINDS = (
    (".json",),
    (".xml",),
    (".csv", ".txt", ".tsv"),  # text tables: MOT, MOTS and VIAME files go by either name
    (".html", ".htm"),
    (".yaml", ".yml"),
    (".jpg", ".jpeg"),
    (".tif", ".tiff"),
    (".mp4", ".mov", ".avi", ".mkv"),  # videos
    (".zarr", ".zip"),  # mask stores: a folder, or a zip file of one
    *((s,) for s in (".parquet", ".png", ".pdf", ".md", ".npy", ".xlsx")),
)


def check_out_suffix(
    path: str | os.PathLike,
    suffix: str,
    what: str,
    *,
    error: type[Exception] = ConfigError,
    file_name: str | None = None,
) -> None:
    """Refuse an output whose name says it is another kind of file than it is written as (a
    report named ``r.csv`` holds an HTML page; a DAVIS export named ``x.json`` is a folder),
    in one line naming the output as given, what it is and the name to give it; with
    ``file_name``, also a file output named as a folder (``-o results/``: the file was written
    as ``results``), naming ``results/FILE_NAME`` to give.

    Parameters
    ----------
    path : str or Path
        The output, as the user named it.
    suffix : str
        The suffix it is written as (``".html"``), ``""`` for a folder.
    what : str
        What it is, a phrase for the message (``"a report is an HTML page"``).
    error : type of Exception
        Raised when refused.
    file_name : str, optional
        The file's usual name (``"report.html"``), for an output ending in a path separator.

    Examples
    --------
    >>> check_out_suffix("r.html", ".html", "a report is an HTML page")
    >>> check_out_suffix("out/", ".html", "a report is an HTML page", file_name="report.html")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: out/: names a folder, but a report is an HTML page; name the \
file (out/report.html)
    >>> check_out_suffix("gt.csv", ".txt", "a mot export is a text table")
    >>> check_out_suffix("r.csv", ".html", "a report is an HTML page")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: r.csv: a report is an HTML page, not a .csv file; name it r.html
    >>> check_out_suffix("out/x.json", "", "a davis export is a folder of PNG masks")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: out/x.json: a davis export is ..., not a .json file; name it out/x
    """
    text = os.fspath(path)
    if file_name is not None and text.endswith(("/", os.sep)):
        folder = text.rstrip("/" + os.sep) or text
        raise error(f"{text}: names a folder, but {what}; name the file ({folder}/{file_name})")
    given = Path(text).suffix
    kind = next((k for k in SUFFIX_KINDS if given.lower() in k), None)
    if kind is None or suffix.lower() in kind:
        return
    bare = text.rstrip("/" + os.sep)
    name = bare[: len(bare) - len(given)] + suffix  # as typed: ./r.csv -> ./r.html
    raise error(f"{text}: {what}, not a {given} file; name it {name}")


def check_store_suffix(path: Any, *, error: type[Exception] = ConfigError) -> None:
    """Refuse a new mask store named as another kind of file (``masks.mp4``, ``x.json``) in
    :func:`check_out_suffix`'s words; the one check of every command that makes a store
    (``segment``, ``import``). ``path`` given as a store or a location is not checked.

    Examples
    --------
    >>> check_store_suffix("masks.zarr"), check_store_suffix("truth.zip")
    (None, None)
    >>> check_store_suffix("masks.mp4")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: masks.mp4: a mask store is a zarr folder (or a .zip of one), \
not a .mp4 file; name it masks.zarr
    """
    if isinstance(path, (str, os.PathLike)):
        what = "a mask store is a zarr folder (or a .zip of one)"
        check_out_suffix(path, ".zarr", what, error=error)


def check_out_parent(
    path: str | os.PathLike, flag: str = "--out", *, error: type[Exception] = ConfigError
) -> None:
    """Refuse an output whose folder cannot be made: a folder on the way is a file, or the
    nearest existing folder is not writable. Checked before any work; a URL is not checked.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> notes = pathlib.Path(tempfile.mkdtemp()) / "notes.txt"
    >>> _ = notes.write_text("site A")
    >>> check_out_parent(notes.parent / "new" / "out.csv")
    >>> check_out_parent(notes / "out.csv", "-o")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...: cannot be written: ...notes.txt is a file, not a folder (-o)
    >>> check_out_parent("", "-o")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: '': the output path is empty (-o): name the file or folder to write
    """
    text = os.fspath(path)
    if "://" in text:
        return
    named = f" ({flag})" if flag else ""  # no option to name: a save dialog's path
    if not text.strip():  # Path("") is the working folder: it was refused as '.'
        raise error(f"{text!r}: the output path is empty{named}: name the file or folder to write")
    for parent in Path(text).parents:
        if not parent.exists():
            continue
        if not parent.is_dir():
            raise error(f"{text}: cannot be written: {parent} is a file, not a folder{named}")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise error(
                f"{text}: cannot be written: no permission to create files in {parent}{named}"
            )
        return


def check_checkpoint(
    checkpoint: str | os.PathLike | None,
    model: str | None = None,
    *,
    shown: str | os.PathLike | None = None,
    option: str = "--checkpoint",
    published: bool = True,
) -> None:
    """Refuse a checkpoint path that is not a file, before any work: one line in the wording
    of :func:`check_file` naming it, and how to get the weights of ``model`` (the callers give
    the model the run will use)
    (``segment --checkpoint``, ``batch --checkpoint``, :func:`ecoseg.batch` and a study's
    ``checkpoint:``, which passes the path as written as ``shown`` and its key as ``option``).

    ``published`` says whether ``ecoseg weights download MODEL`` fetches weights of
    ``model``: this module cannot read the weights manifest, so callers that know it say
    (:func:`ecoseg.engine.check_model_checkpoint`, which refuses an unknown model first); a
    model without published weights (``sam3-reduced``) is told so instead of being given a
    command that fails.

    Examples
    --------
    >>> check_checkpoint(None)
    >>> check_checkpoint("weights/nope.pt", "sam2.1-small")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: weights/nope.pt: checkpoint file not found; \
`ecoseg weights download sam2.1-small` fetches the official weights into the cache, which is \
used when --checkpoint is left out (`ecoseg weights list` shows the variants)
    >>> check_checkpoint("weights/nope.pt", "sam3-reduced", published=False)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: weights/nope.pt: checkpoint file not found; sam3-reduced has no \
published weights to download: give a checkpoint file that exists (--checkpoint)
    """
    if checkpoint is not None and not Path(checkpoint).is_file():
        if model is not None and not published:
            hint = (
                f"; {model} has no published weights to download: give a checkpoint file that "
                f"exists ({option})"
            )
        else:
            model = model or "MODEL"
            gated = " (gated: your own Hugging Face token)" if str(model).startswith("sam3") else ""
            hint = (
                f"; `ecoseg weights download {model}` fetches the official weights{gated} into "
                f"the cache, which is used when {option} is left out (`ecoseg weights list` "
                "shows the variants)"
            )
        check_file(checkpoint, "checkpoint file", shown=shown, hint=hint)


def as_local_path(where: str | os.PathLike) -> Path | None:
    """``where`` as a local path (a ``file://`` URL as the path it names), or ``None`` for any
    other URL.

    Examples
    --------
    >>> as_local_path("survey/a.zarr").as_posix(), as_local_path("file:///data/a.zarr").as_posix()
    ('survey/a.zarr', '/data/a.zarr')
    >>> as_local_path("s3://bucket/a.zarr") is None
    True
    """
    text = os.fspath(where)
    if text.startswith("file://"):
        from urllib.parse import urlparse
        from urllib.request import url2pathname

        text = url2pathname(urlparse(text).path)
    return None if "://" in text else Path(text)


def same_location(a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are one store (or file): the one answer of every command that
    asks (a store given twice, a store scored against itself, a study's own store, a video
    layer that is the recorded video).

    Local paths (and ``file://`` URLs) that both exist are compared as
    :func:`os.path.samefile` compares them, so the same files under another name are one: a
    symbolic or hard link, a bind mount, another spelling (``./a.zarr``; ``A.zarr`` on a
    case-insensitive disk); otherwise by their absolute paths with links resolved. URLs
    (and empty paths) are compared as written; zarr ``Store`` objects by identity. An open
    store (anything with a ``location``, a ``MaskStore``) is compared by where it was
    opened from. A copy is another store.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(folder, "a.zarr"))
    >>> os.symlink(os.path.join(folder, "a.zarr"), os.path.join(folder, "link.zarr"))
    >>> same_location(f"{folder}/a.zarr", f"{folder}/./link.zarr")
    True
    >>> same_location(f"{folder}/new/a.zarr", f"{folder}/new/../new/a.zarr")  # not there (yet)
    True
    >>> same_location(f"{folder}/a.zarr", f"{folder}/b.zarr")
    False
    >>> same_location("s3://bucket/a.zarr", "s3://bucket//a.zarr")
    False
    """
    return location_key(a) == location_key(b)


def location_key(where: Any) -> tuple:
    """What :func:`same_location` compares, hashable, for a dict of the places seen
    (:func:`check_distinct_stores`, a study's videos): ``("file", device, inode)`` for a
    local path that exists (what :func:`os.path.samefile` compares), ``("path", absolute
    path)`` for one that does not, ``("url", text)``, ``("object", id)``.

    Examples
    --------
    >>> location_key("s3://bucket/a.zarr")
    ('url', 's3://bucket/a.zarr')
    >>> location_key("no/such/a.zarr")[0]
    'path'
    """
    where = getattr(where, "location", where)  # an open store: where it was opened from
    if not isinstance(where, str | os.PathLike):
        return ("object", id(where))  # a zarr Store object: itself only
    text = os.fspath(where)
    local = as_local_path(text) if text.strip() else None
    if local is None:
        return ("url", text)  # (an empty path is its store's own error)
    try:
        stat = os.stat(local)
    except (OSError, ValueError):  # not there (or no path this system can have)
        stat = None
    if stat is not None and stat.st_ino:  # (0: a file system without file ids)
        return ("file", stat.st_dev, stat.st_ino)
    return ("path", _resolved(local))


def _resolved(local: Path) -> Path:
    """``local`` absolute with its links resolved (only made absolute in a loop of links)."""
    try:
        return local.resolve()
    except (OSError, RuntimeError):  # a loop of links
        return Path(os.path.abspath(local))


def is_within(inner: str | os.PathLike, outer: Any) -> bool:
    """Whether the local path ``inner`` is ``outer`` or inside it, at any depth: ``outer`` is
    ``inner`` or one of the folders above it (links resolved), compared as
    :func:`same_location` compares (the same files under another name are one: a hard link, a
    bind mount, another spelling on a case-insensitive disk). An output not there yet is
    inside a folder above it that is. A URL (either one) is inside nothing.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> os.mkdir(os.path.join(folder, "a.zarr"))
    >>> os.symlink(os.path.join(folder, "a.zarr"), os.path.join(folder, "link.zarr"))
    >>> is_within(f"{folder}/link.zarr/tables", f"{folder}/a.zarr")
    True
    >>> is_within(f"{folder}/a.zarr", f"{folder}/a.zarr/..")
    True
    >>> is_within(f"{folder}/b.zarr", f"{folder}/a.zarr")
    False
    >>> is_within("s3://bucket/a.zarr/x", "s3://bucket/a.zarr")
    False
    """
    target = location_key(outer)
    local = as_local_path(inner)
    if target[0] not in ("file", "path") or local is None:
        return False
    here = _resolved(local)
    return any(location_key(p) == target for p in (here, *here.parents))


def check_distinct_stores(stores: list, command: str) -> None:
    """Refuse the same store given twice (also as ``./a.zarr`` and ``a.zarr``, or through a
    link: :func:`same_location`): one line naming it and ``command``.

    Examples
    --------
    >>> check_distinct_stores(["a.zarr", "b.zarr"], "classify")
    >>> check_distinct_stores(["a.zarr", "./a.zarr"], "classify")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: classify: ./a.zarr: the same store is given twice (also as a.zarr)
    """
    seen: dict[tuple, Any] = {}
    for store in stores:
        where = getattr(store, "location", store)
        key = location_key(where)
        text = os.fspath(where) if isinstance(where, str | os.PathLike) else repr(where)
        if key in seen:
            first = seen[key]
            first = os.fspath(first) if isinstance(first, str | os.PathLike) else repr(first)
            also = "" if first == text else f" (also as {first})"
            raise ConfigError(f"{command}: {text}: the same store is given twice{also}")
        seen[key] = where


def check_outside_store(
    out: str | os.PathLike,
    store: Any,
    flag: str = "-o",
    *,
    error: type[Exception] = ConfigError,
    kind: str = "mask store",
) -> None:
    """Refuse an output that is the input mask store or inside it (tables written among its
    chunks, an export replacing its ``zarr.json``), also under another name (:func:`is_within`:
    a link, a hard link of a zip store, ``T1.ZARR`` on a case-insensitive disk). Local paths
    only; a URL or a zarr ``Store`` object is not checked.

    Parameters
    ----------
    out : str or Path
        The output, as the user named it.
    store : str, Path or MaskStore
        The store the command reads (a folder or a ``.zip`` file).
    flag : str
        The option, for the message.
    error : type of Exception
        Raised when refused.
    kind : str
        What ``store`` is, for the message (``"folder of PNG masks"`` for a DAVIS truth).

    Examples
    --------
    >>> check_outside_store("survey/tables", "survey/T1.zarr")
    >>> check_outside_store("survey/T1.zarr/tables", "survey/T1.zarr")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: survey/T1.zarr/tables: is inside the mask store survey/T1.zarr...
    """
    where = getattr(store, "location", store)  # a MaskStore: the path it was opened from
    if not isinstance(where, str | os.PathLike):
        return
    local, text = os.fspath(where), os.fspath(out)
    if "://" in text or "://" in local or not local.strip() or not text.strip():
        return  # an empty path is its store's or output's own error
    if is_within(text, local):  # also the store under another name (a hard link, A.zarr)
        what = f"is the {kind}" if same_location(text, local) else f"is inside the {kind}"
        raise error(
            f"{text}: {what} {local} that the command reads ({flag}); choose an output outside it"
        )


def relpath(path: str | os.PathLike, start: str | os.PathLike) -> str:
    """``path`` relative to ``start`` with ``/`` separators, for display and manifests.

    A relative ``path`` is returned as it is; one on another drive stays absolute.

    Examples
    --------
    >>> relpath("/data/study/out/stores/a.zarr", "/data/study")
    'out/stores/a.zarr'
    >>> relpath("videos/a.mp4", "/data/study")
    'videos/a.mp4'
    """
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return Path(os.path.relpath(p, start)).as_posix()
    except ValueError:  # another drive on Windows
        return p.as_posix()
