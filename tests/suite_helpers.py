"""Helpers shared by test modules of several areas (``tests/`` is on ``sys.path`` through its
``conftest.py``, so any test module imports them as ``suite_helpers``)."""

from __future__ import annotations

import os
import re
import threading
import time
import warnings
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd

#: the checkout the suite runs: its ``ecoseg`` package, ``data/`` and ``notebooks/``
REPO = Path(__file__).resolve().parents[1]


def child_env(**extra: str) -> dict[str, str]:
    """``os.environ`` with ``extra`` set, for a child Python process that must import this
    checkout's ``ecoseg`` whether or not it is installed: the checkout first on
    ``PYTHONPATH``, before any path the parent's environment had there."""
    env = dict(os.environ, **extra)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    return env


def page_table(html: str, table_id: str) -> pd.DataFrame:
    """A table of the page as the text of its cells (pandas.read_html would parse numbers)."""
    part = html[html.index(f'<table id="{table_id}"') :]
    part = part[: part.index("</table>")]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", part, re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in cells])
    return pd.DataFrame(rows[1:], columns=rows[0])


def labels_store(path, labels, classes=None, chunk_frames=4, complete=True, default="unknown"):
    """A store of ``labels`` (t, y, x), frames 1/25 s apart, one object per id with its class
    from ``classes`` (``{id: name}``, else ``default``); ``complete=False``: as a killed
    run leaves it (else every evaluate of it warns)."""
    from ecoseg.store import MaskStore

    ids = [int(i) for i in np.unique(labels) if i]
    names = classes or {}
    store = MaskStore.create(
        path,
        height=labels.shape[1],
        width=labels.shape[2],
        chunk_frames=chunk_frames,
        objects=[{"id": i, "class": names.get(i, default)} for i in ids],
    )
    store.append(np.asarray(labels, np.uint32), np.arange(len(labels)) / 25)
    if complete:
        store.mark_complete()
    store.close()
    return path


def fit_species_model(root, *, frames: int, size=(160, 96), seed: int = 9) -> Path:
    """A species model fitted on the truth tracks of a synthetic clip (``root/ref``), saved as
    ``root/species.json``; returns its path."""
    import ecoseg
    from ecoseg.species import SpeciesModel
    from ecoseg.species.features import FEATURE_VERSION, track_features

    ref = ecoseg.synth(Path(root) / "ref", seed=seed, frames=frames, size=size)
    feats = track_features(ref.truth)
    model = SpeciesModel.fit(
        feats.values,
        list(feats.classes),
        feature_names=feats.names,
        feature_version=FEATURE_VERSION,
    )
    model.save(Path(root) / "species.json")
    return Path(root) / "species.json"


def warned_while_held(run, owner, name: str, category: type[Warning]) -> dict:
    """Run ``run()`` in a second thread, held at its first call of ``owner.name``; while it
    waits there, this thread warns ``"meanwhile"`` (``category``, through ecoseg's ``warn``).

    Returns ``{"filters_kept": ..., "heard": ..., "others": ..., "result": ...}``: whether
    Python's (process-wide) warnings filters were as this thread left them while the other
    was held, whether this thread's warning was heard, the other warnings of ``category``
    heard from start to end (from either thread), and ``run()``'s value. A
    ``warnings.catch_warnings()`` with ``simplefilter("ignore", category)`` around that call
    changed the filters of every thread, and hid "meanwhile". Events, no sleeps."""
    from ecoseg._warn import warn

    inside, go = threading.Event(), threading.Event()
    real = getattr(owner, name)

    def held(*args, **kwargs):
        if not inside.is_set():
            inside.set()
            go.wait(120)
        return real(*args, **kwargs)

    out: dict = {}

    def target():
        try:
            out["result"] = run()
        except BaseException as exc:  # re-raised in the test's thread
            out["error"] = exc

    setattr(owner, name, held)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            filters = list(warnings.filters)
            thread = threading.Thread(target=target)
            thread.start()
            try:
                assert inside.wait(120), f"{name} was never called"
                out["filters_kept"] = warnings.filters == filters
                warn("meanwhile", category)
            finally:
                go.set()
                thread.join()
    finally:
        setattr(owner, name, real)
    if "error" in out:
        raise out.pop("error")
    said = [w for w in caught if issubclass(w.category, category)]
    out["heard"] = any(str(w.message) == "meanwhile" for w in said)
    out["others"] = [str(w.message) for w in said if str(w.message) != "meanwhile"]
    return out


def random_concept_params(max_objects: int, hotstart: int = 2, **extra) -> dict:
    """SAM 3 concept settings under which random weights start tracks: they score every query
    about the same, so with no score thresholds the ``max_objects`` best queries of each
    concept become tracks, each shown ``hotstart`` frames after it is found."""
    return {
        "score_threshold": 0.0,
        "new_track_score": 0.0,
        "max_objects": max_objects,
        "hotstart_delay": hotstart,
        "hotstart_unmatched": hotstart,
        "hotstart_duplicates": hotstart,
        **extra,
    }


def photo_folder(path, seed: int, names=("q1.png", "q2.png"), shape=(40, 56)) -> Path:
    """A folder ``path`` of small noise photographs (a photo survey's quadrats), made."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    path = Path(path)
    path.mkdir()
    for name in names:
        Image.fromarray(rng.integers(0, 255, (*shape, 3), dtype=np.uint8)).save(path / name)
    return path


def cached_sam3_weights(tmp_path, monkeypatch, seed: int = 0):
    """A weights cache holding random ``sam3-reduced`` weights (seed ``seed``) as if
    downloaded (the manifest lists it, as it lists ``sam3``), with a vocabulary; returns the
    checkpoint's path (written again with another ``seed`` to change the cached weights)."""
    import json

    import torch

    from ecoseg import sam3
    from ecoseg.sam2.checkpoint import save_safetensors
    from ecoseg.sam3 import weights

    cache = tmp_path / "weights"
    entries = weights.entries()
    entry = {**entries["sam3"], "name": "sam3-reduced", "file": "model.safetensors"}
    monkeypatch.setattr(weights, "entries", lambda: {**entries, "sam3-reduced": entry})
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(cache))
    folder = cache / "sam3-reduced"
    folder.mkdir(parents=True, exist_ok=True)
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    names = ["<|startoftext|>", "<|endoftext|>", *letters, *(f"{c}</w>" for c in letters)]
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(names)}))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        net = sam3.build("sam3-reduced", pretrained=False, device="cpu")
    path = folder / "model.safetensors"
    path.unlink(missing_ok=True)
    save_safetensors(net, path)
    assert weights.weights_path("sam3-reduced") == path
    return path


class StopAfter:
    """A stand-in for ``ecoseg.engine.classical.track`` (monkeypatched) that sets ``stop``
    once ``after`` results of a run were handed on: a user's stop button pressed during the
    first video of a campaign or study (``batch``/``run_study`` with ``cancel=stop``); with
    ``slow``, each frame after takes that many seconds more (time for the stop to reach a Dask
    cluster's worker before the video's last frame)."""

    def __init__(self, real, stop, after: int, slow: float = 0.0):
        self.real, self.stop, self.after, self.slow = real, stop, after, slow

    def __call__(self, *args, **kwargs):
        return _StoppingRun(self.real(*args, **kwargs), self)


class _StoppingRun:
    def __init__(self, results, owner: StopAfter):
        self.results, self.owner = results, owner

    def __iter__(self):
        for i, item in enumerate(self.results):
            if i + 1 >= self.owner.after:
                self.owner.stop.set()
                time.sleep(self.owner.slow)
            yield item

    def until_cancelled(self, *args):  # the run's own, returning this wrapper
        self.results = self.results.until_cancelled(*args)
        return self

    def __getattr__(self, name):  # camera_motion
        return getattr(self.results, name)
