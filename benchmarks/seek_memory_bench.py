"""Memory of reading a few scattered frames of a 4K video: one JSON line per measured figure.

Run from the repository root::

    PYTHONPATH=. python benchmarks/seek_memory_bench.py
    PYTHONPATH=. python benchmarks/seek_memory_bench.py --codec libx265 --threads AUTO,SLICE
    PYTHONPATH=. python benchmarks/seek_memory_bench.py --clip reef4k.mp4 --reads 900,10,450

A 3840x2160 clip (``--frames`` frames, a keyframe every ``--gop``, textured and moving, so
decoding does real work) is written once with PyAV (``--codec``: libx264 or libx265) into a
temporary folder, or ``--clip`` names one. Each run is a fresh child process that opens it with
:func:`ecoseg.open_video` and reads the frames ``--reads`` by index (``VideoReader.read``: seek
to the keyframe before, decode forward), as the report's still and sample frames and napari's
frames are read. ``--threads`` names the seeking decoder's FFmpeg threading for each run
(``videofile.SEEK_THREADS``; ``reader``: the reader's own, what ecoseg does; ``FRAME:16``: frame
threads, 16 of them, as FFmpeg starts on a machine of 16 cores or more); the runs are
interleaved, ``--repeats`` rounds.

Figures
-------
seek_memory
    Per run: peak RSS of the child in MB (its ``VmHWM``: a child's ``ru_maxrss`` counts the
    parent's peak, which writing the clip sets), its RSS after the imports and
    ``open_video`` (the packet index), before the reads, after them with the reader still
    open, and after it closed (``closed_rss_mb``: what the process kept); wall and CPU
    seconds (all threads) of the reads; and the sha256 of the frames read, which must be the
    same for every threading (the frames are bit-identical).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import av
import numpy as np

CHILD = r"""
import hashlib, json, os, sys, time
import numpy as np
from ecoseg.io import videofile
from ecoseg.io.video import open_video

clip, threads, reads = sys.argv[1], sys.argv[2], [int(i) for i in sys.argv[3].split(",")]
threads, _, count = threads.partition(":")
if threads != "reader":
    videofile.SEEK_THREADS = threads
if count:  # FFmpeg's thread count (0: cores + 1, at most 16), as a machine of more cores has
    decoder_open = videofile._Decoder._open

    def _open(self):
        decoder_open(self)
        self._stream.codec_context.thread_count = int(count)

    videofile._Decoder._open = _open

def status(key):  # VmRSS (now) or VmHWM (peak) of this process, MB
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith(key)) / 1024

reader = open_video(clip)
opened = status("VmRSS")
digest = hashlib.sha256()
wall, cpu = time.perf_counter(), time.process_time()
for i in reads:
    digest.update(np.ascontiguousarray(reader.read(i).image).data)  # no copy
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
after = status("VmRSS")
reader.close()
print(json.dumps({"peak_rss_mb": round(status("VmHWM"), 1), "open_rss_mb": round(opened, 1),
                  "after_rss_mb": round(after, 1), "closed_rss_mb": round(status("VmRSS"), 1),
                  "wall_s": round(wall, 2), "cpu_s": round(cpu, 2),
                  "frames_sha256": digest.hexdigest()[:16]}))
"""


def make_clip(path: Path, codec: str, frames: int, gop: int, width=3840, height=2160) -> Path:
    """A textured clip with motion and noise (a keyframe every ``gop`` frames)."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height // 16 + 1, width // 16 + 1, 3), dtype=np.uint8)
    texture = np.repeat(np.repeat(base, 16, axis=0), 16, axis=1)[:height, :width] // 2
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=30)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.options = {"preset": "ultrafast", "crf": "28"}
        if codec == "libx265":
            stream.options = {**stream.options, "x265-params": f"keyint={gop}:log-level=error"}
        for i in range(frames):
            img = np.roll(texture, (i * 4, i * 6), axis=(0, 1))
            img = img + rng.integers(0, 8, (height, width, 1), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def run(clip: Path, threads: str, reads: str) -> dict:
    """One child: open ``clip``, read ``reads``; its figures and peak RSS."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(clip), threads, reads],
        stdout=subprocess.PIPE,
        text=True,
    )
    out = proc.communicate()[0]
    if proc.returncode != 0:
        raise RuntimeError(f"child failed ({threads}): {out}")
    return json.loads(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, help="a video to read (default: write a 4K clip)")
    parser.add_argument("--codec", default="libx264", help="codec of the clip written")
    parser.add_argument("--frames", type=int, default=60, help="frames of the clip written")
    parser.add_argument("--gop", type=int, default=30, help="keyframe interval of the clip")
    parser.add_argument("--reads", default="30,5,45,20", help="frame indices read, in order")
    parser.add_argument(
        "--threads", default="reader", help="comma-separated: reader, AUTO, SLICE:16, ..."
    )
    parser.add_argument("--repeats", type=int, default=2, help="rounds of the runs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ecoseg-seek-bench-") as tmp:
        clip = args.clip or make_clip(Path(tmp) / "clip.mp4", args.codec, args.frames, args.gop)
        with av.open(str(clip)) as c:
            ctx = c.streams.video[0].codec_context
            size, codec = f"{ctx.width}x{ctx.height}", ctx.name
        for _ in range(args.repeats):
            for threads in args.threads.split(","):
                record = {"benchmark": "seek_memory", "size": size, "codec": codec}
                record.update(threads=threads, reads=args.reads, cpus=os.cpu_count())
                record.update(run(clip, threads, args.reads))
                print(json.dumps(record))
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
