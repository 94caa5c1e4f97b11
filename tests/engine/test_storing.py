"""Tests for ecoseg/engine/storing.py: sam2 runs through :func:`ecoseg.segment` cancelled and
resumed (from the latest resume state, an older one or none; a resume with the other direction
setting refused; the checkpoint not hashed again), and the frames before the earliest prompt
tracked backwards, with a cancel around that pass.

A resumed run is checked against the uninterrupted run, the backward frames against
:func:`~ecoseg.engine.propagate` in reverse, with the same weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ecoseg.engine.resume import resume_location
from ecoseg.engine.session import propagate
from ecoseg.engine.tracker import TrackerState

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sam2"))
import sam2_oracle  # noqa: E402  (shared oracle helpers of tests/sam2)
from engine_helpers import SEGMENT, prompts, segment_cancelled, small_clip  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:cannot import name '_C':UserWarning")


@pytest.fixture(scope="module")
def synth_clip(tmp_path_factory):
    return small_clip(tmp_path_factory.mktemp("synth"), frames=30)


def test_segment_cancel_then_resume_equals_uninterrupted(synth_clip, tmp_path, monkeypatch):
    import ecoseg
    from ecoseg.engine import storing
    from ecoseg.store import MaskStore

    torch.manual_seed(0)
    full = ecoseg.segment(
        synth_clip.video, prompts(), out=tmp_path / "full.zarr", progress=False, **SEGMENT
    )
    want = MaskStore.open(full).read_labels()
    assert (want > 0).any() and not Path(resume_location(tmp_path / "full.zarr")).exists()

    out = tmp_path / "cut.zarr"
    torch.manual_seed(0)
    segment_cancelled(
        synth_clip.video, prompts(), out, 17, match="cancelled after", resume_every=5, **SEGMENT
    )
    cut = MaskStore.open(out)
    assert 0 < cut.n_frames < 30 and not cut.complete
    assert Path(resume_location(out)).exists()
    ecoseg.open_masks(out)  # the resume-state file does not disturb zarr

    resumed_from = []
    real = storing.propagate

    def spy(*args, **kwargs):
        resumed_from.append(kwargs.get("resume"))
        return real(*args, **kwargs)

    monkeypatch.setattr(storing, "propagate", spy)
    torch.manual_seed(0)
    ecoseg.segment(synth_clip.video, prompts(), out=out, progress=False, resume=True, **SEGMENT)
    assert resumed_from[-1] is not None and resumed_from[-1].next_frame == cut.n_frames
    done = MaskStore.open(out)
    assert done.complete and np.array_equal(done.read_labels(), want)
    assert np.array_equal(done.read_scores(), MaskStore.open(full).read_scores())
    assert not Path(resume_location(out)).exists()


def test_segment_resume_from_older_resume_state_or_none(synth_clip, tmp_path, strong):
    """A kill between saves leaves an older resume state (frames after it are recomputed and
    skipped); without any the run replays from the first prompt. Both exact.

    Strengthened weights: the plain random network's masks vanish after the prompted frames,
    so the resumed frames were empty in both runs and equal whatever the resume did."""
    want = _segment(synth_clip, tmp_path / "f.zarr", backward=False, **strong)
    labels = want.read_labels()
    assert labels[10:].any(axis=(1, 2)).all()  # every frame the resumes compute has pixels

    def cut(name, after):
        out = tmp_path / name
        segment_cancelled(
            synth_clip.video,
            prompts(),
            out,
            after,
            backward=False,  # count the cancel calls of the forward pass only
            **strong,
        )
        return out, Path(resume_location(out))

    early, early_ckpt = cut("early.zarr", 9)
    for keep in ("older", "none"):
        out, ckpt = cut(f"{keep}.zarr", 17)
        blob = ckpt.read_bytes()
        n = int.from_bytes(blob[:8], "little")
        assert TrackerState.from_bytes(blob[8 + n :]).next_frame == 19
        if keep == "none":
            ckpt.unlink()
        else:  # the state after frame 10, as if killed before the stop could be saved
            ckpt.write_bytes(early_ckpt.read_bytes())
        done = _segment(synth_clip, out, resume=True, backward=False, **strong)
        assert np.array_equal(done.read_labels(), labels), keep
        assert np.array_equal(done.read_scores(), want.read_scores()), keep


def _segment(clip, out, **options):
    """``ecoseg.segment`` of ``clip`` with :func:`engine_helpers.prompts` into ``out``, opened."""
    import ecoseg
    from ecoseg.store import MaskStore

    return MaskStore.open(ecoseg.segment(clip.video, prompts(), out=out, progress=False, **options))


@pytest.fixture(scope="module")
def strong(tmp_path_factory):
    """segment() settings with strengthened random weights (objects present: masks not empty)."""
    from ecoseg import sam2

    torch.manual_seed(0)
    net = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
    path = tmp_path_factory.mktemp("weights") / "strong.safetensors"
    sam2.save_safetensors(sam2_oracle.strengthen(net.state_dict()), path)
    return dict(model="sam2.1-tiny", checkpoint=path, image_size=64, device="cpu")


def test_segment_tracks_backwards_from_the_earliest_prompt(synth_clip, tmp_path, strong):
    """Frames before the earliest prompt come from tracking backwards from it (the reverse
    propagation, a fresh session); the frames after it are those of the forward-only run."""
    import ecoseg
    from ecoseg import sam2

    both = _segment(synth_clip, tmp_path / "both.zarr", **strong)
    forward = _segment(synth_clip, tmp_path / "fwd.zarr", backward=False, **strong)
    net = sam2.build("sam2.1-tiny", strong["checkpoint"], image_size=64, device="cpu")
    video = ecoseg.open_video(synth_clip.video)
    back = {r.index: r for r in propagate(net, video, prompts(), reverse=True, output="labels")}
    assert sorted(back) == [0, 1, 2]

    labels = both.read_labels()
    assert labels[:2].any() and not forward.read_labels()[:2].any()
    for f in (0, 1):
        assert np.array_equal(labels[f], back[f].labels), f
        assert np.array_equal(both.read_scores()[f], back[f].scores), f
    assert np.array_equal(labels[2:], forward.read_labels()[2:])
    assert np.array_equal(both.read_scores()[2:], forward.read_scores()[2:])
    assert both.provenance["backward"] is True and forward.provenance["backward"] is False
    assert not list(tmp_path.glob("ecoseg-backward-*"))  # the scratch store is gone


@pytest.mark.parametrize("after,stored", [(1, [0]), (5, [1]), (12, range(2, 30))])
def test_segment_cancelled_around_the_backward_pass_resumes_exactly(
    synth_clip, tmp_path, strong, after, stored
):
    """Cancelled while tracking backwards (nothing stored yet), while handing the backward
    frames out, or early in the forward pass: --resume gives the uninterrupted store."""
    from ecoseg.store import MaskStore

    full = _segment(synth_clip, tmp_path / "full.zarr", **strong)
    assert full.read_labels()[:2].any()
    out = tmp_path / "cut.zarr"
    segment_cancelled(synth_clip.video, prompts(), out, after, match="cancelled after", **strong)
    assert MaskStore.open(out).n_frames in stored  # the phase this case is about
    done = _segment(synth_clip, out, resume=True, **strong)
    assert done.complete and np.array_equal(done.read_labels(), full.read_labels())
    assert np.array_equal(done.read_scores(), full.read_scores())
    assert not list(tmp_path.glob("ecoseg-backward-*"))


def test_segment_resume_with_the_other_direction_setting_is_refused(synth_clip, tmp_path):
    import ecoseg
    from ecoseg.errors import ConfigError, StoreError

    out = tmp_path / "m.zarr"
    torch.manual_seed(0)
    _segment(synth_clip, out, **SEGMENT)
    with pytest.raises(StoreError, match="backward tracking setting differs from"):
        _segment(synth_clip, out, resume=True, backward=False, **SEGMENT)
    with pytest.raises(ConfigError, match="applies to the sam2 engine with prompts"):
        ecoseg.segment(synth_clip.video, out=tmp_path / "c.zarr", backward=False, progress=False)


def test_segment_resume_does_not_hash_the_checkpoint_again(
    synth_clip, tmp_path, strong, monkeypatch
):
    """``segment --resume --checkpoint FILE`` read and hashed the whole checkpoint again for
    the model record on every run (seconds for a large file); the record takes its sha256
    from the hash cache (``cached_sha256_file``), as the video's, so it is read once."""
    import ecoseg._hashing as hashing

    monkeypatch.setenv("ECOSEG_HASH_CACHE", str(tmp_path / "sha256.json"))
    monkeypatch.setattr(hashing, "CACHE_MIN_BYTES", 0)  # the small test checkpoint is cached
    monkeypatch.setattr(hashing, "SETTLE_NS", 0)
    hashing.forget_hashes()
    reads, real = [], hashing.sha256_file
    monkeypatch.setattr(hashing, "sha256_file", lambda p, **kw: reads.append(p) or real(p, **kw))
    out = tmp_path / "m.zarr"
    made = _segment(synth_clip, out, **strong)
    recorded = made.provenance["model"]["checkpoint"]["sha256"]
    done = _segment(synth_clip, out, resume=True, **strong)
    hashing.forget_hashes()
    assert done.complete and recorded == real(strong["checkpoint"])
    assert [str(p) for p in reads].count(str(strong["checkpoint"])) == 1
