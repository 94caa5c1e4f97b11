"""YouTube-VIS (and OVIS) video instance segmentation JSON: one annotation per track.

Written (one file, one video)::

    {"info": {...}, "videos": [{"id": 1, "width": W, "height": H, "length": T,
                                "file_names": ["frame_000000.png", ...],
                                "timestamps_s": [0.0, 0.033, ...]}],
     "categories": [{"id": 1, "name": "parrotfish"}, ...],
     "annotations": [{"id": 3, "video_id": 1, "category_id": 1, "iscrowd": 0,
                      "width": W, "height": H, "length": T,
                      "segmentations": [null, {"size": [H, W], "counts": "..."}, ...],
                      "bboxes": [null, [x, y, w, h], ...], "areas": [null, 412, ...],
                      "score": 0.97, "frame_scores": [null, 0.97, ...]}]}

A store that annotates some frames only (``provenance["annotated_frames"]``, e.g. every 5th
frame, as YouTube-VIS itself is annotated) lists only those frames: ``length``, ``file_names``
and the per-frame lists cover them, and ``"frame_indices": [0, 5, ...]`` (ecoseg's addition)
gives each one's video frame; a reader maps position k to ``frame_indices[k]`` (else to frame
k) and records the listed frames as the annotated ones.

The annotation ``id`` is the object id; ``score`` is the mean over the frames where the object
is present (the YouTube-VIS results convention) and ``frame_scores`` (ecoseg's addition) keeps
each frame's score; ``class_probability`` and ``class_source`` (ecoseg's additions) the
object's class probability and class source, where the store has them. Read, a track's class
probability is its ``class_probability``, else the ``score`` of a results file (one without
``frame_scores``: a model's confidence in the track's category); its class source its
``class_source`` (one of :data:`~ecoseg.provenance.CLASS_SOURCES`, else refused), else none;
its ``reviewed`` (ecoseg's, true or false, written where the class source does not say
it: :func:`~ecoseg.formats.coco.class_fields`) the reviewed flag an import gives it.
Frames without the object are ``null``. A file without an ``annotations`` list
(YouTube-VIS's valid and test splits withhold theirs) is refused: it does not say what is on
the frames (``"annotations": []`` is a video with no animals). An annotation that no frame
shows (every segmentation null, or empty with no box) is left out with a
:class:`~ecoseg.formats._left_out.ShapesLeftOutWarning` naming it (it became an object with no
mask).
"""

from __future__ import annotations

import json
from array import array
from bisect import bisect_left
from collections.abc import Iterable
from pathlib import Path

from ecoseg.errors import FormatError
from ecoseg.formats import coco
from ecoseg.formats._annotated import annotated_range, listed_frames, warn_unlisted
from ecoseg.formats._annotation_model import Annotations, Instance, Track, file_annotations
from ecoseg.formats._left_out import warn_objects_left_out
from ecoseg.formats._photo_names import folder_frames
from ecoseg.formats._rle import rle_area
from ecoseg.formats._spill import Spill, spill_path
from ecoseg.formats._values import (
    class_source,
    flag,
    integer,
    number,
    positive_id,
    probability,
    size_differs,
)

NAME = "ytvis"
KIND = "mask"
TIMES = True
SUFFIX = ".json"
#: what names the frames a file annotates (its frames past the video's end are refused)
LISTS = "frames"
#: :func:`read` matches ``file_names`` to an image folder's files by name (``images=``)
BY_NAME = True


def write(ann: Annotations, path: Path) -> None:
    """Write ``ann`` as one YouTube-VIS JSON file."""
    write_frames(ann, ann.frames(), path)


def write_frames(
    head: Annotations, frames: Iterable[tuple[int, list[Instance]]], path: Path
) -> None:
    """Write the masks of ``frames`` (``(frame, instances)`` in frame order) as one
    YouTube-VIS JSON file, with memory that does not grow with the frames (``head``: the
    size, objects, times and annotated frames).

    Each object's per-frame lists are spilled, as they come, to one file beside ``path``
    (:class:`~ecoseg.formats._spill.Spill`, removed after success or failure) and joined
    into its annotation once every frame is read.

    Raises
    ------
    FormatError
        A mask on a frame the file does not list (past the video, or off its annotated
        frames).
    """
    cats = coco.categories(head)
    classes = head.class_of()
    tracks = {t.id: t for t in head.tracks}
    some = annotated_range(head)
    listed = some or range(head.n_frames)
    n = len(listed)
    dump = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps's, made once
    with open(path, "w", encoding="utf-8") as fh, Spill(spill_path(path)) as spill:
        fh.write(f'{{"info":{dump(coco.info(head))},"videos":[')
        _write_video(fh, head, listed, some is not None, dump)
        fh.write(f'],"categories":{dump([{"id": c, "name": k} for k, c in cats.items()])}')
        fh.write(',"annotations":[')
        done = {t.id: 0 for t in head.tracks}  # positions written of each object's lists
        for t, items in frames:
            k = bisect_left(listed, t)  # the frame's position in the file's lists
            for inst in items:
                if k == n or listed[k] != t:
                    raise FormatError(
                        f"{head.source}: {inst.where}: frame {t} is not one of the {n} frames "
                        "the file lists"
                    )
                _spill_instance(spill, inst, k, done, dump)
        shown = [oid for oid in done if done[oid]]  # an object with no mask is no track: it
        for j, oid in enumerate(shown):  # was written with every frame null, which a reader
            fh.write("," if j else "")  # leaves out with a warning (ours too)
            _write_track(fh, spill, tracks[oid], n, done[oid], dump, head, cats[classes[oid]])
        fh.write("]}\n")


#: the per-frame lists of an annotation, in the order they are written
_LISTS = ("segmentations", "bboxes", "areas", "frame_scores")


def _write_video(fh, head: Annotations, listed, some: bool, dump) -> None:
    """The ``videos`` entry, its per-frame lists written in batches."""
    head_entry = {"id": 1, "width": head.width, "height": head.height, "length": len(listed)}
    fh.write(dump(head_entry)[:-1] + ',"file_names":[')
    coco.write_items(fh, (coco.file_name(head, t) for t in listed), dump)
    if some:
        fh.write('],"frame_indices":[')
        coco.write_items(fh, iter(listed), dump)
    if head.times is not None:
        fh.write('],"timestamps_s":[')
        coco.write_items(fh, (float(head.times[t]) for t in listed), dump)
    fh.write("]}")


def _nulls(start: int, stop: int) -> str:
    """List items ``start .. stop - 1`` of an object absent there (comma-separated)."""
    if stop <= start:
        return ""
    return ("null" if start == 0 else ",null") + ",null" * (stop - start - 1)


def _spill_instance(spill: Spill, inst: Instance, k: int, done: dict, dump) -> None:
    """Add an object's values on list position ``k`` (nulls on the positions since its last)."""
    oid = inst.track
    if k < done[oid]:
        raise FormatError(f"{inst.where}: object {oid} has a second mask on frame {inst.frame}")
    x0, y0, x1, y1 = inst.bounds()
    gap = _nulls(done[oid], k) + ("," if k else "")
    values = (inst.rle, [x0, y0, x1 - x0, y1 - y0], rle_area(inst.rle), inst.score)
    for name, value in zip(_LISTS, values):
        spill.add((oid, name), gap + dump(value))
    done[oid] = k + 1


def _write_track(fh, spill: Spill, track: Track, n: int, done: int, dump, head, category) -> None:
    """An object's annotation, its lists read back from the spill file; ``score`` the mean of
    its frame scores (read back too: ``repr`` of a float parses to the same float), summed as
    ``sum`` sums them; ``class_probability`` and ``class_source`` where the object has them
    (:func:`~ecoseg.formats.coco.class_fields`)."""
    oid = track.id
    present = array("d")
    for piece in spill.read((oid, "frame_scores")):
        present.extend(float(v) for v in piece.split(",") if v not in ("", "null"))
    entry = {
        "id": oid,
        "video_id": 1,
        "category_id": category,
        "iscrowd": 0,
        "width": head.width,
        "height": head.height,
        "length": n,
    }
    entry.update(coco.class_fields(track))
    fh.write(dump(entry)[:-1])
    for name in _LISTS:
        if name == "frame_scores":
            fh.write(f',"score":{dump(sum(present) / len(present) if present else 0.0)}')
        fh.write(f',"{name}":[')
        fh.writelines(spill.read((oid, name)))
        fh.write(_nulls(done, n) + "]")
    fh.write("}")


#: a file that is no JSON refused without the video, as for COCO
check_syntax = coco.check_syntax


def read(
    path: Path, *, width: int, height: int, images: tuple[str, ...] | None = None
) -> Annotations:
    """Read a YouTube-VIS JSON file holding one video (a file of several is refused, naming
    them: YouTube-VIS's own ``train.json`` holds thousands, and which one is ``--video``
    cannot be told). ``images``: an image folder's file names, in frame order: where the
    video's ``file_names`` are its files, each listed frame goes on the file of its name
    (:func:`~ecoseg.formats._photo_names.folder_frames`; before ``frame_indices``) and the
    annotations carry them as ``image_names``."""
    data = coco.load_json(path)
    videos = data.get("videos")
    if not isinstance(videos, list) or not videos or not isinstance(videos[0], dict):
        raise FormatError(f"{path}: no 'videos' list (not a YouTube-VIS file)")
    if len(videos) > 1:
        raise FormatError(
            f"{path}: holds {len(videos)} videos ({_video_names(videos)}); a store "
            "is one video: keep that video's entry and its annotations in a file "
            "of its own"
        )
    if data.get("annotations") is None:  # an empty list is a video with no animals
        raise FormatError(
            f"{path}: no 'annotations' list: a YouTube-VIS file without one (a valid or test "
            "split, whose annotations are withheld) does not say what is on the frames; it "
            'is not a video with no animals (that is "annotations": [])'
        )
    video = videos[0]
    where = f"{path}: videos[0] (id {video.get('id')})"
    for side, expect in (("width", width), ("height", height)):
        if side in video and integer(video[side], where, side) != expect:
            raise size_differs(where, f"{side} {video[side]}", width, height)
    times = video.get("timestamps_s")
    indices = _frame_indices(video, where)
    listed = _listed_count(video, indices, where)
    by_name = _named_frames(video, images, listed, path, where)
    placed, placing = (indices, "frame_indices") if by_name is None else (by_name, "file_names")
    cats = coco.category_names(data, path)
    tracks: dict[int, Track] = {}
    instances = []
    unseen: list[str] = []  # the tracks no frame shows, left out
    gone: set[int] = set()  # their ids
    for k, a in enumerate(coco.records(data, "annotations", path)):
        awhere = f"annotations[{k}] (id {a.get('id')})"
        if "id" in video and a.get("video_id", video["id"]) != video["id"]:
            raise FormatError(  # it was left out without a word, and its animal with it
                f"{path}: {awhere}: video_id {a.get('video_id')!r} is not the file's video "
                f"(id {video['id']!r}): keep only that video's annotations in the file"
            )
        oid = positive_id(a.get("id"), f"{path}: {awhere}")
        if oid in tracks or oid in gone:
            raise FormatError(f"{path}: {awhere}: id {oid} is given to two annotations (tracks)")
        coco.listed_key(a, "category_id", cats, "categories", f"{path}: {awhere}")
        given, mark = a.get("class_source"), a.get("reviewed")
        source = None if given is None else class_source(given, f"{path}: {awhere}")
        reviewed = None if mark is None else flag(mark, f"{path}: {awhere}", "reviewed")
        p = _class_probability(a, path, awhere)
        tracks[oid] = Track(oid, cats[a["category_id"]], p, source, reviewed)
        before = len(instances)
        segs = a.get("segmentations")
        boxes = a.get("bboxes") or []
        frame_scores = a.get("frame_scores") or []
        for key, value in (
            ("segmentations", segs),
            ("bboxes", boxes),
            ("frame_scores", frame_scores),
        ):
            if not isinstance(value, list):
                raise FormatError(f"{path}: {awhere}: '{key}' must be a list (one per frame)")
            if listed is not None and len(value) != listed and (value or key == "segmentations"):
                raise FormatError(  # its frames were dropped without a word, or misplaced
                    f"{path}: {awhere}: '{key}' has {len(value)} entries for the "
                    f"{listed} frames the video lists (one per frame, null where the object "
                    "is absent); cut short?"
                )
        for t, seg in enumerate(segs):
            fwhere = f"{awhere} frame {t}"
            if seg is None:
                continue
            if placed is not None and t >= len(placed):
                raise FormatError(f"{path}: {fwhere}: past the {len(placed)} frames of '{placing}'")
            rle, polys = coco.parse_segmentation(seg, f"{path}: {fwhere}", height, width)
            score = (
                frame_scores[t]
                if t < len(frame_scores) and frame_scores[t] is not None
                else a.get("score")
            )
            box = None
            if rle is None and not polys and t < len(boxes) and boxes[t] is not None:
                box = coco.parse_box(boxes[t], f"{path}: {fwhere}")
            if rle is None and not polys and box is None:
                continue
            time = None
            if isinstance(times, list) and t < len(times):
                time = number(times[t], f"{path}: videos[0] timestamps_s[{t}]", "time")
            instances.append(
                Instance(
                    frame=t if placed is None else placed[t],
                    track=oid,
                    rle=rle,
                    box=box,
                    polygons=polys,
                    score=None if score is None else probability(score, f"{path}: {fwhere}"),
                    time=time,
                    where=fwhere,
                )
            )
        if len(instances) == before:  # it became an object with no mask
            unseen.append(awhere)
            gone.add(oid)
            del tracks[oid]
    warn_objects_left_out(
        str(path),
        unseen,
        "every frame's segmentation (and box) of it is null, so no frame shows it",
    )
    n = integer(video.get("length", 0), where, "length")
    annotated = None
    if placed is None and listed is not None:  # frames 0..listed-1: those after are not
        annotated = listed_frames(range(listed))  # annotated (they were 'no animals')
        n = listed
    if placed is not None:
        annotated = listed_frames(placed)
        if annotated is None and placed:
            warn_unlisted(str(path), placed, placing)
        n = max(placed, default=-1) + 1
    return file_annotations(
        path,
        width,
        height,
        tracks.values(),
        instances,
        n_frames=n,
        annotated=annotated,
        image_names=None if by_name is None else tuple(images),
    )


def _class_probability(a: dict, path: Path, where: str) -> float | None:
    """A track's class probability: ecoseg's ``class_probability``, else the ``score`` of a
    results file (a track's confidence in its category, as YouTube-VIS's evaluation reads
    it; ecoseg's own files give each frame's score, ``frame_scores``, and their ``score`` is
    the mean of those, no class probability), else None.

    Examples
    --------
    >>> _class_probability({"score": 0.8}, Path("r.json"), "annotations[0]")
    0.8
    >>> _class_probability({"score": 0.8, "frame_scores": [0.8]}, Path("r.json"), "a") is None
    True
    """
    if a.get("class_probability") is not None:
        value = a["class_probability"]
        return probability(value, f"{path}: {where}", "class_probability")
    if a.get("score") is not None and "frame_scores" not in a:
        return probability(a["score"], f"{path}: {where}", "score")
    return None


def _named_frames(
    video: dict, folder: tuple[str, ...] | None, listed: int | None, path: Path, where: str
) -> list[int] | None:
    """The frame of each listed frame where the video's ``file_names`` are an image folder's
    files (``folder``; :func:`~ecoseg.formats._photo_names.folder_frames`), else None.
    Refuses names of fewer or more frames than the video lists, and what ``folder_frames``
    refuses."""
    names = video.get("file_names")
    if not folder or not isinstance(names, list):
        return None
    items = [(f"videos[0] file_names[{k}]", name) for k, name in enumerate(names)]
    frames = folder_frames(items, folder, path)
    if frames is not None and listed is not None and len(frames) != listed:
        raise FormatError(
            f"{where}: 'file_names' has {len(frames)} names for the {listed} frames the video "
            "lists (one per frame, matched to the folder's images by name); cut short?"
        )
    return frames


def _listed_count(video: dict, indices: list[int] | None, where: str) -> int | None:
    """How many frames the video entry lists (``frame_indices``, else ``length``, else
    ``file_names``), the length of each annotation's lists; None when it says nothing.
    Refuses an entry that lists no frame, or a ``length`` other than its ``frame_indices``.

    Examples
    --------
    >>> _listed_count({"length": 3, "file_names": ["a", "b", "c"]}, None, "v")
    3
    >>> _listed_count({}, None, "v") is None
    True
    >>> _listed_count({"length": 0}, None, "v")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: v: lists no frames (length 0): it annotates no frame of the video
    """
    length = integer(video["length"], where, "length") if "length" in video else None
    names = video.get("file_names")
    count = len(indices) if indices is not None else length
    if count is None and isinstance(names, list):
        count = len(names)
    if indices is not None and length is not None and length != len(indices):
        raise FormatError(
            f"{where}: length {length} but {len(indices)} frame_indices (one per listed frame)"
        )
    if count == 0:
        raise FormatError(
            f"{where}: lists no frames (length 0): it annotates no frame of the video"
        )
    return count


def _frame_indices(video: dict, where: str) -> list[int] | None:
    """The video frame of each listed frame (``frame_indices``), None when not given."""
    raw = video.get("frame_indices")
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise FormatError(f"{where}: 'frame_indices' must be a list of frame numbers")
    indices = [integer(v, f"{where} frame_indices[{k}]", "frame") for k, v in enumerate(raw)]
    for k, (a, b) in enumerate(zip(indices, indices[1:])):
        if b <= a:
            raise FormatError(
                f"{where}: frame_indices[{k + 1}] = {b} does not follow {a} (they must increase)"
            )
    if indices and indices[0] < 0:
        raise FormatError(f"{where}: frame_indices[0] = {indices[0]} is negative")
    return indices


def _video_names(videos: list) -> str:
    """The first videos of a YouTube-VIS file, by id and the folder of their first frame.

    Examples
    --------
    >>> _video_names([{"id": 1, "file_names": ["0043f083b5/00000.jpg"]}, {"id": 2}])
    "id 1 '0043f083b5', id 2"
    """
    names = []
    for v in videos[:3]:
        v = v if isinstance(v, dict) else {}
        files = v.get("file_names")
        first = files[0] if isinstance(files, list) and files else None
        folder = str(first).rpartition("/")[0] if first is not None else ""
        names.append(f"id {v.get('id')}" + (f" '{folder}'" if folder else ""))
    return ", ".join(names) + (", ..." if len(videos) > 3 else "")
