"""The official SAM 2 checkpoints: manifest, local cache, download and verification.

The manifest (``model/manifest.json``; in an installed wheel ``ecoseg/sam2/_manifest.json``)
lists, per variant, the file name and URL of the official checkpoint, with its size and sha256
where the publisher documents them (it documents none, so they are null). Checkpoints live in
the weights cache: ``platformdirs.user_cache_dir("ecoseg") / "weights"``, or the folder named
by the ``ECOSEG_WEIGHTS_DIR`` environment variable (an absolute path). :func:`download` fetches
one with pooch (checking the manifest hash when there is one) and records the sha256 it
computed next to the file (``FILE.sha256``); :func:`verify` checks cached files against the
manifest hash or that record. Offline (one connection to the host tried first) a download
fails at once in one line; a file fetched by hand is adopted with ``download(name,
checkpoint=PATH)`` once its keys and shapes are those of that variant. This module imports
torch only to check such a file.

Exports
-------
``cache_dir() -> Path``, ``weights_path(name) -> Path``, ``manifest() -> dict``,
``list_weights() -> list[dict]`` (keys ``variant``, ``file``, ``url``, ``size``, ``sha256``,
``cached``, ``damaged``, ``path``),
``download(name, *, progress=True, url=None, checkpoint=None, overwrite=False) -> Path``,
``verify(name=None) -> list[(name, ok, reason)]``; for other networks' weights
(:mod:`ecoseg.sam3.weights`): ``manifest_data() -> dict`` (the whole manifest file),
``record_sha256(path) -> str``, ``recorded_sha256(path) -> str | None``,
``network_problem(url) -> str | None``, ``needs_copy(source, target, overwrite) -> bool``,
``copy_in(source, target)``, ``check_cached(name, path, documented)``,
``unrecorded_damage(path) -> str | None`` and ``cache_state(path) -> dict``.

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

import filecmp
import functools
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from ecoseg._hashing import absolute_env_path, sha256_file
from ecoseg._paths import check_file, check_overwrite
from ecoseg.errors import CheckpointError, ConfigError

__all__ = [
    "ENV_DIR",
    "cache_dir",
    "manifest",
    "weights_path",
    "MissingWeights",
    "missing_weights",
    "cached_weights",
    "list_weights",
    "download",
    "verify",
    "manifest_data",
    "record_sha256",
    "recorded_sha256",
    "check_cached",
    "unrecorded_damage",
    "cache_state",
    "network_problem",
    "needs_copy",
    "copy_in",
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
    """The weights cache folder (``$ECOSEG_WEIGHTS_DIR`` or, when it is unset or blank, the
    user cache dir).

    Raises
    ------
    ConfigError
        ``$ECOSEG_WEIGHTS_DIR`` names a file (a checkpoint, where ``--checkpoint`` takes
        one): one line saying so (it was ``[Errno 17] File exists`` when a download wrote
        into it, and *no weights for sam2.1-tiny in the cache (ckpt.pt/sam2.1_hiera_tiny.pt)*).
        Or it is a relative path (``weights``), which named a different cache in every working
        folder: one line asking for an absolute one (``~/`` is expanded).

    Examples
    --------
    >>> cache_dir().name in ("weights",) or True
    True
    """
    env = os.environ.get(ENV_DIR)
    if env and env.strip():  # blank as unset: "  " was a folder named two spaces
        path = absolute_env_path(ENV_DIR, env, "weights cache")
        if path.exists() and not path.is_dir():
            raise ConfigError(
                f"{ENV_DIR}={env}: a file, not a folder; it names the folder of the weights "
                "cache (a checkpoint file is given with --checkpoint PATH)"
            )
        return path
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


@dataclass(frozen=True)
class MissingWeights:
    """Published weights a run given no checkpoint file needs and the cache lacks, or weights
    never published (``path`` None): what :func:`cached_weights` refuses, for callers that
    say it in their own words (a study file's keys).

    Attributes
    ----------
    name : str
        The variant or model name.
    path : Path or None
        Where the cache would hold them; ``None``: ``name`` has no published weights.
    page : str or None
        Gated weights: the page where their licence is accepted.
    what : str
        What ``path`` is: ``"weights"``, or ``"tokenizer vocabulary"`` (SAM 3's, beside
        weights that are cached).
    """

    name: str
    path: Path | None
    page: str | None = None
    what: str = "weights"


def missing_weights(name: str) -> MissingWeights | None:
    """What the cache lacks for variant ``name`` (:class:`MissingWeights`), or ``None`` when it
    holds its weights. Nothing is downloaded.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ[ENV_DIR] = tempfile.mkdtemp()  # an empty cache
    >>> missing_weights("sam2.1-tiny").path.name
    'sam2.1_hiera_tiny.pt'
    >>> del os.environ[ENV_DIR]
    """
    cached = weights_path(name)
    return None if cached.is_file() else MissingWeights(name, cached)


def refuse_missing(missing: MissingWeights | None) -> None:
    """Raise the one-line :class:`CheckpointError` a run given no checkpoint file meets when
    the cache lacks its weights (:func:`missing_weights`); nothing when it holds them."""
    if missing is None:
        return
    name = missing.name
    if missing.path is None:
        raise CheckpointError(
            f"{name} has no published weights: pass a checkpoint file with checkpoint=PATH "
            "(--checkpoint PATH) or build it with random weights for tests with "
            "pretrained=False (--random-weights)"
        )
    gated = f" (gated: accept the SAM License on {missing.page} first)" if missing.page else ""
    raise CheckpointError(
        f"no weights for {name} in the cache ({missing.path}); download them with "
        f"`ecoseg weights download {name}`{gated} or pass a checkpoint file with "
        "checkpoint=PATH (--checkpoint PATH)"
    )


def cached_weights(name: str) -> Path:
    """The cached checkpoint of variant ``name``, for a run that was given no checkpoint file:
    refused, before any work, when the cache does not hold it (nothing is downloaded).

    Raises
    ------
    CheckpointError
        Not in the cache: says how to download it or give a file.
    ConfigError
        Unknown variant name.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ[ENV_DIR] = tempfile.mkdtemp()  # an empty cache
    >>> cached_weights("sam2.1-tiny")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.CheckpointError: no weights for sam2.1-tiny in the cache (...); download ...
    >>> del os.environ[ENV_DIR]
    """
    refuse_missing(missing_weights(name))
    return weights_path(name)


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
    """One row per variant: manifest entry plus ``cached`` (bool), ``damaged`` and ``path``
    (str).

    ``damaged`` is why a file in the cache that no download recorded (copied there by hand)
    cannot be a checkpoint (empty, text, cut short: :func:`unrecorded_damage`), else ``None``;
    such a file is not ``cached``.

    Examples
    --------
    >>> rows = list_weights()
    >>> len(rows), sorted(rows[0])
    (8, ['cached', 'damaged', 'file', 'path', 'sha256', 'size', 'url', 'variant'])
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
                **cache_state(path),
                "path": str(path),
            }
        )
    return rows


def cache_state(path: Path) -> dict:
    """The ``cached`` and ``damaged`` entries of a :func:`list_weights` row for the file
    ``path`` in the cache (shared with :mod:`ecoseg.sam3.weights`)."""
    damaged = unrecorded_damage(path) if path.is_file() else None
    return {"cached": path.is_file() and damaged is None, "damaged": damaged}


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


def network_problem(url: str, timeout: float = 10.0) -> str | None:
    """Why the host of ``url`` (or the proxy for it, where one is set) cannot be reached: one
    name lookup and one connection, so that an offline download fails at once rather than
    after retries; ``None`` when it can (shared with :mod:`ecoseg.sam3.weights`)."""
    import socket
    import urllib.request

    parts = urlparse(url)
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname or ""):
        parts = urlparse(proxy if "://" in proxy else f"http://{proxy}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        socket.create_connection((parts.hostname, port), timeout=timeout).close()
    except OSError as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        return f"cannot reach {parts.hostname}:{port}: {reason}"
    return None


def needs_copy(source: Path, target: Path, overwrite: bool) -> bool:
    """Whether a hand-fetched ``source`` must be copied to ``target`` in the cache: ``False``
    when the cached file is the same one; a different cached file is kept unless ``overwrite``
    (:class:`~ecoseg.errors.CheckpointError` naming it)."""
    there = target.is_file()
    if there and filecmp.cmp(source, target, shallow=False):
        return False
    check_overwrite(target, overwrite, error=CheckpointError, exists=there)
    return True


def copy_in(source: Path, target: Path) -> None:
    """Copy through ``TARGET.part`` so that a failed copy never leaves a truncated file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _check_variant(name: str, source: Path) -> None:
    """Refuse a file that is not a SAM 2 checkpoint of variant ``name`` (by its keys and
    shapes), in one line naming it, before anything is written."""
    from ecoseg.sam2.checkpoint import check_state_dict, read_state_dict, variant_signature

    if source.suffix == ".safetensors":
        raise CheckpointError(
            f"{source}: a safetensors file, not the official {_entry(name)['file']} (the cache "
            "holds that one); pass it to `ecoseg segment` with --checkpoint PATH instead"
        )
    check_state_dict(
        read_state_dict(source),
        variant_signature(name),
        name,
        f"checkpoint {source} does not match {name}",
        other=f"`ecoseg weights download {{guess}} --checkpoint {source}`",
        end="; nothing was adopted",
    )


def _adopt(name: str, source: str | os.PathLike, overwrite: bool) -> Path:
    """Copy a hand-fetched checkpoint of ``name`` into the cache, checked, or nothing."""
    source = check_file(source, "checkpoint file", error=CheckpointError)
    _check_variant(name, source)
    known = _entry(name).get("sha256")
    if known and sha256_file(source) != known.lower():
        raise CheckpointError(
            f"{source}: its sha256 is not the manifest's for {name}; nothing was adopted"
        )
    path = weights_path(name)
    if needs_copy(source, path, overwrite):
        copy_in(source, path)
    record_sha256(path)
    return path


def _pooch_lines(progress: bool, record: logging.LogRecord) -> bool:
    """pooch's log filter during :func:`download`: its "Downloading data from ..." line only
    with ``progress`` (a progress line too), and never its "Use this value as the 'known_hash'
    argument of 'pooch.retrieve' ..." (advice to a pooch caller, not to a user)."""
    if record.levelno >= logging.WARNING:
        return True
    return progress and "'known_hash' argument" not in str(record.msg)


def download(
    name: str,
    *,
    progress: bool = True,
    url: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    overwrite: bool = False,
) -> Path:
    """Download the official checkpoint of ``name`` into the cache (no-op if present).

    Parameters
    ----------
    name : str
        Variant name (e.g. ``"sam2.1-tiny"``).
    progress : bool
        Show a progress bar and pooch's line naming the URL and the file on stderr (not its
        advice to pass the sha256 computed as ``pooch.retrieve``'s ``known_hash``, which
        means nothing to a user: the sha256 is recorded in ``FILE.sha256``).
    url : str, optional
        Download from here instead of the manifest URL (a mirror; ``file://`` works).
    checkpoint : path, optional
        The checkpoint fetched by hand: copied into the cache instead of downloading it, once
        its keys and shapes are those of variant ``name``.
    overwrite : bool
        Let ``checkpoint`` replace a different checkpoint already in the cache.

    Returns
    -------
    pathlib.Path
        The cached file. The sha256 of a file this call downloaded or adopted is recorded in
        ``FILE.sha256`` next to it.

    Raises
    ------
    CheckpointError
        One line: no network (found with one connection before any download), the download
        failed or the file does not match the manifest sha256; or ``checkpoint`` is not a
        checkpoint of ``name`` or differs from the cached one without ``overwrite`` (nothing
        is written then).
    """
    entry = _entry(name)
    if checkpoint is not None:
        return _adopt(name, checkpoint, overwrite)
    source = url or entry["url"]
    folder = cache_dir()
    existed = (folder / entry["file"]).is_file()
    by_hand = f"download it by hand and run `ecoseg weights download {name} --checkpoint PATH`"
    if existed and (why := unrecorded_damage(folder / entry["file"])):
        raise CheckpointError(f"{name}: {folder / entry['file']}: {why}; or {by_hand}")
    problem = None if existed or source.startswith("file://") else network_problem(source)
    if problem is not None:
        raise CheckpointError(
            f"{name}: cannot download {entry['file']} from {source} (no network: {problem}); "
            + by_hand
        )
    import pooch

    folder.mkdir(parents=True, exist_ok=True)
    known = entry.get("sha256")
    downloader = _copy_local if source.startswith("file://") else None
    logger = pooch.get_logger()
    lines = functools.partial(_pooch_lines, progress)
    logger.addFilter(lines)  # not setLevel: this logger outside logging's tree caches levels
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
            f"{name}: cannot download {entry['file']} from {source} ({reason}); {by_hand}"
        ) from None
    finally:
        logger.removeFilter(lines)
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


def unrecorded_damage(path: Path) -> str | None:
    """Why a cached checkpoint that no download recorded (:func:`recorded_sha256`: one copied
    into the cache by hand, perhaps cut short) cannot be read, from its bytes; ``None`` when
    it was recorded or may be whole. It was taken as downloaded, and verify said only that it
    could not be verified."""
    if recorded_sha256(path) is not None:
        return None
    from ecoseg.sam2._file_damage import unreadable_reason  # no torch: `weights list` uses it

    why = unreadable_reason(path)
    if why is None or " again" in why:  # a file cut short says to fetch it again itself
        return why
    return f"{why}; delete it and download it again"


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
    elif why := unrecorded_damage(path):
        return (name, False, f"{path}: {why}")
    else:
        return (name, False, f"cannot verify: no reference sha256 for {path} (sha256 {digest})")
    if ok:
        return (name, True, f"sha256 matches {source}")
    return (name, False, f"sha256 mismatch with {source}: {digest} != {documented} ({path})")
