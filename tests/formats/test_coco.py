"""COCO: pycocotools' own COCO API reads our file and decodes our RLE to the store's masks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from formats_helpers import make_store

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, export, read_annotations
from ecoseg.formats._painting import rasterize
from ecoseg.formats.coco import ImageOrderWarning
from ecoseg.store import MaskStore


def test_pycocotools_decodes_our_masks(sample, tmp_path):
    from pycocotools.coco import COCO

    truth, _, _, _ = sample
    path = export(truth, "coco", tmp_path / "c.json")
    coco = COCO(path)
    labels = MaskStore.open(truth).read_labels()
    objects = {o["id"]: o["class"] for o in MaskStore.open(truth).objects}
    frame_of = {img["id"]: img["frame_index"] for img in coco.dataset["images"]}
    assert len(coco.getImgIds()) == labels.shape[0]
    seen = set()
    for ann in coco.loadAnns(coco.getAnnIds()):
        frame, oid = frame_of[ann["image_id"]], ann["attributes"]["track_id"]
        expected = labels[frame] == oid
        np.testing.assert_array_equal(coco.annToMask(ann).astype(bool), expected)
        assert ann["area"] == expected.sum()
        rows, cols = np.nonzero(expected)
        assert ann["bbox"] == [cols.min(), rows.min(), np.ptp(cols) + 1, np.ptp(rows) + 1]
        assert coco.loadCats(ann["category_id"])[0]["name"] == objects[oid]
        assert ann["iscrowd"] == 0 and ann["score"] == 1.0
        seen.add((frame, oid))
    expected_pairs = {(t, int(i)) for t in range(len(labels)) for i in np.unique(labels[t]) if i}
    assert seen == expected_pairs
    times = MaskStore.open(truth).read_time()
    assert [img["time_s"] for img in coco.dataset["images"]] == times.tolist()


def test_polygons_and_boxes_are_read(tmp_path):
    data = {
        "images": [{"id": 5, "width": 8, "height": 6, "file_name": "a.png"}],
        "categories": [{"id": 1, "name": "crab"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 5,
                "category_id": 1,
                "bbox": [1, 1, 2, 3],
                "segmentation": [[1, 1, 4, 1, 4, 3, 1, 3]],
                "track_id": 4,
            },
            {"id": 2, "image_id": 5, "category_id": 1, "bbox": [5, 2, 2, 2], "track_id": 9},
        ],
    }
    (tmp_path / "p.json").write_text(json.dumps(data))
    video = VideoInfo(8, 6, np.array([0.0, 0.1]), {})
    ann = read_annotations(tmp_path / "p.json", "coco", video)
    by_id = {i.track: i for i in ann.instances}
    assert by_id[4].polygons[0].tolist() == [[1, 1], [4, 1], [4, 3], [1, 3]]
    assert by_id[9].box == (5, 2, 7, 4)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["images"][0].update(width=99), r"image id 1: width 99, but the video is"),
        (lambda d: d["annotations"][0].update(category_id=77), r"annotations\[0\].*category_id 77"),
        (lambda d: d["annotations"][0]["segmentation"].update(size=[3, 3]), "mask size 3x3"),
        (lambda d: d["images"][0].update(frame_index=40), "frame 40 is past the end"),
        (lambda d: d["annotations"][0].update(image_id=1234), "image_id 1234 is not in"),
        # a COCO-VID file (mmtracking, TAO): both videos' images were merged onto one
        (
            lambda d: [img.update(video_id=k + 1) for k, img in enumerate(d["images"])],
            r"c\.json: holds the images of 2 videos \(video_id 1, 2\); a store is one video",
        ),
        # these raised TypeError (a traceback)
        (lambda d: d["images"][0].update(id="a"), "image ids mix numbers and strings"),
        (lambda d: d.update(categories=5), "'categories' must be a list"),
        (lambda d: d["annotations"][0].update(image_id=[1]), r"image_id \[1\] is not in"),
        (  # cut short: pycocotools decoded it, filling the rest with stray memory
            lambda d: d["annotations"][0]["segmentation"].update(counts="51"),
            r"annotations\[0\].*RLE cannot be decoded .*6 pixels, not 5x6 = 30",
        ),
        (  # uncompressed runs cut short: they said 'run lengths do not add up' alone
            lambda d: d["annotations"][0]["segmentation"].update(counts=[10, 5]),
            r"annotations\[0\].*RLE cannot be decoded \(its runs add up to 15 pixels, not 5x6",
        ),
        # masks that set no pixel were imported as nothing, as a polygon on no pixel was not
        (
            lambda d: d["annotations"][0]["segmentation"].update(counts=[30]),
            r"c\.json: annotations\[0\] \(id 1\): the mask covers no pixel of the 6x5 frame "
            r"\(its RLE sets none\)",
        ),
        (
            lambda d: d["annotations"][1]["segmentation"].update(counts="n0"),  # 30: one run
            r"annotations\[1\] \(id 2\): the mask covers no pixel",
        ),
    ],
)
def test_bad_files_name_the_annotation(tmp_path, change, message):
    lab = np.zeros((2, 5, 6), np.uint32)
    lab[:, 1:3, 1:3] = 2
    store = make_store(lab)
    path = export(store, "coco", tmp_path / "c.json")
    data = json.loads((tmp_path / "c.json").read_text())
    change(data)
    (tmp_path / "c.json").write_text(json.dumps(data))
    video = VideoInfo(6, 5, MaskStore.open(store).read_time(), {})
    with pytest.raises(FormatError, match=message):
        read_annotations(path, "coco", video)


def _cvat_coco(annotations):
    """A COCO file as CVAT's "COCO 1.0" export writes a video task with tracks."""
    return {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {"contributor": "", "date_created": "", "description": "", "version": ""},
        "categories": [{"id": 1, "name": "Chromis viridis", "supercategory": ""}],
        "images": [
            {"id": k + 1, "width": 8, "height": 6, "file_name": f"frame_{k:06d}.PNG"}
            for k in range(3)
        ],
        "annotations": annotations,
    }


def _box_annotation(k, image_id, bbox, track_id):
    return {
        "id": k,
        "image_id": image_id,
        "category_id": 1,
        "segmentation": [],
        "area": float(np.prod(bbox[2:])),
        "bbox": bbox,
        "iscrowd": 0,
        "attributes": {"occluded": False, "rotation": 0.0, "track_id": track_id, "keyframe": True},
    }


def test_cvat_tracks_from_zero_are_shifted(tmp_path):
    """CVAT's COCO export numbers tracks from 0 (attributes.track_id); such a file was
    refused ("object id 0 is outside 1..4294967295")."""
    data = _cvat_coco(
        [
            _box_annotation(1, 1, [1.0, 1.0, 2.0, 3.0], 0),
            _box_annotation(2, 2, [2.0, 1.0, 2.0, 3.0], 0),
            _box_annotation(3, 2, [5.0, 2.0, 2.0, 2.0], 1),
        ]
    )
    (tmp_path / "cvat.json").write_text(json.dumps(data))
    video = VideoInfo(8, 6, np.arange(3) / 30, {})
    ann = read_annotations(tmp_path / "cvat.json", "coco", video)
    assert [(i.frame, i.track, i.box) for i in ann.instances] == [
        (0, 1, (1.0, 1.0, 3.0, 4.0)),
        (1, 1, (2.0, 1.0, 4.0, 4.0)),
        (1, 2, (5.0, 2.0, 7.0, 4.0)),
    ]
    assert ann.class_of() == {1: "Chromis viridis", 2: "Chromis viridis"}


def test_tracked_and_untracked_annotations_mixed_are_refused_by_name(tmp_path):
    """A file whose annotations mix track ids and none: refused naming the first of each and
    what to export from CVAT instead (was: 'some annotations have a track_id and some do
    not', naming none)."""
    untracked = _box_annotation(3, 2, [5.0, 2.0, 2.0, 2.0], 0)
    del untracked["attributes"]["track_id"]
    data = _cvat_coco(
        [
            _box_annotation(1, 1, [1.0, 1.0, 2.0, 3.0], 0),
            _box_annotation(2, 2, [2.0, 1.0, 2.0, 3.0], 0),
            untracked,
        ]
    )
    (tmp_path / "mixed.json").write_text(json.dumps(data))
    message = (
        r"mixed\.json: annotations\[2\] \(id 3\) has no track_id but 2 annotations have one "
        r"\(annotations\[0\] \(id 1\) first\).*'CVAT for video 1\.1'"
    )
    with pytest.raises(FormatError, match=message):
        read_annotations(tmp_path / "mixed.json", "coco", VideoInfo(8, 6, np.arange(3) / 30, {}))


@pytest.mark.parametrize(
    ("bbox", "message"),
    [
        ([4, 3, -2, 2], r"annotations\[0\] \(id 1\): bbox width and height must be positive"),
        ([4, 3, 0, 2], "bbox width and height must be positive, got 0x2"),
        # its only box outside the frame: another video's file (one box among others
        # is an animal out of view, left out: tests/formats/test_boxes_out_of_view.py)
        ([9, 1, 2, 2], r"every box lies outside the 8x6 frame \(annotations\[0\] \(id 1\) first"),
        ([1, -5, 2, 3], "every box lies outside the 8x6 frame"),
        ([1, 2, 3], r"bbox \[1, 2, 3\] is not \[x, y, w, h\]"),
    ],
)
def test_bad_boxes_name_the_annotation(tmp_path, bbox, message):
    """A box-only annotation with a negative, empty or off-frame box was imported as an object
    that is on no frame at all, without a word."""
    data = _cvat_coco([_box_annotation(1, 1, bbox, 3)])
    (tmp_path / "c.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=message):
        read_annotations(tmp_path / "c.json", "coco", VideoInfo(8, 6, np.zeros(3), {}))


def test_a_byte_order_mark_is_accepted(tmp_path):
    """JSON saved by Windows tools (Notepad, PowerShell) starts with a UTF-8 byte order mark;
    it was refused as "invalid JSON at line 1 column 1: Unexpected UTF-8 BOM"."""
    data = _cvat_coco([_box_annotation(1, 1, [1.0, 1.0, 2.0, 3.0], 5)])
    data["categories"][0]["name"] = "Ōtaki wrasse"
    text = json.dumps(data, ensure_ascii=False)
    (tmp_path / "c.json").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    ann = read_annotations(tmp_path / "c.json", "coco", VideoInfo(8, 6, np.zeros(3), {}))
    assert ann.class_of() == {5: "Ōtaki wrasse"}


def test_bad_json_names_line(tmp_path):
    (tmp_path / "c.json").write_text('{"images": [\n  1,\n  oops]}')
    with pytest.raises(FormatError, match=r"c\.json: invalid JSON at line 3"):
        read_annotations(tmp_path / "c.json", "coco", VideoInfo(4, 4, np.zeros(1), {}))


@pytest.mark.parametrize("fmt", ["coco", "ytvis"])
def test_json_exports_name_ecoseg_and_the_store(tmp_path, fmt):
    from ecoseg import __version__

    labels = np.zeros((2, 6, 8), np.uint32)
    labels[:, 1:3, 2:5] = 1
    store = make_store(labels, path=str(tmp_path / "reef.zarr"))
    info = json.loads(open(export(store, fmt, tmp_path / "a.json")).read())["info"]
    assert info["description"] == f"exported by ecoseg {__version__} from reef.zarr"
    assert info["version"] == __version__ and info["date_created"]


def test_a_photo_survey_is_exported_under_its_photographs_names(tmp_path):
    """A photo survey (``--concepts`` on images) was exported as frame_000000.png, ... which
    no file of its folder is called, so the COCO file did not pair with the photographs (in
    CVAT, FiftyOne or pycocotools); its images now keep their names, and their frames."""
    labels = np.zeros((2, 6, 8), np.uint32)
    labels[0, 1:3, 2:5], labels[1, 3:5, 1:4] = 1, 2
    names = ["IMG_0912.JPG", "IMG_0915.JPG"]  # numbers that are not frames
    video = {"path": "quadrats", "width": 8, "height": 6, "images": names}
    objects = [(1, "parrotfish", "concept"), (2, "sea urchin", "concept")]
    store = tmp_path / "survey.zarr"
    with MaskStore.create(
        store, height=6, width=8, objects=objects, provenance={"video": video}
    ) as s:
        s.append(labels, np.arange(2.0))
        s.mark_complete()
    coco = json.loads(open(export(store, "coco", tmp_path / "a.json")).read())
    assert [i["file_name"] for i in coco["images"]] == names
    ytvis = json.loads(open(export(store, "ytvis", tmp_path / "v.json")).read())
    assert ytvis["videos"][0]["file_names"] == names
    back = read_annotations(tmp_path / "a.json", "coco", VideoInfo(8, 6, np.arange(2.0), {}))
    assert [(i.frame, i.track) for i in back.instances] == [(0, 1), (1, 2)]


@pytest.mark.parametrize("fmt", ["coco", "ytvis"])
def test_json_exports_are_dated_by_source_date_epoch(tmp_path, fmt, monkeypatch):
    # exports took the clock while stores took SOURCE_DATE_EPOCH: two runs differed in bytes
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    labels = np.zeros((2, 6, 8), np.uint32)
    labels[:, 1:3, 2:5] = 1
    store = make_store(labels, path=str(tmp_path / "reef.zarr"))
    info = json.loads(open(export(store, fmt, tmp_path / "a.json")).read())["info"]
    assert info["date_created"] == "2023-11-14T22:13:20+00:00"


def _uncompressed(mask):
    """pycocotools' uncompressed RLE of a mask: column-major runs, background first."""
    flat = mask.ravel(order="F").astype(np.int8)
    runs = np.diff(np.r_[0, np.flatnonzero(np.diff(flat)) + 1, flat.size]).tolist()
    return {"counts": runs if not flat[0] else [0, *runs], "size": list(mask.shape)}


def test_cvat_coco_export_reads(tmp_path):
    """CVAT's "COCO 1.0" export (Datumaro's coco writer, ``convert_instance``): a mask is
    ``iscrowd: 1`` with an uncompressed RLE, a box has ``segmentation: []``, a polygon a list;
    ``attributes`` hold ``occluded``, ``keyframe`` and ``track_id`` counted from 0; file names
    carry the CVAT frame name and the extension CVAT gives it."""
    mask = np.zeros((6, 8), bool)
    mask[2:4, 1:6] = True
    attrs = {"occluded": False, "keyframe": True}
    data = {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {"contributor": "", "date_created": "", "description": "", "url": ""},
        "categories": [
            {"id": 1, "name": "crab", "supercategory": ""},
            {"id": 2, "name": "sea star", "supercategory": ""},
        ],
        "images": [
            {
                "id": k + 1,
                "width": 8,
                "height": 6,
                "file_name": f"frame_{k:06d}.PNG",
                "license": 0,
                "flickr_url": "",
                "coco_url": "",
                "date_captured": 0,
            }
            for k in range(3)
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": _uncompressed(mask),
                "area": 10.0,
                "bbox": [1.0, 2.0, 5.0, 2.0],
                "iscrowd": 1,
                "attributes": {**attrs, "track_id": 0},
            },
            {
                "id": 2,
                "image_id": 2,
                "category_id": 2,
                "segmentation": [],
                "area": 4.0,
                "bbox": [4.0, 1.0, 2.0, 2.0],
                "iscrowd": 0,
                "attributes": {**attrs, "track_id": 1},
            },
            {
                "id": 3,
                "image_id": 3,
                "category_id": 2,
                "segmentation": [[4.0, 1.0, 6.0, 1.0, 6.0, 3.0, 4.0, 3.0]],
                "area": 4.0,
                "bbox": [4.0, 1.0, 2.0, 2.0],
                "iscrowd": 0,
                "attributes": {**attrs, "keyframe": False, "track_id": 1},
            },
        ],
    }
    (tmp_path / "instances_default.json").write_text(json.dumps(data))
    video = VideoInfo(8, 6, np.arange(3) / 5, {})
    ann = read_annotations(tmp_path / "instances_default.json", "coco", video)
    assert {t.id: t.class_ for t in ann.tracks} == {1: "crab", 2: "sea star"}
    by = {(i.track, i.frame): rasterize(i, 6, 8) for i in ann.instances}
    assert sorted(by) == [(1, 0), (2, 1), (2, 2)]
    np.testing.assert_array_equal(by[1, 0], mask)
    box = np.zeros((6, 8), bool)
    box[1:3, 4:6] = True
    np.testing.assert_array_equal(by[2, 1], box)
    np.testing.assert_array_equal(by[2, 2], box)


def test_images_follow_their_file_names_when_the_ids_disagree(tmp_path):
    """A file whose image ids are not in frame order (Roboflow and Label Studio number images
    their own way) but whose file names are: the frames follow the names, with a warning;
    image id 3 'clip/frame_000000.jpg' was put on frame 2."""
    data = {
        "images": [
            {"id": 3, "file_name": "clip/frame_000000.jpg", "width": 8, "height": 6},
            {"id": 1, "file_name": "clip/frame_000001.jpg", "width": 8, "height": 6},
            {"id": 2, "file_name": "clip/frame_000002.jpg", "width": 8, "height": 6},
        ],
        "categories": [{"id": 0, "name": "fish"}],
        "annotations": [
            {"id": 1, "image_id": 3, "category_id": 0, "bbox": [1, 1, 2, 2], "iscrowd": 0},
            {"id": 2, "image_id": 2, "category_id": 0, "bbox": [4, 1, 2, 2], "iscrowd": 0},
        ],
    }
    (tmp_path / "c.json").write_text(json.dumps(data))
    video = VideoInfo(8, 6, np.arange(3) / 5, {})
    with pytest.warns(ImageOrderWarning, match=r"image id 2 'clip/frame_000002\.jpg' comes bef"):
        ann = read_annotations(tmp_path / "c.json", "coco", video)
    assert sorted((i.frame, i.box) for i in ann.instances) == [
        (0, (1.0, 1.0, 3.0, 3.0)),
        (2, (4.0, 1.0, 6.0, 3.0)),
    ]
    # as Roboflow names them (a hash after the name) and Label Studio (a hash before it)
    for k, name in enumerate(
        (
            "frame_{:04d}_jpg.rf.7c3f1a0b9d2e{}c5a6b7c8d9e0f1a2b3c.jpg",
            "{1}a1b2c3d-frame_{0:04d}.jpg",
        )
    ):
        for img, number in zip(data["images"], (0, 1, 2)):
            img["file_name"] = name.format(number, 9 - number)
        (tmp_path / f"{k}.json").write_text(json.dumps(data))
        with pytest.warns(ImageOrderWarning):
            ann = read_annotations(tmp_path / f"{k}.json", "coco", video)
        assert sorted(i.frame for i in ann.instances) == [0, 2]


def test_pycocotools_cocoeval_scores_our_export_against_itself_ap_1(sample, tmp_path):
    """COCOeval (segm) loads our file as ground truth and its annotations as results (a
    detector's output): AP 1.0; one mask moved off its animal scores below 1."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    path = export(sample[0], "coco", tmp_path / "c.json")
    truth = COCO(path)
    results = [
        {k: a[k] for k in ("image_id", "category_id", "segmentation", "score")}
        for a in json.loads(open(path).read())["annotations"]
    ]

    def ap(res):  # loadRes adds fields to the dicts it is given: give it copies
        ev = COCOeval(truth, truth.loadRes([dict(r) for r in res]), "segm")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        return ev.stats[0]

    assert ap(results) == pytest.approx(1.0)
    empty = np.zeros((360, 640), bool)
    empty[:5, :5] = True
    results[0] = {**results[0], "segmentation": _compressed(empty)}
    assert ap(results) < 1.0


def _compressed(mask):
    from pycocotools import mask as mask_utils

    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": rle["size"], "counts": rle["counts"].decode()}


@pytest.mark.parametrize(
    ("fmt", "entry", "key"),
    [
        ("coco", {"image_id": 3, "category_id": 1, "bbox": [1, 1, 2, 2], "score": 0.9}, "image_id"),
        (
            "ytvis",
            {"video_id": 1, "category_id": 1, "segmentations": [None], "score": 0.9},
            "video_id",
        ),
    ],
)
def test_a_results_file_is_named_as_such(tmp_path, fmt, entry, key):
    """COCO's and YouTube-VIS's results format (what detectors and VIS models write, and what
    COCO.loadRes reads) is a list without the images or videos its ids name; it was refused
    as 'expected a JSON object at the top level'."""
    (tmp_path / "results.json").write_text(json.dumps([entry, entry]))
    with pytest.raises(FormatError, match=rf"results\.json: a list of 2 results .* by {key} only"):
        read_annotations(tmp_path / "results.json", fmt, VideoInfo(8, 6, np.zeros(3), {}))


def _images_file(tmp_path, names, name="c.json"):
    """A COCO file of images named ``names`` (ids 1.. in that order), a box on the second."""
    data = {
        "images": [
            {"id": k + 1, "file_name": n, "width": 8, "height": 6} for k, n in enumerate(names)
        ],
        "categories": [{"id": 1, "name": "fish"}],
        "annotations": [
            {"id": 1, "image_id": 2, "category_id": 1, "bbox": [1, 1, 2, 2], "iscrowd": 0}
        ],
    }
    (tmp_path / name).write_text(json.dumps(data))
    return tmp_path / name


def test_cvat_frame_names_are_video_frames(tmp_path):
    """CVAT names a video task's frames by their video frame number (``frame_000005``;
    cvat/apps/dataset_manager/bindings.py ``_init_frame_info``), in its COCO export too: a
    task of every 5th frame from frame 100 puts its second image on frame 105 (it went on
    frame 1), and the file's frames are recorded as annotated."""
    video = VideoInfo(8, 6, np.arange(120) / 30, {})
    names = [f"frame_{f:06d}.PNG" for f in (100, 105, 110)]
    ann = read_annotations(_images_file(tmp_path, names), "coco", video)
    assert [i.frame for i in ann.instances] == [105]
    assert (ann.annotated.start, ann.annotated.step, ann.annotated.count) == (100, 5, 3)


def test_names_counted_from_0_with_gaps_are_frames_and_from_1_are_positions(tmp_path):
    """Every 10th frame extracted and named by its number from 0: the names are frames; named
    1, 2, 3 (as ffmpeg numbers what it extracts) they are positions, as before."""
    video = VideoInfo(8, 6, np.arange(30) / 30, {})
    gaps = _images_file(tmp_path, ["img_0.jpg", "img_10.jpg", "img_20.jpg"], "a.json")
    assert [i.frame for i in read_annotations(gaps, "coco", video).instances] == [10]
    ffmpeg = _images_file(tmp_path, [f"frame_{k:06d}.png" for k in (1, 2, 3)], "b.json")
    assert [i.frame for i in read_annotations(ffmpeg, "coco", video).instances] == [1]


def test_names_numbered_with_gaps_from_above_0_warn_that_positions_are_taken(tmp_path):
    video = VideoInfo(8, 6, np.arange(30) / 30, {})
    path = _images_file(tmp_path, ["img_3.jpg", "img_8.jpg", "img_13.jpg"])
    with pytest.warns(ImageOrderWarning, match=r"file names number them 3, 8, 13, not 0, 1, 2"):
        ann = read_annotations(path, "coco", video)
    assert [i.frame for i in ann.instances] == [1]


def test_parse_box_takes_the_box_and_where_it_is():
    """Its width and height arguments were never used (a box outside the frame is left out
    later, by read_annotations)."""
    from ecoseg.formats.coco import parse_box

    assert parse_box([10, 20, 5, 4], "a.json: annotations[0]") == (10.0, 20.0, 15.0, 24.0)
