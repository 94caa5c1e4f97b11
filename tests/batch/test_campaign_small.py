"""ecoseg.batch.campaign_tables on hand-made stores: the class order and the stores it
refuses are those of ecoseg.measure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from suite_helpers import child_env

import ecoseg
from ecoseg.batch import campaign_tables
from ecoseg.errors import StoreError
from ecoseg.store import MaskStore


def test_unnamed_tracks_come_last_as_in_measure(tmp_path):
    """A store whose first track is unnamed: measure lists the species first and
    ``unknown`` last; the campaign tables listed ``unknown`` first (same values, other
    rows), so a campaign table and the video's own tables did not line up row for row."""
    labels = np.zeros((3, 8, 10), np.uint32)
    labels[:, 1:3, 1:3] = 1  # unnamed
    labels[1:, 5:7, 5:8] = 2  # a wrasse
    objects = [(1, "unknown", "discovered"), (2, "wrasse", "prompt")]
    store = MaskStore.create(tmp_path / "s.zarr", height=8, width=10, objects=objects)
    store.append(labels, [0.0, 0.5, 1.0])
    store.mark_complete()
    store.close()
    got = campaign_tables({"s": tmp_path / "s.zarr"})
    want = ecoseg.measure(tmp_path / "s.zarr")
    assert want["maxn"]["class"].tolist() == ["wrasse", "unknown"]
    for table, columns in (
        ("counts", ["frame", "time_s", "class", "count"]),
        ("cover", ["frame", "time_s", "class", "cover_px", "cover_fraction"]),
    ):
        pd.testing.assert_frame_equal(
            got[table][columns], want[table][columns].reset_index(drop=True), check_dtype=False
        )
    assert got["counts"]["count"].tolist() == [0, 1, 1, 1, 1, 1]


def test_a_store_of_no_frames_is_refused_as_measure_refuses_it(tmp_path):
    """It gave no rows for that video (its MaxN silently missing from the campaign)."""
    store = MaskStore.create(tmp_path / "e.zarr", height=8, width=10, objects=[(1, "a", "prompt")])
    store.mark_complete()
    store.close()
    with pytest.raises(StoreError, match="e.zarr: holds no frames, so nothing was observed"):
        campaign_tables({"e": tmp_path / "e.zarr"})


def test_one_store_where_a_list_goes_is_named_in_one_line(tmp_path):
    """``campaign_tables("T1.zarr")`` read the stores 'T', '1', ... ('T: no such store'); a
    Path or a number was a TypeError (object is not iterable)."""
    from pathlib import Path

    from ecoseg.errors import ConfigError

    clip = ecoseg.synth(tmp_path / "c", frames=2, size=(64, 48))
    for given in (str(clip.truth), Path(clip.truth), 3):
        with pytest.raises(ConfigError, match="^campaign_tables: stores must be a list of stores"):
            campaign_tables(given)
    assert list(campaign_tables([clip.truth])["counts"]["video"].unique()) == ["truth"]


def test_a_task_run_again_after_its_worker_was_lost_counts_as_done(tmp_path):
    """Dask runs a task again when the worker holding its result dies after the store was
    committed; the second run finds the store finished and said 'skipped', so a video made
    in this very run was reported as kept from an earlier one (seen in CI:
    tests/reliability/test_batch_faults.py, 'skipped' with 1 attempt and 0 s)."""
    from concurrent.futures import ThreadPoolExecutor

    from ecoseg.batch import batch

    class LosesFirstResults(ThreadPoolExecutor):
        """Runs each task, forgets its result (the worker died), and runs it again."""

        def submit(self, fn, *args, **kwargs):
            super().submit(fn, *args, **kwargs).result()
            return super().submit(fn, *args, **kwargs)

    clip = ecoseg.synth(tmp_path / "videos", frames=6, size=(64, 48))
    with LosesFirstResults(1) as pool:
        summary = batch([clip.video], tmp_path / "out", scheduler=pool, progress=False)
    assert summary["status"].tolist() == ["done"]
    assert summary["frames"].tolist() == [6]
    assert summary["seconds"].isna().all()  # that time went with the lost worker


def test_names_an_older_ecoseg_stored_in_two_spellings_are_one_species(tmp_path):
    """Campaign tables are always computed from the stores (no stored table is read back),
    and a store's class names are read in the one spelling: an object table an older ecoseg
    wrote with NFC and NFD 'Ōtaki' and 'sea  urchin' gives one row per name and frame."""
    import json

    labels = np.zeros((2, 8, 10), np.uint32)
    labels[:, 1:3, 1:3] = 1
    labels[:, 5:7, 5:8] = 2
    labels[:, 1:3, 6:9] = 3
    objects = [(1, "Ōtaki", "prompt"), (2, "Ōtaki", "prompt"), (3, "sea urchin", "prompt")]
    store = MaskStore.create(tmp_path / "s.zarr", height=8, width=10, objects=objects)
    store.append(labels, [0.0, 0.5])
    store.mark_complete()
    meta = json.loads(json.dumps(store.group.attrs.asdict()["ecoseg"]))
    for obj, old in zip(meta["objects"], ("\u014ctaki", "O\u0304taki", "sea  urchin")):
        obj["class"] = old  # as an older ecoseg stored them
    store.group.attrs.update({"ecoseg": meta})
    store.close()
    got = campaign_tables({"s": tmp_path / "s.zarr"})
    assert got["counts"]["class"].tolist() == ["\u014ctaki", "sea urchin"] * 2
    assert got["counts"]["count"].tolist() == [2, 1, 2, 1]
    assert got["cover"]["cover_px"].tolist() == [10, 6, 10, 6]


def test_campaign_csv_is_utf8_in_any_locale(tmp_path):
    """write_tables wrote the CSV text in the locale's encoding: under a C (ASCII) locale a
    class 'Ōtaki wrasse' failed with a UnicodeEncodeError, and under cp1252 it would be other
    bytes than the video's own counts.csv (UTF-8)."""
    import subprocess
    import sys

    from ecoseg.measure.tables import csv_bytes

    script = (
        "import locale, sys, pandas as pd\n"
        "from ecoseg.batch import write_tables\n"
        "print(locale.getpreferredencoding(False))\n"
        "write_tables({'counts': pd.DataFrame({'class': ['\\u014ctaki wrasse'], 'count': [2]})},"
        " sys.argv[1])\n"
    )
    env = child_env(LC_ALL="C", LANG="C", PYTHONUTF8="0", PYTHONCOERCECLOCALE="0")
    run = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], env=env, capture_output=True, text=True
    )
    encoding = run.stdout.split("\n")[0]
    if "utf" in encoding.lower().replace("-", ""):
        pytest.skip(f"this system's C locale is already {encoding}")
    assert run.returncode == 0, run.stderr
    want = csv_bytes(pd.DataFrame({"class": ["Ōtaki wrasse"], "count": [2]}))
    assert (tmp_path / "campaign-counts.csv").read_bytes() == want


def test_frames_nobody_annotated_are_left_out_as_measure_leaves_them_out(tmp_path):
    """A truth store annotated on frames 0, 5, 10: the campaign tables had rows of count 0
    for the frames between, which measure leaves out (nobody looked at them)."""
    labels = np.zeros((11, 6, 6), np.uint32)
    labels[0, 1:3, 1:3] = 1
    labels[10, 0:2, 0:2] = 2
    prov = {"annotated_frames": {"start": 0, "step": 5, "count": 3}}
    objects = [(1, "fish", "prompt"), (2, "crab", "prompt")]
    store = MaskStore.create(
        tmp_path / "t.zarr", height=6, width=6, objects=objects, provenance=prov
    )
    store.append(labels, np.arange(11) / 10)
    store.mark_complete()
    store.close()
    got = campaign_tables({"t": tmp_path / "t.zarr"})
    want = ecoseg.measure(tmp_path / "t.zarr")
    for table in ("counts", "cover"):
        pd.testing.assert_frame_equal(got[table].drop(columns="video"), want[table])
    assert got["counts"]["frame"].unique().tolist() == [0, 5, 10]
    store = MaskStore.open(tmp_path / "t.zarr", mode="a")
    store.append(np.full((1, 6, 6), 2, np.uint32), [1.1])  # frame 11: not annotated
    store.close()
    with pytest.raises(StoreError, match="frame 11: object 2 has a mask"):
        campaign_tables({"t": tmp_path / "t.zarr"})


def _three_tracks(path, *, complete: bool = True):
    labels = np.zeros((4, 8, 10), np.uint32)
    labels[:, 0:2, 0:2] = 1
    labels[1:, 4:6, 4:6] = 2
    labels[2:, 6:8, 7:9] = 3
    objects = [(1, "wrasse", "tracker"), (2, "unknown", "tracker"), (3, "unknown", "tracker")]
    with MaskStore.create(path, height=8, width=10, chunk_frames=2, objects=objects) as s:
        s.append(labels, np.arange(4) / 10)
        if complete:
            s.mark_complete()
    return path


def test_a_half_written_edit_and_an_unfinished_run_as_measure_says(tmp_path, interrupt_edit):
    """A store an interrupted ``ecoseg edit`` left half written gave campaign rows of half an
    edit without a word (``measure`` refuses it); a store whose run did not finish gave rows
    of part of its video without a word (``measure`` warns). Now both as ``measure``: its
    one-line refusal, and its warning in its words."""
    half = _three_tracks(tmp_path / "half.zarr")
    interrupt_edit(half)  # --merge 1,2 --delete 3
    with pytest.raises(StoreError) as refused:
        campaign_tables({"ok": _three_tracks(tmp_path / "ok.zarr"), "half": half})
    with pytest.raises(StoreError) as said:
        ecoseg.measure(half)
    assert str(refused.value) == str(said.value)
    assert "2 edits unfinished" in str(refused.value) and "\n" not in str(refused.value)

    part = _three_tracks(tmp_path / "part.zarr", complete=False)
    with pytest.warns(ecoseg.measure.IncompleteStoreWarning) as warned:
        campaign_tables({"part": part})
    with pytest.warns(ecoseg.measure.IncompleteStoreWarning) as measured:
        ecoseg.measure(part)
    assert [str(w.message) for w in warned] == [str(w.message) for w in measured]


def test_campaign_tables_are_quiet_unless_asked(tmp_path, capsys):
    clip = ecoseg.synth(tmp_path / "c", frames=3, size=(64, 48))
    capsys.readouterr()
    campaign_tables({"t": clip.truth})
    assert capsys.readouterr().err == ""
