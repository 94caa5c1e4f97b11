"""Bad arguments from a notebook: a float frame number, a threshold typed as a percentage, a
dataset where a path is wanted. One line naming the argument, never a deep numpy or xarray
traceback and never a silently wrong result."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg.errors import ConfigError, PromptError, StoreError, VideoError
from ecoseg.species.classify import train_model
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input


@pytest.mark.parametrize(
    "options, culprits",
    [
        ({"iou_threshold": 50}, ["iou_threshold", "(0, 1]", "50"]),  # 50 % typed as 50
        ({"iou_threshold": 0}, ["iou_threshold", "got 0"]),
        ({"iou_threshold": "0.5"}, ["iou_threshold", "'0.5'"]),
        ({"bound_th": -1}, ["bound_th", "positive", "-1"]),
        ({"frames": [0.5, 2]}, ["frames", "[0.5, 2]"]),  # was read as frames 0 and 2
        ({"frames": "12"}, ["frames", "'12'"]),  # was read as frames 1 and 2
        ({"frames": [0, "3"]}, ["frames", "[0, '3']"]),  # was read as frames 0 and 3
        ({"frames": slice(0, 3)}, ["frames", "slice(0, 3, None)"]),  # a TypeError from numpy
        ({"chunk_frames": -1}, ["chunk_frames", "positive integer", "-1"]),  # read no frame
        ({"chunk_frames": 2.5}, ["chunk_frames", "got 2.5"]),  # was read 2 at a time
        ({"chunk_frames": 0}, ["chunk_frames", "got 0"]),  # was the default, without a word
    ],
)
def test_evaluate_names_a_bad_option(clip, options, culprits):
    with pytest.raises(ConfigError) as exc:
        ecoseg.evaluate(clip.truth, clip.truth, **options)
    assert_names(exc, "evaluate", *culprits)


def test_evaluate_takes_whole_frame_numbers_of_any_type(clip):
    picked = [0.0, np.int64(3)]
    assert ecoseg.evaluate(clip.truth, clip.truth, frames=picked)["scored_frames"] == 2


@pytest.mark.parametrize("progress", ["no", 0.5])
def test_segment_names_a_progress_that_is_no_switch(clip, tmp_path, progress):
    # "no" was taken as true and showed a bar
    with pytest.raises(TypeError) as exc:
        ecoseg.segment(clip.video, out=tmp_path / "m.zarr", progress=progress)
    assert_names(exc, "progress", repr(progress))
    assert not (tmp_path / "m.zarr").exists()


@pytest.mark.parametrize(
    "prompts, out, said",
    [
        ("masks.zarr", None, "pass it as out='masks.zarr'"),  # TypeError: missing out
        ("masks.zarr/", "other.zarr", "the store to write is out="),  # prompt file not found
        ("truth", "other.zarr", "the store to write is out="),  # a store, named without .zarr
    ],
)
def test_a_store_given_as_prompts_says_out(clip, tmp_path, monkeypatch, prompts, out, said):
    # segment(video, "masks.zarr"): the store's path was the second positional argument, the
    # prompt file; the refusal said only "missing 1 required keyword-only argument: 'out'"
    monkeypatch.chdir(tmp_path)
    shutil.copytree(clip.truth, tmp_path / "truth")
    with pytest.raises(PromptError) as exc:
        ecoseg.segment(clip.video, prompts, **({} if out is None else {"out": out}))
    assert_names(exc, f"{prompts}: a mask store given as prompts", said)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["truth"]


def test_segment_without_out_says_out(clip, tmp_path):
    with pytest.raises(TypeError) as exc:
        ecoseg.segment(clip.video, progress=False)
    assert_names(exc, "pass out=PATH")


@pytest.mark.parametrize(
    "out, said",
    [("memory", "got MemoryStore('memory://"), ("local", "got LocalStore('file://")],
)
def test_segment_names_a_zarr_store_given_as_out(clip, tmp_path, monkeypatch, out, said):
    # a zarr Store object (not documented for out: the run creates, locks and records its
    # store by path) failed in _paths.check_overwrite with os.fspath's raw "expected str,
    # bytes or os.PathLike object, not MemoryStore", after the video was read and hashed
    import zarr

    monkeypatch.chdir(tmp_path)
    given = {"memory": zarr.storage.MemoryStore(), "local": zarr.storage.LocalStore("x.zarr")}
    with pytest.raises(StoreError) as exc:
        ecoseg.segment(clip.video, out=given[out], progress=False)
    assert_names(
        exc, "segment: out must be the path or URL of the mask store to write", said,
        "out='masks.zarr' or 'memory://masks.zarr', not a zarr object",
    )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("out", [3, b"masks.zarr", ["masks.zarr"]])
def test_segment_names_any_out_that_is_no_path_as_a_zarr_store(clip, tmp_path, monkeypatch, out):
    # out=3 said "3: not a path, URL or zarr store", as if a zarr store would do (segment
    # refuses one): now the words of a zarr store given as out, without "not a zarr object"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError) as exc:
        ecoseg.segment(clip.video, out=out, progress=False)
    text = assert_names(
        exc, "segment: out must be the path or URL of the mask store to write, got",
        repr(out), "out='masks.zarr' or 'memory://masks.zarr')",
    )  # fmt: skip
    assert "zarr store" not in text and "zarr object" not in text
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("chunk_frames", [-1, 2.5, True, 0])  # 0: the default, without a word
def test_measure_names_a_bad_chunk_frames(clip, chunk_frames):
    # 2.5 was read 2 frames at a time, without a word
    with pytest.raises(ConfigError) as exc:
        ecoseg.measure(clip.truth, chunk_frames=chunk_frames)
    assert_names(exc, "measure", "chunk_frames", repr(chunk_frames))


@pytest.mark.parametrize("call", ["measure", "export", "evaluate", "open_masks"])
def test_a_dataset_of_open_masks_given_for_a_store_names_its_store(clip, tmp_path, call):
    # the message held the dataset's whole repr, 15 lines of it
    ds = ecoseg.open_masks(clip.truth)
    calls = {
        "measure": lambda: ecoseg.measure(ds),
        "export": lambda: ecoseg.export(ds, "mot", tmp_path / "gt.txt"),
        "evaluate": lambda: ecoseg.evaluate(ds, clip.truth),
        "open_masks": lambda: ecoseg.open_masks(ds),
    }
    with pytest.raises(StoreError) as exc:
        calls[call]()
    assert_names(exc, "<xarray.Dataset>: not a path", repr(str(clip.truth)))


@pytest.mark.parametrize(
    "start, stop, culprit",
    [
        (0.5, None, "start must be a whole frame number or None, got 0.5"),
        (0, "3", "stop must be a whole frame number or None, got '3'"),
        ([1, 2], None, "start must be a whole frame number or None, got [1, 2]"),
    ],
)
def test_read_labels_names_a_bad_frame_bound(clip, start, stop, culprit):
    # it was numpy's "slice indices must be integers or None or have an __index__ method"
    with MaskStore.open(clip.truth) as store, pytest.raises(TypeError) as exc:
        store.read_labels(start, stop)
    assert_names(exc, culprit)


def test_read_labels_takes_whole_numbers_of_any_type(clip):
    # a frame number from a pandas column of floats, or numpy's integers
    with MaskStore.open(clip.truth) as store:
        whole = store.read_labels(2, 5)
        assert np.array_equal(store.read_labels(2.0, np.int64(5)), whole)
        assert [c.frames for c in store.missing_chunks(np.float64(0), 4.0)] == []


def test_the_repr_of_a_closed_store_says_so(clip):
    store = MaskStore.open(clip.truth)
    assert "closed" not in repr(store)
    store.close()
    assert repr(store).endswith(", complete, closed>")


@pytest.mark.parametrize(
    "call", [ecoseg.open_video, lambda v: ecoseg.segment(v, out="masks.zarr", progress=False)]
)
@pytest.mark.parametrize("video", [3, None, ["video.mp4"]])
def test_a_video_that_is_no_path_is_named(tmp_path, monkeypatch, call, video):
    # it was os.fspath's "expected str, bytes or os.PathLike object, not list"
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError) as exc:
        call(video)
    text = assert_names(exc, f"video must be a path to a video or image folder, got {video!r}")
    assert ("one video per call" in text) == isinstance(video, list)
    assert not (tmp_path / "masks.zarr").exists()


@pytest.mark.parametrize(
    "tables, culprit",
    [
        ({"regions": 3}, "tables['regions'] must be a DataFrame, got 3"),  # AttributeError
        ({"region": None}, "unknown table 'region' (known: regions, tracks"),  # left out silently
        ("a DataFrame", "got <pandas.DataFrame>"),  # AttributeError: 'Series' ... 'columns'
        (3, "tables must be a dict of DataFrames by name, as ecoseg.measure returns, or the"),
        # a folder path (as ecoseg measure -o DIR wrote it) is read; one that holds no tables:
        ("regions", "regions: no such folder; give the folder ecoseg measure -o DIR wrote"),
        ("video.mp4", "video.mp4: not a folder; give the folder ecoseg measure"),
        ("empty", "empty: no tables in it (regions, tracks, counts, maxn or cover"),
        ("stopped", "stopped: holds the tables of an ecoseg measure stopped while putting"),
    ],
)
def test_report_names_bad_tables(clip, tmp_path, monkeypatch, tables, culprit):
    monkeypatch.chdir(tmp_path)
    if tables == "a DataFrame":
        tables = ecoseg.measure(clip.truth)["regions"]
    elif tables == "video.mp4":
        shutil.copyfile(clip.video, "video.mp4")
    elif tables == "empty":
        (tmp_path / "empty").mkdir()
    elif tables == "stopped":  # the set is half replaced: not one
        ecoseg.measure(clip.truth, "stopped")
        (tmp_path / "stopped" / "tables.incomplete").write_text("stopped\n")
    with pytest.raises(ConfigError) as exc:
        ecoseg.report(clip.truth, tmp_path / "report.html", tables=tables)
    assert_names(exc, "report: tables", culprit)
    assert not (tmp_path / "report.html").exists()


def test_concepts_given_as_one_string_are_refused(clip, tmp_path, no_model):
    # "fish" was tracked as the four concepts 'f', 'i', 's' and 'h'
    with pytest.raises(PromptError) as exc:
        ecoseg.segment(clip.video, out=tmp_path / "masks.zarr", concepts="fish", progress=False)
    assert_names(exc, "concepts must be a list of names, got 'fish' (concepts=['fish'])")
    assert not (tmp_path / "masks.zarr").exists()


def test_batch_concepts_given_as_one_string_are_refused(clip, tmp_path, no_model):
    # batch tracked "fish" as the four concepts 'f', 'i', 's' and 'h' (segment refused it)
    from ecoseg.batch import batch

    with pytest.raises(ConfigError) as exc:
        batch([clip.video], tmp_path / "out", concepts="fish", progress=False)
    assert_names(exc, "concepts must be a list of names, got 'fish' (concepts=['fish'])")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "given, hint", [({"objects": []}, "Prompts.from_dict(data)"), (None, "got None")]
)
def test_load_prompts_names_what_is_no_path(given, hint):
    # it was pathlib's "expected str, bytes or os.PathLike object, not dict"
    with pytest.raises(TypeError) as exc:
        ecoseg.load_prompts(given)
    assert_names(exc, "load_prompts: path must be a prompt file (JSON)", hint)


@pytest.mark.parametrize(
    "mask, culprit",
    [
        (np.ones((4, 5), bool), "got bool (a bool mask: labels = mask * object_id)"),
        (np.full((4, 5), 7.0), "got float64"),
    ],
)
def test_a_mask_that_is_not_object_ids_is_named(mask, culprit):
    store = MaskStore.create("memory://bad-calls-mask", height=4, width=5, overwrite=True)
    store.add_objects([(7, "coral", "prompt")])
    with pytest.raises(StoreError) as exc:
        store.append(mask, 0.0)
    assert_names(exc, "frame 0: labels must be an integer array of object ids", culprit)
    assert store.n_frames == 0


@pytest.mark.parametrize(
    "call, culprit",
    [
        ("export", "export: out must be a path to the output file (a folder for davis), got None"),
        ("synth", "synth: out must be a path to the output folder, got None"),
        ("report", "report: out must be a path to the report file (e.g. report.html), got None"),
        ("measure", "measure: out must be a path to the tables' folder or None, got ['x']"),
    ],
)
def test_an_output_that_is_no_path_is_named(clip, tmp_path, monkeypatch, call, culprit):
    # it was pathlib's "expected str, bytes or os.PathLike object, not NoneType"
    monkeypatch.chdir(tmp_path)
    calls = {
        "export": lambda: ecoseg.export(clip.truth, "coco", None),
        "synth": lambda: ecoseg.synth(None),
        "report": lambda: ecoseg.report(clip.truth, None),
        "measure": lambda: ecoseg.measure(clip.truth, out=["x"]),
    }
    with pytest.raises(TypeError) as exc:
        calls[call]()
    assert_names(exc, culprit)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("index, culprit", [(1.5, "got 1.5"), ("3", "got '3'"), (True, "got True")])
def test_a_frame_index_that_is_no_whole_number_is_quoted(clip, index, culprit):
    # it said "got float", not the value given
    with ecoseg.open_video(clip.video) as video, pytest.raises(TypeError) as exc:
        video[index]
    assert_names(exc, "frame index must be a whole frame number", culprit)


@pytest.mark.parametrize(
    "call, culprit",
    [
        (lambda v: v.frames(0.5), "start must be a whole frame number or None, got 0.5"),
        (lambda v: v.frames(0, "3"), "stop must be a whole frame number or None, got '3'"),
        (lambda v: v.frames(True), "start must be a whole frame number or None, got True"),
        (lambda v: v.batches(4, start="1"), "start must be a whole frame number or None"),
    ],
)
def test_video_frames_names_a_bad_frame_bound(clip, call, culprit):
    # it was "slice indices must be integers or None or have an __index__ method", and True
    # was frame 1
    with ecoseg.open_video(clip.video) as video, pytest.raises(TypeError) as exc:
        list(call(video))
    assert_names(exc, culprit)


@pytest.mark.parametrize(
    "call, culprit",
    [
        (lambda v: v.frames(0, None, "2"), "step must be a positive integer, got '2'"),
        (lambda v: v.batches("4"), "batch_size must be a positive integer, got '4'"),
    ],
)
def test_video_frames_names_a_count_given_as_text(clip, call, culprit):
    # "2" was read as 2, as float() reads it
    with ecoseg.open_video(clip.video) as video, pytest.raises(ValueError) as exc:
        list(call(video))
    assert_names(exc, culprit)


def test_a_video_takes_whole_frame_numbers_of_any_type(clip):
    # one rule with MaskStore.read_labels and evaluate(frames=): VideoReader[2.0] was refused
    with ecoseg.open_video(clip.video) as video:
        assert np.array_equal(video[2.0].image, video[2].image)
        assert video[np.float64(-1)].index == len(video) - 1
        assert [f.index for f in video.frames(np.float64(1), 7.0, 2.0)] == [1, 3, 5]


@pytest.mark.parametrize(
    "option, value",
    [
        ("crop", ("0", "0", "32", "48")),
        ("crop", (0, 0, True, 48)),
        ("crop", (0, 0, 32.5, 48)),
        ("size", ("16", None)),
        ("size", (16, "12")),
        ("size", (True, None)),
    ],
)
def test_crop_and_size_refuse_text_and_bools(clip, option, value):
    # the text "16" was read as 16 pixels, as float() reads it
    with pytest.raises(VideoError) as exc:
        ecoseg.open_video(clip.video, **{option: value})
    assert_names(exc, str(clip.video), f"bad {option} {value!r}")


def test_crop_and_size_take_whole_numbers_of_any_type(clip):
    video = ecoseg.open_video(clip.video, crop=(0, 0, 32.0, np.int64(48)), size=(16.0, None))
    assert video.crop == (0, 0, 32, 48) and video.size == (16, 24)


@pytest.mark.parametrize("study", ["a DataFrame", "a dict"])
def test_report_names_a_study_that_is_not_loaded_in_one_line(clip, tmp_path, study):
    # the message held the object's whole repr (a DataFrame's: many lines)
    given = {
        "a DataFrame": ecoseg.measure(clip.truth)["regions"],
        "a dict": {"name": "reef", "output": "out", "videos": [{"path": "T1.mp4"}] * 3},
    }[study]
    with pytest.raises(ConfigError) as exc:
        ecoseg.report(clip.truth, tmp_path / "report.html", study=given)
    name = "<pandas.DataFrame>" if study == "a DataFrame" else "<dict>"
    assert_names(exc, f"report: study={name} is not a loaded study", "load_study(path)")
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    "call, said",
    [
        (lambda s, v: ecoseg.classify(s, train=s, videos=[v] * 3), "videos (--video)"),
        (
            lambda s, v: ecoseg.classify(s, train=s, train_videos=[v] * 3),
            "train_videos (--train-video)",
        ),
        (lambda s, v: train_model(s, videos=[v] * 3), "videos (--video)"),
    ],
    ids=["videos", "train_videos", "train_model"],
)
def test_classify_names_the_keyword_given_too_many_videos(clip, call, said):
    # it said "--train-video: 3 videos given ..." to a caller who passed train_videos= (and
    # to one of train_model, which has videos=): an option of the ecoseg command only
    with pytest.raises(ConfigError) as exc:
        call(clip.truth, clip.video)
    assert_names(exc, f"{said}: 3 videos given for 1 store (give one per store)")


@pytest.mark.parametrize("call", ["measure", "evaluate", "Review"])
def test_a_table_of_measure_given_for_a_store_is_called_a_table(clip, call):
    # the hint called a table of measure "a dataset of open_masks"
    regions = ecoseg.measure(clip.truth)["regions"]
    calls = {
        "measure": lambda: ecoseg.measure(regions),
        "evaluate": lambda: ecoseg.evaluate(regions, clip.truth),
        "Review": lambda: ecoseg.Review(regions),
    }
    with pytest.raises(StoreError) as exc:
        calls[call]()
    text = assert_names(
        exc, "<pandas.DataFrame>: not a path", "(a table of measure: pass its store"
    )
    assert "dataset" not in text


@pytest.mark.parametrize("call", ["MaskStore.open", "segment out"])
def test_an_opened_mask_store_given_for_a_path_names_its_path(clip, tmp_path, call):
    # it said "<ecoseg.MaskStore>: not a path, URL or zarr store" without a way on
    with MaskStore.open(clip.truth) as store, pytest.raises(StoreError) as exc:
        if call == "MaskStore.open":
            MaskStore.open(store)
        else:
            ecoseg.segment(clip.video, out=store, engine="classical", progress=False)
    said = (
        "<ecoseg.MaskStore>: not a path" if call == "MaskStore.open" else "got <ecoseg.MaskStore>"
    )
    assert_names(exc, said, f"pass its path, {str(clip.truth)!r}")


@pytest.mark.parametrize("call", ["synth", "measure", "cli synth"])
def test_a_mask_store_given_for_an_output_folder_is_refused(clip, tmp_path, cli, call):
    # synth wrote a second clip (video.mp4 + truth.zarr) inside the store, measure its tables
    store = tmp_path / "other.zarr"
    shutil.copytree(clip.truth, store)
    before = sorted(p.name for p in store.iterdir())
    said = f"{store}: is a zarr store (a mask store?), not a folder to write into"
    if call == "cli synth":
        code, _, err = cli("synth", "-o", store, "--frames", 2, "--size", "64x48")
        assert_one_line_error(code, err, said)
    else:
        with pytest.raises(ConfigError) as exc:
            if call == "synth":
                ecoseg.synth(store, frames=2, size=(64, 48), overwrite=True)
            else:
                ecoseg.measure(clip.truth, out=store)
        assert_names(exc, said)
    assert sorted(p.name for p in store.iterdir()) == before


@pytest.mark.parametrize(
    "given, culprit", [("a DataFrame", "got <pandas.DataFrame>"), (None, "got None")]
)
def test_import_annotations_names_a_file_that_is_no_path(clip, tmp_path, given, culprit):
    # it was os.fspath's "expected str, bytes or os.PathLike object, not DataFrame"
    if given == "a DataFrame":
        given = ecoseg.measure(clip.truth)["regions"]
    with pytest.raises(TypeError) as exc:
        ecoseg.formats.import_annotations(given, "mot", clip.video, tmp_path / "t.zarr")
    assert_names(exc, "import_annotations: path must be the annotation file", culprit)
    assert not (tmp_path / "t.zarr").exists()


def test_batch_names_a_table_given_for_its_videos(clip, tmp_path):
    # a table iterated as its column names: "frame: no such file or directory"
    table = ecoseg.measure(clip.truth)["regions"]
    with pytest.raises(ConfigError) as exc:
        ecoseg.batch.batch(table, tmp_path / "out", progress=False)
    assert_names(exc, "videos must be a list of videos, got <pandas.DataFrame>", "table['video']")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("call", ["export", "import_annotations"])
def test_a_format_and_path_given_in_the_wrong_order_are_named(clip, tmp_path, call):
    # it said only "unknown format '.../gt.txt'; choose one of coco, ..."
    gt = tmp_path / "gt.txt"
    with pytest.raises(ecoseg.errors.FormatError) as exc:
        if call == "export":
            ecoseg.export(clip.truth, str(gt), "mot")
        else:
            ecoseg.formats.import_annotations("mot", str(gt), clip.video, tmp_path / "t.zarr")
    assert_names(exc, f"unknown format {str(gt)!r}", "'mot', given for the path", "swapped")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "index, hint",
    [(slice(2, 4), "video.frames(2, 4)"), (slice(None, 6, 2), "video.frames(0, 6, 2)")],
)
def test_a_slice_of_a_video_names_its_frames_call(clip, index, hint):
    # it said only "frame index must be a whole frame number, got slice(2, 4, None)"
    with ecoseg.open_video(clip.video) as video, pytest.raises(TypeError) as exc:
        video[index]
    assert_names(exc, "a range of frames is " + hint)


@pytest.mark.parametrize("call", ["create", "add_objects"])
def test_one_object_given_for_the_list_is_named(tmp_path, call):
    # the tuple's items were read as entries: "object entry 7 is not a dict or (id, class, ...)"
    one = (7, "wrasse", "prompt")
    with pytest.raises(StoreError) as exc:
        if call == "create":
            MaskStore.create(tmp_path / "m.zarr", height=8, width=8, objects=one)
        else:
            with MaskStore.create(tmp_path / "m.zarr", height=8, width=8) as store:
                store.add_objects(one)
    assert_names(exc, "got one entry (7, 'wrasse', 'prompt')", "give [(7, 'wrasse', 'prompt')]")


def test_an_image_size_of_numpy_is_taken():
    # np.int64(64) from a table of settings: "image_size (--image-size) must be a multiple of
    # 32 from 64 to 4096 (e.g. 256, 512, 1024), got np.int64(64)"
    model = ecoseg.sam2.build("sam2.1-tiny", pretrained=False, image_size=np.int64(64))
    assert model.image_size == 64 and type(model.image_size) is int


@pytest.mark.parametrize(
    "call",
    [
        lambda p, objects: MaskStore.create(p, height=8, width=8, objects=objects),
        lambda p, objects: MaskStore.create(p, height=8, width=8).add_objects(objects),
    ],
    ids=["create", "add_objects"],
)
def test_an_object_of_an_unknown_source_is_refused(tmp_path, call):
    # (7, "wrasse", "promt") was stored as the object's source without a word
    with pytest.raises(StoreError) as exc:
        call(tmp_path / "m.zarr", [(7, "wrasse", "promt")])
    assert_names(exc, "object 7: unknown source 'promt' (did you mean 'prompt'?)", "truth")
    with pytest.raises(StoreError) as exc:
        call(tmp_path / "n.zarr", [{"id": 3, "class": "crab", "source": 5}])
    assert_names(exc, "object 3: unknown source 5; known: prompt")


def test_names_in_capitals_are_taken(clip, tmp_path, no_model, cli, capsys):
    from concurrent.futures import ThreadPoolExecutor

    # device="CPU" and camera="Pan" were unknown though their meaning is clear
    out = ecoseg.segment(clip.video, out=tmp_path / "m.zarr", device="CPU", progress=False)
    assert ecoseg.open_masks(out).sizes["t"] == ecoseg.open_masks(clip.truth).sizes["t"]
    with ThreadPoolExecutor(1) as pool:  # batch and --device refused it still
        summary = ecoseg.batch.batch(
            [clip.video], tmp_path / "b", scheduler=pool, device="CPU", progress=False
        )
    assert summary["status"].tolist() == ["done"]
    code, _, err = cli(
        "segment", clip.video, "-o", tmp_path / "c.zarr", "--device", "CPU", "--quiet"
    )
    assert (code, err) == (0, "") and (tmp_path / "c.zarr").is_dir()
    made = ecoseg.synth(tmp_path / "c", frames=2, size=(32, 24), camera="Pan")
    assert MaskStore.open(made.truth).provenance["parameters"]["camera"] == "pan"
    with pytest.raises(ConfigError) as exc:  # an unknown device is still one
        ecoseg.segment(clip.video, out=tmp_path / "n.zarr", device="GPU", progress=False)
    assert_names(exc, "device (--device): unknown device 'gpu'")
    with pytest.raises(ConfigError) as exc:
        ecoseg.batch.batch([clip.video], tmp_path / "e", device="GPU", progress=False)
    assert_names(exc, "device (--device): unknown device 'gpu' (did you mean 'cuda'?)")
    with pytest.raises(SystemExit) as info:  # argparse's exit, in ecoseg's one line
        cli("segment", clip.video, "-o", tmp_path / "f.zarr", "--device", "GPU")
    err = capsys.readouterr().err
    assert_one_line_error(info.value.code, err, "--device: unknown device 'gpu'")
    with pytest.raises(ConfigError) as exc:
        ecoseg.synth(tmp_path / "d", frames=2, size=(32, 24), camera="Tilt")
    assert_names(exc, "camera (--camera) must be one of", "'tilt'")


def test_classify_takes_samples_as_a_whole_float(clip):
    from ecoseg.species.features import track_features

    # samples=2.0 (from a table of settings) was refused as no positive integer
    two = track_features(clip.truth, clip.video, samples=2)
    np.testing.assert_array_equal(
        track_features(clip.truth, clip.video, samples=2.0).values, two.values
    )
    with pytest.raises(ConfigError) as exc:
        track_features(clip.truth, clip.video, samples=2.5)
    assert_names(exc, "samples must be a positive integer, got 2.5")
