"""Tests of ecoseg/store/view.py: open_masks, the lazy xarray view of a store."""

from __future__ import annotations

import numpy as np
import xarray as xr
import zarr
from store_helpers import (
    OBJECTS,
    H,
    W,
    frames,
    presence,
    times,
    write_store,
)

import ecoseg
from ecoseg.store import (
    STORE_VERSION,
    MaskStore,
    open_masks,
)


def test_round_trip_open_masks(tmp_path):
    path = tmp_path / "m.zarr"
    labels, ts = frames(9), times(9)
    write_store(path, labels, ts, chunk_frames=2, calibration={"mm_per_px": 0.25})
    ds = open_masks(path)
    assert isinstance(ds, xr.Dataset)
    assert dict(ds.labels.sizes) == {"t": 9, "y": H, "x": W}
    assert ds.labels.dims == ("t", "y", "x") and ds.scores.dims == ("t", "object")
    assert ds.labels.dtype == np.uint32 and ds.scores.dtype == np.float32
    assert not ds.labels.variable._in_memory  # lazy
    np.testing.assert_array_equal(ds.labels[4].values, labels[4])
    np.testing.assert_array_equal(ds.labels.values, labels)
    np.testing.assert_array_equal(ds.scores.values, presence(labels, [1, 4, 9]))
    np.testing.assert_array_equal(ds.t.values, np.arange(9))
    np.testing.assert_array_equal(ds.time.values, ts)
    assert ds.time.dims == ("t",) and ds.time.attrs["units"] == "s"
    np.testing.assert_array_equal(ds.object.values, [1, 4, 9])
    assert list(ds.object_class.values) == ["parrotfish", "wrasse", "sea_star"]
    assert list(ds.object_source.values) == ["prompt", "discovered", "truth"]
    assert ds.labels.attrs["units"] == "instance id" and ds.scores.attrs["units"] == "1"
    assert ds.attrs["calibration"] == {"mm_per_px": 0.25}
    assert ds.attrs["mm_per_px"] == 0.25
    assert ds.attrs["objects"] == OBJECTS
    assert ds.attrs["ecoseg_version"] == ecoseg.__version__
    assert ds.attrs["store_version"] == STORE_VERSION
    assert ds.attrs["provenance"] == {}
    # selecting by time works through the coordinate
    assert int(ds.labels.sel(t=3).max()) == int(labels[3].max())
    assert ecoseg.open_masks is open_masks


def test_open_masks_without_the_zarr_backend(tmp_path, monkeypatch):
    path = tmp_path / "m.zarr"
    labels, ts = frames(5), times(5)
    write_store(path, labels, ts)

    def refuse(*args, **kwargs):
        raise ValueError("backend unavailable")

    monkeypatch.setattr(xr, "open_dataset", refuse)
    ds = open_masks(path)
    assert not ds.labels.variable._in_memory
    np.testing.assert_array_equal(ds.labels[1:3].values, labels[1:3])
    np.testing.assert_array_equal(ds.time.values, ts)
    np.testing.assert_array_equal(ds.scores.values, presence(labels, [1, 4, 9]))


def test_arrays_of_different_lengths_past_the_marker_still_open(tmp_path):
    # a process killed between resizing `labels` and `time` leaves arrays of unequal length
    path = tmp_path / "torn.zarr"
    labels, ts = frames(6), times(6)
    with MaskStore.create(path, height=H, width=W, chunk_frames=2, objects=OBJECTS) as store:
        store.append(labels, ts)
    zarr.open_array(path / "time", mode="r+").resize((20,))
    zarr.open_array(path / "scores", mode="r+").resize((13, len(OBJECTS)))
    ds = open_masks(path)
    assert ds.sizes["t"] == 6
    np.testing.assert_array_equal(ds.labels.values, labels)
    np.testing.assert_array_equal(ds.time.values, ts)


def test_a_photo_survey_s_time_is_a_photograph_number_not_seconds(tmp_path):
    # its time coordinate said units "s", "frame time" of photographs 0, 1, ...
    video = {"path": "quadrats", "width": W, "height": H, "images": ["q1.jpg", "q2.jpg"]}
    with MaskStore.create(
        tmp_path / "s.zarr", height=H, width=W, objects=OBJECTS, provenance={"video": video}
    ) as s:
        s.append(frames(2), np.arange(2.0))
        s.mark_complete()
    assert open_masks(tmp_path / "s.zarr").time.attrs["units"] == "index"
    write_store(tmp_path / "v.zarr", frames(2), times(2))
    assert open_masks(tmp_path / "v.zarr").time.attrs["units"] == "s"
