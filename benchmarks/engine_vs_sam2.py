"""ecoseg's streaming SAM 2 engine against the official ``sam2`` video predictor, interleaved.

Both engines run in ONE process on the same random weights (the official model's state dict,
loaded strictly into ours), the same clip (a folder of JPEG frames, moving ellipses) and the
same clicks (one per object on frame 0). Every engine configuration is a generator of frame
results; the benchmark steps them in turn, one frame each (the order rotates every frame), and
times every step. Load from other processes then hits all configurations alike, so the ratios
hold on a busy machine even where absolute times do not.

Configurations (``--configs``; default all of them):

- ``official-fp32``: ``init_state`` (it decodes and preprocesses every frame up front),
  ``add_new_points_or_box`` per object, ``propagate_in_video``. On the CPU the official
  predictor skips hole filling (its CUDA extension is missing; it warns and goes on).
- ``official-bf16``: the same under ``torch.autocast("cpu"/"cuda", torch.bfloat16)``.
- ``ecoseg-fp32``: :func:`ecoseg.engine.propagate` (exact; no hole filling: equal work).
- ``ecoseg-fp32-fill``: the same with ``fill_hole_area=8`` (the official default on CUDA).
- ``ecoseg-bf16``: ``propagate(..., autocast=True)``: what ``fast=True`` runs, but bf16 on
  every CPU (``fast`` stays fp32 on a CPU without bf16 instructions).
- ``ecoseg-bf16-compiled``: the same with ``compile=True`` (``torch.compile`` of the image
  encoder and memory attention; CUDA only: on a CPU the engine warns and runs uncompiled, so
  it is refused there). Compilation falls in its start-up and its first frames, which
  ``--warmup`` leaves out.

The official predictor's own compiled mode (``vos_optimized=True``) compiles with inductor's
``max-autotune``, whose tuning takes longer than a lent GPU's time allows; it is not a
configuration here (docs/performance.md says what that leaves unmeasured).

ecoseg decodes and preprocesses each frame while tracking (``--prefetch 0``, the default,
so that decoding happens inside its own timed step rather than in a thread that runs during
the other engines' steps); the official predictor did all of that in its start-up. So
ecoseg's steady state carries decode work the official's does not. ``--prefetch 4`` (the
engine's own default) decodes in a background thread, as ``ecoseg segment`` does: on a GPU
machine with cores to spare that is the pipeline a user runs. Each configuration's whole run
(start-up and every frame, ``total_wall_s``) is given too, and each comparison's ratio of the
two (``end_to_end_speedup_wall``): what a user waits for a clip of ``--frames`` frames.

Figures (one JSON line each):

- per configuration: ``startup_s`` (from nothing to the first frame's result: model already
  built, weights loaded), ``steady_s_per_frame`` (median over the frames after ``--warmup``)
  with its quartiles;
- per comparison (``ecoseg-fp32`` / ``official-fp32``, ``ecoseg-fp32-fill`` /
  ``official-fp32``, ``ecoseg-bf16`` / ``official-bf16``, ``ecoseg-bf16`` / ``official-fp32``):
  ``steady_speedup`` = the median over frames of (official's time / ecoseg's time) for the
  same frame, with its quartiles (the spread), and the goal flag (>= 1.5).

Usage: ``python benchmarks/engine_vs_sam2.py [--variants sam2.1-tiny] [--image-sizes 256 1024]
[--frames 24] [--objects 1 10] [--repeats 1] [--configs ...]``
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
W, H = 640, 480
CONFIGS = ("official-fp32", "official-bf16", "ecoseg-fp32", "ecoseg-fp32-fill", "ecoseg-bf16")
COMPILED = "ecoseg-bf16-compiled"
COMPARISONS = (
    ("ecoseg-fp32", "official-fp32"),
    ("ecoseg-fp32-fill", "official-fp32"),
    ("ecoseg-bf16", "official-bf16"),
    ("ecoseg-bf16", "official-fp32"),
    (COMPILED, "official-bf16"),
    (COMPILED, "official-fp32"),
)


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


def _sync(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()


def _amp(device: str, bf16: bool):
    import torch

    if bf16:
        return torch.autocast(device, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def official_steps(model, folder: str, n_obj: int, device: str, bf16: bool):
    """Generator: first item after start-up (frame 0), then one per frame."""
    import torch

    with torch.inference_mode(), _amp(device, bf16):
        state = model.init_state(video_path=folder)
        for oid, pts in clicks(n_obj):
            model.add_new_points_or_box(state, 0, oid, points=pts, labels=np.array([1]))
    gen = model.propagate_in_video(state)
    while True:
        with _amp(device, bf16):
            try:
                out = next(gen)
            except StopIteration:
                return
        _sync(device)
        yield out[0]


def ecoseg_steps(
    model,
    folder: str,
    n_obj: int,
    device: str,
    *,
    bf16: bool,
    fill: int,
    compile: bool = False,
    prefetch: int = 0,
):
    try:  # the function itself: ``ecoseg.engine.propagate`` takes ``**kwargs`` (lazy import)
        from ecoseg.engine.session import propagate
    except ImportError:  # an older tree, for A/B runs
        from ecoseg.engine.propagation import propagate
    from ecoseg.io.video import open_video
    from ecoseg.prompts import FramePrompt, ObjectPrompts, Prompts

    prompts = Prompts(
        tuple(
            ObjectPrompts(oid, "x", (FramePrompt(0, pts, np.array([1])),))
            for oid, pts in clicks(n_obj)
        )
    )
    params = inspect.signature(propagate).parameters
    kw: dict = {"fill_hole_area": fill}
    if compile:
        kw["compile"] = True
    if "prefetch" in params:
        kw["prefetch"] = prefetch
    kw["autocast"] = bf16  # as fast=True, but never fp32 behind a bf16 label
    video = open_video(folder)
    if prefetch == 0:
        # The image folder reader decodes a few frames ahead in a thread pool of its own:
        # one worker decodes each frame in the calling thread, inside this step.
        video._workers = 1
    for r in propagate(model, video, prompts, **kw):
        _sync(device)
        yield r.index


def run_pair(a, folder: str, weights: str) -> list[dict]:
    """Interleave the configurations in this process; one record per configuration."""
    import torch
    from sam2.build_sam import build_sam2_video_predictor

    from ecoseg.sam2.model import SAM2Model
    from ecoseg.sam2.variants import get_variant

    sd = torch.load(weights, weights_only=True)
    gens, models = {}, {}
    if any(c.startswith("official") for c in a.configs):
        cfg = get_variant(a.variant, a.image_size).official_config
        off = build_sam2_video_predictor(
            cfg, None, device=a.device, hydra_overrides_extra=[f"++model.image_size={a.image_size}"]
        )
        off.load_state_dict(sd, strict=True)
        models["official"] = off.eval()
    if any(c.startswith("ecoseg") for c in a.configs):
        ours = SAM2Model(a.variant, image_size=a.image_size)
        ours.load_state_dict(sd, strict=True)
        models["ecoseg"] = ours.to(a.device).eval()
    for c in a.configs:
        bf16 = "bf16" in c
        if c.startswith("official"):
            gens[c] = official_steps(models["official"], folder, a.objects, a.device, bf16)
        else:
            fill = 8 if c.endswith("fill") else 0
            gens[c] = ecoseg_steps(
                models["ecoseg"],
                folder,
                a.objects,
                a.device,
                bf16=bf16,
                fill=fill,
                compile=c.endswith("compiled"),
                prefetch=a.prefetch,
            )
    times: dict[str, list[float]] = {c: [] for c in a.configs}
    cpu: dict[str, list[float]] = {c: [] for c in a.configs}
    errors: dict[str, str] = {}
    order = list(a.configs)
    live = set(order)
    step = 0
    while live:
        for c in order:
            if c not in live:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                next(gens[c])
            except StopIteration:
                live.discard(c)
                continue
            except Exception as e:  # one configuration failing leaves the others' figures
                print(f"{c}: {e!r}", file=sys.stderr, flush=True)
                errors[c] = f"{type(e).__name__}: {e}"[:300]
                live.discard(c)
                continue
            times[c].append(time.perf_counter() - t0)
            cpu[c].append(time.process_time() - c0)
        step += 1
        order = order[1:] + order[:1]  # rotate: no configuration always runs first
    return [
        {
            "config": c,
            "wall": times[c],
            "cpu": cpu[c],
            **({"error": errors[c]} if c in errors else {}),
        }
        for c in a.configs
    ]


def _q(x) -> tuple[float, float, float]:
    return tuple(float(v) for v in np.percentile(x, [25, 50, 75])) if len(x) else (np.nan,) * 3


def summarise(
    records: list[dict], warmup: int, goal_clock: str = "cpu"
) -> tuple[list[dict], list[dict]]:
    """Per configuration: start-up and steady state; per comparison: paired per-frame ratios.

    ``clock`` "cpu" is the process's CPU time (all its threads) spent in the step: on a
    machine shared with other work it counts the work done, not the waiting for a core;
    "wall" is the elapsed time. The goal is judged on ``goal_clock``: the CPU time on a
    CPU, the wall time on a GPU (the CPU time there counts only the host's share).
    """
    steady: dict[tuple[str, str], np.ndarray] = {}
    total: dict[tuple[str, str], float] = {}
    lines = []
    for r in records:
        line = {"config": r["config"], "frames": len(r["wall"])}
        if "error" in r:
            lines.append({**line, "error": r["error"]})
            continue
        for clock in ("cpu", "wall"):
            t = np.asarray(r[clock])
            s = t[1 + warmup :]
            steady[r["config"], clock] = s
            q1, med, q3 = _q(s)
            line[f"startup_{clock}_s"] = round(float(t[0]), 3)
            line[f"steady_{clock}_s_per_frame"] = round(med, 4)
            line[f"steady_{clock}_s_per_frame_q1_q3"] = [round(q1, 4), round(q3, 4)]
            total[r["config"], clock] = float(t.sum())
            line[f"total_{clock}_s"] = round(total[r["config"], clock], 3)
        line["steady_frames"] = len(s)
        lines.append(line)
    comps = []
    configs = {config for config, _ in steady}
    for ours, theirs in COMPARISONS:
        if ours not in configs or theirs not in configs:
            continue
        comp = {"comparison": f"{ours} vs {theirs}"}
        for clock in ("cpu", "wall"):
            a, b = steady[ours, clock], steady[theirs, clock]
            n = min(len(a), len(b))
            q1, med, q3 = _q(b[:n] / a[:n])
            comp[f"steady_speedup_{clock}"] = round(med, 3)
            comp[f"steady_speedup_{clock}_q1_q3"] = [round(q1, 3), round(q3, 3)]
        comp["end_to_end_speedup_wall"] = round(total[theirs, "wall"] / total[ours, "wall"], 3)
        comp["goal_clock"] = goal_clock
        comp["goal_ge_1_5"] = bool(comp[f"steady_speedup_{goal_clock}"] >= 1.5)
        comps.append(comp)
    return lines, comps


def object_scaling(per_frame: dict[tuple, float], objects: list[int], clock: str) -> list[dict]:
    """Steady time per frame at the most objects over that at the fewest, per variant, size,
    configuration and repeat (ecoseg's goal: 10 objects at most 2 x one object).

    Examples
    --------
    >>> times = {("t", 256, "ecoseg-bf16", 0, 1): 0.1, ("t", 256, "ecoseg-bf16", 0, 10): 0.15}
    >>> object_scaling(times, [1, 10], "wall")[0]["time_ratio"]
    1.5
    """
    lo, hi = min(objects), max(objects)
    out = []
    for (variant, size, config, rep, n), t in per_frame.items():
        if n != lo or lo == hi or (variant, size, config, rep, hi) not in per_frame:
            continue
        ratio = per_frame[variant, size, config, rep, hi] / t
        line = {"variant": variant, "image_size": size, "config": config, "repeat": rep}
        line |= {"objects": [lo, hi], "clock": clock, "time_ratio": round(ratio, 3)}
        if config.startswith("ecoseg") and hi == 10 and lo == 1:
            line["goal_le_2"] = bool(ratio <= 2)
        out.append(line)
    return out


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
    p.add_argument("--image-sizes", type=int, nargs="+", default=[1024] if cuda else [256, 1024])
    p.add_argument("--frames", type=int, default=200 if cuda else 24)
    p.add_argument("--warmup", type=int, default=3, help="frames after the first not counted")
    p.add_argument("--objects", type=int, nargs="+", default=[1, 10])
    p.add_argument("--repeats", type=int, default=1, help="fresh processes per setting")
    p.add_argument(
        "--threads", type=int, default=0 if cuda else 1, help="torch threads (0: torch's default)"
    )
    p.add_argument(
        "--prefetch", type=int, default=0, help="ecoseg's decode-ahead frames (0: in its step)"
    )
    p.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=(*CONFIGS, COMPILED))
    p.add_argument("--child", nargs=2, metavar=("FOLDER", "WEIGHTS"), help=argparse.SUPPRESS)
    p.add_argument("--variant", help=argparse.SUPPRESS)
    p.add_argument("--image-size", type=int, help=argparse.SUPPRESS)
    p.add_argument("--n-objects", dest="objects_one", type=int, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.frames < a.warmup + 4:
        p.error("--frames must exceed --warmup by at least 4")
    if COMPILED in a.configs and a.device != "cuda":
        p.error(f"{COMPILED} needs --device cuda (the engine compiles only on CUDA)")
    if a.child:
        import warnings

        warnings.filterwarnings("ignore")
        a.objects = a.objects_one
        if a.threads:
            torch.set_num_threads(a.threads)
        print(json.dumps(run_pair(a, *a.child)))
        return

    device_name = torch.cuda.get_device_name() if a.device == "cuda" else "cpu"
    versions = {"torch": torch.__version__, "cuda": torch.version.cuda}
    goal_clock = "wall" if a.device == "cuda" else "cpu"
    per_frame: dict[tuple, float] = {}
    sys.path.insert(0, str(ROOT / "tests" / "sam2"))
    import sam2_oracle

    from ecoseg.sam2.variants import get_variant

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clip"
        folder.mkdir()
        make_clip(folder, a.frames)
        for variant in a.variants:
            for size in a.image_sizes:
                torch.manual_seed(0)
                official = sam2_oracle.build_official(
                    get_variant(variant, size).official_config, size
                )
                weights = Path(tmp) / f"{variant}-{size}.pt"
                torch.save(official.state_dict(), weights)
                del official
                for n_obj in a.objects:
                    for rep in range(a.repeats):
                        cmd = [sys.executable, __file__, "--child", str(folder), str(weights)]
                        cmd += ["--variant", variant, "--n-objects", str(n_obj)]
                        cmd += ["--device", a.device, "--image-size", str(size)]
                        cmd += ["--frames", str(a.frames), "--warmup", str(a.warmup)]
                        cmd += ["--threads", str(a.threads)]
                        cmd += ["--configs", *a.configs, "--prefetch", str(a.prefetch)]
                        res = subprocess.run(cmd, capture_output=True, text=True)
                        if res.returncode:  # say why, and go on with the next setting
                            print(res.stderr[-3000:], file=sys.stderr, flush=True)
                            failed = {"variant": variant, "image_size": size, "objects": n_obj}
                            print(json.dumps({"error": res.returncode, **failed}), flush=True)
                            continue
                        records = json.loads(res.stdout.strip().splitlines()[-1])
                        lines, comps = summarise(records, a.warmup, goal_clock)
                        head = {
                            "benchmark": "engine_vs_sam2",
                            "device": device_name,
                            **versions,
                            "variant": variant,
                            "image_size": size,
                            "objects": n_obj,
                            "repeat": rep,
                            "threads": a.threads or torch.get_num_threads(),
                            "prefetch": a.prefetch,
                        }
                        for line in lines + comps:
                            print(json.dumps({**head, **line}), flush=True)
                        for line in lines:
                            if "error" in line:
                                continue
                            key = (variant, size, line["config"], rep)
                            per_frame[key + (n_obj,)] = line[f"steady_{goal_clock}_s_per_frame"]
        for line in object_scaling(per_frame, a.objects, goal_clock):
            line = {"benchmark": "engine_vs_sam2", "device": device_name, **versions, **line}
            print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
