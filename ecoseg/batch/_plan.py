"""A campaign's plan: what each video's store holds, read before any task, and what the
machine, the videos and the stores are checked for before any work.

:func:`planned_statuses` reads the stores (several at once on object storage);
:func:`check_machine_first` refuses a run this machine cannot do before any video is opened;
:func:`probe_urls` checks URL videos beside their complete stores; :func:`kept_beside` and
:func:`other_settings` say why a store is kept and its video not segmented;
:func:`check_surveys`, what photo surveys cannot use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from ecoseg.batch._inputs import check_store_places
from ecoseg.batch._options import check_this_machine
from ecoseg.batch._summary import NOT_CHECKED, error_text, kept_text
from ecoseg.batch._threads import in_threads
from ecoseg.batch.jobs import StoreStatus, store_status
from ecoseg.batch.names import status_threads, url_checks
from ecoseg.batch.urls import file_name, is_url, local_path, redact_url, store_location
from ecoseg.errors import ConfigError, EcosegError

__all__ = [
    "certain_to_segment",
    "check_machine_first",
    "check_surveys",
    "kept_beside",
    "other_settings",
    "planned_status",
    "planned_statuses",
    "probe_urls",
]


def planned_status(store: str) -> StoreStatus | EcosegError | OSError:
    """The store's :func:`~ecoseg.batch.jobs.store_status`, or why it is not a store, or
    the OSError that reading it raised (permissions, a storage error: that video fails)."""
    try:
        return store_status(store)
    except (EcosegError, OSError) as exc:
        return exc


def planned_statuses(
    out: str, names: Sequence[str], known: Mapping[str, Any] | None = None
) -> dict[str, StoreStatus | EcosegError | OSError]:
    """:func:`planned_status` of each video's store in ``out``, by name in the order of
    ``names``: up to :data:`~ecoseg.batch.names.STATUS_THREADS` at once where ``out`` is a
    URL, one after another on a local disk (:func:`~ecoseg.batch.names.status_threads`);
    those in ``known`` (read earlier in this run) are not read again."""
    known = known or {}
    read = [name for name in names if name not in known]
    stores = [store_location(out, name) for name in read]
    found = {**known, **dict(zip(read, in_threads(planned_status, stores, status_threads(out))))}
    return {name: found[name] for name in names}


def check_machine_first(
    videos, names, unsettled, out, seg, options_for, concept_run: bool
) -> tuple[dict, bool]:
    """Refuse, on a local cluster, a run this machine cannot do (:func:`check_this_machine`)
    before any video is opened or hashed, where a video is certain to be segmented whatever
    its file holds: its name is final (no other store in ``out`` could be its, ``unsettled``
    holds the others by index) and its store is missing (or not a store). The options are
    ``seg`` (every name final), else those of the final names alone (``options_for``; not
    checked here where they fail: the run checks every video's options and says so).

    Returns the store statuses read (by name) and whether the machine is still to be checked.
    """
    settled = [name for i, name in enumerate(names) if i not in unsettled]
    statuses = planned_statuses(out, settled)
    check_store_places(  # (a user's folder: said before the machine, as it is cheaper)
        [
            (v, store_location(out, n), statuses[n])
            for i, (v, n) in enumerate(zip(videos, names))
            if i not in unsettled
        ]
    )
    if not any(map(certain_to_segment, statuses.values())):
        return statuses, True
    if seg is None:
        try:  # (the prompt files of the final names: the engine they choose)
            seg = options_for(settled)
        except EcosegError:
            return statuses, True
    first = seg[settled[0]]
    engine = "sam3" if concept_run else first["engine"]
    check_this_machine(engine, first)
    return statuses, engine == "classical"  # (nothing checked: the run's engine decides)


def certain_to_segment(status: StoreStatus | EcosegError | OSError) -> bool:
    """Whether a video of this store status (:func:`planned_status`) gets a task that
    segments it whatever its video holds: no store yet, or a store that cannot be read as one
    (a damaged ecoseg store: its task reports it; anything else was refused,
    :func:`~ecoseg.batch._inputs.check_store_places`). A partial store is resumed only once
    its video is found to be the one it was made from (a probe); a complete one is not
    segmented again."""
    missing = isinstance(status, StoreStatus) and status.state == "missing"
    return missing or isinstance(status, EcosegError)


def probe_urls(names, videos, statuses) -> dict[str, tuple[str | None, str | None, bool]]:
    """:func:`~ecoseg.batch.names.url_check` of each URL video beside its complete store
    (by name), the URLs probed concurrently (:func:`~ecoseg.batch.names.url_checks`)."""
    probe = [
        (name, video)
        for name, video in zip(names, videos)
        if is_url(video)
        and isinstance(status := statuses[name], StoreStatus)
        and status.complete
        and status.video in (None, file_name(video))  # (another video's store: refused)
    ]
    checks = [(video, statuses[name].record.video) for name, video in probe]
    return {name: result for (name, _), result in zip(probe, url_checks(checks))}


def kept_beside(reason: str, video: str, store: str, status: StoreStatus, log) -> str:
    """The summary error of a video that cannot be opened (``reason``: a local file truncated
    or corrupt since it was segmented, a URL that cannot be fetched any more) lying beside its
    complete store, or "": the store is kept, but this run cannot say it is this video's, so
    the video is not counted as skipped (finished). A file of the very bytes the store records
    (a codec this machine lacks) is skipped as usual."""
    path = local_path(video)
    recorded = getattr(status.record, "video", None)
    if is_url(video):
        why = NOT_CHECKED
    elif getattr(recorded, "sha256", None) and os.path.isfile(path):
        from ecoseg._hashing import cached_sha256_file

        if cached_sha256_file(path) == recorded.sha256:
            log(f"{redact_url(video)}: cannot be opened here, but its store was made from "
                "these very bytes; skipped")  # fmt: skip
            return ""
        why = f"it was made from a readable {file_name(video)} of other bytes"
    else:
        why = "it cannot be checked against this file"
    return kept_text(reason, store, status.frames, why)


def check_surveys(videos, concept_run, as_video, concepts, detect_every, fast, fps, params):
    """Refuse, before any work, what the campaign's photo surveys (local image folders given
    concepts, :func:`~ecoseg.engine.survey_rule.is_photo_survey`) cannot use, as each one's
    :func:`ecoseg.segment` would (naming the first survey); ``as_video`` without concepts."""
    from ecoseg.engine.concepts import check_survey
    from ecoseg.engine.survey_rule import is_photo_survey

    surveys = [v for v in videos if not is_url(v) and is_photo_survey(local_path(v), as_video)]
    if not concept_run:
        if as_video:
            raise ConfigError(
                "as_video=True (--as-video) is for concepts (SAM 3): the other engines track a "
                "folder of images as a video anyway; drop it"
            )
        return
    if surveys:
        check_survey(
            surveys[0], concepts or (), detect_every=detect_every, fast=fast, fps=fps, params=params
        )


def other_settings(options: dict[str, Any], video: str, record: Any) -> str:
    """How the settings of this run differ from those a store (complete or partial) records,
    in the words ``segment --resume`` uses (:func:`ecoseg.engine.settings.settings_change`),
    or "": every setting that shapes the masks, for every engine (not the device)."""
    if record is None or record.engine is None:
        return ""  # a store that records no engine: nothing to compare
    from ecoseg.engine.settings import requested_settings, settings_change

    try:
        wanted = requested_settings(options, local_path(video), record)
    except (EcosegError, OSError) as exc:  # a prompt file the run itself would refuse
        return f"its settings cannot be compared with this run's ({error_text(exc)})"
    return settings_change(record, wanted)
