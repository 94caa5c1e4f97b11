"""Exports that group each object's masks over the whole video (ytvis: one annotation per
object) stream too: each object's pieces are spilled to one file beside the output as the
store is read chunk by chunk, and joined at the end, so their memory does not grow with the
video's length; cvat writes each mask as a ``<track>`` of its own as it comes (CVAT keeps one
mask per track). Their files are the bytes the whole-store writers would write (kept here as
the reference: :func:`ytvis_dict`, :func:`cvat_tree`), and no spill file is left after success
and failure.

Old code: ``export`` read every mask of the store into :class:`Annotations` before a ytvis or
cvat file was written (CVAT also built its XML tree whole): 470 / 705 MB of peak RSS at
30,000 frames against 175 / 199 at 3,000 (docs/scale.md)."""

from __future__ import annotations

import json
import os
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from formats_helpers import make_store
from test_export_stream import export_peak, moving_store, rich_store

from ecoseg.errors import FormatError
from ecoseg.formats import coco, cvat, export, host_tag, ytvis
from ecoseg.formats._annotated import annotated_range
from ecoseg.formats._annotation_model import Annotations, Instance, Track
from ecoseg.formats._rle import decode_rle, rle_area
from ecoseg.formats._spill import spill_path
from ecoseg.formats._stores import read_store
from ecoseg.store import MaskStore

TRACKS = ("ytvis", "cvat")


@pytest.fixture
def small_spill(monkeypatch):
    """Spill every 2,000 characters: a short test video goes through many flushes (an hour of
    video goes through many of the megabyte the writers buffer)."""
    monkeypatch.setattr("ecoseg.formats._spill._BUDGET", 2000)


def old_bytes(fmt: str, ann: Annotations, path) -> bytes:
    """The file the whole-store writers wrote before these exports streamed."""
    if fmt == "ytvis":
        path.write_text(json.dumps(ytvis_dict(ann), separators=(",", ":")) + "\n")
    else:
        name = os.path.splitext(os.path.basename(ann.source))[0] or "ecoseg"
        cvat_tree(ann, name=name).write(path, encoding="utf-8", xml_declaration=True)
    return path.read_bytes()


def ytvis_dict(ann: Annotations) -> dict:
    """The YouTube-VIS JSON structure the whole-store writer built (``ytvis.to_dict``)."""
    cats = coco.categories(ann)
    classes = ann.class_of()
    tracks = {t.id: t for t in ann.tracks}
    some = annotated_range(ann)
    frames = some or range(ann.n_frames)
    n = len(frames)
    video = {
        "id": 1,
        "width": ann.width,
        "height": ann.height,
        "length": n,
        "file_names": [coco.frame_name(t) for t in frames],
    }
    if some is not None:
        video["frame_indices"] = list(frames)
    if ann.times is not None:
        video["timestamps_s"] = [float(ann.times[t]) for t in frames]
    annotations = []
    for oid, items in ann.by_track().items():
        if not items:  # an object on no frame is no track (it was one of every frame null)
            continue
        lists = {k: [None] * n for k in ("segmentations", "bboxes", "areas", "frame_scores")}
        for inst in items:
            x0, y0, x1, y1 = inst.bounds()
            k = frames.index(inst.frame)
            lists["segmentations"][k] = inst.rle
            lists["bboxes"][k] = [x0, y0, x1 - x0, y1 - y0]
            lists["areas"][k] = rle_area(inst.rle)
            lists["frame_scores"][k] = inst.score
        present = [s for s in lists["frame_scores"] if s is not None]
        # (written where the object has them: the probability since stop 57, source since 58)
        prob, source = tracks[oid].class_probability, tracks[oid].class_source
        annotations.append(
            {
                "id": oid,
                "video_id": 1,
                "category_id": cats[classes[oid]],
                "iscrowd": 0,
                "width": ann.width,
                "height": ann.height,
                "length": n,
                **({} if prob is None else {"class_probability": prob}),
                **({} if source is None else {"class_source": source}),
                "segmentations": lists["segmentations"],
                "bboxes": lists["bboxes"],
                "areas": lists["areas"],
                "score": sum(present) / len(present) if present else 0.0,
                "frame_scores": lists["frame_scores"],
            }
        )
    return {
        "info": coco.info(ann),
        "videos": [video],
        "categories": [{"id": cid, "name": name} for name, cid in cats.items()],
        "annotations": annotations,
    }


def cvat_tree(ann: Annotations, name: str) -> ET.ElementTree:
    """The CVAT document built in memory: each mask a ``<track>`` of its own, in frame order,
    its object the ``group_id`` and the ``object_id`` attribute, ended by an ``outside`` copy
    on the next task frame (as CVAT's ``dump_as_cvat_interpolation`` writes a mask); since
    stop 58 with the object's class probability and class source, where it has them."""
    root = cvat._document(ann, name)
    frames = cvat._task_frames(ann)
    classes = ann.class_of()
    also = {
        t.id: [
            (key, text)
            for key, text in (
                (
                    "class_probability",
                    None if t.class_probability is None else repr(t.class_probability),
                ),
                ("class_source", t.class_source),
            )
            if text is not None
        ]
        for t in ann.tracks
    }
    n = 0
    for _, items in ann.frames():
        for inst in items:
            track = ET.SubElement(root, "track", {"id": str(n), "label": classes[inst.track]})
            track.set("source", "auto")
            track.set("group_id", str(inst.track))
            coded = cvat.mask_to_cvat(decode_rle(inst.rle, ann.height, ann.width, inst.where))
            _cvat_shape(
                track,
                inst.frame,
                coded,
                outside=False,
                score=inst.score,
                oid=inst.track,
                also=also[inst.track],
            )
            if inst.frame + frames.step in frames:
                _cvat_shape(track, inst.frame + frames.step, coded, outside=True, score=None)
            n += 1
    ET.indent(root, space="  ")
    return ET.ElementTree(root)


def _cvat_shape(
    track: ET.Element, frame: int, coded, *, outside: bool, score, oid=None, also=()
) -> None:
    runs, left, top, w, h = coded
    el = ET.SubElement(track, "mask")
    for key, value in (
        ("frame", frame),
        ("keyframe", 1),
        ("outside", int(outside)),
        ("occluded", 0),
        ("rle", ", ".join(str(r) for r in runs)),
        ("left", left),
        ("top", top),
        ("width", w),
        ("height", h),
        ("z_order", 0),
    ):
        el.set(key, str(value))
    if score is not None:
        attr = ET.SubElement(el, "attribute", {"name": "score"})
        attr.text = repr(float(score))
    if oid is not None:
        ET.SubElement(el, "attribute", {"name": "object_id"}).text = str(oid)
    for key, text in also:
        ET.SubElement(el, "attribute", {"name": key}).text = text


@pytest.mark.parametrize("fmt", TRACKS)
def test_export_memory_does_not_grow_with_the_frames(tmp_path, fmt, small_spill):
    """Old code: 4 times the frames took about 4 times the memory (every mask held before
    writing)."""
    short = export_peak(moving_store(tmp_path / "short.zarr", 100), fmt, tmp_path / "short")
    long = export_peak(moving_store(tmp_path / "long.zarr", 400), fmt, tmp_path / "long")
    assert long < 2 * short, f"{fmt}: {short} bytes for 100 frames, {long} for 400"


def many_objects_store(path, objects: int = 130, frames: int = 17) -> str:
    """A school: ``objects`` one-pixel-wide objects coming and going (object k on frames
    where ``(t + k) % 3``), in chunks of 4 frames."""
    lab = np.zeros((frames, 10, objects), np.uint32)
    for t in range(frames):
        for k in range(1, objects + 1):
            if (t + k) % 3:
                lab[t, k % 7 : k % 7 + 3, k - 1] = k
    objs = [{"id": k, "class": f"fish {k % 4}", "source": "truth"} for k in range(1, objects + 1)]
    with MaskStore.create(path, height=10, width=objects, objects=objs, chunk_frames=4) as st:
        st.append(lab, np.arange(frames) / 25.0, np.full((frames, objects), 0.1, np.float32))
        st.mark_complete()
    return str(path)


def empty_store(path, objects: bool) -> str:
    """Three frames without masks (with one object, or none)."""
    objs = [{"id": 4, "class": "crab", "source": "truth"}] if objects else []
    with MaskStore.create(path, height=6, width=8, objects=objs) as st:
        st.append(np.zeros((3, 6, 8), np.uint32), np.arange(3) / 30.0)
        st.mark_complete()
    return str(path)


GRID = {"start": 1, "step": 3, "count": 7, "deleted": [4]}
KEEP = [t for t in range(1, 23, 3)[:7] if t != 4]


def stores(tmp_path, case: str) -> str:
    if case == "rich":  # gaps, an object without masks, odd and non-ASCII classes, scores
        return rich_store(tmp_path / "rich.zarr")
    if case == "stepped":  # every 3rd frame, one deleted in CVAT
        return rich_store(tmp_path / "grid.zarr", {"annotated_frames": GRID}, KEEP)
    if case == "started":  # frames 5.. of the video only (every one)
        grid = {"start": 5, "step": 1, "count": 18}
        return rich_store(tmp_path / "late.zarr", {"annotated_frames": grid}, range(5, 23))
    if case == "school":
        return many_objects_store(tmp_path / "school.zarr")
    return empty_store(tmp_path / f"{case}.zarr", objects=case == "no masks")


CASES = ("rich", "stepped", "started", "school", "no masks", "no objects")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fmt", TRACKS)
@pytest.mark.parametrize("budget", ["small", "default"])
def test_streamed_files_are_the_whole_store_writers_bytes(tmp_path, monkeypatch, fmt, case, budget):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the same 'created' stamp
    if budget == "small":
        monkeypatch.setattr("ecoseg.formats._spill._BUDGET", 200)
    store = stores(tmp_path, case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty stores, unlisted frames: tested elsewhere
        out = export(store, fmt, tmp_path / f"out.{fmt}")
        ann = read_store(store)
        written = tmp_path / f"write.{fmt}"
        (ytvis if fmt == "ytvis" else cvat).write(ann, written)
    old = old_bytes(fmt, ann, tmp_path / f"old.{fmt}")
    with open(out, "rb") as fh:
        assert fh.read() == old
    assert written.read_bytes() == old  # write(ann, path) is the streamed writer too
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(".zarr")) == sorted(
        [f"out.{fmt}", f"write.{fmt}", f"old.{fmt}"]
    ), "a spill or partial file was left"


@pytest.mark.parametrize("fmt", TRACKS)
def test_a_failure_mid_write_removes_the_spill_and_keeps_the_earlier_file(tmp_path, fmt):
    """A mask on a frame the store says nobody annotated, met on frame 20 of 23 after every
    object has spilled pieces: the partial file and the spill file are removed, the earlier
    output is left as it was."""
    keep = [*range(0, 20, 2), 20]  # masks on frames 0, 2, .. 18 and on frame 20, off the grid
    grid = {"start": 0, "step": 2, "count": 10}
    store = rich_store(tmp_path / "off.zarr", {"annotated_frames": grid}, keep)
    earlier = tmp_path / f"tracks.{fmt}"
    earlier.write_text("keep me\n")
    with pytest.raises(FormatError, match="frame 20"):
        export(store, fmt, earlier, overwrite=True)
    assert earlier.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["off.zarr", f"tracks.{fmt}"]


@pytest.mark.parametrize("fmt", ["ytvis"])  # cvat spills nothing: each mask as it comes
def test_write_frames_removes_its_spill_when_the_frames_fail(tmp_path, fmt, small_spill):
    """The frames fail after pieces were flushed to the spill file: it is gone with the error."""
    ann = read_store(many_objects_store(tmp_path / "school.zarr"))
    seen = []

    def frames():
        for t, items in ann.frames():
            if t == 12:
                assert spill_path(tmp_path / "out").stat().st_size > 0  # flushed pieces
                raise OSError("disk full")
            seen.append(t)
            yield t, items

    writer = ytvis if fmt == "ytvis" else cvat
    with pytest.raises(OSError, match="disk full"):
        writer.write_frames(ann, frames(), tmp_path / "out")
    assert seen == list(range(12))
    assert not spill_path(tmp_path / "out").exists()


def test_a_mask_off_the_listed_frames_is_refused_by_the_ytvis_writer(tmp_path):
    """``write(ann)`` of annotations that list frames 0, 2, 4 only, with a mask on frame 3:
    named (old code: ``ValueError: 3 is not in range``)."""
    from ecoseg.provenance import AnnotatedFrames

    rle = {"size": [2, 2], "counts": "02"}  # one column of the 2x2 frame
    ann = Annotations(
        width=2,
        height=2,
        n_frames=6,
        tracks=(Track(7, "crab"),),
        instances=(Instance(frame=3, track=7, rle=rle, box=(0, 0, 1, 2), where="mask 1"),),
        annotated=AnnotatedFrames(start=0, step=2, count=3),
        source="in.json",
    )
    with pytest.raises(FormatError, match=r"in.json: mask 1: frame 3 is not one of the 3 frames"):
        ytvis.write(ann, tmp_path / "out.json")
    assert not spill_path(tmp_path / "out.json").exists()


def test_a_killed_exports_spill_file_is_removed_by_a_later_export(tmp_path):
    dead = 999_999_990  # above pid_max: never a running process
    stale = tmp_path / f".tracks.json.partial-{host_tag()}-{dead}.spill"
    stale.write_bytes(b"[1,2")
    export(make_store(np.ones((2, 4, 4))), "ytvis", tmp_path / "tracks.json")
    assert not stale.exists()  # old code: left for good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracks.json"]
