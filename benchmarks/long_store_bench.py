"""The commands that read a finished store, on a long one: wall time, peak memory, progress.

A one-hour BRUV deployment is 108,000 frames at 30 fps. This script writes a finished mask
store of that kind without running a segmenter (synthetic label frames, ``--objects`` ellipses
on smooth periodic paths that leave and come back, per-object scores, marked complete as a
finished run marks it), a copy of it as a truth store, then runs each command as a user would
(``python -m ecoseg ...``, a child process each) and prints one JSON line per command:

- ``wall_s``: the command's wall-clock time, ``cpu_s`` its CPU time (user + system);
- ``peak_rss_mb``: the child's peak resident memory (``ru_maxrss`` from ``os.wait4``);
- ``progress``: whether it drew a progress bar on stderr (tqdm's ``NN%|`` or a rate);
- ``rc``: the exit status (non-zero lines carry the last line of stderr as ``error``).

Compare two ``--frames`` values to see whether time and memory grow with the video's length
(they should grow linearly in time and stay flat in memory).

Usage::

    PYTHONPATH=. python benchmarks/long_store_bench.py                 # 300 frames, every command
    PYTHONPATH=. python benchmarks/long_store_bench.py --frames 30000 --commands measure,report
    PYTHONPATH=. python benchmarks/long_store_bench.py --frames 30000 --commands report --stores 4

``--stores N`` gives ``report`` N stores (a campaign): the store and N - 1 copies of it under
other names (``long-FRAMES-2.zarr``, ...), each a video of the report.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

FORMATS = ("coco", "ytvis", "mot", "mots", "cvat", "viame", "davis")
COMMANDS = ("info", "verify", "measure", *(f"export-{f}" for f in FORMATS), "evaluate", "report")
PERIOD = 240  # frames in one cycle of the objects' paths (the frames are drawn once per cycle)
_BAR = re.compile(rb"\d+%\||\d+(\.\d+)?(it|frame|chunk|store)s?/s|s/(it|frame|chunk)")


def _ellipse_masks(size: tuple[int, int], objects: int) -> np.ndarray:
    """``PERIOD`` label frames (uint8) of ``objects`` ellipses on Lissajous paths."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    out = np.zeros((PERIOD, h, w), np.uint8)
    rng = np.random.default_rng(0)
    fx, fy = rng.integers(1, 4, objects), rng.integers(1, 4, objects)
    phase = rng.uniform(0, 2 * np.pi, (objects, 2))
    radii = rng.uniform(0.03, 0.07, (objects, 2)) * min(w, h) + 3
    for t in range(PERIOD):
        a = 2 * np.pi * t / PERIOD
        for k in range(objects):
            cx = w / 2 + 0.4 * w * np.sin(fx[k] * a + phase[k, 0])
            cy = h / 2 + 0.4 * h * np.sin(fy[k] * a + phase[k, 1])
            rx, ry = radii[k]
            out[t][((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1] = k + 1
    return out


def make_store(path: Path, frames: int, size=(320, 180), objects=10, chunk_frames=4) -> None:
    """A finished store of ``frames`` frames: moving ellipses, each present in 3 of 4 minutes.

    Object ``k`` leaves the scene for the minute ``m`` with ``(m + k) % 4 == 3`` and comes
    back, so tracks have gaps and counts change, as fish do at a bait station.
    """
    from ecoseg.store import MaskStore

    w, h = size
    cycle = _ellipse_masks(size, objects)
    classes = ("Scarus", "Chlorurus", "Lutjanus")
    store = MaskStore.create(
        path,
        height=h,
        width=w,
        chunk_frames=chunk_frames,
        objects=[{"id": k + 1, "class": classes[k % 3]} for k in range(objects)],
        provenance={
            "engine": "classical",
            "parameters": {},
            "video": {"path": "bruv.mp4", "fps": 30.0, "size": [w, h], "frames": frames},
        },
        calibration={"mm_per_px": 2.0, "method": "synthetic"},
    )
    ids = np.arange(1, objects + 1)
    step = 120
    for start in range(0, frames, step):
        n = min(step, frames - start)
        index = np.arange(start, start + n)
        labels = cycle[index % PERIOD].astype(np.uint32)
        minute = index // 1800
        gone = (minute[:, None] + ids[None, :]) % 4 == 3  # (n, objects): object away
        lut = np.zeros((n, objects + 1), np.uint32)
        lut[:, 1:] = np.where(gone, 0, ids)
        labels = np.take_along_axis(lut, labels.reshape(n, -1), axis=1).reshape(labels.shape)
        present = np.stack([(labels == i).any(axis=(1, 2)) for i in ids], axis=1)
        scores = np.where(present, 0.6 + 0.3 * np.cos(index[:, None] / 50.0 + ids), 0.0)
        store.append(labels, index / 30.0, scores=scores.astype(np.float32))
    store.mark_complete()
    store.close()


def _argv(command: str, store: Path, truth: Path, out: Path, copies=()) -> list[str]:
    base = [sys.executable, "-m", "ecoseg"]
    if command == "info":
        return [*base, "info", str(store)]
    if command == "verify":
        return [*base, "info", str(store), "--verify"]
    if command == "measure":
        return [*base, "measure", str(store), "-o", str(out / "tables")]
    if command.startswith("export-"):
        fmt = command.split("-", 1)[1]
        suffix = {"coco": ".json", "ytvis": ".json", "cvat": ".xml", "davis": ""}.get(fmt, ".txt")
        if fmt == "viame":
            suffix = ".csv"
        return [*base, "export", str(store), "--format", fmt, "-o", str(out / f"{fmt}{suffix}")]
    if command == "evaluate":
        return [*base, "evaluate", str(store), "--truth", str(truth), "-o", str(out / "eval.json")]
    if command == "report":
        return [*base, "report", str(store), *map(str, copies), "-o", str(out / "r.html")]
    raise SystemExit(f"unknown command {command!r}; choose from {', '.join(COMMANDS)}")


def run_command(argv: list[str], cwd: Path) -> dict:
    """Run ``argv``; its wall and CPU time, peak RSS and whether it drew a progress bar."""
    err = cwd / "stderr.txt"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    env.pop("TQDM_DISABLE", None)
    with open(err, "wb") as stderr:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=stderr, cwd=cwd, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    text = err.read_bytes()
    record = {
        "rc": proc.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
        "progress": bool(_BAR.search(text)),
    }
    if proc.returncode:
        lines = [x for x in text.decode(errors="replace").splitlines() if x.strip()]
        record["error"] = lines[-1][:300] if lines else ""
    return record


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=300, help="frames in the store (default 300)")
    p.add_argument("--size", default="320x180", help="WIDTHxHEIGHT (default 320x180)")
    p.add_argument("--objects", type=int, default=10, help="objects (default 10)")
    p.add_argument("--commands", default=",".join(COMMANDS), help="comma-separated subset")
    p.add_argument("--store", default=None, help="reuse (or keep) the stores in this folder")
    p.add_argument("--tag", default=None, help="a 'run' field added to every line")
    p.add_argument("--stores", type=int, default=1, help="stores of the report (default 1)")
    args = p.parse_args(argv)
    w, h = (int(v) for v in args.size.lower().split("x"))
    with tempfile.TemporaryDirectory(prefix="ecoseg-long-") as tmp:
        # absolute: the commands run in their own folders (a relative DIR was "no such store")
        folder = Path(args.store).resolve() if args.store else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        store, truth = folder / f"long-{args.frames}.zarr", folder / f"truth-{args.frames}.zarr"
        common = {"frames": args.frames, "size": f"{w}x{h}", "objects": args.objects}
        if args.tag:
            common["run"] = args.tag
        if not store.exists():
            t0 = time.perf_counter()
            # in a process of its own: a command started from this one counts this process's
            # memory in its peak RSS (the child begins as a copy), so this one stays small
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                pool.submit(make_store, store, args.frames, (w, h), args.objects).result()
            shutil.copytree(store, truth)
            print(
                json.dumps(
                    {
                        "command": "make-store",
                        **common,
                        "wall_s": round(time.perf_counter() - t0, 2),
                    }
                ),
                flush=True,
            )
        copies = [folder / f"long-{args.frames}-{k}.zarr" for k in range(2, args.stores + 1)]
        for copy in copies:
            if not copy.exists():
                shutil.copytree(store, copy)
        if args.stores > 1:
            common["stores"] = args.stores
        for command in args.commands.split(","):
            out = Path(tmp) / command
            out.mkdir()
            argv_ = _argv(command, store, truth, out, copies)
            record = run_command(argv_, out)
            shown = " ".join(["ecoseg", *argv_[3:]]).replace(str(folder), "DIR").replace(tmp, "TMP")
            print(json.dumps({"command": command, **common, **record, "argv": shown}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
