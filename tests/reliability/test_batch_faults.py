"""Faults during ``ecoseg batch`` lose no finished video.

Two faults, each with the tracker slowed per frame (same results) so the kill lands mid-video:

- the whole campaign process (client, scheduler and in-process workers) gets SIGKILL while one
  store is finished and the next is part way; re-running ``ecoseg batch`` skips the finished
  store without touching it, resumes the partial one and makes the rest;
- one worker process of a local process cluster gets SIGKILL while it writes a store (its pid is
  in the store's lock file); Dask re-runs the video on a fresh worker, which takes over the dead
  writer's lock and resumes the store, and the campaign finishes.

Every store must then equal a serial :func:`ecoseg.segment` of its video.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from reliability_helpers import child_env, run_cli

import ecoseg
from ecoseg.batch import SUMMARY_FILE, batch
from ecoseg.store import ATTRS_KEY, MaskStore, lock_path

pytest.importorskip("distributed")
pytestmark = pytest.mark.fault

NAMES = ("reef-a", "reef-b", "reef-c")
FRAMES = 48

# The child: slows the tracker down, runs a batch on a 1-worker in-process cluster; once one
# store is finished and another has 16 frames committed, it waits (stdin, or the kill): a test
# process a loaded machine pauses cannot miss that state, nor find the campaign finished.
CHILD = r"""
import json, os, sys, time
import ecoseg.engine.classical as classical

real_track = classical.track
STORES = [
    os.path.join(sys.argv[3], os.path.splitext(os.path.basename(v))[0] + ".zarr")
    for v in json.loads(sys.argv[2])
]
held = []


def state(store):
    try:
        with open(os.path.join(store, "zarr.json")) as file:
            meta = json.load(file)["attributes"]["ecoseg"]
        return int(meta["frames_written"]), bool(meta["complete"])
    except (OSError, ValueError, KeyError):
        return 0, False


def hold():
    states = [state(store) for store in STORES]
    if not held and any(done for _, done in states) and any(
        n >= 16 and not done for n, done in states
    ):
        held.append(True)
        sys.stdin.readline()


class slow_track:
    # each result after a pause; attributes (camera_motion) pass through

    def __init__(self, *a, **k):
        self.results = real_track(*a, **k)

    def __iter__(self):
        for item in self.results:
            time.sleep(float(sys.argv[1]))
            hold()
            yield item

    def until_cancelled(self, *args):  # the run's own, returning this wrapper
        self.results = self.results.until_cancelled(*args)
        return self

    def __getattr__(self, name):
        return getattr(self.results, name)


classical.track = slow_track
from distributed import Client, LocalCluster
from ecoseg.batch import batch

with LocalCluster(n_workers=1, threads_per_worker=1, processes=False) as cluster:
    with Client(cluster) as client:
        batch(json.loads(sys.argv[2]), sys.argv[3], scheduler=client, progress=False)
"""


def hold_a_writer(out, held) -> None:
    """In a Dask worker, once per campaign (the first to write ``held``): wait (until the
    test kills this process; 5 minutes at most) in the state a writer is killed in: a store
    finished and closed, and this process writing another with 16 frames committed. ``held``
    names the store and this pid."""
    import time as _time

    states = {name: committed(out / f"{name}.zarr") for name in NAMES}
    if held.exists() or not any(
        done and not lock_path(out / f"{name}.zarr").exists() for name, (_, done) in states.items()
    ):
        return
    for name, (frames, done) in states.items():
        lock = lock_path(out / f"{name}.zarr")
        try:
            mine = json.loads(lock.read_text())["pid"] == os.getpid()
        except (OSError, ValueError, KeyError):
            mine = False
        if mine and not done and frames >= 16:
            note = held.with_name(f"{held.name}.{os.getpid()}")
            note.write_text(json.dumps({"victim": name, "pid": os.getpid()}))
            try:
                os.link(note, held)  # (one writer only)
            except FileExistsError:
                return
            _time.sleep(300)
            return


def slow_tracker(delay: float = 0.05, hold=None) -> None:
    """Slow the motion tracker down in this process (run on Dask workers with client.run);
    ``hold``: ``(out, held)``, each frame first calls :func:`hold_a_writer`."""
    import time as _time

    import ecoseg.engine.classical as classical

    if getattr(classical.track, "slowed", False):
        return
    real = classical.track

    class Slow:
        """The tracker's frames, each after a pause; attributes pass through."""

        slowed = True

        def __init__(self, *args, **kwargs):
            self.results = real(*args, **kwargs)

        def __iter__(self):
            for item in self.results:
                _time.sleep(delay)
                if hold is not None:
                    hold_a_writer(*hold)
                yield item

        def until_cancelled(self, *args):  # the run's own, returning this wrapper
            self.results = self.results.until_cancelled(*args)
            return self

        def __getattr__(self, name):
            return getattr(self.results, name)

    classical.track = Slow


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """Three clips and their serial reference stores."""
    folder = tmp_path_factory.mktemp("campaign")
    refs = {}
    for seed, name in enumerate(NAMES, start=1):
        clip = ecoseg.synth(folder / f"_{name}", frames=FRAMES, size=(160, 96), seed=seed)
        shutil.move(clip.video, folder / f"{name}.mp4")
        refs[name] = ecoseg.segment(
            folder / f"{name}.mp4", out=folder / "ref" / f"{name}.zarr", progress=False
        )
    videos = [str(folder / f"{name}.mp4") for name in NAMES]
    return videos, refs


def committed(store) -> tuple[int, bool]:
    try:
        meta = json.loads((store / "zarr.json").read_text())["attributes"][ATTRS_KEY]
        return int(meta["frames_written"]), bool(meta["complete"])
    except (OSError, ValueError, KeyError):
        return 0, False


def wait_for(ready, child=None, timeout=90) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if child is not None:
            assert child.poll() is None, f"the child ended first: {child.stderr.read()!r}"
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.005)


def assert_same_store(got, ref) -> None:
    a, b = MaskStore.open(got), MaskStore.open(ref)
    assert a.complete and b.complete
    np.testing.assert_array_equal(a.read_labels(), b.read_labels())
    np.testing.assert_array_equal(a.read_time(), b.read_time())
    np.testing.assert_array_equal(a.read_scores(), b.read_scores())
    assert a.objects == b.objects


def mtimes(folder) -> dict[str, int]:
    return {str(p): p.stat().st_mtime_ns for p in sorted(folder.rglob("*"))}


def test_kill_the_batch_then_rerun_skips_finished_and_resumes_partial(campaign, tmp_path):
    videos, refs = campaign
    out = tmp_path / "out"
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), "0.03", json.dumps(videos), str(out)],
        env=child_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )

    def one_finished_one_partial():
        states = [committed(out / f"{name}.zarr") for name in NAMES]
        return any(done for _, done in states) and any(n >= 16 and not done for n, done in states)

    try:  # one worker thread: the videos run one after another, in the scheduler's order
        wait_for(one_finished_one_partial, child)
        assert child.poll() is None, "the child finished before it could be killed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
    assert child.returncode == -signal.SIGKILL
    states = {name: committed(out / f"{name}.zarr") for name in NAMES}
    finished = {n: mtimes(out / f"{n}.zarr") for n, (_, done) in states.items() if done}
    partial = [n for n, (frames, done) in states.items() if frames and not done]
    assert finished and len(partial) == 1
    frames = states[partial[0]][0]
    assert 16 <= frames < FRAMES  # a valid, partial store
    assert MaskStore.open(out / f"{partial[0]}.zarr").read_labels().shape[0] == frames

    rerun = run_cli("batch", *videos, "-o", out, "--workers", "1", "--quiet")
    assert rerun.returncode == 0, rerun.stderr
    summary = pd.read_csv(out / SUMMARY_FILE, keep_default_na=False)
    expected = ["skipped" if name in finished else "done" for name in NAMES]
    assert summary["status"].tolist() == expected
    for name, before in finished.items():  # finished stores were not touched
        assert mtimes(out / f"{name}.zarr") == before
    for name in NAMES:
        try:
            assert_same_store(out / f"{name}.zarr", refs[name])
        except AssertionError as exc:
            raise AssertionError(f"{name}: {states} {exc}") from None


def test_a_killed_worker_loses_no_finished_store(campaign, tmp_path):
    import cloudpickle
    from distributed import Client, LocalCluster

    videos, refs = campaign
    out = tmp_path / "out"
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests
    killed = {}
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        held = tmp_path / "held"
        client.run(slow_tracker, 0.05, (out, held))

        def kill_a_writer() -> None:
            """SIGKILL the worker waiting with a store finished and closed and another part
            way (it names itself in ``held``)."""
            wait_for(held.exists)
            killed.update(json.loads(held.read_text()))
            states = {name: committed(out / f"{name}.zarr") for name in NAMES}
            killed["finished"] = {
                name: mtimes(out / f"{name}.zarr")
                for name, (_, done) in states.items()
                if done and not lock_path(out / f"{name}.zarr").exists()
            }
            os.kill(killed["pid"], signal.SIGKILL)

        import threading

        killer = threading.Thread(target=kill_a_writer, daemon=True)
        killer.start()
        summary = batch(videos, out, scheduler=client, retries=2, progress=False)
        killer.join(timeout=10)
    cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    victim = killed["victim"]
    assert summary["status"].tolist() == ["done"] * 3, summary.to_string()
    for name, before in killed["finished"].items():
        assert name != victim and mtimes(out / f"{name}.zarr") == before
    for name in NAMES:
        assert_same_store(out / f"{name}.zarr", refs[name])
