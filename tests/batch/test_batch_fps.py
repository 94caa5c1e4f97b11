"""``ecoseg batch --fps``: every image folder of a campaign timed at the rate given."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import ecoseg
from ecoseg.store import MaskStore

pytest.importorskip("distributed")


def test_every_folder_of_a_batch_is_timed_at_the_rate_given(tmp_path, capsys):
    from ecoseg.cli import main

    folders = []
    for seed, name in enumerate(("reef-a", "reef-b"), start=1):
        clip = ecoseg.synth(tmp_path / f"_{name}", frames=6, size=(64, 48), seed=seed)
        folder = tmp_path / name
        folder.mkdir()
        for frame in ecoseg.open_video(clip.video):
            Image.fromarray(frame.image).save(folder / f"{frame.index:02d}.jpg")
        folders.append(str(folder))
    out = tmp_path / "campaign"
    args = ["batch", *folders, "-o", str(out), "--fps", "0.5", "--workers", "1", "--quiet"]
    assert main(args) == 0, capsys.readouterr().err
    for name in ("reef-a", "reef-b"):
        store = MaskStore.open(out / f"{name}.zarr")
        np.testing.assert_array_equal(store.read_time(), np.arange(6) / 0.5)  # 2 s apart
        assert store.provenance["video"]["fps"] == 0.5
