"""Tests of ecoseg.measure.measure: the one-pass store -> tables shell."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

from ecoseg.errors import CalibrationError, CalibrationReplacedWarning, ConfigError, StoreError
from ecoseg.measure import TABLES, measure, read_table
from ecoseg.measure.regions import regions
from ecoseg.measure.tables import write_table
from ecoseg.store import MaskStore


def make_store(path, n=6, calibration=None):
    """Two fish crossing the frame and a coral that stays."""
    labels = np.zeros((n, 30, 40), np.uint32)
    for i in range(n):
        labels[i, 2:6, 2 + 3 * i : 6 + 3 * i] = 1
        if i >= 2:
            labels[i, 10:14, 30 - 2 * i : 34 - 2 * i] = 2
        labels[i, 20:28, 5:15] = 5
    objects = [
        {"id": 1, "class": "fish"},
        {"id": 2, "class": "fish"},
        {"id": 5, "class": "coral"},
    ]
    store = MaskStore.create(
        path, height=30, width=40, chunk_frames=4, objects=objects, calibration=calibration
    )
    store.append(labels, np.arange(n) / 10)
    store.close()
    return labels


def test_tables_are_consistent(tmp_path):
    make_store(tmp_path / "m.zarr", calibration={"mm_per_px": 0.2, "method": "scale"})
    t = measure(tmp_path / "m.zarr")
    assert list(t) == list(TABLES)
    reg, tracks, counts, maxn = t["regions"], t["tracks"], t["counts"], t["maxn"]
    assert len(reg) == 6 + 4 + 6
    assert tracks["object_id"].tolist() == [1, 2, 5]
    assert tracks["frames_present"].tolist() == [6, 4, 6]
    assert tracks.set_index("object_id").loc[1, "path_length_px"] == pytest.approx(15)
    assert tracks.set_index("object_id").loc[1, "path_length_mm"] == pytest.approx(3)
    assert len(counts) == 6 * 2 and set(counts["class"]) == {"fish", "coral"}
    fish = counts[counts["class"] == "fish"]["count"].tolist()
    assert fish == [1, 1, 2, 2, 2, 2]
    m = maxn.set_index("class")
    assert m.loc["fish", "maxn"] == 2 and m.loc["fish", "time_s"] == pytest.approx(0.2)
    assert m.loc["coral", "maxn"] == 1
    for df in t.values():
        assert df.attrs["calibration"]["mm_per_px"] == 0.2
        assert df.attrs["store"] == str(tmp_path / "m.zarr")
        assert df.attrs["ecoseg_version"]
        assert set(df.attrs["units"]) == set(df.columns)


def test_labels_are_read_once(tmp_path, monkeypatch):
    make_store(tmp_path / "m.zarr", n=9)
    calls = []
    original = MaskStore.read_labels

    def counting(self, start=0, stop=None):
        calls.append((start, stop))
        return original(self, start, stop)

    monkeypatch.setattr(MaskStore, "read_labels", counting)
    measure(tmp_path / "m.zarr", roi=np.ones((30, 40), bool))
    assert calls == [(0, 4), (4, 8), (8, 9)]


def test_files_round_trip_with_attrs(tmp_path):
    make_store(tmp_path / "m.zarr", calibration={"mm_per_px": 0.2, "method": "scale"})
    out = tmp_path / "tables"
    tables = measure(tmp_path / "m.zarr", out)
    for name, df in tables.items():
        back = read_table(out / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, df, check_dtype=False)
        assert back.attrs == df.attrs
        csv = read_table(out / f"{name}.csv")
        pd.testing.assert_frame_equal(csv, df, check_dtype=False)
        assert csv.attrs["units"] == df.attrs["units"]
        assert csv.attrs["calibration"] == df.attrs["calibration"]
    meta = json.loads((out / "tables.json").read_text())
    assert meta["tables"]["regions"]["units"]["area_mm2"] == "mm^2"


def test_the_same_store_read_in_other_chunks_gives_the_same_file_bytes(tmp_path):
    # blobs of many sizes and shapes on 24 frames, so many perimeters of irrational length
    from skimage.draw import ellipse

    rng = np.random.default_rng(2)
    labels = np.zeros((24, 48, 64), np.uint32)
    for frame in labels:
        for oid in range(1, 13):
            rr, cc = ellipse(
                *rng.integers(0, 48, 1),
                *rng.integers(0, 64, 1),
                1 + rng.random() * 9,
                1 + rng.random() * 9,
                shape=frame.shape,
                rotation=rng.uniform(0, np.pi),
            )
            frame[rr, cc] = oid
    objects = [(i, "fish", "prompt") for i in range(1, 13)]
    store = MaskStore.create(
        tmp_path / "m.zarr", height=48, width=64, chunk_frames=24, objects=objects
    )
    store.append(labels, np.arange(24) / 25)
    store.close()
    measure(tmp_path / "m.zarr", tmp_path / "a")
    measure(tmp_path / "m.zarr", tmp_path / "b", chunk_frames=1)
    for name in TABLES:
        for fmt in ("csv", "parquet"):
            a, b = (tmp_path / d / f"{name}.{fmt}" for d in "ab")
            assert a.read_bytes() == b.read_bytes(), a.name


def test_measure_writes_the_bytes_a_study_writes(tmp_path):
    # `ecoseg study` writes each video's tables with write_table: the same tables of the same
    # store must be the same files as those of `ecoseg measure` (the Parquet files differed:
    # measure wrote them snappy-compressed, write_table zstd)
    make_store(tmp_path / "m.zarr", calibration={"mm_per_px": 0.2, "method": "scale"})
    tables = measure(tmp_path / "m.zarr", tmp_path / "measured")
    for name, df in tables.items():
        write_table(df, tmp_path / "study", name)
        for fmt in ("csv", "parquet"):
            a, b = (tmp_path / d / f"{name}.{fmt}" for d in ("measured", "study"))
            assert a.read_bytes() == b.read_bytes(), a.name


def make_annotated_store(path, stray=None):
    """A truth store annotated on every 5th frame (0, 5, 10 of 11): a fish on 0 and 5, a
    crab on 10; ``stray`` (frame) puts a crab pixel on a frame nobody annotated."""
    labels = np.zeros((11, 6, 6), np.uint32)
    labels[0, 1:3, 1:3] = 1
    labels[5, 1:3, 1:4] = 1
    labels[10, 0:2, 0:2] = 2
    if stray is not None:
        labels[stray, 4, 4] = 2
    prov = {"annotated_frames": {"start": 0, "step": 5, "count": 3}}
    objects = [(1, "fish", "prompt"), (2, "crab", "prompt")]
    store = MaskStore.create(path, height=6, width=6, objects=objects, provenance=prov)
    store.append(labels, np.arange(11) / 10)
    store.mark_complete()
    store.close()


def test_frames_nobody_annotated_have_no_counts_or_cover(tmp_path):
    # nobody looked at frames 1-4 and 6-9: they were rows of count 0 and cover 0, which a
    # mean count or cover per frame took for frames without animals
    make_annotated_store(tmp_path / "t.zarr")
    t = measure(tmp_path / "t.zarr")
    for name in ("counts", "cover"):
        assert t[name]["frame"].tolist() == [0, 0, 5, 5, 10, 10]
        assert t[name]["time_s"].tolist() == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0]
    assert t["counts"]["count"].tolist() == [1, 0, 1, 0, 0, 1]
    assert t["cover"]["cover_px"].tolist() == [4, 0, 6, 0, 0, 4]
    assert t["maxn"][["class", "maxn", "frame"]].values.tolist() == [
        ["fish", 1, 0],
        ["crab", 1, 10],
    ]
    assert t["tracks"]["frames_present"].tolist() == [2, 1]


def test_measure_reads_the_annotated_frames_once(tmp_path, monkeypatch):
    # check_has_frames and observed_frames each read the store's annotated_frames entry
    import ecoseg.provenance

    make_annotated_store(tmp_path / "t.zarr")
    reads = []
    original = ecoseg.provenance.annotated_frames

    def counting(*args, **kwargs):
        reads.append(args[1:])
        return original(*args, **kwargs)

    monkeypatch.setattr(ecoseg.provenance, "annotated_frames", counting)
    assert measure(tmp_path / "t.zarr")["counts"]["frame"].tolist() == [0, 0, 5, 5, 10, 10]
    assert len(reads) == 1


def test_a_mask_on_a_frame_nobody_annotated_is_refused(tmp_path):
    make_annotated_store(tmp_path / "t.zarr", stray=3)
    with pytest.raises(StoreError, match=r"t.zarr: frame 3: object 2 has a mask, but .* only fr"):
        measure(tmp_path / "t.zarr")


def test_existing_files_are_not_overwritten(tmp_path):
    make_store(tmp_path / "m.zarr")
    out = tmp_path / "tables"
    measure(tmp_path / "m.zarr", out, formats=["csv"])
    before = (out / "regions.csv").read_text()
    with pytest.raises(ConfigError, match="regions.csv: already exists"):
        measure(tmp_path / "m.zarr", out, formats=["csv"], calibration=0.5)
    assert (out / "regions.csv").read_text() == before
    assert MaskStore.open(tmp_path / "m.zarr").calibration is None  # nothing was done
    measure(tmp_path / "m.zarr", out, formats=["csv"], calibration=0.5, overwrite=True)
    assert "area_mm2" in (out / "regions.csv").read_text().splitlines()[0]
    assert not (out / "regions.parquet").exists()
    with pytest.raises(ConfigError, match="format 'xlsx'"):
        measure(tmp_path / "m.zarr", out, formats=["xlsx"], overwrite=True)


def test_calibration_is_validated_and_saved(tmp_path):
    make_store(tmp_path / "m.zarr")
    t = measure(tmp_path / "m.zarr", calibration="scale-bar:0,0,0,10,5")
    assert t["regions"]["area_mm2"].iloc[0] == pytest.approx(16 * 0.25)
    stored = MaskStore.open(tmp_path / "m.zarr").calibration
    assert stored["mm_per_px"] == 0.5 and stored["method"] == "scale_bar"
    # later runs use the stored calibration
    assert "area_mm2" in measure(tmp_path / "m.zarr")["regions"]
    # a read-only store object is reopened for writing
    with pytest.warns(CalibrationReplacedWarning, match=r"0\.25 mm/px \(scale\) replaces"):
        measure(MaskStore.open(tmp_path / "m.zarr"), calibration=0.25)
    assert MaskStore.open(tmp_path / "m.zarr").calibration["mm_per_px"] == 0.25
    # ... and so is a zarr Store object (not only a path)
    import zarr

    with pytest.warns(CalibrationReplacedWarning):
        measure(zarr.storage.LocalStore(tmp_path / "m.zarr"), calibration=0.125)
    assert MaskStore.open(tmp_path / "m.zarr").calibration["mm_per_px"] == 0.125


def test_a_calibration_that_replaces_another_warns_naming_both(tmp_path):
    """The store keeps one calibration: replacing it is said, the same one again is not."""
    make_store(tmp_path / "m.zarr")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationReplacedWarning)
        measure(tmp_path / "m.zarr", calibration=10)  # none stored before
        measure(tmp_path / "m.zarr", calibration="10")  # the same again
    with pytest.warns(CalibrationReplacedWarning) as caught:
        measure(tmp_path / "m.zarr", calibration="scale-bar:0,0,0,10,5")
    message = str(caught[0].message)
    assert message == (
        f"{tmp_path / 'm.zarr'}: the calibration 0.5 mm/px (scale bar) replaces the stored "
        "10 mm/px (scale); sizes are now measured with the new one"
    )
    assert MaskStore.open(tmp_path / "m.zarr").calibration["mm_per_px"] == 0.5


def test_the_stored_mm_per_px_typed_back_keeps_how_it_was_measured(tmp_path):
    """The stored calibration's mm per pixel typed back as a number (as ecoseg prints it)
    warned that it replaced the stored one and recorded it as a plain scale, losing the
    scale bar's ends; now it is that calibration, kept without a word. Another way of
    measuring the same scale replaces it, and the warning says the sizes are unchanged."""
    make_store(tmp_path / "m.zarr")
    measure(tmp_path / "m.zarr", calibration="scale-bar:0,0,30,0,10")  # 1/3 mm/px
    stored = MaskStore.open(tmp_path / "m.zarr").calibration
    assert stored["method"] == "scale_bar" and stored["mm_per_px"] == 1 / 3
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationReplacedWarning)
        tables = measure(tmp_path / "m.zarr", calibration="0.3333333333333333 mm/px")
    assert MaskStore.open(tmp_path / "m.zarr").calibration == stored
    assert tables["regions"]["area_mm2"].iloc[0] == pytest.approx(16 / 9)
    with pytest.warns(CalibrationReplacedWarning) as caught:
        measure(tmp_path / "m.zarr", calibration="lasers:0,0,30,0,10")
    assert str(caught[0].message) == (
        f"{tmp_path / 'm.zarr'}: the calibration 0.3333333333333333 mm/px (laser points) "
        "replaces the stored 0.3333333333333333 mm/px (scale bar); the same mm per pixel: "
        "sizes are unchanged"
    )
    assert MaskStore.open(tmp_path / "m.zarr").calibration["method"] == "laser_points"


def test_calibration_none_measures_in_pixels_and_clears_the_stored_one(tmp_path, capsys):
    """``ecoseg measure --calibration none``, as ``ecoseg classify --calibration none``: in
    pixels, the store's calibration cleared (it was refused as not a number)."""
    from ecoseg.cli import main

    make_store(tmp_path / "m.zarr", calibration={"mm_per_px": 0.5, "method": "scale"})
    code = main(["measure", str(tmp_path / "m.zarr"), "-o", str(tmp_path / "t"),
                 "--calibration", "none"])  # fmt: skip
    assert code == 0
    assert (
        f"{tmp_path / 'm.zarr'}: the calibration none (pixels) replaces the stored 0.5 mm/px "
        "(scale); sizes are now in pixels"
    ) in capsys.readouterr().err
    assert MaskStore.open(tmp_path / "m.zarr").calibration is None
    regions_px = read_table(tmp_path / "t" / "regions.parquet")
    assert "area_mm2" not in regions_px and "area_px" in regions_px
    assert json.loads((tmp_path / "t" / "tables.json").read_text())["calibration"] is None
    # a store without one: nothing to clear, nothing said
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationReplacedWarning)
        tables = measure(tmp_path / "m.zarr", calibration=" None ")
    assert "area_mm2" not in tables["regions"]
    assert MaskStore.open(tmp_path / "m.zarr").calibration is None


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "0", "lasers:0,0,0,0,5"])
def test_bad_calibration(tmp_path, bad):
    make_store(tmp_path / "m.zarr")
    with pytest.raises(CalibrationError):
        measure(tmp_path / "m.zarr", calibration=bad)
    assert MaskStore.open(tmp_path / "m.zarr").calibration is None


def test_unknown_class_names_the_class_and_the_known_ones(tmp_path):
    make_store(tmp_path / "m.zarr")
    with pytest.raises(ConfigError, match=r"unknown class 'shark'.*known: fish, coral"):
        measure(tmp_path / "m.zarr", classes=["fish", "shark"])
    with pytest.raises(ConfigError, match="shark"):
        measure(tmp_path / "m.zarr", classes=["shark"], calibration=0.5)
    assert MaskStore.open(tmp_path / "m.zarr").calibration is None  # refused before saving
    t = measure(tmp_path / "m.zarr", classes="coral")
    assert set(t["regions"]["class"]) == {"coral"}
    assert t["tracks"]["object_id"].tolist() == [5]
    assert t["maxn"]["class"].tolist() == ["coral"]


def test_store_without_labels(tmp_path):
    make_store(tmp_path / "m.zarr")
    shutil.rmtree(tmp_path / "m.zarr" / "labels")
    with pytest.raises(StoreError, match="labels"):
        measure(tmp_path / "m.zarr")
    with pytest.raises(StoreError):
        measure(tmp_path / "missing.zarr")
    (tmp_path / "plain").mkdir()
    with pytest.raises(StoreError):
        measure(tmp_path / "plain")


def test_empty_store(tmp_path):
    store = MaskStore.create(
        tmp_path / "e.zarr", height=5, width=5, objects=[(1, "fish", "tracker")]
    )
    store.append(np.zeros((3, 5, 5), np.uint32), [0, 1, 2])
    store.close()
    t = measure(tmp_path / "e.zarr")
    assert len(t["regions"]) == 0 and len(t["tracks"]) == 0
    assert t["counts"]["count"].tolist() == [0, 0, 0]
    assert t["maxn"]["maxn"].tolist() == [0]


def test_package_is_callable_as_the_public_function(tmp_path):
    import ecoseg

    make_store(tmp_path / "m.zarr")
    package = sys.modules["ecoseg.measure"]
    assert sorted(package(tmp_path / "m.zarr")) == sorted(TABLES)
    assert callable(ecoseg.measure)  # the function or the package, whichever was bound


def test_analysis_imports_stay_light():
    code = (
        "import sys, ecoseg.measure, ecoseg.metrics\n"
        "bad = [m for m in sys.modules if m == 'torch' or m.startswith(('ecoseg.engine',"
        " 'ecoseg.sam2', 'torch.'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_an_unfinished_store_is_measured_with_one_warning(tmp_path, capsys):
    """A store whose run was interrupted was measured as if it held the whole video: the
    tables now say so (``store_complete``) and the command warns once, with the way on."""
    from ecoseg.cli import main

    store = tmp_path / "run 1.zarr"
    make_store(store)
    assert main(["measure", str(store), "-o", str(tmp_path / "t")]) == 0
    err = capsys.readouterr().err
    warned = [line for line in err.splitlines() if line.startswith("ecoseg: warning:")]
    assert len(warned) == 1, err
    assert f"{store}: its run did not finish" in warned[0]
    assert "the 6 frames it holds" in warned[0]
    assert f"ecoseg segment VIDEO -o '{store}' --resume" in warned[0]
    saved = json.loads((tmp_path / "t" / "tables.json").read_text())
    assert saved["store_complete"] is False
    assert {t["attrs"]["store_complete"] for t in saved["tables"].values()} == {False}
    assert read_table(tmp_path / "t" / "counts.csv").attrs["store_complete"] is False

    with MaskStore.open(store, mode="a") as finished:
        finished.mark_complete()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a finished store: no warning
        tables = measure(store)
    assert tables["maxn"].attrs["store_complete"] is True


@pytest.mark.parametrize("finished", [False, True])
def test_a_store_of_no_frames_is_refused(tmp_path, capsys, finished):
    """A store that holds no frames (a run killed before its first frame, or a video that
    gave none) gave empty tables and exit 0: the video vanished from a study's MaxN without a
    word. Zeros would be wrong too (a MaxN of 0 says the animals were looked for and not
    seen), so it is refused in one line, with the way on for an unfinished run."""
    from ecoseg.cli import main

    path = tmp_path / "no frames.zarr"
    store = MaskStore.create(
        path,
        height=8,
        width=8,
        objects=[(1, "wrasse", "prompt")],
        provenance={"video": {"path": "dive.mp4", "fps": 25.0}},
    )
    if finished:
        store.mark_complete()
    store.close()
    with pytest.raises(StoreError, match="holds no frames, so nothing was observed"):
        measure(path, tmp_path / "t")
    assert not (tmp_path / "t").exists()  # nothing written
    assert main(["measure", str(path), "-o", str(tmp_path / "t")]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"ecoseg: error: {path}: holds no")
    if finished:
        assert err.endswith("its video gave none")
    else:
        assert f"ecoseg segment dive.mp4 -o '{path}' --resume" in err
    assert MaskStore.open(path).calibration is None
    with pytest.raises(StoreError, match="no frames"):  # not saved into the store either
        measure(path, calibration=0.5)
    assert MaskStore.open(path).calibration is None


CALLS = {
    "measure": lambda store: measure(store),
    "measure with a calibration": lambda store: measure(store, calibration=0.2),
    "measure of an unknown class": lambda store: measure(store, classes=["shark"]),
    "regions": lambda store: regions(store),
}


def _call(call, store):
    """``CALLS[call]`` on ``store``; the unknown class is refused (the error path), the others
    are not."""
    if call == "measure of an unknown class":
        with pytest.raises(ConfigError, match="unknown class 'shark'"):
            CALLS[call](store)
    else:
        CALLS[call](store)


@pytest.mark.filterwarnings("ignore::ecoseg.measure.IncompleteStoreWarning")
@pytest.mark.parametrize("call", list(CALLS))
def test_a_store_opened_from_a_path_is_closed(tmp_path, opened, call):
    """measure and regions closed no store they opened from a path: a zip store's archive
    stayed open until the garbage collector came, also after an error."""
    path = tmp_path / "m.zip"
    make_store(path)
    _call(call, path)
    assert opened and all(store.closed for _, store in opened)


@pytest.mark.filterwarnings("ignore::ecoseg.measure.IncompleteStoreWarning")
@pytest.mark.parametrize("call", list(CALLS))
def test_a_store_passed_in_stays_open(tmp_path, call):
    make_store(tmp_path / "m.zarr")
    with MaskStore.open(tmp_path / "m.zarr") as store:
        _call(call, store)
        assert not store.closed
        assert store.read_labels(0, 1).shape == (1, 30, 40)


def test_the_command_names_both_files_of_each_table_and_counts_rows_in_words(tmp_path, capsys):
    """It listed only the .parquet of each table (it writes the .csv too) and said '1 rows'."""
    from ecoseg.cli import main

    store = tmp_path / "s.zarr"
    make_store(store)
    assert main(["measure", str(store), "-o", str(tmp_path / "t")]) == 0
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert lines.pop("calibration").startswith("none")  # (the units: the next test)
    assert list(lines) == list(TABLES)
    for name, line in lines.items():
        rows = len(read_table(tmp_path / "t" / f"{name}.csv"))
        want = f"{rows} row{'' if rows == 1 else 's'} -> {tmp_path / 't' / name}.parquet, .csv"
        assert line == want
        assert (tmp_path / "t" / f"{name}.parquet").is_file()


def test_the_command_says_which_calibration_the_sizes_are_in(tmp_path, capsys):
    """A store's calibration, set by an earlier measure (or classify, study, synth), was
    reused without a word: the mm columns appeared in tables whose command named no
    calibration, and nothing said that a store without one was measured in pixels only."""
    from ecoseg.cli import main

    def said(*args):
        assert main(["measure", str(store), "-o", str(tmp_path / f"t{len(runs)}"), *args]) == 0
        runs.append(capsys.readouterr().out.splitlines()[-1])
        return runs[-1]

    store, runs = tmp_path / "s.zarr", []
    make_store(store)
    assert said() == (
        "calibration: none, sizes in pixels only (--calibration MM_PER_PX adds mm columns)"
    )
    assert said("--calibration", "0.5") == "calibration: 0.5 mm/px (scale)"
    assert said() == f"calibration: 0.5 mm/px (scale), the one stored with {store}"
    assert said("--calibration", "none").startswith("calibration: none, sizes in pixels")


def _interrupt_on(monkeypatch, module, name, when):
    """Make ``module.name`` raise KeyboardInterrupt (Ctrl-C) on the call ``when`` says."""
    real = getattr(module, name)

    def stop(*args, **kwargs):
        if when(*args):
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, stop)


def test_a_run_interrupted_while_writing_leaves_no_tables(tmp_path, monkeypatch, capsys):
    """Ctrl-C while the tracks table was written left regions.parquet and .csv; the next run
    said 'regions.parquet: already exists' and a user could trust half a set."""
    import ecoseg.measure._write_tables as measure_pkg  # where the tables are written
    from ecoseg.cli import main

    make_store(tmp_path / "m.zarr")
    out = tmp_path / "lt"
    with monkeypatch.context() as patch:
        _interrupt_on(patch, measure_pkg, "save_table", lambda df, path, fmt: "tracks" in str(path))
        with pytest.raises(KeyboardInterrupt):
            measure(tmp_path / "m.zarr", out)
    assert not out.exists() or not list(out.iterdir())  # nothing, not half a set
    assert main(["measure", str(tmp_path / "m.zarr"), "-o", str(out)]) == 0
    assert "already exists" not in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{t}.{f}" for t in TABLES for f in ("parquet", "csv")] + ["tables.json"]
    )


def test_an_earlier_set_is_kept_whole_when_overwriting_is_interrupted(tmp_path, monkeypatch):
    """--overwrite stopped part-way replaced some of the earlier tables and not the others."""
    import ecoseg.measure._write_tables as measure_pkg  # where the tables are written

    make_store(tmp_path / "m.zarr")
    out = tmp_path / "lt"
    measure(tmp_path / "m.zarr", out, formats=["csv"])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with monkeypatch.context() as patch:
        _interrupt_on(patch, measure_pkg, "save_table", lambda df, path, fmt: "cover" in str(path))
        with pytest.raises(KeyboardInterrupt):
            measure(tmp_path / "m.zarr", out, formats=["csv"], calibration=0.5, overwrite=True)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_tables_half_renamed_are_marked_and_replaced_by_the_next_run(tmp_path, monkeypatch, capsys):
    """Stopped while renaming the tables into place: a file in the folder says the set is
    not whole, and the next run replaces it without --overwrite, saying why."""
    import os

    from ecoseg.cli import main

    make_store(tmp_path / "m.zarr")
    out = tmp_path / "lt"
    renamed = []

    def third(src, dst):
        renamed.append(dst)
        return len(renamed) == 3

    with monkeypatch.context() as patch:
        _interrupt_on(patch, os, "replace", third)
        with pytest.raises(KeyboardInterrupt):
            measure(tmp_path / "m.zarr", out)
    assert "not one set" in (out / "tables.incomplete").read_text()
    assert len(list(out.glob("*.parquet")) + list(out.glob("*.csv"))) == 2
    assert not list(out.glob(".*"))  # no staged file left
    assert main(["measure", str(tmp_path / "m.zarr"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"ecoseg: warning: {out}: an earlier measure into it was interrupted" in err
    assert not (out / "tables.incomplete").exists()
    assert len(list(out.glob("*.parquet")) + list(out.glob("*.csv"))) == 10
    # a set that is whole again is the user's: not replaced without --overwrite
    assert main(["measure", str(tmp_path / "m.zarr"), "-o", str(out)]) == 2
