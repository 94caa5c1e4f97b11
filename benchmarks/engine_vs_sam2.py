"""ecoseg's streaming SAM 2 engine against the official ``sam2`` video predictor.

Both run in fresh subprocesses on the same random weights (the official model's state dict,
loaded strictly into ours), the same clip (a folder of JPEG frames, moving ellipses) and the
same clicks (one per object on frame 0). The official run is ``init_state`` (it loads every
frame), ``add_new_points_or_box`` per object and one ``propagate_in_video``; ours is
:func:`ecoseg.engine.propagate` reading the same folder (masks copied to the host as logits).
Prints one JSON line per run (fps, peak host RSS, peak GPU memory on CUDA) and one per
comparison (fps ratio ecoseg / official, and each engine's time for N objects over 1 object).

On CUDA both run under bf16 autocast (as the official examples do; ``--fp32`` turns it off)
and ecoseg may add ``--compile``. Without a GPU it runs on the CPU at a small image size and
few frames (defaults below) so that it is always exercised; CPU figures say nothing about GPU
speed.

Usage: ``python benchmarks/engine_vs_sam2.py [--variants sam2.1-tiny sam2.1-large]
[--image-size 1024] [--frames 200] [--objects 1 10] [--compile] [--fp32]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
W, H = 640, 480


def make_clip(folder: Path, n: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:H, 0:W]
    bg = rng.random((H, W, 3)) * 60 + 40 + 30 * np.sin(xx / 9.0)[..., None]
    for t in range(n):
        img = bg.copy()
        for k in range(10):
            cx, cy = 60 + 55 * k + 2 * t, 120 + 25 * (k % 4) + t
            img[((xx - cx) / 22) ** 2 + ((yy - cy) / 15) ** 2 < 1] = (200, 20 * k, 40)
        Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(
            folder / f"{t:05d}.jpg", quality=95
        )


def clicks(n_objects: int) -> list[tuple[int, np.ndarray]]:
    return [(k + 1, np.array([[60.0 + 55 * k, 120.0 + 25 * (k % 4)]])) for k in range(n_objects)]


def _peaks(device: str) -> dict:
    out = {"peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if device == "cuda":
        import torch

        out["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    return out


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def run_official(a, folder: str, weights: str) -> dict:
    import contextlib

    import torch
    from sam2.build_sam import build_sam2_video_predictor

    from ecoseg.sam2.variants import get_variant

    cfg = get_variant(a.variant, a.image_size).official_config
    model = build_sam2_video_predictor(
        cfg, None, device=a.device, hydra_overrides_extra=[f"++model.image_size={a.image_size}"]
    )
    model.load_state_dict(torch.load(weights, weights_only=True), strict=True)
    model.eval()
    amp = (
        torch.autocast("cuda", dtype=torch.bfloat16)
        if a.device == "cuda" and not a.fp32
        else contextlib.nullcontext()
    )
    _sync(a.device)
    t0 = time.perf_counter()
    with torch.inference_mode(), amp:
        state = model.init_state(video_path=folder)
        for oid, pts in clicks(a.objects):
            model.add_new_points_or_box(state, 0, oid, points=pts, labels=np.array([1]))
        n = 0
        for _ in model.propagate_in_video(state):
            n += 1
    _sync(a.device)
    return {"frames": n, "seconds": time.perf_counter() - t0, **_peaks(a.device)}


def run_ecoseg(a, folder: str, weights: str) -> dict:
    import torch

    from ecoseg.engine.session import propagate
    from ecoseg.io.video import open_video
    from ecoseg.prompts import FramePrompt, ObjectPrompts, Prompts
    from ecoseg.sam2.model import SAM2Model

    model = SAM2Model(a.variant, image_size=a.image_size)
    model.load_state_dict(torch.load(weights, weights_only=True), strict=True)
    model = model.to(a.device).eval()
    prompts = Prompts(
        tuple(
            ObjectPrompts(oid, "x", (FramePrompt(0, pts, np.array([1])),))
            for oid, pts in clicks(a.objects)
        )
    )
    _sync(a.device)
    t0 = time.perf_counter()
    n = 0
    for _ in propagate(
        model,
        open_video(folder),
        prompts,
        autocast=None if not a.fp32 else False,
        compile=a.compile,
    ):
        n += 1
    _sync(a.device)
    return {"frames": n, "seconds": time.perf_counter() - t0, **_peaks(a.device)}


def main(argv=None) -> None:
    import torch

    cuda = torch.cuda.is_available()
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--device", default="cuda" if cuda else "cpu")
    p.add_argument(
        "--variants",
        nargs="+",
        default=["sam2.1-tiny", "sam2.1-large"] if cuda else ["sam2.1-tiny"],
    )
    p.add_argument("--image-size", type=int, default=1024 if cuda else 256)
    p.add_argument("--frames", type=int, default=200 if cuda else 6)
    p.add_argument("--objects", type=int, nargs="+", default=[1, 10])
    p.add_argument("--compile", action="store_true", help="torch.compile ecoseg (CUDA)")
    p.add_argument("--fp32", action="store_true", help="no bf16 autocast on CUDA")
    p.add_argument(
        "--child", nargs=3, metavar=("ENGINE", "FOLDER", "WEIGHTS"), help=argparse.SUPPRESS
    )
    p.add_argument("--variant", help=argparse.SUPPRESS)
    p.add_argument("--n-objects", dest="objects_one", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.child:
        import warnings

        warnings.filterwarnings("ignore")
        a.objects = a.objects_one
        fn = run_ecoseg if a.child[0] == "ecoseg" else run_official
        print(json.dumps(fn(a, a.child[1], a.child[2])))
        return

    device_name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clip"
        folder.mkdir()
        make_clip(folder, a.frames)
        for variant in a.variants:
            sys.path.insert(0, str(ROOT / "tests" / "sam2"))
            import sam2_oracle

            from ecoseg.sam2.variants import get_variant

            torch.manual_seed(0)
            official = sam2_oracle.build_official(
                get_variant(variant, a.image_size).official_config, a.image_size
            )
            weights = Path(tmp) / f"{variant}.pt"
            torch.save(official.state_dict(), weights)
            del official
            seconds = {}
            for n_obj in a.objects:
                for engine in ("official", "ecoseg"):
                    cmd = [sys.executable, __file__, "--child", engine, str(folder), str(weights)]
                    cmd += ["--variant", variant, "--n-objects", str(n_obj)]
                    cmd += ["--device", a.device, "--image-size", str(a.image_size)]
                    cmd += ["--compile"] * a.compile + ["--fp32"] * a.fp32
                    res = subprocess.run(cmd, check=True, capture_output=True, text=True)
                    r = json.loads(res.stdout.strip().splitlines()[-1])
                    seconds[(engine, n_obj)] = r["seconds"]
                    line = {
                        "benchmark": "engine_vs_sam2",
                        "engine": engine,
                        "device": device_name,
                        "variant": variant,
                        "image_size": a.image_size,
                        "objects": n_obj,
                        "frames": r["frames"],
                        "fps": round(r["frames"] / r["seconds"], 3),
                        "peak_rss_mb": r["peak_rss_mb"],
                    }
                    if "peak_gpu_mb" in r:
                        line["peak_gpu_mb"] = r["peak_gpu_mb"]
                    line["bf16"] = a.device == "cuda" and not a.fp32
                    line["compile"] = bool(a.compile and engine == "ecoseg")
                    print(json.dumps(line), flush=True)
                ratio = seconds[("official", n_obj)] / seconds[("ecoseg", n_obj)]
                print(
                    json.dumps(
                        {
                            "benchmark": "engine_vs_sam2",
                            "device": device_name,
                            "variant": variant,
                            "objects": n_obj,
                            "fps_ratio_ecoseg_over_official": round(ratio, 3),
                            "goal_ratio_ge_1_5_on_gpu": ratio >= 1.5
                            if a.device == "cuda"
                            else None,
                        }
                    ),
                    flush=True,
                )
            if len(a.objects) > 1:
                lo, hi = min(a.objects), max(a.objects)
                for engine in ("official", "ecoseg"):
                    scale = seconds[(engine, hi)] / seconds[(engine, lo)]
                    print(
                        json.dumps(
                            {
                                "benchmark": "engine_vs_sam2",
                                "device": device_name,
                                "variant": variant,
                                "engine": engine,
                                f"time_{hi}_objects_over_{lo}": round(scale, 3),
                            }
                        ),
                        flush=True,
                    )


if __name__ == "__main__":
    main()
