"""Campaign throughput: ``ecoseg.batch.batch`` on 1 vs 2 local Dask workers, and the
per-video figures the throughput model of ``docs/scale.md`` is built from.

Prints one JSON line per figure:

``per_video``
    One synthetic 1920x1080 H.264 clip (``--hd-frames`` frames): ``decode_fps`` (iterating
    ``open_video`` alone), ``segment_fps`` (``ecoseg.segment`` with the classical motion
    tracker, decoding and store writing included, one process), their ratio, and
    ``store_bytes_per_frame`` (bytes of the finished store on disk per frame), and the CPU time
    per frame of both (``*_cpu_ms_per_frame``: all threads of the process, so core-seconds).
``batch_throughput``
    One line per worker count (``--workers``, default 1 and 2): the same ``--videos`` clips of
    ``--size`` x ``--frames`` segmented by :func:`ecoseg.batch.batch` on a local process
    cluster of that many single-threaded workers, started and warmed up (ecoseg imported on
    every worker) before the clock starts. ``videos_per_s`` and ``frames_per_s`` over the
    whole campaign wall time.
``batch_scaling``
    ``frames_per_s`` of the largest worker count over that of one worker, in the same run, and
    whether every store of every run was identical (they must be).

Usage::

    PYTHONPATH=. python benchmarks/batch_bench.py
    PYTHONPATH=. python benchmarks/batch_bench.py --videos 4 --frames 60 --skip-per-video
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ecoseg.batch import batch
from ecoseg.engine import segment
from ecoseg.io.video import open_video
from ecoseg.store import MaskStore
from ecoseg.synth import synth


def _size(text: str) -> tuple[int, int]:
    w, h = (int(v) for v in text.lower().split("x"))
    return w, h


def _du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def per_video(tmp: Path, frames: int) -> dict:
    clip = synth(tmp / "hd", seed=11, frames=frames, size=(1920, 1080), camera="static")
    t0, c0 = time.perf_counter(), time.process_time()
    with open_video(clip.video) as video:
        n = sum(1 for _ in video)
    decode, decode_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    store = segment(clip.video, out=tmp / "hd.zarr", progress=False)
    seg, seg_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert n == frames == MaskStore.open(store).n_frames
    return {
        "benchmark": "batch_bench",
        "figure": "per_video",
        "size": "1920x1080",
        "frames": frames,
        "engine": "classical",
        "decode_fps": round(n / decode, 2),
        "segment_fps": round(n / seg, 2),
        "segment_over_decode": round(decode / seg, 3),
        "decode_cpu_ms_per_frame": round(1000 * decode_cpu / n, 2),
        "segment_cpu_ms_per_frame": round(1000 * seg_cpu / n, 2),
        "store_bytes_per_frame": round(_du(tmp / "hd.zarr") / n),
        "video_bytes_per_frame": round(Path(clip.video).stat().st_size / n),
    }


def campaign(tmp: Path, videos: int, frames: int, size) -> list[str]:
    paths = []
    for i in range(videos):
        clip = synth(tmp / f"clip{i}", seed=100 + i, frames=frames, size=size)
        target = tmp / f"video{i:02d}.mp4"
        os.replace(clip.video, target)
        paths.append(str(target))
    return paths


def _warm() -> int:
    import ecoseg.engine.classical  # noqa: F401 - import cost outside the timed part
    import ecoseg.store  # noqa: F401

    return os.getpid()


def run_batch(paths: list[str], out: Path, workers: int) -> dict:
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(_warm)
        t0 = time.perf_counter()
        summary = batch(paths, out, scheduler=client, retries=0, progress=False)
        wall = time.perf_counter() - t0
    assert (summary["status"] == "done").all(), summary.to_string()
    frames = int(summary["frames"].sum())
    return {
        "benchmark": "batch_bench",
        "figure": "batch_throughput",
        "workers": workers,
        "threads_per_worker": 1,
        "videos": len(paths),
        "frames": frames,
        "seconds": round(wall, 3),
        "videos_per_s": round(len(paths) / wall, 4),
        "frames_per_s": round(frames / wall, 2),
        "cores": os.cpu_count(),
    }


def same_stores(a: Path, b: Path, names) -> bool:
    for name in names:
        x, y = MaskStore.open(a / f"{name}.zarr"), MaskStore.open(b / f"{name}.zarr")
        if not np.array_equal(x.read_labels(), y.read_labels()) or x.objects != y.objects:
            return False
    return True


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--videos", type=int, default=8)
    p.add_argument("--frames", type=int, default=90)
    p.add_argument("--size", type=_size, default=(640, 360))
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    p.add_argument("--hd-frames", type=int, default=90)
    p.add_argument("--skip-per-video", action="store_true")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        if not args.skip_per_video:
            print(json.dumps(per_video(tmp, args.hd_frames)), flush=True)
        paths = campaign(tmp, args.videos, args.frames, args.size)
        names = [Path(p).stem for p in paths]
        rows = []
        for n in args.workers:
            rows.append(run_batch(paths, tmp / f"out{n}", n))
            print(json.dumps(rows[-1]), flush=True)
        base = rows[0]
        top = rows[-1]
        identical = all(
            same_stores(tmp / f"out{args.workers[0]}", tmp / f"out{n}", names)
            for n in args.workers[1:]
        )
        print(
            json.dumps(
                {
                    "benchmark": "batch_bench",
                    "figure": "batch_scaling",
                    "workers": [base["workers"], top["workers"]],
                    "ratio": round(top["frames_per_s"] / base["frames_per_s"], 3),
                    "ideal": top["workers"] / base["workers"],
                    "identical_stores": identical,
                    "cores": os.cpu_count(),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
