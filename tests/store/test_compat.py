"""Stores written by the old single-module ``ecoseg/store.py`` open and measure identically.

The stores and tables in ``tests/data/store_v0/`` were written before the store became a
package (see the README there); these tests read them with today's code.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import ecoseg
from ecoseg.store import MaskStore, open_masks

DATA = Path(__file__).resolve().parent.parent / "data" / "store_v0"
TABLES = ("regions", "tracks", "counts", "maxn", "cover")
NEW_COLUMNS = {"class_source", "class_probability"}  # species tables (issue 16)
SHA = "e579c02dd812b1a4a45aa3355984e104d04a803b92c63b33271be5e497333cd1"


def stored_meta(name: str) -> dict:
    """The store's raw ``ecoseg`` attributes, read from its zarr.json without ecoseg."""
    return json.loads((DATA / f"{name}.zarr" / "zarr.json").read_text())["attributes"]["ecoseg"]


def test_truth_store_opens_with_open_masks():
    ds = open_masks(DATA / "truth.zarr")
    assert dict(ds.labels.sizes) == {"t": 12, "y": 64, "x": 96}
    assert ds.object.values.tolist() == [1, 2, 3, 4]
    assert ds.object_class.values.tolist() == ["surgeonfish", "wrasse", "parrotfish", "sea_urchin"]
    assert ds.object_source.values.tolist() == ["truth"] * 4
    assert ds.attrs["complete"] is True
    assert ds.attrs["mm_per_px"] == pytest.approx(16.666666666666668)
    np.testing.assert_allclose(ds.time.values, np.arange(12) / 10.0)
    labels = ds.labels.values
    assert set(np.unique(labels)) == {0, 1, 2, 3, 4}
    assert (labels[:, :, :] == 2).any(axis=(1, 2)).tolist() == [False] * 11 + [True]


@pytest.mark.parametrize("name", ["truth", "classical"])
def test_provenance_and_objects_read_back(name):
    meta = stored_meta(name)
    store = MaskStore.open(DATA / f"{name}.zarr")
    assert store.provenance == meta["provenance"]
    assert store.objects == meta["objects"]
    assert store.calibration == meta["calibration"]
    assert store.n_frames == meta["frames_written"] == 12
    assert store.provenance["video"]["sha256"] == SHA
    ds = open_masks(store)
    assert ds.attrs["provenance"] == meta["provenance"]
    assert ds.attrs["objects"] == meta["objects"]


def test_classical_store_provenance_is_the_engines():
    store = MaskStore.open(DATA / "classical.zarr")
    prov = store.provenance
    assert prov["engine"] == "classical"
    assert prov["video"]["width"] == 96 and prov["video"]["height"] == 64
    assert prov["parameters"]["min_hits"] == 3
    assert store.objects == [{"id": 1, "class": "unknown", "source": "tracker"}]


def _is_real(column: pd.Series) -> bool:
    """Whether a column read as text holds real (not whole) numbers."""
    try:
        values = pd.to_numeric(column)
    except (ValueError, TypeError):
        return False
    return values.dtype.kind == "f" and column.str.contains(r"[.eE]|nan|inf", case=False).any()


@pytest.mark.parametrize("name", ["truth", "classical"])
def test_measuring_an_old_store_gives_the_stored_tables(name, tmp_path):
    out = tmp_path / name
    ecoseg.measure(DATA / f"{name}.zarr", out, formats=("csv",))
    for table in TABLES:
        # every column the old code wrote comes back: text and whole numbers identical, text
        # for text; real numbers to within float rounding (1e-12: another CPU's libm may round
        # the last digit of an angle otherwise); the only new columns are the species ones
        # (class_source, class_probability) added since
        read = dict(dtype=str, keep_default_na=False)
        want = pd.read_csv(DATA / "tables" / name / f"{table}.csv", **read)
        got = pd.read_csv(out / f"{table}.csv", **read)
        assert set(got.columns) - set(want.columns) <= NEW_COLUMNS, (name, table)
        got = got[list(want.columns)]
        real = [c for c in want.columns if _is_real(want[c])]
        pd.testing.assert_frame_equal(
            got.drop(columns=real), want.drop(columns=real), obj=f"{name} {table}"
        )
        for column in real:
            np.testing.assert_allclose(
                pd.to_numeric(got[column]).to_numpy(),
                pd.to_numeric(want[column]).to_numpy(),
                rtol=1e-12,
                atol=0,
                err_msg=f"{name} {table} {column}",
            )
    want = json.loads((DATA / "tables" / name / "tables.json").read_text())
    got = json.loads((out / "tables.json").read_text())
    # the store path is where it was measured from; new since: whether the store's run
    # finished, where it is from any folder and from the tables, and its content's fingerprint
    new = ("store_complete", "store_location", "store_from_tables", "store_fingerprint")
    for record in (want, got):
        record.pop("store")
        for info in [record, *(info["attrs"] for info in record["tables"].values())]:
            for key in ("store", *new):
                info.pop(key, None)
        for info in record["tables"].values():
            info.pop("dtypes", None)  # new since: the column types (a CSV of no rows has none)
            for column in NEW_COLUMNS:  # the species columns' units are new
                info.get("units", {}).pop(column, None)
    assert got == want


def test_old_codec_settings_read_alongside_new_ones(tmp_path):
    """Stores keep their Blosc settings in the array metadata: the shipped stores (level 2)
    read as before, and a store written now (level 1) reads back the same labels."""
    meta = json.loads((DATA / "truth.zarr" / "labels" / "zarr.json").read_text())
    blosc = [c for c in meta["codecs"] if c["name"] == "blosc"][0]["configuration"]
    assert blosc["cname"] == "zstd" and blosc["clevel"] == 2
    old = open_masks(DATA / "truth.zarr").labels.values
    with MaskStore.create(
        tmp_path / "new.zarr",
        height=old.shape[1],
        width=old.shape[2],
        objects=[(i, "fish", "truth") for i in (1, 2, 3, 4)],
    ) as s:
        s.append(old, np.arange(len(old)) / 10.0)
    new_meta = json.loads((tmp_path / "new.zarr" / "labels" / "zarr.json").read_text())
    new_blosc = [c for c in new_meta["codecs"] if c["name"] == "blosc"][0]["configuration"]
    assert new_blosc["clevel"] == 1
    np.testing.assert_array_equal(open_masks(tmp_path / "new.zarr").labels.values, old)


def test_old_store_resumes_with_its_own_codec(tmp_path):
    """Appending to a shipped store (its 2 MiB Blosc blocks are not whole frames: zarr writes
    the chunks) keeps its codec settings and its frames."""
    import shutil

    path = tmp_path / "truth.zarr"
    shutil.copytree(DATA / "truth.zarr", path)
    before = json.loads((path / "labels" / "zarr.json").read_text())["codecs"]
    old = open_masks(path).labels.values
    more = old[::-1].copy()
    with MaskStore.open(path, mode="a") as store:
        store.append(more[:5], 1.2 + np.arange(5) / 10.0)
        store.flush()  # a partial chunk on disk, completed below
        store.append(more[5:], 1.7 + np.arange(7) / 10.0)
    assert json.loads((path / "labels" / "zarr.json").read_text())["codecs"] == before
    np.testing.assert_array_equal(MaskStore.open(path).read_labels(), np.concatenate([old, more]))
