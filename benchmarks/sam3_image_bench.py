"""SAM 3 concept segmentation of still images: ecoseg's ConceptPredictor vs transformers' port.

Both models carry the same random weights at the reduced size (the ``sam3-reduced`` preset
without its tracker: 336 px, 50 detector queries; built by the SAM 3 test helpers in
``tests/sam3/det_oracle.py``), so both do the same arithmetic and find the same instances. Each
line records the query count it ran with (``detector_queries``: the run in
``benchmarks/results/`` predates the preset's cut from 200 to 50 queries). One
image (scikit-image's ``coffee``, 400 x 600) is segmented for 1 and for 5 concepts per call:

- ours: ``ConceptPredictor.predict(image, text=[...])`` -- preprocessing, one image encoding,
  all concepts in one batch, instances post-processed to boolean masks at image size;
- oracle: transformers' ``Sam3Model`` used as its documentation advises for many prompts on
  one image: ``get_vision_features`` once, the pyramid broadcast over the concepts, text
  embeddings computed once before the clock starts (ours caches them too), then the same
  post-processing as ``post_process_instance_segmentation`` (which cannot be imported here
  without torchvision). Its attention runs through its default SDPA path.

Prints one JSON line per figure: ``startup`` (the first call of each, in s) and ``images_per_s``
for each concept count (steady state: the median of ``--repeats`` timed calls per side, the
two sides interleaved so that load on the shared machine hits both alike), with the ratio
ours / oracle and whether both kept the same number of instances per concept. Each call is
timed twice: wall clock (``ours``, ``oracle``, ``ratio``) and the CPU time of this process
(``*_cpu``), which a busy shared machine disturbs far less; torch runs ``--threads`` threads
(default 1, so that CPU time is the work done).

Usage::

    PYTHONPATH=. python benchmarks/sam3_image_bench.py \
        > benchmarks/results/sam3_image_bench-cpu.jsonl
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
CONCEPTS = ["parrotfish", "sea urchin", "brain coral", "sea turtle", "giant clam"]


def _oracle_call(hf, pixels, text_embeds, size, threshold):
    """transformers: one vision encoding, every concept against it, post-processed."""
    import torch.nn.functional as F

    n = text_embeds["pooler_output"].shape[0]
    vision = hf.get_vision_features(pixels)
    vision.fpn_hidden_states = tuple(f.expand(n, -1, -1, -1) for f in vision.fpn_hidden_states)
    vision.fpn_position_encoding = tuple(
        p.expand(n, -1, -1, -1) for p in vision.fpn_position_encoding
    )
    out = hf(
        vision_embeds=vision, text_embeds=text_embeds["outputs"], attention_mask=text_embeds["mask"]
    )
    h, w = size
    scores = out.pred_logits.sigmoid() * out.presence_logits.sigmoid()
    results = []
    for i in range(n):
        keep = scores[i] > threshold
        probs = out.pred_masks[i, keep].sigmoid()
        if probs.shape[0]:
            probs = F.interpolate(probs[None], size=(h, w), mode="bilinear", align_corners=False)[0]
        boxes = out.pred_boxes[i, keep] * torch.tensor([w, h, w, h])
        results.append((scores[i, keep].numpy(), boxes.numpy(), (probs > 0.5).numpy()))
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per side and count")
    parser.add_argument("--concepts", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)

    sys.path.insert(0, str(ROOT / "tests" / "sam3"))
    import backbone_oracle
    import det_oracle
    from skimage import data

    from ecoseg.sam3.predictor import ConceptPredictor, preprocess
    from ecoseg.sam3.tokenizer import Tokenizer

    torch.manual_seed(0)
    hf, ours = det_oracle.full_pair(attn="sdpa")
    tokenizer = Tokenizer.from_file(backbone_oracle.clip_vocabulary())
    image = data.coffee()
    size = image.shape[:2]
    common = {
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "image_size": 336,
        "image": list(size),
        "detector_queries": ours.config.detector.decoder.num_queries,
    }
    for n in args.concepts:
        texts = CONCEPTS[:n]
        with torch.no_grad():  # a threshold that keeps a realistic share of the queries
            pixels = preprocess(image, 336).expand(n, -1, -1, -1)
            ids = tokenizer(texts)
            raw = hf(pixel_values=pixels, input_ids=ids, attention_mask=(ids != 0).long())
            threshold = det_oracle.separating_threshold(
                raw.pred_logits.sigmoid() * raw.presence_logits.sigmoid()
            )
        predictor = ConceptPredictor(
            ours, tokenizer=tokenizer, score_threshold=threshold, always_encode_geometry=False
        )
        ids = tokenizer(texts)
        with torch.no_grad():
            text_out = hf.get_text_features(input_ids=ids, attention_mask=(ids != 0).long())
        text_embeds = {
            "outputs": text_out,
            "pooler_output": text_out.pooler_output,
            "mask": (ids != 0).long(),
        }

        def run_ours(predictor=predictor, texts=texts):
            return predictor.predict(image, text=texts)

        def run_oracle(text_embeds=text_embeds, threshold=threshold):
            pixels = preprocess(image, 336)
            return _oracle_call(hf, pixels, text_embeds, size, threshold)

        times = {"ours": [], "oracle": []}
        cpu = {"ours": [], "oracle": []}
        startup, first = {}, {}
        with torch.no_grad():
            for name, fn in (("ours", run_ours), ("oracle", run_oracle)):
                t0 = time.perf_counter()
                first[name] = fn()
                startup[name] = time.perf_counter() - t0
            for _ in range(args.repeats):
                for name, fn in (("ours", run_ours), ("oracle", run_oracle)):
                    t0, c0 = time.perf_counter(), time.process_time()
                    fn()
                    times[name].append(time.perf_counter() - t0)
                    cpu[name].append(time.process_time() - c0)
        print(
            json.dumps(
                {
                    "figure": "startup",
                    "concepts": n,
                    "ours_s": round(startup["ours"], 3),
                    "oracle_s": round(startup["oracle"], 3),
                    **common,
                }
            ),
            flush=True,
        )
        ours_ips = 1.0 / statistics.median(times["ours"])
        oracle_ips = 1.0 / statistics.median(times["oracle"])
        ours_cpu = 1.0 / statistics.median(cpu["ours"])
        oracle_cpu = 1.0 / statistics.median(cpu["oracle"])
        print(
            json.dumps(
                {
                    "figure": "images_per_s",
                    "concepts": n,
                    "ours": round(ours_ips, 4),
                    "oracle": round(oracle_ips, 4),
                    "ratio": round(ours_ips / oracle_ips, 3),
                    "ours_cpu": round(ours_cpu, 4),
                    "oracle_cpu": round(oracle_cpu, 4),
                    "ratio_cpu": round(ours_cpu / oracle_cpu, 3),
                    "same_instances": [len(r) for r in first["ours"]]
                    == [len(r[0]) for r in first["oracle"]],
                    "instances": [len(r) for r in first["ours"]],
                    "score_threshold": round(threshold, 6),
                    "repeats": args.repeats,
                    "ours_s": [round(t, 3) for t in times["ours"]],
                    "oracle_s": [round(t, 3) for t in times["oracle"]],
                    "ours_cpu_s": [round(t, 3) for t in cpu["ours"]],
                    "oracle_cpu_s": [round(t, 3) for t in cpu["oracle"]],
                    **common,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
