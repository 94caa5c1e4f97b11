"""A study this machine cannot run: a device it lacks, network weights neither given nor cached.

`ecoseg study --check` passed such a study, and its run failed at that video in the words of
`ecoseg segment` (`--checkpoint PATH`, `use auto or cpu`), without naming the video, after the
videos before it were segmented. Now both refuse it before any work, in one line naming the
study file, the line, the video and the study key to set (ecoseg.study.checks).
"""

from __future__ import annotations

import pytest

CASES = {
    "cuda in the entry": ("    device: cuda\n", "", 6, "device: 'cuda': CUDA is not available"),
    "cuda in defaults": ("", "defaults:\n  device: cuda\n", 3, "device: 'cuda': CUDA is not"),
    "mps": ("    device: mps\n", "", 6, "device: 'mps': Apple MPS is not available here"),
    "sam2 weights": ("", "", 3, "no sam2.1-tiny weights in the weights cache"),
    "discovery weights": (
        "    prompts: null\n    auto: true\n",
        "",
        3,
        "no sam2.1-tiny weights in the weights cache",
    ),
    "sam3 weights": (
        "    prompts: null\n    concepts: [fish]\n",
        "",
        3,
        "no sam3 weights in the weights cache",
    ),
    "sam3 weights, a SAM 2 default model": (  # the entry's line, not the defaults' model's
        # (taken by a sam2 video beside it: a default model no video takes is refused at load)
        "    prompts: null\n    concepts: [fish]\n"
        "  - {path: CLIP, name: other, prompts: PROMPTS}\n",
        "defaults:\n  model: sam2.1-large\n",
        5,
        "no sam3 weights in the weights cache",
    ),
    "unpublished weights": (
        "    prompts: null\n    concepts: [fish]\n    model: sam3-reduced\n",
        "",
        8,
        "model: sam3-reduced has no published weights; set `checkpoint:`",
    ),
}


@pytest.mark.bad_input
@pytest.mark.parametrize("case", sorted(CASES))
def test_a_study_this_machine_cannot_run_is_refused_by_check_and_run_alike(
    case, clip, good_prompts, tmp_path, cli, no_model, monkeypatch
):
    import torch

    import ecoseg.sam3

    monkeypatch.setattr(ecoseg.sam3, "build", no_model_built)
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    entry, defaults, line, reason = CASES[case]
    entry = entry.replace("CLIP", str(clip.video)).replace("PROMPTS", str(good_prompts))
    study = tmp_path / "study.yaml"
    study.write_text(
        f"output: out\n{defaults}videos:\n  - path: {clip.video}\n    name: reef\n"
        f"    prompts: {good_prompts}\n{entry}"
    )
    code, out, err = cli("study", study, "--check")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"ecoseg: error: {study}: line {line}: videos[0] (reef): {reason}")
    key = "device" if "device" in reason else "checkpoint"
    assert f"`{key}:" in err and "--" not in err  # the study's key, not a CLI option
    assert cli("study", study, "--quiet") == (2, "", err)  # the run: before any work
    assert not (tmp_path / "out").exists()


def no_model_built(*args, **kwargs):
    raise AssertionError("a model was loaded before the bad input was reported")


@pytest.mark.bad_input
def test_a_study_whose_sam3_weights_are_cached_without_their_vocabulary_names_the_vocabulary(
    clip, good_prompts, tmp_path, cli, monkeypatch
):
    """The weights cached, their tokenizer vocabulary not: ``--check`` said "no sam3 weights
    in the weights cache (.../vocab.json)", naming the vocabulary file as weights."""
    import ecoseg.sam3
    from ecoseg.sam3.weights import weights_path

    monkeypatch.setattr(ecoseg.sam3, "build", no_model_built)
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "cache"))
    cached = weights_path("sam3")
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"not read")
    study = tmp_path / "study.yaml"
    study.write_text(
        f"output: out\nvideos:\n  - path: {clip.video}\n    name: reef\n"
        f"    prompts: null\n    concepts: [fish]\n"
    )
    code, out, err = cli("study", study, "--check")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(
        f"ecoseg: error: {study}: line 3: videos[0] (reef): no sam3 tokenizer vocabulary in "
        f"the weights cache ({cached.parent / 'vocab.json'}); download it with `ecoseg weights "
        "download sam3`"
    ), err
    assert cli("study", study, "--quiet") == (2, "", err)
    assert not (tmp_path / "out").exists()
