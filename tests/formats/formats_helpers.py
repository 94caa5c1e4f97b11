"""Helpers of the format tests: the bundled sample's paths and small stores made on the fly."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from ecoseg.store import MaskStore

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_VIDEO = ROOT / "data" / "sample" / "video.mp4"
SAMPLE_TRUTH = ROOT / "data" / "sample" / "truth.zarr"

_names = itertools.count()


def make_store(labels, *, classes=None, scores=None, times=None, path=None):
    """A complete store of ``labels`` (T, H, W); classes {id: name}; scores (T, K) or None."""
    labels = np.asarray(labels, np.uint32)
    t, h, w = labels.shape
    ids = sorted({int(v) for v in np.unique(labels)} - {0})
    classes = classes or {}
    objects = [
        {"id": i, "class": classes.get(i, f"species_{i % 3}"), "source": "truth"} for i in ids
    ]
    path = path or f"memory://formats-test-{next(_names)}"
    times = np.arange(t) * 0.04 + 1.5 if times is None else times
    with MaskStore.create(path, height=h, width=w, objects=objects, overwrite=True) as store:
        if t:
            store.append(labels, times, scores)
        store.mark_complete()
    return path


def store_boxes(path) -> dict:
    """{(frame, id): (x0, y0, x1, y1)} computed with numpy from the labels (pixel edges)."""
    labels = MaskStore.open(path).read_labels()
    out = {}
    for t, lab in enumerate(labels):
        for oid in np.unique(lab):
            if oid == 0:
                continue
            rows, cols = np.nonzero(lab == oid)
            out[(t, int(oid))] = (cols.min(), rows.min(), cols.max() + 1, rows.max() + 1)
    return out


def present_scores(path) -> dict:
    """{(frame, id): score} where the object is present."""
    store = MaskStore.open(path)
    labels, scores = store.read_labels(), store.read_scores()
    col = {int(i): k for k, i in enumerate(store.object_ids)}
    return {
        (t, int(oid)): float(scores[t, col[int(oid)]])
        for t, lab in enumerate(labels)
        for oid in np.unique(lab)
        if oid
    }


def task_xml(meta: str, shapes: str) -> str:
    """A CVAT for video 1.1 file of one track (10x8 frames), with task settings ``meta``."""
    return f"""<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version>
  <meta><task>{meta}<original_size><width>10</width><height>8</height></original_size>
  </task></meta>
  <track id="0" label="grouper" source="manual">{shapes}</track>
</annotations>"""
