"""COCO instance segmentation JSON: one image per frame, compressed RLE masks.

Written (one file)::

    {"info": {...}, "licenses": [],
     "images": [{"id": 1, "file_name": "frame_000000.png", "width": W, "height": H,
                 "frame_index": 0, "time_s": 0.0}, ...],
     "categories": [{"id": 1, "name": "parrotfish", "supercategory": "organism"}, ...],
     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                      "segmentation": {"size": [H, W], "counts": "..."},
                      "area": 412, "bbox": [x, y, w, h], "score": 0.97,
                      "attributes": {"track_id": 3}}, ...]}

``frame_index`` and ``time_s`` are ecoseg's additions (readers that do not know them ignore
them); the track id is an annotation attribute, as CVAT and Datumaro write it, and so are the
object's class probability and class source (``"class_probability": 0.87, "class_source":
"classified"``, ecoseg's: :func:`class_fields`), where the store has them, and its reviewed
flag where the class source does not say it (``"reviewed": false`` for a ``reviewed`` source
no review of the object gave: :attr:`~ecoseg.formats._annotation_model.Track.reviewed`). A photo
survey's images keep their own names (``"file_name": "quadrat_01.jpg"``: :func:`file_name`), so
the file pairs with the survey's folder. Read: masks as
RLE (compressed or counts lists, whatever ``iscrowd`` says: CVAT writes its masks as
``iscrowd: 1`` uncompressed RLE) or polygons, else the ``bbox`` (``segmentation: []``); the frame
from ``frame_index``, ``frame_id``, the number in the ``file_name`` where the names are frame
numbers (CVAT's ``frame_000105``; names from 0 with gaps) or the image's position in order of
ids (of the file names' numbers where those order the images otherwise, with a warning);
the object id from
``attributes.track_id`` or ``track_id``, else each annotation becomes its own object (a file
whose annotations mix the two is refused, naming the first of each); its class probability
and class source from ``attributes.class_probability`` and ``attributes.class_source``, its
reviewed flag from ``attributes.reviewed`` (ecoseg's, written where the store has them; one
value of each per object, a second one refused, as is a source not of
:data:`~ecoseg.provenance.CLASS_SOURCES` and a flag not true or false). CVAT's
COCO export numbers tracks from 0: when a file has a track id 0 every id is shifted by 1
(store ids are positive), as for CVAT XML and VIAME. A ``bbox`` (used where there is no
segmentation) must have a positive width and height and overlap the frame. A file holds one
video: images of several ``video_id`` (a COCO-VID file), two images on one frame or an image
id given twice are refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path, PurePosixPath

import numpy as np

from ecoseg._version import __version__
from ecoseg._warn import warn
from ecoseg.errors import FormatError
from ecoseg.formats._annotated import annotated_range, listed_frames, warn_unlisted
from ecoseg.formats._annotation_model import Annotations, Instance, Track, file_annotations
from ecoseg.formats._files import read_text
from ecoseg.formats._photo_names import folder_frames
from ecoseg.formats._rle import check_rle, decode_rle, encode_masks, rle_area
from ecoseg.formats._values import (
    class_source,
    flag,
    integer,
    number,
    positive_id,
    probability,
    size_differs,
)
from ecoseg.provenance import created

NAME = "coco"
KIND = "mask"
TIMES = True
SUFFIX = ".json"
#: what names the frames a file annotates (its frames past the video's end are refused)
LISTS = "images"
#: :func:`read` matches the images to an image folder's files by name (``images=``)
BY_NAME = True


def frame_name(frame: int) -> str:
    """Image file name of a frame (as ``ecoseg`` would extract it)."""
    return f"frame_{frame:06d}.png"


def file_name(ann: Annotations, frame: int) -> str:
    """The ``file_name`` of a frame: a photo survey's photograph as it is named (so the file
    pairs with the survey's folder of images), else :func:`frame_name`.

    Examples
    --------
    >>> file_name(Annotations(width=8, height=8, n_frames=2, image_names=("q1.jpg", "q2.jpg")), 1)
    'q2.jpg'
    >>> file_name(Annotations(width=8, height=8, n_frames=2), 1)
    'frame_000001.png'
    """
    if ann.image_names is not None and 0 <= frame < len(ann.image_names):
        return ann.image_names[frame]
    return frame_name(frame)


def categories(ann: Annotations) -> dict[str, int]:
    """Category id (1-based, sorted by name) of each class."""
    return {name: k + 1 for k, name in enumerate(ann.classes)}


def info(ann: Annotations) -> dict:
    """The ``info`` entry of an exported COCO or YouTube-VIS file: ecoseg's version, the store,
    the date."""
    return {
        "description": f"exported by ecoseg {__version__} from {Path(ann.source).name}",
        "version": __version__,
        "date_created": created(),
    }


def image(ann: Annotations, t: int) -> dict:
    """The ``images`` entry of frame ``t``."""
    entry = {
        "id": t + 1,
        "file_name": file_name(ann, t),
        "width": ann.width,
        "height": ann.height,
        "frame_index": t,
    }
    if ann.time_of(t) is not None:
        entry["time_s"] = ann.time_of(t)
    return entry


def category_list(cats: dict[str, int]) -> list[dict]:
    """The ``categories`` entries of :func:`categories`."""
    return [{"id": cid, "name": name, "supercategory": "organism"} for name, cid in cats.items()]


def annotation(inst: Instance, number: int, category: int, track: Track | None = None) -> dict:
    """The ``annotations`` entry of one instance (a mask) of the object ``track``: its class
    probability and class source, where it has them, as attributes (:func:`class_fields`)."""
    x0, y0, x1, y1 = inst.bounds()
    entry = {
        "id": number,
        "image_id": inst.frame + 1,
        "category_id": category,
        "iscrowd": 0,
        "segmentation": inst.rle,
        "area": rle_area(inst.rle),
        "bbox": [x0, y0, x1 - x0, y1 - y0],
        "attributes": {"track_id": inst.track},
    }
    if track is not None:
        entry["attributes"].update(class_fields(track))
    if inst.score is not None:
        entry["score"] = inst.score
    return entry


#: ecoseg's fields of an object's class: :class:`Track`'s attributes of the same names
_CLASS_FIELDS = ("class_probability", "class_source", "reviewed")
#: how an error names each of them
_WORDS = {"reviewed": "reviewed flag"}


def class_fields(track: Track) -> dict:
    """ecoseg's fields of an object's class probability, class source and reviewed flag, those
    it has (COCO's annotation attributes, YouTube-VIS's annotation): the flag where the class
    source does not say it (:attr:`Track.reviewed`).

    Examples
    --------
    >>> class_fields(Track(3, "wrasse", 0.8125, "classified"))
    {'class_probability': 0.8125, 'class_source': 'classified'}
    >>> class_fields(Track(4, "crab"))
    {}
    >>> class_fields(Track(5, "crab", 1.0, "reviewed", reviewed=False))
    {'class_probability': 1.0, 'class_source': 'reviewed', 'reviewed': False}
    """
    values = {name: getattr(track, name) for name in _CLASS_FIELDS}
    return {name: value for name, value in values.items() if value is not None}


def write(ann: Annotations, path: Path) -> None:
    """Write ``ann`` as one COCO JSON file."""
    write_frames(ann, ann.frames(), path)


def write_frames(
    head: Annotations, frames: Iterable[tuple[int, list[Instance]]], path: Path
) -> None:
    """Write the masks of ``frames`` (``(frame, instances)`` in frame order) as one COCO JSON
    file, piece by piece: one document holding an image for each annotated frame, with a
    few hundred annotations in memory at a time (``head``: the size, objects, times and
    annotated frames).
    """
    cats = categories(head)
    classes = head.class_of()
    tracks = {t.id: t for t in head.tracks}

    dump = json.JSONEncoder(separators=(",", ":")).encode  # json.dumps's, made once
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(f'{{"info":{dump(info(head))},"licenses":[],"images":[')
        images = (image(head, t) for t in annotated_range(head) or range(head.n_frames))
        write_items(fh, images, dump)
        fh.write(f'],"categories":{dump(category_list(cats))},"annotations":[')
        entries = (
            annotation(inst, k, cats[classes[inst.track]], tracks.get(inst.track))
            for k, inst in enumerate((i for _, items in frames for i in items), 1)
        )
        write_items(fh, entries, dump)
        fh.write("]}\n")


def write_items(fh, items: Iterable, dump, batch: int = 256) -> None:
    """Write ``items`` as the comma-separated inside of a JSON list, encoding ``batch`` of
    them at a time (one encoder call per item costs more than the encoding).

    Examples
    --------
    >>> import io
    >>> fh = io.StringIO()
    >>> write_items(fh, iter(range(5)), json.JSONEncoder(separators=(",", ":")).encode, batch=2)
    >>> fh.getvalue()
    '0,1,2,3,4'
    """
    first = True
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == batch:
            fh.write(("" if first else ",") + dump(chunk)[1:-1])
            first, chunk = False, []
    if chunk:
        fh.write(("" if first else ",") + dump(chunk)[1:-1])


def check_syntax(path: Path) -> None:
    """Refuse a file that is no JSON (or a detector's list of results) without the video:
    :func:`~ecoseg.formats.read_annotations` names it before a video that cannot be opened
    (what the file says is checked against the video's size once it is open)."""
    load_json(path)


def load_json(path: Path) -> dict:
    """Parse a JSON file; FormatError with line and column on bad JSON."""
    text = read_text(path, "JSON file")
    if not text.strip():  # it said "invalid JSON at line 1 column 1: Expecting value"
        raise FormatError(f"{path}: the file is empty (no JSON in it)")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    if isinstance(data, list) and all(isinstance(d, dict) for d in data[:50]):
        key = "video_id" if any("video_id" in d for d in data[:50]) else "image_id"
        raise FormatError(
            f"{path}: a list of {len(data)} results at the top level (a detector's or tracker's "
            f"output, which names its frames by {key} only), not an annotation file: import "
            "the annotation file whose images or videos those ids name"
        )
    if not isinstance(data, dict):
        raise FormatError(f"{path}: expected a JSON object at the top level")
    return data


def parse_segmentation(seg, where: str, height: int, width: int):
    """(rle, polygons) of a COCO ``segmentation`` value (RLE dict or polygon list)."""
    if isinstance(seg, dict):
        size = seg.get("size")
        if isinstance(size, list) and len(size) == 2 and list(size) != [height, width]:
            raise size_differs(where, f"mask size {size[1]}x{size[0]}", width, height)
        counts = seg.get("counts")
        if isinstance(counts, list):  # uncompressed: compress through pycocotools
            mask = decode_rle(seg, height, width, where)
            return encode_masks(mask[None])[0], ()
        if not isinstance(counts, str):
            raise FormatError(f"{where}: RLE 'counts' must be a string or a list of runs")
        check_rle(counts, height, width, where)  # refused now, not after a store is replaced
        return {"size": [height, width], "counts": counts}, ()
    if isinstance(seg, list) and seg:
        polys = []
        for poly in seg:
            try:
                arr = np.asarray(poly, np.float64).reshape(-1, 2)
            except (TypeError, ValueError):
                raise FormatError(
                    f"{where}: polygon {poly!r} is not [x0, y0, x1, y1, ...]"
                ) from None
            if len(arr) < 3 or not np.isfinite(arr).all():
                raise FormatError(f"{where}: a polygon needs at least 3 finite points")
            polys.append(arr)
        return None, tuple(polys)
    return None, ()


def parse_box(value, where: str) -> tuple[float, float, float, float]:
    """``(x0, y0, x1, y1)`` of a COCO ``[x, y, w, h]`` box; FormatError naming ``where`` for a
    box that is not 4 numbers or has no area (one outside the frame is an animal out of view:
    :func:`~ecoseg.formats.read_annotations` leaves it out).

    Examples
    --------
    >>> parse_box([10, 20, 5, 4], "a.json: annotations[0]")
    (10.0, 20.0, 15.0, 24.0)
    >>> parse_box([10, 20, -5, 4], "a.json: annotations[3]")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.json: annotations[3]: bbox width and height must be positive, ...
    """
    if not isinstance(value, list | tuple) or len(value) != 4:
        raise FormatError(f"{where}: bbox {value!r} is not [x, y, w, h]")
    x, y, w, h = (number(v, where, "bbox value") for v in value)
    if w <= 0 or h <= 0:
        raise FormatError(f"{where}: bbox width and height must be positive, got {w:g}x{h:g}")
    return (x, y, x + w, y + h)


def is_key(value) -> bool:
    """Whether a JSON value can be an id (a number or a string, not a list or object)."""
    return isinstance(value, int | float | str) and not isinstance(value, bool)


def listed_key(record: dict, key: str, listed: dict, of: str, where: str):
    """``record[key]``, an id of ``listed``, the file's list ``of`` (``where`` names the
    record: ``"a.json: annotations[0] (id 1)"``); FormatError where it is missing (it was
    named as the id ``None``) or not listed.

    Examples
    --------
    >>> cats = {1: "crab"}
    >>> listed_key({"category_id": 1}, "category_id", cats, "categories", "a.json: annotations[0]")
    1
    >>> listed_key({"id": 4}, "category_id", cats, "categories", "a.json: annotations[0] (id 4)")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.json: annotations[0] (id 4) has no 'category_id'
    """
    value = record.get(key)
    if value is None:
        raise FormatError(f"{where} has no '{key}'")
    if not is_key(value) or value not in listed:
        raise FormatError(f"{where}: {key} {value!r} is not in '{of}'")
    return value


def records(data: dict, key: str, path: Path) -> list[dict]:
    """The list of objects under ``key`` (empty when absent); FormatError naming the entry
    that is not an object."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FormatError(f"{path}: '{key}' must be a list")
    for k, item in enumerate(value):
        if not isinstance(item, dict):
            raise FormatError(f"{path}: {key}[{k}] is not an object")
    return value


def category_names(data: dict, path: Path) -> dict:
    """``{category id: name}`` of a COCO or YouTube-VIS file's ``categories`` (a category
    without a name is ``category_<id>``). Refuses a category without an id, and an id given
    to two categories of different names, naming both: which of them an annotation of that
    id is cannot be told (the later name was taken, renaming the earlier one's animals).

    Examples
    --------
    >>> category_names({"categories": [{"id": 1, "name": "crab"}, {"id": 2}]}, Path("a.json"))
    {1: 'crab', 2: 'category_2'}
    >>> category_names({"categories": [{"id": 1, "name": "crab"}, {"id": 1, "name": "goby"}]},
    ...                Path("a.json"))
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.json: categories[1] (id 1, 'goby'): the id is also \
categories[0]'s ('crab'); give each category an id of its own
    """
    cats: dict = {}
    first: dict = {}
    for k, cat in enumerate(records(data, "categories", path)):
        if not is_key(cat.get("id")):
            raise FormatError(f"{path}: categories[{k}] has no 'id' (a number)")
        cid = cat["id"]
        name = str(cat.get("name") or f"category_{cid}")
        if cid in cats and cats[cid] != name:
            raise FormatError(
                f"{path}: categories[{k}] (id {cid!r}, '{name}'): the id is also "
                f"categories[{first[cid]}]'s ('{cats[cid]}'); give each category an id of its own"
            )
        cats[cid] = name
        first.setdefault(cid, k)
    return cats


def read_images(
    images: list[dict], path: Path, width: int, height: int, folder: tuple[str, ...] | None = None
) -> tuple[dict, bool]:
    """``{image id: (frame, time or None)}`` and whether the images were matched by name: the
    frame of the image folder's file of that name (``folder``: the folder's file names in frame
    order; :func:`~ecoseg.formats._photo_names.folder_frames`), else from
    ``frame_index``, ``frame_id``, the number in the image's file name where those are frame
    numbers (:func:`_named_frames`) or the image's position in frame order
    (:func:`_frame_order`). Refuses an image without an id, an id given twice, images of
    several videos (``video_id``) and two images on one frame, naming them."""
    for k, img in enumerate(images):
        if not is_key(img.get("id")):
            raise FormatError(f"{path}: images[{k}] has no 'id' (a number)")
    if len({isinstance(img["id"], str) for img in images}) > 1:
        raise FormatError(f"{path}: image ids mix numbers and strings")
    videos = sorted({str(img["video_id"]) for img in images if img.get("video_id") is not None})
    if len(videos) > 1:
        raise FormatError(
            f"{path}: holds the images of {len(videos)} videos (video_id {', '.join(videos[:5])}"
            f"{', ...' if len(videos) > 5 else ''}); a store is one video: split the file"
        )
    out: dict = {}
    on_frame: dict[int, object] = {}
    named_files = [(f"image id {i['id']}", i.get("file_name")) for i in images]
    matched = folder_frames(named_files, folder, path)
    by_file = None if matched is None else {i["id"]: f for i, f in zip(images, matched)}
    numbers = _file_numbers(images) if by_file is None else None
    named = _named_frames(images, numbers, path) if by_file is None else by_file
    order = _frame_order(images, numbers, path)
    for pos, img in enumerate(order):
        where = f"{path}: image id {img['id']}"
        if img["id"] in out:
            raise FormatError(f"{where}: the id is given to two images")
        for side, expect in (("width", width), ("height", height)):
            if side in img and integer(img[side], where, side) != expect:
                raise size_differs(where, f"{side} {img[side]}", width, height)
        default = pos if named is None else named[img["id"]]
        stated = img.get("frame_index", img.get("frame_id", default))
        frame = default if by_file is not None else integer(stated, where, "frame_index")
        if frame < 0:  # it was refused at its first annotation, after a warning on the frames
            key = "frame_index" if "frame_index" in img else "frame_id"
            raise FormatError(f"{where}: {key} {frame} is negative (video frames count from 0)")
        if frame in on_frame:
            what = f"frame {frame}" if by_file is None else f"'{folder[frame]}' (frame {frame})"
            raise FormatError(f"{where}: {what} is also image id {on_frame[frame]}")
        on_frame[frame] = img["id"]
        time = img.get("time_s")
        out[img["id"]] = (frame, None if time is None else number(time, where, "time_s"))
    return out, by_file is not None


class ImageOrderWarning(UserWarning):
    """A COCO file's images are placed on frames in a way their ids or file names could
    contradict (ids and names order them differently: the names are followed; names numbered
    with gaps, not from 0: the positions are taken)."""


#: the name CVAT gives a video task's frame: ``frame_`` and the video frame number
_CVAT_FRAME = re.compile(r"frame_\d{6}")


def _file_numbers(images: list[dict]) -> dict | None:
    """``{image id: the number in its file name}`` (:func:`_name_number`) when the names may
    place the images: no image has a ``frame_index`` or ``frame_id``, and each name holds a
    number of its own; None otherwise."""
    if any("frame_index" in i or "frame_id" in i for i in images):
        return None
    numbers = {img["id"]: _name_number(img) for img in images}
    values = list(numbers.values())
    if None in values or len(set(values)) < len(values):
        return None
    return numbers


def _named_frames(images: list[dict], numbers: dict | None, path: Path) -> dict | None:
    """``{image id: frame}`` from the numbers in the images' file names (``numbers``:
    :func:`_file_numbers`) where those are frame numbers, None where the frames are the
    images' positions.

    Names are frame numbers when they are not just 0..N-1 or 1..N (then positions and names
    agree, or the names count from 1, as ffmpeg numbers the images it extracts): when they are
    CVAT's names of a video task's frames (``frame_000005``: video frame 5, also in a task of
    every N-th frame or from a start frame) or count from 0 with gaps. Names numbered with
    gaps from above 0 could be either: positions are taken, with an
    :class:`ImageOrderWarning`.
    """
    if not numbers:
        return None
    ordered = sorted(numbers.values())
    if ordered in (list(range(len(numbers))), list(range(1, len(numbers) + 1))):
        return None
    cvat = all(
        _CVAT_FRAME.fullmatch(PurePosixPath(str(i["file_name"]).replace("\\", "/")).stem)
        for i in images
    )
    if cvat or ordered[0] == 0:
        return numbers
    shown = ", ".join(str(n) for n in ordered[:3]) + (" ..." if len(ordered) > 3 else "")
    warn(
        f"{path}: the images' file names number them {shown}, not 0, 1, 2 ...; they are placed "
        "on frames by position (0, 1, 2 ...): if the names are the video's frame numbers, give "
        "each image a 'frame_index'",
        ImageOrderWarning,
    )
    return None


def _name_number(img: dict) -> int | None:
    """The last number in the stem of an image's ``file_name``, hashes left out (Roboflow's
    ``.rf.<32 hex>`` suffix, Label Studio's ``<8 hex>-`` prefix), None without one.

    Examples
    --------
    >>> [_name_number({"file_name": n}) for n in ("clip/frame_000012.jpg",
    ...     "frame_0012_jpg.rf.7c3f1a0b9d2e4c5a6b7c8d9e0f1a2b3c.jpg", "a1b2c3d4-frame_0012.jpg")]
    [12, 12, 12]
    """
    name = img.get("file_name")
    if not isinstance(name, str):
        return None
    stem = PurePosixPath(name.replace("\\", "/")).stem
    stem = _HASH.sub(lambda m: "" if re.search("[a-f]", m[0]) else m[0], stem)
    digits = re.findall(r"\d+", stem)
    return int(digits[-1]) if digits else None


#: a run of 8 or more hex digits, a hash when it holds a letter (tools add them to file names)
_HASH = re.compile(r"[0-9a-f]{8,}")


def _frame_order(images: list[dict], numbers: dict | None, path: Path) -> list[dict]:
    """The images in frame order (the position of an image without ``frame_index`` is its
    frame): by id, unless the numbers in the file names (``numbers``: :func:`_file_numbers`)
    order them differently: then by those numbers, with an :class:`ImageOrderWarning`
    (Roboflow and Label Studio number images in their own order).
    """
    by_id = sorted(images, key=lambda i: i["id"])
    if numbers is None:
        return by_id
    order = [numbers[img["id"]] for img in by_id]
    if order == sorted(order):
        return by_id
    k = next(k for k in range(1, len(order)) if order[k] < order[k - 1])
    a, b = by_id[k - 1], by_id[k]
    warn(
        f"{path}: image ids and file names order the frames differently (image id {a['id']} "
        f"'{a['file_name']}' comes before id {b['id']} '{b['file_name']}'); the frames follow "
        "the numbers in the file names (give each image a 'frame_index' to say otherwise)",
        ImageOrderWarning,
    )
    return [img for _, img in sorted(zip(order, by_id), key=lambda p: p[0])]


def read(
    path: Path, *, width: int, height: int, images: tuple[str, ...] | None = None
) -> Annotations:
    """Read a COCO JSON file (images = frames of one video; ``images``: an image folder's file
    names, in frame order, which the file's images are matched to by name where they are
    its files: the annotations then carry them as ``image_names``)."""
    folder = images
    data = load_json(path)
    for key in ("images", "annotations"):
        if not isinstance(data.get(key), list):
            raise FormatError(f"{path}: no '{key}' list (not a COCO instances file)")
    cats = category_names(data, path)
    listing = records(data, "images", path)
    images, by_name = read_images(listing, path, width, height, folder)
    if not images:  # its frames were imported as frames with no animals
        raise FormatError(
            f"{path}: 'images' is empty: the file annotates no frame (a COCO file lists an "
            "image for each annotated frame, those with no animals too)"
        )
    tracks: dict[int, str] = {}
    # each track's class probability and class source, where given (value, where first)
    given: dict[tuple[int, str], tuple[object, str]] = {}
    instances = []
    auto_id = 0
    tracked: list[str] = []  # where the annotations with a track id are
    untracked: list[str] = []
    for k, a in enumerate(data["annotations"]):
        where = f"annotations[{k}] (id {a.get('id') if isinstance(a, dict) else '?'})"
        if not isinstance(a, dict):
            raise FormatError(f"{path}: {where}: not an object")
        frame, time = images[listed_key(a, "image_id", images, "images", f"{path}: {where}")]
        listed_key(a, "category_id", cats, "categories", f"{path}: {where}")
        attrs = a.get("attributes") if isinstance(a.get("attributes"), dict) else {}
        tid = attrs.get("track_id", a.get("track_id"))
        (untracked if tid is None else tracked).append(where)
        if tid is None:
            auto_id += 1
            tid = auto_id  # one object per annotation
        oid = integer(tid, f"{path}: {where}", "track_id")  # from 0 in CVAT's COCO export
        if oid < 0:
            raise FormatError(f"{path}: {where}: track_id {oid} is negative")
        cls = cats[a["category_id"]]
        if tracks.setdefault(oid, cls) != cls:
            raise FormatError(
                f"{path}: {where}: track {oid} is '{cls}' here but '{tracks[oid]}' before"
            )
        _class_fields(attrs, oid, given, f"{path}: {where}")
        rle, polys = parse_segmentation(a.get("segmentation"), f"{path}: {where}", height, width)
        box = None
        if rle is None and not polys:
            if a.get("bbox") is None:
                raise FormatError(f"{path}: {where}: has neither a segmentation nor a bbox")
            box = parse_box(a["bbox"], f"{path}: {where}")
        score = a.get("score")
        instances.append(
            Instance(
                frame=frame,
                track=oid,
                rle=rle,
                box=box,
                polygons=polys,
                score=None if score is None else probability(score, f"{path}: {where}"),
                time=time,
                where=where,
            )
        )
    if tracked and untracked:
        raise FormatError(
            f"{path}: {untracked[0]} has no track_id but {len(tracked)} annotations have one "
            f"({tracked[0]} first): a file's annotations all have a track id or none (an "
            "untracked one cannot be told from a tracked animal whose id was lost); from CVAT, "
            "export the task as 'CVAT for video 1.1', which keeps single shapes"
        )
    shift = 1 if 0 in tracks else 0
    for inst in instances:
        positive_id(inst.track + shift, f"{path}: {inst.where}")
    if shift:
        instances = [replace(inst, track=inst.track + 1) for inst in instances]
    listed = [f for f, _ in images.values()]
    annotated = listed_frames(listed)
    if annotated is None and listed:
        warn_unlisted(str(path), listed, "images")
    return file_annotations(
        path,
        width,
        height,
        [
            Track(oid + shift, cls, *(given.get((oid, k), (None,))[0] for k in _CLASS_FIELDS))
            for oid, cls in tracks.items()
        ],
        instances,
        n_frames=max(listed, default=-1) + 1,
        annotated=annotated,
        image_names=tuple(folder) if by_name else None,
    )


def _class_fields(attrs: dict, oid: int, given: dict, where: str) -> None:
    """Note an annotation's ``attributes.class_probability``, ``attributes.class_source`` and
    ``attributes.reviewed`` as its track's (``given``: ``(track, name)`` -> value and where it
    was first given), refusing a second, other value for the track.

    Examples
    --------
    >>> given = {}
    >>> _class_fields({"class_probability": 0.5}, 3, given, "a.json: annotations[0]")
    >>> _class_fields({"class_probability": 0.7}, 3, given, "a.json: annotations[4]")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.json: annotations[4]: class_probability 0.7 of track 3, but \
0.5 at annotations[0]: one class probability per object
    >>> _class_fields({"class_source": "reviewed"}, 3, given, "a.json: annotations[0]")
    >>> _class_fields({"class_source": "rule"}, 3, given, "a.json: annotations[4]")
    Traceback (most recent call last):
    ecoseg.errors.FormatError: a.json: annotations[4]: class_source 'rule' of track 3, but \
'reviewed' at annotations[0]: one class source per object
    """
    for name in _CLASS_FIELDS:
        if attrs.get(name) is None:
            continue
        if name == "class_probability":
            value: object = probability(attrs[name], where, name)
            show = "{:g}".format
        elif name == "class_source":
            value, show = class_source(attrs[name], where), repr
        else:
            value, show = flag(attrs[name], where, name), lambda v: str(v).lower()
        first = given.setdefault((oid, name), (value, where.rsplit(": ", 1)[-1]))
        if first[0] != value:
            raise FormatError(
                f"{where}: {name} {show(value)} of track {oid}, but {show(first[0])} at "
                f"{first[1]}: one {_WORDS.get(name, name.replace('_', ' '))} per object"
            )
