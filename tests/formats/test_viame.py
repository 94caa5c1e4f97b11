"""VIAME / DIVE CSV: the documented columns field by field, bad lines named, and a CSV with
boxes on 3 frames of the sample clip as SAM 2 prompts.

Spec: VIAME "Detection File Formats and Conversions" (VIAME CSV) and DIVE "Data Formats":
https://viame.readthedocs.io/en/latest/section_links/detection_file_conversions.html,
https://kitware.github.io/dive/DataFormats/
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from formats_helpers import SAMPLE_VIDEO, store_boxes
from suite_helpers import child_env

from ecoseg.errors import FormatError
from ecoseg.formats import (
    Annotations,
    Instance,
    ShapesLeftOutWarning,
    Track,
    VideoInfo,
    export,
    import_annotations,
    read_annotations,
    to_prompts,
    viame,
)
from ecoseg.formats.viame import parse_timestamp, timestamp
from ecoseg.store import MaskStore

STAMP = re.compile(r"^\d\d:\d\d:\d\d\.\d{6}$")


def test_documented_columns_field_by_field(sample, tmp_path):
    truth = sample[0]
    path = export(truth, "viame", tmp_path / "a.csv", polygons=True)
    store = MaskStore.open(truth)
    times, labels = store.read_time(), store.read_labels()
    classes = {o["id"]: o["class"] for o in store.objects}
    boxes = store_boxes(truth)
    lines = open(path).read().splitlines()
    assert lines[0].startswith("# 1: Detection or Track-id,2: Video or Image Identifier")
    assert lines[1].startswith("# metadata,Fps: 30")
    seen = set()
    for line in lines[2:]:
        f = line.split(",")
        # 9 fields, one species pair, one polygon, the truth's mark of no class probability
        assert len(f) == 13
        oid, frame = int(f[0]), int(f[2])  # 1: track id; 3: frame from 0
        assert STAMP.match(f[1]) and parse_timestamp(f[1]) == pytest.approx(times[frame], abs=1e-6)
        box = tuple(int(v) for v in f[3:7])  # 4-7: TL_x, TL_y, BR_x, BR_y
        assert box == boxes[(frame, oid)]
        assert 0 <= box[0] < box[2] <= 640 and 0 <= box[1] < box[3] <= 360
        assert float(f[7]) == 1.0  # 8: detection confidence
        assert f[8] == "-1"  # 9: target length (none)
        assert f[9] == classes[oid] and float(f[10]) == 1.0  # 10, 11: species, confidence
        assert f[11].startswith("(poly) ")
        assert f[12] == "(trk-atr) class_probability none"
        xy = np.array(f[11].split()[1:], float).reshape(-1, 2)
        assert len(xy) >= 3
        # the outline hugs the box: every vertex within half a pixel of it
        assert xy[:, 0].min() >= box[0] - 0.5 and xy[:, 0].max() <= box[2] + 0.5
        assert xy[:, 1].min() >= box[1] - 0.5 and xy[:, 1].max() <= box[3] + 0.5
        seen.add((frame, oid))
    assert seen == set(boxes)
    # polygons come back as the masks: those of one part (4-connected) without holes exactly,
    # the others as the outline of their largest part
    from scipy import ndimage

    back = import_annotations(path, "viame", sample[2], tmp_path / "b.zarr")
    got = MaskStore.open(back).read_labels()
    assert (got == labels).mean() > 0.999
    simple = 0
    for frame, oid in boxes:
        mask = labels[frame] == oid
        if ndimage.label(mask)[1] == 1 and not (ndimage.binary_fill_holes(mask) & ~mask).any():
            np.testing.assert_array_equal(got[frame] == oid, mask, f"frame {frame} object {oid}")
            simple += 1
    assert simple > len(boxes) / 3  # 595 of the sample's 1128


def test_timestamps():
    assert timestamp(0) == "00:00:00.000000"
    assert timestamp(3661.5) == "01:01:01.500000"
    assert parse_timestamp("01:01:01.5") == 3661.5
    assert parse_timestamp("frame_000001.png") is None


def test_dive_style_file_is_read(tmp_path):
    """Track 0, several species pairs (the best one wins), attributes and a keypoint."""
    (tmp_path / "d.csv").write_text(
        "# 1: Detection or Track-id,2: Video or Image Identifier,3: Unique Frame Identifier\n"
        '# metadata,Fps: 10,"exported_by: ""dive:python"""\n'
        "0,00:00:00.000000,0,1,1,4,3,0.9,-1,grouper,0.2,snapper,0.7,(atr) swimming true\n"
        "0,00:00:00.100000,1,2,1,5,3,0.8,12.5,snapper,0.6,(kp) head 3 2\n"
        "3,img_0002.png,2,0,0,2,2,-1,-1\n"
    )
    video = VideoInfo(8, 6, np.arange(3) / 10, {})
    ann = read_annotations(tmp_path / "d.csv", "viame", video)
    assert {t.id: t.class_ for t in ann.tracks} == {1: "snapper", 4: "unknown"}
    assert [(i.frame, i.track, i.box, i.score) for i in ann.instances] == [
        (0, 1, (1, 1, 4, 3), 0.9),
        (1, 1, (2, 1, 5, 3), 0.8),
        (2, 4, (0, 0, 2, 2), None),
    ]


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("1,x,0,1,1,3,3,1,-1,fish", r"line 3: field 10: species 'fish' has no confidence"),
        ("1,x,0,1,1,3,3,1,-1,fish,high", r"line 3: field 11: confidence 'high' of species 'fish'"),
        ("1,x,0,1,1,3,3,1,-1,,0.5", r"line 3: field 10: empty species name"),
        # a species' confidence outside [0, 1] (percent, logit) picked the class and was kept
        (
            "1,x,0,1,1,3,3,1,-1,fish,0.4,crab,35",
            r"line 3: field 13: species 'crab': confidence '35'",
        ),
        ("1,x,0,1,1,3,3,1,-1,fish,-2.3", r"line 3: field 11: species 'fish': confidence '-2\.3'"),
        ("1,x,0,1,1,3,3,1,-1,fish,nan", r"line 3: field 11: species 'fish': confidence 'nan'"),
        # a comma in an attribute's value, not quoted: the rest read as a species
        (
            "1,x,0,1,1,3,3,1,-1,fish,1,(atr) note coral, dead",
            r"line 3: field 13: ' dead' follows the attribute '\(atr\) note coral' \(field 12\) "
            r"and is no species with a confidence: .* \(\"\(atr\) note coral, dead\"\)",
        ),
        (
            "1,x,0,1,1,3,3,1,-1,fish,1,(atr) note a, b, c",
            r"line 3: field 13: ' b' follows the attribute '\(atr\) note a'",
        ),
        ("1,x,9,1,1,3,3,1,-1", r"line 3: frame 9 is past the end of the video \(4 frames"),
        ("1,x,0,3,1,1,3,1,-1", r"line 3: box \(3, 1, 1, 3\) is empty or inverted"),
        ("1,x,0,1,1,3", r"line 3: expected at least 9 comma-separated fields, got 6"),
        ("1,x,0,1,1,3,3,1,-1,fish,1,(poly) 1 2 3", r"line 3: field 12: \(poly\) needs at least 3"),
        ('1,x,0,1,1,3,3,1,-1,"crab, r', r"line 3: a quoted field \(\"\) is not closed \(cut short"),
        # named the store being written, not the file and line
        ("4294967296,x,0,1,1,3,3,1,-1", r"line 3: object id 4294967296 is outside 1\.\.4294967295"),
    ],
)
def test_bad_lines_are_named(tmp_path, row, message):
    (tmp_path / "b.csv").write_text("# header\n2,x,1,1,1,3,3,1,-1,fish,1\n" + row + "\n")
    video = VideoInfo(8, 6, np.arange(4) / 10, {})
    with pytest.raises(FormatError, match=r"b\.csv: " + message):
        read_annotations(tmp_path / "b.csv", "viame", video)


@pytest.mark.parametrize(
    ("row", "read"),
    [
        # a species pair after an attribute is a species pair: crab's 0.5 beats fish's 0.4
        ("1,x,0,1,1,3,3,1,-1,fish,0.4,(atr) note coral,crab,0.5", ("crab", (1, 1, 3, 3))),
        ('1,x,0,1,1,3,3,1,-1,fish,1,"(atr) note coral, dead"', ("fish", (1, 1, 3, 3))),  # quoted
        # partly outside is read as the file gives it (the import cuts it to the frame)
        ("1,x,0,1,1,30,3,1,-1", ("unknown", (1, 1, 30, 3))),
        ("1,x,0,20,1,30,3,1,-1", None),  # wholly outside: out of view there, left out
    ],
)
def test_lines_that_are_read(tmp_path, row, read):
    """The rows beside the refused ones that are read, and what they are read as (these were
    only read, without a look at what came of them)."""
    (tmp_path / "b.csv").write_text("# header\n2,x,1,1,1,3,3,1,-1,fish,1\n" + row + "\n")
    video = VideoInfo(8, 6, np.arange(4) / 10, {})
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        ann = read_annotations(tmp_path / "b.csv", "viame", video)
    got = {(i.frame, i.track): i.box for i in ann.instances}
    assert got.pop((1, 2)) == (1, 1, 3, 3) and ann.class_of()[2] == "fish"  # line 2, as given
    if read is None:
        assert got == {} and 1 not in ann.class_of()
        assert ShapesLeftOutWarning in [w.category for w in said]
    else:
        assert got == {(0, 1): read[1]} and ann.class_of()[1] == read[0]
        assert said == []


def test_text_that_is_not_utf8_names_the_line(tmp_path):
    (tmp_path / "b.csv").write_bytes("# header\n1,x,0,1,1,3,3,1,-1,Gobiid\xe9,1\n".encode("cp1252"))
    with pytest.raises(FormatError, match=r"b\.csv: line 2: not UTF-8 text \(byte 0xe9\)"):
        read_annotations(tmp_path / "b.csv", "viame", VideoInfo(8, 6, np.arange(4) / 10, {}))


def test_species_names_are_utf8_whatever_the_locale(tmp_path):
    """Files were read and written in the locale's encoding: under a C or Windows locale an
    export with "Ōtaki" in a species name stopped with a UnicodeEncodeError traceback, and a
    UTF-8 CSV from DIVE was "not a text file"."""
    import subprocess
    import sys

    from formats_helpers import make_store

    lab = np.zeros((2, 4, 5), np.uint32)
    lab[:, 1:3, 1:4] = 3
    store = make_store(lab, classes={3: "Ōtaki wrasse"}, path=str(tmp_path / "s.zarr"))
    script = (
        "import locale, numpy as np\n"
        "from ecoseg.formats import VideoInfo, export, read_annotations\n"
        "print(locale.getpreferredencoding(False))\n"
        f"out = export({store!r}, 'viame', {str(tmp_path / 'v.csv')!r})\n"
        "ann = read_annotations(out, 'viame', VideoInfo(5, 4, np.arange(2) * 0.04 + 1.5, {}))\n"
        "print(ascii(ann.class_of()))\n"
    )
    env = child_env(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    run = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    encoding, classes = run.stdout.split()[0], run.stdout.split("\n")[1]
    if "utf" in encoding.lower().replace("-", ""):
        pytest.skip(f"this system's C locale is already {encoding}")
    assert classes == ascii({3: "Ōtaki wrasse"})
    assert "Ōtaki wrasse" in (tmp_path / "v.csv").read_text(encoding="utf-8")


def test_a_class_that_viame_reads_as_an_attribute_is_refused(tmp_path):
    """'(unidentified) goby' was written as a species field, which VIAME and DIVE take for an
    attribute: DIVE dropped the species and our own import refused the file."""
    from formats_helpers import make_store

    lab = np.zeros((1, 4, 4), np.uint32)
    lab[0, 1:3, 1:3] = 6
    store = make_store(lab, classes={6: "(unidentified) goby"})
    with pytest.raises(FormatError, match=r"object 6: class '\(unidentified\) goby' starts with"):
        export(store, "viame", tmp_path / "v.csv")
    assert not (tmp_path / "v.csv").exists()


def test_spaces_around_a_species_are_padding_both_ways(tmp_path):
    """Import strips spaces around a species (a hand-padded CSV); the export refused nothing
    and wrote ' goby ', which DIVE keeps and our import strips: the species came back as
    'goby', and a store's 'goby' and ' goby ' were one species in the file."""
    from formats_helpers import make_store

    (tmp_path / "p.csv").write_text("# header\n1, x, 0, 1, 1, 3, 3, 0.9, -1,  goby , 0.8\n")
    ann = read_annotations(tmp_path / "p.csv", "viame", VideoInfo(8, 6, np.arange(2) / 10, {}))
    assert ann.class_of() == {1: "goby"}
    lab = np.zeros((1, 4, 4), np.uint32)
    lab[0, 1:3, 1:3] = 6
    lab[0, 0, 0] = 7
    store = make_store(lab, classes={6: "goby", 7: " goby "})  # one species, as measure counts
    rows = open(export(store, "viame", tmp_path / "v.csv")).read().splitlines()[-2:]
    assert [r.split(",")[9] for r in rows] == ["goby", "goby"]
    padded = Annotations(  # built in Python, not read from a store: refused
        4, 4, 1, (Track(7, " goby "),), (Instance(0, 7, box=(0, 0, 1, 1)),), source="hand"
    )
    with pytest.raises(FormatError, match=r"object 7: class ' goby ' begins or ends with spaces"):
        viame.rows(padded)


def test_class_probability_is_the_species_confidence(tmp_path):
    lab = np.zeros((1, 4, 4), np.uint32)
    lab[0, :2, :2] = 5
    obj = {"id": 5, "class": "wrasse", "class_source": "classified", "class_probability": 0.625}
    with MaskStore.create(tmp_path / "s.zarr", height=4, width=4, objects=[obj]) as s:
        s.append(lab, [0.0], {5: 0.75})
        s.mark_complete()
    path = export(tmp_path / "s.zarr", "viame", tmp_path / "a.csv")
    row = open(path).read().splitlines()[-1].split(",")
    assert row[7] == "0.75" and row[9:11] == ["wrasse", "0.625"]


@pytest.fixture(scope="module")
def excerpt(tmp_path_factory):
    """The first 12 frames of the sample clip as a PNG folder (quicker to segment on a CPU)."""
    from PIL import Image

    import ecoseg

    folder = tmp_path_factory.mktemp("excerpt") / "frames"
    folder.mkdir()
    for frame in ecoseg.open_video(SAMPLE_VIDEO).frames(0, 12):
        Image.fromarray(frame.image).save(folder / f"{frame.index:05d}.png")
    return folder


@pytest.mark.slow
def test_csv_boxes_on_three_frames_become_sam2_tracks(sample, excerpt, tmp_path):
    import ecoseg

    truth = sample[0]
    full = export(truth, "viame", tmp_path / "all.csv")
    lines = open(full).read().splitlines()
    keep = [ln for ln in lines if ln.startswith("#") or ln.split(",")[2] in ("0", "5", "10")]
    csv = tmp_path / "three frames.csv"
    csv.write_text("\n".join(keep) + "\n")
    species = {int(ln.split(",")[0]): ln.split(",")[9] for ln in keep if not ln.startswith("#")}
    assert len(set(species.values())) >= 3

    ann = read_annotations(csv, "viame", excerpt)
    prompts = to_prompts(ann)
    assert prompts.frames() == [0, 5, 10]
    assert prompts.classes() == species
    assert all(fp.box is not None for o in prompts.objects for fp in o.prompts)

    out = ecoseg.segment(
        excerpt,
        prompts,
        out=tmp_path / "tracks.zarr",
        pretrained=False,
        image_size=64,
        device="cpu",
        progress=False,
    )
    store = MaskStore.open(out)
    assert store.n_frames == 12
    assert {o["id"]: o["class"] for o in store.objects} == species
    assert {o["source"] for o in store.objects} == {"prompt"}
    recorded = store.provenance["prompts"]["objects"]
    assert {o["id"]: o["class"] for o in recorded} == species


def test_prompts_from_classes_differing_only_in_case_are_refused_naming_the_file():
    """Tracks of species "Fish" and "fish" became two species in ecoseg's counts; as
    prompts they are refused, in one line naming the file and both spellings."""
    from ecoseg.errors import PromptError

    ann = Annotations(
        width=64,
        height=48,
        n_frames=3,
        tracks=(Track(1, "Fish"), Track(2, "fish")),
        instances=(
            Instance(frame=0, track=1, box=(1, 2, 9, 9)),
            Instance(0, 2, box=(20, 2, 30, 9)),
        ),
        source="old.csv",
    )
    with pytest.raises(PromptError, match=r"^old\.csv: objects 1 and 2: classes 'Fish' and 'fish'"):
        to_prompts(ann)
