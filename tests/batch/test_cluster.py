"""ecoseg.batch.cluster: a script that starts a local cluster without the ``__main__`` guard."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import ecoseg
from ecoseg.batch.cluster import SCRIPT_GUARD, check_not_importing_script
from ecoseg.errors import ConfigError

pytest.importorskip("distributed")

ROOT = Path(ecoseg.__file__).resolve().parents[1]


def test_a_worker_importing_the_script_is_named(monkeypatch):
    check_not_importing_script()  # this process: __mp_main__ is __main__ (or absent)
    # a spawned worker runs the script as another module named __mp_main__
    monkeypatch.setitem(sys.modules, "__mp_main__", types.ModuleType("__mp_main__"))
    with pytest.raises(ConfigError, match="^a worker process is importing the script: a scr"):
        check_not_importing_script()


def _run_script(script):
    """Run a Python script in its folder with this checkout's ecoseg first on the path."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.run(
        [sys.executable, str(script)], cwd=script.parent, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip


def test_a_script_without_the_main_guard_is_told_the_guard(tmp_path):
    """A plain script calling batch() at its top level made each spawned worker run the
    script again: 287 lines of Dask and multiprocessing tracebacks ending in 'Nanny failed to
    start.', the one hint (multiprocessing's freeze_support idiom) buried in the middle."""
    clip = ecoseg.synth(tmp_path / "clip", frames=4, size=(64, 48))
    script = tmp_path / "campaign.py"
    script.write_text(
        "from ecoseg.batch import batch\n"
        f"batch([{str(clip.video)!r}], {str(tmp_path / 'out')!r}, workers=1, progress=False)\n"
    )
    run = _run_script(script)
    assert run.returncode != 0
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("ecoseg.errors.ConfigError: the local cluster's worker processes")
    assert f"if campaign.py is your script: {SCRIPT_GUARD}" in last
    assert "freeze_support" not in run.stderr
    assert not (tmp_path / "out" / "video.zarr").exists()


def test_ctrl_c_while_the_local_cluster_starts_ends_in_one_line(tmp_path):
    """Ctrl-C while the workers of `ecoseg batch`'s local cluster were starting left the
    half-started cluster to distributed's exit handler, which printed 'Exception ignored in
    atexit callback: <function close_clusters ...>' and a 25-line traceback
    (AssertionError: Status.init) after 'ecoseg: interrupted'. The signal is sent by the
    process itself as its worker starts, so the moment does not depend on timing."""
    clip = ecoseg.synth(tmp_path / "clip", frames=4, size=(64, 48))
    script = tmp_path / "ctrl_c.py"
    script.write_text(
        "import os, signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal\n"
        "import distributed.nanny\n"
        "start = distributed.nanny.Nanny.start_unsafe\n"
        "async def interrupted(self):\n"
        "    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, as this worker starts\n"
        "    return await start(self)\n"
        "distributed.nanny.Nanny.start_unsafe = interrupted\n"
        "from ecoseg.cli import main\n"
        "if __name__ == '__main__':  # (each worker process imports this script)\n"
        f"    sys.exit(main(['batch', {str(clip.video)!r}, '-o', 'out', '--workers', '1',"
        " '--engine', 'classical', '--quiet']))\n"
    )
    run = _run_script(script)
    assert run.returncode == 130
    assert run.stderr.strip().splitlines() == ["ecoseg: interrupted"], run.stderr
    assert not (tmp_path / "out" / "video.zarr").exists()


def test_local_worker_processes_leave_ctrl_c_to_the_command():
    """Ctrl-C in a terminal reaches the worker processes too: each printed 'Process Dask
    Worker process (from Nanny):' and a KeyboardInterrupt traceback under 'ecoseg:
    interrupted'. They ignore SIGINT now; the command closes them."""
    import signal

    from ecoseg.batch import connect

    # Ctrl-C handled here, as in a terminal (a run started in the background inherits it
    # ignored, and so would its workers, whatever the preload does)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with connect(workers=1) as client:
            ignored = client.run(lambda: signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
        assert list(ignored.values()) == [True]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # (this process's)
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("worker", [True, False])
def test_a_worker_process_starting_under_the_command_ignores_ctrl_c(worker):
    """A worker process spawned by `ecoseg batch` imports the command's script (and so
    ecoseg.cli) as __mp_main__ first: a Ctrl-C reaching it before its Dask preload ran
    printed a KeyboardInterrupt traceback from the middle of its imports."""
    fake = "sys.modules['__mp_main__'] = types.ModuleType('__mp_main__'); " if worker else ""
    code = (
        "import signal, sys, types; signal.signal(signal.SIGINT, signal.default_int_handler); "
        f"{fake}import ecoseg.cli; print(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert run.stdout.strip() == str(worker), run.stderr
