"""ecoseg.segment / ecoseg segment with SAM 3 concepts: store, classes, provenance, resume,
cancel (reduced network with random weights: plumbing, not accuracy)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("torch")

from suite_helpers import child_env, random_concept_params

from ecoseg.errors import Cancelled, ConfigError, PromptError  # noqa: E402

pytestmark = pytest.mark.slow

# random weights score every query about the same: keep the three best as tracks
PARAMS = random_concept_params(3)


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    import ecoseg

    return ecoseg.synth(str(tmp_path_factory.mktemp("clip") / "c"), frames=4, size=(96, 64))


def _segment(clip, out, **kw):
    import torch

    import ecoseg

    torch.manual_seed(0)  # random weights: the same network in every run

    args = dict(
        model="sam3-reduced",
        pretrained=False,
        device="cpu",
        progress=False,
        params=PARAMS,
        concepts=["parrotfish"],
    )
    args.update(kw)
    return ecoseg.segment(clip.video, out=str(out), **args)


def test_concept_run_writes_classes_and_provenance(clip, tmp_path):
    import ecoseg
    from ecoseg.store import MaskStore

    path = _segment(clip, tmp_path / "m.zarr", detect_every=2)
    store = MaskStore.open(path)
    prov = store.provenance
    assert prov["engine"] == "sam3-concepts"
    assert prov["parameters"]["detect_every"] == 2
    assert prov["prompts"]["concepts"] == [{"text": "parrotfish"}]
    objects = store.objects
    assert objects, "the three best queries become tracks"
    for o in objects:
        d = o.to_dict() if hasattr(o, "to_dict") else dict(o)
        assert d["class"] == "parrotfish" and d["source"] == "concept"
        assert d["class_source"] == "concept" and 0 <= d["class_probability"] <= 1
    assert ecoseg.open_masks(path).sizes["t"] == 4
    store.close()


def test_resume_and_cancel(clip, tmp_path):
    from ecoseg.store import MaskStore

    full = _segment(clip, tmp_path / "full.zarr")
    stop = threading.Event()
    calls = {"n": 0}

    def cancel():
        calls["n"] += 1
        return calls["n"] > 3  # late enough that frames are stored (hot start: 2 frames late)

    with pytest.raises(Cancelled):
        _segment(clip, tmp_path / "part.zarr", cancel=cancel)
    with MaskStore.open(tmp_path / "part.zarr") as cut:
        stored = cut.n_frames
    part = _segment(clip, tmp_path / "part.zarr", resume=True, cancel=stop)
    a, b = MaskStore.open(full), MaskStore.open(part)
    want = a.read_labels()
    # cancelled mid-clip, and the frames the resume computes hold tracks: not two empty stores
    assert 0 < stored < len(want) and want[stored:].any(axis=(1, 2)).all(), stored
    assert np.array_equal(want, b.read_labels())
    assert np.array_equal(a.read_scores(), b.read_scores(), equal_nan=True)
    assert a.objects == b.objects
    a.close(), b.close()


def test_concepts_without_a_model_are_tracked_by_sam3(clip, tmp_path):
    """``ecoseg.segment(video, concepts=[...])`` refused them ("not 'sam2.1-tiny'", the model
    default); like ``--concepts`` they now default to SAM 3 (``model=None``): the run gets as
    far as SAM 3's own settings, before any work."""
    import ecoseg

    out = tmp_path / "x.zarr"
    with pytest.raises(ConfigError, match="detect_every"):
        ecoseg.segment(clip.video, out=str(out), concepts=["a"], detect_every=0, progress=False)
    assert not out.exists()


def test_cli_concept_tracking_writes_what_segment_writes(clip, tmp_path, capsys):
    """``ecoseg segment VIDEO --concepts ...`` runs concept tracking to the end: the store
    ``ecoseg.segment`` writes with the same settings, its path printed."""
    import torch

    import ecoseg
    from ecoseg.cli import main

    out = tmp_path / "cli.zarr"
    torch.manual_seed(0)  # as _segment: the same random network
    args = ["segment", str(clip.video), "-o", str(out), "--model", "sam3-reduced"]
    args += ["--random-weights", "--device", "cpu", "--concepts", "parrotfish"]
    assert main([*args, "--params", json.dumps(PARAMS)]) == 0
    assert capsys.readouterr().out == f"masks: {out}\n"
    api = ecoseg.open_masks(_segment(clip, tmp_path / "api.zarr"))
    cli = ecoseg.open_masks(out)
    assert cli.attrs["provenance"]["engine"] == "sam3-concepts"
    assert (cli["labels"].values == api["labels"].values).all()
    assert cli["labels"].values.any()


def test_bad_inputs_fail_before_work(clip, tmp_path):
    with pytest.raises(ConfigError, match="needs concepts"):
        _segment(clip, tmp_path / "x.zarr", concepts=None)
    with pytest.raises(ConfigError, match="SAM 3"):
        _segment(clip, tmp_path / "x.zarr", model="sam2.1-tiny")
    bad = tmp_path / "p.json"
    bad.write_text(
        json.dumps({"concepts": [{"text": "a", "exemplars": [{"frame": 9, "box": [0, 0, 4, 4]}]}]})
    )
    with pytest.raises(PromptError, match="p.json.*out of range"):
        _segment(clip, tmp_path / "x.zarr", prompts=str(bad), concepts=None)
    assert not (tmp_path / "x.zarr").exists()


def test_cli_flags(clip, tmp_path):
    env = child_env()
    cmd = [
        sys.executable,
        "-m",
        "ecoseg",
        "segment",
        str(clip.video),
        "-o",
        str(tmp_path / "c.zarr"),
        "--model",
        "sam2.1-tiny",
        "--concepts",
        "parrotfish",
    ]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "SAM 3 model" in r.stderr
    cmd[cmd.index("sam2.1-tiny")] = "sam3-reduced"
    r = subprocess.run(cmd + ["--detect-every", "0"], capture_output=True, text=True, env=env)
    assert r.returncode != 0 and "--detect-every" in r.stderr


def test_one_prompt_file_combines_concepts_exemplars_and_objects(clip, tmp_path):
    from ecoseg.store import MaskStore

    file = tmp_path / "prompts.json"
    file.write_text(
        json.dumps(
            {
                "concepts": [
                    {
                        "text": "parrotfish",
                        "exemplars": [
                            {"frame": 1, "box": [10, 8, 40, 30], "label": 1},
                            {"frame": 2, "box": [50, 20, 90, 60], "label": 0},
                        ],
                    }
                ],
                "objects": [
                    {"id": 4, "class": "wrasse", "prompts": [{"frame": 2, "points": [[40, 30]]}]}
                ],
            }
        )
    )
    path = _segment(clip, tmp_path / "m.zarr", prompts=str(file), concepts=None, image_size=112)
    store = MaskStore.open(path)
    prov = store.provenance["prompts"]
    assert [o["id"] for o in prov["objects"]] == [4]
    assert [e["frame"] for e in prov["concepts"][0]["exemplars"]] == [1, 2]
    objects = {o["id"]: o for o in (dict(x) for x in store.objects)}
    assert objects[4]["class"] == "wrasse" and objects[4]["source"] == "prompt"
    assert objects[4]["class_source"] == "prompt"
    found = [i for i in objects if i != 4]
    assert found and min(found) > 4
    assert all(objects[i]["class_source"] == "concept" for i in found)
    # frames 0 and 1, before its prompt, come from the backward pass (unreported frames keep 0)
    column = store.object_ids.tolist().index(4)
    assert (store.read_scores()[:2, column] > 0).all()
    store.close()


def test_resume_with_changed_concepts_or_detect_every_names_the_change(clip, tmp_path, monkeypatch):
    """Resuming a concept run with other concepts or another detect_every was refused as
    "the prompts/parameters differ", naming neither, and only after SAM 3 had loaded; a
    complete store was tracked again from frame 0 for nothing. The refusal now names the
    change, before the network is built, and a complete store is left as it is."""
    from ecoseg import sam3
    from ecoseg.errors import StoreError
    from ecoseg.store import MaskStore

    out = tmp_path / "m.zarr"
    _segment(clip, out, detect_every=2)
    before = MaskStore.open(out)
    labels, objects = before.read_labels(), before.objects
    before.close()

    def no_build(*args, **kwargs):
        raise AssertionError("SAM 3 was built")

    monkeypatch.setattr(sam3, "build", no_build)
    with pytest.raises(
        StoreError, match=r"parameters differ .*\(detect_every: 2 in the store, 3 now\)"
    ):
        _segment(clip, out, detect_every=3, resume=True)
    with pytest.raises(
        StoreError, match=r"concepts: \['parrotfish'\] in the store, \['wrasse'\] now"
    ):
        _segment(clip, out, detect_every=2, concepts=["wrasse"], resume=True)
    with pytest.raises(StoreError, match=r"variant: 'sam3-reduced' in the store, 'sam3' now"):
        _segment(clip, out, detect_every=2, model="sam3", resume=True)
    assert _segment(clip, out, detect_every=2, resume=True) == str(out)  # complete: no work
    after = MaskStore.open(out)
    assert np.array_equal(after.read_labels(), labels) and after.objects == objects
    after.close()


def test_the_vocabulary_beside_a_checkpoint_tokenizes_the_concepts(clip, tmp_path, monkeypatch):
    """`--checkpoint` in a folder with its vocab.json + merges.txt (the hub's download) and no
    weights cache: the network found the vocabulary, but the run asked the cache for it and
    failed with `tokenizer vocabulary not found ...; run ecoseg weights download sam3`."""
    import torch

    from ecoseg import sam3
    from ecoseg.sam2.checkpoint import save_safetensors
    from ecoseg.store import MaskStore

    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "empty-cache"))
    torch.manual_seed(0)
    net = sam3.build("sam3-reduced", pretrained=False, device="cpu")
    folder = tmp_path / "downloaded"
    folder.mkdir()
    path = save_safetensors(net, folder / "model.safetensors")
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    names = ["<|startoftext|>", "<|endoftext|>", *letters, *(f"{c}</w>" for c in letters)]
    vocab = {t: i for i, t in enumerate(names)}
    (folder / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    (folder / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    out = _segment(clip, tmp_path / "m.zarr", pretrained=True, checkpoint=str(path))
    store = MaskStore.open(out)
    assert store.provenance["model"]["checkpoint"]["path"] == str(path)
    store.close()
