"""``measure`` against a plain reference on many small random stores.

The reference below is written for reading, not speed: a loop over frames and objects, the
textbook definitions (``skimage.measure.regionprops`` for the shapes of one object's mask,
``numpy.nonzero`` for pixel counts and centroids), and the conventions of ``docs/tables.md``
spelled out once more. Every table of :func:`ecoseg.measure` is compared with it on stores
drawn by hypothesis: ids far apart (1 and 2**31, 2**32 - 1), class names with spaces and
accents, empty frames, objects on the image border, objects that leave and come back,
variable frame times, a calibration or none, a region of interest, annotated frames, and the
store chunked 1, 3 or many frames at a time.
"""

from __future__ import annotations

import itertools
import math
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from skimage.measure import regionprops

from ecoseg.errors import StoreError
from ecoseg.measure import measure, read_table
from ecoseg.measure.tables import write_table
from ecoseg.store import MaskStore

IDS = (1, 2, 3, 40, 2**31, 2**32 - 1)
CLASSES = ("fish", "sea  urchin", "O\u0304taki wrasse", "unknown", "Crab")
CLEAN = {"sea  urchin": "sea urchin", "O\u0304taki wrasse": "\u014ctaki wrasse"}
SHAPE_COLUMNS = {  # ours -> regionprops
    "perimeter_px": "perimeter",
    "equivalent_diameter_px": "equivalent_diameter_area",
    "major_axis_px": "axis_major_length",
    "minor_axis_px": "axis_minor_length",
    "orientation_rad": "orientation",
    "eccentricity": "eccentricity",
    "solidity": "solidity",
}
_names = itertools.count()


# --------------------------------------------------------------------------- random stores
@st.composite
def cases(draw):
    n = draw(st.integers(1, 7))
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    ids = draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=4, unique=True))
    objects = []
    for oid in ids:
        obj = {"id": oid, "class": draw(st.sampled_from(CLASSES))}
        obj["source"] = draw(st.sampled_from(["prompt", "concept", "discovered"]))
        if obj["class"] != "unknown" and draw(st.booleans()):
            obj.update(class_source="classified", class_probability=draw(st.floats(0.5, 1)))
        objects.append(obj)
    pick = arrays(np.int64, (n, h, w), elements=st.integers(0, len(ids)))
    index = draw(pick)
    labels = np.array([0, *ids], dtype=np.uint32)[index]
    empty = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    labels[np.array(empty)] = 0  # frames with nothing in them
    steps = draw(st.lists(st.floats(0.001, 3.0), min_size=n, max_size=n))
    times = np.cumsum(steps) - steps[0] + draw(st.sampled_from([0.0, 12.5]))
    annotated = None
    if draw(st.booleans()):
        annotated = {"start": draw(st.integers(0, n - 1)), "step": draw(st.integers(1, 3))}
        if draw(st.booleans()):
            annotated["count"] = draw(st.integers(1, n))  # one of no frame is refused
        grid = range(n)[annotated["start"] :: annotated["step"]][: annotated.get("count")]
        if len(grid) > 1 and draw(st.booleans()):
            annotated["deleted"] = [draw(st.sampled_from(grid))]  # deleted in CVAT
        keep = np.zeros(n, bool)
        keep[[f for f in grid if f not in annotated.get("deleted", [])]] = True
        labels[~keep] = 0  # nobody looked at the other frames
    calibration = draw(
        st.sampled_from([None, {"mm_per_px": 0.37, "method": "scale"}, "scale-bar", "lasers"])
    )
    if calibration == "scale-bar":
        x0, x1 = draw(st.integers(0, w - 1)), draw(st.integers(0, w - 1))
        y1 = draw(st.integers(0, h - 1))
        calibration = f"scale-bar:{x0},0,{x1},{y1},{draw(st.sampled_from([7.0, 120.0]))}"
        if x0 == x1 and y1 == 0:
            calibration = None
    elif calibration == "lasers":
        calibration = f"lasers:0,0,{w - 1},{h - 1},0,{h - 1},{w - 1},0,10"
        if w == h == 1:
            calibration = None
    roi = draw(st.sampled_from([None, "mask", "polygon"]))
    if roi == "mask":
        roi = draw(arrays(bool, (h, w)))
        if not roi.any():
            roi = None
    elif roi == "polygon":
        roi = draw(convex_polygons(h, w))
        if np.asarray(roi).shape == (h, w) and (np.asarray(roi) % 1 == 0).all():
            roi = [*roi, roi[0]]  # as a mask or as vertices alike: closed, it is vertices
        if not polygon_mask(roi, h, w).any():
            roi = None
    scored = draw(st.booleans())
    scores = None
    if scored:
        scores = draw(arrays(np.float32, (n, len(ids)), elements=st.floats(0, 1, width=32)))
    return {
        "labels": labels,
        "times": times,
        "objects": objects,
        "annotated": annotated,
        "calibration": calibration,
        "roi": roi,
        "scores": scores,
    }


@st.composite
def convex_polygons(draw, h, w):
    """A convex polygon with vertices on the half-pixel grid, some on pixel centres (x, y)."""
    xs = st.integers(-2, 2 * w + 1).map(lambda v: v / 2)
    ys = st.integers(-2, 2 * h + 1).map(lambda v: v / 2)
    points = np.array(draw(st.lists(st.tuples(xs, ys), min_size=3, max_size=6, unique=True)))
    centre = points.mean(axis=0)
    points = points[np.argsort(np.arctan2(*(points - centre).T[::-1]))]
    hull = [tuple(p) for p in points if _corner(points, p)]
    area = sum(a[0] * b[1] - b[0] * a[1] for a, b in zip(hull, hull[1:] + hull[:1]))
    if len(hull) < 3 or area == 0 or not _convex(hull):
        return [(0.0, 0.0), (w - 0.5, 0.0), (0.0, h - 0.5)]  # never degenerate (w = 1)
    return hull


def _cross(o, a, b):
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _corner(points, p):
    i = next(k for k, q in enumerate(points) if tuple(q) == tuple(p))
    return _cross(points[i - 1], p, points[(i + 1) % len(points)]) != 0


def _convex(hull):
    turns = [_cross(hull[i - 2], hull[i - 1], hull[i]) for i in range(len(hull))]
    return all(t > 0 for t in turns) or all(t < 0 for t in turns)


def polygon_mask(polygon, h, w):
    """Pixel centres inside or on the polygon (docs/tables.md, cover), one by one."""
    inside = np.zeros((h, w), bool)
    edges = list(zip(polygon, polygon[1:] + polygon[:1]))
    for y in range(h):
        for x in range(w):
            on_edge = any(
                _cross(a, b, (x, y)) == 0
                and min(a[0], b[0]) <= x <= max(a[0], b[0])
                and min(a[1], b[1]) <= y <= max(a[1], b[1])
                for a, b in edges
            )
            turns = [_cross(a, b, (x, y)) for a, b in edges]
            inside[y, x] = on_edge or all(t > 0 for t in turns) or all(t < 0 for t in turns)
    return inside


def make_store(case, chunk_frames):
    n, h, w = case["labels"].shape
    path = f"memory://reference-{next(_names)}"
    provenance = {"annotated_frames": case["annotated"]} if case["annotated"] else None
    store = MaskStore.create(
        path,
        height=h,
        width=w,
        chunk_frames=chunk_frames,
        objects=case["objects"],
        provenance=provenance,
    )
    store.append(case["labels"], case["times"], scores=case["scores"])
    store.mark_complete()
    store.close()
    return path


def run_measure(case, chunk_frames, read_frames=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'sea urchin' beside 'Crab' etc. are not errors here
        return measure(
            make_store(case, chunk_frames),
            calibration=case["calibration"],
            roi=case["roi"],
            chunk_frames=read_frames,
        )


# --------------------------------------------------------------------------- reference
def mm_per_px(spec):
    """mm per pixel, by the definitions of docs/tables.md ('Calibration')."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        return spec["mm_per_px"]
    kind, values = spec.split(":")
    v = [float(x) for x in values.split(",")]
    if kind == "scale-bar":
        return v[4] / math.dist(v[0:2], v[2:4])
    pairs = [math.dist(v[i : i + 2], v[i + 2 : i + 4]) for i in range(0, len(v) - 1, 4)]
    return v[-1] / (sum(pairs) / len(pairs))


def class_of(case):
    return {o["id"]: CLEAN.get(o["class"], o["class"]) for o in case["objects"]}


def class_source(obj):
    """docs/tables.md, regions: where the class came from."""
    if obj["class"] == "unknown":
        return "unknown"
    if "class_source" in obj:
        return obj["class_source"]
    return {"concept": "concept", "discovered": "rule"}.get(obj["source"], "prompt")


def class_probability(obj):
    """The classifier's probability, 1 when a person named it, NaN when nothing says."""
    if "class_probability" in obj:
        return obj["class_probability"]
    return 1.0 if class_source(obj) == "prompt" else np.nan


def class_rows(case):
    """Every class of the object table in table order, ``unknown`` last."""
    order = list(dict.fromkeys(class_of(case).values()))
    return [c for c in order if c != "unknown"] + [c for c in order if c == "unknown"]


def observed(case):
    n = len(case["times"])
    a = case["annotated"]
    if a is None:
        return list(range(n))
    grid = range(n)[a["start"] :: a["step"]][: a.get("count")]
    return [f for f in grid if f not in a.get("deleted", [])]


def reference_regions(case):
    labels, times, mm = case["labels"], case["times"], mm_per_px(case["calibration"])
    ids = [o["id"] for o in case["objects"]]
    rows = []
    for f, frame in enumerate(labels):
        for oid in sorted(int(v) for v in np.unique(frame) if v):
            mask = frame == oid
            ys, xs = np.nonzero(mask)
            (props,) = regionprops(mask.astype(np.uint8))
            row = {
                "frame": f,
                "time_s": times[f],
                "object_id": oid,
                "class": class_of(case)[oid],
                "class_source": class_source(case["objects"][ids.index(oid)]),
                "class_probability": class_probability(case["objects"][ids.index(oid)]),
                "score": 1.0 if case["scores"] is None else case["scores"][f, ids.index(oid)],
                "area_px": len(xs),
                "centroid_x_px": xs.mean(),  # pixel centres at integer positions
                "centroid_y_px": ys.mean(),
                "bbox_x0": xs.min(),
                "bbox_y0": ys.min(),
                "bbox_x1": xs.max() + 1,  # one past the last column: half-open
                "bbox_y1": ys.max() + 1,
            }
            row.update({ours: getattr(props, theirs) for ours, theirs in SHAPE_COLUMNS.items()})
            if mm is not None:
                row["area_mm2"] = len(xs) * mm * mm
                row["centroid_x_mm"] = row["centroid_x_px"] * mm
                row["centroid_y_mm"] = row["centroid_y_px"] * mm
                row["perimeter_mm"] = row["perimeter_px"] * mm
                for length in ("equivalent_diameter", "major_axis", "minor_axis"):
                    row[f"{length}_mm"] = row[f"{length}_px"] * mm
            rows.append(row)
    return rows


def reference_tracks(regions, mm):
    by_id = {}
    for row in regions:
        by_id.setdefault(row["object_id"], []).append(row)
    out = []
    for oid in sorted(by_id):
        rows = sorted(by_id[oid], key=lambda r: r["frame"])
        path, speeds = 0.0, []
        for a, b in zip(rows, rows[1:]):  # a gap is bridged by a straight line
            step = math.hypot(
                b["centroid_x_px"] - a["centroid_x_px"], b["centroid_y_px"] - a["centroid_y_px"]
            )
            path += step
            speeds.append(step / (b["time_s"] - a["time_s"]))
        first, last = rows[0], rows[-1]
        duration = last["time_s"] - first["time_s"]
        net = math.hypot(
            last["centroid_x_px"] - first["centroid_x_px"],
            last["centroid_y_px"] - first["centroid_y_px"],
        )
        t = {
            "object_id": oid,
            "class": first["class"],
            "class_source": first["class_source"],
            "class_probability": first["class_probability"],
            "first_frame": first["frame"],
            "last_frame": last["frame"],
            "first_time_s": first["time_s"],
            "last_time_s": last["time_s"],
            "duration_s": duration,
            "frames_present": len(rows),
            "path_length_px": path,
            "net_displacement_px": net,
            "mean_speed_px_s": path / duration if duration > 0 else np.nan,
            "max_speed_px_s": max(speeds) if speeds else np.nan,
            "straightness": net / path if path > 0 else np.nan,
            "mean_area_px": sum(r["area_px"] for r in rows) / len(rows),
        }
        if mm is not None:
            t["path_length_mm"] = path * mm
            t["net_displacement_mm"] = net * mm
            t["mean_speed_mm_s"] = t["mean_speed_px_s"] * mm
            t["max_speed_mm_s"] = t["max_speed_px_s"] * mm
            t["mean_area_mm2"] = t["mean_area_px"] * mm * mm
        out.append(t)
    return out


def reference_counts(case):
    classes, cls = class_rows(case), class_of(case)
    rows = []
    for f in observed(case):
        present = [int(v) for v in np.unique(case["labels"][f]) if v]
        for c in classes:
            n = sum(1 for oid in present if cls[oid] == c)
            rows.append({"frame": f, "time_s": case["times"][f], "class": c, "count": n})
    return rows


def reference_maxn(counts, classes):
    out = []
    for c in classes:
        rows = [r for r in counts if r["class"] == c]  # in frame order
        best = max((r["count"] for r in rows), default=0)
        first = next((r for r in rows if r["count"] == best), None) if best else None
        out.append(
            {
                "class": c,
                "maxn": best,
                "frame": first["frame"] if first else pd.NA,
                "time_s": first["time_s"] if first else np.nan,
            }
        )
    return out


def reference_cover(case):
    classes, cls = class_rows(case), class_of(case)
    n, h, w = case["labels"].shape
    inside = case["roi"]
    if inside is None:
        inside = np.ones((h, w), bool)
    elif isinstance(inside, list):
        inside = polygon_mask(inside, h, w)
    mm = mm_per_px(case["calibration"])
    rows = []
    for f in observed(case):
        for c in classes:
            px = 0
            for y in range(h):
                for x in range(w):
                    oid = int(case["labels"][f, y, x])
                    px += bool(oid and inside[y, x] and cls[oid] == c)
            row = {"frame": f, "time_s": case["times"][f], "class": c, "cover_px": px}
            row["cover_fraction"] = px / inside.sum()
            if mm is not None:
                row["cover_mm2"] = px * mm * mm
            rows.append(row)
    return rows


def assert_rows(table: pd.DataFrame, expected: list[dict], name: str):
    assert len(table) == len(expected), name
    if expected:  # every column of the table is checked
        assert list(table.columns) == list(expected[0]), name
    for i, want in enumerate(expected):
        got = table.iloc[i]
        for col, value in want.items():
            have = got[col]
            where = f"{name} row {i} {col}: {have!r} != {value!r}"
            if isinstance(value, str) or value is pd.NA:
                assert have is value or have == value, where
            elif col in ("minor_axis_px", "minor_axis_mm", "eccentricity"):
                # regionprops takes sqrt of eigenvalue rounding noise where ours is exactly 0
                assert have == pytest.approx(value, rel=1e-9, abs=1e-6), where
            elif isinstance(value, float) and math.isnan(value):
                assert math.isnan(have), where
            else:
                assert have == pytest.approx(value, rel=1e-9, abs=1e-12), where


SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --------------------------------------------------------------------------- tests
@SETTINGS
@given(case=cases(), chunk=st.sampled_from([1, 3, 100]))
def test_every_table_equals_the_plain_reference(case, chunk):
    tables = run_measure(case, chunk)
    mm = mm_per_px(case["calibration"])
    regions = reference_regions(case)
    assert_rows(tables["regions"], regions, "regions")
    mm_columns = [c for c in tables["regions"].columns if c.endswith(("_mm", "_mm2"))]
    assert bool(mm_columns) == (mm is not None)
    assert_rows(tables["tracks"], reference_tracks(regions, mm), "tracks")
    counts = reference_counts(case)
    assert_rows(tables["counts"], counts, "counts")
    assert_rows(tables["maxn"], reference_maxn(counts, class_rows(case)), "maxn")
    assert_rows(tables["cover"], reference_cover(case), "cover")


@SETTINGS
@given(case=cases())
def test_tables_do_not_depend_on_how_the_store_is_chunked_or_read(case):
    runs = [run_measure(case, 1), run_measure(case, 3), run_measure(case, 100, read_frames=2)]
    for other in runs[1:]:
        for name, df in runs[0].items():
            pd.testing.assert_frame_equal(other[name], df, check_exact=True, obj=name)


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases())
def test_table_files_read_back_exactly(case):
    # Parquet and CSV: the numbers an ecologist publishes are those measure returned, to the bit
    tables = run_measure(case, 3)
    with tempfile.TemporaryDirectory() as folder:
        for name, df in tables.items():
            write_table(df, folder, name)
            for fmt in ("parquet", "csv"):
                back = read_table(Path(folder) / f"{name}.{fmt}")
                pd.testing.assert_frame_equal(
                    back, df, check_exact=True, check_dtype=False, obj=f"{name}.{fmt}"
                )


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(case=cases(), data=st.data())
def test_measuring_some_classes_gives_their_rows_of_every_table(case, data):
    names = sorted({o["class"] for o in case["objects"]})  # as a user types them
    some = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    chosen = [CLEAN.get(c, c) for c in some]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = measure(
            make_store(case, 3), calibration=case["calibration"], roi=case["roi"], classes=some
        )
    regions = [r for r in reference_regions(case) if r["class"] in chosen]
    assert_rows(tables["regions"], regions, "regions")
    mm = mm_per_px(case["calibration"])
    assert_rows(tables["tracks"], reference_tracks(regions, mm), "tracks")

    def only(rows):  # the rows of the chosen classes, in the order they were asked for
        return sorted(
            (r for r in rows if r["class"] in chosen),
            key=lambda r: (r.get("frame", 0), chosen.index(r["class"])),
        )

    counts = only(reference_counts(case))
    assert_rows(tables["counts"], counts, "counts")
    maxn = reference_maxn(counts, chosen)
    assert_rows(tables["maxn"], maxn, "maxn")
    assert_rows(tables["cover"], only(reference_cover(case)), "cover")


def test_a_store_of_no_objects_counts_zero_of_unknown_with_the_columns_of_one_with_animals():
    # nothing named, nothing found: it looked for any animal and saw none, so counts, cover
    # and MaxN have rows of 0 of `unknown` (the video counts as a 0, not as missing);
    # regions and tracks have no row
    case = {
        "labels": np.zeros((3, 4, 5), np.uint32),
        "times": np.array([0.0, 0.04, 0.1]),
        "objects": [],
        "annotated": None,
        "calibration": {"mm_per_px": 0.37, "method": "scale"},
        "roi": None,
        "scores": None,
    }
    empty = run_measure(case, 3)
    case["labels"][1, 0, 0] = 7
    case["objects"] = [{"id": 7, "class": "fish", "source": "prompt"}]
    one = run_measure(case, 3)
    for name, df in empty.items():
        assert len(df) == {"counts": 3, "cover": 3, "maxn": 1}.get(name, 0), name
        assert dict(df.dtypes) == dict(one[name].dtypes), name
    assert empty["maxn"][["class", "maxn"]].values.tolist() == [["unknown", 0]]
    assert empty["counts"]["count"].tolist() == [0, 0, 0]
    assert one["maxn"]["maxn"].tolist() == [1]


@pytest.mark.parametrize("entry", [{"count": 0}, {"count": 1, "deleted": [0]}])
def test_an_annotation_of_no_frames_is_refused(entry):
    # nobody looked at any frame: no count or MaxN of 0, and no tables without rows that
    # would drop the video from a study unsaid (docs/tables.md)
    case = {
        "labels": np.zeros((3, 2, 2), np.uint32),
        "times": np.array([0.0, 0.5, 1.0]),
        "objects": [{"id": 1, "class": "fish", "source": "prompt"}],
        "annotated": {"start": 0, "step": 1, **entry},
        "calibration": None,
        "roi": None,
        "scores": None,
    }
    with pytest.raises(StoreError, match="annotated_frames .* covers none of its 3 frames"):
        run_measure(case, 3)
