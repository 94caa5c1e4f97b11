"""YouTube-VIS: one annotation per track, pycocotools decodes each frame's RLE."""

from __future__ import annotations

import json

import numpy as np
import pytest
from pycocotools import mask as mask_utils

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, export, read_annotations
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


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ([3, 2, -2, 2], r"annotations\[0\] \(id 4\) frame 1: bbox width and height must be"),
        ([30, 2, 2, 2], r"frame 1: bbox \[30, 2, 2, 2\] lies outside the 8x6 frame"),
    ],
)
def test_bad_boxes_name_the_track_and_frame(tmp_path, bbox, message):
    """A box-only frame with a negative or off-frame box was imported as nothing, silently."""
    data = {
        "videos": [{"id": 1, "width": 8, "height": 6, "length": 2}],
        "categories": [{"id": 1, "name": "sea star"}],
        "annotations": [
            {
                "id": 4,
                "video_id": 1,
                "category_id": 1,
                "segmentations": [None, []],
                "bboxes": [None, bbox],
            }
        ],
    }
    (tmp_path / "v.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=message):
        read_annotations(tmp_path / "v.json", "ytvis", VideoInfo(8, 6, np.zeros(2), {}))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a: a.update(frame_scores=0.5), r"\(id 4\): 'frame_scores' must be a list"),
        (lambda a: a.update(bboxes={"1": [1, 1, 2, 2]}), r"\(id 4\): 'bboxes' must be a list"),
    ],
)
def test_bad_lists_name_the_track(tmp_path, change, message):
    """These raised TypeError (a traceback)."""
    a = {"id": 4, "video_id": 1, "category_id": 1, "segmentations": [None, None]}
    change(a)
    data = {
        "videos": [{"id": 1, "width": 8, "height": 6, "length": 2}],
        "categories": [{"id": 1, "name": "sea star"}],
        "annotations": [a],
    }
    (tmp_path / "v.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=message):
        read_annotations(tmp_path / "v.json", "ytvis", VideoInfo(8, 6, np.zeros(2), {}))
