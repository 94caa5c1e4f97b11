"""Preprocessing of a frame for SAM 2 (resize, scale, normalise): ecoseg against the official
loader's arithmetic, interleaved in one process.

The official video loader resizes with PIL's bicubic filter, divides by 255 in float64,
converts to float32 and normalises every pixel; ecoseg resizes the same way and looks the
normalised value of each 8-bit pixel up (:func:`ecoseg.engine._runtime.preprocess_frame`;
bit-identical, which this script checks on every frame). Prints one JSON line per size: the
median milliseconds per frame of both, of the resize alone, and the ratio.

Usage: ``python benchmarks/preprocess_bench.py [--sizes 256 1024] [--frames 40]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def loader_arithmetic(image: np.ndarray, size: int):
    import torch
    from PIL import Image

    from ecoseg.engine._runtime import IMAGENET_MEAN, IMAGENET_STD

    resized = np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))
    x = torch.from_numpy(resized / 255.0).permute(2, 0, 1).to(torch.float32)
    mean = torch.tensor(IMAGENET_MEAN, dtype=torch.float32)[:, None, None]
    std = torch.tensor(IMAGENET_STD, dtype=torch.float32)[:, None, None]
    return (x - mean) / std


def resize_only(image: np.ndarray, size: int):
    from PIL import Image

    return np.asarray(Image.fromarray(image).resize((size, size), Image.Resampling.BICUBIC))


def main(argv=None) -> None:
    import torch

    from ecoseg.engine._runtime import preprocess_frame

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    p.add_argument("--frames", type=int, default=40)
    p.add_argument("--height", type=int, default=480)
    p.add_argument("--width", type=int, default=640)
    a = p.parse_args(argv)
    rng = np.random.default_rng(0)
    frames = [rng.integers(0, 256, (a.height, a.width, 3), dtype=np.uint8) for _ in range(a.frames)]
    fns = {"official": loader_arithmetic, "ecoseg": preprocess_frame, "resize": resize_only}
    for size in a.sizes:
        times: dict[str, list[float]] = {k: [] for k in fns}
        for i, image in enumerate(frames):
            out = {}
            for name in list(fns)[i % 3 :] + list(fns)[: i % 3]:  # rotate the order
                t0 = time.perf_counter()
                out[name] = fns[name](image, size)
                times[name].append(time.perf_counter() - t0)
            assert torch.equal(out["ecoseg"], out["official"]), f"frame {i} differs"
        med = {k: float(np.median(v)) * 1e3 for k, v in times.items()}
        line = {"benchmark": "preprocess", "frame": [a.width, a.height], "size": size}
        line |= {f"{k}_ms": round(v, 2) for k, v in med.items()}
        line |= {"threads": torch.get_num_threads(), "identical": True}
        line["speedup"] = round(med["official"] / med["ecoseg"], 2)
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
