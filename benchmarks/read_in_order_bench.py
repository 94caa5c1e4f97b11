"""Reading every frame of a video by index, in order, as napari plays it: one JSON line a round.

Run from the repository root::

    PYTHONPATH=. python benchmarks/read_in_order_bench.py
    PYTHONPATH=. python benchmarks/read_in_order_bench.py --clip reef4k.mp4 --rounds 4

A 3840x2160 clip (``--frames`` frames, a keyframe every ``--gop``, textured and moving,
libx264 ``veryfast`` at crf 20 with one slice a picture, as ``ecoseg synth`` writes) is written
once into a temporary folder, or ``--clip`` names one. Each round opens it twice with
:func:`ecoseg.open_video` in this process and reads every frame with ``read(i)``, i = 0, 1, 2,
...: once as before (``videofile.PLAY_AFTER = None``: slice threads throughout) and once as
ecoseg does now (a decoder of frame threads once the reads run in order), in turn.

Figures
-------
read_in_order
    Per round: frames per second (wall) and CPU seconds (all threads) of each way, the ratio
    of their wall times (before over now: above 1 is faster now), and the sha256 of the frames
    each read, which must be equal (the frames are bit-identical). Only ratios within a round
    mean anything on a loaded machine; the load average is in each line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

from ecoseg.io import videofile
from ecoseg.io.video import open_video


def make_clip(path: Path, frames: int, gop: int, width=3840, height=2160) -> Path:
    """A textured clip with motion and noise (a keyframe every ``gop`` frames)."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(base, 16, axis=0), 16, axis=1)[:height, :width] // 2
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"preset": "veryfast", "crf": "20"}
        for i in range(frames):
            img = np.roll(texture, (i * 4, i * 6), axis=(0, 1))
            img = img + rng.integers(0, 8, (height, width, 1), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def read_all(clip: Path, play_after: int | None) -> dict:
    """Every frame of ``clip`` by index, in order, with ``PLAY_AFTER = play_after``."""
    kept = videofile.PLAY_AFTER
    videofile.PLAY_AFTER = play_after
    try:
        with open_video(clip) as reader:
            digest = hashlib.sha256()
            wall, cpu = time.perf_counter(), time.process_time()
            for i in range(len(reader)):
                digest.update(np.ascontiguousarray(reader.read(i).image).data)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            n = len(reader)
    finally:
        videofile.PLAY_AFTER = kept
    return {"fps": round(n / wall, 1), "wall_s": wall, "cpu_s": round(cpu, 2),
            "frames_sha256": digest.hexdigest()[:16]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, help="a video to read (default: write a 4K clip)")
    parser.add_argument("--frames", type=int, default=60, help="frames of the clip written")
    parser.add_argument("--gop", type=int, default=30, help="keyframe interval of the clip")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (before, now in turn)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ecoseg-in-order-bench-") as tmp:
        clip = args.clip or make_clip(Path(tmp) / "clip.mp4", args.frames, args.gop)
        with av.open(str(clip)) as c:
            ctx = c.streams.video[0].codec_context
            size, codec = f"{ctx.width}x{ctx.height}", ctx.name
        for r in range(args.rounds):
            before = read_all(clip, None)
            now = read_all(clip, videofile.PLAY_AFTER)
            record = {"benchmark": "read_in_order", "size": size, "codec": codec,
                      "gop": None if args.clip else args.gop, "round": r,
                      "cpus": os.cpu_count(), "play_after": videofile.PLAY_AFTER,
                      "play_threads": min(videofile.PLAY_THREADS, os.cpu_count() or 1)}  # fmt: skip
            for name, got in (("before", before), ("now", now)):
                record.update({f"{name}_{k}": v for k, v in got.items() if k != "wall_s"})
            record["wall_ratio_before_now"] = round(before["wall_s"] / now["wall_s"], 3)
            record["load_avg"] = round(os.getloadavg()[0], 2)
            print(json.dumps(record))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
