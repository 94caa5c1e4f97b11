"""How long *Review tracks* blocks napari's UI (Qt) thread: one JSON line per measured figure.

Run from the repository root, under an X server::

    PYTHONPATH=. xvfb-run -a python benchmarks/review_ui_bench.py [--repeats 3]

Two copies of the sample's truth store (and its video) are opened in a viewer with the
widget docked. The UI thread is blocked for as long as one call made on it runs: the
widget's own call (choosing a layer in its list, pressing an edit button), then each
``QApplication.processEvents()`` of the loop that waits for the widget to be done (where a
worker's result is applied). The figure is the longest such block (``blocked_s``: what a
user feels as a frozen window) and their sum (``ui_s``), from the call to the gallery
shown; best of ``--repeats``.

Figures
-------
review_choose_ui
    The other store's layer chosen in the widget's list: its gallery read and drawn.
review_edit_ui
    *Delete* pressed on a track (and *Undo* pressed after it, timed apart): the store
    rewritten, the layer, its tracks layer and the gallery reloaded.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


def blocked(widget, call) -> tuple[float, float]:
    """``call()`` on the UI thread, then the widget's events handled until it is idle:
    the longest single block of the UI thread and the sum of them, in seconds."""
    from qtpy.QtWidgets import QApplication

    t = time.perf_counter()
    call()
    spans = [time.perf_counter() - t]
    while True:
        t = time.perf_counter()
        QApplication.processEvents()
        spans.append(time.perf_counter() - t)
        if getattr(widget, "_worker", None) is None and not getattr(widget, "_pending", False):
            break
        time.sleep(0.001)
    return max(spans), sum(spans)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)

    import napari

    from ecoseg.napari._review import ReviewWidget
    from ecoseg.sample import sample

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    src = sample()
    best: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            folder = Path(tmp) / f"run{r}"
            folder.mkdir()
            shutil.copy(src.video, folder / "video.mp4")
            for name in ("a.zarr", "b.zarr"):
                shutil.copytree(src.truth, folder / name)
            viewer = napari.Viewer(show=False)
            viewer.open(str(folder / "a.zarr"), plugin="ecoseg")
            viewer.open(str(folder / "b.zarr"), plugin="ecoseg")
            w = ReviewWidget(viewer)
            viewer.window.add_dock_widget(w)
            w.masks_combo.setCurrentText("b masks")
            w.wait()
            best.setdefault("choose", []).append(
                blocked(w, lambda w=w: w.masks_combo.setCurrentText("a masks"))
            )
            assert w.gallery.rowCount() > 0, w.status.text()
            w.select(3)
            best.setdefault("delete", []).append(blocked(w, w.delete))
            assert w.status.text().startswith("edit 1: Delete on track 3"), w.status.text()
            best.setdefault("undo", []).append(blocked(w, w.undo))
            assert w.status.text().startswith("edit 2: Undo"), w.status.text()
            viewer.close()
    n, h, wd = (int(s) for s in __import__("ecoseg").open_masks(src.truth)["labels"].shape)
    for figure, key in (
        ("review_choose_ui", "choose"),
        ("review_edit_ui", "delete"),
        ("review_edit_ui", "undo"),
    ):
        runs = best[key]
        print(
            json.dumps(
                {
                    "figure": figure,
                    "action": key,
                    "store": f"sample truth ({n} frames, {wd}x{h})",
                    "commit": commit,
                    "blocked_s": round(min(b for b, _ in runs), 4),
                    "ui_s": round(min(u for _, u in runs), 4),
                    "repeats": args.repeats,
                }
            )
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
