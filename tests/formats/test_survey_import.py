"""A photo survey's COCO file imported back onto its folder of photographs.

A survey (``ecoseg segment FOLDER --concepts``) exported to COCO names each image by its
photograph; imported onto the folder it made a video-like store (times 0, 0.033, ... s, not
marked as a survey), so info, report and edit took the photographs for footage (speeds, merges
across photographs). A COCO file whose images are the folder's photographs, matched by name,
with no object on two of them, now makes a survey store as ``segment`` does. A file of a video
(tracks through frames, or names that are not the folder's) is imported as before.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from ecoseg.formats import export, import_annotations
from ecoseg.io.video import open_video
from ecoseg.provenance import survey_video
from ecoseg.store import MaskStore

NAMES = ["north.png", "south.png", "west.png"]  # no numbers: nothing but the names places them


def _folder(tmp_path, names=NAMES):
    folder = tmp_path / "quadrats"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in names:
        Image.fromarray(rng.integers(0, 255, (6, 8, 3), np.uint8)).save(folder / name)
    return folder


def _labels():
    labels = np.zeros((3, 6, 8), np.uint32)
    labels[0, 1:3, 2:5], labels[1, 3:5, 1:4], labels[2, 0:2, 0:2], labels[2, 4:6, 5:8] = 1, 2, 3, 4
    return labels


def _survey(tmp_path, folder):
    """A survey store of ``folder`` as ``segment --concepts`` records it."""
    video = survey_video(open_video(folder).record(), NAMES)
    objects = [(1, "brain coral", "concept"), (2, "sea urchin", "concept")]
    objects += [(3, "sea urchin", "concept"), (4, "brain coral", "concept")]
    store = tmp_path / "survey.zarr"
    with MaskStore.create(
        store, height=6, width=8, objects=objects, provenance={"video": video}
    ) as s:
        s.append(_labels(), np.arange(3.0))
        s.mark_complete()
    return store


def _per_photo(store):
    s = MaskStore.open(store)
    labels = s.read_labels()
    classes = {int(o["id"]): o["class"] for o in s.objects}
    return [
        sorted((classes[int(i)], int((lab == i).sum())) for i in np.unique(lab) if i)
        for lab in labels
    ]


def test_a_surveys_coco_file_imports_back_as_the_survey(tmp_path):
    folder = _folder(tmp_path)
    survey = _survey(tmp_path, folder)
    coco = export(survey, "coco", tmp_path / "survey.json")
    back = import_annotations(coco, "coco", folder, tmp_path / "back.zarr")
    store = MaskStore.open(back)
    video = store.provenance_record.video
    assert video.photos == tuple(NAMES)  # a survey, as segment marks one
    assert store.read_time().tolist() == [0.0, 1.0, 2.0]  # the photographs' indices, no times
    assert "fps" not in store.provenance["video"]
    assert video.sha256 == MaskStore.open(survey).provenance_record.video.sha256
    assert _per_photo(back) == _per_photo(survey)  # the same objects on each photograph


def test_another_tools_coco_of_the_photographs_is_placed_by_name(tmp_path):
    """CVAT, Roboflow ... list the images in their own order, ids not the folder's order: the
    annotations went on the photograph at the image's position (south's on north)."""
    folder = _folder(tmp_path)
    data = json.loads(open(export(_survey(tmp_path, folder), "coco", tmp_path / "a.json")).read())
    ids = {img["id"]: 10 - img["id"] for img in data["images"]}  # ids in reverse
    for img in data["images"]:
        img["id"] = ids[img["id"]]
        img["file_name"] = f"task/{img['file_name']}"  # tools keep a folder in the name
        del img["frame_index"], img["time_s"]
    for a in data["annotations"]:
        a["image_id"] = ids[a["image_id"]]
        del a["attributes"]  # still images carry no tracks
    (tmp_path / "b.json").write_text(json.dumps(data))
    back = import_annotations(tmp_path / "b.json", "coco", folder, tmp_path / "back.zarr")
    assert _per_photo(back) == _per_photo(tmp_path / "survey.zarr")
    assert MaskStore.open(back).provenance_record.video.photos == tuple(NAMES)


def test_a_videos_coco_file_stays_a_video(tmp_path):
    """Objects tracked through the frames are footage, even on a folder of images; a file
    whose names are not the folder's is placed by its frames as before."""
    folder = _folder(tmp_path)
    labels = np.zeros((3, 6, 8), np.uint32)
    labels[:, 1:3, 2:5] = 1  # one animal through the three frames
    video = open_video(folder).record()
    with MaskStore.create(
        tmp_path / "v.zarr",
        height=6,
        width=8,
        objects=[(1, "fish", "prompt")],
        provenance={"video": video},
    ) as s:
        s.append(labels, np.arange(3) / 30)
        s.mark_complete()
    coco = export(tmp_path / "v.zarr", "coco", tmp_path / "v.json")
    data = json.loads(open(coco).read())
    assert data["images"][0]["file_name"] == "frame_000000.png"
    for name, file in (("a", coco), ("b", None)):
        if file is None:  # the folder's names, but one track through them: footage
            for img, photo in zip(data["images"], NAMES):
                img["file_name"] = photo
            file = tmp_path / "named.json"
            file.write_text(json.dumps(data))
        back = MaskStore.open(import_annotations(file, "coco", folder, tmp_path / f"{name}.zarr"))
        assert back.provenance_record.video.photos is None
        assert np.allclose(back.read_time(), np.arange(3) / 30)
        assert (back.read_labels() == labels).all()


def test_import_fps_keeps_the_photographs_footage(tmp_path, capsys):
    """``--fps`` says the folder is footage (frames extracted from a video, annotated one by
    one): it is timed at that rate, not made a survey (whose photographs have no times)."""
    from ecoseg.cli import main

    folder = _folder(tmp_path)
    coco = export(_survey(tmp_path, folder), "coco", tmp_path / "survey.json")
    args = ["import", str(coco), "--format", "coco", "--video", str(folder)]
    assert main([*args, "-o", str(tmp_path / "video.zarr"), "--fps", "2"]) == 0
    store = MaskStore.open(tmp_path / "video.zarr")
    assert store.provenance_record.video.photos is None
    assert store.read_time().tolist() == [0.0, 0.5, 1.0]
    assert _per_photo(tmp_path / "video.zarr") == _per_photo(tmp_path / "survey.zarr")
    assert main([*args, "-o", str(tmp_path / "survey2.zarr")]) == 0  # without: a survey
    assert MaskStore.open(tmp_path / "survey2.zarr").provenance_record.video.photos is not None


def _cvat_images(order, names=None):
    """A CVAT for images 1.1 file of an images task of the photographs, listed in CVAT's own
    ``order`` (ids 0, 1, 2 in that order, not the folder's); one box per photograph, as
    ``_labels`` draws its first object there, named by its photograph's class."""
    names = names or order
    boxes = {"north.png": (2, 1, 5, 3), "south.png": (1, 3, 4, 5), "west.png": (0, 0, 2, 2)}
    kinds = {"north.png": "brain coral", "south.png": "sea urchin", "west.png": "sea urchin"}
    images = "".join(
        f'<image id="{k}" name="task/{name}" width="8" height="6">'
        f'<box label="{kinds[photo]}" source="manual" occluded="0" xtl="{boxes[photo][0]}" '
        f'ytl="{boxes[photo][1]}" xbr="{boxes[photo][2]}" ybr="{boxes[photo][3]}" z_order="0"/>'
        "</image>"
        for k, (photo, name) in enumerate(zip(order, names))
    )
    return (
        "<annotations><version>1.1</version><meta><task><id>7</id><size>3</size>"
        "<mode>annotation</mode><start_frame>0</start_frame><stop_frame>2</stop_frame>"
        "<frame_filter></frame_filter><original_size><width>8</width><height>6</height>"
        f"</original_size></task></meta>{images}</annotations>"
    )


def test_a_cvat_images_task_of_the_photographs_imports_as_a_survey(tmp_path):
    """A CVAT images task lists the photographs in its own order (ids 0, 1, 2): each image
    went on the frame of its id, south's box on north, and the store was a video's."""
    folder = _folder(tmp_path)
    path = tmp_path / "annotations.xml"
    path.write_text(_cvat_images(["west.png", "north.png", "south.png"]))
    with pytest.warns(UserWarning, match="each of its shapes is an object of its own"):
        back = MaskStore.open(import_annotations(path, "cvat", folder, tmp_path / "b.zarr"))
    assert back.provenance_record.video.photos == tuple(NAMES)
    assert back.read_time().tolist() == [0.0, 1.0, 2.0]
    labels = back.read_labels()
    classes = {int(o["id"]): o["class"] for o in back.objects}
    boxes = [
        [(classes[int(i)], np.argwhere(lab == i).min(0).tolist()) for i in np.unique(lab) if i]
        for lab in labels
    ]
    assert boxes == [[("brain coral", [1, 2])], [("sea urchin", [3, 1])], [("sea urchin", [0, 0])]]


def test_a_surveys_ytvis_file_imports_back_by_the_photographs_names(tmp_path):
    """YouTube-VIS names each listed frame (``file_names``): onto the folder each goes on its
    photograph, in any order, and the store is the survey (it was a video's, by position)."""
    folder = _folder(tmp_path)
    survey = _survey(tmp_path, folder)
    data = json.loads(open(export(survey, "ytvis", tmp_path / "s.json")).read())
    video = data["videos"][0]
    assert video["file_names"] == NAMES
    order = [2, 0, 1]  # another tool's order: every per-frame list with the names
    video["file_names"] = [video["file_names"][k] for k in order]
    del video["timestamps_s"]
    for a in data["annotations"]:
        for key in ("segmentations", "bboxes", "areas", "frame_scores"):
            a[key] = [a[key][k] for k in order]
    (tmp_path / "t.json").write_text(json.dumps(data))
    back = import_annotations(tmp_path / "t.json", "ytvis", folder, tmp_path / "back.zarr")
    store = MaskStore.open(back)
    assert store.provenance_record.video.photos == tuple(NAMES)
    assert store.read_time().tolist() == [0.0, 1.0, 2.0]
    assert _per_photo(back) == _per_photo(survey)


def test_names_in_another_letter_case_are_the_photographs(tmp_path):
    """A tool (or a Windows disk) that changes a name's case: ``NORTH.PNG`` is the folder's
    ``north.png`` where no other file is spelled so; it was no image of the folder, so the
    file was placed by position and made no survey."""
    folder = _folder(tmp_path)
    data = json.loads(open(export(_survey(tmp_path, folder), "coco", tmp_path / "a.json")).read())
    for img in data["images"]:
        img["file_name"] = img["file_name"].upper()
        del img["frame_index"]
    data["images"].reverse()
    (tmp_path / "b.json").write_text(json.dumps(data))
    back = import_annotations(tmp_path / "b.json", "coco", folder, tmp_path / "back.zarr")
    assert MaskStore.open(back).provenance_record.video.photos == tuple(NAMES)
    assert _per_photo(back) == _per_photo(tmp_path / "survey.zarr")


def test_a_surveys_cvat_export_is_an_images_task_that_imports_back_as_the_survey(tmp_path):
    """A survey's CVAT export was a video task (frames 0, 1, 2, no names: CVAT showed no
    photograph's name, and the file imported back as a video's store); it is an images task
    naming the photographs, and comes back as the survey, object for object."""
    import xml.etree.ElementTree as ET

    folder = _folder(tmp_path)
    survey = _survey(tmp_path, folder)
    xml = export(survey, "cvat", tmp_path / "annotations.xml")
    root = ET.parse(xml).getroot()
    assert root.findtext("meta/task/mode") == "annotation"
    assert [(i.get("id"), i.get("name")) for i in root.iter("image")] == [
        ("0", "north.png"),
        ("1", "south.png"),
        ("2", "west.png"),
    ]
    assert root.find("track") is None
    back = MaskStore.open(import_annotations(xml, "cvat", folder, tmp_path / "back.zarr"))
    assert back.provenance_record.video.photos == tuple(NAMES)
    assert back.read_time().tolist() == [0.0, 1.0, 2.0]
    assert (back.read_labels() == _labels()).all()  # the same ids on the same pixels
    original = MaskStore.open(survey)
    assert [(o["id"], o["class"]) for o in back.objects] == [
        (o["id"], o["class"]) for o in original.objects
    ]
