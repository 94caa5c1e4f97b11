"""The study manifest: fingerprints of what made each output, so a re-run redoes only what changed.

``OUTPUT/ecoseg-study.json`` (:data:`MANIFEST`) records per video the fingerprint of its store
(:func:`segment_inputs`: video sha256, engine, model, checkpoint, parameters, prompt file) and
of its tables (store + calibration), and the fingerprints and sha256 of the combined tables and
the report. Large files are hashed once and then recognised by their stamp (size, mtime, ctime,
inode: :func:`ecoseg._hashing.file_stamp`, the same that the video check's hash cache uses),
by the same rule as that cache: a file touched in the last 2 s, or changed while it was read,
is not remembered (:func:`ecoseg._hashing.may_cache`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecoseg._hashing import CACHE_MIN_BYTES, cached_digest, file_stamp, may_cache, sha256_file
from ecoseg.errors import ConfigError
from ecoseg.io.folder import DEFAULT_FPS
from ecoseg.report._calibration import MANIFEST
from ecoseg.study.records import VideoSpec

__all__ = [
    "MANIFEST",
    "MANIFEST_VERSION",
    "calibration_record",
    "digest",
    "file_sha256",
    "files_match",
    "load_manifest",
    "measured_from",
    "save_manifest",
    "segment_inputs",
]

MANIFEST_VERSION = 1


def digest(obj: Any) -> str:
    """The sha256 of ``obj`` as canonical JSON (sorted keys): a fingerprint of inputs.

    Examples
    --------
    >>> digest({"b": 1, "a": [2]}) == digest({"a": [2], "b": 1})
    True
    """
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


def file_sha256(path: Path, cache: dict) -> str:
    """sha256 of a file (or a folder's files), reusing ``cache`` when the stamps match.

    Only large files (videos, checkpoints) are cached; prompt files and the like are hashed
    every time, so an edit that keeps the size and the (coarse) mtime is still seen. Nor is a
    file touched in the last 2 s or changed while it was read (:func:`ecoseg._hashing.may_cache`).
    A single file's digest goes through :func:`ecoseg._hashing.cached_digest` as well (the
    entry :func:`~ecoseg._hashing.cached_sha256_file` reads), so the run's check of the video
    against its store does not read a video the manifest has just read.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "prompts.json"
    >>> _ = p.write_text("{}")
    >>> cache = {}
    >>> file_sha256(p, cache)[:12], cache
    ('44136fa355b3', {})
    """
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    stamps = [file_stamp(f) for f in files]
    stat = (
        [[f.relative_to(path).as_posix(), *s] for f, s in zip(files, stamps)]
        if path.is_dir()
        else stamps[0]
    )
    key = str(path)
    hit = cache.get(key)
    if hit and hit.get("stat") == stat:
        return hit["sha256"]
    if path.is_dir():
        h = hashlib.sha256()
        for f in files:
            h.update(f.relative_to(path).as_posix().encode() + b"\0")
            h.update(sha256_file(f).encode())
        sha = h.hexdigest()
    else:  # through the process's hash cache too, where the run's video check finds it
        sha = cached_digest("file", [path], lambda: sha256_file(path))
    if sum(s[0] for s in stamps) >= CACHE_MIN_BYTES and may_cache(files, stamps):
        cache[key] = {"stat": stat, "sha256": sha}
    return sha


def calibration_record(video: VideoSpec) -> dict | None:
    """The calibration of ``video`` as recorded in the manifest (``None`` if uncalibrated)."""
    if video.calibration is None:
        return None
    cal = video.calibration
    to_dict = getattr(cal, "to_dict", None)
    record = dict(to_dict()) if callable(to_dict) else {"mm_per_px": float(cal.mm_per_px)}
    return {"spec": video.calibration_spec, **record}


def measured_from(record: Mapping, inputs: Mapping, review: str) -> bool:
    """Whether the tables whose manifest record is ``record`` were measured from ``inputs``
    (store fingerprint, calibration record, species model) and the review state ``review``.

    A calibration written another way that means the same (``0.25``, ``"0.25"``, ``"0.250
    mm/px"``; a scale-bar spec spaced otherwise) counts as the same: the calibrations are
    compared as the store records them (mm per pixel, method, details), not as written. A
    manifest's fingerprint (its own or an older ecoseg's) holds the spec as written, so
    this recomputes it with the recorded calibration in place of today's.

    Examples
    --------
    >>> cal = {"spec": 0.25, "mm_per_px": 0.25, "method": "scale"}
    >>> record = {"fingerprint": digest({"calibration": cal, "review": "r"}),
    ...           "inputs": {"calibration": cal}}
    >>> measured_from(record, {"calibration": {**cal, "spec": "0.25"}}, "r")
    True
    >>> measured_from(record, {"calibration": {**cal, "spec": "0.5", "mm_per_px": 0.5}}, "r")
    False
    >>> measured_from(record, {"calibration": {**cal, "spec": "0.25"}}, "edited")
    False
    """
    fingerprint = record.get("fingerprint")
    if fingerprint == digest({**inputs, "review": review}):
        return True
    recorded = (record.get("inputs") or {}).get("calibration")
    today = inputs.get("calibration")
    if not (isinstance(recorded, dict) and isinstance(today, dict)):
        return False
    if {k: v for k, v in recorded.items() if k != "spec"} != {
        k: v for k, v in today.items() if k != "spec"
    }:
        return False
    return fingerprint == digest({**inputs, "calibration": recorded, "review": review})


def segment_inputs(
    video: VideoSpec, hashes: dict, video_sha256: str | None = None
) -> dict[str, Any]:
    """Everything that determines the content of a video's store (``video_sha256``: the
    video's, when known without reading it: a video moved away, by the hash recorded)."""
    if video_sha256 is None:
        video_sha256 = file_sha256(video.path, hashes)
    inputs: dict[str, Any] = {
        "video_sha256": video_sha256,
        "engine": video.engine,
        "params": video.params,
    }
    if video.engine in ("sam2", "sam3"):
        inputs["model"] = video.model
        inputs["image_size"] = video.image_size
        inputs["pretrained"] = video.pretrained
        inputs["checkpoint_sha256"] = (
            file_sha256(video.checkpoint, hashes) if video.checkpoint is not None else None
        )
        inputs["prompts_sha256"] = (
            file_sha256(video.prompts, hashes) if video.prompts is not None else None
        )
    if video.fast:  # absent when off: manifests from before the setting stay valid
        inputs["fast"] = True
    if video.auto:  # likewise
        inputs["auto"] = True
    if video.engine == "sam3":
        inputs["concepts"] = list(video.concepts)
        inputs["detect_every"] = video.detect_every
        if video.survey:  # absent for a video: a folder a study tracked before the rule is
            inputs["survey"] = True  # made again, as the survey it now is
    if video.fps is not None and video.fps != DEFAULT_FPS:  # the default rate: absent, as before
        inputs["fps"] = video.fps
    return inputs


def load_manifest(output: Path) -> dict:
    """The manifest in ``output`` (a fresh one if there is none yet).

    Raises
    ------
    ConfigError
        ``output`` holds files but no manifest (not made by ``ecoseg study``), or the manifest
        is unreadable or of an unknown version.
    """
    path = output / MANIFEST
    if not path.exists():
        if output.exists() and any(output.iterdir()):
            raise ConfigError(
                f"{output}: output folder exists, is not empty and has no {MANIFEST}; it was "
                "not made by `ecoseg study` (choose another: the study file's `output:`, or `-o`)"
            )
        return {"version": MANIFEST_VERSION, "videos": {}, "hashes": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: unreadable study manifest ({exc}); remove it to start over"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        raise ConfigError(f"{path}: study manifest of an unknown version; remove it to start over")
    manifest.setdefault("videos", {})
    manifest.setdefault("hashes", {})
    return manifest


def save_manifest(output: Path, manifest: dict) -> None:
    """Write the manifest atomically (a killed run leaves the previous one)."""
    path = output / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def files_match(folder: Path, files: Mapping[str, str | None]) -> bool:
    """Whether every file named in ``files`` is in ``folder`` with the recorded sha256."""
    if not files:
        return False
    for name, sha in files.items():
        p = folder / name
        if sha is None or not p.is_file() or sha256_file(p) != sha:
            return False
    return True
