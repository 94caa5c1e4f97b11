"""Resume state: the SAM 2 tracker's state saved beside a mask store, so ``--resume`` continues.

("Checkpoint" in ecoseg means model weights only; this is the tracker's saved state.)

:func:`ecoseg.segment` saves a :class:`~ecoseg.engine.tracker.TrackerState` every
``resume_every`` frames, once the frames before it are committed to the store, and where a
cancelled run stops (see :func:`ecoseg.engine.session.store_results`). The file is a
length-prefixed JSON header (the run's identity: video hash, prompts, model; and the next
frame) followed by the state; a state made for another run, damaged, or ahead of the store is
ignored and the run replays from the earliest prompt instead (still exact, only slower).

Exports
-------
check_resumable, changed_settings
    Whether a store may be resumed with a run's provenance (what changed, named).
describe_change
    What differs between a store's recorded settings and a resumed run's, in a few words.
resume_location, save_resume_state, load_resume_state, remove_resume_state
    Where a store's resume state lives, and writing, reading and deleting it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ecoseg.errors import StoreError
from ecoseg.io.folder import exif_change
from ecoseg.provenance import Provenance

if TYPE_CHECKING:
    from ecoseg.engine.tracker import TrackerState

__all__ = [
    "RESUME_SUFFIX",
    "changed_settings",
    "check_resumable",
    "describe_change",
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
        from ecoseg.engine.tracker import TrackerState

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


def describe_change(stored, wanted, limit: int = 3) -> str:
    """What differs between two recorded settings (JSON values), in a few words.

    Dicts are compared key by key (up to ``limit`` keys named); a prompt record's
    ``concepts`` by their names (then their exemplars) and its ``objects`` by id.

    Examples
    --------
    >>> describe_change({"detect_every": 1, "nms_iou": 0.1}, {"detect_every": 2, "nms_iou": 0.1})
    'detect_every: 1 in the store, 2 now'
    >>> describe_change({"concepts": [{"text": "wrasse"}], "objects": []},
    ...                 {"concepts": [{"text": "wrasse"}, {"text": "sea urchin"}], "objects": []})
    "concepts: ['wrasse'] in the store, ['wrasse', 'sea urchin'] now"
    """
    if not (isinstance(stored, dict) and isinstance(wanted, dict)):
        return f"{_short(stored)} in the store, {_short(wanted)} now"
    parts = []
    for key in sorted(set(stored) | set(wanted), key=str):
        a, b = stored.get(key), wanted.get(key)
        if a == b:
            continue
        if key == "concepts" and isinstance(a, list | None) and isinstance(b, list | None):
            parts.append(_concepts_change(a or [], b or []))
        elif key == "objects" and isinstance(a, list | None) and isinstance(b, list | None):
            parts.append(_objects_change(a or [], b or []))
        else:
            parts.append(f"{key}: {_short(a)} in the store, {_short(b)} now")
    shown = parts[:limit]
    if len(parts) > limit:
        shown.append(f"{len(parts) - limit} more")
    return "; ".join(shown)


def _concept_name(c) -> str:
    if isinstance(c, dict):
        return c.get("text") or "visual"
    return str(c)


def _concepts_change(a: list, b: list) -> str:
    names_a, names_b = [_concept_name(c) for c in a], [_concept_name(c) for c in b]
    if names_a != names_b:
        return f"concepts: {names_a} in the store, {names_b} now"
    changed = [n for n, x, y in zip(names_a, a, b) if x != y]
    return "exemplars of concept " + ", ".join(repr(n) for n in changed)


def _objects_change(a: list, b: list) -> str:
    by_a = {o.get("id"): o for o in a if isinstance(o, dict)}
    by_b = {o.get("id"): o for o in b if isinstance(o, dict)}
    ids = sorted(
        (i for i in set(by_a) | set(by_b) if by_a.get(i) != by_b.get(i)),
        key=lambda i: (not isinstance(i, int), i if isinstance(i, int) else str(i)),
    )
    shown = ", ".join(str(i) for i in ids[:5]) + (", ..." if len(ids) > 5 else "")
    return f"prompts of object {shown}" if ids else "object prompts"


def _short(value, width: int = 60) -> str:
    text = "not recorded" if value is None else repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


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
        raise StoreError(
            f"{out}: cannot resume: the store was made from another video ({made}), not "
            f"{wanted.video.path}; resume with that video, or pass overwrite=True "
            "(--overwrite) to start again"
        )
    if old.engine != wanted.engine:
        raise StoreError(f"{out}: cannot resume: the store was made with the {old.engine} engine")
    changed, details = changed_settings(old, wanted, model="model" in provenance)
    if changed:
        verb = "differ" if changed.endswith("s") or " and " in changed else "differs"
        how = f" ({details})" if details else ""
        raise StoreError(
            f"{out}: cannot resume: the {changed} {verb} from the run that made the "
            f"store{how}; resume with the same settings or pass overwrite=True (--overwrite)"
        )


def changed_settings(stored: Provenance, wanted: Provenance, model: bool = True) -> tuple[str, str]:
    """Which settings that shape the masks, or their times, differ between two provenances
    ("" if none), and how (:func:`~ecoseg.engine.resume.describe_change`); an image folder's
    rate too (``--fps``; a video file's rate is its own)."""

    def values(key: str):
        a, b = (json.loads(json.dumps(p.get(key), default=str)) for p in (stored, wanted))
        if key == "model":  # the same checkpoint may lie elsewhere now
            for m in (a, b):
                if isinstance(m, dict) and isinstance(m.get("checkpoint"), dict):
                    m["checkpoint"].pop("path", None)
        if key == "parameters":  # a run may resume on another device (older stores: none)
            for m in (a, b):
                if isinstance(m, dict):
                    m.pop("device", None)
        return a, b

    names = {
        "parameters": "parameters",
        "prompts": "prompts",
        "model": "model settings",
        "auto": "automatic discovery setting",
        "backward": "backward tracking setting",
    }
    if not model:
        del names["model"]
    changed, details = [], []
    for key, text in names.items():
        a, b = values(key)
        if a != b:
            changed.append(text)
            details.append(describe_change(a, b))
    made, now = (p.video.fps if p.video is not None else None for p in (stored, wanted))
    if wanted.video is not None and wanted.video.extra.get("image_folder") and made != now:
        made_text = f"{made:g} fps" if isinstance(made, int | float) else "not recorded"
        changed.append(f"image folder's frame rate (--fps: the store's {made_text}, now {now:g})")
    return " and ".join(changed), "; ".join(d for d in details if d)
