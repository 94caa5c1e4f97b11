"""A store that annotates some frames only exports so that a reader can tell them apart.

A truth store imported from a CVAT task of every 5th frame records those frames
(``provenance["annotated_frames"]``); the frames between are empty because nobody looked. Old
code exported such a store as if every frame were annotated: CVAT with ``start_frame`` 0 and no
``frame_filter`` (every video frame a task frame), COCO and YouTube-VIS listing every frame,
DAVIS a PNG per frame, so the frames nobody annotated came back as frames with no animals.
"""

from __future__ import annotations

import json
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from formats_helpers import make_store

from ecoseg.cli import main
from ecoseg.errors import FormatError
from ecoseg.formats import (
    FORMATS,
    UnannotatedFramesWarning,
    VideoInfo,
    export,
    import_annotations,
    read_annotations,
)
from ecoseg.formats.cvat import SkippedFramesWarning
from ecoseg.store import MaskStore

N = 41  # video frames
GRID = {"start": 0, "step": 5, "count": 9}  # frames 0, 5, .., 40
TIMES = np.arange(N) / 30


def stepped_store(path, grid=GRID, off_grid=False) -> str:
    """A truth store of 41 frames annotated on every 5th frame: object 1 on frames 0..15,
    object 2 on frames 10..40 (task frames only), as an import of a stepped task leaves it."""
    labels = np.zeros((N, 8, 10), np.uint32)
    for t in range(0, 20, 5):
        labels[t, 0:2, t // 5 : t // 5 + 2] = 1
    for t in range(10, N, 5):
        labels[t, 4:7, 3:6] = 2
    grid_frames = range(grid["start"], N, grid["step"])[: grid["count"]]
    labels[[t for t in range(N) if t not in grid_frames]] = 0
    if off_grid:
        labels[3, 0:2, 0:2] = 1  # a mask on a frame nobody annotated
    objects = [{"id": 1, "class": "grouper", "source": "imported"}]
    objects.append({"id": 2, "class": "wrasse", "source": "imported"})
    prov = {"engine": "import", "annotated_frames": dict(grid)}
    with MaskStore.create(path, height=8, width=10, objects=objects, provenance=prov) as st:
        st.append(labels, TIMES)
        st.mark_complete()
    return str(path)


def reimport(tmp_path, file, fmt) -> MaskStore:
    video = VideoInfo(10, 8, TIMES, {})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkippedFramesWarning)
        out = import_annotations(file, fmt, video, tmp_path / f"back-{fmt}.zarr")
    return MaskStore.open(out)


def test_cvat_export_writes_the_task_frames(tmp_path):
    """Old code: start_frame 0, stop_frame 40, empty frame_filter, size 41 (every video frame
    a task frame), and outside markers on frames 16 and 41 that are no task frames."""
    store = stepped_store(tmp_path / "t.zarr")
    out = export(store, "cvat", tmp_path / "t.xml")
    task = ET.parse(out).getroot().find("meta/task")
    meta = {k: task.findtext(k) for k in ("size", "start_frame", "stop_frame", "frame_filter")}
    assert meta == {"size": "9", "start_frame": "0", "stop_frame": "40", "frame_filter": "step=5"}
    assert task.find("segments/segment").findtext("stop") == "8"  # task frames 0..8
    shapes = ET.parse(out).getroot().findall("track/mask")
    assert {int(s.get("frame")) for s in shapes} <= set(range(0, N, 5))
    for track in ET.parse(out).getroot().findall("track"):  # one mask each, ended on the
        frames = [(int(s.get("frame")), s.get("outside")) for s in track]  # next task frame
        assert frames in ([(40, "0")], [(frames[0][0], "0"), (frames[0][0] + 5, "1")])


def test_cvat_round_trip_keeps_the_annotated_frames(tmp_path):
    """Old code: the store read back annotated every frame (no annotated_frames entry)."""
    store = stepped_store(tmp_path / "t.zarr")
    back = reimport(tmp_path, export(store, "cvat", tmp_path / "t.xml"), "cvat")
    assert back.provenance["annotated_frames"] == GRID
    assert (back.read_labels() == MaskStore.open(store).read_labels()).all()


def test_cvat_export_of_a_stretch(tmp_path):
    """A task of part of the video (frames 10..29, every frame): start and stop, no filter."""
    grid = {"start": 10, "step": 1, "count": 20}
    store = stepped_store(tmp_path / "t.zarr", grid=grid)
    task = ET.parse(export(store, "cvat", tmp_path / "t.xml")).getroot().find("meta/task")
    meta = [task.findtext(k) for k in ("size", "start_frame", "stop_frame", "frame_filter")]
    assert meta == ["20", "10", "29", ""]
    back = reimport(tmp_path, tmp_path / "t.xml", "cvat")
    assert back.provenance["annotated_frames"] == grid
    assert (back.read_labels() == MaskStore.open(store).read_labels()).all()


def test_every_frame_store_exports_as_before(tmp_path):
    labels = np.zeros((3, 8, 10), np.uint32)
    labels[:, 1:3, 1:3] = 1
    out = export(make_store(labels), "cvat", tmp_path / "t.xml")
    task = ET.parse(out).getroot().find("meta/task")
    assert (task.findtext("size"), task.findtext("stop_frame")) == ("3", "2")
    assert task.findtext("start_frame") == "0" and not task.findtext("frame_filter")


@pytest.mark.parametrize("fmt", ["coco", "ytvis", "davis"])
def test_listing_formats_list_only_the_annotated_frames(tmp_path, fmt):
    """Old code: every one of the 41 frames listed (an image, a file name, a PNG), so the 32
    frames nobody annotated read back as frames with no animals."""
    store = stepped_store(tmp_path / "t.zarr")
    out = export(store, fmt, tmp_path / ("t" if fmt == "davis" else "t.json"))
    if fmt == "coco":
        listed = [im["frame_index"] for im in json.load(open(out))["images"]]
    elif fmt == "ytvis":
        video = json.load(open(out))["videos"][0]
        listed = video["frame_indices"]
        assert video["length"] == len(video["file_names"]) == 9
        assert video["file_names"][1] == "frame_000005.png"
        assert video["timestamps_s"][1] == pytest.approx(5 / 30)
    else:
        listed = sorted(int(p.stem) for p in (tmp_path / "t").glob("*.png"))
    assert listed == list(range(0, N, 5))
    back = reimport(tmp_path, out, fmt)
    assert back.provenance["annotated_frames"] == GRID
    assert (back.read_labels() == MaskStore.open(store).read_labels()).all()


@pytest.mark.parametrize("fmt", ["mot", "mots", "viame"])
def test_formats_without_a_frame_list_warn(tmp_path, fmt):
    """Old code: written without a word, a reader takes the 32 frames as empty."""
    store = stepped_store(tmp_path / "t.zarr")
    with pytest.warns(UnannotatedFramesWarning, match=rf"the {fmt} format cannot say") as got:
        export(store, fmt, tmp_path / "t.txt")
    assert "0, 5, 10 ... 40 (9 of 41, every 5th from 0)" in str(got[0].message)
    assert "other 32 frames" in str(got[0].message)


def test_cli_export_warns_in_one_line(tmp_path, capsys):
    store = stepped_store(tmp_path / "t.zarr")
    assert main(["export", store, "--format", "mot", "-o", str(tmp_path / "t.txt")]) == 0
    err = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(err) == 1 and err[0].startswith("ecoseg: warning: ")
    assert "cannot say which frames were annotated" in err[0]


def test_mask_off_the_annotated_frames_is_refused(tmp_path):
    """A store whose masks lie on a frame it says nobody annotated: no format holds both."""
    store = stepped_store(tmp_path / "t.zarr", off_grid=True)
    with pytest.raises(FormatError, match=r"frame 3 object 1: has a mask, but .* only frames 0"):
        export(store, "cvat", tmp_path / "t.xml")
    assert not (tmp_path / "t.xml").exists()


def test_coco_with_irregular_images_warns(tmp_path):
    """A COCO file listing frames 0, 1 and 3: the store cannot record them, frame 2 and the
    frames after 3 are imported as empty; the warning says so."""
    store = stepped_store(tmp_path / "t.zarr")
    data = json.load(open(export(store, "coco", tmp_path / "t.json")))
    data["images"] = [dict(data["images"][0], id=k + 1, frame_index=k) for k in (0, 1, 3)]
    data["annotations"] = [a for a in data["annotations"] if a["image_id"] == 1]
    (tmp_path / "odd.json").write_text(json.dumps(data))
    with pytest.warns(UnannotatedFramesWarning, match=r"odd.json: lists images for frames 0, 1, 3"):
        ann = read_annotations(tmp_path / "odd.json", "coco", VideoInfo(10, 8, TIMES, {}))
    assert ann.annotated is None


def test_time_alignment_says_the_listed_frames_are_not_kept(tmp_path):
    store = stepped_store(tmp_path / "t.zarr")
    out = export(store, "coco", tmp_path / "t.json")
    with pytest.warns(UnannotatedFramesWarning, match="aligned by time those are not recorded"):
        ann = read_annotations(out, "coco", VideoInfo(10, 8, TIMES, {}), align="time")
    assert ann.annotated is None


def test_every_format_refuses_the_mask_off_the_annotated_frames_in_the_same_words(tmp_path):
    """DAVIS writes the store's label frames, the other formats its instances: the refusal
    names the same first mask, and nothing is written."""
    store = stepped_store(tmp_path / "t.zarr", off_grid=True)
    messages = set()
    for fmt in FORMATS:
        with pytest.raises(FormatError) as caught:
            export(store, fmt, tmp_path / f"t-{fmt}")
        messages.add(str(caught.value))
    assert [p.name for p in tmp_path.iterdir()] == ["t.zarr"]
    assert len(messages) == 1
    assert "t.zarr: frame 3 object 1: has a mask, but" in messages.pop()
