"""``ecoseg.segment``: the shell that joins video, engine and store."""

import pytest

import ecoseg
from ecoseg.errors import StoreError


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("clip") / "c", frames=10, size=(64, 48), seed=3)


def test_resume_with_other_settings_is_refused(clip, tmp_path):
    out = tmp_path / "m.zarr"
    ecoseg.segment(clip.video, out=out, progress=False, params={"threshold": 4.0})
    before = ecoseg.open_masks(out).labels.values

    with pytest.raises(StoreError, match=r"m\.zarr: cannot resume: the parameters differ"):
        ecoseg.segment(clip.video, out=out, progress=False, resume=True)
    # the same settings resume (nothing left to do here) and leave the masks as they were
    ecoseg.segment(clip.video, out=out, progress=False, resume=True, params={"threshold": 4.0})
    assert (ecoseg.open_masks(out).labels.values == before).all()


def test_resume_from_another_engine_is_refused(clip, tmp_path):
    out = tmp_path / "m.zarr"
    ecoseg.segment(clip.video, out=out, progress=False)
    prompts = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[10, 10]]}]}]}
    with pytest.raises(StoreError, match="made with the classical engine"):
        ecoseg.segment(
            clip.video,
            prompts,
            out=out,
            resume=True,
            pretrained=False,
            image_size=64,
            device="cpu",
            progress=False,
        )
