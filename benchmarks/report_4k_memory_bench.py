"""Host memory of measuring and reporting a 4K mask store: one JSON line per measured figure.

Run from the repository root::

    PYTHONPATH=. python benchmarks/report_4k_memory_bench.py
    PYTHONPATH=. python benchmarks/report_4k_memory_bench.py --frames 300 --store /tmp/s4k.zarr
    PYTHONPATH=. python benchmarks/report_4k_memory_bench.py --steps measure --roi polygon

A synthetic 3840x2160 store (``--frames`` frames, 4 a chunk as ``ecoseg segment`` writes them,
``--objects`` ellipses of 60 to 420 px moving across the frame, two of them large colonies that
stay) is made once; then each step runs in a fresh child process, so one's imports and caches
do not count in another's peak. ``--roi polygon`` measures with a region of interest given as
a polygon (:data:`ROI_POLYGON`, five vertices over most of the frame), as
``ecoseg measure --roi`` takes one.

Figures
-------
report_4k_memory
    For ``measure`` (``ecoseg.measure(store)``) and ``report`` (``ecoseg.report(store, page)``):
    peak RSS of the child (``VmHWM``) and its RSS after the imports, before the step (``VmRSS``),
    in MB; the peak of the Python allocations the step made (``tracemalloc``), in MB; the CPU
    seconds of the step (user + system, all threads; tracemalloc slows it); the sha256 of the
    tables ``measure`` returns (``measure`` only), so a change of the code can be checked to
    give the same numbers; and (``report`` only) the sha256 of the page with the folder it was
    written in taken out.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

H, W = 2160, 3840
#: The ``--roi polygon`` region: (x, y) vertices over most of the frame (some fractional).
ROI_POLYGON = [(200, 150), (3600.5, 100), (3700, 2000.25), (1900, 2100), (150, 1900)]


def make_store(path: Path, frames: int, objects: int) -> None:
    """A finished 4K store of moving ellipses (two large colonies that stay)."""
    from ecoseg.store import MaskStore

    rng = np.random.default_rng(7)
    radii = rng.integers(30, 130, size=(objects, 2))
    radii[:2] = [[420, 260], [300, 380]]  # colonies
    y0 = rng.integers(300, H - 300, size=objects)
    x0 = rng.integers(300, W - 300, size=objects)
    speed = rng.integers(-14, 15, size=(objects, 2))
    speed[:2] = 0
    classes = ["coral", "sponge"] + [
        ("parrotfish", "wrasse", "grouper")[k % 3] for k in range(2, objects)
    ]
    store = MaskStore.create(
        path,
        height=H,
        width=W,
        chunk_frames=4,
        objects=[{"id": k + 1, "class": c} for k, c in enumerate(classes)],
        calibration={"mm_per_px": 0.5, "method": "synthetic"},
        overwrite=True,
    )
    yy, xx = np.ogrid[:H, :W]
    for start in range(0, frames, 4):
        n = min(4, frames - start)
        labels = np.zeros((n, H, W), np.uint32)
        for i in range(n):
            t = start + i
            for k in range(objects):
                cy = int(y0[k] + speed[k, 0] * t) % H
                cx = int(x0[k] + speed[k, 1] * t) % W
                ry, rx = int(radii[k, 0]), int(radii[k, 1])
                sy, sx = slice(max(cy - ry, 0), cy + ry + 1), slice(max(cx - rx, 0), cx + rx + 1)
                inside = ((yy[sy] - cy) / ry) ** 2 + ((xx[:, sx] - cx) / rx) ** 2 <= 1
                labels[i, sy, sx][inside] = k + 1
        scores = np.where(np.isin(np.arange(1, objects + 1), labels), 0.9, 0.0)
        scores = np.repeat(scores[None].astype(np.float32), n, axis=0)
        store.append(labels, (start + np.arange(n)) / 30.0, scores=scores)
    store.mark_complete()
    store.close()


def _vm(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child(step: str, store: str, out: str, roi: str = "none") -> None:
    """One step in this (fresh) process; prints its figures as one JSON line."""
    import tracemalloc
    import warnings

    import ecoseg
    import ecoseg.report  # noqa: F401 - imports out of the step's figures
    from ecoseg.measure import measure

    warnings.simplefilter("ignore")
    rss_before = _vm("VmRSS")
    cpu = os.times()
    tracemalloc.start()
    page = Path(out) / "report.html"
    if step == "measure":
        tables = measure(store, roi=ROI_POLYGON if roi == "polygon" else None)
    else:
        ecoseg.report(store, page, overwrite=True)
        tables = None
    python_peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    done = os.times()
    line = {
        "step": step,
        **({"roi": roi} if step == "measure" else {}),
        "peak_rss_mb": round(_vm("VmHWM"), 1),
        "rss_before_mb": round(rss_before, 1),
        "python_peak_mb": round(python_peak, 1),
        "cpu_s": round(done.user - cpu.user + done.system - cpu.system, 1),
    }
    if tables is None:
        text = page.read_text().replace(str(Path(out).resolve()), "OUT").replace(out, "OUT")
        line["page_sha256"] = hashlib.sha256(text.encode()).hexdigest()
    if tables is not None:
        h = hashlib.sha256()
        for name in sorted(tables):
            h.update(tables[name].to_csv(index=False).encode())
        line["tables_sha256"] = h.hexdigest()
    print(json.dumps(line))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--objects", type=int, default=14)
    ap.add_argument("--store", default=None, help="keep the store here (made when missing)")
    ap.add_argument("--steps", nargs="+", default=["measure", "report"])
    ap.add_argument("--roi", choices=("none", "polygon"), default="none", help="measure's ROI")
    ap.add_argument(
        "--child", nargs=4, metavar=("STEP", "STORE", "OUT", "ROI"), help=argparse.SUPPRESS
    )
    args = ap.parse_args(argv)
    if args.child:
        child(*args.child)
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(args.store) if args.store else Path(tmp) / "s4k.zarr"
        made = f"{W}x{H} synthetic, {args.frames} frames, {args.objects} objects"
        if not store.exists():
            make_store(store, args.frames, args.objects)
        elif args.store:
            made = f"given: {store.name}"  # not made here: the options do not describe it
        for step in args.steps:
            done = subprocess.run(
                [sys.executable, __file__, "--child", step, str(store), tmp, args.roi],
                check=True,
                capture_output=True,
                text=True,
            )
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                json.dumps(
                    {
                        "benchmark": "report_4k_memory",
                        "store": made,
                        **figures,
                    }
                )
            )


if __name__ == "__main__":
    main()
