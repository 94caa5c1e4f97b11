"""The files a format reads and writes: the output path (never replaced without
``overwrite``), a file's or folder's sha256, UTF-8 text and delimited tables."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._hashing import update_from_file
from ecoseg._paths import check_overwrite, read_file_bytes
from ecoseg._text import check_not_binary as _check_not_binary
from ecoseg._text import decode_text
from ecoseg.errors import FormatError

__all__ = ["check_not_binary", "check_output", "file_sha256", "read_text", "read_table"]


def check_output(path: str | os.PathLike, overwrite: bool) -> Path:
    """The output path; refuses to replace an existing file or folder without ``overwrite``."""
    path = Path(path)
    check_overwrite(path, overwrite, error=FormatError)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    return path


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file, or of a folder's files in name order."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        digest.update(p.relative_to(path).as_posix().encode() if path.is_dir() else b"")
        update_from_file(digest, p)
    return digest.hexdigest()


def read_text(path: Path, what: str = "text file") -> str:
    """A text file's content, read as UTF-8 (a byte order mark is dropped, line ends made
    ``\\n``) whatever the computer's locale; FormatError naming UTF-16 text, a binary file or
    the line of a byte that is not UTF-8 (:func:`ecoseg._text.decode_text`), and one line
    naming the file when it cannot be read (``NAME: cannot be read: REASON``, a folder, a file
    gone: :func:`ecoseg._paths.read_file_bytes`; ``what``: what the file is, for those).

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "gt.csv"
    >>> _ = f.write_bytes("\\ufeffid,species\\n1,Ōtaki\\n".encode())
    >>> read_text(f).splitlines()
    ['id,species', '1,Ōtaki']
    >>> _ = f.write_bytes("id,species\\n1,Fran\\xe7ais\\n".encode("latin-1"))
    >>> read_text(f)
    Traceback (most recent call last):
    ecoseg.errors.FormatError: ...gt.csv: line 2: not UTF-8 text (byte 0xe7); save it as UTF-8
    >>> _ = f.write_bytes("id,species\\n".encode("utf-16-le"))
    >>> read_text(f)
    Traceback (most recent call last):
    ecoseg.errors.FormatError: ...gt.csv: UTF-16 text, not UTF-8; save it as UTF-8
    """
    data = read_file_bytes(path, what, error=FormatError)
    return decode_text(data, os.fspath(path), error=FormatError, hint=_TEXT_FORMAT)


_TEXT_FORMAT = "; an annotation file of this format is text"


def check_not_binary(path: Path, head: bytes | None = None) -> None:
    """Refuse a file that is no text (a NUL byte in its first 8 KiB ``head``, UTF-16 text
    aside: :func:`ecoseg._text.check_not_binary`): a video or an image given as the annotation
    file, whose bytes were read as text (``line 1: not UTF-8 text (byte 0x9f); save it as
    UTF-8``).

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "dive.mp4"
    >>> _ = f.write_bytes(bytes(3) + b"\\x1cftypisom")
    >>> check_not_binary(f)
    Traceback (most recent call last):
    ecoseg.errors.FormatError: ...dive.mp4: not a text file (it holds NUL bytes: a video, ...
    """
    if head is None:
        head = read_file_bytes(path, "text file", limit=8192, error=FormatError)
    _check_not_binary(os.fspath(path), head, error=FormatError, hint=_TEXT_FORMAT)


def read_table(path: Path, sep: str = ",") -> Any:
    """Data rows of a delimited text file as a DataFrame of strings (pandas).

    Rows may have different numbers of fields (missing ones are ``""``); blank lines and lines
    starting with ``#`` are dropped; the ``line`` column holds each row's 1-based line number.
    ``sep`` is ``","`` or ``" "`` (any run of spaces or tabs).
    """
    import csv
    import io

    import pandas as pd

    lines = read_text(path).splitlines()
    opened = None  # the line where a quoted field starts that no later line closes
    for k, line in enumerate(lines, 1):
        if line.count('"') % 2:
            opened = k if opened is None else None
    if opened is not None:
        raise FormatError(f'{path}: line {opened}: a quoted field (") is not closed (cut short?)')
    if sep == ",":
        width = max((len(row) for row in csv.reader(lines)), default=0)
        kwargs = {"sep": ",", "quotechar": '"'}
    else:
        width = max((len(line.split()) for line in lines), default=0)
        kwargs = {"sep": r"\s+", "engine": "python"}
    if width == 0:
        return pd.DataFrame({"line": pd.Series([], dtype=int)})
    try:
        table = pd.read_csv(
            io.StringIO("\n".join(lines)),
            header=None,
            names=list(range(width)),
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
            **kwargs,
        )
    except (pd.errors.ParserError, csv.Error) as exc:
        reason = " ".join(str(exc).split())
        raise FormatError(f"{path}: not a readable table ({reason})") from None
    table = table.fillna("")
    table["line"] = np.arange(1, len(table) + 1)
    first = table[0].astype(str).str.strip()
    keep = (first != "") & ~first.str.startswith("#")
    return table[keep].reset_index(drop=True)
