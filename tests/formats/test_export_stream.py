"""Exports that stream: coco, mot, mots, viame and davis are written frame by frame while the
store is read chunk by chunk, so their memory does not grow with the video's length; their
files are the same bytes the whole-store writers wrote.

Old code: ``export`` read every mask of the store into :class:`Annotations` first (compressed
RLE per object and frame, about 11-19 kB per frame on a 320x180 store of 7.5 objects, see
docs/scale.md), so an hour of video took gigabytes before the writer started."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
import warnings

import numpy as np
import pandas as pd
import pytest
from formats_helpers import make_store

from ecoseg.errors import FormatError
from ecoseg.formats import coco, export, format_module, mot, mots, viame
from ecoseg.formats._annotated import annotated_range
from ecoseg.formats._stores import read_store
from ecoseg.store import MaskStore

STREAMED = ("coco", "mot", "mots", "viame", "davis")


def moving_store(path, frames: int) -> str:
    """``frames`` frames of 12x16 with five small objects that move, each on every frame."""
    lab = np.zeros((frames, 12, 16), np.uint32)
    for t in range(frames):
        for k in range(1, 6):
            x = (t * k) % 12
            lab[t, 2 * k - 1 : 2 * k + 1, x : x + 4] = k
    objects = [{"id": k, "class": f"sp{k % 2}", "source": "truth"} for k in range(1, 6)]
    with MaskStore.create(path, height=12, width=16, objects=objects, chunk_frames=8) as st:
        st.append(lab, np.arange(frames) / 30.0)
        st.mark_complete()
    return str(path)


def export_peak(store, fmt, out) -> int:
    """Peak bytes Python allocates while ``store`` is exported (after one warm-up export).

    Warnings are filtered as in a script (``default``: each one once per line), not recorded
    one by one as pytest does: pycocotools' DeprecationWarning on every decoded mask (DAVIS)
    would otherwise fill pytest's list with one record per frame, which is no export's memory.
    """
    export(store, fmt, out.with_name(out.name + "-warm"))
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        tracemalloc.start()
        try:
            export(store, fmt, out)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.parametrize("fmt", STREAMED)
def test_export_memory_does_not_grow_with_the_frames(tmp_path, fmt):
    """Old code: 4 times the frames took 3.3 to 3.9 times the memory (every mask held before
    writing); streamed, 1.0 to 1.3 times (the frame times and the write buffers)."""
    short = export_peak(moving_store(tmp_path / "short.zarr", 100), fmt, tmp_path / "short")
    long = export_peak(moving_store(tmp_path / "long.zarr", 400), fmt, tmp_path / "long")
    assert long < 2 * short, f"{fmt}: {short} bytes for 100 frames, {long} for 400"


def rich_store(path, provenance=None, keep=None) -> str:
    """Objects with gaps, classes that CSV must quote, non-ASCII, per-frame scores, an object
    with no mask, chunks that do not divide the frames (masks on the frames ``keep`` only)."""
    t_, h, w = 23, 10, 14
    lab = np.zeros((t_, h, w), np.uint32)
    for t in range(t_):
        if t % 5 != 2:
            lab[t, 1:4, t % 8 : t % 8 + 5] = 3
        if 4 <= t < 12 or t > 18:
            lab[t, 5:9, 2:7] = 12
        if t % 2:
            lab[t, 6:10, 9:13] = 200
    objects = [
        {"id": 3, "class": "parrotfish", "source": "truth"},
        {
            "id": 12,
            "class": 'reef, "odd" Ōtaki',
            "source": "truth",
            "class_probability": 0.8,
            "class_source": "classified",
        },
        {"id": 200, "class": "parrotfish", "source": "truth"},
        {"id": 9, "class": "never seen", "source": "truth"},
    ]
    if keep is not None:
        lab[[t for t in range(t_) if t not in keep]] = 0
    scores = np.random.default_rng(1).random((t_, 4)).astype(np.float32)
    prov = dict(provenance or {})
    with MaskStore.create(
        path, height=h, width=w, objects=objects, chunk_frames=3, provenance=prov
    ) as st:
        st.append(lab, np.arange(t_) / 29.97 + 0.25, scores)
        st.mark_complete()
    return str(path)


def coco_dict(ann) -> dict:
    """The COCO document of ``ann`` built whole (the writer's code before exports streamed;
    with each object's class probability since stop 57, its class source since stop 58)."""
    cats = coco.categories(ann)
    classes = ann.class_of()
    tracks = {t.id: t for t in ann.tracks}
    return {
        "info": coco.info(ann),
        "licenses": [],
        "images": [coco.image(ann, t) for t in annotated_range(ann) or range(ann.n_frames)],
        "categories": coco.category_list(cats),
        "annotations": [
            coco.annotation(inst, k + 1, cats[classes[inst.track]], tracks[inst.track])
            for k, inst in enumerate(ann.instances)
        ],
    }


def old_text(fmt: str, ann, **options) -> str:
    """The file the whole-store writers wrote before exports streamed (their code)."""
    if fmt == "coco":
        return json.dumps(coco_dict(ann), separators=(",", ":")) + "\n"
    if fmt == "mot":
        return pd.DataFrame(mot.rows(ann)).map(mot._fmt).to_csv(header=False, index=False)
    if fmt == "mots":
        cats, classes = mots.class_ids(ann), ann.class_of()
        rows = [
            [i.frame + 1, i.track, cats[classes[i.track]], ann.height, ann.width, i.rle["counts"]]
            for i in ann.instances
        ]
        return pd.DataFrame(rows).to_csv(sep=" ", header=False, index=False)
    meta = ["# metadata", f"Fps: {options['fps']:g}", f'exported_by: "ecoseg {viame.__version__}"']
    data = io.StringIO()  # rows of their own lengths: a DataFrame pads the short ones
    csv.writer(data, lineterminator="\n").writerows(viame.rows(ann, polygons=options["polygons"]))
    return (
        viame.HEADER
        + "\n"
        + pd.DataFrame([meta]).to_csv(header=False, index=False)
        + data.getvalue()
    )


@pytest.mark.parametrize(
    ("fmt", "polygons"),
    [("coco", False), ("mot", False), ("mots", False), ("viame", False), ("viame", True)],
)
def test_streamed_files_are_the_whole_store_writers_bytes(tmp_path, monkeypatch, fmt, polygons):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # the same 'created' stamp
    store = rich_store(tmp_path / "rich.zarr", {"video": {"fps": 29.97}})
    out = export(store, fmt, tmp_path / f"out.{fmt}", polygons=polygons)
    ann = read_store(store)
    options = {"polygons": polygons, "fps": 29.97}
    with open(out, encoding="utf-8", newline="") as fh:
        text = fh.read()
    assert text == old_text(fmt, ann, **options)
    if fmt == "coco":  # a reader sees the same document
        assert json.loads(text) == json.loads(json.dumps(coco_dict(ann)))


@pytest.mark.parametrize("fmt", ["coco", "ytvis", "mot", "mots", "cvat", "viame", "davis"])
@pytest.mark.parametrize("grid", [None, {"start": 1, "step": 3, "count": 7, "deleted": [4]}])
def test_export_writes_what_the_format_writes_of_the_whole_store(tmp_path, monkeypatch, fmt, grid):
    """An export (streamed or not) and the format's ``write`` of :func:`read_store` agree,
    also on a store that annotates every 3rd frame less one deleted in CVAT."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    keep = None if grid is None else [t for t in range(1, 23, 3)[:7] if t != 4]
    store = rich_store(tmp_path / "rich.zarr", {"annotated_frames": grid} if grid else {}, keep)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what the formats cannot list: tested elsewhere
        out = export(store, fmt, tmp_path / f"out-{fmt}")
        ann = read_store(store)
        format_module(fmt).write(ann, tmp_path / f"whole-{fmt}")
    if fmt == "davis":
        files = sorted(p.name for p in (tmp_path / f"whole-{fmt}").iterdir())
        assert sorted(p.name for p in (tmp_path / f"out-{fmt}").iterdir()) == files
        for name in files:
            assert (tmp_path / f"out-{fmt}" / name).read_bytes() == (
                tmp_path / f"whole-{fmt}" / name
            ).read_bytes()
    else:
        assert (tmp_path / f"out-{fmt}").read_bytes() == (tmp_path / f"whole-{fmt}").read_bytes()
    assert out


def test_a_refusal_found_late_leaves_the_earlier_file(tmp_path):
    """VIAME names the lowest object whose class it cannot hold, which a streamed export may
    meet on the last frame only: the half-written file is discarded, the earlier one kept."""
    lab = np.zeros((9, 6, 8), np.uint32)
    lab[:, 0:2, 0:2] = 5  # '(odd' on every frame
    lab[8, 3:5, 3:5] = 2  # '(also' on the last frame only: the lowest id
    store = make_store(lab, classes={5: "(odd", 2: "(also"})
    earlier = tmp_path / "boxes.csv"
    earlier.write_text("keep me\n")
    with pytest.raises(FormatError, match=r"object 2: class '\(also' starts with"):
        export(store, "viame", earlier, overwrite=True)
    assert earlier.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["boxes.csv"]


def test_coco_written_in_batches_is_one_document(tmp_path, monkeypatch):
    """More annotations than one encoded batch (256): the batches join into the same bytes."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    store = moving_store(tmp_path / "m.zarr", 60)  # 300 annotations
    out = export(store, "coco", tmp_path / "m.json")
    with open(out, encoding="utf-8", newline="") as fh:
        assert fh.read() == old_text("coco", read_store(store))
