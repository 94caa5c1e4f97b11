"""Fixtures shared by the whole suite."""

from __future__ import annotations

import json
import os
import sys

import pytest


def _share_threads() -> None:
    """Under pytest-xdist, give each worker an equal share of the cores for its threads.

    torch, OpenMP and BLAS each start one thread per core in every worker: with two workers
    on two cores that is four busy threads fighting for two. Set before any of them is
    imported; a value the user set is kept.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1 and "OMP_NUM_THREADS" not in os.environ:
        os.environ["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))


_share_threads()


def _repeatable_examples() -> None:
    """Hypothesis draws the same examples on every run (``derandomize``), so a CI run and a
    re-run of it test the same cases and a red is reproducible; set ``HYPOTHESIS_PROFILE=explore``
    to draw new random examples each run (and keep any failure it finds as a test).

    Neither profile has a deadline: Hypothesis' default (200 ms an example) failed a quick
    test whose process a loaded machine paused for longer (a timed assertion)."""
    try:
        from hypothesis import settings
    except ImportError:  # a test extra; the property tests skip without it
        return
    settings.register_profile("repeatable", derandomize=True, database=None, deadline=None)
    settings.register_profile("explore", deadline=None)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


_repeatable_examples()


@pytest.fixture(scope="session", autouse=True)
def _hash_cache_in_tmp(tmp_path_factory):
    """Point the cache of large files' sha256 at a temporary file, never the user's cache dir."""
    before = os.environ.get("ECOSEG_HASH_CACHE")
    os.environ["ECOSEG_HASH_CACHE"] = str(tmp_path_factory.mktemp("hash-cache") / "sha256.json")
    yield
    if before is None:
        os.environ.pop("ECOSEG_HASH_CACHE", None)
    else:
        os.environ["ECOSEG_HASH_CACHE"] = before


@pytest.fixture(scope="module", autouse=True)
def _restore_grad_mode():
    """Give every test module torch's gradient mode as the module before it found it.

    Some modules switch gradients off for their fixtures (as the engines do at inference);
    without this the switch leaked into every later module of the run.
    """
    torch = sys.modules.get("torch")
    before = torch.is_grad_enabled() if torch is not None else None
    yield
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_grad_enabled(True if before is None else before)


@pytest.fixture
def interrupt_edit(monkeypatch):
    """A function leaving a store as an ``ecoseg edit --merge A,B --delete C`` (its first three
    objects) killed at its first labels chunk write leaves it: that edit's intent written
    (``edit_pending``) and any edit after it queued (2 unfinished when the merge changes
    labels). The second object gets the first one's class beforehand (as if one animal's two
    prompts had named it alike: two different names a person gave are not merged)."""
    from ecoseg.species import apply_edits
    from ecoseg.species.edits import Edit
    from ecoseg.store import MaskStore

    def run(path) -> None:
        review = sys.modules["ecoseg.species.review"]
        writes = sys.modules["ecoseg.species._edit_writes"]  # where an edit writes its chunks
        calls = {"n": 0}
        write = writes._write_chunk

        def killed(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == 1:
                raise KeyboardInterrupt
            return write(*args, **kwargs)

        with MaskStore.open(path, mode="a") as store:
            ids = [int(i) for i in store.object_ids[:3]]
            meta = json.loads(json.dumps(store.group.attrs.asdict()[review.ATTR_KEY]))
            entry = {int(o["id"]): o for o in meta["objects"]}
            entry[ids[1]]["class"] = entry[ids[0]]["class"]
            store.group.attrs.update({review.ATTR_KEY: meta})
        with monkeypatch.context() as patch:
            patch.setattr(writes, "_write_chunk", killed)
            with pytest.raises(KeyboardInterrupt):
                apply_edits(path, [Edit("merge", (ids[0], ids[1])), Edit("delete", (ids[2],))])

    return run


@pytest.fixture
def opened(monkeypatch):
    """Every MaskStore.open of the test: (path, the store returned)."""
    from ecoseg.store import MaskStore

    calls: list = []
    real = MaskStore.open.__func__

    def counting(cls, path, *args, **kwargs):
        store = real(cls, path, *args, **kwargs)
        calls.append((str(path), store))
        return store

    monkeypatch.setattr(MaskStore, "open", classmethod(counting))
    return calls


@pytest.fixture
def read_fault(monkeypatch):
    """A function making a file fail when it is opened to be read, after its checks passed:
    ``"removed"`` (by a sync tool) or ``"denied"`` (its permissions changed) between the check
    and the read."""
    from pathlib import Path

    real = Path.open

    def removed(path):
        path.unlink()

    def denied(path):
        raise PermissionError(13, "Permission denied", str(path))

    def arrange(path, fault: str) -> None:
        act = {"removed": removed, "denied": denied}[fault]

        def opening(self, *args, **kwargs):
            if self == Path(path):
                act(self)
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", opening)

    return arrange


def _long_store(path, frames: int, objects: int = 12, scores: bool = True) -> str:
    """A finished store of ``frames`` 96x40 frames: ``objects`` boxes moving right (classes
    wrasse and grouper in turn, calibrated at 2 mm a pixel), each away for 50 frames in 300;
    ``scores``: 0.75 for every object on frames with a mask."""
    import numpy as np

    from ecoseg.store import MaskStore

    h, w, step = 40, 96, 100
    store = MaskStore.create(
        path,
        height=h,
        width=w,
        chunk_frames=4,
        objects=[{"id": k + 1, "class": ("wrasse", "grouper")[k % 2]} for k in range(objects)],
        calibration={"mm_per_px": 2.0, "method": "synthetic"},
    )
    for start in range(0, frames, step):
        n = min(step, frames - start)
        labels = np.zeros((n, h, w), np.uint32)
        for i in range(n):
            t = start + i
            for k in range(objects):
                if (t // 50 + k) % 6 == 5:
                    continue  # away for a while
                x = (3 * t + 7 * k) % (w - 6)
                labels[i, 3 * k : 3 * k + 3, x : x + 2 + k % 4] = k + 1
        rows = None
        if scores:
            rows = np.where(labels.reshape(n, -1).max(1)[:, None] > 0, 0.75, 0.0)
            rows = np.repeat(rows, objects, axis=1).astype(np.float32)
        store.append(labels, (start + np.arange(n)) / 30.0, scores=rows)
    store.mark_complete()
    store.close()
    return str(path)


@pytest.fixture(scope="session")
def long_store_at():
    """``long_store_at(path, frames, objects=12, scores=True)`` writes a long store of moving
    boxes (the memory tests' video) and returns its path."""
    return _long_store


def _python_peak(fn):
    """``fn()`` and the peak of the Python allocations it made (``tracemalloc``), in bytes."""
    import tracemalloc

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = fn()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return out, peak


@pytest.fixture(scope="session")
def python_peak():
    """``python_peak(fn)``: ``fn()`` and the peak of the Python allocations it made, bytes."""
    return _python_peak


@pytest.fixture
def hash_reads(monkeypatch):
    """The files :func:`ecoseg._hashing.sha256_file` reads while the test runs, in order:
    the function is replaced by a counting one in ``ecoseg._hashing`` and in every ecoseg
    module already imported that took the name (``from ecoseg._hashing import sha256_file``)."""
    import ecoseg._hashing as hashing

    seen: list[str] = []
    real = hashing.sha256_file

    def counting(path, **kw):
        seen.append(str(path))
        return real(path, **kw)

    for name, module in list(sys.modules.items()):
        if (name == "ecoseg" or name.startswith("ecoseg.")) and (
            vars(module).get("sha256_file") is real  # (vars: no lazy attribute resolved)
        ):
            monkeypatch.setattr(module, "sha256_file", counting)
    return seen
