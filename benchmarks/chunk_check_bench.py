"""Cost of the missing-chunk check on reads: one JSON line per measured figure.

Run from the repository root::

    PYTHONPATH=. python benchmarks/chunk_check_bench.py                 # 480 frames of 1080p
    PYTHONPATH=. python benchmarks/chunk_check_bench.py --frames 240 --repeats 3

Figures
-------
read_chunk_check
    ``MaskStore.read_labels`` over a whole local store of 1920x1080 label frames (12 moving,
    rotating ellipses, ``io_bench.blob_labels``; the default 4 frames per chunk), read as the
    measurements read it (``--step`` frames per call), with the check that every chunk key of
    the range exists (:mod:`ecoseg.store.chunks`) and without it (the check replaced by one
    that finds nothing), alternating in one process (ABBA: the order swaps every pass, so
    that neither always reads a cache the other warmed). CPU time of all threads
    (``time.process_time``), the best of ``--repeats`` passes of each; ``overhead`` is the
    extra CPU time of the check over the read without it (best and median of the passes; on a
    busy machine both are noisy), ``check_alone_*`` the CPU time of the check run by itself
    over the same ranges (per read call, and as a share of the read without it). The second
    line reads one frame per call (napari's access pattern: one check per call).
view_chunk_check
    The same store read through ``ecoseg.open_masks`` (``ds.labels.max()`` computed by dask's
    threaded scheduler, one task per stored chunk, each checking its own keys), with and
    without the check, alternating (ABBA); CPU time of all threads, best of ``--repeats``.
open_chunk_check
    Opening a long store (``--long-frames`` frames of 16x16 at 4 frames per chunk; an hour
    at 30 fps is 27,000 ``labels`` keys): CPU time of ``open_masks`` (which checks nothing)
    against checking every chunk key of the store at open (``MaskStore.missing_chunks()``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from io_bench import blob_labels  # noqa: E402

from ecoseg.store import MaskStore, chunks  # noqa: E402


def _write(path: Path, frames: int, width: int, height: int) -> None:
    labels = blob_labels(16, width, height)
    objects = [(i, "fish", "prompt") for i in range(1, int(labels.max()) + 1)]
    store = MaskStore.create(path, height=height, width=width, objects=objects, overwrite=True)
    for i in range(frames):
        store.append(labels[i % len(labels)], i / 30.0)
    store.close()


def abba(repeats: int) -> list[bool]:
    """Whether each read runs with the check: without then with, then with then without
    (ABBA), ``repeats`` times each, so that neither always runs second, on the cache the
    other warmed."""
    return [check for r in range(repeats) for check in ((False, True), (True, False))[r % 2]]


def _pass(store: MaskStore, step: int, check: bool) -> float:
    """CPU seconds to read every frame, ``step`` frames per call."""
    real = chunks.find_missing

    async def nothing_missing(*args, **kwargs):
        return []

    if not check:
        chunks.find_missing = nothing_missing  # the read without the check
    try:
        cpu = time.process_time()
        for start in range(0, store.n_frames, step):
            store.read_labels(start, start + step)
        return time.process_time() - cpu
    finally:
        chunks.find_missing = real


def _probe_pass(store: MaskStore, step: int) -> float:
    """CPU seconds of the check alone over every frame, ``step`` frames per call."""
    n = store.n_frames
    cpu = time.process_time()
    for start in range(0, n, step):
        chunks.missing_chunks(store.labels, start, min(start + step, n), n)
    return time.process_time() - cpu


def read_chunk_check(path: Path, step: int, repeats: int) -> dict:
    store = MaskStore.open(path)
    _pass(store, step, True)  # warm the page cache
    runs = {True: [], False: [], "probe": []}
    for i, check in enumerate(abba(repeats)):
        runs[check].append(_pass(store, step, check))
        if i % 2:
            runs["probe"].append(_probe_pass(store, step))
    n = store.n_frames
    reads = -(-n // step)
    best = {k: min(v) for k, v in runs.items()}
    median = {k: statistics.median(v) for k, v in runs.items()}
    return {
        "benchmark": "read_chunk_check",
        "frames": n,
        "frames_per_read": step,
        "chunk_frames": store.chunk_frames,
        "repeats": repeats,
        "cpu_ms_per_frame_without": round(best[False] / n * 1e3, 3),
        "cpu_ms_per_frame_with": round(best[True] / n * 1e3, 3),
        "overhead_best": round(best[True] / best[False] - 1, 4),
        "overhead_median": round(median[True] / median[False] - 1, 4),
        "check_alone_us_per_read": round(best["probe"] / reads * 1e6, 1),
        "check_alone_share": round(best["probe"] / best[False], 4),
        "baseline": "the same reads without the check",
    }


def _view_pass(path: Path, check: bool) -> float:
    """CPU seconds (all threads) of ``open_masks(path).labels.max()`` through dask."""
    import ecoseg

    real = chunks.find_missing

    async def nothing_missing(*args, **kwargs):
        return []

    if not check:
        chunks.find_missing = nothing_missing
    try:
        cpu = time.process_time()
        int(ecoseg.open_masks(path).labels.max().compute(scheduler="threads"))
        return time.process_time() - cpu
    finally:
        chunks.find_missing = real


def view_chunk_check(path: Path, repeats: int) -> dict:
    _view_pass(path, True)  # warm the page cache
    runs = {True: [], False: []}
    for check in abba(repeats):
        runs[check].append(_view_pass(path, check))
    best = {k: min(v) for k, v in runs.items()}
    median = {k: statistics.median(v) for k, v in runs.items()}
    n = MaskStore.open(path).n_frames
    return {
        "benchmark": "view_chunk_check",
        "frames": n,
        "repeats": repeats,
        "cpu_ms_per_frame_without": round(best[False] / n * 1e3, 3),
        "cpu_ms_per_frame_with": round(best[True] / n * 1e3, 3),
        "overhead_best": round(best[True] / best[False] - 1, 4),
        "overhead_median": round(median[True] / median[False] - 1, 4),
        "baseline": "the same open_masks read without the check",
    }


def open_chunk_check(path: Path, frames: int, repeats: int) -> dict:
    import numpy as np

    import ecoseg

    store = MaskStore.create(path, height=16, width=16, chunk_frames=4, overwrite=True)
    for i in range(0, frames, 1000):
        m = min(1000, frames - i)
        store.append(np.zeros((m, 16, 16), np.uint32), (i + np.arange(m)) / 30.0)
    store.close()
    runs = {"open": [], "check_all": []}
    for _ in range(repeats):
        cpu = time.process_time()
        ecoseg.open_masks(path)
        runs["open"].append(time.process_time() - cpu)
        cpu = time.process_time()
        found = MaskStore.open(path).missing_chunks()
        runs["check_all"].append(time.process_time() - cpu)
        assert found == []
    best = {k: min(v) for k, v in runs.items()}
    return {
        "benchmark": "open_chunk_check",
        "frames": frames,
        "labels_keys": -(-frames // 4),
        "repeats": repeats,
        "open_masks_cpu_s": round(best["open"], 3),
        "check_every_key_at_open_cpu_s": round(best["check_all"], 3),
        "baseline": "open_masks (lazy: checks nothing at open)",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=480)
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--step", type=int, default=16, help="frames per read_labels call")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--long-frames", type=int, default=108_000)
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.zarr"
        _write(path, args.frames, width, height)
        for step in (args.step, 1):
            print(json.dumps(read_chunk_check(path, step, args.repeats)), flush=True)
        print(json.dumps(view_chunk_check(path, args.repeats)), flush=True)
        long = Path(tmp) / "long.zarr"
        print(json.dumps(open_chunk_check(long, args.long_frames, args.repeats)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
