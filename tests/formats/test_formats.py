"""Round trips store -> format -> store for every format, on the bundled sample's truth store
and on hypothesis-generated stores (overlapping, touching, one-pixel objects, empty frames)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from formats_helpers import make_store, present_scores, store_boxes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import ecoseg
from ecoseg.errors import EmptyExportWarning, FormatError
from ecoseg.formats import (
    FORMATS,
    VideoInfo,
    export,
    format_module,
    import_annotations,
    read_annotations,
)
from ecoseg.formats._stores import read_store
from ecoseg.store import MaskStore

MASK_FORMATS = ["coco", "ytvis", "mots", "cvat", "davis"]
BOX_FORMATS = ["mot", "viame"]
KEEPS_CLASSES = {"coco", "ytvis", "cvat", "viame"}
KEEPS_SCORES = {"coco", "ytvis", "mot", "cvat", "viame"}


def target(tmp_path, fmt):
    return tmp_path / f"out-{fmt}{format_module(fmt).SUFFIX}"


def roundtrip(store, fmt, tmp_path, video, out=None):
    path = export(store, fmt, target(tmp_path, fmt), overwrite=True)
    out = tmp_path / "back.zarr" if out is None else out
    return path, import_annotations(path, fmt, video, out, overwrite=True)


def classes(path):
    return {o["id"]: o["class"] for o in MaskStore.open(path).objects}


def test_every_format_is_registered():
    assert set(MASK_FORMATS + BOX_FORMATS) == set(FORMATS)
    for fmt in FORMATS:
        assert format_module(fmt.upper()).NAME == fmt
        assert format_module(fmt).KIND == ("box" if fmt in BOX_FORMATS else "mask")
    with pytest.raises(FormatError, match="unknown format 'kml'"):
        format_module("kml")


def test_export_is_a_lazy_top_level_name():
    assert ecoseg.export is export


# --------------------------------------------------------------------------- the sample
@pytest.mark.parametrize("fmt", MASK_FORMATS)
def test_sample_mask_roundtrip_is_exact(sample, fmt, tmp_path):
    truth, video, info, _ = sample
    _, back = roundtrip(truth, fmt, tmp_path, info)
    a, b = MaskStore.open(truth), MaskStore.open(back)
    np.testing.assert_array_equal(b.read_labels(), a.read_labels())
    np.testing.assert_array_equal(b.read_time(), info.times)
    assert sorted(b.object_ids.tolist()) == sorted(a.object_ids.tolist())
    if fmt in KEEPS_CLASSES:
        assert classes(back) == classes(truth)
    if fmt in KEEPS_SCORES:
        assert present_scores(back) == present_scores(truth)
    prov = b.provenance
    assert prov["engine"] == "import"
    assert prov["import"]["format"] == fmt
    assert prov["video"]["sha256"] == info.record["sha256"]


@pytest.mark.parametrize("fmt", BOX_FORMATS)
def test_sample_box_roundtrip(sample, fmt, tmp_path):
    truth, video, info, _ = sample
    path, back = roundtrip(truth, fmt, tmp_path, info)
    expected = store_boxes(truth)
    # the file holds exactly the store's boxes
    ann = read_annotations(path, fmt, info)
    assert {(i.frame, i.track): i.box for i in ann.instances} == expected
    # the store made from it: filled boxes, smaller ones on top; a box keeps its extent unless
    # another object's box covers one of its edges
    got = store_boxes(back)
    assert set(got) <= set(expected)
    for key, box in expected.items():
        others = [b for k, b in expected.items() if k[0] == key[0] and k != key]
        if not any(_overlap(box, o) for o in others):
            assert got[key] == box, key
        elif key in got:
            assert _inside(got[key], box), key
    # measured on the sample: 1 of its 1128 boxes is covered along a whole edge (frame 69)
    changed = [k for k in expected if got.get(k) != expected[k]]
    assert len(changed) <= 0.01 * len(expected), changed
    if fmt in KEEPS_CLASSES:
        assert classes(back) == classes(truth)
    else:
        assert set(classes(back).values()) == {"unknown"}
    # each box's score on its frame (the sample's truth scores 1 wherever an object shows)
    assert present_scores(back) == dict.fromkeys(got, 1.0)


def _overlap(a, b):
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(a, b):
    return b[0] <= a[0] and b[1] <= a[1] and a[2] <= b[2] and a[3] <= b[3]


def test_viame_aligns_by_time(sample, tmp_path):
    """Frame numbers that are off by 7 land right when the time stamps are used."""
    truth, video, info, _ = sample
    path = export(truth, "viame", tmp_path / "a.csv")
    lines = path and (tmp_path / "a.csv").read_text().splitlines()
    shifted = []
    for line in lines:
        if not line.startswith("#"):
            fields = line.split(",")
            fields[2] = str(int(fields[2]) + 7)
            line = ",".join(fields)
        shifted.append(line)
    (tmp_path / "b.csv").write_text("\n".join(shifted) + "\n")
    by_time = read_annotations(tmp_path / "b.csv", "viame", info, align="time")
    assert {(i.frame, i.track): i.box for i in by_time.instances} == store_boxes(truth)
    with pytest.raises(FormatError, match=r"b\.csv: line \d+: frame 15\d is past the end"):
        read_annotations(tmp_path / "b.csv", "viame", info, align="index")
    with pytest.raises(FormatError, match="mot format has no time stamps.*--align index"):
        read_annotations(export(truth, "mot", tmp_path / "m.txt"), "mot", info, align="time")


# --------------------------------------------------------------------------- edge cases
def edge_case_labels():
    """Overlapping boxes, touching objects, one-pixel objects, an empty frame, holes."""
    lab = np.zeros((4, 9, 11), np.uint32)
    lab[0, 1:6, 1:6] = 3  # a square ...
    lab[0, 3:8, 3:9] = 200  # ... partly covered by another (boxes overlap)
    lab[0, 0, 10] = 7  # one pixel in a corner
    lab[1, 2:4, 0:5] = 3
    lab[1, 2:4, 5:11] = 200  # touching
    lab[1, 8, 0] = 7
    lab[1, 5:8, 2:9] = 12
    lab[1, 6, 4:7] = 0  # a hole
    # frame 2 is empty
    lab[3, 4, 5] = 12  # one pixel inside ...
    lab[3, 3:6, 4:7][lab[3, 3:6, 4:7] == 0] = 3  # ... a ring of another object
    return lab


@pytest.mark.parametrize("fmt", MASK_FORMATS + BOX_FORMATS)
def test_edge_cases(fmt, tmp_path):
    lab = edge_case_labels()
    scores = np.where(
        np.stack([(lab == i).any(axis=(1, 2)) for i in (3, 7, 12, 200)], axis=1),
        np.array([0.25, 0.5, 0.125, 0.875], np.float32),
        0,
    )
    store = make_store(lab, scores=scores, classes={3: "sea star", 200: "grouper, red"})
    times = MaskStore.open(store).read_time()
    video = VideoInfo(11, 9, times, {})
    _, back = roundtrip(store, fmt, tmp_path, video)
    check_roundtrip(store, back, fmt)


@pytest.mark.parametrize("fmt", MASK_FORMATS + BOX_FORMATS)
def test_a_video_with_no_animals_round_trips_quietly(fmt, tmp_path):
    """MOT and MOTS have no header, so a video with no animals exports as a file with no
    lines: it imports as frames with no animals, neither refused nor warned about as the
    wrong file, as the other formats' documents with no annotations are. The export says
    once that the file holds no annotations (EmptyExportWarning), and only that."""
    store = make_store(np.zeros((3, 4, 5), np.uint32))
    video = VideoInfo(5, 4, MaskStore.open(store).read_time(), {})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path, back = roundtrip(store, fmt, tmp_path, video)
    assert [w.category for w in caught] == [EmptyExportWarning]
    assert str(caught[0].message).endswith(f"{path} holds no annotations")
    assert fmt not in ("mot", "mots") or Path(path).read_bytes() == b""
    check_roundtrip(store, back, fmt)


def check_roundtrip(store, back, fmt):
    a, b = MaskStore.open(store), MaskStore.open(back)
    assert b.n_frames == a.n_frames
    np.testing.assert_array_equal(b.read_time(), a.read_time())
    if fmt in MASK_FORMATS:
        np.testing.assert_array_equal(b.read_labels(), a.read_labels())
    else:
        expected, got = store_boxes(store), store_boxes(back)
        assert set(got) <= set(expected)
        for key, box in expected.items():
            others = [o for k, o in expected.items() if k[0] == key[0] and k != key]
            if not any(_overlap(box, o) for o in others):
                assert got[key] == box
            elif key in got:
                assert _inside(got[key], box)
    if fmt in KEEPS_CLASSES:
        assert classes(back) == classes(store)
    if fmt in KEEPS_SCORES:
        got = present_scores(back)
        assert {k: v for k, v in present_scores(store).items() if k in got} == got


# --------------------------------------------------------------------------- hypothesis
@st.composite
def label_videos(draw):
    t = draw(st.integers(1, 4))
    h, w = draw(st.integers(1, 10)), draw(st.integers(1, 10))
    # ids up to 254, the largest DAVIS can hold (255 is its void)
    pool = draw(st.lists(st.integers(1, 254), min_size=1, max_size=5, unique=True))
    lab = np.zeros((t, h, w), np.uint32)
    for f in range(t):
        style = draw(st.sampled_from(["empty", "noise", "boxes"]))
        if style == "noise":
            picks = st.integers(0, len(pool))  # 0 = background, k = pool[k - 1]
            values = draw(hnp.arrays(np.int64, (h, w), elements=picks))
            lab[f] = np.asarray([0, *pool])[values]
        elif style == "boxes":
            for _ in range(draw(st.integers(1, 4))):
                oid = draw(st.sampled_from(pool))
                y0, x0 = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
                y1, x1 = draw(st.integers(y0 + 1, h)), draw(st.integers(x0 + 1, w))
                lab[f, y0:y1, x0:x1] = oid  # later boxes overlap earlier ones
    ids = sorted(set(np.unique(lab).tolist()) - {0})
    present = np.stack([(lab == i).any(axis=(1, 2)) for i in ids], axis=1) if ids else None
    scores = None
    if ids:
        values = draw(
            hnp.arrays(
                np.float32, (t, len(ids)), elements=st.floats(0, 1, width=32, allow_subnormal=False)
            )
        )
        scores = np.where(present, values, 0).astype(np.float32)
    return lab, scores


@pytest.mark.parametrize("fmt", MASK_FORMATS + BOX_FORMATS)
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=label_videos())
def test_hypothesis_roundtrip(fmt, data, tmp_path):
    lab, scores = data
    store = make_store(lab, scores=scores)
    video = VideoInfo(lab.shape[2], lab.shape[1], MaskStore.open(store).read_time(), {})
    _, back = roundtrip(store, fmt, tmp_path, video, out=store + "-back")
    check_roundtrip(store, back, fmt)


def test_read_store_sees_every_object_frame(sample):
    truth, _, _, ann = sample
    assert {(i.frame, i.track) for i in ann.instances} == set(store_boxes(truth))
    assert {(i.frame, i.track): i.box for i in ann.instances} == store_boxes(truth)


def test_davis_refuses_large_ids(tmp_path):
    store = make_store(np.full((1, 2, 2), 300))
    with pytest.raises(FormatError, match="object id 300 does not fit an indexed PNG"):
        export(store, "davis", tmp_path / "pngs")


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "davis"])
def test_a_folder_for_a_file_format_is_named_a_folder(fmt, tmp_path):
    """An unzipped export folder (CVAT's holds annotations.xml) was 'file not found'."""
    folder = tmp_path / "task_12-export"
    folder.mkdir()
    video = VideoInfo(width=64, height=48, times=np.arange(3) / 30, record={})
    what = rf"is a folder, not a {fmt} annotation file \(\.\w+\)$"
    with pytest.raises(FormatError, match=f"task_12-export: {what}"):
        read_annotations(folder, fmt, video)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "davis"])
def test_a_missing_annotation_file_is_named_as_what_it_is(fmt, tmp_path):
    """Old message: 'gt.txt: file not found', in other words than the folder's."""
    video = VideoInfo(width=64, height=48, times=np.arange(3) / 30, record={})
    with pytest.raises(FormatError, match=rf"gone: {fmt} annotation file not found$"):
        read_annotations(tmp_path / "gone", fmt, video)


def test_export_does_not_overwrite(sample, tmp_path):
    truth = sample[0]
    (tmp_path / "x.json").write_text("precious")
    with pytest.raises(FormatError, match=r"x\.json: already exists"):
        export(truth, "coco", tmp_path / "x.json")
    assert (tmp_path / "x.json").read_text() == "precious"


def test_export_names_its_output_out_as_every_function_does(sample, tmp_path):
    """``export(store, format, path)`` named its output ``path`` where every other function
    says ``out``: ``out=`` is the keyword now; ``path=`` still works, with a
    DeprecationWarning at the caller's line, and positional use is as it was."""
    store = sample[0]
    written = export(store, "mot", out=tmp_path / "a.txt")
    assert written == str(tmp_path / "a.txt")
    assert export(store, "mot", tmp_path / "b.txt") == str(tmp_path / "b.txt")
    with pytest.warns(
        DeprecationWarning, match=r"export\(path=...\) is now export\(out=...\)"
    ) as w:
        assert export(store, "mot", path=tmp_path / "c.txt") == str(tmp_path / "c.txt")
    assert w[0].filename == __file__
    texts = {n: (tmp_path / n).read_bytes() for n in ("a.txt", "b.txt", "c.txt")}
    assert len(set(texts.values())) == 1
    with pytest.raises(TypeError, match="path is the old name of out: give out"):
        export(store, "mot", out=tmp_path / "d.txt", path=tmp_path / "e.txt")
    assert not (tmp_path / "d.txt").exists() and not (tmp_path / "e.txt").exists()


def test_an_export_cut_off_while_writing_keeps_the_earlier_file(tmp_path, monkeypatch):
    """With overwrite the earlier output was removed before the new one was written: an
    export that failed half way (a full disk) left a cut-off file and nothing else."""
    from ecoseg.formats import mot

    store = make_store(np.full((2, 2, 2), 7))
    path = export(store, "mot", tmp_path / "boxes.txt")
    before = (tmp_path / "boxes.txt").read_text()

    def disk_full(head, frames, out):
        out.write_text("1,7,0,")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(mot, "write_frames", disk_full)
    with pytest.raises(OSError, match="No space left"):
        export(store, "mot", path, overwrite=True)
    assert (tmp_path / "boxes.txt").read_text() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boxes.txt"]


def test_export_over_the_current_folder_of_pngs(tmp_path, monkeypatch):
    pngs = tmp_path / "pngs"
    export(make_store(np.full((2, 2, 2), 7)), "davis", pngs)
    monkeypatch.chdir(pngs)
    export(make_store(np.full((3, 2, 2), 9)), "davis", ".", overwrite=True)
    assert sorted(p.name for p in pngs.iterdir()) == ["00000.png", "00001.png", "00002.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pngs"]


def test_read_store_of_empty_store():
    store = make_store(np.zeros((2, 3, 4)))
    ann = read_store(store)
    assert ann.n_frames == 2 and not ann.instances and not ann.tracks


@pytest.mark.parametrize("fmt", [*MASK_FORMATS, *BOX_FORMATS])
def test_export_closes_the_stores_it_opened(fmt, tmp_path, opened):
    """export(path, "viame") opened the store a second time (for class probabilities and the
    frame rate) and never closed it."""
    lab = np.zeros((2, 6, 8), np.uint32)
    lab[:, 1:4, 2:5] = 1
    store = make_store(lab, path=tmp_path / "m.zarr")
    opened.clear()
    export(store, fmt, target(tmp_path, fmt))
    assert opened and all(s.closed for _, s in opened)
    with MaskStore.open(store) as mine:  # a store passed in stays open
        export(mine, fmt, target(tmp_path, fmt), overwrite=True)
        assert not mine.closed


def test_an_unfinished_run_is_exported_and_said_so_as_measure_says_it(tmp_path):
    """A store whose ``ecoseg segment`` was interrupted: ``measure`` warns that its tables
    cover only the frames it holds; ``export`` wrote the file of those frames without a word.
    Now it warns too, in measure's words (:func:`ecoseg.measure.incomplete_note`)."""
    from ecoseg.measure import IncompleteStoreWarning

    labels = np.zeros((3, 4, 5), np.uint32)
    labels[:, 1:3, 1:3] = 1
    path = tmp_path / "part.zarr"
    with MaskStore.create(path, height=4, width=5, objects=[(1, "wrasse", "tracker")]) as s:
        s.append(labels, [0.0, 0.1, 0.2])  # never marked complete: the run was killed
    with pytest.warns(IncompleteStoreWarning) as warned:
        out = ecoseg.export(path, "coco", tmp_path / "part.json")
    assert len(warned) == 1 and Path(out).exists()
    with pytest.warns(IncompleteStoreWarning) as measured:
        ecoseg.measure(path)
    said = str(measured[0].message)
    assert str(warned[0].message) == said.replace("the tables cover", "the annotations cover")
    assert f"{path}: its run did not finish" in said and "--resume" in said


@pytest.mark.parametrize(("fmt", "bar"), [("davis", "writing PNGs"), ("cvat", "writing CVAT")])
def test_slow_writers_show_a_bar_of_their_own(tmp_path, capsys, fmt, bar):
    # on an hour of video these two write for several times longer than the masks take to
    # read: a bar that stopped with the reading would leave minutes of silence
    lab = np.zeros((5, 6, 7), np.uint32)
    lab[:, 1:3, 2:5] = 4
    lab[2:, 4, :] = 9
    store = make_store(lab)
    export(store, fmt, tmp_path / "quiet")
    assert bar not in capsys.readouterr().err
    export(store, fmt, tmp_path / "shown", progress=True)
    err = capsys.readouterr().err
    # each frame is written (davis: its PNG; cvat: its masks, spilled) as it is read: one bar
    # over both (cvat's old code read the store under "reading masks", then drew a second bar
    # over the masks while its XML was built)
    assert "reading masks" not in err and bar in err
    assert "5/5" in err.split(bar)[-1]  # frames read and written


def test_annotations_show_tracks_and_counts_not_every_instance(sample, tmp_path):
    """``read_annotations(...)`` in a notebook printed every instance with its RLE: 82,000
    characters for 60 frames of five fish."""
    truth, _, info, _ = sample
    ecoseg.export(truth, "coco", tmp_path / "c.json")
    ann = read_annotations(tmp_path / "c.json", "coco", info)
    text = repr(ann)
    assert text.startswith(f"<Annotations '{tmp_path / 'c.json'}': {len(ann.tracks)} tracks {{")
    assert f"}}, {len(ann.instances)} instances on " in text and f"x{info.height}>" in text
    assert "\n" not in text and len(text) < 300


def test_prompts_from_a_file_or_from_frames_that_are_no_list_are_named_in_one_line(tmp_path):
    """``to_prompts("old.json")`` was an AttributeError ('str' object has no attribute
    'instances'); ``frames=[0.5]`` prompted on frame 0, ``frames="12"`` on frames 1 and 2,
    ``frames=5`` was a TypeError (not iterable)."""
    from ecoseg.errors import ConfigError
    from ecoseg.formats import Annotations, Instance, Track, to_prompts

    ann = Annotations(
        width=64,
        height=48,
        n_frames=20,
        tracks=(Track(1, "fish"),),
        instances=tuple(Instance(f, 1, box=(1, 2, 9, 9)) for f in (0, 1, 2, 12)),
    )
    with pytest.raises(TypeError, match="^to_prompts: ann must be annotations read with read_"):
        to_prompts(str(tmp_path / "old.json"))
    for frames in ([0.5], "12", 5):
        with pytest.raises(ConfigError, match="^to_prompts: frames must be a list of frame num"):
            to_prompts(ann, frames=frames)
    assert to_prompts(ann, frames=[np.int64(12), 2.0]).frames() == [2, 12]


def test_prompt_frames_the_video_does_not_have_are_refused(tmp_path):
    """``frames=[0, 500]`` on a 150-frame video prompted on frame 0 alone without a word (a
    typo, or a MOT file's numbers taken for the video's): refused, naming the frames, the
    video's range and, for a file counted from 1, which of its frames is frame 0."""
    import ecoseg
    from ecoseg.errors import ConfigError
    from ecoseg.formats import prompts_from_file

    clip = ecoseg.synth(tmp_path / "clip", frames=3, size=(64, 48))
    mot = ecoseg.export(clip.truth, "mot", tmp_path / "gt.txt")
    assert prompts_from_file(mot, "mot", clip.video, frames=[0, 2]).frames() == [0, 2]
    with pytest.raises(ConfigError) as said:
        prompts_from_file(mot, "mot", clip.video, frames=[0, 3, -1])
    assert str(said.value) == (
        f"{mot}: prompt frames -1, 3 are not frames of the video (3 frames, 0..2): give the "
        "video's frame numbers, counted from 0 (this file's frame 1 is frame 0)"
    )
    viame = ecoseg.export(clip.truth, "viame", tmp_path / "b.csv")
    with pytest.raises(ConfigError, match=r"b\.csv: prompt frames 7 are not .*counted from 0$"):
        prompts_from_file(viame, "viame", clip.video, frames=[7])
