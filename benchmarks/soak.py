"""Soak test: a long synthetic clip streamed through ``segment`` (motion tracker) + ``measure``.

Writes an H.264 clip of N frames (default 20,000 at 64x48, made on the fly: a few discs
swimming over a textured background, never the whole clip in memory), segments it with the
classical motion tracker into a mask store and measures the store, sampling this process's
resident memory (RSS, from /proc) and its peak (``ru_maxrss``) at intervals. Memory must stay
flat: the last segment sample may not exceed the sample at 10 % of the frames by more than a
few MiB (the store and tracker keep only bounded windows).

Prints one JSON line per sample (``{"stage", "frames", "rss_mib", "peak_rss_mib", ...}``)
and then summary lines: ``rss_growth_mib`` (segment: last sample minus the 10 % sample),
``frames_per_s`` for each stage, and ``flat`` (growth below ``--tolerance`` MiB).

Usage: ``python benchmarks/soak.py [--frames 20000] [--size 64x48] [--every 1000]
[--tolerance 16] [--keep DIR]``. A clip kept in ``DIR`` by an earlier run is used again
where its frame count and size are those asked for, else made again.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import av
import numpy as np


def rss_mib() -> float:
    """Current resident set size of this process (MiB)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def emit(**record) -> None:
    print(json.dumps(record), flush=True)


def write_clip(path: Path, frames: int, width: int, height: int, fps: int = 30) -> None:
    """Discs swimming over a textured background, encoded frame by frame."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:height, 0:width]
    bg = 90 + 30 * np.sin(xx / 5.0) + 20 * np.cos(yy / 7.0)
    bg = np.repeat(bg[..., None], 3, axis=2)
    k = 4
    pos = rng.uniform([0, 0], [width, height], size=(k, 2))
    vel = rng.uniform(-0.6, 0.6, size=(k, 2))
    radius = rng.uniform(3, 6, size=k)
    colour = rng.uniform(150, 250, size=(k, 3))
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "18", "g": "60"}
        for _ in range(frames):
            img = bg.copy()
            for j in range(k):
                disc = (xx - pos[j, 0]) ** 2 + (yy - pos[j, 1]) ** 2 <= radius[j] ** 2
                img[disc] = colour[j]
            pos += vel
            for axis, limit in ((0, width), (1, height)):  # bounce off the frame edges
                out_of = (pos[:, axis] < 0) | (pos[:, axis] > limit)
                vel[out_of, axis] *= -1
            frame = av.VideoFrame.from_ndarray(img.astype(np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def clip_differs(path: Path, frames: int, width: int, height: int) -> str | None:
    """How the clip at ``path`` differs from ``frames`` frames of ``width``x``height`` (a
    sentence), or ``None`` where it matches; a file that cannot be read differs."""
    try:
        with av.open(str(path)) as clip:
            stream = clip.streams.video[0]
            found = (stream.frames, stream.codec_context.width, stream.codec_context.height)
    except (av.FFmpegError, OSError, IndexError) as exc:
        return f"cannot be read ({type(exc).__name__})"
    if found == (frames, width, height):
        return None
    return f"has {found[0]} frames of {found[1]}x{found[2]}, not {frames} of {width}x{height}"


class Sampler(threading.Thread):
    """Emit an RSS sample every ``period`` seconds while a stage runs without callbacks."""

    def __init__(self, stage: str, period: float = 1.0):
        super().__init__(daemon=True)
        self.stage, self.period, self.stop = stage, period, threading.Event()
        self.samples: list[float] = []

    def run(self) -> None:
        start = time.perf_counter()
        while not self.stop.wait(self.period):
            rss = rss_mib()
            self.samples.append(rss)
            emit(
                stage=self.stage,
                seconds=round(time.perf_counter() - start, 1),
                rss_mib=round(rss, 1),
                peak_rss_mib=round(peak_mib(), 1),
            )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--size", default="64x48", help="WIDTHxHEIGHT")
    parser.add_argument("--every", type=int, default=1000, help="frames between samples")
    parser.add_argument("--tolerance", type=float, default=16.0, help="allowed growth (MiB)")
    parser.add_argument("--keep", default=None, help="keep the clip, store and tables here")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    first = -(-(args.frames // 10) // args.every) * args.every  # the sample growth counts from
    if first >= args.frames:
        parser.error(
            f"--every {args.every} takes no sample between frame {args.frames // 10} (10 % of "
            f"--frames {args.frames}) and the last, so there is no growth to measure; give a "
            f"smaller --every (e.g. {max(1, args.frames // 10)})"
        )

    import ecoseg

    folder = Path(args.keep or tempfile.mkdtemp(prefix="ecoseg-soak-"))
    folder.mkdir(parents=True, exist_ok=True)
    video, store = folder / "soak.mp4", folder / "soak.zarr"
    try:
        t0 = time.perf_counter()
        if not video.exists():
            write_clip(video, args.frames, width, height)
        elif differs := clip_differs(video, args.frames, width, height):  # other options'
            print(f"soak: {video} {differs}: made again", file=sys.stderr, flush=True)
            write_clip(video, args.frames, width, height)
        emit(
            stage="clip",
            frames=args.frames,
            size=args.size,
            seconds=round(time.perf_counter() - t0, 1),
            rss_mib=round(rss_mib(), 1),
        )

        samples: dict[int, float] = {}

        def progress(done: int, total: int) -> None:
            if done % args.every == 0 or done == total:
                rss = rss_mib()
                samples[done] = rss
                emit(
                    stage="segment",
                    frames=done,
                    rss_mib=round(rss, 1),
                    peak_rss_mib=round(peak_mib(), 1),
                    seconds=round(time.perf_counter() - t1, 1),
                )

        t1 = time.perf_counter()
        ecoseg.segment(video, out=store, engine="classical", progress=progress, overwrite=True)
        seg_s = time.perf_counter() - t1

        sampler = Sampler("measure")
        sampler.start()
        t2 = time.perf_counter()
        tables = ecoseg.measure(store, folder / "tables", overwrite=True)
        meas_s = time.perf_counter() - t2
        sampler.stop.set()
        sampler.join()
        emit(
            stage="measure",
            frames=args.frames,
            regions=len(tables["regions"]),
            rss_mib=round(rss_mib(), 1),
            peak_rss_mib=round(peak_mib(), 1),
            seconds=round(meas_s, 1),
        )

        marks = sorted(samples)
        early = next(m for m in marks if m >= args.frames // 10)
        growth = samples[marks[-1]] - samples[early]
        emit(
            metric="rss_growth_mib",
            stage="segment",
            value=round(growth, 2),
            from_frame=early,
            to_frame=marks[-1],
            rss_at_from_mib=round(samples[early], 1),
        )
        per_k = 1024 * growth / max(marks[-1] - early, 1) * 1000
        emit(metric="rss_growth_kib_per_1000_frames", stage="segment", value=round(per_k, 1))
        emit(metric="frames_per_s", stage="segment", value=round(args.frames / seg_s, 1))
        emit(metric="frames_per_s", stage="measure", value=round(args.frames / meas_s, 1))
        emit(metric="peak_rss_mib", value=round(peak_mib(), 1))
        flat = growth <= args.tolerance
        emit(metric="flat", value=flat, tolerance_mib=args.tolerance)
        return 0 if flat else 1
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
