"""Videos moved away: a study whose videos are no longer where its file says (moved to an
archive disk, say) keeps the stores made from them, and its tables and report are made again
from the stores.

:func:`~ecoseg.study.config.load_study` with ``require_videos=False`` reads such a study file;
:func:`moved_videos` then gives, by video name, the sha256 of each video not found whose
finished store the study keeps, and refuses a video not found whose store it cannot keep, in
one line naming the video's entry in the study file: no store of it in this output, one not
finished, one made with other settings than the study file has now (segmenting it again
needs the video), or one that records another video than the study made it from. Measuring
such a video again needs only its store, but for a ``species_model:``, which names the tracks
from the video's frames (:func:`~ecoseg.study.runner.run_study` refuses that when it comes to
it); the report draws no stills of it and says which videos it did not find.
:func:`moved_truths` names the videos whose ``truth:`` store moved away with them: the report
does not score them and says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from ecoseg._cli import one_line
from ecoseg._paths import relpath
from ecoseg.errors import ConfigError, EcosegError
from ecoseg.io._common import missing_video
from ecoseg.study.checks import store_finished
from ecoseg.study.config import video_places
from ecoseg.study.manifest import digest, segment_inputs
from ecoseg.study.records import Study, VideoSpec

__all__ = ["check_renamed", "moved_truths", "moved_videos"]


def moved_videos(
    study: Study, manifest: dict, shown: str | os.PathLike | None = None
) -> dict[str, str]:
    """The videos of ``study`` that are not there, each kept on its finished store.

    Parameters
    ----------
    study : Study
        Loaded with ``require_videos=False``: a video not there is taken as written.
    manifest : dict
        The manifest of the study's output (:func:`~ecoseg.study.manifest.load_manifest`).
    shown : str or Path, optional
        The study file as errors name it (default: its path).

    Returns
    -------
    dict of str to str
        By video name, the sha256 the study recorded of the video its store was made from,
        for every video that is not there; empty when all are.

    Raises
    ------
    ConfigError
        A video that is not there and whose store the study cannot keep: the message of
        :func:`~ecoseg.study.config.load_study` for a missing video (file, line, entry, path)
        and, when the output has a store of it, why it is not kept.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "study.yaml").write_text("videos:\\n  - path: gone.mp4\\n")
    >>> study = load_study(d / "study.yaml", require_videos=False)
    >>> moved_videos(study, {"videos": {}, "hashes": {}})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: ...study.yaml: line 2: videos[0] (gone): gone.mp4: no such \
file or directory
    """
    gone = [v for v in study.videos if not v.path.exists()]
    if not gone:
        return {}
    places = video_places(study, ("path",), shown)
    kept = {}
    for video in gone:
        entry = (manifest.get("videos") or {}).get(video.name) or {}
        segment = entry.get("segment") or {}
        recorded = (segment.get("inputs") or {}).get("video_sha256")
        why = _why_not_kept(study, video, entry, segment, recorded, manifest.get("hashes") or {})
        if why is not None:
            raise ConfigError(f"{places[video.name]['path']} {missing_video(video.source)}{why}")
        kept[video.name] = recorded
    return kept


def _why_not_kept(
    study: Study, video: VideoSpec, entry: dict, segment: dict, recorded, hashes: dict
) -> str | None:
    """Why the store of ``video`` (not there) cannot be kept (``""``: there is none), or None;
    ``entry`` is the video's record in the manifest, ``segment`` its ``"segment"`` record and
    ``recorded`` the video sha256 that record's inputs hold."""
    store = study.store_path(video)
    shown = relpath(store, study.output)
    if entry.get("store") != shown or not store.exists() or not isinstance(recorded, str):
        return ""  # no store of it in this output: the study file's own refusal
    if not store_finished(store, segment):  # finished, not yet recorded: kept as a run keeps it
        return f"; its store {shown} is not finished (finishing it needs the video)"
    if segment.get("fingerprint") != digest(segment_inputs(video, hashes, recorded)):
        return (
            f"; its store {shown} was made with other settings than the study file now gives "
            "it (segmenting it again needs the video)"
        )
    try:
        made_from = _recorded_video(store)
    except (EcosegError, OSError, ValueError) as exc:
        return f"; its store {shown} cannot be read ({one_line(exc)})"
    if made_from is not None and made_from != recorded:
        return (
            f"; its store {shown} records another video (sha256 {made_from[:12]}...) than "
            f"the study made it from ({recorded[:12]}...)"
        )
    return None


def _recorded_video(store: Path) -> str | None:
    """The sha256 of the video ``store`` records; None for an image folder's (which the study
    fingerprints otherwise) or none recorded."""
    from ecoseg.store import MaskStore

    with MaskStore.open(store) as opened:
        video = opened.provenance_record.video
    if video is None or (video.extra or {}).get("image_folder"):
        return None
    return video.sha256


def moved_truths(study: Study) -> list[str]:
    """The names of the videos of ``study`` whose ``truth:`` store is not there (moved away
    with its video: :func:`~ecoseg.study.config.load_study` with ``require_videos=False``
    takes such a truth as written, and refuses it where the video is there).

    Examples
    --------
    >>> import os, tempfile
    >>> from ecoseg.study import load_study
    >>> study = os.path.join(tempfile.mkdtemp(), "study.yaml")  # a video and truth moved away
    >>> _ = open(study, "w").write(
    ...     "videos:\\n  - path: a/video.mp4\\n    name: a\\n    truth: a/truth.zarr\\n")
    >>> moved_truths(load_study(study, require_videos=False))
    ['a']
    """
    return [v.name for v in study.videos if v.truth is not None and not Path(v.truth).exists()]


def check_renamed(study: Study, manifest: dict, shown: str | os.PathLike | None = None) -> None:
    """Refuse a video whose entry, named by default (its file stem, or after its folders where
    another entry's video shares its file name: :func:`~ecoseg.study._across.default_names`),
    has no store in the study's output while the output holds a store this study made, from
    this very video, under another name of that file (``GX1`` and ``site-a__GX1``) that no
    entry has now: a second site with the same file name added, one removed, or a video's
    folder moved renamed the entry, which would be segmented anew and that store, with any
    review made in it, left unused. A video of other bytes than the store's (a new video of
    that file name) is not refused.

    Raises
    ------
    ConfigError
        One line naming the entry, the store and the ``name:`` that keeps it.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> text = "output: out\\nvideos:\\n  - path: a/GX1.MP4\\n  - path: b/GX1.MP4\\n"
    >>> _ = (d / "study.yaml").write_text(text)
    >>> study = load_study(d / "study.yaml", require_videos=False)
    >>> [v.name for v in study.videos]
    ['a__GX1', 'b__GX1']
    >>> check_renamed(study, {"videos": {"GX1": {"store": "stores/GX1.zarr"}}})  # not there
    """
    from ecoseg.batch.names import FOLDER_SEPARATOR
    from ecoseg.study.manifest import file_sha256

    entries = manifest.get("videos") or {}
    hashes = manifest.get("hashes") or {}
    names = {v.name for v in study.videos}
    renamed = []  # (video, its old name, that store)
    for video in study.videos:
        stem = Path(video.source.rstrip("/")).stem
        if video.name in entries or not _named_after(video.name, stem, FOLDER_SEPARATOR):
            continue
        for old, entry in entries.items():
            before = (entry or {}).get("store")
            if (
                old in names
                or not _named_after(old, stem, FOLDER_SEPARATOR)
                or not isinstance(before, str)
                or not (study.output / before).exists()
            ):
                continue
            made = ((entry.get("segment") or {}).get("inputs") or {}).get("video_sha256")
            if video.path.exists() and made != file_sha256(video.path, hashes):
                continue  # another video of that file name: that store is not its
            renamed.append((video, old, study.output / before))
            break
    if not renamed:
        return
    places = video_places(study, ("name",), shown)
    (video, old, store), more = renamed[0], renamed[1:]
    also = "".join(f"; likewise `name: {o}` on videos[{study.videos.index(v)}]" for v, o, _ in more)
    raise ConfigError(
        f"{places[video.name]['name']} this study made the store of this video under the name "
        f"{old!r} ({store}), which no entry has now (a video of the same file name added or "
        "removed, or a folder renamed, renames entries named after their files): write "
        f"`name: {old}` on this entry to keep that store{also} (or move the store away to "
        "segment the video anew)"
    )


def _named_after(name: str, stem: str, separator: str) -> bool:
    """Whether ``name`` is one a study gives a video of file stem ``stem`` by default."""
    return name == stem or name.endswith(separator + stem)
