"""ecoseg/metrics/truth.py: a DAVIS-style PNG folder made into a truth store for evaluate."""

from __future__ import annotations

import numpy as np
from suite_helpers import labels_store, warned_while_held

import ecoseg.formats
from ecoseg.formats.davis import VoidPixelsWarning, palette
from ecoseg.metrics import evaluate


def test_the_imports_warnings_are_unsaid_in_evaluates_thread_only(tmp_path):
    """``evaluate`` of a PNG folder with void pixels, of some frames only, gives neither the
    import's VoidPixelsWarning nor its UnannotatedFramesWarning (it leaves void out and scores
    the frames with a PNG). It hid them with ``warnings.catch_warnings()`` and filters, which
    are the process's: run in a worker thread (napari, dask's threads) it hid another thread's
    VoidPixelsWarning meanwhile and then put back the filters it found. Now only its own."""
    from PIL import Image

    labels = np.zeros((4, 24, 24), np.uint8)
    labels[:, 6:12, 6:12] = 255  # void round object 3
    labels[:, 7:11, 7:11] = 3
    pngs = tmp_path / "pngs"
    pngs.mkdir()
    for t in (0, 2):  # frames 1 and 3 not annotated
        png = Image.fromarray(labels[t])
        png.putpalette(palette().ravel().tolist())
        png.save(pngs / f"{t:05d}.png")
    pred = labels_store(tmp_path / "p.zarr", np.where(labels == 255, 0, labels), chunk_frames=2)
    got = warned_while_held(
        lambda: evaluate(pred, pngs), ecoseg.formats, "import_annotations", VoidPixelsWarning
    )
    assert got["filters_kept"] and got["heard"]
    assert got["others"] == []  # its own still unsaid
    assert got["result"]["void_pixels"] == 2 * (36 - 16)
