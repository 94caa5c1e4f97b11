"""The text of the files a user gives (settings, prompt, study and annotation files): UTF-8
with or without a byte order mark, and one line naming the file for anything else (UTF-16,
binary, another encoding). :func:`ecoseg._paths.read_file_text` reads a file through it.

Public names in a private module: other ecoseg modules import them, users do not.
"""

from __future__ import annotations

from ecoseg.errors import ConfigError

__all__ = ["check_not_binary", "decode_text"]


def decode_text(
    data: bytes, name: str, *, error: type[Exception] = ConfigError, kind: str = "", hint: str = ""
) -> str:
    """``data``, the bytes of the file ``name``, as UTF-8 text (a byte order mark dropped, line
    ends made ``\\n``), or one line in ``error``: UTF-16 (with or without a byte order mark),
    binary (:func:`check_not_binary`, ``kind`` and ``hint`` its words) or another encoding,
    with the line and byte. The one decoder of the text files a user gives: settings, prompt
    and study files (:func:`ecoseg._paths.read_file_text`), annotation files (``ecoseg.formats``).

    Examples
    --------
    >>> decode_text(b"\\xef\\xbb\\xbfid,species\\r\\n1,Fran\\xc3\\xa7ais\\r\\n", "gt.csv")
    'id,species\\n1,Français\\n'
    >>> decode_text("id\\n".encode("utf-16-le"), "gt.csv")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: gt.csv: UTF-16 text, not UTF-8; save it as UTF-8
    >>> decode_text(b"id,species\\n1,Fran\\xe7ais\\n", "gt.csv")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: gt.csv: line 2: not UTF-8 text (byte 0xe7); save it as UTF-8
    """
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or _utf16(data[:4096]):  # Windows "Unicode"
        raise error(f"{name}: UTF-16 text, not UTF-8; save it as UTF-8")
    check_not_binary(name, data[:8192], error=error, kind=kind, hint=hint)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"{name}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_not_binary(
    name: str, head: bytes, *, error: type[Exception] = ConfigError, kind: str = "", hint: str = ""
) -> None:
    """Refuse a file that is no text: a NUL byte in ``head`` (its first 8 KiB), UTF-16 text
    aside (ASCII is written so in it). A video or an image given as a text file read as
    ``line 1: not UTF-8 text (byte 0x9f)``; ``kind`` (``" (JSON)"``) and ``hint`` (a last
    clause) are the caller's words.

    Examples
    --------
    >>> check_not_binary("dive.mp4", bytes(3) + b"\\x1cftypisom", kind=" (JSON)")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: dive.mp4: not a text (JSON) file (it holds NUL bytes: a video, ...
    """
    if b"\0" in head and not _utf16(head[:4096]):
        raise error(
            f"{name}: not a text{kind} file (it holds NUL bytes: a video, an image, an archive?)"
            + hint
        )


def _utf16(head: bytes) -> bool:
    """Whether ``head`` reads as UTF-16 text without a byte order mark: a NUL in nearly every
    other byte (ASCII characters are written so), and in nearly none of the bytes between."""
    if len(head) < 4:
        return False
    odd, even = head[1::2].count(0) / len(head[1::2]), head[0::2].count(0) / len(head[0::2])
    return max(odd, even) > 0.75 and min(odd, even) < 0.05
