"""Batch output on real object storage: an S3 server in a local process (moto), no network.

Three clips go to ``s3://bucket/run/``; the run is killed with SIGKILL (process group) while a
store is half written; a re-run completes it, and every stored array equals a local run's byte
for byte. The secret key appears in no log, no summary and no stored object.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from suite_helpers import child_env

pytest.importorskip("s3fs")
moto_server = pytest.importorskip("moto.server")

SECRET = "s3cr3t-Do-Not-Log-9f2c"
KEY_ID = "AKIAECOSEGTEST"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def s3():
    """A local S3 endpoint with a bucket; yields (environment for subprocesses, filesystem)."""
    import s3fs

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = child_env(
        AWS_ACCESS_KEY_ID=KEY_ID,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL=f"http://{host}:{port}",
    )
    fs = s3fs.S3FileSystem(
        key=KEY_ID, secret=SECRET, endpoint_url=env["AWS_ENDPOINT_URL"], use_listings_cache=False
    )
    fs.mkdir("bucket")
    old = {k: os.environ.get(k) for k in env if k.startswith("AWS_")}
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    try:
        yield env, fs
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    import ecoseg

    root = tmp_path_factory.mktemp("s3 clips")
    return [
        ecoseg.synth(root / f"site {k}", frames=90, size=(128, 96), seed=k).video for k in range(3)
    ]


def batch_cmd(clips, out):
    # the videos are all named video.mp4: copy them under distinct names
    return [
        sys.executable,
        "-m",
        "ecoseg",
        "batch",
        *map(str, clips),
        "-o",
        out,
        "--engine",
        "classical",
        "--workers",
        "1",
        "--threads",
        "1",
        "--chunk-frames",
        "4",
        "--retries",
        "0",
    ]


def named(clips, folder: Path):
    import shutil

    folder.mkdir(exist_ok=True)
    out = []
    for k, clip in enumerate(clips):
        target = folder / f"transect {k}.mp4"
        if not target.exists():
            shutil.copy(clip, target)
        out.append(target)
    return out


def group_meta(fs, path):
    try:
        return json.loads(fs.cat_file(f"{path}/zarr.json"))["attributes"]["ecoseg"]
    except (FileNotFoundError, KeyError, ValueError):
        return None


@pytest.mark.slow
def test_batch_to_s3_survives_kill_and_equals_local_run(s3, clips, tmp_path):
    env, fs = s3
    videos = named(clips, tmp_path / "videos")
    stores = [f"bucket/run/transect {k}.zarr" for k in range(3)]

    # 1. start, wait for a half-written store, kill -9 the whole run (workers included)
    proc = subprocess.Popen(
        batch_cmd(videos, "s3://bucket/run/"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    killed_at = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:
        for store in stores:
            fs.invalidate_cache()
            meta = group_meta(fs, store)
            if meta and 0 < meta["frames_written"] and not meta["complete"]:
                killed_at = (store, meta["frames_written"])
                os.killpg(proc.pid, signal.SIGKILL)
                break
        if killed_at:
            break
        time.sleep(0.05)
    out1, err1 = proc.communicate(timeout=60)
    assert killed_at, f"the run ended before a store was half written:\n{err1}"
    assert proc.returncode == -signal.SIGKILL

    # 2. the re-run completes every store
    rerun = subprocess.run(
        batch_cmd(videos, "s3://bucket/run/"), env=env, capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    fs.invalidate_cache()
    for store in stores:
        meta = group_meta(fs, store)
        assert meta["complete"] and meta["frames_written"] == 90

    # 3. a local run of the same clips
    local = tmp_path / "local run"
    run = subprocess.run(batch_cmd(videos, str(local)), env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr

    # byte for byte: every array object (chunks and array metadata) of every store
    for k, store in enumerate(stores):
        local_store = local / f"transect {k}.zarr"
        local_files = {
            p.relative_to(local_store).as_posix() for p in local_store.rglob("*") if p.is_file()
        } - {"zarr.json"}
        remote_files = {
            p[len(store) + 1 :] for p in fs.find(store) if p[len(store) + 1 :] != "zarr.json"
        }
        assert remote_files == local_files, store
        for rel in sorted(local_files):
            assert fs.cat_file(f"{store}/{rel}") == (local_store / rel).read_bytes(), (store, rel)
        # the group's attributes too, except the creation time
        remote = group_meta(fs, store)
        here = json.loads((local_store / "zarr.json").read_text())["attributes"]["ecoseg"]
        for meta in (remote, here):
            meta["provenance"].pop("created", None)
        assert remote == here

    # read back through open_masks
    import ecoseg

    view = ecoseg.open_masks("s3://bucket/run/transect 0.zarr")
    assert view.sizes["t"] == 90

    # 4. no secret anywhere: logs, summary, stored objects
    for text in (out1, err1, rerun.stdout, rerun.stderr):
        assert SECRET not in text
    for path in fs.find("bucket"):
        assert SECRET.encode() not in fs.cat_file(path), path
    assert "batch-summary.csv" in " ".join(fs.ls("bucket/run"))
