"""Regions throughput on 1080p label frames against a per-frame regionprops_table loop.

Prints one JSON line per figure:

- ``regions-array``: :func:`ecoseg.measure.region_table` on the whole stack in chunks of
  ``--chunk`` frames vs ``skimage.measure.regionprops_table`` frame by frame with the same
  properties; ``max_abs_diff`` per property shows the values agree;
- ``regions-scan``: the store scan's configuration (``region_stats`` with a reused scratch
  buffer) on the same arrays;
- ``regions-store``: both read the labels from the same zarr mask store first
  (``ecoseg.measure.regions.regions`` vs read + regionprops loop).

Usage: ``PYTHONPATH=. python benchmarks/measure_bench.py [--frames 30] [--objects 15]``
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from skimage.draw import ellipse
from skimage.measure import regionprops_table

from ecoseg.measure import region_table
from ecoseg.measure.regions import region_stats, regions
from ecoseg.store import MaskStore

PROPS = (
    "label",
    "area",
    "centroid",
    "bbox",
    "perimeter",
    "equivalent_diameter_area",
    "axis_major_length",
    "axis_minor_length",
    "orientation",
    "eccentricity",
    "solidity",
)
COLUMNS = {
    "object_id": "label",
    "area_px": "area",
    "centroid_y_px": "centroid-0",
    "centroid_x_px": "centroid-1",
    "bbox_y0": "bbox-0",
    "bbox_x0": "bbox-1",
    "bbox_y1": "bbox-2",
    "bbox_x1": "bbox-3",
    "perimeter_px": "perimeter",
    "equivalent_diameter_px": "equivalent_diameter_area",
    "major_axis_px": "axis_major_length",
    "minor_axis_px": "axis_minor_length",
    "orientation_rad": "orientation",
    "eccentricity": "eccentricity",
    "solidity": "solidity",
}


def make_frames(n, k, size=(1080, 1920), holes=0.002, seed=0) -> np.ndarray:
    """Lobed blobs (three overlapping rotated ellipses each) drifting from frame to frame,
    some touching or overlapping others, with a fraction ``holes`` of pixels missing."""
    rng = np.random.default_rng(seed)
    h, w = size
    out = np.zeros((n, h, w), np.uint32)
    centres = rng.uniform((100, 100), (h - 100, w - 100), size=(k, 2))
    lobes = rng.uniform(-40, 40, size=(k, 3, 2))
    axes = rng.uniform(12, 70, size=(k, 3, 2))
    for f in range(n):
        centres += rng.normal(0, 6, size=centres.shape)
        for i in range(k):
            for j in range(3):
                cy, cx = centres[i] + lobes[i, j]
                rr, cc = ellipse(
                    cy, cx, *axes[i, j], shape=(h, w), rotation=(i + j + f * 0.05) % np.pi
                )
                out[f, rr, cc] = i + 1
    if holes:
        out[rng.random(out.shape) < holes] = 0
    return out


def baseline(frames) -> pd.DataFrame:
    tables = []
    for f, lab in enumerate(frames):
        t = pd.DataFrame(regionprops_table(lab, properties=PROPS))
        t.insert(0, "frame", f)
        tables.append(t)
    return pd.concat(tables, ignore_index=True)


def ours_table(frames, chunk) -> pd.DataFrame:
    parts = [
        region_table(frames[s : s + chunk], frame_offset=s) for s in range(0, len(frames), chunk)
    ]
    return pd.concat(parts, ignore_index=True)


def ours_scan(frames, chunk) -> None:
    work = np.empty(chunk * frames.shape[1] * frames.shape[2], bool)
    for s in range(0, len(frames), chunk):
        region_stats(frames[s : s + chunk], work=work)


def best_of(fn, repeat) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def diffs(ours: pd.DataFrame, ref: pd.DataFrame) -> dict[str, float]:
    if len(ours) != len(ref) or not (ours["frame"].to_numpy() == ref["frame"].to_numpy()).all():
        return {"rows": float("inf")}
    return {
        col: float(np.max(np.abs(ours[col].to_numpy(float) - ref[sk].to_numpy(float))))
        for col, sk in COLUMNS.items()
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=30)
    p.add_argument("--objects", type=int, default=15)
    p.add_argument("--chunk", type=int, default=4, help="frames per chunk (store default 4)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--holes", type=float, default=0.002, help="fraction of missing pixels")
    args = p.parse_args(argv)
    frames = make_frames(args.frames, args.objects, holes=args.holes)
    n, h, w = frames.shape
    common = {
        "frames": n,
        "size": f"{w}x{h}",
        "objects_per_frame": args.objects,
        "foreground": round(float((frames > 0).mean()), 3),
        "holes": args.holes,
    }

    t_ref = best_of(lambda: baseline(frames), max(1, args.repeat - 1))
    ref = baseline(frames)
    t_tab = best_of(lambda: ours_table(frames, args.chunk), args.repeat)
    table = ours_table(frames, args.chunk)
    print(
        json.dumps(
            {
                "bench": "regions-array",
                **common,
                "chunk": args.chunk,
                "regionprops_s": round(t_ref, 4),
                "ecoseg_s": round(t_tab, 4),
                "ecoseg_ms_per_frame": round(1e3 * t_tab / n, 3),
                "ratio": round(t_ref / t_tab, 2),
                "rows": len(table),
                "max_abs_diff": diffs(table, ref),
            }
        ),
        flush=True,
    )
    t_scan = best_of(lambda: ours_scan(frames, args.chunk), args.repeat)
    print(
        json.dumps(
            {
                "bench": "regions-scan",
                **common,
                "chunk": args.chunk,
                "regionprops_s": round(t_ref, 4),
                "ecoseg_s": round(t_scan, 4),
                "ecoseg_ms_per_frame": round(1e3 * t_scan / n, 3),
                "ratio": round(t_ref / t_scan, 2),
            }
        ),
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.zarr"
        store = MaskStore.create(
            path,
            height=h,
            width=w,
            chunk_frames=args.chunk,
            objects=[{"id": i + 1, "class": "blob"} for i in range(args.objects)],
        )
        store.append(frames, np.arange(n) / 30)
        store.close()

        def ref_store():
            s = MaskStore.open(path)
            baseline(s.read_labels(0, s.n_frames))

        t_ref_store = best_of(ref_store, 1)
        t_store = best_of(lambda: regions(path), args.repeat)
        print(
            json.dumps(
                {
                    "bench": "regions-store",
                    **common,
                    "chunk": args.chunk,
                    "regionprops_s": round(t_ref_store, 4),
                    "ecoseg_s": round(t_store, 4),
                    "ratio": round(t_ref_store / t_store, 2),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
