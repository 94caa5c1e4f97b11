"""Property-based tests (hypothesis): measurements, prompt parsing and the store round trip.

Examples are kept small and few (``max_examples`` 25-40) so the file runs in well under a
minute on two cores.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import ecoseg
from ecoseg.errors import CalibrationError, PromptError, StoreError
from ecoseg.prompts import Prompts
from ecoseg.store import ATTRS_KEY, MaskStore

SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
CLASSES = ("fish", "coral", "urchin")
SHAPE = ["frame", "class", "area_px", "perimeter_px", "major_axis_px", "minor_axis_px"]


@st.composite
def label_stacks(draw, max_frames=4, size=(20, 28)):
    """(labels (n, H, W) uint32 with ids 1..k, {id: class}); rectangles and discs."""
    h, w = size
    n = draw(st.integers(1, max_frames))
    k = draw(st.integers(1, 5))
    labels = np.zeros((n, h, w), np.uint32)
    yy, xx = np.mgrid[:h, :w]
    for t in range(n):
        for oid in range(1, k + 1):
            if not draw(st.booleans()):
                continue
            y0, x0 = draw(st.integers(1, h - 4)), draw(st.integers(1, w - 4))
            dy, dx = draw(st.integers(1, h - 1 - y0)), draw(st.integers(1, w - 1 - x0))
            if draw(st.booleans()):
                labels[t, y0 : y0 + dy, x0 : x0 + dx] = oid
            else:
                r = max(dy, dx) / 2
                labels[t][(yy - y0 - dy / 2) ** 2 + (xx - x0 - dx / 2) ** 2 <= r * r] = oid
    classes = {oid: draw(st.sampled_from(CLASSES)) for oid in range(1, k + 1)}
    return labels, classes


_stores = iter(range(10**9))


def measured(labels, classes, calibration=None):
    """``ecoseg.measure`` of an in-memory store holding ``labels``."""
    path = f"memory://reliability-prop-{next(_stores)}"
    objects = [(oid, cls, "truth") for oid, cls in sorted(classes.items())]
    with MaskStore.create(
        path, height=labels.shape[1], width=labels.shape[2], objects=objects
    ) as store:
        store.append(labels, 0.1 * np.arange(len(labels)))
        store.mark_complete()
    return ecoseg.measure(path, calibration=calibration)


def shape_rows(regions: pd.DataFrame) -> pd.DataFrame:
    return regions[SHAPE].sort_values(SHAPE).reset_index(drop=True)


@SETTINGS
@given(stack=label_stacks(), data=st.data())
def test_measurements_do_not_depend_on_id_values(stack, data):
    labels, classes = stack
    ids = sorted(classes)
    new_ids = data.draw(
        st.lists(st.integers(1, 2**32 - 1), min_size=len(ids), max_size=len(ids), unique=True)
    )
    mapping = dict(zip(ids, new_ids))
    lut = np.zeros(max(ids) + 1, np.uint32)
    for old, new in mapping.items():
        lut[old] = new
    relabelled = lut[labels]
    a = measured(labels, classes)
    b = measured(relabelled, {mapping[i]: c for i, c in classes.items()})
    pd.testing.assert_frame_equal(shape_rows(a["regions"]), shape_rows(b["regions"]))
    for name in ("counts", "maxn", "cover"):  # rows follow the object table: sort them
        by = ["class"] if name == "maxn" else ["frame", "class"]
        pd.testing.assert_frame_equal(
            a[name].sort_values(by).reset_index(drop=True),
            b[name].sort_values(by).reset_index(drop=True),
        )
    key = ["class", "frames_present", "path_length_px", "duration_s"]
    pd.testing.assert_frame_equal(
        a["tracks"][key].sort_values(key).reset_index(drop=True),
        b["tracks"][key].sort_values(key).reset_index(drop=True),
    )


@SETTINGS
@given(stack=label_stacks(), dx=st.integers(0, 9), dy=st.integers(0, 7))
def test_measurements_follow_a_translation(stack, dx, dy):
    labels, classes = stack
    n, h, w = labels.shape
    canvas = np.zeros((n, h + 8, w + 10), np.uint32)
    here = canvas.copy()
    here[:, 1 : h + 1, 1 : w + 1] = labels
    there = canvas.copy()
    there[:, 1 + dy : h + 1 + dy, 1 + dx : w + 1 + dx] = labels
    a, b = measured(here, classes), measured(there, classes)
    ra, rb = a["regions"], b["regions"]
    same = [c for c in ra.columns if not c.startswith(("centroid", "bbox"))]
    pd.testing.assert_frame_equal(ra[same], rb[same])
    np.testing.assert_allclose(rb["centroid_x_px"], ra["centroid_x_px"] + dx)
    np.testing.assert_allclose(rb["centroid_y_px"], ra["centroid_y_px"] + dy)
    np.testing.assert_array_equal(rb["bbox_x0"], ra["bbox_x0"] + dx)
    np.testing.assert_array_equal(rb["bbox_y1"], ra["bbox_y1"] + dy)
    for name in ("tracks", "counts", "maxn", "cover"):
        pd.testing.assert_frame_equal(a[name], b[name])


@SETTINGS
@given(
    stack=label_stacks(),
    scale=st.floats(1e-3, 100.0),
    factor=st.sampled_from([0.1, 0.5, 2.0, 3.0, 10.0]),
)
def test_calibrated_units_scale(stack, scale, factor):
    labels, classes = stack
    a = measured(labels, classes, calibration=scale)
    b = measured(labels, classes, calibration=scale * factor)
    ra, rb = a["regions"], b["regions"]
    np.testing.assert_allclose(ra["area_mm2"], ra["area_px"] * scale**2, rtol=1e-9)
    np.testing.assert_allclose(rb["area_mm2"], ra["area_mm2"] * factor**2, rtol=1e-9)
    for col in ("centroid_x_mm", "perimeter_mm", "major_axis_mm", "equivalent_diameter_mm"):
        np.testing.assert_allclose(rb[col], ra[col] * factor, rtol=1e-9, err_msg=col)
    ta, tb = a["tracks"], b["tracks"]
    for col in ("path_length_mm", "net_displacement_mm", "mean_speed_mm_s"):
        np.testing.assert_allclose(tb[col], ta[col] * factor, rtol=1e-9, err_msg=col)
    np.testing.assert_allclose(tb["mean_area_mm2"], ta["mean_area_mm2"] * factor**2, rtol=1e-9)
    np.testing.assert_allclose(b["cover"]["cover_mm2"], a["cover"]["cover_mm2"] * factor**2)
    pd.testing.assert_series_equal(a["cover"]["cover_fraction"], b["cover"]["cover_fraction"])
    pd.testing.assert_frame_equal(a["counts"], b["counts"])


# ----------------------------------------------------------------------------- prompts
W, H, N = 96, 64, 24
coords = st.tuples(st.floats(0, W, exclude_max=True), st.floats(0, H, exclude_max=True))


@st.composite
def prompt_docs(draw):
    objects = []
    for oid in draw(st.lists(st.integers(1, 2**32 - 1), min_size=1, max_size=4, unique=True)):
        frames = draw(st.lists(st.integers(0, N - 1), min_size=1, max_size=3, unique=True))
        prompts = []
        for frame in frames:
            entry = {"frame": frame}
            points = draw(st.lists(coords, max_size=3))
            if points:
                entry["points"] = [list(p) for p in points]
                entry["labels"] = draw(
                    st.lists(st.integers(0, 1), min_size=len(points), max_size=len(points))
                )
            if not points or draw(st.booleans()):
                x0, y0 = draw(coords)
                x1 = draw(st.floats(x0 + 0.5, x0 + 50))
                y1 = draw(st.floats(y0 + 0.5, y0 + 50))
                entry["box"] = [x0, y0, x1, y1]
            prompts.append(entry)
        objects.append({"id": oid, "class": draw(st.sampled_from(CLASSES)), "prompts": prompts})
    return {"objects": objects}


@SETTINGS
@given(doc=prompt_docs())
def test_valid_prompt_files_round_trip(doc, tmp_path_factory):
    path = tmp_path_factory.mktemp("p") / "prompts.json"
    path.write_text(json.dumps(doc))
    prompts = ecoseg.prompts.load_prompts(path).validate(W, H, N)
    again = Prompts.from_dict(json.loads(json.dumps(prompts.to_dict())))
    assert again.to_dict() == prompts.to_dict()
    assert prompts.object_ids == [o["id"] for o in doc["objects"]]
    assert prompts.frames() == sorted({p["frame"] for o in doc["objects"] for p in o["prompts"]})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
prompt_keys = st.sampled_from(
    ["objects", "id", "class", "prompts", "frame", "points", "labels", "box", "version", "x"]
)


@SETTINGS
@given(doc=prompt_docs(), data=st.data())
def test_damaged_prompt_documents_only_raise_prompt_error(doc, data):
    """Replace any value anywhere by junk: the result is valid or a PromptError, never a crash."""
    node, path = doc, []
    while isinstance(node, dict | list) and data.draw(st.booleans()):
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        if not keys:
            break
        path.append(data.draw(st.sampled_from(keys)))
        node = node[path[-1]]
    junk = data.draw(json_values | st.dictionaries(prompt_keys, json_values, max_size=3))
    if path:
        target = doc
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = junk
    else:
        doc = junk
    try:
        Prompts.from_dict(doc).validate(W, H, N)
    except PromptError as exc:
        assert "\n" not in str(exc)


@SETTINGS
@given(x=st.floats(allow_nan=True, allow_infinity=True), y=st.floats(-10, 100))
def test_points_are_accepted_exactly_inside_the_frame(x, y):
    doc = {"objects": [{"id": 1, "prompts": [{"frame": 0, "points": [[x, y]]}]}]}
    inside = math.isfinite(x) and 0 <= x < W and 0 <= y < H
    if inside:
        Prompts.from_dict(doc).validate(W, H, N)
    else:
        with pytest.raises(PromptError):
            Prompts.from_dict(doc).validate(W, H, N)


# ----------------------------------------------------------------------------- store
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stack=label_stacks(max_frames=40, size=(6, 9)),
    chunk=st.integers(1, 7),
    cuts=st.lists(st.integers(1, 39), max_size=4, unique=True),
    crash=st.integers(0, 40),
)
def test_store_round_trip_with_a_crash_and_resume(stack, chunk, cuts, crash):
    """Append in random pieces, lose the process at a random point (drop the store without
    closing it), resume: the store equals the frames given, exactly."""
    labels, classes = stack
    n = len(labels)
    times = np.cumsum(np.full(n, 1 / 30)) + 0.5
    objects = [(oid, cls, "truth") for oid, cls in sorted(classes.items())]
    pieces = np.split(np.arange(n), sorted(c for c in cuts if c < n))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.zarr"
        store = MaskStore.create(path, height=6, width=9, chunk_frames=chunk, objects=objects)
        for piece in pieces:
            if piece[0] >= crash:
                break
            store.append(labels[piece], times[piece])
        kept = store.n_frames  # committed: what survives a crash
        del store  # no close(): buffered frames are lost, the lock is released
        resumed = MaskStore.open(path, mode="a")
        assert resumed.n_frames == kept
        if kept < n:
            resumed.append(labels[kept:], times[kept:])
        resumed.mark_complete()
        resumed.close()
        back = MaskStore.open(path)
        np.testing.assert_array_equal(back.read_labels(), labels)
        np.testing.assert_array_equal(back.read_time(), times)
        assert back.complete and back.objects == [
            {"id": i, "class": c, "source": "truth"} for i, c, _ in objects
        ]
        ds = ecoseg.open_masks(path)
        np.testing.assert_array_equal(ds.labels.values, labels)


@settings(max_examples=40, deadline=None)
@given(
    key=st.sampled_from(
        ["version", "frames_written", "objects", "provenance", "calibration", "complete", "format"]
    ),
    value=json_values,
)
def test_damaged_store_attributes_only_raise_store_errors(key, value, clip):
    with tempfile.TemporaryDirectory() as folder:
        import shutil

        path = Path(folder) / "m.zarr"
        shutil.copytree(clip.truth, path)
        meta = path / "zarr.json"
        doc = json.loads(meta.read_text())
        doc["attributes"][ATTRS_KEY][key] = value
        try:
            meta.write_text(json.dumps(doc, allow_nan=True))
        except ValueError:
            assume(False)
        try:
            store = MaskStore.open(path)
            store.read_labels()
            ecoseg.measure(store)
        except (StoreError, CalibrationError) as exc:
            assert str(path) in str(exc) or key == "calibration"
