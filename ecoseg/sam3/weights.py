"""SAM 3's gated weights: download with the user's own hub token, cache, verify.

Meta publishes SAM 3 on the Hugging Face hub (``facebook/sam3``) behind a licence gate: a user
accepts the SAM License on the model page, then downloads with their own token
(``huggingface-cli login`` or the ``HF_TOKEN`` environment variable). :func:`download` fetches
``sam3.pt`` and the tokenizer vocabulary (``vocab.json``, ``merges.txt``) through
``huggingface_hub`` into ``<weights cache>/sam3/`` and records the sha256 it computed next to
the checkpoint (``sam3.pt.sha256``), as for SAM 2 (:mod:`ecoseg.sam2.weights`, whose cache
folder, manifest and hash records are shared). Without access it raises a
:class:`~ecoseg.errors.CheckpointError` whose one line says how to get it; offline (one
connection to the hub tried first) it fails at once, not after the hub's retries. A file
fetched by hand is adopted with ``download(name, checkpoint=PATH)``, together with a
vocabulary found next to it or in an installed package (offline), else the hub's; without
one nothing is adopted.

Exports
-------
``entries() -> dict``, ``folder(name) -> Path``, ``weights_path(name) -> Path``,
``tokenizer_path(name) -> Path``, ``list_weights() -> list[dict]``,
``download(name, *, checkpoint=None, token=None, overwrite=False) -> Path``,
``verify(name=None) -> list[(name, ok, reason)]``, ``load_tokenizer(name) -> Tokenizer``,
``missing_vocabulary(name) -> Path | None``, ``read_vocabulary(place) -> Tokenizer``,
``require_vocabulary(checkpoint) -> None``,
``ACCESS_HINT``, ``CHECKPOINT_HINT``, ``VOCABULARY_HINT``, ``VOCABULARY_PACKAGES``

A run needs the vocabulary as much as the checkpoint (SAM 3 reads every prompt, exemplars
too, through its text encoder): :func:`cached_weights` and :func:`missing_weights` count a
cache that holds ``sam3.pt`` without its vocabulary as lacking, naming the missing file, so a
run is refused before the (3 GB) checkpoint is read, not after.

Examples
--------
>>> import os, tempfile
>>> os.environ["ECOSEG_WEIGHTS_DIR"] = tempfile.mkdtemp()
>>> weights_path("sam3").relative_to(folder("sam3")).as_posix()
'sam3.pt'
>>> [row["cached"] for row in list_weights()]
[False]
>>> del os.environ["ECOSEG_WEIGHTS_DIR"]
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlparse

from ecoseg._paths import check_file
from ecoseg.errors import CheckpointError, ConfigError
from ecoseg.sam2.weights import (
    MissingWeights,
    cache_dir,
    cache_state,
    check_cached,
    copy_in,
    manifest_data,
    needs_copy,
    network_problem,
    record_sha256,
    recorded_sha256,
    refuse_missing,
)
from ecoseg.sam3.tokenizer import find_vocabulary

__all__ = [
    "ACCESS_HINT",
    "CHECKPOINT_HINT",
    "VOCABULARY_HINT",
    "VOCABULARY_PACKAGES",
    "entries",
    "folder",
    "weights_path",
    "missing_weights",
    "missing_vocabulary",
    "cached_weights",
    "read_vocabulary",
    "require_vocabulary",
    "tokenizer_path",
    "list_weights",
    "download",
    "verify",
    "load_tokenizer",
]

#: How to get access to gated weights (one line, ``{page}`` and ``{name}`` filled in).
ACCESS_HINT = (
    "accept the SAM License on {page} (logged in), then run `huggingface-cli login` or set "
    "HF_TOKEN, and retry; or download {file} by hand and run "
    "`ecoseg weights download {name} --checkpoint PATH`"
)

#: What follows the reason a ``--checkpoint`` file cannot be SAM 3's weights (one line).
CHECKPOINT_HINT = (
    "SAM 3 weights: `ecoseg weights download sam3` (gated: accept the SAM License on "
    "https://huggingface.co/facebook/sam3 first), then leave out --checkpoint "
    "(checkpoint=None), or give Meta's sam3.pt or the hub's model.safetensors"
)


def entries() -> dict[str, dict]:
    """Hub-hosted weights of the manifest by name (``repo``, ``file``, ``tokenizer_files``...).

    Examples
    --------
    >>> entries()["sam3"]["repo"]
    'facebook/sam3'
    """
    return {e["name"]: dict(e) for e in manifest_data().get("hub", [])}


def _entry(name: str) -> dict:
    known = entries()
    if name not in known:
        raise ConfigError(f"unknown SAM 3 weights {name!r}; valid names: {', '.join(known)}")
    return known[name]


def folder(name: str) -> Path:
    """The cache folder of ``name``'s files (``<weights cache>/<name>``)."""
    _entry(name)
    return cache_dir() / name


def weights_path(name: str) -> Path:
    """Where the checkpoint of ``name`` lives in the cache (it may not exist yet)."""
    return folder(name) / _entry(name)["file"]


def missing_weights(name: str) -> MissingWeights | None:
    """What the cache lacks for SAM 3 model ``name``
    (:class:`~ecoseg.sam2.weights.MissingWeights`: ``path`` None when ``name`` has no
    published weights, ``page`` where gated weights' licence is accepted), or ``None`` when
    it holds its weights. Nothing is downloaded.

    Examples
    --------
    >>> missing_weights("sam3-reduced")
    MissingWeights(name='sam3-reduced', path=None, page=None, what='weights')
    """
    entry = entries().get(name)
    if entry is None:
        return MissingWeights(name, None)
    page = entry["page"] if entry.get("gated") else None
    cached = weights_path(name)
    if not cached.is_file():
        return MissingWeights(name, cached, page)
    vocabulary = missing_vocabulary(name)
    if vocabulary is None:
        return None
    return MissingWeights(name, vocabulary, page, what="tokenizer vocabulary")


def missing_vocabulary(name: str) -> Path | None:
    """The tokenizer file the cache of ``name`` lacks (the first of ``vocab.json`` and
    ``merges.txt`` missing, where no CLIP ``bpe_simple_vocab*.txt*`` stands in), or ``None``
    when it holds a vocabulary or ``name`` has no published weights. Only looks for files.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["ECOSEG_WEIGHTS_DIR"] = tempfile.mkdtemp()
    >>> missing_vocabulary("sam3").name
    'vocab.json'
    >>> del os.environ["ECOSEG_WEIGHTS_DIR"]
    """
    entry = entries().get(name)
    if entry is None or find_vocabulary(tokenizer_path(name)):
        return None
    files = entry.get("tokenizer_files") or ["vocab.json", "merges.txt"]
    place = tokenizer_path(name)
    return next((place / f for f in files if not (place / f).is_file()), place / files[0])


def cached_weights(name: str) -> Path:
    """The cached checkpoint of ``name`` (a SAM 3 model), for a run that was given no
    checkpoint file: refused, before any work, when ``name`` has no published weights or the
    cache does not hold them (nothing is downloaded).

    Raises
    ------
    CheckpointError
        No published weights (``sam3-reduced``), or not in the cache: says how to download
        them (gated) or give a file; or the checkpoint is cached without its tokenizer
        vocabulary (:func:`missing_vocabulary`): names the missing file and how to get it.

    Examples
    --------
    >>> cached_weights("sam3-reduced")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.CheckpointError: sam3-reduced has no published weights: pass a checkpoint ...
    """
    missing = missing_weights(name)
    if missing is not None and missing.path is not None and missing.path != weights_path(name):
        gated = f" (gated: accept the SAM License on {missing.page} first)" if missing.page else ""
        raise CheckpointError(
            f"{weights_path(name)} is cached but its tokenizer vocabulary is not: "
            f"{missing.path} is missing; get it with `ecoseg weights download {name}` (it "
            f"fetches only the missing files{gated}), or put CLIP's bpe_simple_vocab_16e6.txt.gz "
            "(which `pip install --no-deps open-clip-torch` installs) in "
            f"{tokenizer_path(name)}"
        )
    refuse_missing(missing)
    return weights_path(name)


def tokenizer_path(name: str) -> Path:
    """The folder holding ``name``'s tokenizer vocabulary (``vocab.json`` + ``merges.txt``)."""
    return folder(name)


def list_weights() -> list[dict]:
    """One row per hub-hosted network: ``variant``, ``file``, ``url``, ``size``, ``sha256``,
    ``cached``, ``damaged``, ``path`` (the shape of :func:`ecoseg.sam2.weights.list_weights`
    rows)."""
    rows = []
    for name, e in entries().items():
        path = weights_path(name)
        rows.append(
            {
                "variant": name,
                "file": e["file"],
                "url": f"{e['page']}/blob/main/{e['file']}",
                "size": e.get("size"),
                "sha256": e.get("sha256"),
                **cache_state(path),
                "path": str(path),
            }
        )
    return rows


#: Installed packages that ship CLIP's ``bpe_simple_vocab_16e6.txt.gz`` (Meta's ``sam3`` in
#: ``assets/``, ``open_clip``), where adopting a checkpoint finds the vocabulary offline.
VOCABULARY_PACKAGES = ("sam3", "open_clip")

#: How to provide the vocabulary by hand (``{page}`` filled in).
VOCABULARY_HINT = (
    "put vocab.json + merges.txt from {page} (or CLIP's bpe_simple_vocab_16e6.txt.gz, which "
    "`pip install --no-deps open-clip-torch` installs) next to it and run again"
)


class _HubError(Exception):
    """A failed hub fetch: ``kind`` is ``"network"``, ``"access"``, ``"missing"`` (no
    ``huggingface_hub``) or ``"failed"``."""

    def __init__(self, kind: str, reason: str = ""):
        super().__init__(reason)
        self.kind = kind


def _is_access_error(exc: Exception) -> bool:
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"GatedRepoError", "RepositoryNotFoundError", "LocalTokenNotFoundError"}:
        return True
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status in (401, 403)


def _network_problem(url: str, timeout: float = 10.0) -> str | None:
    """Why the hub at ``url`` cannot be reached (``HF_HUB_OFFLINE`` set, or
    :func:`~ecoseg.sam2.weights.network_problem`), so that an offline download fails at once
    rather than after the hub's retries; ``None`` when it can."""
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
        return "HF_HUB_OFFLINE is set"
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:  # it said "None:80"
        return (
            f"HF_ENDPOINT={os.environ.get('HF_ENDPOINT', url)!r} is no web address: unset it, "
            "or set it to a hub's, such as https://huggingface.co"
        )
    return network_problem(url, timeout)


def _check_source(name: str, source: Path, overwrite: bool) -> bool:
    """Check a hand-fetched checkpoint before anything is written; whether it must be copied
    (``False``: the cached file is the same one)."""
    _check_meta_checkpoint(source)
    return needs_copy(source, weights_path(name), overwrite)


def _installed_vocabulary() -> list[Path]:
    """CLIP's vocabulary file shipped by an installed package (found, never imported)."""
    import importlib.util

    for package in VOCABULARY_PACKAGES:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            continue
        for root in (spec.submodule_search_locations or []) if spec else []:
            for place in (Path(root), Path(root) / "assets"):
                found = [f for f in find_vocabulary(place) if f.name.startswith("bpe_")]
                if found:
                    return found
    return []


def _local_vocabulary(name: str, entry: dict, source: Path) -> list[Path] | None:
    """The vocabulary to adopt with ``source``: ``[]`` when the cache has one, the files next
    to ``source`` or an installed package's, else ``None`` (the hub's, after checking that it
    can be reached: offline, one line naming ``source`` and what to do, before the checkpoint
    is read)."""
    if find_vocabulary(folder(name)):
        return []
    found = find_vocabulary(source.parent) or _installed_vocabulary()
    if not found:
        problem = _network_problem(_hub_endpoint())
        if problem is not None:
            _no_vocabulary(entry, source, f"no network: {problem}")
        return None
    read_vocabulary(found[0], then="nothing was adopted")
    return found


def read_vocabulary(place: str | os.PathLike, *, then: str = ""):
    """The :class:`~ecoseg.sam3.tokenizer.Tokenizer` of the vocabulary at ``place`` (a file,
    or a folder holding one), or a one-line :class:`CheckpointError`: none there (saying how
    to get one), or one that cannot be read, naming the file, followed by ``then``.

    Examples
    --------
    >>> import tempfile
    >>> read_vocabulary(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.CheckpointError: no tokenizer vocabulary in ...
    """
    from ecoseg.sam3.tokenizer import Tokenizer

    place = Path(place)
    found = find_vocabulary(place) if place.is_dir() else [place]
    if not found or not found[0].is_file():
        return Tokenizer.from_file(place)  # its one line says what is missing and what to do
    try:
        return Tokenizer.from_file(found[0])
    except (CheckpointError, ValueError, OSError, UnicodeDecodeError, KeyError, EOFError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
    if not reason.startswith(f"{found[0]}: "):  # Tokenizer.from_file names the file itself
        reason = f"{found[0]}: not a usable tokenizer vocabulary ({reason})"
    raise CheckpointError(f"{reason}; {then}" if then else reason) from None


def require_vocabulary(checkpoint: str | os.PathLike) -> None:
    """Refuse, before ``checkpoint`` is read, a run that would find no tokenizer vocabulary
    for it: none beside it (where :func:`ecoseg.sam3.build` looks) and none in ``sam3``'s
    cache (where concept tracking looks next). One line naming both places and how to fill
    one; nothing when either holds a vocabulary (which is read when the run starts), or when
    ``checkpoint`` is no file (the build names that). A file that its first bytes show is no
    checkpoint at all (text, an image, empty, cut short) is named as that first, in the
    build's words (no vocabulary would make it one).

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["ECOSEG_WEIGHTS_DIR"] = tempfile.mkdtemp()
    >>> path = os.path.join(tempfile.mkdtemp(), "sam3.pt")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"\\x80\\x02")  # a pickle's first bytes: it may be a checkpoint
    >>> require_vocabulary(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.CheckpointError: ...sam3.pt: no tokenizer vocabulary beside it ...
    >>> del os.environ["ECOSEG_WEIGHTS_DIR"]
    """
    from ecoseg.sam2._file_damage import unreadable_reason

    beside = Path(checkpoint).parent
    if not Path(checkpoint).is_file():
        return
    if why := unreadable_reason(Path(checkpoint)):  # was told to put a vocabulary beside it
        raise CheckpointError(f"{checkpoint}: {why}; {CHECKPOINT_HINT}")
    if find_vocabulary(beside):
        return
    if find_vocabulary(tokenizer_path("sam3")):
        return
    raise CheckpointError(
        f"{checkpoint}: no tokenizer vocabulary beside it (vocab.json + merges.txt, or CLIP's "
        f"bpe_simple_vocab_16e6.txt.gz) nor in the weights cache ({tokenizer_path('sam3')}); "
        "SAM 3 reads every prompt through it: "
        + VOCABULARY_HINT.format(page=_entry("sam3")["page"])
    )


def _no_vocabulary(entry: dict, source: Path, why: str) -> NoReturn:
    raise CheckpointError(
        f"{source}: no tokenizer vocabulary next to it or installed, and it cannot be "
        f"downloaded from {entry['repo']} ({why}); "
        + VOCABULARY_HINT.format(page=entry["page"])
        + "; nothing was adopted"
    )


def _adopt(name: str, entry: dict, source, overwrite: bool, token, progress) -> Path:
    """Copy a hand-fetched ``sam3.pt`` and a vocabulary into the cache, or nothing at all."""
    source = check_file(source, "checkpoint file", error=CheckpointError)  # "" too, not as "."
    vocabulary = _local_vocabulary(name, entry, source)
    copy = _check_source(name, source, overwrite)
    target = folder(name)
    if vocabulary is None:
        try:
            _hub_fetch(entry, entry.get("tokenizer_files", []), target, token, progress)
        except _HubError as exc:
            why = {"network": f"no network: {exc}", "access": "no access to the gated repository"}
            _no_vocabulary(entry, source, why.get(exc.kind, str(exc)))
    for file in vocabulary or []:
        copy_in(file, target / file.name)
    path = weights_path(name)
    if copy:
        copy_in(source, path)
    record_sha256(path)
    return path


def _check_meta_checkpoint(source: Path) -> None:
    """Refuse a file that is not Meta's ``sam3.pt`` layout (it was adopted, whatever it held,
    and only the next run named the damage, in the cache)."""
    from ecoseg.sam2.checkpoint import read_state_dict
    from ecoseg.sam3.checkpoint import detect_format

    state = read_state_dict(source)  # unreadable or unsafe: one line naming the file
    try:
        layout = detect_format(state)
    except CheckpointError as exc:
        raise CheckpointError(f"{source}: {exc}") from None
    if layout != "meta":
        raise CheckpointError(
            f"{source}: a checkpoint in the {layout} layout, not Meta's sam3.pt (the cache holds "
            "that one); pass it to `ecoseg segment` with --checkpoint PATH instead"
        )


def download(
    name: str = "sam3",
    *,
    checkpoint: str | os.PathLike | None = None,
    token: str | None = None,
    progress: bool = True,
    overwrite: bool = False,
) -> Path:
    """Fetch ``name``'s checkpoint and tokenizer files into the cache (no-op where present).

    Parameters
    ----------
    name : str
        ``"sam3"``.
    checkpoint : path, optional
        A ``sam3.pt`` fetched by hand: copied into the cache instead of downloading it, with
        a tokenizer vocabulary (:func:`~ecoseg.sam3.tokenizer.find_vocabulary`) from the
        first place that has one: the cache, the checkpoint's folder, an installed package
        (:data:`VOCABULARY_PACKAGES`), the hub. Without one nothing is adopted.
    token : str, optional
        Hub token; default: the one ``huggingface_hub`` finds (login or ``HF_TOKEN``).
    progress : bool
        Show ``huggingface_hub``'s progress bars (``False`` turns them off for this call only).
    overwrite : bool
        Let ``checkpoint`` replace a different checkpoint already in the cache.

    Returns
    -------
    pathlib.Path
        The cached checkpoint; its sha256 is recorded in ``sam3.pt.sha256`` next to it.

    Raises
    ------
    CheckpointError
        One line: no network (found with one connection to the hub before any download, not
        after the hub's retries), no access to the gated repository (saying how to get it),
        another hub or disk failure, ``huggingface_hub`` not installed, or ``checkpoint`` not
        Meta's ``sam3.pt``, different from the cached one without ``overwrite``, or without a
        vocabulary. A failed call adds nothing to the cache but a partial download, which
        the next call resumes.
    """
    entry = _entry(name)
    if checkpoint is not None:
        return _adopt(name, entry, checkpoint, overwrite, token, progress)
    target_dir = folder(name)
    tokenizer_files = [] if find_vocabulary(target_dir) else entry.get("tokenizer_files", [])
    wanted = [f for f in (entry["file"], *tokenizer_files) if not (target_dir / f).is_file()]
    if wanted:
        try:
            _hub_fetch(entry, wanted, target_dir, token, progress)
        except _HubError as exc:
            hint = ACCESS_HINT.format(page=entry["page"], name=name, file=entry["file"])
            if exc.kind == "access":
                raise CheckpointError(f"no access to the gated {name} weights: {hint}") from None
            if exc.kind == "missing":
                raise CheckpointError(
                    "downloading SAM 3 needs huggingface_hub (pip install huggingface_hub), or "
                    f"download {entry['file']} by hand and pass --checkpoint PATH"
                ) from None
            if exc.kind == "network":
                raise CheckpointError(
                    f"{name}: cannot download {entry['file']} from {entry['page']} (no "
                    f"network: {exc}); the weights are gated: once online, {hint}"
                ) from None
            raise CheckpointError(
                f"{name}: cannot download {exc} from {entry['repo']}; download it by hand "
                f"into {target_dir}, or pass --checkpoint PATH"
            ) from None
    path = weights_path(name)
    if recorded_sha256(path) is None or entry["file"] in wanted:
        record_sha256(path)
    return path


def _hub_fetch(entry: dict, files: list[str], target: Path, token, progress: bool) -> None:
    """Download ``files`` of ``entry``'s repository into ``target`` after one check that the
    hub can be reached; :class:`_HubError` on failure, and a folder this call made is removed
    unless it holds a download (whole, or partial to resume)."""
    try:
        import huggingface_hub
    except ImportError:
        raise _HubError("missing", "huggingface_hub is not installed") from None
    problem = _network_problem(_hub_endpoint())
    if problem is not None:
        raise _HubError("network", problem)
    made = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    # for this download only: it was off for the rest of the process
    silence = not progress and not huggingface_hub.utils.are_progress_bars_disabled()
    try:
        with _hub_bars_off() if silence else contextlib.nullcontext():
            for filename in files:
                try:
                    huggingface_hub.hf_hub_download(
                        repo_id=entry["repo"], filename=filename, local_dir=target, token=token
                    )
                except Exception as exc:  # the hub's HTTP, auth and network errors
                    if _is_access_error(exc):
                        raise _HubError("access") from None
                    reason = " ".join(str(exc).split())[:300] or type(exc).__name__
                    raise _HubError("failed", f"{filename} ({reason})") from None
    except _HubError:
        if made and not any(_is_download(p, target) for p in target.rglob("*")):
            shutil.rmtree(target, ignore_errors=True)
        raise


@contextlib.contextmanager
def _hub_bars_off() -> Iterator[None]:
    """``huggingface_hub``'s progress bars off within; after, its settings as they were.

    The hub keeps its global setting and each group's (``disable_progress_bars("peft")``) in
    one dict, ``huggingface_hub.utils.tqdm.progress_bar_states``, which is not among its
    documented names; its public calls cannot put a group's setting back
    (``enable_progress_bars()`` clears them all: a group a user turned off drew bars again),
    so the dict is copied before and put back, in place, after. A hub that keeps no such
    dict gets its bars turned on again, as ``enable_progress_bars()`` does.
    """
    import huggingface_hub.utils

    try:
        states = importlib.import_module("huggingface_hub.utils.tqdm").progress_bar_states
    except (ImportError, AttributeError):
        states = None
    saved = dict(states) if isinstance(states, dict) else None
    huggingface_hub.utils.disable_progress_bars()
    try:
        yield
    finally:
        if saved is None:
            huggingface_hub.utils.enable_progress_bars()
        else:
            states.clear()
            states.update(saved)


def _hub_endpoint() -> str:
    """The hub's address (``$HF_ENDPOINT`` where set, as ``huggingface_hub`` reads it)."""
    try:
        from huggingface_hub.constants import ENDPOINT
    except ImportError:
        return os.environ.get("HF_ENDPOINT") or "https://huggingface.co"
    return ENDPOINT


def _is_download(path: Path, target: Path) -> bool:
    """A downloaded file or a partial one (the hub's ``.incomplete``), not its bookkeeping."""
    inside = path.relative_to(target).parts
    return path.is_file() and (inside[0] != ".cache" or path.name.endswith(".incomplete"))


def verify(name: str | None = None) -> list[tuple[str, bool, str]]:
    """Check cached checkpoints against the manifest sha256 or the hash recorded at download.

    Examples
    --------
    >>> import os, tempfile
    >>> os.environ["ECOSEG_WEIGHTS_DIR"] = tempfile.mkdtemp()
    >>> verify("sam3")[0][:2], verify()
    (('sam3', False), [])
    >>> del os.environ["ECOSEG_WEIGHTS_DIR"]
    """
    names = [name] if name is not None else list(entries())
    return [
        check_cached(n, weights_path(n), _entry(n).get("sha256"))
        for n in names
        if name is not None or weights_path(n).is_file()
    ]


def load_tokenizer(name: str = "sam3"):
    """The tokenizer from the vocabulary downloaded with ``name``'s weights.

    Raises
    ------
    CheckpointError
        The vocabulary is not in the cache, or unreadable (the message names the file and
        says how to get it).
    """
    return read_vocabulary(
        tokenizer_path(name), then=f"delete it and run `ecoseg weights download {name}`"
    )
