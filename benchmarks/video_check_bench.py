"""Cost of checking that a store's video is its video: one JSON line per measured figure.

Run from the repository root::

    PYTHONPATH=. python benchmarks/video_check_bench.py              # 240 frames of 1080p noise
    PYTHONPATH=. python benchmarks/video_check_bench.py --frames 120 --repeats 3

A 1920x1080 mpeg4 file of random noise at the highest quality (0.83 GB for 240 frames; noise
does not compress, so it is large for its length) and a store of empty masks that records it.

The sha256 cache is off here (every check reads the file), so the figures are the cost of a
check that reads the video; ``hash_cache_bench.py`` measures what the cache saves.

Figures
-------
report_still_check
    Opening the video for the report's stills as before (open it, compare size and count) and
    as now (:func:`ecoseg.report.read.open_reader`: also the SHA-256), alternating in one
    process; CPU time of all threads (``time.process_time``), best of ``--repeats``.
napari_open_check
    ``read_store`` of the napari reader with the background check off and on, alternating:
    wall time until the layers are returned, wall time until the check thread ends, and CPU
    time of all threads; best of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def make(root: Path, frames: int) -> tuple[Path, Path]:
    """The noise video and a store of empty masks whose provenance records it."""
    import av

    from ecoseg._hashing import sha256_file
    from ecoseg.io.video import open_video
    from ecoseg.store import MaskStore

    video = root / "big.mp4"
    out = av.open(str(video), "w")
    stream = out.add_stream("mpeg4", rate=30)
    stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
    stream.codec_context.qmin = stream.codec_context.qmax = 1
    stream.bit_rate = 2_000_000_000
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, 255, (1080, 1920, 3), np.uint8) for _ in range(8)]
    for i in range(frames):
        for packet in stream.encode(av.VideoFrame.from_ndarray(noise[i % 8], format="rgb24")):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)
    out.close()
    made = {"path": "big.mp4", "size": [1920, 1080], "frames": frames, "fps": 30.0}
    made["sha256"] = sha256_file(video)
    store = MaskStore.create(root / "big.zarr", height=1080, width=1920, provenance={"video": made})
    times = open_video(video).times
    for i in range(0, frames, 8):
        n = len(times[i : i + 8])
        store.append(np.zeros((n, 1080, 1920), np.uint32), times[i : i + 8])
    store.mark_complete()
    store.close()
    return video, root / "big.zarr"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=240)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import ecoseg._hashing as hashing
    import ecoseg.napari._reader as reader_module

    # the cost of the check itself: every check reads the file (no sha256 cache; what that
    # cache saves is benchmarks/hash_cache_bench.py)
    hashing.CACHE_MIN_BYTES = sys.maxsize
    os.environ["ECOSEG_HASH_CACHE"] = ""
    from ecoseg.io.video import open_video
    from ecoseg.napari._check import THREAD_NAME
    from ecoseg.report.read import open_reader, read_video

    with tempfile.TemporaryDirectory() as tmp:
        video, store = make(Path(tmp), args.frames)
        gb = video.stat().st_size / 1e9

        def still_before() -> None:
            with open_video(video) as r:
                assert (r.width, r.height) == (1920, 1080) and len(r) >= args.frames

        def still_now() -> None:
            r, why = open_reader(read_video("big", str(store), "big.zarr"))
            assert why is None, why
            r.close()

        real = reader_module._check_found_video

        def napari(check: bool) -> tuple[float, float, float]:
            reader_module._check_found_video = real if check else (lambda layers: None)
            c0, w0 = time.process_time(), time.perf_counter()
            reader_module.read_store(str(store))
            returned = time.perf_counter() - w0
            for t in threading.enumerate():
                if t.name == THREAD_NAME:
                    t.join()
            return returned, time.perf_counter() - w0, time.process_time() - c0

        stills: dict[str, list[float]] = {"before": [], "now": []}
        opens: dict[str, list[tuple]] = {"off": [], "on": []}
        for _ in range(args.repeats):
            for key, f in (("before", still_before), ("now", still_now)):
                c0 = time.process_time()
                f()
                stills[key].append(time.process_time() - c0)
            for key in ("off", "on"):
                opens[key].append(napari(key == "on"))
        reader_module._check_found_video = real
        before, now = min(stills["before"]), min(stills["now"])
        line = {"figure": "report_still_check", "gb": round(gb, 3), "frames": args.frames}
        line.update(cpu_before_s=round(before, 3), cpu_now_s=round(now, 3))
        line.update(extra_cpu_s_per_gb=round((now - before) / gb, 3))
        print(json.dumps(line))
        off = [min(x[i] for x in opens["off"]) for i in range(3)]
        on = [min(x[i] for x in opens["on"]) for i in range(3)]
        line = {"figure": "napari_open_check", "gb": round(gb, 3), "frames": args.frames}
        line.update(returned_wall_off_s=round(off[0], 3), returned_wall_on_s=round(on[0], 3))
        line.update(check_done_wall_on_s=round(on[1], 3))
        line.update(cpu_off_s=round(off[2], 3), cpu_on_s=round(on[2], 3))
        print(json.dumps(line))


if __name__ == "__main__":
    main()
