"""Broken mask stores: a StoreError naming the store and what is wrong, never a traceback.

Each case damages a copy of a good store the way real stores break (copied halfway, edited by
hand, written by another version, made by another tool) and opens it through
``MaskStore.open``, ``open_masks``, ``ecoseg.measure`` and ``ecoseg measure``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from reliability_helpers import assert_names, assert_one_line_error

import ecoseg
from ecoseg.errors import StoreError
from ecoseg.store import ATTRS_KEY, STORE_VERSION, MaskStore

pytestmark = pytest.mark.bad_input


def _edit(path: Path, change) -> None:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))


def _meta(key, value):
    return lambda d: _edit(
        d / "zarr.json", lambda j: j["attributes"][ATTRS_KEY].__setitem__(key, value)
    )


def _array(name, change):
    return lambda d: _edit(d / name / "zarr.json", change)


def _first_chunk(d: Path, name="labels") -> Path:
    return sorted(p for p in (d / name / "c").rglob("*") if p.is_file())[0]


# (case id, damage, substrings of the message)
CASES = [
    ("version-newer", _meta("version", STORE_VERSION + 1), ["newer ecoseg", "upgrade"]),
    ("version-older", _meta("version", 0), ["older", "re-create"]),
    ("version-text", _meta("version", "1"), ["invalid store version"]),
    ("format-other", _meta("format", "someone-elses"), ["not an ecoseg mask store"]),
    (
        "no-ecoseg-attrs",
        lambda d: _edit(d / "zarr.json", lambda j: j.pop("attributes")),
        ["not an ecoseg mask store"],
    ),
    ("missing-labels", lambda d: shutil.rmtree(d / "labels"), ["'labels'"]),
    ("missing-time", lambda d: shutil.rmtree(d / "time"), ["'time'"]),
    ("missing-scores", lambda d: shutil.rmtree(d / "scores"), ["'scores'"]),
    (
        "labels-2d",
        _array(
            "labels",
            lambda j: j.update(
                shape=j["shape"][1:],
                chunk_grid={
                    "name": "regular",
                    "configuration": {
                        "chunk_shape": j["chunk_grid"]["configuration"]["chunk_shape"][1:]
                    },
                },
                dimension_names=["y", "x"],
            ),
        ),
        ["'labels'", "3-d"],
    ),
    (
        "labels-float",
        _array("labels", lambda j: j.update(data_type="float32")),
        ["'labels'", "uint32"],
    ),
    (
        "labels-dims-renamed",
        _array("labels", lambda j: j.update(dimension_names=["a", "b", "c"])),
        ["'labels'", "dimension names"],
    ),
    (
        "time-shorter-than-marker",
        _array("time", lambda j: j.update(shape=[3])),
        ["'time'", "progress marker"],
    ),
    (
        "labels-shorter-than-marker",
        _array("labels", lambda j: j["shape"].__setitem__(0, 2)),
        ["'labels'", "progress marker"],
    ),
    (
        "frame-size-not-the-videos",
        _array("labels", lambda j: j["shape"].__setitem__(2, 50)),
        ["'labels'", "50x", "video"],
    ),
    (
        "scores-fewer-columns",
        _array("scores", lambda j: j["shape"].__setitem__(1, 1)),
        ["'scores'", "object"],
    ),
    ("marker-negative", _meta("frames_written", -5), ["frames_written"]),
    (
        "marker-missing",
        lambda d: _edit(
            d / "zarr.json", lambda j: j["attributes"][ATTRS_KEY].pop("frames_written")
        ),
        ["frames_written"],
    ),
    (
        "objects-duplicate-id",
        _meta("objects", [{"id": 1, "class": "a"}, {"id": 1, "class": "b"}]),
        ["duplicate object id 1", "object table"],
    ),
    ("objects-bad-id", _meta("objects", [{"id": "fish"}]), ["'fish'", "object table"]),
    ("objects-not-a-list", _meta("objects", {"1": "fish"}), ["object table"]),
    # a table edited into a string was 'the object table is missing'
    ("objects-a-string", _meta("objects", "x"), ["('objects') is a JSON string, not a list"]),
    # 'complete' edited by hand to "yes" was taken as a finished store
    ("complete-text", _meta("complete", "yes"), ["'complete' is 'yes', not true or false"]),
    ("provenance-not-a-dict", _meta("provenance", ["x"]), ["provenance"]),
    (
        "group-json-garbage",
        lambda d: (d / "zarr.json").write_text("{not json"),
        ["a damaged store: its zarr.json is not valid JSON (line 1 column 2)"],
    ),
    (
        "array-json-garbage",
        lambda d: (d / "labels" / "zarr.json").write_text("{oops"),
        ["site-A.zarr/labels/zarr.json: damaged (not valid JSON)"],
    ),
    # an array's metadata zarr refuses: the file named, and what is wrong, in the user's
    # words (it was the JSON library's: 'Expecting value: line 1 column 1 (char 0)')
    (
        "array-json-empty",
        lambda d: (d / "time" / "zarr.json").write_text(""),
        ["site-A.zarr/time/zarr.json: damaged (empty)"],
    ),
    (
        "array-json-list",
        lambda d: (d / "scores" / "zarr.json").write_text("[1, 2]"),
        ["site-A.zarr/scores/zarr.json: damaged (not a JSON object)"],
    ),
    (
        "array-node-group",
        _array("labels", lambda j: j.update(node_type="group")),
        ["site-A.zarr/labels/zarr.json: damaged (not a zarr v3 array's metadata: zarr_format 3"],
    ),
    (
        "labels-shape-2d",
        _array("labels", lambda j: j.update(shape=j["shape"][1:])),
        ["site-A.zarr/labels/zarr.json: damaged (shape [", "expected 3 whole numbers"],
    ),
    (
        "time-shape-negative",
        _array("time", lambda j: j.update(shape=[-4])),
        ["site-A.zarr/time/zarr.json: damaged (shape [-4]: expected 1 whole number, 0 or more)"],
    ),
    (
        "labels-no-chunk-grid",  # was 'the store has no 'labels' array'
        _array("labels", lambda j: j.pop("chunk_grid")),
        ["site-A.zarr/labels/zarr.json: damaged (no 'chunk_grid')"],
    ),
    (
        "labels-chunk-zero",  # zarr opened it; reading divided by zero
        _array(
            "labels", lambda j: j["chunk_grid"]["configuration"]["chunk_shape"].__setitem__(0, 0)
        ),
        ["site-A.zarr/labels/zarr.json: damaged (chunk shape [0, ", "1 or more)"],
    ),
    (
        "unknown-codec",
        _array(
            "labels",
            lambda j: j["codecs"].append({"name": "numcodecs.pickle", "configuration": {}}),
        ),
        ["'labels'", "codec"],
    ),
    (
        "plain-folder",
        lambda d: [p.unlink() for p in d.rglob("zarr.json")],
        ["a folder without zarr.json, not a mask store"],
    ),
    (
        "zarr-v2-group",
        lambda d: (shutil.rmtree(d), zarr.open_group(str(d), mode="w", zarr_format=2)),
        ["zarr v2"],
    ),
]


@pytest.fixture(scope="module")
def good_store(clip):
    return Path(clip.truth)


@pytest.mark.parametrize(("damage", "culprits"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_broken_store(damage, culprits, good_store, tmp_path, cli):
    store = tmp_path / "site-A.zarr"
    shutil.copytree(good_store, store)
    damage(store)
    for action in (
        lambda: MaskStore.open(store),
        lambda: MaskStore.open(store, mode="a"),
        lambda: ecoseg.open_masks(store),
        lambda: ecoseg.measure(store),
    ):
        with pytest.raises(StoreError) as info:
            action()
        assert_names(info, str(store), *culprits)
    code, _, err = cli("measure", store, "-o", tmp_path / "tables")
    assert_one_line_error(code, err, str(store), *culprits)
    assert not (tmp_path / "tables").exists()
    assert not (tmp_path / ".site-A.zarr.lock").exists()  # a refused writer leaves no lock


def test_damaged_chunk_names_the_frames(good_store, tmp_path, cli):
    store = tmp_path / "bitrot.zarr"
    shutil.copytree(good_store, store)
    _first_chunk(store).write_bytes(b"this is not blosc data")
    opened = MaskStore.open(store)  # metadata is fine: the damage shows when frames are read
    with pytest.raises(StoreError) as info:
        opened.read_labels()
    # "damaged" alone is in the path (test_damaged_chunk_names_the_f0): the store's words
    said = "cannot be read; the store is damaged (chunk labels/c/0/0/0: "
    assert_names(info, f"{store}: 'labels' frames 0..", said)
    code, _, err = cli("measure", store, "-o", tmp_path / "tables")
    assert_one_line_error(code, err, f"{store}: 'labels' frames 0..", said)


@pytest.mark.parametrize(
    ("array", "read"),
    [("labels", "read_labels"), ("time", "read_time"), ("scores", "read_scores")],
)
def test_lost_chunk_is_damage_not_empty_frames(array, read, good_store, tmp_path, cli):
    # a sync tool or a copy gone wrong lost a chunk: zarr would read it as zeros (frames with
    # no animals, times of 0 s); the writer writes every chunk, so it is damage
    store = tmp_path / "lost.zarr"
    shutil.copytree(good_store, store)
    _first_chunk(store, array).unlink()
    opened = MaskStore.open(store)
    with pytest.raises(StoreError) as info:
        getattr(opened, read)()
    key = f"{array}/c/0" + ("/0/0" if array == "labels" else "/0" if array == "scores" else "")
    assert_names(info, str(store), f"'{array}' frames 0..", "damaged", f"chunk {key} is missing")
    code, _, err = cli("measure", store, "-o", tmp_path / "tables")
    assert_one_line_error(code, err, str(store), f"'{array}' frames 0..", f"{key} is missing")
    assert not (tmp_path / "tables").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["export", "--format", "mot", "-o", "{tmp}/out.txt"],
        ["evaluate", "--truth", "{truth}"],
        ["edit", "--delete", "1"],
        ["report", "-o", "{tmp}/report.html"],
    ],
    ids=["export", "evaluate", "edit", "report"],
)
def test_lost_labels_chunk_stops_every_command(command, good_store, tmp_path, cli):
    store = tmp_path / "lost.zarr"
    shutil.copytree(good_store, store)
    _first_chunk(store).unlink()
    before = {p: p.read_bytes() for p in store.rglob("*") if p.is_file()}
    args = [a.format(tmp=tmp_path, truth=good_store) for a in command]
    code, _, err = cli(args[0], store, *args[1:])
    assert_one_line_error(code, err, str(store), "'labels' frames 0..", "is missing")
    after = {p: p.read_bytes() for p in store.rglob("*") if p.is_file() and "lock" not in p.name}
    assert after == before  # nothing rewritten (edit)
    assert not (tmp_path / "out.txt").exists() and not (tmp_path / "report.html").exists()


@pytest.fixture
def lost_middle(good_store, tmp_path):
    """A store made by the writer (the clip's truth, 4 frames per chunk) that lost the labels
    chunk of frames 8..11; and the frames it held."""
    src = MaskStore.open(good_store)
    labels = src.read_labels()
    path = tmp_path / "lost.zarr"
    objects = list(src.object_records().values())
    with MaskStore.create(path, height=src.height, width=src.width, chunk_frames=4) as out:
        out.add_objects(objects)
        out.append(labels, src.read_time())
    (path / "labels" / "c" / "2" / "0" / "0").unlink()
    assert labels[8:12].any()  # zarr would read the lost frames as zeros
    return path, labels


def _lost_message(path) -> str:
    return (
        f"{path}: 'labels' frames 8..11 cannot be read; the store is damaged "
        "(chunk labels/c/2/0/0 is missing)"
    )


@pytest.mark.parametrize("dask", [True, False], ids=["dask", "no-dask"])
def test_lost_chunk_stops_the_xarray_view(dask, lost_middle, monkeypatch):
    # open_masks (Jupyter, napari) reads zarr lazily: each read checks the chunks it touches
    path, labels = lost_middle
    if not dask:
        import importlib.util

        find_spec = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util,
            "find_spec",
            lambda name, *a: None if name == "dask" else find_spec(name, *a),
        )
    ds = ecoseg.open_masks(path)  # opening checks nothing
    assert (ds.labels.chunks is not None) == dask
    for read in (
        lambda: ds.labels.values,
        lambda: ds.labels[10].values,
        lambda: ds.labels[6:9].values,
        lambda: ds.labels.isel(t=[0, 9]).values,
        lambda: int(ds.labels.max()),
        lambda: ds.labels.sel(t=11, y=slice(0, 5)).values,
    ):
        with pytest.raises(StoreError) as info:
            read()
        assert str(info.value) == _lost_message(path)
    np.testing.assert_array_equal(ds.labels[:8].values, labels[:8])
    np.testing.assert_array_equal(ds.labels[12:].values, labels[12:])
    if dask:  # without dask, xarray reads a list of frames as the slice around it
        np.testing.assert_array_equal(ds.labels.isel(t=[0, 12, 23]).values, labels[[0, 12, 23]])
    np.testing.assert_array_equal(ds.labels[7::-3].values, labels[7::-3])
    assert len(ds.time) == len(labels) and ds.scores.shape[0] == len(labels)


def test_lost_chunk_stops_campaign_tables(lost_middle):
    from ecoseg.batch import campaign_tables

    path, _ = lost_middle
    with pytest.raises(StoreError) as info:
        campaign_tables({"T1": path})
    assert str(info.value) == _lost_message(path)


def test_missing_store_and_not_a_zip(tmp_path, cli):
    code, _, err = cli("measure", tmp_path / "nowhere.zarr", "-o", tmp_path / "t")
    assert_one_line_error(code, err, "nowhere.zarr", "no such store")
    fake = tmp_path / "masks.zip"
    fake.write_text("not a zip")
    code, _, err = cli("measure", fake, "-o", tmp_path / "t")
    assert_one_line_error(code, err, "masks.zip", "not a zip")


def test_resume_into_a_store_of_another_video(clip, tmp_path, cli):
    other = ecoseg.synth(tmp_path / "other", frames=6, size=(96, 64), seed=9)
    out = tmp_path / "m.zarr"
    assert cli("segment", other.video, "-o", out, "--engine", "classical")[0] == 0
    before = MaskStore.open(out).read_labels()
    code, _, err = cli("segment", clip.video, "-o", out, "--engine", "classical", "--resume")
    line = assert_one_line_error(code, err, str(out), "another video")
    assert f"({other.video}), not {clip.video}" in line  # both videos named
    np.testing.assert_array_equal(MaskStore.open(out).read_labels(), before)  # untouched


def test_existing_store_is_not_overwritten(clip, tmp_path, cli):
    out = tmp_path / "m.zarr"
    assert cli("segment", clip.video, "-o", out, "--engine", "classical")[0] == 0
    before = MaskStore.open(out).read_labels()
    code, _, err = cli("segment", clip.video, "-o", out, "--engine", "classical")
    assert_one_line_error(code, err, str(out), "already exists")
    np.testing.assert_array_equal(MaskStore.open(out).read_labels(), before)


@pytest.mark.bad_input
@pytest.mark.parametrize("fmt", ["coco", "mot"])
def test_export_of_a_store_with_no_objects_warns(fmt, tmp_path, cli):
    """A store with no objects exported to an empty file without a word: the file is still
    written (an empty annotation file is valid), with one warning naming store and file."""
    path = tmp_path / "empty.zarr"
    with MaskStore.create(path, height=8, width=8) as new:
        new.append(np.zeros((3, 8, 8), np.uint32), [0.0, 0.1, 0.2])
        new.mark_complete()  # a finished run that found nothing (not also an unfinished one)
    out = tmp_path / f"empty.{fmt}"
    code, _, err = cli("export", path, "--format", fmt, "-o", out)
    assert code == 0 and out.is_file()
    assert [line for line in err.splitlines() if "warning" in line] == [
        f"ecoseg: warning: {path}: the store has no objects; {out} holds no annotations"
    ]


@pytest.mark.bad_input
@pytest.mark.parametrize("fmt", ["coco", "mot", "davis"])
def test_export_of_a_store_that_holds_no_frames_is_refused(fmt, tmp_path, cli):
    """A run killed before its first frame: exported to an empty file (exit 0), which a MOT
    import read back as the whole video with no animals. Refused now, as measure and report
    refuse the store, with the command that continues the run; nothing is written."""
    path = tmp_path / "killed.zarr"
    MaskStore.create(path, height=8, width=8).close()  # never appended to, never complete
    out = tmp_path / ("empty" if fmt == "davis" else f"empty.{fmt}")
    code, _, err = cli("export", path, "--format", fmt, "-o", out)
    assert_one_line_error(
        code, err, str(path), "holds no frames, so there is nothing to export", "--resume"
    )
    assert not out.exists()


def test_a_synth_folder_given_as_a_store_names_the_store_inside(clip, tmp_path, cli):
    """``ecoseg synth -o clip`` writes ``clip/video.mp4`` and ``clip/truth.zarr``; ``measure
    clip`` said only "not a zarr store (No group found ...)", ``evaluate --truth clip`` only
    "is neither a mask store nor a folder of PNG masks"."""
    folder = tmp_path / "c.mp4"
    folder.mkdir()
    shutil.copytree(clip.truth, folder / "truth.zarr")
    shutil.copy(clip.video, folder / "video.mp4")
    inside = f"; it holds a store: {folder / 'truth.zarr'}"
    code, _, err = cli("measure", folder, "-o", tmp_path / "tables")
    assert_one_line_error(code, err, f"{folder}: a folder without zarr.json, not a mask", inside)
    code, _, err = cli("evaluate", folder / "truth.zarr", "--truth", folder)
    assert_one_line_error(code, err, f"{folder}: is neither a mask store", inside)
    assert not (tmp_path / "tables").exists()


@pytest.mark.bad_input
def test_a_chunk_that_does_not_decompress_is_named_by_its_own_frames(lost_middle, cli):
    """A labels chunk of garbage (frames 8..11 of 4 per chunk) was named by every frame of the
    read that met it: 'frames 0..23' from ``read_labels()`` and ``ecoseg measure``, 'frames
    0..24' from ``ecoseg evaluate``'s blocks, as if the whole store were lost."""
    path, labels = lost_middle
    (path / "labels" / "c" / "2" / "0" / "0").write_bytes(b"this is not blosc data")
    with pytest.raises(StoreError, match=r"'labels' frames 8\.\.11 cannot be read") as info:
        MaskStore.open(path).read_labels()
    assert str(path) in str(info.value)
    with pytest.raises(StoreError, match=r"'labels' frames 8\.\.11 cannot be read"):
        _ = ecoseg.open_masks(path).labels[2:20].values
    code, _, err = cli("measure", path, "-o", path.parent / "tables", "--quiet")
    assert_one_line_error(code, err, str(path), "'labels' frames 8..11 cannot be read")
    np.testing.assert_array_equal(MaskStore.open(path).read_labels(0, 8), labels[:8])
