"""Bad input: measure, evaluate and report of a store whose run is still being written.

Such a store is not an interrupted run: its writer (another process) holds the store's lock, so
the ``--resume`` command an interrupted run's message gives would be refused. The messages say
that the run is still going, who writes it, and to wait (until stop 56 they said to resume it).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from reliability_helpers import assert_one_line_error, child_env
from suite_helpers import labels_store

_WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from ecoseg.store import MaskStore

    frames = int(sys.argv[2])
    store = MaskStore.create(sys.argv[1], height=32, width=48, chunk_frames=4,
                             objects=[{"id": 1, "class": "fish"}])
    labels = np.zeros((frames, 32, 48), np.uint32)
    labels[:, 4:12, 6:20] = 1
    if frames:
        store.append(labels, np.arange(frames) / 25)
        store.flush()
    print("writing", flush=True)
    sys.stdin.read()  # holds the store open until the test closes its stdin
    store.close()
    """
)


@pytest.fixture
def being_written(tmp_path):
    """``being_written(frames)``: a store another live process is writing, with that many
    frames committed; the writers are stopped after the test."""
    writers = []

    def start(frames: int):
        path = tmp_path / f"live{frames}.zarr"
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(frames)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        writers.append(proc)
        assert proc.stdout.readline().strip() == "writing"
        return path, proc.pid

    yield start
    for proc in writers:
        proc.stdin.close()
        proc.wait(timeout=60)


@pytest.mark.bad_input
def test_measure_of_a_store_being_written_says_to_wait(being_written, tmp_path, cli):
    store, pid = being_written(8)
    code, _, err = cli("measure", store, "-o", tmp_path / "t", "--quiet")
    assert code == 0, err
    warning = [line for line in err.splitlines() if "warning" in line]
    assert len(warning) == 1, err
    assert "its run is still going (process " + str(pid) in warning[0], err
    assert "the 8 frames written so far" in warning[0] and "--resume" not in warning[0], err


@pytest.mark.bad_input
def test_measure_of_a_store_being_written_with_no_frame_yet(being_written, tmp_path, cli):
    store, pid = being_written(0)
    code, _, err = cli("measure", store, "-o", tmp_path / "t", "--quiet")
    line = assert_one_line_error(code, err, str(store), f"process {pid}", "wait for it")
    assert "--resume" not in line
    assert not (tmp_path / "t").exists()


@pytest.mark.bad_input
def test_evaluate_of_a_store_being_written_says_to_wait(being_written, tmp_path, cli):
    store, pid = being_written(8)
    labels = np.zeros((12, 32, 48), np.uint32)
    labels[:, 4:12, 6:20] = 1
    truth = labels_store(tmp_path / "truth.zarr", labels, {1: "fish"})
    code, _, err = cli("evaluate", store, "--truth", truth, "--quiet")
    line = assert_one_line_error(code, err, str(store), f"process {pid}", "still going")
    assert "--resume" not in line


@pytest.mark.bad_input
def test_info_of_a_store_being_written_says_to_wait(being_written, cli):
    store, pid = being_written(8)
    code, out, err = cli("info", store)
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.strip().startswith("frames"))
    assert f"INCOMPLETE: still being written (process {pid} on host " in line, out
    assert "--resume" not in line
