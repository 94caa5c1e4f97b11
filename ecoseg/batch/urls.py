"""URLs and store locations of a campaign, and credentials kept out of everything shown.

User names, passwords and query strings (tokens, signatures) in a URL are stripped
(:func:`redact_url`, :func:`redact_text`) before anything is printed, logged, written to the
summary or recorded in a store's provenance.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ecoseg._bundled import local_path as bundled_path

__all__ = [
    "file_name",
    "is_url",
    "join_url",
    "local_path",
    "redact_text",
    "redact_url",
    "store_location",
    "video_name",
]

_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>:,.;)]")


def is_url(text: str) -> bool:
    """Whether ``text`` is a URL that is not a local ``file://`` one.

    Examples
    --------
    >>> is_url("s3://bucket/T1.mp4"), is_url("file:///data/T1.mp4"), is_url("T1.mp4")
    (True, False, False)
    """
    return "://" in text and not text.startswith("file://")


def local_path(text: str) -> str:
    """``file://`` URLs as local paths, the bundled sample's name (``ecoseg:sample/video.mp4``)
    as its file here (:func:`ecoseg._bundled.local_path`); everything else unchanged.

    Examples
    --------
    >>> local_path("file:///data/T1.mp4"), local_path("videos/T1.mp4")
    ('/data/T1.mp4', 'videos/T1.mp4')
    """
    if text.startswith("file://"):
        from urllib.request import url2pathname

        return url2pathname(urlsplit(text).path)
    return os.fspath(bundled_path(text))


def redact_url(text: str | os.PathLike) -> str:
    """``text`` without credentials: a URL loses its user, password, query and fragment.

    Local paths are returned unchanged.

    Parameters
    ----------
    text : str or Path

    Returns
    -------
    str

    Examples
    --------
    >>> redact_url("s3://KEY:SECRET@bucket/campaign?X-Amz-Signature=abc")
    's3://bucket/campaign'
    >>> redact_url("https://user:pw@example.org/v/a.mp4?token=t#x")
    'https://example.org/v/a.mp4'
    >>> redact_url("videos/a.mp4")
    'videos/a.mp4'
    """
    text = os.fspath(text)
    if "://" not in text:
        return text
    try:
        parts = urlsplit(text)
    except ValueError:  # malformed: keep only scheme and what follows the last '@'
        scheme, _, rest = text.partition("://")
        return f"{scheme}://{rest.rpartition('@')[2].split('?')[0].split('#')[0]}"
    netloc = parts.netloc.rpartition("@")[2]
    return _unsplit(parts.scheme, netloc, parts.path)


def _unsplit(scheme: str, netloc: str, path: str, query: str = "", fragment: str = "") -> str:
    """A URL of these parts that keeps its ``//`` with no host (``memory:///x``):
    :func:`urllib.parse.urlunsplit` writes ``memory:/x`` for a scheme it does not know, which
    the storage library reads as a local path."""
    url = urlunsplit((scheme, netloc, path, query, fragment))
    if not netloc and url.startswith(f"{scheme}:") and not url.startswith(f"{scheme}://"):
        url = f"{scheme}://{url[len(scheme) + 1 :]}"
    return url


def redact_text(text: str) -> str:
    """Every URL inside ``text`` (an error message, a log line) passed through :func:`redact_url`.

    Examples
    --------
    >>> redact_text("s3://k:s@b/a.zarr: already exists")
    's3://b/a.zarr: already exists'
    """
    return _URL_RE.sub(lambda m: redact_url(m.group(0)), str(text))


def video_name(video: str | os.PathLike) -> str:
    """The name of a video's store: its file (or image folder) name without the extension.

    Examples
    --------
    >>> video_name("field/2024-03/T1.mp4"), video_name("https://x.org/a/T2.MOV?token=1")
    ('T1', 'T2')
    """
    text = os.fspath(video)
    path = urlsplit(text).path if is_url(text) else local_path(text)
    # NFC: a name listed from a macOS file name (e + accent) is the one typed elsewhere (é)
    return unicodedata.normalize("NFC", Path(path.rstrip("/")).stem)


def store_location(out: str | os.PathLike, name: str) -> str:
    """Where the store of video ``name`` goes: ``OUT/<name>.zarr`` (a path or a URL).

    Examples
    --------
    >>> store_location("s3://bucket/campaign/", "T1")
    's3://bucket/campaign/T1.zarr'
    """
    out = os.fspath(out)
    if "://" in out:
        parts = urlsplit(out)
        path = parts.path.rstrip("/") + f"/{name}.zarr"
        return _unsplit(parts.scheme, parts.netloc, path, parts.query, parts.fragment)
    return str(Path(out) / f"{name}.zarr")


def join_url(out: str, filename: str) -> str:
    """``out/filename`` for a folder path or a URL (its query kept, for the storage library).

    Examples
    --------
    >>> join_url("s3://bucket/campaign/", "batch-summary.csv")
    's3://bucket/campaign/batch-summary.csv'
    """
    if "://" in out:
        parts = urlsplit(out)
        path = parts.path.rstrip("/") + f"/{filename}"
        return _unsplit(parts.scheme, parts.netloc, path, parts.query, parts.fragment)
    return str(Path(out) / filename)


def file_name(video: str) -> str:
    """The file (or folder) name of a video path or URL, without credentials.

    Examples
    --------
    >>> file_name("https://u:p@x.org/a/T2.MOV?token=1")
    'T2.MOV'
    """
    text = redact_url(video)
    return Path((urlsplit(text).path if is_url(text) else local_path(text)).rstrip("/")).name
