"""A user's round trip through every format: store -> file -> store against the video.

The store has what footage gives: several classes (one named with a macron), objects that
enter, leave and come back, a frame with no animal, a one-pixel object, one that touches
both edges, a non-square frame, variable frame times (the video's PTS) and a score per
object and frame. Each format must give back what its caveats in docs/formats.md say it
keeps: the labels exactly (box formats: these objects are boxes), the classes where it has
names, the video's times and, where it has them, the scores.
"""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest

import ecoseg
from ecoseg.formats import export, import_annotations
from ecoseg.store import MaskStore

W, H = 64, 40
PTS_MS = [0, 33, 50, 120, 200, 210, 400, 433, 466, 700, 733, 766]  # variable frame rate
CLASSES = {1: "Ōtaki wrasse", 2: "damselfish", 3: "crab", 4: "damselfish", 5: "sea star"}
# what each format keeps: (classes, scores) as docs/formats.md's table says
KEEPS = {
    "coco": (True, True),
    "ytvis": (True, True),
    "mot": (False, True),
    "mots": (False, False),
    "cvat": (True, True),
    "viame": (True, True),
    "davis": (False, False),
}


def _labels() -> np.ndarray:
    lab = np.zeros((len(PTS_MS), H, W), np.uint32)
    for t in range(len(PTS_MS)):
        if t == 5:
            continue  # no animal on this frame
        if t < 8:
            lab[t, 2:10, 3 + t : 12 + t] = 1  # leaves after frame 7
        if t >= 3:
            lab[t, 20:30, 30 : 40 + t] = 2  # enters on frame 3
        if 1 <= t <= 9 and t != 4:
            lab[t, 12:18, 50:60] = 3  # gone on frame 4, back on 6
        if t >= 10:
            lab[t, 0, 0] = 4  # one pixel, in the corner
        if t in (2, 6):
            lab[t, 30:40, :] = 5  # touches both sides and the bottom
    return lab


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """(video path, store path, labels, times, scores) of a 12-frame VFR clip's store."""
    import av

    folder = tmp_path_factory.mktemp("walk")
    video = folder / "vfr.mp4"
    with av.open(str(video), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = W, H, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 1000)
        for i, pts in enumerate(PTS_MS):
            image = np.full((H, W, 3), 10 * i, np.uint8)
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = pts, Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    times = np.array([f.time for f in ecoseg.open_video(str(video))])
    labels = _labels()
    rng = np.random.default_rng(0)
    present = np.stack([(labels == k).any(axis=(1, 2)) for k in CLASSES], axis=1)
    scores = np.where(present, rng.uniform(0.2, 1.0, present.shape), 0).astype(np.float32)
    objects = [{"id": i, "class": c, "source": "truth"} for i, c in CLASSES.items()]
    store = folder / "src.zarr"
    with MaskStore.create(str(store), height=H, width=W, objects=objects) as s:
        s.append(labels, times, scores)
        s.mark_complete()
    return video, store, labels, times, scores


@pytest.mark.parametrize("fmt", list(KEEPS))
def test_a_round_trip_gives_back_what_the_format_keeps(footage, tmp_path, fmt):
    video, store, labels, times, scores = footage
    assert len(np.unique(np.diff(times).round(3))) > 2  # the times really vary
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about in a whole, complete store
        warnings.filterwarnings("ignore", category=DeprecationWarning)  # pycocotools' numpy
        path = export(store, fmt, tmp_path / f"out-{fmt}")
        aligns = ["index", "time"] if fmt in ("coco", "ytvis", "viame") else ["index"]
        for align in aligns:
            back = import_annotations(path, fmt, video, tmp_path / f"{align}.zarr", align=align)
            ds = ecoseg.open_masks(back)
            np.testing.assert_array_equal(ds["labels"].values, labels)
            np.testing.assert_array_equal(ds["time"].values, times)
            ids = ds["object"].values.tolist()
            assert ids == list(CLASSES)
            keeps_classes, keeps_scores = KEEPS[fmt]
            if keeps_classes:
                assert ds["object_class"].values.tolist() == list(CLASSES.values())
            if keeps_scores:
                np.testing.assert_array_equal(ds["scores"].values, scores)
