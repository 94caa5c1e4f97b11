"""Peak host memory of the streaming SAM 2 engine on a long synthetic 1080p clip.

Each measurement runs in a fresh subprocess (peak RSS = ``ru_maxrss``). The engine
(:func:`ecoseg.engine.propagate`, labels resolved on the device as ``ecoseg segment`` does)
processes N frames of a procedurally generated 1920x1080 clip (frames made on the fly, no
file); the official ``sam2`` video predictor (``init_state`` on a folder of 1080p JPEGs, then
``propagate_in_video``) is measured at smaller frame counts, because it holds every frame and
every output and would need hours for thousands of frames on a CPU. Both use random weights at
a reduced input size (``--image-size``). Prints one JSON line per measurement, then the growth
of each (MB) and the official predictor's growth per frame.

Usage: ``python benchmarks/memory_bench.py [--frames 300 3000] [--official-frames 50 200]
[--image-size 64] [--device cuda --bf16]``

On a GPU (``--device cuda``) both run there (ecoseg in bf16 with ``--bf16``, the official
predictor with its defaults: frames and state kept on the GPU) and every line also gives the
peak GPU memory allocated during the run (``torch.cuda.max_memory_allocated`` after the
network is built, ``peak_gpu_mb``) and its growth between the two frame counts.

SAM 3 concept tracking (``--sam3 N1 N2``): ours (:class:`ecoseg.engine.concept_session.ConceptRun`)
and transformers' ``Sam3VideoModel`` (the oracle, ``propagate_in_video_iterator`` over a
session holding the clip, ``--sam3-oracle M1 M2`` frames, default N1 N2), both on the
smallest SAM 3 that runs every code path (``concepts_oracle.micro_config``: 112 px, 64-wide
2-block ViT, 1-layer detector with 20 queries, SAM 3's tracker) with identical random weights
edited to detect (``tests/engine/concepts_oracle.py``), two tracks kept alive, on a 96x64
synthetic clip (60 rendered frames, repeated), each count in a fresh subprocess;
``--detect-every`` as ``ecoseg segment``. ``--engines`` picks which to run. With
``ECOSEG_MEM_TRACE=FILE`` every child appends its RSS every 50 frames to FILE, so the growth
within one long run (e.g. frame 300 to frame 3000) can be read from a single process;
``--trace-growth FILE`` prints those growth lines::

    ECOSEG_MEM_TRACE=trace.jsonl python benchmarks/memory_bench.py --child sam3-ecoseg 3000
    python benchmarks/memory_bench.py --trace-growth trace.jsonl --sam3 300 3000

When the oracle is measured on fewer frames than ours, its growth per 1000 frames is also
given scaled to ours' span (``rss_growth_mb_extrapolated``, labelled as such).
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

W, H = 1920, 1080


class SynthClip:
    """A 1080p clip made on the fly: two ellipses moving over a textured background."""

    def __init__(self, n: int):
        self.n, self.width, self.height, self.fps = n, W, H, 30.0
        yy, xx = np.mgrid[0:H, 0:W]
        bg = (80 + 40 * np.sin(xx / 23.0) + 30 * np.cos(yy / 17.0)).astype(np.uint8)
        self._bg = np.repeat(bg[..., None], 3, axis=2)
        ey, ex = np.mgrid[-100:101, -160:161]
        self._ellipse = (ex / 160.0) ** 2 + (ey / 100.0) ** 2 < 1

    def image(self, t: int) -> np.ndarray:
        img = self._bg.copy()
        cx, cy = 400 + (t * 12) % 1100, 480 + int(160 * np.sin(t / 20))
        region = img[cy - 100 : cy + 101, cx - 160 : cx + 161]
        region[self._ellipse] = (220, 60, 50)
        return img

    def __len__(self):
        return self.n

    def read(self, i):
        from types import SimpleNamespace

        return SimpleNamespace(index=i, time=i / self.fps, image=self.image(i))

    def frames(self, start=0, stop=None):
        for i in range(start, self.n if stop is None else stop):
            yield self.read(i)


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak() -> None:
    """Restart the kernel's peak-RSS count (``VmHWM``) so building the networks is not in it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _run_peak_mb() -> float:
    """Peak resident memory since :func:`_reset_peak` (Linux ``VmHWM``)."""
    return _proc_status_mb("VmHWM")


def _trace(engine: str, frame: int, t0: float) -> None:
    """Every ``TRACE_EVERY`` frames, append RSS now and the run's peak to ``$ECOSEG_MEM_TRACE``
    (one JSON line each), so growth within one long run can be read while it runs."""
    import os

    path = os.environ.get("ECOSEG_MEM_TRACE")
    if not path or frame % TRACE_EVERY:
        return
    line = {
        "engine": engine,
        "frame": frame,
        "rss_mb": round(_rss_mb(), 1),
        "run_peak_rss_mb": round(_run_peak_mb(), 1),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    with open(path, "a") as f:
        f.write(json.dumps(line) + "\n")


TRACE_EVERY = 50


def _rss_mb() -> float:
    """Resident memory now (Linux ``VmRSS``)."""
    return _proc_status_mb("VmRSS")


def _proc_status_mb(key: str) -> float:
    """One memory line of ``/proc/self/status`` in MB (NaN where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return float("nan")


def _gpu_reset(device: str) -> None:
    if device == "cuda":
        import torch

        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def _gpu_figures(device: str) -> dict:
    """Peak GPU memory since :func:`_gpu_reset` (empty on the CPU); the GPU's name and the
    torch and CUDA versions are in every line already (``main``'s ``base``)."""
    if device != "cuda":
        return {}
    import torch

    torch.cuda.synchronize()
    return {
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1),
        "peak_gpu_reserved_mb": round(torch.cuda.max_memory_reserved() / 2**20, 1),
    }


def run_ecoseg(n: int, image_size: int, device: str = "cpu", bf16: bool = False) -> dict:
    import torch

    from ecoseg.engine.session import propagate
    from ecoseg.prompts import Prompts
    from ecoseg.sam2.model import SAM2Model

    torch.manual_seed(0)
    model = SAM2Model("sam2.1-tiny", image_size=image_size).eval().to(device)
    prompts = Prompts.single(0, points=[[520, 480]], id=1)
    _gpu_reset(device)
    t0 = time.perf_counter()
    count = 0
    for r in propagate(model, SynthClip(n), prompts, output="labels", autocast=bf16):
        count += 1
        del r
    seconds = time.perf_counter() - t0
    return {"frames": count, "seconds": seconds, "peak_rss_mb": _peak_mb(), **_gpu_figures(device)}


def run_official(n: int, image_size: int, device: str = "cpu", bf16: bool = False) -> dict:
    import torch
    from PIL import Image

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "sam2"))
    import sam2_oracle

    clip = SynthClip(n)
    with tempfile.TemporaryDirectory() as d:
        for t in range(n):
            Image.fromarray(clip.image(t)).save(f"{d}/{t:05d}.jpg", quality=90)
        torch.manual_seed(0)
        predictor = sam2_oracle.build_official("configs/sam2.1/sam2.1_hiera_t.yaml", image_size)
        predictor = predictor.to(device)
        base = _peak_mb()
        _gpu_reset(device)
        t0 = time.perf_counter()
        amp = torch.autocast(device, dtype=torch.bfloat16, enabled=bf16)
        with torch.inference_mode(), amp:
            # on the CPU the frames stay in host memory either way; on a GPU, its default
            state = predictor.init_state(video_path=d, offload_video_to_cpu=device == "cpu")
            predictor.add_new_points_or_box(
                state, 0, 1, points=np.array([[520.0, 480.0]]), labels=np.array([1])
            )
            count = 0
            for _, _, masks in predictor.propagate_in_video(state):
                count += 1
                del masks
    return {
        "frames": count,
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": _peak_mb(),
        "rss_before_run_mb": base,
        **_gpu_figures(device),
    }


# ------------------------------------------------------------------ SAM 3 concept tracking
def _sam3_pair():
    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
    import concepts_oracle as co

    torch.set_grad_enabled(False)
    config = co.micro_config()
    first = co.pixels(co.clip(1), config.image_size)
    hf = co.build_oracle(edit_frame=first, config=config)
    return co, hf, config


SAM3_SETTINGS = dict(
    score_threshold=0.0,
    new_track_score=0.0,
    max_objects=2,
    hotstart_delay=0,
    fill_hole_area=0,
    nms_iou=0.0,
)


def _tiny_clip(n: int):
    from ecoseg.engine._runtime import ArrayVideo
    from ecoseg.synth import make_scene, render

    scene = make_scene(seed=3, frames=min(n, 60), size=(96, 64))
    images = [render(scene, i)[0] for i in range(min(n, 60))]
    return ArrayVideo([images[i % len(images)] for i in range(n)])


def run_sam3_ours(n: int, image_size: int, detect_every: int = 1) -> dict:
    from ecoseg.engine.concept_rules import ConceptSettings
    from ecoseg.engine.concept_session import ConceptRun
    from ecoseg.prompts import Concept

    co, hf, config = _sam3_pair()
    with tempfile.TemporaryDirectory() as d:
        model = co.load_ours(hf, Path(d) / "m.safetensors", config)
    del hf
    clip = _tiny_clip(n)
    run = ConceptRun(
        model,
        clip,
        [Concept("parrotfish")],
        ConceptSettings(**SAM3_SETTINGS, detect_every=detect_every),
        tokenizer=co.tokenize,
    )
    import gc

    gc.collect()
    _reset_peak()
    before = _rss_mb()
    t0 = time.perf_counter()
    count, tracks = 0, set()
    for r in run.run():
        count += 1
        tracks.update(int(i) for i in r.object_ids)
        _trace("sam3-ecoseg", count, t0)
    return {**_run_figures(count, t0, before), "tracks_seen": len(tracks)}


def _run_figures(count: int, t0: float, before: float) -> dict:
    """Frames, seconds and memory figures at the end of a traced SAM 3 run."""
    return {
        "frames": count,
        "seconds": time.perf_counter() - t0,
        "peak_rss_mb": _peak_mb(),
        "run_peak_rss_mb": _run_peak_mb(),
        "rss_end_mb": _rss_mb(),
        "rss_before_run_mb": before,
    }


def run_sam3_oracle(n: int, image_size: int, detect_every: int = 1) -> dict:
    import torch
    from transformers.models.sam3_video import modeling_sam3_video as mv

    co, hf, config = _sam3_pair()
    for k, v in dict(
        score_threshold_detection=0.0,
        new_det_thresh=0.0,
        max_num_objects=2,
        hotstart_delay=0,
        fill_hole_area=0,
    ).items():
        setattr(hf, k, v)
    clip = _tiny_clip(n)
    px = torch.cat([co.pixels([clip.read(i).image], config.image_size) for i in range(n)])
    session = mv.Sam3VideoInferenceSession(
        video=px, video_height=64, video_width=96, dtype=torch.float32
    )
    del px
    pid = session.add_prompt("parrotfish")
    ids = torch.as_tensor(co.tokenize(["parrotfish"]))
    session.prompt_input_ids[pid] = ids
    session.prompt_attention_masks[pid] = (ids != 0).long()
    _reset_peak()
    before = _rss_mb()
    t0 = time.perf_counter()
    count = 0
    for _ in hf.propagate_in_video_iterator(session):
        count += 1
        _trace("sam3-transformers", count, t0)
    return _run_figures(count, t0, before)


def trace_growth(path: str, start: int, goal: int, base: dict) -> list[dict]:
    """Growth lines from a trace file (``ECOSEG_MEM_TRACE``): per engine, RSS at frame
    ``start`` (or the first traced frame after it) against the last traced frame, and, when
    that is short of ``goal``, the measured rate extrapolated to ``goal`` (labelled)."""
    rows: dict[str, list[dict]] = {}
    for line in Path(path).read_text().splitlines():
        r = json.loads(line)
        rows.setdefault(r["engine"], []).append(r)
    out = []
    for engine, rs in rows.items():
        rs.sort(key=lambda r: r["frame"])
        lo = next((r for r in rs if r["frame"] >= start), rs[0])
        hi = rs[-1]
        span = hi["frame"] - lo["frame"]
        line = {
            **base,
            "engine": engine,
            "method": "one run, RSS traced every 50 frames (VmRSS; peak VmHWM since the run "
            "started)",
            "frames": [lo["frame"], hi["frame"]],
            "seconds_at_last": hi["seconds"],
            "rss_mb": [lo["rss_mb"], hi["rss_mb"]],
            "rss_growth_mb": round(hi["rss_mb"] - lo["rss_mb"], 1),
            "run_peak_growth_mb": round(hi["run_peak_rss_mb"] - lo["run_peak_rss_mb"], 1),
        }
        if span > 0:
            rate = (hi["rss_mb"] - lo["rss_mb"]) / span
            line["rss_growth_mb_per_1000_frames"] = round(rate * 1000, 1)
            if hi["frame"] < goal:
                line["rss_growth_mb_extrapolated"] = {
                    "frames": [start, goal],
                    "mb": round(rate * (goal - start), 1),
                    "note": "linear extrapolation of the measured rate, not a measurement",
                }
        if engine == "sam3-ecoseg":
            line["goal_growth_le_50mb"] = hi["frame"] >= goal and line["rss_growth_mb"] <= 50
        out.append(line)
    return out


def _child(
    engine: str, n: int, image_size: int, detect_every: int = 1, device: str = "cpu", bf16=False
) -> dict:
    cmd = [sys.executable, __file__, "--child", engine, str(n), "--image-size", str(image_size)]
    cmd += ["--detect-every", str(detect_every), "--device", device] + ["--bf16"] * bf16
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _sam3_base(detect_every: int) -> dict:
    return {
        "benchmark": "memory",
        "video": "96x64 synthetic (60 frames repeated)",
        "model": "sam3-micro (concepts_oracle.micro_config): 112 px, 64-wide 2-block ViT, "
        "1-layer detector, 20 queries, SAM 3 tracker; identical random weights",
        "device": "cpu",
        "tracks": 2,
        "detect_every": detect_every,
    }


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, nargs=2, default=[300, 3000])
    p.add_argument("--official-frames", type=int, nargs=2, default=[50, 200])
    p.add_argument("--image-size", type=int, default=64)
    p.add_argument(
        "--sam3",
        type=int,
        nargs=2,
        default=None,
        metavar=("N1", "N2"),
        help="SAM 3 concept tracking instead: ours and transformers' at N1, N2 frames",
    )
    p.add_argument(
        "--sam3-oracle",
        type=int,
        nargs=2,
        default=None,
        metavar=("M1", "M2"),
        help="frame counts of the SAM 3 oracle (default: those of --sam3)",
    )
    p.add_argument("--detect-every", type=int, default=1, help="SAM 3: detector every N frames")
    p.add_argument(
        "--engines",
        nargs="+",
        default=None,
        help="run only these (ecoseg official sam3-ecoseg sam3-transformers)",
    )
    p.add_argument("--parallel", action="store_true", help="each measurement's subprocess at once")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="SAM 2 runs only")
    p.add_argument("--bf16", action="store_true", help="SAM 2 runs under bf16 autocast")
    p.add_argument(
        "--trace-growth",
        metavar="FILE",
        help="print the growth lines of a trace file written with ECOSEG_MEM_TRACE (frames "
        "from --sam3 N1 N2, default 300 3000) and exit",
    )
    children = {
        "ecoseg": run_ecoseg,
        "official": run_official,
        "sam3-ecoseg": run_sam3_ours,
        "sam3-transformers": run_sam3_oracle,
    }
    p.add_argument(
        "--child",
        nargs=2,
        metavar=("ENGINE", "N"),
        help=f"one measurement in this process, N frames of ENGINE ({', '.join(children)}): "
        "one JSON line (what each run above starts in a subprocess)",
    )
    a = p.parse_args(argv)
    if a.child:
        import warnings

        if a.child[0] not in children:
            p.error(f"--child {a.child[0]}: no such engine; one of {', '.join(children)}")
        warnings.filterwarnings("ignore")
        fn = children[a.child[0]]
        if a.child[0].startswith("sam3"):
            print(json.dumps(fn(int(a.child[1]), a.image_size, a.detect_every)))
        else:
            print(json.dumps(fn(int(a.child[1]), a.image_size, a.device, a.bf16)))
        return
    if a.device != "cpu" and a.sam3:
        p.error("--device cuda measures SAM 2 only (the SAM 3 runs are on the CPU)")
    base = {"benchmark": "memory", "video": f"{W}x{H} synthetic", "image_size": a.image_size}
    base |= {"device": a.device, "bf16": a.bf16}
    if a.device == "cuda":
        import torch

        base |= {"gpu": torch.cuda.get_device_name(), "torch": torch.__version__}
        base |= {"cuda": torch.version.cuda}
    if a.trace_growth:
        start, goal = a.sam3 or (300, 3000)
        base = {**_sam3_base(a.detect_every)}
        trace = Path(a.trace_growth)
        if not trace.is_file() or not trace.read_text().strip():
            p.error(
                f"{trace}: no trace lines (a child run with ECOSEG_MEM_TRACE={trace} writes one "
                f"every {TRACE_EVERY} frames, from the folder it runs in)"
            )
        for line in trace_growth(a.trace_growth, start, goal, base):
            print(json.dumps(line), flush=True)
        return
    runs = (("ecoseg", a.frames), ("official", a.official_frames))
    if a.sam3:
        base = _sam3_base(a.detect_every)
        runs = (("sam3-ecoseg", a.sam3), ("sam3-transformers", a.sam3_oracle or a.sam3))
    if a.engines:
        runs = tuple(r for r in runs if r[0] in a.engines)
    found = {}
    jobs = [(engine, n) for engine, counts in runs for n in counts]
    if a.parallel:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(len(jobs)) as pool:
            done = pool.map(
                lambda j: _child(j[0], j[1], a.image_size, a.detect_every, a.device, a.bf16), jobs
            )
            found = dict(zip(jobs, done))
    for engine, counts in runs:
        for n in counts:
            if (engine, n) not in found:
                found[(engine, n)] = _child(
                    engine, n, a.image_size, a.detect_every, a.device, a.bf16
                )
            print(json.dumps({**base, "engine": engine, **found[(engine, n)]}), flush=True)
        key = "run_peak_rss_mb" if "run_peak_rss_mb" in found[(engine, counts[0])] else None
        lo, hi = (found[(engine, n)][key or "peak_rss_mb"] for n in counts)
        growth = {
            **base,
            "engine": engine,
            "frames": counts,
            "rss_growth_mb": round(hi - lo, 1),
            "measure": "peak RSS during the run (VmHWM)" if key else "peak RSS (ru_maxrss)",
            "rss_growth_mb_per_1000_frames": round((hi - lo) / (counts[1] - counts[0]) * 1000, 1),
        }
        if "peak_gpu_mb" in found[(engine, counts[0])]:
            g_lo, g_hi = (found[(engine, n)]["peak_gpu_mb"] for n in counts)
            growth["peak_gpu_mb"] = [g_lo, g_hi]
            growth["peak_gpu_growth_mb"] = round(g_hi - g_lo, 1)
            if engine == "ecoseg":
                growth["goal_gpu_flat_le_50mb"] = g_hi - g_lo <= 50
        if "rss_end_mb" in found[(engine, counts[0])]:
            a_end, b_end = (found[(engine, n)]["rss_end_mb"] for n in counts)
            growth["rss_end_growth_mb"] = round(b_end - a_end, 1)
        if engine in ("ecoseg", "sam3-ecoseg"):
            growth["goal_growth_le_50mb"] = hi - lo <= 50
        if engine == "sam3-transformers" and a.sam3 and list(counts) != list(a.sam3):
            span = a.sam3[1] - a.sam3[0]
            growth["rss_growth_mb_extrapolated"] = {
                "frames": a.sam3,
                "mb": round((hi - lo) / (counts[1] - counts[0]) * span, 1),
                "note": "linear extrapolation of the measured growth, not a measurement",
            }
        print(json.dumps(growth), flush=True)


if __name__ == "__main__":
    main()
