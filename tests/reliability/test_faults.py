"""Faults lose nothing: kill -9, disk full and a second writer, then re-run.

A killed run is a child process (``python -m ecoseg`` semantics through ``ecoseg.cli.main``,
slowed down per frame so the kill lands mid-run) that gets SIGKILL once the store's progress
marker shows committed frames. The child waits, at its next frame (or table), once that state
is on disk, until the test lets it go on (a line on its stdin) or kills it: a test process a
loaded machine pauses cannot miss the state, nor find the run finished. Afterwards every
store must open, and re-running the command (``--resume`` for ``segment``) must give exactly
what an uninterrupted run gives.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from reliability_helpers import assert_one_line_error, child_env, run_cli

import ecoseg
from ecoseg.store import ATTRS_KEY, MaskStore, lock_path

pytestmark = pytest.mark.fault

# The child: slows the engines down (same results) and runs the CLI or the Python API;
# once the state its HOLD names is on disk it waits for a line on stdin (or the kill).
CHILD = r"""
import json, os, sys, time
import ecoseg.engine.classical as classical
import ecoseg.engine.storing as storing

DELAY = float(sys.argv[1])
HOLD = json.loads(os.environ.get("HOLD", "[]"))  # [path, frames]: committed; frames null: exists


def committed(store):
    try:
        with open(os.path.join(store, "zarr.json")) as file:
            return int(json.load(file)["attributes"]["ecoseg"]["frames_written"])
    except (OSError, ValueError, KeyError):
        return 0


def hold():
    global HOLD
    if HOLD and all(
        os.path.exists(p) if n is None else committed(p) >= n for p, n in HOLD
    ):
        HOLD = []  # (once)
        sys.stdin.readline()


class slow:
    # each result after a pause; attributes (camera_motion) pass through

    def __init__(self, results):
        self.results = results

    def __iter__(self):
        for item in self.results:
            time.sleep(DELAY)
            hold()
            yield item

    def until_cancelled(self, *args):  # the run's own, returning this wrapper
        self.results = self.results.until_cancelled(*args)
        return self

    def __getattr__(self, name):
        return getattr(self.results, name)


real_track, real_propagate = classical.track, storing.propagate
classical.track = lambda *a, **k: slow(real_track(*a, **k))
storing.propagate = lambda *a, **k: slow(real_propagate(*a, **k))

if sys.argv[2] == "api":
    import ecoseg

    ecoseg.segment(**json.loads(sys.argv[3]))
else:
    import pandas as pd

    real_parquet = pd.DataFrame.to_parquet

    def slow_parquet(self, *a, **k):  # measure: a pause between table files
        time.sleep(DELAY)
        hold()
        return real_parquet(self, *a, **k)

    pd.DataFrame.to_parquet = slow_parquet
    from ecoseg.cli import main

    sys.exit(main(sys.argv[2:]))
"""


@pytest.fixture(scope="module")
def child_script(tmp_path_factory):
    path = tmp_path_factory.mktemp("child") / "child.py"
    path.write_text(CHILD)
    return path


def start(child_script, *args, hold, delay=0.04):
    """The child running ``args``; ``hold``: ``(path, frames)`` pairs (``frames`` None: the
    file exists), the state it waits in (it cannot end before the test has seen it)."""
    return subprocess.Popen(
        [sys.executable, str(child_script), str(delay), *map(str, args)],
        env={**child_env(), "HOLD": json.dumps([[str(p), n] for p, n in hold])},
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def committed(store: Path) -> int:
    try:
        meta = json.loads((store / "zarr.json").read_text())["attributes"][ATTRS_KEY]
        return int(meta["frames_written"])
    except (OSError, ValueError, KeyError):
        return 0


def kill_when(child, ready, timeout=90) -> None:
    """SIGKILL ``child`` as soon as ``ready()`` holds (it must still be running then)."""
    deadline = time.monotonic() + timeout
    try:
        while not ready():
            assert child.poll() is None, f"the child ended first: {child.stderr.read()!r}"
            assert time.monotonic() < deadline, "the child made no progress"
            time.sleep(0.005)
        assert child.poll() is None, "the child finished before it could be killed"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdin.close()
    assert child.returncode == -signal.SIGKILL


def assert_readable(store: Path) -> int:
    opened = MaskStore.open(store)
    n = opened.n_frames
    assert opened.read_labels().shape[0] == n
    assert ecoseg.open_masks(store).sizes["t"] == n
    return n


def assert_same_store(a: Path, b: Path, scores_atol: float = 0.0) -> None:
    x, y = MaskStore.open(a), MaskStore.open(b)
    assert x.complete and y.complete
    np.testing.assert_array_equal(x.read_labels(), y.read_labels())
    np.testing.assert_array_equal(x.read_time(), y.read_time())
    np.testing.assert_allclose(x.read_scores(), y.read_scores(), rtol=0, atol=scores_atol)
    assert x.objects == y.objects


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("long"), frames=72, size=(160, 96), seed=4)


@pytest.fixture(scope="module")
def classical_reference(long_clip, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "ref.zarr"
    ecoseg.segment(long_clip.video, out=out, engine="classical", progress=False)
    assert MaskStore.open(out).read_labels().max() > 0  # something to lose
    return out


def test_kill_segment_classical_twice_then_resume(
    long_clip, classical_reference, tmp_path, child_script
):
    out = tmp_path / "m.zarr"
    args = ["segment", long_clip.video, "-o", out, "--engine", "classical"]
    kills = 0
    for target in (16, 40):  # a first commit; then mid-run after a resume
        child = start(child_script, *args, *(["--resume"] if kills else []), hold=[(out, target)])
        kill_when(child, lambda t=target: committed(out) >= t)
        kills += 1
        n = assert_readable(out)
        assert target <= n < 72 and not MaskStore.open(out).complete
        assert lock_path(out).exists()  # the killed writer's lock is left behind...
    done = run_cli(*args, "--resume")  # ...and taken over: its process is gone
    assert done.returncode == 0, done.stderr
    assert not lock_path(out).exists()
    assert_same_store(out, classical_reference)


@pytest.fixture(scope="module")
def sam2_setup(tmp_path_factory, long_clip):
    import torch

    from ecoseg import sam2
    from ecoseg.sam2.checkpoint import save_safetensors

    folder = tmp_path_factory.mktemp("sam2")
    torch.manual_seed(0)
    model = sam2.build("sam2.1-tiny", pretrained=False, image_size=64, device="cpu")
    weights = save_safetensors(model, folder / "random.safetensors")
    prompts = folder / "prompts.json"
    prompts.write_text(
        json.dumps(
            {
                "objects": [
                    {"id": 1, "class": "fish", "prompts": [{"frame": 0, "points": [[40, 30]]}]},
                    {"id": 2, "class": "star", "prompts": [{"frame": 5, "box": [5, 5, 30, 20]}]},
                ]
            }
        )
    )
    kwargs = {
        "video": str(long_clip.video),
        "prompts": str(prompts),
        "checkpoint": str(weights),
        "image_size": 64,
        "device": "cpu",
        "progress": False,
        "resume_every": 8,
    }
    ref = folder / "ref.zarr"
    ecoseg.segment(out=ref, **kwargs)
    assert MaskStore.open(ref).read_labels().max() > 0
    return kwargs, ref


def test_kill_segment_sam2_then_resume_from_its_resume_state(sam2_setup, tmp_path, child_script):
    from ecoseg.engine.resume import resume_location

    kwargs, ref = sam2_setup
    out = tmp_path / "m.zarr"
    saved = Path(resume_location(str(out)))
    child = start(
        child_script, "api", json.dumps({**kwargs, "out": str(out)}), delay=0.03,
        hold=[(saved, None), (out, 16)],
    )  # fmt: skip
    kill_when(child, lambda: saved.exists() and committed(out) >= 16)
    n = assert_readable(out)
    assert 16 <= n < 72
    ecoseg.segment(out=out, resume=True, **kwargs)
    assert not saved.exists()  # removed once complete
    # labels identical; scores made in another process may differ in the last float bit
    # (CPU kernels are not bit-reproducible across processes), see docs/reliability.md
    assert_same_store(out, ref, scores_atol=1e-6)


def test_kill_measure_then_rerun(long_clip, tmp_path, child_script, cli):
    store = tmp_path / "m.zarr"
    ecoseg.segment(long_clip.video, out=store, engine="classical", progress=False)
    ref = ecoseg.measure(store, tmp_path / "ref", calibration=0.5)
    tables = tmp_path / "tables"
    staged = tables / ".regions.parquet.partial"  # the tables appear together at the end
    child = start(
        child_script, "measure", store, "-o", tables, "--calibration", "0.5", delay=0.5,
        hold=[(staged, None)],
    )  # fmt: skip
    kill_when(child, staged.exists)
    assert_readable(store)
    assert MaskStore.open(store).calibration["mm_per_px"] == 0.5
    # killed part way: no table under its name (it left regions.parquet, and the re-run said
    # 'already exists' of half a set); the re-run needs no --overwrite
    assert not list(tables.glob("*.parquet")) and not list(tables.glob("*.csv"))
    code, _, err = cli("measure", store, "-o", tables, "--calibration", "0.5")
    assert code == 0, err
    assert not list(tables.glob(".*"))  # the killed run's staged file is gone
    for name, df in ref.items():
        got = pd.read_parquet(tables / f"{name}.parquet")
        pd.testing.assert_frame_equal(got, df.reset_index(drop=True), check_like=False)


@pytest.fixture(scope="module")
def study_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    for name, seed in (("north", 1), ("south", 2)):
        clip = ecoseg.synth(folder / name, frames=48, size=(160, 96), seed=seed)
        os.replace(clip.video, folder / f"{name}.mp4")
    (folder / "study.yaml").write_text(
        "name: kill test\noutput: out\ndefaults:\n  engine: classical\n  calibration: 0.5\n"
        "videos:\n  - path: north.mp4\n    site: North\n  - path: south.mp4\n    site: South\n"
    )
    return folder


def test_kill_study_then_rerun(study_folder, tmp_path, child_script):
    fresh = tmp_path / "fresh"
    done = run_cli("study", study_folder / "study.yaml", "-o", fresh, "--quiet")
    assert done.returncode == 0, done.stderr
    out = tmp_path / "killed"
    south = out / "stores" / "south.zarr"
    child = start(
        child_script, "study", study_folder / "study.yaml", "-o", out, "--quiet", delay=0.04,
        hold=[(south, 16)],
    )  # fmt: skip
    kill_when(child, lambda: committed(south) >= 16)  # north done, south part way
    assert_readable(out / "stores" / "north.zarr")
    assert assert_readable(south) < 48
    done = run_cli("study", study_folder / "study.yaml", "-o", out, "--quiet")
    assert done.returncode == 0, done.stderr
    for name in ("north", "south"):
        assert_same_store(out / "stores" / f"{name}.zarr", fresh / "stores" / f"{name}.zarr")
    for table in ("regions", "tracks", "counts", "maxn", "cover"):
        assert (out / "tables" / f"{table}.parquet").read_bytes() == (
            fresh / "tables" / f"{table}.parquet"
        ).read_bytes(), table
    assert (out / "report.html").read_bytes() == (fresh / "report.html").read_bytes()


def _disk_full_after(monkeypatch, writes: int):
    """Make writes to a local store fail with ENOSPC after ``writes`` successful writes: the
    keys zarr's local store writes and those the store's writer writes as files itself
    (``ecoseg.store.keys``: label chunks, time and score rows, the commit record)."""
    from zarr.storage import LocalStore

    import ecoseg.store.keys

    real, real_put = LocalStore.set, ecoseg.store.keys.put_file
    count = {"n": 0}

    def full(key):
        count["n"] += 1
        if count["n"] > writes:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(key))

    async def set_or_fail(self, key, value):
        full(key)
        return await real(self, key, value)

    def put_or_fail(path, data):
        full(path)
        return real_put(path, data)

    monkeypatch.setattr(LocalStore, "set", set_or_fail)
    monkeypatch.setattr(ecoseg.store.keys, "put_file", put_or_fail)


@pytest.mark.parametrize("writes", [3, 12, 25])
def test_disk_full_during_segment_is_a_clear_error_and_resumable(
    writes, long_clip, classical_reference, tmp_path, monkeypatch, cli
):
    out = tmp_path / "m.zarr"
    with monkeypatch.context() as patch:
        _disk_full_after(patch, writes)
        code, _, err = cli("segment", long_clip.video, "-o", out, "--engine", "classical")
    line = assert_one_line_error(code, err, "No space left on device", status=None)
    assert str(out) in line
    assert not lock_path(out).exists()  # released on the way out
    if out.exists():  # the disk filled after the store was made: it holds what was committed
        assert_readable(out)
    else:  # it filled while the store was being made: nothing is left behind
        assert not list(tmp_path.iterdir())
    code, _, err = cli("segment", long_clip.video, "-o", out, "--engine", "classical", "--resume")
    assert code == 0, err
    assert_same_store(out, classical_reference)


def test_disk_full_while_writing_tables(classical_reference, tmp_path, monkeypatch, cli):
    tables = tmp_path / "tables"

    def full(self, path, *args, **kwargs):
        Path(path).write_bytes(b"PAR1 half a tab")  # a partly written file, then the error
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    with monkeypatch.context() as patch:
        patch.setattr(pd.DataFrame, "to_parquet", full)
        code, _, err = cli("measure", classical_reference, "-o", tables)
    assert_one_line_error(code, err, "No space left on device", status=1)
    assert not list(tables.glob("*.parquet"))  # no half-written table under a real name
    assert not list(tables.glob("*.partial"))  # and no litter
    code, _, err = cli("measure", classical_reference, "-o", tables)
    assert code == 0, err
    assert len(pd.read_parquet(tables / "regions.parquet")) > 0


def test_second_writer_is_refused(long_clip, tmp_path, child_script, cli):
    out = tmp_path / "m.zarr"
    args = ["segment", long_clip.video, "-o", out, "--engine", "classical"]
    child = start(child_script, *args, delay=0.05, hold=[(out, 16)])  # it waits there
    try:
        deadline = time.monotonic() + 60
        while committed(out) < 16:
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        for second in (
            [*args, "--resume"],
            [*args, "--overwrite"],
            ["measure", out, "-o", tmp_path / "t", "--calibration", "0.5"],
        ):
            code, _, err = cli(*second)
            assert_one_line_error(code, err, str(out), "another writer", f"process {child.pid}")
        tables = ecoseg.measure(out)  # readers are welcome: they see committed frames
        assert tables["regions"]["frame"].max() < 72
    finally:
        child.stdin.close()  # it goes on
        rest = child.wait(timeout=120)
    assert rest == 0, child.stderr.read()
    assert not lock_path(out).exists()
    assert MaskStore.open(out).complete


def test_lock_of_a_process_on_another_host_is_respected(tmp_path, cli, long_clip):
    out = tmp_path / "m.zarr"
    ecoseg.segment(long_clip.video, out=out, engine="classical", progress=False)
    lock_path(out).write_text(json.dumps({"pid": 1, "host": "field-laptop-7", "start": None}))
    code, _, err = cli("measure", out, "-o", tmp_path / "t", "--calibration", "1")
    assert_one_line_error(code, err, "field-laptop-7", str(lock_path(out).name))
    lock_path(out).unlink()
    code, _, err = cli("measure", out, "-o", tmp_path / "t", "--calibration", "1")
    assert code == 0, err


def test_a_locked_store_is_refused_before_the_model_is_loaded(
    long_clip, tmp_path, no_model, cli, good_prompts
):
    out = tmp_path / "m.zarr"
    holder = MaskStore.create(out, height=96, width=160)  # a live writer (this process)
    try:
        code, _, err = cli(
            "segment", long_clip.video, "-o", out, "--prompts", good_prompts, "--overwrite"
        )
        assert_one_line_error(code, err, str(out), "another writer")
    finally:
        holder.close()
