"""What finding old unchecked splits adds to a report: one JSON line per measured figure.

Run from the repository root::

    PYTHONPATH=. python benchmarks/unchecked_splits_bench.py
    PYTHONPATH=. python benchmarks/unchecked_splits_bench.py --frames 600 --repeats 5

A synthetic clip's truth store (640x360) with one split in its edit log: the report then
reads the labels once more (:func:`ecoseg.species.review.unchecked_splits`) to judge whether
the split was made before splits were checked. A store with no split in its log costs nothing.

Figures
-------
report_unchecked_splits
    CPU time (``time.process_time``) of ``unchecked_splits`` and of ``ecoseg.measure`` on the
    same store, alternating in one process, best of ``--repeats``; their ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> None:
    import ecoseg
    from ecoseg.species import Edit, apply_edits
    from ecoseg.species.review import unchecked_splits
    from ecoseg.store import MaskStore

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        clip = ecoseg.synth(Path(tmp) / "clip", frames=args.frames, size=(640, 360), seed=1)
        store = Path(tmp) / "s.zarr"
        shutil.copytree(clip.truth, store)
        with MaskStore.open(store) as s:
            labels = s.read_labels()
            ids = s.object_ids.tolist()
        seen = {i: np.flatnonzero((labels == i).any(axis=(1, 2))) for i in ids}
        track = max(ids, key=lambda i: len(seen[i]))
        apply_edits(store, [Edit("split", (track,), frame=int(seen[track][len(seen[track]) // 2]))])
        best = {"unchecked_splits": np.inf, "measure": np.inf}
        for _ in range(args.repeats):
            t0 = time.process_time()
            found = unchecked_splits(store)
            t1 = time.process_time()
            ecoseg.measure(store)
            t2 = time.process_time()
            best["unchecked_splits"] = min(best["unchecked_splits"], t1 - t0)
            best["measure"] = min(best["measure"], t2 - t1)
    print(
        json.dumps(
            {
                "figure": "report_unchecked_splits",
                "frames": args.frames,
                "size": "640x360",
                "found": found,
                "unchecked_splits_cpu_s": round(best["unchecked_splits"], 3),
                "measure_cpu_s": round(best["measure"], 3),
                "ratio": round(best["unchecked_splits"] / best["measure"], 2),
                "repeats": args.repeats,
            }
        )
    )


if __name__ == "__main__":
    main()
