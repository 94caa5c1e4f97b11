"""YouTube-VIS: one annotation per track, pycocotools decodes each frame's RLE."""

from __future__ import annotations

import json

import numpy as np
from pycocotools import mask as mask_utils

from ecoseg.formats import export
from ecoseg.store import MaskStore


def test_pycocotools_decodes_every_frame(sample, tmp_path):
    truth = sample[0]
    export(truth, "ytvis", tmp_path / "v.json")
    data = json.loads((tmp_path / "v.json").read_text())
    store = MaskStore.open(truth)
    labels = store.read_labels()
    (video,) = data["videos"]
    assert (video["width"], video["height"], video["length"]) == (640, 360, labels.shape[0])
    assert video["timestamps_s"] == store.read_time().tolist()
    names = {c["id"]: c["name"] for c in data["categories"]}
    assert {a["id"]: names[a["category_id"]] for a in data["annotations"]} == {
        o["id"]: o["class"] for o in store.objects
    }
    for a in data["annotations"]:
        assert len(a["segmentations"]) == labels.shape[0]
        for t, seg in enumerate(a["segmentations"]):
            expected = labels[t] == a["id"]
            if seg is None:
                assert not expected.any()
                assert a["bboxes"][t] is None and a["areas"][t] is None
                continue
            rle = {"size": seg["size"], "counts": seg["counts"].encode()}
            np.testing.assert_array_equal(mask_utils.decode(rle).astype(bool), expected)
            assert a["areas"][t] == expected.sum()
