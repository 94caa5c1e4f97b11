"""What the sha256 cache saves a report: one JSON line per measured figure.

Run from the repository root::

    PYTHONPATH=. python benchmarks/hash_cache_bench.py                  # 32 frames, ~0.11 GB
    PYTHONPATH=. python benchmarks/hash_cache_bench.py --frames 64 --repeats 5

One 1920x1080 mpeg4 file of random noise (:func:`video_check_bench.make`) and three stores of
empty masks that record it (a campaign whose stores share a video, or one store reported three
times). ``ecoseg.report`` over the three stores, in one process, alternating three ways:

``uncached``
    every check reads the video (the cache's size floor raised past the file: what ecoseg did
    before the cache): three reads per report.
``memo``
    the cache in the process only (``ECOSEG_HASH_CACHE`` set empty, the process memo emptied
    before each report, as a fresh process starts): one read per report.
``persisted``
    the cache file warm from an earlier run, the process memo emptied before each report:
    no read.

Figures
-------
report_three_stores
    CPU time of all threads (``time.process_time``) of the report per way, best and median of
    ``--repeats``, and ``uncached`` over each (``ratio_*``).
check_three_stores
    The same for the check alone (:func:`ecoseg.report.read.open_reader` for the three stores).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    from video_check_bench import make

    import ecoseg
    import ecoseg._hashing as hashing
    from ecoseg.report.read import open_reader, read_video

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        video, store = make(root, args.frames)
        stores = [root / f"{name}.zarr" for name in "abc"]
        for s in stores:
            shutil.copytree(store, s)
        shutil.rmtree(store)
        gb = video.stat().st_size / 1e9
        settled = os.stat(video).st_ctime_ns + hashing.SETTLE_NS
        time.sleep(max(0.0, (settled - time.time_ns()) / 1e9 + 0.1))  # cacheable from now
        floor, cache_file = hashing.CACHE_MIN_BYTES, str(root / "sha256.json")
        os.environ["ECOSEG_HASH_CACHE"] = cache_file
        hashing.cached_sha256_file(video)  # the persisted way's earlier run

        def way(name: str) -> None:
            hashing.forget_hashes()
            hashing.CACHE_MIN_BYTES = sys.maxsize if name == "uncached" else floor
            os.environ["ECOSEG_HASH_CACHE"] = "" if name == "memo" else cache_file

        def report() -> None:
            ecoseg.report([str(s) for s in stores], root / "report.html", overwrite=True)

        def check() -> None:
            for s in stores:
                reader, why = open_reader(read_video(s.stem, str(s), s.name))
                assert why is None, why
                reader.close()

        ways = ("uncached", "memo", "persisted")
        for figure, f in (("report_three_stores", report), ("check_three_stores", check)):
            cpu: dict[str, list[float]] = {w: [] for w in ways}
            for _ in range(args.repeats):
                for w in ways:
                    way(w)
                    c0 = time.process_time()
                    f()
                    cpu[w].append(time.process_time() - c0)
            line = {"figure": figure, "gb": round(gb, 3), "frames": args.frames, "stores": 3}
            line["repeats"] = args.repeats
            for w in ways:
                line[f"cpu_{w}_best_s"] = round(min(cpu[w]), 3)
                line[f"cpu_{w}_median_s"] = round(statistics.median(cpu[w]), 3)
            for w in ways[1:]:
                line[f"ratio_uncached_over_{w}"] = round(min(cpu["uncached"]) / min(cpu[w]), 2)
            print(json.dumps(line), flush=True)
        hashing.CACHE_MIN_BYTES = floor


if __name__ == "__main__":
    main()
