"""``segment --resume`` onto a kept store made by another engine or with another model: refused
in the words of :func:`ecoseg.engine.resume.check_resumable` before any SAM 2 network is built
or its weights are looked for (it said to download weights for a resume that could not be).

``ecoseg batch`` compares a kept store's settings before any task (tests/batch).
"""

from __future__ import annotations

import pytest
from reliability_helpers import assert_one_line_error, file_tree

import ecoseg


@pytest.fixture
def no_weights(tmp_path, monkeypatch):
    """An empty weights cache: a run that looks for SAM 2 weights is refused for that."""
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(tmp_path / "weights"))


@pytest.fixture
def classical_store(clip, tmp_path):
    out = tmp_path / "classical.zarr"
    ecoseg.segment(clip.video, out=out, progress=False)
    return out


@pytest.fixture
def sam2_store(clip, tmp_path):
    """A SAM 2 ``--auto`` run (random weights, 64 px) cancelled after one frame: resumable."""
    out = tmp_path / "sam2.zarr"
    frames = iter(range(len(ecoseg.open_video(clip.video))))
    with pytest.raises(ecoseg.errors.Cancelled):
        ecoseg.segment(
            clip.video,
            out=out,
            auto=True,
            pretrained=False,
            image_size=64,
            device="cpu",
            progress=False,
            cancel=lambda: next(frames) >= 1,
        )
    return out


@pytest.mark.bad_input
@pytest.mark.parametrize("run", [["--auto"], ["--prompts", "PROMPTS"]], ids=["auto", "prompts"])
def test_resume_of_a_classical_store_with_sam2_says_the_engine_not_the_weights(
    run, classical_store, good_prompts, clip, cli, no_weights, no_model
):
    run = [str(good_prompts) if a == "PROMPTS" else a for a in run]
    before = file_tree(classical_store)
    code, _, err = cli("segment", clip.video, "-o", classical_store, "--resume", *run)
    line = assert_one_line_error(
        code, err, str(classical_store), "the store was made with the classical engine, not sam2"
    )
    assert "weights" not in line
    assert file_tree(classical_store) == before


@pytest.mark.bad_input
def test_resume_of_a_sam2_store_with_another_model_says_so_before_the_weights(
    sam2_store, clip, cli, no_weights, no_model
):
    before = file_tree(sam2_store)
    args = ["--resume", "--auto", "--model", "sam2.1-small", "--image-size", "64"]
    code, _, err = cli("segment", clip.video, "-o", sam2_store, *args)
    line = assert_one_line_error(
        code,
        err,
        str(sam2_store),
        "cannot resume: the model settings differ",
        "variant: 'sam2.1-tiny' in the store, 'sam2.1-small' now",
    )
    assert "download" not in line
    # the library too, with random weights: refused before the network is built
    with pytest.raises(ecoseg.errors.StoreError, match="image_size: 64 in the store, 128 now"):
        ecoseg.segment(
            clip.video, out=sam2_store, resume=True, auto=True, pretrained=False, image_size=128
        )
    assert file_tree(sam2_store) == before


@pytest.mark.bad_input
@pytest.mark.parametrize("scheme", ["memory", "file"])
def test_resume_of_a_url_store_with_sam2_says_the_engine_before_the_network(
    scheme, clip, tmp_path, no_model
):
    """A store given as a URL (``memory://``, ``file://``) was compared with the run's settings
    only once the network was built (the early check looked at local paths only)."""
    if scheme == "memory":
        out = f"memory://resume-settings-{tmp_path.name}/classical.zarr"
    else:
        out = (tmp_path / "classical.zarr").as_uri()
    ecoseg.segment(clip.video, out=out, progress=False)
    with pytest.raises(
        ecoseg.errors.StoreError, match="the store was made with the classical engine, not sam2"
    ):
        ecoseg.segment(clip.video, out=out, resume=True, auto=True, pretrained=False, image_size=64)
