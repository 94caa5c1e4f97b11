"""Shared helpers of the store tests: deterministic label frames, times, objects."""

from __future__ import annotations

import uuid

import numpy as np

from ecoseg.store import (
    MaskStore,
)

H, W = 6, 7


OBJECTS = [
    {"id": 1, "class": "parrotfish", "source": "prompt"},
    {"id": 4, "class": "wrasse", "source": "discovered"},
    {"id": 9, "class": "sea_star", "source": "truth"},
]


def frames(n: int, start: int = 0, ids=(1, 4, 9), h: int = H, w: int = W) -> np.ndarray:
    """Deterministic label frames: each object a small box that moves; some frames lack some."""
    out = np.zeros((n, h, w), np.uint32)
    for k in range(n):
        t = start + k
        for j, oid in enumerate(ids):
            if (t + j) % 5 == 4:  # absent on some frames
                continue
            y, x = (t + 2 * j) % (h - 1), (3 * t + j) % (w - 1)
            out[k, y : y + 2, x : x + 2] = oid
    return out


def times(n: int, start: int = 0) -> np.ndarray:
    return np.array([0.04 * (start + k) + 0.001 * ((start + k) % 3) for k in range(n)])


def presence(labels: np.ndarray, ids) -> np.ndarray:
    out = [[float(np.any(f == i)) for i in ids] for f in labels]
    return np.array(out, np.float32).reshape(len(labels), len(ids))


def memory_url() -> str:
    return f"memory://ecoseg-test-{uuid.uuid4().hex}"


def write_store(path, labels, ts, chunk_frames=4, objects=OBJECTS, batch=3, **kw) -> MaskStore:
    store = MaskStore.create(
        path,
        height=labels.shape[1],
        width=labels.shape[2],
        chunk_frames=chunk_frames,
        objects=objects,
        **kw,
    )
    for i in range(0, len(labels), batch):
        store.append(labels[i : i + batch], ts[i : i + batch])
    store.close()
    return store
