"""Which annotation format a file looks like (:func:`looks_like`), from its first bytes: the
hint a refusal adds where a file was given as another format (a MOT file read as VIAME was
refused as ``box (70, 51, 21, 1) is empty or inverted``, with no word of the format), and
the hint where a text file begins with a column header row (:func:`header_row_hint`).
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["header_row_hint", "looks_like", "other_format_hint"]

#: how a hint names each format
LABELS = {
    "coco": "a COCO file",
    "ytvis": "a YouTube-VIS file",
    "mot": "MOT text",
    "mots": "MOTS text",
    "cvat": "a CVAT XML file",
    "viame": "a VIAME CSV",
}

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
_TIME = re.compile(r"\d+:\d\d:\d\d(\.\d*)?")


def looks_like(path: str | Path) -> str | None:
    """The format whose files ``path``'s first 64 KiB look like, None where none or unsure
    (a folder, a binary file, an empty one).

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "gt.csv"
    >>> _ = f.write_text("1,3,70,51,21,12,1,-1,-1,-1\\n")
    >>> looks_like(f)
    'mot'
    >>> _ = f.write_text("3,00:00:00.1,1,70,51,91,63,1,-1,goby,0.9\\n")
    >>> looks_like(f)
    'viame'
    >>> _ = f.write_text('{"videos": [{"id": 1}], "annotations": []}')
    >>> looks_like(f)
    'ytvis'
    """
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536)
    except OSError:
        return None
    if b"\0" in head:
        return None
    text = head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")
    if text.startswith(("{", "[")):
        if re.search(r'"videos"\s*:', text):
            return "ytvis"
        return "coco" if re.search(r'"images"\s*:', text) else None
    if text.startswith("<"):
        return "cvat" if "<annotations" in text else None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if any(line.startswith(("# 1: Detection or Track-id", "# metadata")) for line in lines[:3]):
        return "viame"
    rows = [line for line in lines if not line.startswith("#")]
    if not rows:
        return None
    row = rows[0]
    if "," in row:
        fields = [f.strip() for f in row.split(",")]
        if len(fields) >= 10 and (_TIME.fullmatch(fields[1]) or not _number(fields[9])):
            return "viame"  # a time stamp in field 2, or a species in field 10
        # 9 numbers are MOT's gt.txt or a VIAME row without species: either
        return "mot" if len(fields) in (6, 7, 8, 10) and all(map(_number, fields)) else None
    fields = row.split()
    if len(fields) == 6 and all(map(_number, fields[:5])) and not _number(fields[5]):
        return "mots"  # time_frame id class_id img_height img_width rle
    return "mot" if 6 <= len(fields) <= 10 and all(map(_number, fields)) else None


def other_format_hint(path: str | Path, given: str) -> str | None:
    """What a refusal of ``path`` read as ``given`` adds where it looks like another format
    (:func:`looks_like`), None where it does not.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "tracks.csv"
    >>> _ = f.write_text("1,3,70,51,21,12,1,-1,-1,-1\\n")
    >>> other_format_hint(f, "viame")
    "the file looks like MOT text, not a VIAME CSV (format='mot', --format mot)"
    >>> other_format_hint(f, "mot") is None
    True
    """
    if given in ("mot", "viame") and _semicolons(path):
        return (
            "its fields are separated by ';', not by commas: save it as comma-separated text "
            "(a spreadsheet set to a language that writes decimal commas saves ';')"
        )
    seen = looks_like(path)
    if seen is None or seen == given or given not in LABELS:
        return None
    return (
        f"the file looks like {LABELS[seen]}, not {LABELS[given]} "
        f"(format='{seen}', --format {seen})"
    )


#: what each text format keeps in place of a header row
_NO_HEADER = {
    "mot": "MOT files have none: remove it",
    "mots": "MOTS files have none: remove it",
    "viame": "VIAME CSV's header lines start with '#': remove it or start it with '#'",
}


def header_row_hint(path: str | Path, given: str) -> str | None:
    """What a refusal of ``path`` read as ``given`` (MOT, MOTS or VIAME text) adds where its
    first data row is a column header (no field a number, as pandas writes one: before, it
    was refused as ``line 1: frame 'frame' is not a number``), None where it is not.

    Examples
    --------
    >>> import tempfile
    >>> f = Path(tempfile.mkdtemp()) / "gt.txt"
    >>> _ = f.write_text("frame,id,bb_left,bb_top,bb_width,bb_height\\n1,3,70,51,21,12\\n")
    >>> header_row_hint(f, "mot")
    "line 1 ('frame,id,bb_left,...') looks like a header row: MOT files have none: remove it"
    >>> _ = f.write_text("1,3,70,51,21,12\\n")
    >>> header_row_hint(f, "mot") is None
    True
    >>> _ = f.write_text("<?xml version='1.0' encoding='utf-8'?>\\n<annotations/>\\n")
    >>> header_row_hint(f, "mot") is None
    True
    """
    if given not in _NO_HEADER:
        return None
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536).decode("utf-8", errors="replace").lstrip("\ufeff")
    except OSError:
        return None
    if head.lstrip().startswith(("<", "{", "[")) or "\x00" in head:
        return None  # XML or JSON (its first line is no header), or no text (a video)
    for number, line in enumerate(head.splitlines(), 1):
        row = line.strip()
        if not row or row.startswith("#"):
            continue
        sep = "," if "," in row else " "
        fields = [f.strip() for f in (row.split(",") if sep == "," else row.split())]
        if len(fields) < 2 or any(_number(f) or _TIME.fullmatch(f) for f in fields):
            return None
        shown = sep.join(fields[:3]) + (sep + "..." if len(fields) > 3 else "")
        return f"line {number} ('{shown}') looks like a header row: {_NO_HEADER[given]}"
    return None


def _semicolons(path: str | Path) -> bool:
    """Whether the first data row of a text file has no comma but 5 or more ``;``."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(65536).decode("utf-8", errors="replace")
    except OSError:
        return False
    rows = [r for r in (line.strip() for line in head.splitlines()) if r and r[0] != "#"]
    return bool(rows) and "," not in rows[0] and rows[0].count(";") >= 5


def _number(text: str) -> bool:
    return bool(_NUMBER.fullmatch(text))
