"""Annotation files shaped as the tools write them, saved as people's computers save them.

Facts from the formats' own documents: DIVE's VIAME CSV starts with a ``#`` column header and
a ``# metadata`` line and may end rows with ``(atr)``/``(kp)``/``(poly)`` fields; CVAT for
video 1.1 has ``<meta>``, label attributes and ``keyframe``/``outside``/``occluded`` flags;
MOTChallenge ``gt.txt`` counts frames from 1 (its 9-column layout: conf flag, class,
visibility; CVAT's "MOT 1.1" writes a ``labels.txt`` beside it); CVAT's COCO export names
video frames ``frame_NNNNNN.PNG`` and keeps the track in ``attributes.track_id``; YouTube-VIS
has one list entry per frame (``null`` where the object is absent) and uncompressed RLE.

Each reads the same with Windows line ends, a byte order mark (Notepad) and blank lines at
the end. What read wrong: a polygon or box that covers no pixel (imported as nothing, in
every format), a YouTube-VIS file without ``annotations`` (a valid or test split, imported
as a video with no animals) and a ``gt.txt`` whose rows end with a comma (read as a tracker
file: its ignore rows became animals with score 0, its classes were lost).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecoseg.errors import FormatError
from ecoseg.formats import VideoInfo, read_annotations
from ecoseg.formats._painting import paint_frame

W, H = 64, 48
VIDEO = VideoInfo(W, H, np.arange(4) / 5, {})

VIAME = (
    "# 1: Detection or Track-id,2: Video or Image Identifier,3: Unique Frame Identifier,"
    "4-7: Img-bbox(TL_x,TL_y,BR_x,BR_y),8: Detection or Length Confidence,9: Target Length "
    "(0 or -1 if invalid),10-11+: Repeated Species,Confidence Pairs or Attributes\n"
    '# metadata,fps: 5,"exported_by: ""dive:python"""\n'
    "0,00:00:00.000000,0,1,2,10,12,1,-1,Ōtaki wrasse,1,(atr) occluded false\n"
    "0,00:00:00.200000,1,2,2,11,12,1,-1,Ōtaki wrasse,1,(kp) head 3 4\n"
    "1,00:00:00.200000,1,20,20,30,30,0.9,-1,sergeant major,0.9,damselfish,0.1,"
    "(poly) 20 20 30 20 30 30 20 30\n"
)
GT = "1,1,1,2,9,10,1,1,1.0\n2,1,2,2,9,10,1,1,0.8\n2,2,20,20,10,10,0,1,1.0\n3,2,20,20,10,10,1,2,1\n"
LABELS = "fish\nÖrfisk\n"
CVAT = f"""<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>3</id><name>reef</name><size>4</size><mode>interpolation</mode><overlap>5</overlap>
      <start_frame>0</start_frame><stop_frame>3</stop_frame><frame_filter></frame_filter>
      <labels><label><name>Ōtaki wrasse</name><type>any</type><attributes><attribute>
        <name>sex</name><mutable>False</mutable><input_type>select</input_type>
        <default_value>f</default_value><values>f
m</values></attribute></attributes></label>
        <label><name>crab</name><type>any</type><attributes></attributes></label></labels>
      <original_size><width>{W}</width><height>{H}</height></original_size>
    </task>
    <dumped>2024-01-01 00:00:00.000000+00:00</dumped>
  </meta>
  <track id="0" label="Ōtaki wrasse" source="manual">
    <box frame="0" keyframe="1" outside="0" occluded="0" xtl="1.00" ytl="2.00" xbr="10.00"
         ybr="12.00" z_order="0"><attribute name="sex">f</attribute></box>
    <box frame="1" keyframe="0" outside="0" occluded="0" xtl="2.00" ytl="2.00" xbr="11.00"
         ybr="12.00" z_order="0"><attribute name="sex">f</attribute></box>
    <box frame="2" keyframe="1" outside="1" occluded="1" xtl="2.00" ytl="2.00" xbr="11.00"
         ybr="12.00" z_order="0"><attribute name="sex">f</attribute></box>
  </track>
  <track id="1" label="crab" source="manual">
    <polygon frame="1" keyframe="1" outside="0" occluded="0"
             points="20.00,20.00;30.00,20.00;30.00,30.00" z_order="0"></polygon>
  </track>
</annotations>
"""
_CRAB = {
    "counts": [20 * H + 20, 5, H - 5, 5, W * H - 20 * H - 20 - 5 - (H - 5) - 5],
    "size": [H, W],
}
COCO = json.dumps(
    {
        "licenses": [{"name": "", "id": 0, "url": ""}],
        "info": {"contributor": "", "description": "", "version": "", "year": ""},
        "categories": [
            {"id": 1, "name": "Ōtaki wrasse", "supercategory": ""},
            {"id": 2, "name": "crab", "supercategory": ""},
        ],
        "images": [
            {"id": k + 1, "width": W, "height": H, "file_name": f"frame_{k:06d}.PNG"}
            for k in range(4)
        ],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "segmentation": [[1.0, 2.0, 10.0, 2.0, 10.0, 12.0, 1.0, 12.0]],
                "area": 90.0,
                "bbox": [1.0, 2.0, 9.0, 10.0],
                "iscrowd": 0,
                "attributes": {"occluded": False, "track_id": 0, "keyframe": True},
            },
            {
                "id": 2,
                "image_id": 2,
                "category_id": 1,
                "segmentation": [],
                "area": 90.0,
                "bbox": [2.0, 2.0, 9.0, 10.0],
                "iscrowd": 0,
                "attributes": {"occluded": False, "track_id": 0, "keyframe": False},
            },
            {
                "id": 3,
                "image_id": 2,
                "category_id": 2,
                "segmentation": _CRAB,
                "area": 10.0,
                "bbox": [20.0, 20.0, 2.0, 5.0],
                "iscrowd": 1,
                "attributes": {"occluded": False, "track_id": 1, "keyframe": True},
            },
        ],
    },
    indent=1,
)


def _ytvis(**changes) -> dict:
    video = {"id": 1, "width": W, "height": H, "length": 4}
    video["file_names"] = [f"abc/{k:05d}.jpg" for k in range(4)]
    ann = {"id": 1, "video_id": 1, "category_id": 1, "iscrowd": 0, "height": H, "width": W}
    ann["segmentations"] = [_CRAB, None, _CRAB, None]
    ann["bboxes"] = [[20, 20, 2, 5], None, [20, 20, 2, 5], None]
    ann["areas"] = [10, None, 10, None]
    data = {"info": {"description": "YouTube-VIS"}, "licenses": [], "videos": [video]}
    data["categories"] = [{"supercategory": "object", "id": 1, "name": "Ōtaki wrasse"}]
    data["annotations"] = [ann]
    data.update(changes)
    return data


FILES = {
    "viame": ("dive.csv", VIAME),
    "mot": ("gt.txt", GT),
    "cvat": ("annotations.xml", CVAT),
    "coco": ("instances_default.json", COCO),
    "ytvis": ("valid.json", json.dumps(_ytvis(), ensure_ascii=False, indent=1)),
}
SAVED = {
    "crlf": lambda b: b.replace(b"\n", b"\r\n"),
    "bom": lambda b: b"\xef\xbb\xbf" + b,
    "bom-crlf": lambda b: b"\xef\xbb\xbf" + b.replace(b"\n", b"\r\n"),
    "blank-lines-at-end": lambda b: b + b"\n\n  \n",
}


def _read(folder, fmt, data: bytes):
    name, _ = FILES[fmt]
    folder.mkdir()
    (folder / name).write_bytes(data)
    if fmt == "mot":
        (folder / "labels.txt").write_bytes(LABELS.encode())
    ann = read_annotations(folder / name, fmt, VIDEO)
    frames: dict[int, list] = {}
    for inst in ann.instances:
        frames.setdefault(inst.frame, []).append(inst)
    labels = {t: paint_frame(items, H, W) for t, items in sorted(frames.items())}
    return sorted((t.id, t.class_) for t in ann.tracks), labels


@pytest.mark.parametrize("saved", list(SAVED))
@pytest.mark.parametrize("fmt", list(FILES))
def test_a_file_reads_the_same_however_it_was_saved(tmp_path, fmt, saved):
    data = FILES[fmt][1].encode("utf-8")
    classes, labels = _read(tmp_path / "plain", fmt, data)
    assert any("Ō" in c or "Ö" in c for _, c in classes)  # a name that is not ASCII
    assert labels and all(lab.any() for lab in labels.values())
    again = _read(tmp_path / saved, fmt, SAVED[saved](data))
    assert again[0] == classes
    assert again[1].keys() == labels.keys()
    assert all((again[1][t] == labels[t]).all() for t in labels)


#: the class probabilities each tool's file states: DIVE's species confidences only
STATED = {"viame": {1: 1.0, 2: 0.9}, "mot": {}, "cvat": {}, "coco": {}, "ytvis": {}}


@pytest.mark.parametrize("fmt", list(FILES))
def test_a_tools_file_without_ecosegs_fields_gives_what_it_states(tmp_path, fmt):
    """No ``class_probability`` attribute (COCO, YouTube-VIS, CVAT), no ``(trk-atr)
    class_probability none`` (VIAME), no ``class_source`` (COCO, YouTube-VIS, CVAT): each
    object has the class probability the file states, or none, and no class source (so
    none is reviewed once imported)."""
    name, text = FILES[fmt]
    (tmp_path / name).write_text(text, encoding="utf-8")
    if fmt == "mot":
        (tmp_path / "labels.txt").write_text(LABELS, encoding="utf-8")
    tracks = read_annotations(tmp_path / name, fmt, VIDEO).tracks
    stated = {t.id: t.class_probability for t in tracks if t.class_probability is not None}
    assert stated == STATED[fmt]
    assert {t.class_source for t in tracks} == {None}


def _flat_coco() -> str:
    data = json.loads(COCO)
    data["annotations"][0]["segmentation"] = [[1, 2, 5, 6, 9, 10]]  # points on a line
    return json.dumps(data)


def _flat_ytvis() -> str:
    data = _ytvis()
    data["annotations"][0]["segmentations"][0] = [[1, 1, 1, 1, 1, 1]]
    return json.dumps(data)


@pytest.mark.parametrize(
    ("fmt", "name", "text", "named"),
    [
        ("coco", "a.json", _flat_coco(), r"annotations\[0\] \(id 1\): the polygon"),
        ("ytvis", "a.json", _flat_ytvis(), r"annotations\[0\] \(id 1\) frame 0: the polygon"),
        (
            "viame",
            "a.csv",
            "0,x,0,1,1,4,4,1,-1,fish,1,(poly) 1 1 2 2 3 3\n",
            r"line 1: the polygon",
        ),
        ("viame", "a.csv", "0,x,0,60.6,1,61.4,4,1,-1,fish,1\n", r"line 1: the box"),
        ("mot", "a.txt", "1,1,1.6,1,0.8,3,1,-1,-1,-1\n", r"line 1: the box"),
    ],
    ids=[
        "coco-flat-polygon",
        "ytvis-flat-polygon",
        "viame-flat-polygon",
        "viame-thin-box",
        "mot-thin-box",
    ],
)
def test_a_shape_that_covers_no_pixel_is_refused_in_every_format(tmp_path, fmt, name, text, named):
    """They were imported as nothing: the animal was missing from its frame, silently."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        FormatError, match=name.replace(".", r"\.") + ": " + named + " covers no pixel"
    ):
        read_annotations(path, fmt, VIDEO)


def test_a_youtube_vis_file_without_annotations_is_refused(tmp_path):
    """YouTube-VIS's valid and test splits withhold their annotations: such a file was
    imported as a video with no animals, a truth every prediction scores badly against."""
    data = _ytvis()
    del data["annotations"]
    (tmp_path / "valid.json").write_text(json.dumps(data))
    with pytest.raises(FormatError, match=r"valid\.json: no 'annotations' list"):
        read_annotations(tmp_path / "valid.json", "ytvis", VIDEO)
    (tmp_path / "none.json").write_text(json.dumps(_ytvis(annotations=[])))
    assert read_annotations(tmp_path / "none.json", "ytvis", VIDEO).instances == ()


def test_a_ground_truth_file_whose_rows_end_with_a_comma_is_ground_truth(tmp_path):
    """Read as a 10-column tracker file, its conf flag 0 (ignore) rows became animals of
    score 0 and its class column was dropped."""
    (tmp_path / "labels.txt").write_text(LABELS, encoding="utf-8")
    (tmp_path / "gt.txt").write_text(GT.replace("\n", ",\n"), encoding="utf-8")
    ann = read_annotations(tmp_path / "gt.txt", "mot", VIDEO)
    assert sorted((t.id, t.class_) for t in ann.tracks) == [(1, "fish"), (2, "Örfisk")]
    assert sorted((i.frame, i.track, i.score) for i in ann.instances) == [
        (0, 1, None),
        (1, 1, None),
        (2, 2, None),
    ]
