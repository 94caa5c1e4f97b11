"""Bad input to ``ecoseg.report(stores, out, tables=FOLDER)``: a folder of tables that
``ecoseg measure`` wrote for another store (or the tables ``ecoseg.measure`` returned for it),
or for the store as it was before it changed.

The folder was read as the stores' tables whatever store it recorded (``tables.json`` and
every table's ``attrs["store"]``): the page of ``site-B.zarr`` showed the counts and MaxN of
``site-A.zarr``. It is refused in one line naming both, before anything is written. Until
stop 59 a store recorded by a relative path was looked for from the current folder, so the
same folder read from another one was refused wrongly or taken wrongly; and tables of a store
edited (a class set, two tracks merged), calibrated or segmented again since were shown as
its numbers now.
"""

from __future__ import annotations

import json
import os
import shutil

import pytest

import ecoseg
from ecoseg.cli import main
from ecoseg.errors import ConfigError

pytestmark = pytest.mark.bad_input


@pytest.fixture
def two_sites(clip, tmp_path):
    """Two stores of the same name in two site folders, ``site-A``'s measured beside it."""
    a, b = tmp_path / "site-A" / "t.zarr", tmp_path / "site-B" / "t.zarr"
    shutil.copytree(clip.truth, a), shutil.copytree(clip.truth, b)
    assert main(["measure", str(a), "-o", str(a.parent / "tables"), "--quiet"]) == 0
    return a, b


@pytest.mark.parametrize("several", [False, True], ids=["one", "several"])
def test_tables_of_another_store_are_refused_naming_both(two_sites, tmp_path, several):
    a, b = two_sites
    stores = [b, b.with_name("u.zarr")] if several else b
    if several:
        shutil.copytree(b, b.with_name("u.zarr"))
    out = tmp_path / "r.html"
    with pytest.raises(ConfigError) as refused:
        ecoseg.report(stores, out, tables=a.parent / "tables")
    line = str(refused.value)
    assert "\n" not in line and line.startswith(f"report: tables: {a.parent / 'tables'}: ")
    assert f"measured from the store {a}, not " in line
    assert ("any of the 2 stores given" if several else f"not {b};") in line
    assert not out.exists()


def test_measured_tables_of_another_store_are_refused_naming_both(two_sites, tmp_path):
    """The mapping ``ecoseg.measure(a)`` returned, given for ``b``, was shown as ``b``'s."""
    a, b = two_sites
    out = tmp_path / "r.html"
    with pytest.raises(ConfigError) as refused:
        ecoseg.report(b, out, tables=ecoseg.measure(a))
    line = str(refused.value)
    assert "\n" not in line and line.startswith(f"report: tables: measured from the store {a}, ")
    assert f"not {b}; give the tables ecoseg.measure({b}) returned" in line
    assert not out.exists()


def test_measured_tables_of_the_store_and_hand_made_ones_are_taken(two_sites, tmp_path):
    a, _ = two_sites
    page = ecoseg.report(a, tmp_path / "r.html", tables=ecoseg.measure(a))
    assert page.read_text().startswith("<!DOCTYPE html>")
    made = {n: df.copy() for n, df in ecoseg.measure(a).items()}
    for df in made.values():
        df.attrs.clear()  # made by hand: records no store
    assert ecoseg.report(a, tmp_path / "s.html", tables=made).exists()


def _measure_from(folder, store, out) -> None:
    """``ecoseg measure STORE -o OUT`` run in ``folder`` (relative paths from there)."""
    here = os.getcwd()
    os.chdir(folder)
    try:
        assert main(["measure", str(store), "-o", str(out), "--quiet"]) == 0
    finally:
        os.chdir(here)


def test_a_relative_store_is_not_looked_for_from_the_current_folder(
    two_sites, tmp_path, monkeypatch
):
    """``cd site-A; ecoseg measure t.zarr -o tables``, then from ``site-B`` the report of its
    own ``t.zarr`` with ``../site-A/tables``: the recorded ``t.zarr`` was looked for from
    there, found ``site-B/t.zarr``, and the page showed site-A's numbers as site-B's."""
    a, b = two_sites
    _measure_from(a.parent, a.name, "tables-rel")
    monkeypatch.chdir(b.parent)
    with pytest.raises(ConfigError) as refused:
        ecoseg.report("t.zarr", tmp_path / "r.html", tables="../site-A/tables-rel")
    line = str(refused.value)
    assert "\n" not in line and line.startswith("report: tables: ../site-A/tables-rel: ")
    assert "measured from the store ../site-A/t.zarr, not t.zarr; " in line
    assert not (tmp_path / "r.html").exists()


def test_a_relative_store_is_found_from_another_current_folder(tmp_path, monkeypatch, clip):
    """``ecoseg measure a.zarr -o out/tables`` from the folder holding both, then the report
    from ``out`` (``../a.zarr``, ``tables``): ``a.zarr`` was looked for in ``out`` and the
    tables of the store were refused as another store's."""
    shutil.copytree(clip.truth, tmp_path / "a.zarr")
    _measure_from(tmp_path, "a.zarr", "out/tables")
    monkeypatch.chdir(tmp_path / "out")
    assert ecoseg.report("../a.zarr", "r.html", tables="tables").exists()


def test_a_store_and_its_tables_moved_together_still_go_together(tmp_path, clip):
    """The store at the top of a folder, its tables two folders down: moved whole, the
    tables are still the store's (its recorded path's last parts are under no folder above
    the tables)."""
    shutil.copytree(clip.truth, tmp_path / "old" / "a.zarr")
    _measure_from(tmp_path, tmp_path / "old" / "a.zarr", tmp_path / "old" / "out" / "tables")
    new = shutil.move(tmp_path / "old", tmp_path / "new")
    page = ecoseg.report(new / "a.zarr", tmp_path / "r.html", tables=new / "out" / "tables")
    assert page.exists()


def _edit(store, args):
    assert main(["edit", str(store), *args, "--quiet"]) == 0


def _segmented_again(store, _args):
    """Another run into the same place (here: another clip's store, as a run with other
    prompts or another model would leave it)."""
    other = ecoseg.synth(store.parent.parent / "other", seed=5, frames=store_frames(store))
    shutil.rmtree(store)
    shutil.copytree(other.truth, store)


def _calibrated(store, _args):
    """Measured again into another folder with another calibration (saved into the store)."""
    again = ["measure", str(store), "-o", str(store.parent / "t2"), "--calibration", "0.5"]
    assert main([*again, "--quiet"]) == 0


def store_frames(store) -> int:
    with ecoseg.MaskStore.open(store) as s:
        return s.n_frames


CHANGES = {
    "set-class": (_edit, ["--set-class", "1=wrasse"]),
    "merge": (_edit, ["--merge", "3,5"]),
    "calibrated": (_calibrated, []),
    "segmented-again": (_segmented_again, []),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_tables_of_the_store_before_it_changed_are_refused(two_sites, tmp_path, change):
    a, _ = two_sites
    folder = a.parent / "tables"
    do, args = CHANGES[change]
    do(a, args)
    out = tmp_path / "r.html"
    with pytest.raises(ConfigError) as refused:
        ecoseg.report(a, out, tables=folder)
    line = str(refused.value)
    assert "\n" not in line and line.startswith(f"report: tables: {folder}: ")
    assert f"measured from the store {a} as it was before it changed" in line
    assert f"measure it again (ecoseg measure {a} -o {folder} --overwrite)" in line
    assert not out.exists()
    assert main(["measure", str(a), "-o", str(folder), "--overwrite", "--quiet"]) == 0
    assert ecoseg.report(a, out, tables=folder).exists()  # measured again: taken


def test_tables_measure_returned_before_an_edit_are_refused(two_sites, tmp_path):
    a, _ = two_sites
    tables = ecoseg.measure(a)
    _edit(a, ["--merge", "3,5"])
    with pytest.raises(ConfigError) as refused:
        ecoseg.report(a, tmp_path / "r.html", tables=tables)
    line = str(refused.value)
    assert "\n" not in line and line.startswith(f"report: tables: measured from the store {a} ")
    assert f"measure it again (ecoseg.measure({a}))" in line


def test_an_older_ecosegs_tables_without_a_fingerprint_are_taken(two_sites, tmp_path):
    """Tables of an ecoseg before stop 59 record the store as given and no fingerprint: they
    are read as before (the store's content unchecked)."""
    a, _ = two_sites
    folder = a.parent / "tables"
    for parquet in folder.glob("*.parquet"):
        parquet.unlink()  # the CSVs, whose attrs tables.json keeps
    meta = json.loads((folder / "tables.json").read_text())
    new = ("store_location", "store_from_tables", "store_fingerprint")
    for record in [meta, *(t["attrs"] for t in meta["tables"].values())]:
        for key in new:
            del record[key]
    (folder / "tables.json").write_text(json.dumps(meta))
    _edit(a, ["--set-class", "1=wrasse"])
    assert ecoseg.report(a, tmp_path / "r.html", tables=folder).exists()
