"""A store opened while another process writes it: ``ecoseg info`` said ``INCOMPLETE:
continue with ecoseg segment ... --resume``, advice that the lock then refused (``another
writer has this store open``). Now it says the store is being written, and by whom."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

import ecoseg
from ecoseg.info import summary
from ecoseg.store import MaskStore, lock_path

pytestmark = pytest.mark.bad_input


def test_info_of_a_store_another_process_is_writing(clip, tmp_path, cli):
    store = tmp_path / "run.zarr"
    with pytest.raises(RuntimeError):  # a run stopped after some frames: a partial store

        def stop(done, total):
            if done >= 8:
                raise RuntimeError("stop")

        ecoseg.segment(clip.video, out=store, progress=stop)
    assert not MaskStore.open(store).complete
    code, out, _ = cli("info", store)
    assert code == 0 and "INCOMPLETE: continue with ecoseg segment" in out  # nobody writing
    writer = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        record = {"pid": writer.pid, "host": socket.gethostname(), "created": "2026-03-02T10:14:09"}
        lock_path(store).write_text(json.dumps(record))
        who = f"process {writer.pid} on host {socket.gethostname()} since 2026-03-02T10:14:09"
        code, out, _ = cli("info", store)
        assert code == 0 and f"INCOMPLETE: still being written ({who}); wait" in out
        assert "--resume" not in out
        code, out, _ = cli("info", store, "--json")
        assert json.loads(out)["writer"] == who
        assert summary(store).writer == who
    finally:
        writer.kill()
        writer.wait()
    assert summary(store).writer is None  # the writer gone: resume it
