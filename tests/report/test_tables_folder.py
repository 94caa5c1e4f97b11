"""``ecoseg.report(stores, out, tables=FOLDER)``: the folder ``ecoseg measure -o DIR`` wrote is
read as the tables it holds (it was refused: "tables must be a dict of DataFrames")."""

from __future__ import annotations

import pytest

import ecoseg
from ecoseg.cli import main
from ecoseg.synth import synth


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    root = tmp_path_factory.mktemp("measured")
    clip = synth(root / "clip", frames=6, size=(96, 64), n_fish=3, n_invertebrates=1)
    assert main(["measure", str(clip.truth), "-o", str(root / "tables"), "--quiet"]) == 0
    return clip, root / "tables"


@pytest.mark.parametrize("as_text", [False, True], ids=["Path", "str"])
def test_a_folder_of_measure_tables_gives_the_page_of_the_tables(measured, tmp_path, as_text):
    clip, folder = measured
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    given = str(folder) if as_text else folder
    page = ecoseg.report(clip.truth, tmp_path / "a" / "r.html", tables=given)
    same = ecoseg.report(clip.truth, tmp_path / "b" / "r.html", tables=ecoseg.measure(clip.truth))
    assert page.read_bytes() == same.read_bytes()


def test_a_folder_of_csv_tables_alone_is_read_too(measured, tmp_path):
    clip, folder = measured
    csv = tmp_path / "csv"
    csv.mkdir()
    for f in folder.iterdir():
        if f.suffix != ".parquet":
            (csv / f.name).write_bytes(f.read_bytes())
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    page = ecoseg.report(clip.truth, tmp_path / "a" / "r.html", tables=csv)
    same = ecoseg.report(clip.truth, tmp_path / "b" / "r.html", tables=folder)
    assert page.read_bytes() == same.read_bytes()


def test_a_store_moved_or_copied_with_its_tables_is_still_theirs(tmp_path):
    """The tables record the store as ``ecoseg measure`` was given it; a store moved (or
    copied) together with its tables, or measured by a relative path from the folder that
    holds both, is the store they were measured from (tables of another store are refused:
    tests/reliability/test_bad_report_tables.py)."""
    import os
    import shutil

    clip = synth(tmp_path / "old" / "site-A", frames=4, size=(64, 48), n_fish=2)
    here = os.getcwd()
    os.chdir(clip.truth.parent)
    try:  # measured as `ecoseg measure truth.zarr -o tables` from the site's folder
        assert main(["measure", clip.truth.name, "-o", "tables", "--quiet"]) == 0
    finally:
        os.chdir(here)
    assert ecoseg.report(clip.truth, tmp_path / "r0.html", tables=clip.truth.parent / "tables")
    copied = shutil.copytree(clip.truth.parent, tmp_path / "copy" / "site-A")
    assert ecoseg.report(copied / "truth.zarr", tmp_path / "r1.html", tables=copied / "tables")
    root = tmp_path / "abs"  # measured by its absolute path, then moved whole
    shutil.copytree(clip.truth, root / "site-A" / "truth.zarr")
    tables = root / "site-A" / "tables"
    assert main(["measure", str(root / "site-A" / "truth.zarr"), "-o", str(tables), "--quiet"]) == 0
    moved = shutil.move(root, tmp_path / "moved")
    store = os.path.join(moved, "site-A", "truth.zarr")
    page = ecoseg.report(
        store, tmp_path / "r2.html", tables=os.path.join(moved, "site-A", "tables")
    )
    assert page.exists()
