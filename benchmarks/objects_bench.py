"""Time per frame of SAM 3 concept tracking at 1, 16 and 128 tracked objects: ours vs the oracle.

Both run the reduced SAM 3 (``sam3-reduced``, 336 px) on identical random weights edited to
detect (transformers' ``Sam3VideoModel`` randomised, loaded into ours by our strict loader;
``tests/engine/concepts_oracle.py``) on the same synthetic clip. The number of tracks is set
the same way on both: every query passes the thresholds and ``max_objects`` (the oracle's
``max_num_objects``) caps the tracks started on frame 0 at N; hot-start removal is off
(``hotstart_delay=0``) so the N tracks live on. The detector runs on every frame in both.

Frame 0 (start-up: the tracks are created) is reported apart; steady state is the mean of the
following frames, wall and process CPU time. Ours runs the numbers of objects interleaved
frame by frame (the machine's load changes fall on all alike); the oracle runs them one after
the other. Prints one JSON line per figure with the ratio to the first number of objects of the
same implementation, and ours against the oracle at the same N.

``--flops`` also counts the floating-point work of one frame of ours (``FlopCounterMode``,
attention included): the per-frame cost shared by all objects (backbone, detector, the
tracker's object-invariant work) and the cost each tracked object adds (memory attention with
1 and with the full window of 7 memories and 16 pointers, mask decoder, memory encoder),
measured as the difference between 2 objects and 1, and the ratio 128 objects / 1 object
that this work alone allows.

``--config full`` runs SAM 3 at its published size (1008 px, the full ViT, text encoder and
detector; 840 M parameters), made the same way (transformers' model randomised and edited to
detect, loaded into ours); ``--device cuda`` runs both on the GPU and ``--bf16`` runs ours with
the setting users get from ``ecoseg segment --fast`` (``ConceptTracker(autocast=...)`` as
resolved by ``fast_bf16``: the network under bf16 autocast, the rules in float32; the oracle in
fp32, its default; the line's ``bf16`` says whether bf16 ran). Every line names the device,
torch and CUDA.

Usage: ``python benchmarks/objects_bench.py [--objects 1 16 128] [--frames 4] [--oracle]
[--flops] [--config reduced|full] [--device cpu|cuda] [--bf16]``
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
import concepts_oracle as co  # noqa: E402

from ecoseg.engine._runtime import fast_bf16  # noqa: E402
from ecoseg.engine.concept_rules import ConceptSettings  # noqa: E402
from ecoseg.engine.concept_tracker import ConceptTracker  # noqa: E402
from ecoseg.prompts import Concept  # noqa: E402

TEXT = "parrotfish"
CONFIGS = {
    "reduced": "sam3-reduced backbone, 2048-wide 200-query detector, 336 px",
    "full": "sam3 at its published size (1008 px, 840 M parameters)",
}


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def ours_times(
    model, px, hw, ns: list[int], bf16: bool = False
) -> dict[int, list[tuple[float, float]]]:
    """(wall, CPU) seconds of every frame for each number of objects in ``ns``, the settings
    interleaved frame by frame (frame t of every N, then frame t + 1) so that a change in the
    machine's load falls on all of them alike. ``bf16``: the trackers' ``autocast``, as
    ``fast`` resolves it (:func:`~ecoseg.engine._runtime.fast_bf16`)."""
    trackers = {}
    for n in ns:
        s = ConceptSettings(
            score_threshold=0.0,
            new_track_score=0.0,
            max_objects=n,
            hotstart_delay=0,
            fill_hole_area=0,
            nms_iou=0.0,
        )
        trackers[n] = ConceptTracker(
            model, [Concept(TEXT)], len(px), hw, s, tokenizer=co.tokenize, autocast=bf16
        )
    times: dict[int, list[tuple[float, float]]] = {n: [] for n in ns}
    for t in range(len(px)):
        for n in ns:
            w0, c0 = time.perf_counter(), time.process_time()
            with trackers[n].amp():  # the backbone, as ConceptRun encodes frames
                vision = model.encode_image(px[t : t + 1])
            step = trackers[n].step(t, vision)
            _sync(px.device)
            times[n].append((time.perf_counter() - w0, time.process_time() - c0))
            assert len(step.object_ids) == n, (len(step.object_ids), n)
    return times


def oracle_times(hf, px, hw, n: int) -> list[tuple[float, float]]:
    from transformers.models.sam3_video import modeling_sam3_video as mv

    for k, v in dict(
        score_threshold_detection=0.0,
        new_det_thresh=0.0,
        max_num_objects=n,
        hotstart_delay=0,
        fill_hole_area=0,
    ).items():
        setattr(hf, k, v)
    session = mv.Sam3VideoInferenceSession(
        video=px,
        video_height=hw[0],
        video_width=hw[1],
        inference_device=px.device,
        inference_state_device=px.device,
        video_storage_device=px.device,
        dtype=torch.float32,
    )
    pid = session.add_prompt(TEXT)
    ids = torch.as_tensor(co.tokenize([TEXT]), device=px.device)
    session.prompt_input_ids[pid] = ids
    session.prompt_attention_masks[pid] = (ids != 0).long()
    times = []
    for t in range(len(px)):
        w0, c0 = time.perf_counter(), time.process_time()
        out = hf(inference_session=session, frame_idx=t)
        _sync(px.device)
        times.append((time.perf_counter() - w0, time.process_time() - c0))
    assert len(out.object_ids) == n, (len(out.object_ids), n)
    return times


def _gflop(fn) -> float:
    """GFLOP of ``fn()`` (matmuls, convolutions, attention)."""
    from torch.utils.flop_counter import FlopCounterMode, flop_registry, sdpa_flop_count

    # torch counts only the CUDA attention kernels: count the CPU one the same way
    flop_registry.setdefault(
        torch.ops.aten._scaled_dot_product_flash_attention_for_cpu,
        lambda q, k, v, *args, **kwargs: sdpa_flop_count(q.shape, k.shape, v.shape),
    )
    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops() / 1e9


def flops(model, px, hw) -> dict:
    """Work of one frame of ours: shared by every object, and added by each object."""
    model.requires_grad_(False)
    vision = model.encode_image(px[:1])
    tracker = ConceptTracker(model, [Concept(TEXT)], 16, hw, tokenizer=co.tokenize)
    trk = model.tracker
    feats = model.tracker_features(vision)
    d = trk.mem_dim
    side = feats.features.shape[-1]

    def tracking(n: int, memories: int, pointers: int) -> dict[str, float]:
        f = feats.expand(n)
        mem = torch.randn(n, memories, d, side, side)
        slots = torch.tensor([0, *range(7 - memories + 1, 7)])
        ptrs = torch.randn(n, pointers, trk.hidden_dim)
        offsets = torch.arange(1, pointers + 1)
        m = model.config.mask_interpolation_size
        masks = torch.randn(n, 1, m, m)
        cond = trk.condition_on_memory(f.features, f.pos, mem, slots, ptrs, offsets, 16)
        return {
            "memory_attention": _gflop(
                lambda: trk.condition_on_memory(f.features, f.pos, mem, slots, ptrs, offsets, 16)
            ),
            "mask_decoder": _gflop(lambda: trk.run_heads(cond, f.high_res)),
            "memory_encoder": _gflop(
                lambda: trk.encode_memory(f.features, masks, torch.ones(n, 1))
            ),
        }

    out = {
        "backbone_gflop": _gflop(lambda: model.encode_image(px[:1])),
        "detector_gflop": _gflop(lambda: tracker.detect(vision)),
    }
    for memories, pointers in ((1, 1), (7, 16)):
        one, two = tracking(1, memories, pointers), tracking(2, memories, pointers)
        for stage in one:
            out[f"per_object_gflop_{stage}_{memories}mem"] = two[stage] - one[stage]
        out[f"tracker_shared_gflop_{memories}mem"] = sum(2 * one[k] - two[k] for k in one)
        out[f"per_object_gflop_{memories}mem"] = sum(two[k] - one[k] for k in one)
    fixed = out["backbone_gflop"] + out["detector_gflop"]
    for memories in (1, 7):
        shared = fixed + out[f"tracker_shared_gflop_{memories}mem"]
        per = out[f"per_object_gflop_{memories}mem"]
        out[f"flop_ratio_128_vs_1_{memories}mem"] = (shared + 128 * per) / (shared + per)
    return {k: round(v, 3) for k, v in out.items()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, nargs="+", default=[1, 16, 128])
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--oracle", action="store_true", help="also time transformers' model")
    ap.add_argument("--flops", action="store_true", help="also count the work per stage")
    ap.add_argument("--config", choices=tuple(CONFIGS), default="reduced")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    ap.add_argument("--bf16", action="store_true", help="ours with `segment --fast`'s setting")
    args = ap.parse_args(argv)
    if args.flops and args.device != "cpu":
        ap.error("--flops counts on the CPU only")
    torch.set_grad_enabled(False)
    config = co.reduced_config()
    if args.config == "full":
        from ecoseg.sam3.config import get_config

        config = get_config("sam3")
    images = co.clip(args.frames)
    px = co.pixels(images, config.image_size)
    hw = images[0].shape[:2]
    hf = co.build_oracle(edit_frame=px[:1], text=TEXT, config=config)
    with tempfile.TemporaryDirectory() as tmp:
        model = co.load_ours(hf, Path(tmp) / "weights.safetensors", config)
    model, hf, px = model.to(args.device), hf.to(args.device), px.to(args.device)
    head = {"bench": "objects", "device": args.device, "config": CONFIGS[args.config]}
    bf16 = fast_bf16(args.bf16, args.device)  # a CPU without bf16 instructions runs fp32
    head |= {"torch": torch.__version__, "cuda": torch.version.cuda, "bf16": bf16}
    if args.device == "cuda":
        head["gpu"] = torch.cuda.get_device_name()
    if args.flops:
        print(json.dumps({**head, "impl": "ours", **flops(model, px, hw)}), flush=True)
    first = args.objects[0]
    ours = ours_times(model, px, hw, args.objects, bf16)
    # ours' lines first: an oracle that fails or runs out of time leaves them printed
    for n, times in ours.items():
        line = figures("ours", n, times, first, ours[first])
        print(json.dumps({**head, **line}), flush=True)
    if not args.oracle:
        return
    oracle = {n: oracle_times(hf, px, hw, n) for n in args.objects}
    for n, times in oracle.items():
        line = figures("transformers", n, times, first, oracle[first])
        print(json.dumps({**head, **line}), flush=True)
    for n in args.objects:
        speedup = round(steady_means(oracle[n])[0] / steady_means(ours[n])[0], 3)
        print(json.dumps({**head, "objects": n, "speedup_vs_transformers": speedup}), flush=True)


def steady_means(times) -> tuple[float, float]:
    """Mean wall and CPU seconds of the frames after the first (start-up), or of the one."""
    rest = times[1:] or times
    return sum(w for w, _ in rest) / len(rest), sum(c for _, c in rest) / len(rest)


def figures(name: str, n: int, times, first: int, first_times) -> dict:
    """One implementation's figures at ``n`` objects: start-up (frame 0), steady state (wall
    and CPU) and the ratio to its ``first`` number of objects, whose times are
    ``first_times``."""
    wall, cpu = steady_means(times)
    wall_1, cpu_1 = steady_means(first_times)
    return {
        "impl": name,
        "objects": n,
        "frames": len(times),
        "interleaved": name == "ours",
        "startup_s": round(times[0][0], 3),
        "s_per_frame": round(wall, 3),
        "cpu_s_per_frame": round(cpu, 3),
        f"ratio_vs_{first}_objects": round(wall / wall_1, 3),
        f"cpu_ratio_vs_{first}_objects": round(cpu / cpu_1, 3),
    }


if __name__ == "__main__":
    main()
