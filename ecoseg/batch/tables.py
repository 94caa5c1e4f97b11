"""Campaign tables: per-frame counts and cover of many stores with dask.array; CSV writing.

:func:`campaign_tables` reads the ``labels`` of many stores chunk by chunk (a dask array of
:class:`~ecoseg.store.CheckedArray`: each task checks that the chunks it reads are there), so
the work runs on a cluster when given one;
:func:`write_tables` writes them as ``OUT/campaign-<table>.csv`` on a local path or a URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from ecoseg._checks import short_repr
from ecoseg._warn import warn
from ecoseg.batch._inputs import check_own_tables
from ecoseg.batch.cluster import connect, is_dask
from ecoseg.batch.urls import join_url, redact_url, video_name
from ecoseg.errors import ConfigError

__all__ = ["campaign_tables", "tables_videos", "write_csv", "write_tables"]


def write_csv(df: Any, location: str) -> None:
    """Write a table as CSV to a local path (atomically) or an fsspec URL, in the bytes of
    every CSV table of ecoseg (:func:`ecoseg.measure.tables.csv_bytes`: UTF-8, whatever the
    system's locale).

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> path = tempfile.mkdtemp() + "/t.csv"
    >>> write_csv(pd.DataFrame({"a": [1]}), path)
    >>> open(path).read()
    'a\\n1\\n'
    """
    from ecoseg.measure.tables import write_csv_bytes

    if "://" in location:
        import fsspec

        with fsspec.open(location, "wb") as f:
            write_csv_bytes(df, f)
        return
    path = Path(location)
    tmp = path.with_name(f".{path.name}.partial")
    with open(tmp, "wb") as f:  # a few thousand rows at a time, never the whole text
        write_csv_bytes(df, f)
    os.replace(tmp, path)


def _id_areas(block, ids):
    """Pixels of each id in ``ids`` per frame, + unknown-id pixels and distinct unknown ids."""
    import numpy as np

    from ecoseg.store import present_ids

    n = block.shape[0]
    k = len(ids)
    out = np.zeros((n, k + 2), np.int64)
    flat = block.reshape(n, -1)
    for i in range(n):
        frame = flat[i]
        present = present_ids(frame)
        if not len(present):
            continue
        counts = np.bincount(np.searchsorted(present, frame[frame != 0]), minlength=len(present))
        pos = np.searchsorted(ids, present)
        pos = np.minimum(pos, max(k - 1, 0))
        known = (ids[pos] == present) if k else np.zeros(len(present), bool)
        out[i, pos[known]] = counts[known]
        out[i, k] = counts[~known].sum()
        out[i, k + 1] = int((~known).sum())
    return out[:, None, :] if block.ndim == 3 else out


def campaign_tables(
    stores: Sequence[str | os.PathLike] | Mapping[str, str | os.PathLike],
    *,
    scheduler: Any = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Per-frame counts and cover of many stores, computed with dask.array over their labels.

    The ``labels`` arrays are read chunk by chunk (:class:`ecoseg.store.CheckedArray`),
    so the work runs on a cluster when ``scheduler`` is one, and memory stays at a few chunks
    per worker. A chunk missing inside a store's committed frames is a
    :class:`~ecoseg.errors.StoreError` naming the store, frames and key, never empty frames.
    The columns agree with the ``counts`` and ``cover`` tables of :func:`ecoseg.measure`
    (whole-frame cover, no region of interest).

    Parameters
    ----------
    stores : sequence of paths/URLs, or mapping of video name to path/URL
        Default names: the store file names without ``.zarr``.
    scheduler : optional
        A ``distributed.Client`` or address; default: dask's threaded scheduler here.
    progress : bool
        A progress bar on stderr, one step a store measured (``ecoseg batch --measure``
        shows it).

    Returns
    -------
    dict of pandas.DataFrame
        ``"counts"``: ``video``, ``frame``, ``time_s``, ``class``, ``count``; ``"cover"``:
        ``video``, ``frame``, ``time_s``, ``class``, ``cover_px``, ``cover_fraction``.
        Every frame x every class of each store (every frame its annotation covers, for a
        truth store that annotates some only: :func:`ecoseg.measure.observed_frames`).

    Raises
    ------
    StoreError
        A store holds no frames (:func:`ecoseg.measure.check_has_frames`), an interrupted
        ``ecoseg edit`` left it half written (:func:`ecoseg.store.check_finished`), or it has a
        mask on a frame its annotation does not cover, as in :func:`ecoseg.measure`.

    Warns
    -----
    IncompleteStoreWarning
        A store's run did not finish: its rows cover the frames it holds, as in
        :func:`ecoseg.measure`.

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=4, size=(64, 48))
    >>> tables = campaign_tables({"T1": clip.truth})
    >>> sorted(tables), tables["counts"]["video"].unique().tolist()
    (['counts', 'cover'], ['T1'])
    """
    import dask
    import dask.array as da
    import numpy as np
    import pandas as pd

    from ecoseg._progress import progress_bar
    from ecoseg.measure import (
        IncompleteStoreWarning,
        check_has_frames,
        incomplete_note,
        observed_frames,
    )
    from ecoseg.measure.counts import class_order, looked_for_classes
    from ecoseg.store import CheckedArray, MaskStore, check_finished

    if isinstance(stores, str | bytes | os.PathLike) or not isinstance(stores, Iterable):
        # "T1.zarr" was the stores 'T', '1', ...; a Path or a number a TypeError
        given = short_repr(os.fspath(stores) if isinstance(stores, os.PathLike) else stores)
        raise ConfigError(
            "campaign_tables: stores must be a list of stores or a dict of video name to "
            f"store, got {given}"
        )
    if not isinstance(stores, Mapping):
        stores = {video_name(os.fspath(s).rstrip("/").removesuffix(".zarr")): s for s in stores}
    if not stores:  # pandas' "No objects to concatenate"
        raise ConfigError("campaign_tables: no stores given (give at least one store)")
    specs, arrays = [], []
    for name, location in stores.items():
        store = MaskStore.open(location)
        check_finished(store)  # as measure(): no numbers from half an edit
        frames = check_has_frames(store)  # as measure(): no rows for a store of no frames
        n = store.n_frames
        records = store.object_records()
        ids_order = list(records)
        classes = [r.class_name or "unknown" for r in records.values()]
        ids = np.array(sorted(ids_order), np.int64)
        checked = CheckedArray(store.labels, n, store.all_chunks, store.path)
        labels = da.from_array(checked, chunks=checked.chunks, fancy=False, lock=False)
        labels = labels.rechunk({1: -1, 2: -1})
        areas = labels.map_blocks(
            _id_areas,
            ids,
            dtype=np.int64,
            chunks=(labels.chunks[0], (1,), (len(ids) + 2,)),
        )[:, 0, :]
        specs.append((name, store, frames, ids, ids_order, classes))
        arrays.append(areas)
    bar = progress_bar(total=len(arrays), desc="measure", unit="store", disable=not progress)
    with bar:
        if scheduler is None:  # store by store (each one's chunks in parallel), for the bar
            results = []
            for areas in arrays:
                results.append(dask.compute(areas, scheduler="threads")[0])
                bar.update()
        else:
            from distributed import as_completed

            with connect(scheduler) as client:
                if not is_dask(client):
                    raise ConfigError("campaign_tables needs a dask.distributed client or address")
                futures = client.compute(arrays)
                for _ in as_completed(futures):
                    bar.update()
                results = client.gather(futures)
    counts, cover = [], []
    for (name, store, frames, ids, ids_order, classes), areas in zip(specs, results):
        times = store.read_time()
        n = len(times)
        # ids missing from the object table count as unknown, as in measure()
        # and a concept looked for and not found gets its zero rows, as in measure()
        # (a store that named and found nothing: 0 of unknown, as in measure())
        looked_for = looked_for_classes(classes, store.provenance_record.prompts)
        known = class_order(looked_for, ["unknown"] if areas[:, -1].any() else [])
        index = {c: j for j, c in enumerate(known)}
        col_class = np.array([index[classes[ids_order.index(int(i))]] for i in ids], np.int64)
        nc = len(known)
        px = np.zeros((n, nc), np.int64)
        cnt = np.zeros((n, nc), np.int64)
        for j in range(nc):
            sel = col_class == j
            px[:, j] = areas[:, : len(ids)][:, sel].sum(axis=1)
            cnt[:, j] = (areas[:, : len(ids)][:, sel] > 0).sum(axis=1)
        if "unknown" in index:
            px[:, index["unknown"]] += areas[:, -2]
            cnt[:, index["unknown"]] += areas[:, -1]
        # as in measure(): rows for the frames observed only (a truth store's annotated ones)
        seen, col = np.nonzero(areas[:, : len(ids)])
        masks = pd.DataFrame({"frame": seen, "object_id": ids[col]})
        rows = np.asarray(list(observed_frames(store, masks, frames)), dtype=np.int64)
        px, cnt = px[rows].ravel(), cnt[rows].ravel()
        base = {
            "video": [name] * (len(rows) * nc),
            "frame": np.repeat(rows, nc),
            "time_s": np.repeat(times[rows], nc),
            "class": pd.array(known * len(rows), dtype=str),
        }
        counts.append(pd.DataFrame({**base, "count": cnt}))
        area = float(store.height * store.width)
        cover.append(pd.DataFrame({**base, "cover_px": px, "cover_fraction": px / area}))
        note = incomplete_note(store)
        store.close()
        if note is not None:  # as measure(): numbers of part of a video, and said so
            warn(note, IncompleteStoreWarning)
    return {
        "counts": pd.concat(counts, ignore_index=True),
        "cover": pd.concat(cover, ignore_index=True),
    }


def write_tables(tables: Mapping[str, Any], out: str | os.PathLike) -> list[str]:
    """Write :func:`campaign_tables` as ``OUT/campaign-<table>.csv`` (local path or URL).
    A local file of such a name that ecoseg did not write (a user's own) is refused before
    any is written, naming it (:func:`~ecoseg.batch._inputs.check_own_tables`, as ``ecoseg
    batch`` checks them before any work).

    Returns
    -------
    list of str
        The locations written (credentials redacted).

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> written = write_tables({"counts": pd.DataFrame({"count": [1]})}, tempfile.mkdtemp())
    >>> written[0].endswith("campaign-counts.csv")
    True
    """
    out = os.fspath(out)
    check_own_tables(out, [f"campaign-{name}.csv" for name in tables])
    written = []
    for name, df in tables.items():
        location = join_url(out, f"campaign-{name}.csv")
        write_csv(df, location)
        written.append(redact_url(location))
    return written


def tables_videos(out: str | os.PathLike, table: str = "counts") -> list[str]:
    """The videos named in the ``campaign-<table>.csv`` at ``OUT`` (an earlier
    :func:`write_tables`, or ``ecoseg batch --truth-dir``'s ``campaign-scores.csv``), in order
    of first row; ``[]`` when there is none or it cannot be read. ``ecoseg batch --measure``
    and ``--truth-dir`` name those their new tables leave out.

    Examples
    --------
    >>> import pandas as pd, tempfile
    >>> out = tempfile.mkdtemp()
    >>> _ = write_tables({"counts": pd.DataFrame({"video": ["T1", "T1", "T2"]})}, out)
    >>> tables_videos(out), tables_videos(tempfile.mkdtemp()), tables_videos(out, "scores")
    (['T1', 'T2'], [], [])
    """
    import pandas as pd

    location = join_url(os.fspath(out), f"campaign-{table}.csv")
    try:
        if "://" in location:
            import fsspec

            with fsspec.open(location, "rb") as f:
                videos = pd.read_csv(f, usecols=["video"], dtype=str, keep_default_na=False)
        else:
            videos = pd.read_csv(location, usecols=["video"], dtype=str, keep_default_na=False)
    except (OSError, ValueError, ImportError):  # none, unreadable or not ours: nothing to name
        return []
    return list(dict.fromkeys(videos["video"]))
