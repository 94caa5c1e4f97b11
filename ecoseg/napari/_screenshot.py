"""Make the plugin screenshot of ``docs/napari.png`` (run under an X server, e.g. Xvfb).

Usage::

    xvfb-run -s "-screen 0 1920x1200x24" python -m ecoseg.napari._screenshot docs/napari.png

(``--review docs/review.png`` makes the *Review tracks* one: :func:`review_screenshot`.)

The sample clip with its ground-truth masks and trajectories, both ecoseg dock widgets, the
regions table measured and one fish selected.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

__all__ = ["close_toasts", "demo_viewer", "main", "review_screenshot", "save_png"]


def _wait(condition, timeout: float = 60.0) -> None:
    from qtpy.QtWidgets import QApplication

    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the viewer did not finish in time")
        QApplication.processEvents()
        time.sleep(0.01)


def demo_viewer(viewer, frame: int = 60):
    """Set ``viewer`` up as in the screenshot; returns (segment widget, measure widget)."""
    from ecoseg.napari._measure import MeasureWidget
    from ecoseg.napari._segment import SegmentWidget

    viewer.window.resize(1800, 1150)
    viewer.open_sample("ecoseg", "reef")
    segment = SegmentWidget(viewer)
    measure = MeasureWidget(viewer)
    viewer.window.add_dock_widget(segment, name="Segment & track (ecoseg)", area="right")
    viewer.window.add_dock_widget(measure, name="Measurements (ecoseg)", area="right")
    measure.masks_combo.setCurrentText("truth masks")
    measure.measure()
    _wait(lambda: bool(measure.tables) and measure._worker is None)
    viewer.dims.set_current_step(0, frame)
    table = measure.current_table()
    rows = table.index[table["frame"] == frame]
    if len(rows):
        measure.select_row(int(rows[0]))
    measure._show_all()
    viewer.reset_view()
    viewer.layers.selection.active = viewer.layers["truth masks"]
    return segment, measure


def close_toasts(viewer) -> None:
    """Close notification pop-ups (e.g. napari's Qt-backend notice) before a screenshot."""
    from qtpy.QtWidgets import QApplication, QWidget

    for widget in viewer.window._qt_window.findChildren(QWidget):
        if type(widget).__name__ == "NapariQtNotification":
            widget.close()
    QApplication.processEvents()


def save_png(image, path: str | Path, max_bytes: int = 400_000) -> Path:
    """Save an RGB(A) screenshot as a PNG under ``max_bytes`` (palette / smaller if needed)."""
    import numpy as np
    from PIL import Image

    path = Path(path)
    img = Image.fromarray(np.asarray(image)[..., :3])
    for colors, scale in ((None, 1.0), (256, 1.0), (128, 1.0), (256, 0.75), (128, 0.6)):
        out = img if scale == 1.0 else img.resize((int(img.width * scale), int(img.height * scale)))
        if colors:
            out = out.quantize(colors=colors, method=Image.Quantize.MEDIANCUT)
        out.save(path, optimize=True)
        if path.stat().st_size <= max_bytes:
            break
    return path


def review_screenshot(out: str, folder: str) -> None:
    """Save the widget on a copy of the sample (in ``folder``) with a few edits as a PNG.

    Usage (under an X server)::

        xvfb-run -s "-screen 0 1920x1200x24" python -m ecoseg.napari._screenshot --review \\
            docs/review.png
    """
    import shutil

    import napari
    from qtpy.QtCore import Qt

    from ecoseg.demo import species_model_path
    from ecoseg.napari._review import ReviewWidget
    from ecoseg.sample import sample
    from ecoseg.species import Review, classify

    src = sample()
    dst = Path(folder)
    shutil.copytree(src.truth, dst / "truth.zarr")
    shutil.copy(src.video, dst / "video.mp4")
    store = dst / "truth.zarr"
    from ecoseg.species.review import open_for_edit, read_meta, write_meta

    with open_for_edit(store) as s:  # as a tracker leaves it: nobody named anything
        meta = read_meta(s)
        meta["objects"] = [
            dict(o, **{"class": "unknown", "source": "tracker"}) for o in meta["objects"]
        ]
        write_meta(s, meta)
    Review(store).set_class(1, "damselfish")
    classify(store, model=species_model_path(), videos=[dst / "video.mp4"])
    viewer = napari.Viewer(show=True)
    viewer.window.resize(1800, 1150)
    viewer.open(str(store), plugin="ecoseg")
    widget = ReviewWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Review tracks", area="right")
    widget.wait()  # the gallery is read in a worker thread
    widget.least_confident_first()
    widget.select(int(widget.gallery.item(0, 0).data(Qt.UserRole)))
    from qtpy.QtWidgets import QApplication

    for _ in range(20):
        QApplication.processEvents()
    close_toasts(viewer)  # napari's notice about the Qt backend, not the widget
    save_png(viewer.screenshot(canvas_only=False, flash=False), out)
    viewer.close()


def main(argv: list[str] | None = None) -> int:
    import napari

    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["--review"]:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            review_screenshot(args[1] if len(args) > 1 else "docs/review.png", tmp)
        return 0
    out = Path(args[0] if args else "docs/napari.png")
    warnings.filterwarnings("ignore", message="napari support for the PyQt5")
    viewer = napari.Viewer(show=True)
    demo_viewer(viewer)
    close_toasts(viewer)
    image = viewer.screenshot(canvas_only=False, flash=False)
    save_png(image, out)
    viewer.close()
    print(f"{out}: {out.stat().st_size} bytes, {image.shape[1]}x{image.shape[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
