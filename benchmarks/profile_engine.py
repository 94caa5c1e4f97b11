"""Where one engine's steady-state CPU time goes, per stage (ecoseg or the official predictor).

Runs one engine on the benchmark clip of ``engine_vs_sam2.py`` (random weights, clicks on
frame 0), lets ``--warmup`` frames pass, then times the next ``--frames`` frames with the
process's CPU clock, attributing it to stages by wrapping the functions that do them
(decode, preprocessing, the image encoder, memory attention, the heads, the memory encoder,
hole filling, upsampling/copy to the host). The rest is "other" (Python glue, bookkeeping).
Prints one JSON line per stage: CPU seconds per frame and its share of the total.
``--torch-profile N`` also prints the N most expensive torch operators.

Usage: ``python benchmarks/profile_engine.py --engine ecoseg --image-size 256 --objects 1``
"""

from __future__ import annotations

import argparse
import functools
import inspect
import json
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine_vs_sam2 as bench  # noqa: E402

SPENT: dict[str, float] = defaultdict(float)
_DEPTH = [0]


def _wrap(owner, name: str, stage: str) -> None:
    """Charge the CPU time of ``owner.name`` to ``stage`` (outermost stage only)."""
    fn = inspect.getattr_static(owner, name)
    is_static = isinstance(fn, staticmethod)
    raw = fn.__func__ if is_static else fn

    @functools.wraps(raw)
    def timed(*args, **kwargs):
        if _DEPTH[0]:
            return raw(*args, **kwargs)
        _DEPTH[0] += 1
        c0 = time.process_time()
        try:
            return raw(*args, **kwargs)
        finally:
            SPENT[stage] += time.process_time() - c0
            _DEPTH[0] -= 1

    setattr(owner, name, staticmethod(timed) if is_static else timed)


def _wrap_ecoseg() -> None:
    from ecoseg.io import folder as video_folder
    from ecoseg.sam2.model import SAM2Model

    try:
        from ecoseg.engine import _runtime as rt
    except ImportError:  # before the engine split
        from ecoseg.engine import propagation as rt
    try:
        from ecoseg.engine import tracker as tr
    except ImportError:
        from ecoseg.engine import propagation as tr
    _wrap(video_folder.ImageFolderReader, "_load", "decode")
    for name in ("preprocess_frame",):
        if hasattr(rt, name):
            _wrap(rt, name, "preprocess")
    _wrap(SAM2Model, "encode_image", "image encoder")
    _wrap(SAM2Model, "condition_on_memory", "memory attention")
    _wrap(SAM2Model, "condition_without_memory", "memory attention")
    _wrap(SAM2Model, "run_heads", "prompt encoder + mask decoder")
    _wrap(SAM2Model, "encode_memory", "memory encoder")
    for mod in {rt, tr}:
        if hasattr(mod, "fill_holes"):
            _wrap(mod, "fill_holes", "hole filling")
        for name in ("fetch", "_fetch"):
            if hasattr(mod, name):
                _wrap(mod, name, "upsample + copy to host")


def _wrap_official() -> None:
    from sam2.modeling.sam2_base import SAM2Base
    from sam2.sam2_video_predictor import SAM2VideoPredictor

    _wrap(SAM2Base, "forward_image", "image encoder")
    _wrap(SAM2Base, "_prepare_memory_conditioned_features", "memory attention")
    _wrap(SAM2Base, "_forward_sam_heads", "prompt encoder + mask decoder")
    _wrap(SAM2Base, "_encode_new_memory", "memory encoder")
    _wrap(SAM2VideoPredictor, "_get_orig_video_res_output", "upsample + copy to host")


def main(argv=None) -> None:
    import torch

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=("ecoseg", "official"), default="ecoseg")
    p.add_argument("--variant", default="sam2.1-tiny")
    p.add_argument("--image-size", type=int, default=256)
    p.add_argument("--objects", type=int, default=1)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--bf16", action="store_true")
    p.add_argument("--fill", type=int, default=0, help="ecoseg fill_hole_area")
    p.add_argument("--torch-profile", type=int, default=0, metavar="N")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    sys.path.insert(0, str(bench.ROOT / "tests" / "sam2"))
    import sam2_oracle
    from sam2.build_sam import build_sam2_video_predictor

    from ecoseg.sam2.model import SAM2Model
    from ecoseg.sam2.variants import get_variant

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "clip"
        folder.mkdir()
        n = 1 + a.warmup + a.frames
        bench.make_clip(folder, n)
        torch.manual_seed(0)
        cfg = get_variant(a.variant, a.image_size).official_config
        sd = sam2_oracle.build_official(cfg, a.image_size).state_dict()
        if a.engine == "official":
            model = build_sam2_video_predictor(
                cfg,
                None,
                device="cpu",
                hydra_overrides_extra=[f"++model.image_size={a.image_size}"],
            )
            model.load_state_dict(sd, strict=True)
            _wrap_official()
            gen = bench.official_steps(model.eval(), str(folder), a.objects, "cpu", a.bf16)
        else:
            model = SAM2Model(a.variant, image_size=a.image_size)
            model.load_state_dict(sd, strict=True)
            _wrap_ecoseg()
            gen = bench.ecoseg_steps(
                model.eval(), str(folder), a.objects, "cpu", bf16=a.bf16, fill=a.fill
            )
        for _ in range(1 + a.warmup):
            next(gen)
        SPENT.clear()
        prof = None
        if a.torch_profile:
            prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU])
            prof.__enter__()
        c0 = time.process_time()
        for _ in range(a.frames):
            next(gen)
        total = time.process_time() - c0
        if prof is not None:
            prof.__exit__(None, None, None)
    head = {"benchmark": "profile_engine", "engine": a.engine, "variant": a.variant}
    head |= {"image_size": a.image_size, "objects": a.objects, "bf16": a.bf16, "fill": a.fill}
    stages = dict(SPENT)
    stages["other"] = total - sum(stages.values())
    stages["total"] = total
    for stage, sec in stages.items():
        line = {"stage": stage, "cpu_ms_per_frame": round(1000 * sec / a.frames, 1)}
        line["share"] = round(sec / total, 3)
        print(json.dumps(head | line))
    if prof is not None:
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=a.torch_profile))


if __name__ == "__main__":
    main()
