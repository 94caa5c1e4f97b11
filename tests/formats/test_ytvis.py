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
        # its only box outside the frame: another video's file (one among others is an
        # animal out of view: tests/formats/test_boxes_out_of_view.py)
        (
            [30, 2, 2, 2],
            r"every box lies outside the 8x6 frame \(annotations\[0\] \(id 4\) frame 1",
        ),
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


def ytvis_2019_file(tmp_path, videos=1):
    """A file shaped as YouTube-VIS 2019's train.json (youtubevos/cocoapi ``ytvos.py`` reads it):
    videos with license and URL fields and ``file_names`` in a folder, category ids that do
    not start at 1, annotations with a global id, ``height``/``width``/``length``, and per
    frame an *uncompressed* RLE (``counts`` a list, column-major runs) or ``null``."""
    mask = np.zeros((6, 8), bool)
    mask[1:3, 2:5] = True
    flat = mask.ravel(order="F").astype(np.int8)  # flat[0] is background, as runs start
    counts = np.diff(np.r_[0, np.flatnonzero(np.diff(flat)) + 1, flat.size]).tolist()
    seg = {"counts": counts, "size": [6, 8]}
    data = {
        "info": {"description": "YouTube-VOS", "version": "1.0"},
        "licenses": [{"url": "https://creativecommons.org/licenses/by/4.0/", "id": 1}],
        "videos": [
            {
                "license": 1,
                "coco_url": "",
                "height": 6,
                "width": 8,
                "length": 3,
                "date_captured": "2019-04-11 00:55:41.903902",
                "file_names": [f"{v}0043f083b5/{k:05d}.jpg" for k in (0, 5, 10)],
                "flickr_url": "",
                "id": v + 1,
            }
            for v in range(videos)
        ],
        "categories": [
            {"supercategory": "object", "id": 26, "name": "fish"},
            {"supercategory": "object", "id": 40, "name": ""},
        ],
        "annotations": [
            {
                "height": 6,
                "width": 8,
                "length": 1,
                "category_id": 26,
                "segmentations": [None, seg, seg],
                "bboxes": [None, [2.0, 1.0, 3.0, 2.0], [2.0, 1.0, 3.0, 2.0]],
                "video_id": 1,
                "iscrowd": 0,
                "id": 1534,
                "areas": [None, 6.0, 6.0],
            },
            {
                "height": 6,
                "width": 8,
                "length": 1,
                "category_id": 40,
                "segmentations": [seg, None, None],
                "bboxes": [[2.0, 1.0, 3.0, 2.0], None, None],
                "video_id": 1,
                "iscrowd": 0,
                "id": 1535,
                "areas": [6.0, None, None],
            },
        ],
    }
    (tmp_path / "train.json").write_text(json.dumps(data))
    return tmp_path / "train.json", mask


def test_a_youtube_vis_2019_file_reads(tmp_path):
    """Uncompressed RLE, null on absent frames, category ids 26 and 40 (one without a name,
    which was named 'None'), global annotation ids: each mask on its frame."""
    path, mask = ytvis_2019_file(tmp_path)
    ann = read_annotations(path, "ytvis", VideoInfo(8, 6, np.arange(3) / 6, {}))
    assert {t.id: t.class_ for t in ann.tracks} == {1534: "fish", 1535: "category_40"}
    assert sorted((i.track, i.frame) for i in ann.instances) == [(1534, 1), (1534, 2), (1535, 0)]
    for inst in ann.instances:
        rle = {"size": inst.rle["size"], "counts": inst.rle["counts"].encode()}
        np.testing.assert_array_equal(mask_utils.decode(rle).astype(bool), mask)


def test_a_file_of_several_videos_is_refused_naming_them(tmp_path):
    """YouTube-VIS's own files hold thousands of videos; the first was taken, whatever
    --video was."""
    path, _ = ytvis_2019_file(tmp_path, videos=2)
    with pytest.raises(
        FormatError, match=r"train\.json: holds 2 videos \(id 1 '00043f083b5', id 2"
    ):
        read_annotations(path, "ytvis", VideoInfo(8, 6, np.arange(3) / 6, {}))


def test_a_file_of_fewer_frames_than_the_video_records_the_frames_it_lists(tmp_path):
    """A file of 3 frames imported against a video of 5: frames 3 and 4, which the file does
    not list, were imported as frames with no animals; they are now not annotated (as for a
    COCO file's images), so evaluate and measure leave them out."""
    from ecoseg.formats import annotated_frames

    path, _ = ytvis_2019_file(tmp_path)
    ann = read_annotations(path, "ytvis", VideoInfo(8, 6, np.arange(5) / 6, {}))
    assert annotated_frames(ann) == {"start": 0, "step": 1, "count": 3}
    ann = read_annotations(path, "ytvis", VideoInfo(8, 6, np.arange(3) / 6, {}))
    assert annotated_frames(ann) is None  # every frame of the video


def test_an_object_with_no_mask_is_no_track_of_the_file(tmp_path):
    """A store's object that no frame shows (the others' file read back) was written as a
    track whose every frame is null, which read_annotations left out with a
    ShapesLeftOutWarning: ecoseg's own export warned on the way back."""
    import warnings

    from ecoseg.formats import ytvis

    lab = np.zeros((3, 8, 10), np.uint32)
    lab[:, 1:4, 1:4] = 1
    objects = [{"id": 1, "class": "crab", "source": "truth"}]
    objects.append({"id": 2, "class": "goby", "source": "truth"})  # on no frame
    with MaskStore.create(tmp_path / "s.zarr", height=8, width=10, objects=objects) as store:
        store.append(lab, np.arange(3) / 30)
        store.mark_complete()
    export(tmp_path / "s.zarr", "ytvis", tmp_path / "v.json")
    data = json.loads((tmp_path / "v.json").read_text())
    assert [a["id"] for a in data["annotations"]] == [1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ann = ytvis.read(tmp_path / "v.json", width=10, height=8)
    assert [t.id for t in ann.tracks] == [1]
