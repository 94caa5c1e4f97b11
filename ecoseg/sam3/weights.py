"""SAM 3's gated weights: download with the user's own hub token, cache, verify.

Meta publishes SAM 3 on the Hugging Face hub (``facebook/sam3``) behind a licence gate: a user
accepts the SAM License on the model page, then downloads with their own token
(``huggingface-cli login`` or the ``HF_TOKEN`` environment variable). :func:`download` fetches
``sam3.pt`` and the tokenizer vocabulary (``vocab.json``, ``merges.txt``) through
``huggingface_hub`` into ``<weights cache>/sam3/`` and records the sha256 it computed next to
the checkpoint (``sam3.pt.sha256``), as for SAM 2 (:mod:`ecoseg.sam2.weights`, whose cache
folder, manifest and hash records are shared). Without access it raises a
:class:`~ecoseg.errors.CheckpointError` whose one line says how to get it. A file fetched by
hand is adopted with ``download(name, checkpoint=PATH)``.

Exports
-------
``entries() -> dict``, ``folder(name) -> Path``, ``weights_path(name) -> Path``,
``tokenizer_path(name) -> Path``, ``list_weights() -> list[dict]``,
``download(name, *, checkpoint=None, token=None, overwrite=False) -> Path``,
``verify(name=None) -> list[(name, ok, reason)]``, ``load_tokenizer(name) -> Tokenizer``,
``ACCESS_HINT``

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

import filecmp
import os
import shutil
from pathlib import Path

from ecoseg._paths import check_file, check_overwrite
from ecoseg.errors import CheckpointError, ConfigError
from ecoseg.sam2.weights import (
    cache_dir,
    check_cached,
    manifest_data,
    record_sha256,
    recorded_sha256,
)

__all__ = [
    "ACCESS_HINT",
    "entries",
    "folder",
    "weights_path",
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


def tokenizer_path(name: str) -> Path:
    """The folder holding ``name``'s tokenizer vocabulary (``vocab.json`` + ``merges.txt``)."""
    return folder(name)


def list_weights() -> list[dict]:
    """One row per hub-hosted network: ``variant``, ``file``, ``url``, ``size``, ``sha256``,
    ``cached``, ``path`` (the shape of :func:`ecoseg.sam2.weights.list_weights` rows)."""
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
                "cached": path.is_file(),
                "path": str(path),
            }
        )
    return rows


def _is_access_error(exc: Exception) -> bool:
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"GatedRepoError", "RepositoryNotFoundError", "LocalTokenNotFoundError"}:
        return True
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status in (401, 403)


def _adopt(name: str, source: Path, overwrite: bool) -> Path:
    """Copy a hand-fetched checkpoint into the cache and record its sha256; a different
    cached checkpoint is replaced only with ``overwrite``."""
    check_file(source, "checkpoint file", error=CheckpointError)
    _check_meta_checkpoint(source)
    target = weights_path(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    there = target.is_file()
    if not there or not filecmp.cmp(source, target, shallow=False):  # the same file: no copy
        check_overwrite(target, overwrite, error=CheckpointError, exists=there)
        tmp = target.with_name(target.name + ".part")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    record_sha256(target)
    return target


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
        A ``sam3.pt`` fetched by hand: copied into the cache instead of downloading it (the
        tokenizer files are still fetched when access allows; without them pass a vocabulary
        to :class:`~ecoseg.sam3.tokenizer.Tokenizer` yourself).
    token : str, optional
        Hub token; default: the one ``huggingface_hub`` finds (login or ``HF_TOKEN``).
    progress : bool
        Show ``huggingface_hub``'s progress bars.
    overwrite : bool
        Let ``checkpoint`` replace a different checkpoint already in the cache.

    Returns
    -------
    pathlib.Path
        The cached checkpoint; its sha256 is recorded in ``sam3.pt.sha256`` next to it.

    Raises
    ------
    CheckpointError
        No access to the gated repository (one line saying how to get it), a network or disk
        failure, ``huggingface_hub`` not installed, or ``checkpoint`` not a file or different
        from the cached one without ``overwrite``.
    """
    entry = _entry(name)
    hint = ACCESS_HINT.format(page=entry["page"], name=name, file=entry["file"])
    target_dir = folder(name)
    if checkpoint is not None:
        path = _adopt(name, Path(checkpoint), overwrite)
        wanted = [f for f in entry.get("tokenizer_files", []) if not (target_dir / f).is_file()]
        if not wanted:
            return path
        try:
            _hub_fetch(entry, wanted, target_dir, token, progress)
        except CheckpointError:
            pass  # the checkpoint is in place; the vocabulary can be given by hand
        return path
    files = [entry["file"], *entry.get("tokenizer_files", [])]
    wanted = [f for f in files if not (target_dir / f).is_file()]
    if wanted:
        try:
            _hub_fetch(entry, wanted, target_dir, token, progress)
        except CheckpointError as exc:
            if str(exc) == "access":
                raise CheckpointError(f"no access to the gated {name} weights: {hint}") from None
            raise
    path = weights_path(name)
    if recorded_sha256(path) is None or entry["file"] in wanted:
        record_sha256(path)
    return path


def _hub_fetch(entry: dict, files: list[str], target: Path, token, progress: bool) -> None:
    try:
        import huggingface_hub
    except ImportError:
        raise CheckpointError(
            "downloading SAM 3 needs huggingface_hub (pip install huggingface_hub), or download "
            f"{entry['file']} by hand and pass --checkpoint PATH"
        ) from None
    target.mkdir(parents=True, exist_ok=True)
    if not progress:
        huggingface_hub.utils.disable_progress_bars()
    for filename in files:
        try:
            huggingface_hub.hf_hub_download(
                repo_id=entry["repo"], filename=filename, local_dir=target, token=token
            )
        except Exception as exc:  # the hub's HTTP, auth and network errors
            if _is_access_error(exc):
                raise CheckpointError("access") from None
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            raise CheckpointError(
                f"could not download {filename} from {entry['repo']} ({reason}); download it by "
                f"hand into {target}, or pass --checkpoint PATH"
            ) from None


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
        The vocabulary is not in the cache (the message says how to get it).
    """
    from ecoseg.sam3.tokenizer import Tokenizer

    return Tokenizer.from_file(tokenizer_path(name))
