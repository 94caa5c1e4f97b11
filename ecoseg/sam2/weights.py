"""The official SAM 2 checkpoints: manifest, local cache, download and verification.

The manifest (``model/manifest.json``; in an installed wheel ``ecoseg/sam2/_manifest.json``)
lists, per variant, the file name and URL of the official checkpoint, with its size and sha256
where the publisher documents them (it documents none, so they are null). Checkpoints live in
the weights cache: ``platformdirs.user_cache_dir("ecoseg") / "weights"``, or the folder named
by the ``ECOSEG_WEIGHTS_DIR`` environment variable. :func:`download` fetches one with pooch
(checking the manifest hash when there is one) and records the sha256 it computed next to the
file (``FILE.sha256``); :func:`verify` checks cached files against the manifest hash or that
record. This module does not import torch.

Exports
-------
``cache_dir() -> Path``, ``weights_path(name) -> Path``, ``manifest() -> dict``,
``list_weights() -> list[dict]`` (keys ``variant``, ``file``, ``url``, ``size``, ``sha256``,
``cached``, ``path``), ``download(name, *, progress=True, url=None) -> Path``,
``verify(name=None) -> list[(name, ok, reason)]``; for other networks' weights
(:mod:`ecoseg.sam3.weights`): ``manifest_data() -> dict`` (the whole manifest file),
``record_sha256(path) -> str`` and ``recorded_sha256(path) -> str | None``.

Examples
--------
>>> import os, tempfile
>>> os.environ["ECOSEG_WEIGHTS_DIR"] = tempfile.mkdtemp()
>>> weights_path("sam2.1-tiny").name
'sam2.1_hiera_tiny.pt'
>>> [row["cached"] for row in list_weights()][:2]
[False, False]
>>> del os.environ["ECOSEG_WEIGHTS_DIR"]
"""

from __future__ import annotations

import functools
import json
import os
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

from ecoseg._hashing import sha256_file
from ecoseg.errors import CheckpointError, ConfigError

__all__ = [
    "ENV_DIR",
    "cache_dir",
    "manifest",
    "weights_path",
    "list_weights",
    "download",
    "verify",
    "manifest_data",
    "record_sha256",
    "recorded_sha256",
    "check_cached",
]

#: Environment variable that overrides the cache folder.
ENV_DIR = "ECOSEG_WEIGHTS_DIR"

_HERE = Path(__file__).resolve().parent
_MANIFEST_PLACES = (
    _HERE / "_manifest.json",  # installed wheel (force-included from model/manifest.json)
    _HERE.parent.parent / "model" / "manifest.json",  # source checkout
)


@functools.lru_cache(maxsize=1)
def manifest_data() -> dict:
    """The whole manifest file as read (SAM 2 ``checkpoints``; other networks' entries too).

    Examples
    --------
    >>> sorted(manifest_data())[:2]
    ['checkpoints', 'description']
    """
    for place in _MANIFEST_PLACES:
        if place.is_file():
            with open(place, encoding="utf-8") as f:
                return json.load(f)
    raise CheckpointError(
        "the checkpoint manifest is missing (looked in "
        + ", ".join(str(p) for p in _MANIFEST_PLACES)
        + "); reinstall ecoseg"
    )


@functools.lru_cache(maxsize=1)
def _load_manifest() -> dict:
    return {entry["variant"]: entry for entry in manifest_data()["checkpoints"]}


def manifest() -> dict[str, dict]:
    """Manifest entries by variant name (``file``, ``url``, ``size``, ``sha256``).

    Examples
    --------
    >>> manifest()["sam2-tiny"]["url"]
    'https://dl.fbaipublicfiles.com/segment_anything_2/072824/sam2_hiera_tiny.pt'
    """
    return {k: dict(v) for k, v in _load_manifest().items()}


def _entry(name: str) -> dict:
    entries = _load_manifest()
    if name not in entries:
        raise ConfigError(f"unknown SAM 2 variant {name!r}; valid names: {', '.join(entries)}")
    return entries[name]


def cache_dir() -> Path:
    """The weights cache folder (``$ECOSEG_WEIGHTS_DIR`` or the user cache dir).

    Examples
    --------
    >>> cache_dir().name in ("weights",) or True
    True
    """
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("ecoseg")) / "weights"


def weights_path(name: str) -> Path:
    """Where the checkpoint of variant ``name`` lives in the cache (it may not exist yet).

    Raises
    ------
    ConfigError
        Unknown variant name.

    Examples
    --------
    >>> weights_path("sam2-large").name
    'sam2_hiera_large.pt'
    """
    return cache_dir() / _entry(name)["file"]


def _hash_record(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def recorded_sha256(path: str | os.PathLike) -> str | None:
    """The sha256 recorded next to a cached file (``FILE.sha256``), or ``None``."""
    record = _hash_record(Path(path))
    if not record.is_file():
        return None
    text = record.read_text(encoding="utf-8").split()
    return text[0].lower() if text else None


def record_sha256(path: str | os.PathLike) -> str:
    """Compute a file's sha256 and record it next to the file (``FILE.sha256``); return it."""
    path = Path(path)
    digest = sha256_file(path)
    _hash_record(path).write_text(f"{digest}  {path.name}\n", encoding="utf-8")
    return digest


def list_weights() -> list[dict]:
    """One row per variant: manifest entry plus ``cached`` (bool) and ``path`` (str).

    Examples
    --------
    >>> rows = list_weights()
    >>> len(rows), sorted(rows[0])
    (8, ['cached', 'file', 'path', 'sha256', 'size', 'url', 'variant'])
    """
    rows = []
    for name, entry in _load_manifest().items():
        path = weights_path(name)
        rows.append(
            {
                "variant": name,
                "file": entry["file"],
                "url": entry["url"],
                "size": entry.get("size"),
                "sha256": entry.get("sha256"),
                "cached": path.is_file(),
                "path": str(path),
            }
        )
    return rows


def _copy_local(url: str, output_file, pooch_obj, check_only: bool = False):
    """pooch downloader for ``file://`` URLs (local mirrors, offline tests)."""
    source = Path(unquote(urlparse(url).path))
    if check_only:
        return source.is_file()
    if not source.is_file():
        raise FileNotFoundError(f"no such file: {source}")
    if isinstance(output_file, str | os.PathLike):
        shutil.copyfile(source, output_file)
    else:
        with open(source, "rb") as f:
            shutil.copyfileobj(f, output_file)
    return None


def download(name: str, *, progress: bool = True, url: str | None = None) -> Path:
    """Download the official checkpoint of ``name`` into the cache (no-op if present).

    Parameters
    ----------
    name : str
        Variant name (e.g. ``"sam2.1-tiny"``).
    progress : bool
        Show a progress bar.
    url : str, optional
        Download from here instead of the manifest URL (a mirror; ``file://`` works).

    Returns
    -------
    pathlib.Path
        The cached file. The sha256 of a file this call downloaded is recorded in
        ``FILE.sha256`` next to it.

    Raises
    ------
    CheckpointError
        The download failed or the file does not match the manifest sha256.
    """
    import pooch

    entry = _entry(name)
    source = url or entry["url"]
    folder = cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    known = entry.get("sha256")
    downloader = _copy_local if source.startswith("file://") else None
    existed = (folder / entry["file"]).is_file()
    try:
        fetched = pooch.retrieve(
            source,
            known_hash=f"sha256:{known}" if known else None,
            fname=entry["file"],
            path=folder,
            progressbar=progress,
            downloader=downloader,
        )
    except Exception as exc:  # network, HTTP, disk or hash errors from pooch/requests
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise CheckpointError(
            f"could not download {name} from {source} ({reason}); download the file by hand "
            f"and pass --checkpoint PATH, or put it at {folder / entry['file']}"
        ) from None
    path = Path(fetched)
    record = _hash_record(path)
    if not existed or (known and not record.is_file()):
        # record what was downloaded (or checked against the manifest); a file that was
        # already there unchecked is left without a record, so verify() says so
        record_sha256(path)
    return path


def verify(name: str | None = None) -> list[tuple[str, bool, str]]:
    """Check cached checkpoints' sha256 against the manifest or the hash recorded at download.

    Parameters
    ----------
    name : str, optional
        One variant; default: every variant that is in the cache.

    Returns
    -------
    list of (name, ok, reason)

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["ECOSEG_WEIGHTS_DIR"] = tempfile.mkdtemp()
    >>> verify("sam2.1-tiny")[0][:2]
    ('sam2.1-tiny', False)
    >>> verify()
    []
    >>> del os.environ["ECOSEG_WEIGHTS_DIR"]
    """
    names = [name] if name is not None else list(_load_manifest())
    return [
        check_cached(n, weights_path(n), _entry(n).get("sha256"))
        for n in names
        if name is not None or weights_path(n).is_file()
    ]


def check_cached(name: str, path: Path, documented: str | None) -> tuple[str, bool, str]:
    """(name, ok, reason) for one cached checkpoint: its sha256 against ``documented`` (the
    manifest's) or else the hash recorded when it was downloaded (shared with ecoseg.sam3).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> check_cached("x", Path(tempfile.mkdtemp()) / "none.pt", None)[1:]
    (False, 'not downloaded (run `ecoseg weights download x`)')
    """
    if not path.is_file():
        return (name, False, f"not downloaded (run `ecoseg weights download {name}`)")
    digest = sha256_file(path)
    recorded = recorded_sha256(path)
    if documented:
        ok = digest == documented.lower()
        source = "the manifest"
    elif recorded:
        ok = digest == recorded
        source = "the hash recorded at download"
        documented = recorded
    else:
        return (name, False, f"cannot verify: no reference sha256 for {path} (sha256 {digest})")
    if ok:
        return (name, True, f"sha256 matches {source}")
    return (name, False, f"sha256 mismatch with {source}: {digest} != {documented} ({path})")
