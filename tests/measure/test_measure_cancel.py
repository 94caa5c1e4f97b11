"""``measure(..., cancel=)``: a set cancel stops before the next chunk of masks, not at the
end; no table is written and no calibration saved, and the same call again writes the tables
of an uninterrupted call."""

from __future__ import annotations

import pandas as pd
import pytest
from suite_helpers import labels_store

from ecoseg.errors import Cancelled
from ecoseg.measure import TABLES, measure
from ecoseg.store import MaskStore


def _store(path):
    """Twelve frames of one moving square, four frames a chunk."""
    import numpy as np

    labels = np.zeros((12, 16, 24), np.uint32)
    for t in range(12):
        labels[t, 2:8, 1 + t : 7 + t] = 1
    labels_store(path, labels, chunk_frames=4)
    return path


def test_a_set_cancel_stops_measure_before_its_next_chunk_and_writes_nothing(tmp_path):
    store = _store(tmp_path / "m.zarr")
    looks = []

    def cancel():  # set after the first chunk was measured: a stop button, no timing
        looks.append(1)
        return len(looks) > 1

    with pytest.raises(Cancelled) as info:
        measure(store, tmp_path / "tables", calibration=0.5, cancel=cancel)
    assert str(info.value) == (
        f"{store}: cancelled while measuring its masks (frame 4 of 12); nothing was written, "
        "the same call again starts it anew"
    )
    assert len(looks) == 2  # once a chunk, stopped at the second of three
    assert not (tmp_path / "tables").exists() or not any((tmp_path / "tables").iterdir())
    with MaskStore.open(store) as s:
        assert not s.calibration  # saved only with the tables

    tables = measure(store, tmp_path / "tables", calibration=0.5, cancel=lambda: False)
    whole = measure(_store(tmp_path / "w.zarr"), tmp_path / "whole", calibration=0.5)
    for name in TABLES:
        pd.testing.assert_frame_equal(tables[name], whole[name], check_like=True)
        pd.testing.assert_frame_equal(
            pd.read_parquet(tmp_path / "tables" / f"{name}.parquet"),
            pd.read_parquet(tmp_path / "whole" / f"{name}.parquet"),
        )
