"""The provenance section: per video, its file, engine, model and weights, prompts,
calibration and camera motion."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecoseg.provenance import CameraMotion, ModelInfo, VideoSource
from ecoseg.report._numbers import significant_digits
from ecoseg.report.read import VideoInfo

__all__ = ["concepts_text", "provenance_row"]


def _random_weights(v: VideoInfo) -> bool:
    prov = v.provenance
    flags = (
        v.pretrained,
        prov.model.pretrained if prov.model is not None else None,
        (prov.parameters or {}).get("pretrained"),
    )
    return any(flag is False for flag in flags)


def provenance_row(v: VideoInfo) -> dict[str, Any]:
    prov = v.provenance
    vid = prov.video or VideoSource()
    model = prov.model or ModelInfo()
    engine = prov.engine or "?"
    network = engine in ("sam2", "sam3-concepts")
    if network:
        model_text = str(model.variant or "?")
        if model.image_size:
            model_text += f" at {model.image_size} px"
        if (prov.parameters or {}).get("fast"):
            model_text += ", bf16 (fast)"
        if model.checkpoint_sha256:
            ckpt_text = model.checkpoint_sha256
            ckpt_name = Path(str(model.checkpoint_path or "")).name
        elif _random_weights(v):
            seed = model.extra.get("seed")  # recorded since the weights were seeded
            seeded = f", seed {seed}" if type(seed) is int else ""  # (not a bool)
            ckpt_text, ckpt_name = f"none: random weights{seeded} (pretrained = false)", ""
        else:
            ckpt_text, ckpt_name = "not recorded (weights cache)", ""
    else:
        model_text, ckpt_text, ckpt_name = "motion tracker, no model", "none (no weights used)", ""
    prompts = prov.prompts or {}
    n_prompted = len(prompts.get("objects", [])) if isinstance(prompts, Mapping) else 0
    prompts_text = f"{n_prompted} prompted object(s)" if n_prompted else "automatic (no prompts)"
    concepts = prompts.get("concepts") if isinstance(prompts, Mapping) else None
    if concepts:
        prompts_text = concepts_text(concepts) + (
            f"; {n_prompted} prompted object(s)" if n_prompted else ""
        )
    params = dict(prov.parameters or {})
    return {
        "name": v.name,
        "video": v.video_shown,
        "sha256": vid.sha256 or "not recorded",
        "frames": vid.frames if vid.frames is not None else v.n_frames,
        "fps": significant_digits(vid.fps),
        "size": "{}×{}".format(*(vid.frame_size or (v.width, v.height))),
        "engine": engine,
        "model": model_text,
        "checkpoint": ckpt_text,
        "checkpoint_is_hash": bool(model.checkpoint_sha256) and network,
        "checkpoint_name": ckpt_name,
        "params": json.dumps(params, sort_keys=True, indent=1) if params else "{} (defaults)",
        "prompts": prompts_text,
        "calibration": _calibration_text(v),
        "camera": _camera_text(prov.camera_motion),
        "camera_too_fast": bool(prov.camera_motion is not None and prov.camera_motion.too_fast),
        "store": v.store_shown,
        "store_version": v.ecoseg_version or "?",
        "complete": v.complete,
        "objects": len(v.objects),
    }


def _camera_text(motion: CameraMotion | None) -> str:
    """The motion tracker's camera measurement: a figure, or a sentence when it was too fast."""
    if motion is None:
        return ""
    if motion.too_fast:
        return motion.summary()
    return f"camera {motion.camera_speed:.1f} px/frame (limit {motion.limit:.1f})"


def concepts_text(concepts) -> str:
    """How the provenance's SAM 3 concepts read on the page.

    Examples
    --------
    >>> concepts_text([{"text": "parrotfish", "exemplars": [{"frame": 0, "label": 1}]},
    ...                {"text": "sea urchin"}])
    "concepts: 'parrotfish' (1 exemplar box), 'sea urchin'"
    """
    parts = []
    for c in concepts:
        name = repr(str(c.get("text") or "visual"))
        n = len(c.get("exemplars") or [])
        parts.append(name + (f" ({n} exemplar box{'es' if n != 1 else ''})" if n else ""))
    return "concepts: " + ", ".join(parts)


def _calibration_text(v: VideoInfo) -> str:
    """Its mm per pixel with every digit (typed back, the same calibration) and where it came
    from: a scale bar's or lasers' spec as given, or another way of measuring it (a synthetic
    clip's); a plain number says nothing more, however it was written (``0.25``,
    ``"0.25 mm/px"``)."""
    from ecoseg.measure.calibration import scale_text

    if not v.mm_per_px:
        return "none: lengths in pixels"
    cal = v.calibration or {}
    text = scale_text(v.mm_per_px)
    how = cal.get("method") or "scale"
    if how == "scale":
        return text
    spec = v.calibration_spec if v.calibration_spec is not None else cal.get("spec")
    if isinstance(spec, str) and spec:
        return f"{text} from {spec}"
    return f"{text} ({how.replace('_', ' ')})"
