"""Regenerate the bundled sample ``data/sample`` (video.mp4 + truth.zarr).

Run from the repository root::

    python data/make_sample.py            # refuses to replace an existing sample
    python data/make_sample.py --overwrite

It prints the class table (objects and MaxN per class in the truth) quoted in data/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import ecoseg

PARAMS = dict(
    seed=8,
    frames=150,
    size=(640, 360),
    fps=30.0,
    camera="static",
    n_fish=6,
    n_invertebrates=2,
)


def main(argv: list[str]) -> int:
    out = Path(__file__).resolve().parent / "sample"
    result = ecoseg.synth(out, overwrite="--overwrite" in argv, **PARAMS)
    counts = result.objects["class"].value_counts()
    print(f"wrote {result.video} and {result.truth}; {result.mm_per_px:g} mm/px")
    print("| class | objects | MaxN |")
    print("|---|---|---|")
    for cls in dict.fromkeys(result.objects["class"]):
        print(f"| {cls} | {counts[cls]} | {result.maxn[cls]} |")
    print(result.objects.to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
