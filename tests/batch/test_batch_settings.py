"""``ecoseg batch`` re-run with other settings: a complete store made with other settings is
reported failed naming the change, for every engine; the same settings are skipped."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import ecoseg
from ecoseg.batch import batch
from ecoseg.store import MaskStore

SAM2 = dict(pretrained=False, image_size=64, device="cpu", progress=False)
POINT = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[30, 20]]}]}]}


def _run(video, out, **kwargs):
    with ThreadPoolExecutor(1) as pool:
        return batch([video], out, scheduler=pool, **kwargs)


def _error(summary) -> str:
    assert summary["status"].tolist() == ["failed"], summary["error"].tolist()
    return summary["error"].iloc[0]


def _skipped(summary) -> bool:
    return summary["status"].tolist() == ["skipped"]


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("videos")
    clip = ecoseg.synth(folder / "_reef", frames=3, size=(96, 64), seed=3)
    shutil.move(clip.video, folder / "reef.mp4")
    return folder / "reef.mp4"


def test_another_sam2_model_or_prompts_is_not_skipped(video, tmp_path):
    """Only the engine was compared for SAM 2: a re-run with another --model or other prompts
    kept the old stores as 'skipped', with the old numbers."""
    pytest.importorskip("torch")
    prompts, same, other = (tmp_path / f"{n}.json" for n in ("a", "b", "c"))
    prompts.write_text(json.dumps(POINT))
    same.write_text(json.dumps(POINT, indent=2))  # the same prompts, another file
    moved = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[40, 20]]}]}]}
    other.write_text(json.dumps(moved))
    out = tmp_path / "out"
    assert _run(video, out, prompts={"reef": prompts}, **SAM2)["status"].tolist() == ["done"]
    store = out / "reef.zarr"
    labels = MaskStore.open(store).read_labels()

    assert _skipped(_run(video, out, prompts={"reef": same}, **SAM2))  # content, not path
    small = _run(video, out, prompts={"reef": prompts}, **{**SAM2, "model": "sam2.1-small"})
    assert "reef.zarr: the model settings differ from the run that made the store (variant: " in (
        _error(small)
    )
    assert "'sam2.1-tiny' in the store, 'sam2.1-small' now)" in _error(small)
    size = _run(video, out, prompts={"reef": prompts}, **{**SAM2, "image_size": 128})
    assert "(image_size: 64 in the store, 128 now)" in _error(size)
    weights = _run(video, out, prompts={"reef": prompts}, **{**SAM2, "pretrained": True})
    assert (
        "(pretrained: False in the store, True now; seed: 0 in the store, not set now)"
        in _error(weights)
    )
    moved = _run(video, out, prompts={"reef": other}, **SAM2)
    assert "the prompts differ from the run that made the store (prompts of object 1)" in (
        _error(moved)
    )
    auto = _run(video, out, auto=True, **SAM2)
    assert "prompts, automatic discovery setting and backward tracking setting differ" in _error(
        auto
    )
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    error = _error(_run(video, out, prompts={"reef": broken}, **SAM2))
    assert "its settings cannot be compared with this run's (" in error and "broken.json" in error
    assert np.array_equal(MaskStore.open(store).read_labels(), labels)  # nothing touched

    # a store made on a GPU is the one this CPU would make (up to float rounding): skipped
    with MaskStore.open(store, mode="a") as s:
        s.set_provenance(parameters={**s.provenance["parameters"], "device": "cuda"})
    assert _skipped(_run(video, out, prompts={"reef": prompts}, **{**SAM2, "device": "auto"}))


def test_fast_is_compared_as_the_store_records_it(video, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: True)  # any machine
    prompts = tmp_path / "a.json"
    prompts.write_text(json.dumps(POINT))
    out = tmp_path / "out"
    assert _run(video, out, prompts={"reef": prompts}, fast=True, **SAM2)["status"].tolist() == [
        "done"
    ]
    assert _skipped(_run(video, out, prompts={"reef": prompts}, fast=True, **SAM2))
    exact = _run(video, out, prompts={"reef": prompts}, **SAM2)
    assert "(fast: True in the store, False now)" in _error(exact)


# random weights score every query about the same: the best few start tracks
CONCEPT = dict(
    model="sam3-reduced",
    pretrained=False,
    device="cpu",
    progress=False,
    detect_every=2,
    params={"score_threshold": 0.0, "new_track_score": 0.0, "max_objects": 2},
)


@pytest.mark.slow
def test_other_sam3_concepts_or_settings_are_not_skipped(video, tmp_path):
    """SAM 3 concept stores were not compared at all: other --concepts, --detect-every or
    thresholds kept the old stores as 'skipped'."""
    pytest.importorskip("torch")
    import torch

    exemplar = {"frame": 1, "box": [10, 10, 40, 30], "label": 1}
    prompts, boxes = tmp_path / "a.json", tmp_path / "b.json"
    prompts.write_text(json.dumps({"concepts": [{"text": "sea star", "exemplars": [exemplar]}]}))
    exemplar = {**exemplar, "box": [12, 10, 40, 30]}
    boxes.write_text(json.dumps({"concepts": [{"text": "sea star", "exemplars": [exemplar]}]}))
    out = tmp_path / "out"
    torch.manual_seed(0)
    first = _run(video, out, concepts=["parrotfish"], prompts={"reef": prompts}, **CONCEPT)
    assert first["status"].tolist() == ["done"]

    run = dict(concepts=["parrotfish"], prompts={"reef": prompts}, **CONCEPT)
    assert _skipped(_run(video, out, **run))
    wrasse = _run(video, out, **{**run, "concepts": ["wrasse"]})
    assert (
        "reef.zarr: the prompts differ from the run that made the store (concepts: "
        "['sea star', 'parrotfish'] in the store, ['sea star', 'wrasse'] now)"
    ) in _error(wrasse)
    every = _run(video, out, **{**run, "detect_every": 1})
    assert "the parameters differ " in _error(every)
    assert "(detect_every: 2 in the store, 1 now)" in _error(every)
    threshold = _run(video, out, **{**run, "params": {**CONCEPT["params"], "max_objects": 3}})
    assert "(max_objects: 2 in the store, 3 now)" in _error(threshold)
    moved = _run(video, out, **{**run, "prompts": {"reef": boxes}})
    assert "(exemplars of concept 'sea star')" in _error(moved)
    model = _run(video, out, **{**run, "image_size": 112})
    assert "the model settings differ" in _error(model)


@pytest.mark.slow
def test_sam3_fast_is_compared_as_the_store_records_it(video, tmp_path, monkeypatch):
    """SAM 3 concept tracking takes --fast: a bf16 store is skipped with --fast only."""
    pytest.importorskip("torch")
    monkeypatch.setattr("ecoseg.engine._runtime.cpu_has_bf16", lambda: True)  # any machine
    run = dict(concepts=["parrotfish"], **{**CONCEPT, "image_size": 112})
    out = tmp_path / "out"
    assert _run(video, out, fast=True, **run)["status"].tolist() == ["done"]
    assert MaskStore.open(out / "reef.zarr").provenance["parameters"]["fast"] is True
    assert _skipped(_run(video, out, fast=True, **run))
    assert "(fast: True in the store, False now)" in _error(_run(video, out, **run))


def test_an_image_folder_at_another_rate_is_not_skipped(video, tmp_path):
    """--fps of image folders was not compared: a re-run at another rate kept stores whose
    times were the old rate's."""
    folder = tmp_path / "reef"
    folder.mkdir()
    for frame in ecoseg.open_video(video):
        Image.fromarray(frame.image).save(folder / f"{frame.index:02d}.png")
    out = tmp_path / "out"
    assert _run(folder, out, fps=0.5, progress=False)["status"].tolist() == ["done"]
    assert _skipped(_run(folder, out, fps=0.5, progress=False))
    other = _run(folder, out, fps=2, progress=False)
    assert (
        "reef.zarr: the image folder's frame rate (--fps: the store's 0.5 fps, now 2) differs "
        "from the run that made the store; move the store away"
    ) in _error(other)
    assert "the store's 0.5 fps, now 30" in _error(_run(folder, out, progress=False))


def test_a_checkpoint_is_compared_by_its_sha256_not_its_path(video, tmp_path):
    """Another checkpoint file (other weights) kept the old stores as 'skipped'."""
    torch = pytest.importorskip("torch")
    from ecoseg import sam2

    paths = [tmp_path / "w.pt", tmp_path / "moved" / "w.pt", tmp_path / "other.pt"]
    for seed, path in zip((1, 2), paths[::2]):
        torch.manual_seed(seed)
        net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
        torch.save({"model": net.state_dict()}, path)
    paths[1].parent.mkdir()
    shutil.copy(paths[0], paths[1])
    prompts = tmp_path / "a.json"
    prompts.write_text(json.dumps(POINT))
    run = dict(prompts={"reef": prompts}, **{**SAM2, "pretrained": True})
    out = tmp_path / "out"
    assert _run(video, out, checkpoint=paths[0], **run)["status"].tolist() == ["done"]
    assert _skipped(_run(video, out, checkpoint=paths[1], **run))  # moved: the same weights
    other = _run(video, out, checkpoint=paths[2], **run)
    assert "the model settings differ from the run that made the store (checkpoint: " in (
        _error(other)
    )
    random = _run(video, out, prompts={"reef": prompts}, **SAM2)
    assert "checkpoint: {'sha256':" in _error(random) and "not set now" in _error(random)
    assert "pretrained: True in the store, False now" in _error(random)


def test_a_box_cut_to_the_frame_is_the_same_prompt_again(video, tmp_path):
    """A run cuts a box reaching past the frame's edge and records the cut box; batch compared
    the file's uncut box with it, so the same prompts again were reported 'failed' (prompts of
    object 1) instead of skipped."""
    pytest.importorskip("torch")
    prompts = tmp_path / "p.json"
    box = {"objects": [{"id": 1, "prompts": [{"frame": 0, "box": [60, 10, 120, 40]}]}]}
    prompts.write_text(json.dumps(box))
    out = tmp_path / "out"
    with pytest.warns(ecoseg.errors.PromptClippedWarning):
        assert _run(video, out, prompts={"reef": prompts}, **SAM2)["status"].tolist() == ["done"]
    assert _skipped(_run(video, out, prompts={"reef": prompts}, **SAM2))
    box["objects"][0]["prompts"][0]["box"] = [50, 10, 120, 40]
    prompts.write_text(json.dumps(box))
    assert "(prompts of object 1)" in _error(_run(video, out, prompts={"reef": prompts}, **SAM2))


def test_a_parameter_the_store_does_not_record_is_taken_at_its_default(video, tmp_path):
    """A parameter added to ecoseg after a store was made is missing from the store's record:
    batch reported every such store failed, even asked for the default the older code
    behaved as, instead of skipping it."""
    out = tmp_path / "out"
    assert _run(video, out, progress=False)["status"].tolist() == ["done"]
    with MaskStore.open(out / "reef.zarr", mode="a") as store:
        recorded = dict(store.provenance["parameters"])
        del recorded["min_hits"]
        store.set_provenance(parameters=recorded)
    assert _skipped(_run(video, out, progress=False))
    assert _skipped(_run(video, out, params={"min_hits": 3}, progress=False))  # the default
    other = _run(video, out, params={"min_hits": 2}, progress=False)
    assert (
        "reef.zarr: the parameters differ from the run that made the store "
        "(min_hits: not recorded in the store, 2 now)"
    ) in _error(other)


def test_complete_stores_need_no_gpu_nor_weights_here(video, tmp_path, capsys, monkeypatch):
    """A local campaign checked this machine's --device and weights cache before it was
    planned: its tables asked for again on a laptop with no GPU (stores all complete, nothing
    to segment) were refused. Now only a campaign with a video to segment is, before any
    store or summary is touched."""
    import pandas as pd
    import torch

    from ecoseg.cli import main

    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "reef.json").write_text(json.dumps(POINT))
    out = tmp_path / "out"
    made = _run(video, out, prompts={"reef": prompts / "reef.json"}, **SAM2)
    assert made["status"].tolist() == ["done"]
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)  # this machine: no GPU
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "no weights"))
    args = ["--prompts-dir", prompts, "--random-weights", "--image-size", "64"]
    args = [str(a) for a in (*args, "--device", "cuda", "-o", out, "--quiet")]
    capsys.readouterr()
    assert main(["batch", str(video), *args, "--measure"]) == 0
    stdout = capsys.readouterr().out
    assert f"{video}: skipped, 3 frames -> {out / 'reef.zarr'}" in stdout
    summary = pd.read_csv(out / "batch-summary.csv")
    assert summary[["video", "status", "frames"]].values.tolist() == [[str(video), "skipped", 3]]
    counts = pd.read_csv(out / "campaign-counts.csv")
    expected = ecoseg.measure(out / "reef.zarr")["counts"]
    assert counts["count"].tolist() == expected["count"].tolist() and len(counts) > 0

    other = tmp_path / "other.mp4"  # a video to segment: this machine is refused at once
    shutil.copy(ecoseg.synth(tmp_path / "o", frames=3, size=(96, 64), seed=5).video, other)
    (prompts / "other.json").write_text(json.dumps(POINT))
    before = (out / "batch-summary.csv").read_bytes()
    assert main(["batch", str(video), str(other), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ecoseg: error: ") and "'cuda': " in err
    assert not (out / "other.zarr").exists()
    assert (out / "batch-summary.csv").read_bytes() == before
