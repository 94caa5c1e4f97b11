"""Bad input to ``ecoseg.report(stores, out, tables=FOLDER)``: a folder of tables that
``ecoseg measure`` wrote for another store (or the tables ``ecoseg.measure`` returned for it).

The folder was read as the stores' tables whatever store it recorded (``tables.json`` and
every table's ``attrs["store"]``): the page of ``site-B.zarr`` showed the counts and MaxN of
``site-A.zarr``. It is refused in one line naming both, before anything is written.
"""

from __future__ import annotations

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
