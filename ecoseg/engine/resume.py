"""Resume state: the SAM 2 tracker's state saved beside a mask store, so ``--resume`` continues.

("Checkpoint" in ecoseg means model weights only; this is the tracker's saved state.)

:func:`ecoseg.segment` saves a :class:`~ecoseg.engine.tracker_state.TrackerState` every
``resume_every`` frames, once the frames before it are committed to the store, and where a
cancelled run stops (see :func:`ecoseg.engine.session.store_results`). The file is a
length-prefixed JSON header (the run's identity: video hash, prompts, model; and the next
frame) followed by the state; a state made for another run, damaged, or ahead of the store is
ignored and the run replays from the earliest prompt instead (still exact, only slower).

Exports
-------
check_resumable
    Whether a store may be resumed with a run's provenance (what changed, named by
    :func:`ecoseg.engine.settings.settings_change`, as ``ecoseg batch`` names it).
resume_location, save_resume_state, load_resume_state, remove_resume_state
    Where a store's resume state lives, and writing, reading and deleting it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ecoseg.engine.settings import settings_change
from ecoseg.errors import StoreError
from ecoseg.io.folder import exif_change
from ecoseg.provenance import Provenance

if TYPE_CHECKING:
    from ecoseg.engine.tracker_state import TrackerState

__all__ = [
    "RESUME_SUFFIX",
    "check_resumable",
    "load_resume_state",
    "remove_resume_state",
    "resume_location",
    "save_resume_state",
]

#: Suffix of the resume-state file beside a store (unchanged, so older partial stores resume).
RESUME_SUFFIX = "ecoseg-resume.ckpt"


def resume_location(store_path) -> str | None:
    """Where the resume state of a store lives (None: stores that cannot hold one).

    Local directory stores and fsspec URLs get a file beside the store (``STORE`` +
    ``.ecoseg-resume.ckpt``, the name since the first release; inside it zarr would warn about
    a foreign key), removed when the run completes; zip archives and zarr ``Store`` objects
    get none.

    Examples
    --------
    >>> resume_location("masks.zarr")
    'masks.zarr.ecoseg-resume.ckpt'
    >>> resume_location("s3://bucket/masks.zarr/")
    's3://bucket/masks.zarr.ecoseg-resume.ckpt'

    >>> resume_location("masks.zip") is None
    True
    """
    import os

    if not isinstance(store_path, str | os.PathLike):
        return None
    text = os.fspath(store_path)
    if text.lower().endswith(".zip"):
        return None
    return f"{text.rstrip('/')}.{RESUME_SUFFIX}"


def save_resume_state(location: str, state: TrackerState, identity: dict) -> None:
    """Write the resume state atomically (a length-prefixed JSON header, then the state)."""
    import json

    import fsspec

    header = json.dumps({**identity, "next_frame": state.next_frame}, sort_keys=True).encode()
    blob = len(header).to_bytes(8, "little") + header + state.to_bytes()
    fs, path = fsspec.core.url_to_fs(location)
    tmp = path + ".partial"
    fs.pipe_file(tmp, blob)
    fs.mv(tmp, path)


def load_resume_state(location: str | None, identity: dict, max_frame: int) -> TrackerState | None:
    """The resume state at ``location`` if it was made for ``identity`` and covers at most
    ``max_frame`` frames; else None."""
    import json

    import fsspec

    if location is None:
        return None
    fs, path = fsspec.core.url_to_fs(location)
    try:
        blob = fs.cat_file(path)
        n = int.from_bytes(blob[:8], "little")
        header = json.loads(blob[8 : 8 + n])
    except (FileNotFoundError, ValueError, OSError):
        return None
    expected = json.loads(json.dumps(identity, sort_keys=True))
    if {k: header.get(k) for k in expected} != expected or header["next_frame"] > max_frame:
        return None
    try:
        from ecoseg.engine.tracker_state import TrackerState

        return TrackerState.from_bytes(blob[8 + n :])
    except Exception:  # a damaged file: replay from the start instead
        return None


def remove_resume_state(location: str | None) -> None:
    """Delete a store's resume state (after a complete run)."""
    import fsspec

    if location is None:
        return
    fs, path = fsspec.core.url_to_fs(location)
    if fs.exists(path):
        fs.rm(path)


def check_resumable(out, old: Provenance, provenance: dict) -> None:
    """Refuse to resume a store made from another video or with other settings, naming what
    changed (the model only where ``provenance`` has one: a concept run checks the rest
    before it loads the network)."""
    wanted = Provenance.from_dict(provenance)
    now = wanted.video
    turned = exif_change(old.video, now.extra.get("exif_upright"), now.frame_size)
    if turned is not None:  # the same files (and sha256), read another way round now
        raise StoreError(f"{out}: cannot resume from {now.path}: {turned}")
    if (old.video and old.video.sha256) != wanted.video.sha256:
        made = (old.video and old.video.path) or "a video not recorded"
        which = (
            f"another video of that name ({made}: the sha256 differs; the file was replaced)"
            if made == wanted.video.path  # not 'made from another video (a.mp4), not a.mp4'
            else f"another video ({made}), not {wanted.video.path}"
        )
        raise StoreError(
            f"{out}: cannot resume: the store was made from {which}; resume with that video, "
            "or pass overwrite=True (--overwrite) to start again"
        )
    if why := settings_change(old, wanted, model="model" in provenance):
        raise StoreError(
            f"{out}: cannot resume: {why}; resume with the same settings or pass overwrite=True "
            "(--overwrite)"
        )
