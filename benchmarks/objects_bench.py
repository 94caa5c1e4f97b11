"""Time per frame of SAM 3 concept tracking at 1, 16 and 128 tracked objects: ours vs the oracle.

Both run the reduced SAM 3 (``sam3-reduced``, 336 px) on identical random weights edited to
detect (transformers' ``Sam3VideoModel`` randomised, loaded into ours by our strict loader;
``tests/engine/concepts_oracle.py``) on the same synthetic clip. The number of tracks is set
the same way on both: every query passes the thresholds and ``max_objects`` (the oracle's
``max_num_objects``) caps the tracks started on frame 0 at N; hot-start removal is off
(``hotstart_delay=0``) so the N tracks live on. The detector runs on every frame in both.

Frame 0 (start-up: the tracks are created) is reported apart; steady state is the mean of the
following frames. Prints one JSON line per figure with the ratio to 1 object of the same
implementation, and ours against the oracle at the same N.

Usage: ``python benchmarks/objects_bench.py [--objects 1 16 128] [--frames 4] [--oracle]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "engine"))
import concepts_oracle as co  # noqa: E402

from ecoseg.engine.concept_rules import ConceptSettings  # noqa: E402
from ecoseg.engine.concept_tracker import ConceptTracker  # noqa: E402
from ecoseg.prompts import Concept  # noqa: E402

TEXT = "parrotfish"


def ours_times(model, px, hw, n: int) -> list[float]:
    s = ConceptSettings(
        score_threshold=0.0,
        new_track_score=0.0,
        max_objects=n,
        hotstart_delay=0,
        fill_hole_area=0,
        nms_iou=0.0,
    )
    tracker = ConceptTracker(model, [Concept(TEXT)], len(px), hw, s, tokenizer=co.tokenize)
    times = []
    for t in range(len(px)):
        t0 = time.perf_counter()
        step = tracker.step(t, model.encode_image(px[t : t + 1]))
        times.append(time.perf_counter() - t0)
    assert len(step.object_ids) == n, (len(step.object_ids), n)
    return times


def oracle_times(hf, px, hw, n: int) -> list[float]:
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
        video=px, video_height=hw[0], video_width=hw[1], dtype=torch.float32
    )
    pid = session.add_prompt(TEXT)
    ids = torch.as_tensor(co.tokenize([TEXT]))
    session.prompt_input_ids[pid] = ids
    session.prompt_attention_masks[pid] = (ids != 0).long()
    times = []
    for t in range(len(px)):
        t0 = time.perf_counter()
        out = hf(inference_session=session, frame_idx=t)
        times.append(time.perf_counter() - t0)
    assert len(out.object_ids) == n, (len(out.object_ids), n)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, nargs="+", default=[1, 16, 128])
    ap.add_argument("--frames", type=int, default=4)
    ap.add_argument("--oracle", action="store_true", help="also time transformers' model")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    images = co.clip(args.frames)
    px = co.pixels(images)
    hw = images[0].shape[:2]
    hf = co.build_oracle(edit_frame=px[:1], text=TEXT)
    model = co.load_ours(
        hf, Path(__file__).resolve().parent / "results" / ".objects_bench.safetensors"
    )
    (Path(__file__).resolve().parent / "results" / ".objects_bench.safetensors").unlink()
    impls = [("ours", lambda n: ours_times(model, px, hw, n))]
    if args.oracle:
        impls.append(("transformers", lambda n: oracle_times(hf, px, hw, n)))
    steady: dict[tuple[str, int], float] = {}
    for name, fn in impls:
        for n in args.objects:
            times = fn(n)
            steady[name, n] = sum(times[1:]) / max(len(times) - 1, 1)
            base = steady.get((name, args.objects[0]), steady[name, n])
            print(
                json.dumps(
                    {
                        "bench": "objects",
                        "impl": name,
                        "objects": n,
                        "device": "cpu",
                        "config": "sam3-reduced backbone, 2048-wide 200-query detector, 336 px",
                        "startup_s": round(times[0], 3),
                        "s_per_frame": round(steady[name, n], 3),
                        f"ratio_vs_{args.objects[0]}_objects": round(steady[name, n] / base, 3),
                    }
                ),
                flush=True,
            )
    if args.oracle:
        for n in args.objects:
            print(
                json.dumps(
                    {
                        "bench": "objects",
                        "objects": n,
                        "device": "cpu",
                        "speedup_vs_transformers": round(
                            steady["transformers", n] / steady["ours", n], 3
                        ),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
