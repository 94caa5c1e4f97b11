"""The commands that make a report's stores and page again, shown on the page."""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ecoseg.provenance import ModelInfo
from ecoseg.report.read import VideoInfo

__all__ = ["concept_command", "reproduce", "sam2_flags", "synth_command"]


def reproduce(
    videos: list[VideoInfo], study: Any, out: Path, shown: Mapping[str, str]
) -> dict[str, Any]:
    """How to make the page again: ``ecoseg study`` for a study, else one command per store.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> study = SimpleNamespace(path=Path("field/study.yaml"))
    >>> reproduce([], study, Path("field/out/report.html"), {})["study"]
    'ecoseg study study.yaml'
    """
    if study is not None:
        return {
            "study": f"ecoseg study {study.path.name}",
            "where": "in the folder that holds the study file (its text is below)",
            "steps": [],
        }
    steps = []
    for v in videos:
        prov = v.provenance
        engine = prov.engine or "classical"
        if prov.get("generator") == "ecoseg.synth":
            steps.append(synth_command(v))
            continue
        if engine == "sam3-concepts":
            steps.append(concept_command(v))
            continue
        if engine not in ("sam2", "classical"):
            steps.append(f"# {v.name}: made by {engine!r}; ecoseg has no command for it")
            continue
        cmd = ["ecoseg", "segment", _q(v.video_shown), "-o", _q(v.store_shown), "--engine", engine]
        if engine == "sam2":
            cmd += sam2_flags(prov)
        steps.append(" ".join(cmd))
    stores = " ".join(_q(v.store_shown) for v in videos)
    steps.append(f"ecoseg report {stores} -o {_q(out.name)}")
    return {"study": None, "where": None, "steps": steps}


def sam2_flags(prov) -> list[str]:
    """The ``ecoseg segment`` flags of a sam2 store, from its provenance.

    Examples
    --------
    >>> from ecoseg.provenance import Provenance
    >>> " ".join(sam2_flags(Provenance.from_dict({"engine": "sam2", "backward": False,
    ...     "model": {"variant": "sam2.1-small", "image_size": 512},
    ...     "parameters": {"device": "cpu", "fast": True}, "prompts": {"objects": [{"id": 1}]}})))
    '--model sam2.1-small --image-size 512 --prompts PROMPTS.json --forward-only --fast'
    >>> sam2_flags(Provenance.from_dict({"engine": "sam2", "auto": True, "parameters": {}}))
    ['--model', 'sam2.1-tiny', '--auto']
    """
    model = prov.model or ModelInfo()
    flags = ["--model", str(model.variant or "sam2.1-tiny")]
    if model.image_size:
        flags += ["--image-size", str(model.image_size)]
    if model.checkpoint_path:
        flags += ["--checkpoint", _q(Path(str(model.checkpoint_path)).name)]
    auto = bool(prov.get("auto"))
    if not auto or (prov.get("prompts") or {}).get("objects"):
        flags += ["--prompts", "PROMPTS.json"]
    if auto:
        flags.append("--auto")
    if prov.get("backward") is False:
        flags.append("--forward-only")
    if (prov.parameters or {}).get("fast"):
        flags.append("--fast")
    return flags


def concept_command(v: VideoInfo) -> str:
    """The ``ecoseg segment --concepts`` command of a SAM 3 concept tracking store.

    Concepts given by name go on the command line; those with exemplar boxes need the
    prompt file (``--prompts PROMPTS.json``; its concepts are in the store's provenance).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from ecoseg.provenance import Provenance
    >>> prov = Provenance.from_dict({"engine": "sam3-concepts", "model": {"variant": "sam3"},
    ...     "parameters": {"detect_every": 2}, "prompts": {"concepts": [{"text": "sea urchin"}]}})
    >>> concept_command(SimpleNamespace(provenance=prov, video_shown="v.mp4",
    ...                                 store_shown="v.zarr"))
    "ecoseg segment v.mp4 -o v.zarr --model sam3 --concepts 'sea urchin' --detect-every 2"
    """
    prov = v.provenance
    model = prov.model or ModelInfo()
    cmd = ["ecoseg", "segment", _q(v.video_shown), "-o", _q(v.store_shown)]
    cmd += ["--model", str(model.variant or "sam3")]
    if model.image_size:
        cmd += ["--image-size", str(model.image_size)]
    if model.checkpoint_path:
        cmd += ["--checkpoint", _q(Path(str(model.checkpoint_path)).name)]
    concepts = (prov.get("prompts") or {}).get("concepts") or []
    names = [c["text"] for c in concepts if c.get("text") and not c.get("exemplars")]
    if names:
        cmd += ["--concepts", *(_q(n) for n in names)]
    if any(c.get("exemplars") for c in concepts):
        cmd += ["--prompts", "PROMPTS.json"]
    every = (prov.parameters or {}).get("detect_every", 1)
    if every != 1:
        cmd += ["--detect-every", str(every)]
    return " ".join(cmd)


def synth_command(v: VideoInfo) -> str:
    """The ``ecoseg synth`` command that made a synthetic store again."""
    p = v.provenance.parameters or {}
    folder = Path(v.store_shown).parent.as_posix()
    cmd = ["ecoseg", "synth", "-o", _q(folder if folder not in ("", ".") else "clip")]
    for key, flag in (("seed", "--seed"), ("frames", "--frames"), ("fps", "--fps")):
        if key in p:
            cmd += [flag, f"{p[key]:g}" if isinstance(p[key], float) else str(p[key])]
    if isinstance(p.get("size"), list) and len(p["size"]) == 2:
        cmd += ["--size", f"{p['size'][0]}x{p['size'][1]}"]
    if "camera" in p:
        cmd += ["--camera", str(p["camera"])]
    if "n_fish" in p:
        cmd += ["--fish", str(p["n_fish"])]
    return " ".join(cmd) + f"   # {v.name}: synthetic ground truth"


def _q(text: str) -> str:
    return shlex.quote(str(text))
