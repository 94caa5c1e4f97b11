"""Accuracy of a whole campaign: :func:`ecoseg.evaluate` of every store that has a truth, as
one tidy table (one row per video), written by ``ecoseg batch --truth-dir DIR`` to
``OUT/campaign-scores.csv``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ecoseg._checks import few_items, short_repr
from ecoseg.batch.urls import local_path, redact_text
from ecoseg.errors import ConfigError, EcosegError

__all__ = ["SCORE_COLUMNS", "campaign_scores", "find_truths"]

#: Columns of :func:`campaign_scores`, in order: the scalar figures of :func:`ecoseg.evaluate`
#: (``count_mae``, ``maxn_*``: all classes together; ``area_error``: the median relative
#: area error), its ``note`` (:func:`ecoseg.metrics.result_note`: the frames scored, its
#: ``video_note``, a truth that records another video than the store, its ``same_store_note``,
#: a store scored against itself, and its ``unfinished``, a store whose run did not finish,
#: joined by "; ") and the ``error`` of a video that could not be scored.
SCORE_COLUMNS = (
    "video", "frames", "scored_frames", "truth_objects", "pred_objects",
    "jf", "j", "f", "hota", "deta", "assa", "idf1", "mota", "idsw",
    "count_mae", "maxn_truth", "maxn_pred", "maxn_error", "area_error", "note", "error",
)  # fmt: skip


def find_truths(folder: str | os.PathLike, names: list[str]) -> dict[str, str]:
    """The truth of each video name in ``folder``: ``NAME.zarr`` (a mask store) or ``NAME/``
    (a folder of DAVIS-style PNG masks); names without one are left out.

    Examples
    --------
    >>> import tempfile, os
    >>> d = tempfile.mkdtemp(); os.mkdir(os.path.join(d, "T1.zarr"))
    >>> list(find_truths(d, ["T1", "T2"]))
    ['T1']
    """
    folder = local_path(os.fspath(folder))
    found = {}
    for name in names:
        for candidate in (os.path.join(folder, f"{name}.zarr"), os.path.join(folder, name)):
            if os.path.isdir(candidate):
                found[name] = candidate
                break
    return found


def campaign_scores(
    stores: Mapping[str, str | os.PathLike],
    truths: Mapping[str, str | os.PathLike],
    *,
    progress: bool = False,
) -> Any:
    """Score every store that has a truth, one row per video (:data:`SCORE_COLUMNS`).

    Parameters
    ----------
    stores : mapping
        Store of each video name (as :func:`~ecoseg.batch.campaign_tables` takes them).
    truths : mapping
        Truth of each video name: a mask store or a folder of PNG masks, as for
        :func:`ecoseg.evaluate`. Videos without one are not scored (no row).
    progress : bool
        A progress bar on stderr, one step a video.

    Returns
    -------
    pandas.DataFrame
        In the order of ``stores``. A video that cannot be scored (a truth of another size)
        has its one-line ``error`` and no figures; nothing is raised for it. A truth that
        records another video than its store (a wrong pairing, or a truth drawn on a
        re-encoded copy) is scored, and its ``note`` names both videos and how they differ
        (:func:`ecoseg.metrics.video_note`; :func:`ecoseg.evaluate` also warns); so is a
        store whose run did not finish but holds every frame of the truth, its ``note``
        saying so in ``measure``'s words.

    Raises
    ------
    ConfigError
        ``stores`` or ``truths`` is no dict (a list, a path), or no video has both.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(64, 48))
    >>> table = campaign_scores({"T1": clip.truth}, {"T1": clip.truth})
    >>> table[["video", "scored_frames", "jf", "idf1"]].values.tolist()
    [['T1', 4, 1.0, 1.0]]
    """
    import pandas as pd

    from ecoseg._progress import progress_bar
    from ecoseg.metrics import evaluate

    for what, given in (("stores", stores), ("truths", truths)):
        if not isinstance(given, Mapping):  # a list: "list indices must be integers" inside
            raise ConfigError(
                f"campaign_scores: {what} must be a dict of video name to {what[:-1]}, got "
                f"{short_repr(os.fspath(given) if isinstance(given, os.PathLike) else given)}"
            )
    names = [n for n in stores if n in truths]
    if not names and stores and truths:  # keys that differ: an empty table, without a word
        raise ConfigError(
            f"campaign_scores: no video has both a store and a truth: stores are of "
            f"{few_items(list(stores), 4)}, truths of {few_items(list(truths), 4)}"
        )
    rows = []
    for name in progress_bar(names, unit="video", desc="scores", disable=not progress):
        row: dict[str, Any] = {"video": name}
        try:
            row.update(_figures(evaluate(os.fspath(stores[name]), os.fspath(truths[name]))))
        except (EcosegError, OSError) as exc:
            row["error"] = redact_text(" ".join(str(exc).split()))
        rows.append(row)
    table = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    table[["note", "error"]] = table[["note", "error"]].astype(object).fillna("")
    for column in _COUNTS:  # whole numbers, empty for a video not scored
        table[column] = table[column].astype("Int64")
    return table


_COUNTS = (
    "frames", "scored_frames", "truth_objects", "pred_objects", "idsw", "maxn_truth",
    "maxn_pred", "maxn_error",
)  # fmt: skip


def _figures(result: dict[str, Any]) -> dict[str, Any]:
    """The scalar figures of one :func:`ecoseg.evaluate` result."""
    from ecoseg.metrics import result_note

    jf, hota = result.get("jf") or {}, result.get("hota") or {}
    ident, clear = result.get("identity") or {}, result.get("clear") or {}
    counts = (result.get("counts") or {}).get("all") or {}
    return {
        "frames": result.get("frames"),
        "scored_frames": result.get("scored_frames"),
        "truth_objects": result.get("truth_objects"),
        "pred_objects": result.get("pred_objects"),
        "jf": jf.get("mean"),
        "j": jf.get("j_mean"),
        "f": jf.get("f_mean"),
        "hota": hota.get("hota"),
        "deta": hota.get("deta"),
        "assa": hota.get("assa"),
        "idf1": ident.get("idf1"),
        "mota": clear.get("mota"),
        "idsw": clear.get("idsw"),
        "count_mae": counts.get("mae"),
        "maxn_truth": counts.get("maxn_truth"),
        "maxn_pred": counts.get("maxn_pred"),
        "maxn_error": counts.get("maxn_error"),
        "area_error": (result.get("area") or {}).get("median_relative_error"),
        "note": redact_text(result_note(result)),
    }
