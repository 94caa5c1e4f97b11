"""Bad input to a measure into a folder that already holds tables.

A wrong calibration was refused only after the tables already there: ``ecoseg measure STORE -o
tables --calibration 0.00001`` said ``tables/regions.parquet: already exists; pass --overwrite
to replace it``, and only the run with ``--overwrite`` named the calibration. It is now named
first (``--overwrite`` would not help), and the tables are left as they were.
"""

from __future__ import annotations

import pytest
from reliability_helpers import assert_one_line_error

pytestmark = pytest.mark.bad_input


@pytest.mark.parametrize(
    ("spec", "said"),
    [("0.00001", "plausible range"), ("-1", "positive"), ("scale-bar:1,2,3", "5 numbers")],
)
def test_a_wrong_calibration_is_said_before_the_tables_there(spec, said, clip, tmp_path, cli):
    out = tmp_path / "tables"
    assert cli("measure", clip.truth, "-o", out, "--quiet")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, _, err = cli("measure", clip.truth, "-o", out, "--calibration", spec, "--quiet")
    line = assert_one_line_error(code, err, f"calibration '{spec}'", said)
    assert "already exists" not in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_damaged_store_is_said_before_the_tables_there(clip, tmp_path, cli):
    """The store is checked before the tables folder: a damaged store into a folder that
    already holds tables said ``tables/regions.parquet: already exists; pass --overwrite``,
    and only once that was fixed that the store was damaged."""
    out = tmp_path / "tables"
    assert cli("measure", clip.truth, "-o", out, "--quiet")[0] == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    damaged = tmp_path / "T1.zarr"
    damaged.mkdir()
    (damaged / "zarr.json").write_text('{"zarr_format": 3, "node_type": ')
    code, _, err = cli("measure", damaged, "-o", out, "--quiet")
    # the store's own words: "damaged" alone is in the path (test_a_damaged_store_...)
    line = assert_one_line_error(code, err, f"{damaged}: a damaged store", status=None)
    assert "already exists" not in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
