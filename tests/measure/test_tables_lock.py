"""One measure at a time into a tables folder (:mod:`ecoseg.measure._tables_lock`).

Two measures into one folder at once staged the same ``.NAME.partial`` files: one run's
clean-up removed the other's staged tables (its rename then failed), or the folder was left
half one run's tables and half the other's. The second is now refused, naming the folder."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest

import ecoseg.measure._write_tables as measure_pkg  # where the tables are written
from ecoseg.errors import ConfigError
from ecoseg.measure import TABLES, measure, read_table
from ecoseg.measure._tables_lock import LOCK
from ecoseg.store import MaskStore

DEAD = 999_999_990  # above pid_max (at most 2**22 on Linux): never a running process


@pytest.fixture
def store(tmp_path):
    labels = np.zeros((4, 12, 16), np.uint32)
    for i in range(4):
        labels[i, 2:6, 2 + 2 * i : 6 + 2 * i] = 1
    path = tmp_path / "m.zarr"
    s = MaskStore.create(path, height=12, width=16, objects=[{"id": 1, "class": "fish"}])
    s.append(labels, np.arange(4) / 10)
    s.mark_complete()
    s.close()
    return path


def _files(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_second_measure_into_the_folder_while_one_writes_is_refused(store, tmp_path, monkeypatch):
    """Two writers interleaved in one process: the second starts while the first stages its
    tables. Old code: the second ran, and its clean-up removed the first's staged tables."""
    out = tmp_path / "tables"
    real = measure_pkg.save_table
    second = []

    def save_and_start_another(df, path, fmt):
        real(df, path, fmt)
        if not second:  # the first table staged: another measure into the folder now
            second.append(None)
            with pytest.raises(ConfigError) as info:
                measure(store, out, calibration=0.5, overwrite=True)
            second[0] = str(info.value)

    monkeypatch.setattr(measure_pkg, "save_table", save_and_start_another)
    measure(store, out, formats=["csv"])
    monkeypatch.setattr(measure_pkg, "save_table", real)
    (message,) = second
    assert "\n" not in message
    assert message.startswith(f"{out}: another ecoseg measure (process {os.getpid()} on host ")
    assert "wait for it to finish or measure into another folder" in message
    # the first run's set, whole (uncalibrated: the second's 0.5 mm/px is in none of them)
    assert sorted(_files(out)) == sorted([f"{t}.csv" for t in TABLES] + ["tables.json"])
    assert read_table(out / "regions.csv").attrs["calibration"] is None
    assert not (out / LOCK).exists()


def test_the_cli_refuses_a_measure_into_a_folder_another_process_writes(store, tmp_path, capsys):
    from ecoseg.cli import main

    out = tmp_path / "tables"
    out.mkdir()
    holder = {"pid": os.getppid(), "host": socket.gethostname(), "created": "2026-01-01"}
    (out / LOCK).write_text(json.dumps(holder))
    assert main(["measure", str(store), "-o", str(out)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"ecoseg: error: {out}: another ecoseg measure (process ")
    assert f"delete {out / LOCK}" in line
    assert sorted(p.name for p in out.iterdir()) == [LOCK]  # nothing measured into it


def test_a_killed_measures_lock_is_taken_over_and_another_machines_respected(store, tmp_path):
    out = tmp_path / "tables"
    out.mkdir()
    lock = out / LOCK
    lock.write_text(json.dumps({"pid": DEAD, "host": socket.gethostname()}))
    measure(store, out, formats=["csv"])  # kill -9 of an earlier measure: not in the way
    assert not lock.exists()
    lock.write_text(json.dumps({"pid": DEAD, "host": "another-machine"}))
    with pytest.raises(ConfigError, match="on host another-machine"):
        measure(store, out, formats=["csv"], overwrite=True)
    assert lock.exists()


def test_a_refused_measure_leaves_no_folder_it_made(store, tmp_path):
    out = tmp_path / "tables"
    with pytest.raises(ConfigError, match="unknown class"):
        measure(store, out, classes=["shark"])
    assert not out.exists()
