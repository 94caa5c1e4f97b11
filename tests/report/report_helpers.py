"""Helpers shared by the report tests: small hand-made stores whose classes differ, the record
of one video that ``reproduce`` reads (:func:`replay_record`), and the tables of a report page
as text (:func:`suite_helpers.page_table`, offered here too)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from suite_helpers import page_table

from ecoseg.store import MaskStore

__all__ = ["H", "W", "make_store", "page_table", "replay_record"]

H, W = 32, 48


def make_store(path, objects, seen, **prov_keys) -> None:
    """A finished 4-frame ``H`` x ``W`` store at 10 fps; ``objects`` are (id, class, source)
    and ``seen`` maps an object id to the frames it is in (a small rectangle per id);
    ``prov_keys`` replace or add keys of its provenance (the motion tracker's)."""
    labels = np.zeros((4, H, W), np.uint32)
    for oid, frames in seen.items():
        for i in frames:
            labels[i, 4 * oid : 4 * oid + 3, 2 + 5 * oid : 6 + 5 * oid] = oid
    prov = {"engine": "classical", "video": {"path": "v.mp4", "fps": 10.0, "frames": 4}}
    prov.update(prov_keys)
    store = MaskStore.create(path, height=H, width=W, objects=objects, provenance=prov)
    store.append(labels, np.arange(4) / 10)
    store.mark_complete()
    store.close()


def replay_record(name, provenance, **fields) -> SimpleNamespace:
    """What ``ecoseg.report.reproduce`` reads of one video (``report.read``'s record): shown as
    ``NAME.mp4`` and ``NAME.zarr``, no edits, nothing judged, no truth; ``fields`` replace any
    of these."""
    record = dict(
        name=name,
        provenance=provenance,
        video_shown=f"{name}.mp4",
        store_shown=f"{name}.zarr",
        edits=[],
        unchecked_splits=[],
        refused_merges=[],
        unmade_merges=[],
        refused_reviews=[],
        refused_names=[],
        kept_visual=[],
        truth=None,
        truth_shown=None,
    )
    return SimpleNamespace(**{**record, **fields})
