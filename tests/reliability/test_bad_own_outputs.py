"""Bad input: a user's own file in an output folder, named like a file ecoseg writes there.

``ecoseg measure -o DIR --overwrite`` replaced a user's own ``counts.csv`` (or
``counts.parquet``, ``tables.json``), and without ``--overwrite`` said only ``already exists;
pass --overwrite``. Such a file is now refused even with ``--overwrite``, naming it and why;
an earlier run's tables are still replaced. ``ecoseg synth --overwrite`` likewise replaced a
user's own ``video.mp4``: refused now unless the ``truth.zarr`` beside it records its bytes.
The tables writer of a study (``write_table``) and a campaign's (``ecoseg.batch.write_tables``)
replaced such a file without a word: refused now, naming it, before any file is written.
"""

from __future__ import annotations

import pandas as pd
import pytest
from reliability_helpers import assert_one_line_error

pytestmark = pytest.mark.bad_input


@pytest.mark.parametrize("again", [[], ["--overwrite"]])
@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("counts.csv", "its first line is 'site,diver,count'"),
        ("tables.json", "no 'tables' key"),
        ("maxn.parquet", "its columns are 'site, maxn'"),
    ],
)
def test_measure_refuses_a_users_own_table(name, said, again, clip, tmp_path, cli):
    out = tmp_path / "tables"
    out.mkdir()
    mine = out / name
    if name.endswith(".parquet"):
        pd.DataFrame({"site": ["A"], "maxn": [3]}).to_parquet(mine)
    elif name.endswith(".json"):
        mine.write_text('{"site": "A"}\n')
    else:
        mine.write_text("site,diver,count\nA,Kim,3\n")
    before = mine.read_bytes()
    code, _, err = cli("measure", clip.truth, "-o", out, *again, "--quiet")
    line = assert_one_line_error(code, err, name, "not a table ecoseg measure wrote", said)
    assert "already exists" not in line and "refusing to replace it even with overwrite" in line
    assert mine.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [name]


def test_measure_still_replaces_its_own_tables(clip, tmp_path, cli):
    out = tmp_path / "tables"
    assert cli("measure", clip.truth, "-o", out, "--quiet")[0] == 0
    assert cli("measure", clip.truth, "-o", out, "--overwrite", "--quiet")[0] == 0


@pytest.mark.parametrize("again", [[], ["--overwrite"]])
def test_synth_refuses_a_users_own_video(again, tmp_path, cli):
    out = tmp_path / "clip"
    out.mkdir()
    mine = out / "video.mp4"
    mine.write_bytes(bytes(4) + b"ftypisom dive 3")
    code, _, err = cli("synth", "-o", out, "--frames", "3", "--size", "64x48", *again, "--quiet")
    line = assert_one_line_error(code, err, "video.mp4", "not a clip ecoseg synth wrote")
    assert "already exists" not in line
    assert mine.read_bytes() == bytes(4) + b"ftypisom dive 3"
    assert sorted(p.name for p in out.iterdir()) == ["video.mp4"]


def test_synth_still_replaces_its_own_clip(tmp_path, cli):
    args = ("synth", "-o", tmp_path / "clip", "--frames", "3", "--size", "64x48", "--quiet")
    assert cli(*args)[0] == 0
    assert cli(*args, "--overwrite")[0] == 0


@pytest.mark.parametrize("name", ["counts.csv", "counts.parquet"])
def test_write_table_refuses_a_users_own_table(name, tmp_path):
    from ecoseg.errors import ConfigError
    from ecoseg.measure.tables import write_table

    mine = tmp_path / name
    if name.endswith(".parquet"):
        pd.DataFrame({"site": ["A"], "count": [3]}).to_parquet(mine)
    else:
        mine.write_text("site,diver,count\nA,Kim,3\n")
    before = mine.read_bytes()
    table = pd.DataFrame({"video": ["reef-a"], "site": ["North"], "count": [4]})
    with pytest.raises(ConfigError) as err:
        write_table(table, tmp_path, "counts")
    assert str(err.value).startswith(f"{mine}: exists and is not a table ecoseg wrote (its ")
    assert "'video, site, ...'" in str(err.value) or "'video,site,...'" in str(err.value)
    assert "overwrite" not in str(err.value)  # an option write_table does not have
    assert mine.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # neither format written
    mine.unlink()
    write_table(table, tmp_path, "counts")  # its own files: replaced
    assert write_table(table.assign(count=5), tmp_path, "counts")


def test_write_table_refuses_a_table_with_no_columns(tmp_path):
    """A table with no columns checked nothing (no first columns to compare): a user's own
    ``counts.csv`` was replaced by it. Refused now, nothing written."""
    from ecoseg.errors import ConfigError
    from ecoseg.measure.tables import write_table

    mine = tmp_path / "counts.csv"
    mine.write_text("site,diver,count\nA,Kim,3\n")
    with pytest.raises(ConfigError) as err:
        write_table(pd.DataFrame(index=range(2)), tmp_path, "counts")
    assert (
        str(err.value) == f"{tmp_path / 'counts'}: table 'counts' has no columns; nothing written"
    )
    assert mine.read_text() == "site,diver,count\nA,Kim,3\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["counts.csv"]


def test_campaign_write_tables_refuses_a_users_own_table(tmp_path):
    from ecoseg.batch import write_tables
    from ecoseg.errors import ConfigError

    mine = tmp_path / "campaign-maxn.csv"
    mine.write_text("site,diver,maxn\nA,Kim,3\n")
    tables = {
        "counts": pd.DataFrame({"video": ["T1"], "count": [1]}),
        "maxn": pd.DataFrame({"video": ["T1"], "maxn": [2]}),
    }
    with pytest.raises(
        ConfigError, match="campaign-maxn.csv: exists and is not a table ecoseg batch wrote"
    ):
        write_tables(tables, tmp_path)
    assert mine.read_text() == "site,diver,maxn\nA,Kim,3\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["campaign-maxn.csv"]
    mine.unlink()
    assert len(write_tables(tables, tmp_path)) == len(write_tables(tables, tmp_path)) == 2


@pytest.fixture(params=["tables/tracks.csv", "tables/videos/reef/regions.parquet"], ids=str)
def own_table(request, clip, tmp_path, cli):
    """A study of ``clip`` run once (no report), then a user's own file put where it wrote a
    table (``request.param``, the table that is the user's own): the study file and that
    file's path."""
    study = tmp_path / "study.yaml"
    study.write_text(
        f"output: out\ndefaults:\n  engine: classical\n  params: {{warmup: 3, min_hits: 2}}\n"
        f"videos:\n  - path: {clip.video}\n    name: reef\n"
    )
    assert cli("study", study, "--quiet", "--no-report")[0] == 0
    mine = tmp_path / "out" / request.param
    if mine.suffix == ".csv":
        mine.write_text("site,diver,notes\nA,Kim,calm\n")
    else:
        pd.DataFrame({"site": ["A"], "area": [3.0]}).to_parquet(mine)
    return study, mine


def test_a_study_refuses_a_users_own_table_before_writing_any(own_table, tmp_path, cli):
    """A user's own ``tables/tracks.csv`` in a study's output was refused only once the
    combined tables before it by name (counts, cover, maxn, regions) were written again."""
    study, path = own_table
    before = path.read_bytes()

    def files():
        stats = ((p, p.stat()) for p in (tmp_path / "out").rglob("*") if p.is_file())
        return {p: (s.st_ino, s.st_mtime_ns, s.st_size) for p, s in stats}

    untouched = files()
    code, out, err = cli("study", study, "--quiet", "--no-report")
    line = assert_one_line_error(code, err, f"{path}: exists and is not a table ecoseg wrote (")
    assert line.endswith("; refusing to replace it (move it away or choose another output folder)")
    assert path.read_bytes() == before
    assert files() == untouched  # no table written again, nor the manifest


def test_study_check_refuses_a_users_own_table(own_table, cli):
    """``ecoseg study --check`` passed a study whose output holds a user's own
    ``tables/tracks.csv``, which the run then refused: it says the run's refusal now."""
    study, path = own_table
    code, out, err = cli("study", study, "--check")
    line = assert_one_line_error(code, err, f"{path}: exists and is not a table ecoseg wrote (")
    assert line.endswith("; refusing to replace it (move it away or choose another output folder)")
    path.unlink()
    assert cli("study", study, "--check")[0] == 0  # nothing else refused
