"""Study entries whose videos share a file name in several folders (a GoPro campaign has
``GX010001.MP4`` at every site): named after their folders, as ``ecoseg batch`` names their
stores (ecoseg.study._across.default_names), and a store made under the file's own name is
never left unused without a word (ecoseg.study.moved.check_renamed)."""

from __future__ import annotations

import re

import pytest
from study_helpers import refusal, study_text

import ecoseg
from ecoseg.batch.names import check_names
from ecoseg.errors import ConfigError
from ecoseg.study import load_study, run_study

SITES = "- path: site-a/GX1.mp4\n  site: a\n- path: site-b/GX1.mp4\n  site: b\n"


@pytest.fixture
def field(tmp_path):
    """Two clips of one file name in two site folders and a study file of them."""
    for seed, site in enumerate(("site-a", "site-b"), start=1):
        clip = ecoseg.synth(tmp_path / site, frames=5, size=(64, 48), seed=seed)
        clip.video.rename(tmp_path / site / "GX1.mp4")
    top = "defaults:\n  engine: classical\n"
    (tmp_path / "study.yaml").write_text(study_text(SITES, top))
    return tmp_path


def test_videos_sharing_a_file_name_are_named_as_batch_names_their_stores(field):
    """Two entries of site-a/GX1.mp4 and site-b/GX1.mp4 were refused ('duplicate video name
    GX1; give each video a unique `name:`'), where `ecoseg batch` of the same two videos
    makes site-a__GX1.zarr and site-b__GX1.zarr. Now the study names them alike: both
    stores made, nothing overwritten, and the tables say which site each row is from."""
    study = load_study(field / "study.yaml")
    videos = [str(field / "site-a" / "GX1.mp4"), str(field / "site-b" / "GX1.mp4")]
    assert [v.name for v in study.videos] == check_names(videos) == ["site-a__GX1", "site-b__GX1"]
    result = run_study(field / "study.yaml", progress=False, report=False)
    stores = field / "out" / "stores"
    assert sorted(p.name for p in stores.iterdir()) == ["site-a__GX1.zarr", "site-b__GX1.zarr"]
    for site, name in (("site-a", "site-a__GX1"), ("site-b", "site-b__GX1")):
        made = ecoseg.open_masks(stores / f"{name}.zarr").attrs["provenance"]["video"]
        assert made["path"].endswith(f"{site}/GX1.mp4")
    maxn = result.load_tables()["maxn"]
    assert set(zip(maxn["video"], maxn["site"])) == {("site-a__GX1", "a"), ("site-b__GX1", "b")}


@pytest.mark.parametrize(
    ("videos", "names"),
    [
        # a name written on one: the other is still named after its folder
        ("- path: site-a/GX1.mp4\n  name: GX1\n- path: site-b/GX1.mp4\n", ["GX1", "site-b__GX1"]),
        # another name written on one: no clash, both named as before
        ("- path: site-a/GX1.mp4\n  name: north\n- path: site-b/GX1.mp4\n", ["north", "GX1"]),
        # a file name used once keeps its stem
        ("- path: site-a/GX1.mp4\n- path: site-b/T2.mp4\n", ["GX1", "T2"]),
    ],
)
def test_a_written_name_and_a_single_file_name_are_kept(tmp_path, videos, names):
    (tmp_path / "study.yaml").write_text(study_text(videos))
    study = load_study(tmp_path / "study.yaml", require_videos=False)
    assert [v.name for v in study.videos] == names


def test_one_video_listed_twice_still_needs_its_names(tmp_path):
    """Two engines compared on one video: one file, one folder, so the file name cannot tell
    the entries apart; the study file must name them, as before."""
    text = study_text("- path: v.mp4\n  engine: classical\n- path: v.mp4\n  auto: true\n")
    assert "duplicate video name 'v' (also videos[0]); give each video a unique" in refusal(
        tmp_path, text
    )


def test_a_store_made_under_the_file_name_is_not_left_unused(field, capsys):
    """A study of site-a alone made stores/GX1.zarr; adding site-b/GX1.mp4 names site-a's
    entry site-a__GX1, which would segment it anew and leave GX1.zarr, with any review made
    in it, unused. The run and `study --check` refuse that in one line naming the `name:` that
    keeps it; written, the run keeps the store and makes site-b's."""
    from ecoseg.cli import main

    path = field / "study.yaml"
    text = path.read_text()
    path.write_text(text.split("  - path: site-b")[0])
    run_study(path, progress=False, report=False)
    assert (field / "out" / "stores" / "GX1.zarr").exists()
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        run_study(path, progress=False, report=False)
    message = str(info.value)
    assert message.startswith(
        f"{path}: line 6: videos[0] (site-a__GX1): this study made the store of this video "
        f"under the name 'GX1' ({field / 'out' / 'stores' / 'GX1.zarr'}), which no entry has now"
    )
    assert "write `name: GX1` on this entry to keep that store" in message and "\n" not in message
    capsys.readouterr()
    assert main(["study", str(path), "--check"]) == 2
    assert capsys.readouterr().err.strip() == f"ecoseg: error: {message}"
    assert sorted(p.name for p in (field / "out" / "stores").iterdir()) == ["GX1.zarr"]

    path.write_text(text.replace("    site: a\n", "    site: a\n    name: GX1\n"))
    result = run_study(path, progress=False, report=False)
    assert result.segmented == ["site-b__GX1"]  # GX1 kept, unchanged


@pytest.mark.parametrize("change", ["site-b removed", "site-b moved"])
def test_an_entry_renamed_by_another_change_keeps_its_store_or_says_so(field, change):
    """Entries named after their files change name with the study file: removing site-b
    names site-a's entry GX1, and moving site-b's folder into archive/ names it
    archive__site-b__GX1. Either segmented that video anew under the new name, leaving the
    old store unused without a word."""
    path = field / "study.yaml"
    text = path.read_text()
    run_study(path, progress=False, report=False)
    if change == "site-b removed":
        path.write_text(text.split("  - path: site-b")[0])
        entry, old = "videos[0] (GX1)", "site-a__GX1"
    else:
        (field / "archive").mkdir()
        (field / "site-b").rename(field / "archive" / "site-b")
        path.write_text(text.replace("path: site-b/", "path: archive/site-b/"))
        entry, old = "videos[1] (archive__site-b__GX1)", "site-b__GX1"
    with pytest.raises(ConfigError, match=rf": {re.escape(entry)}: this study made the store"):
        run_study(path, progress=False, report=False)
    with pytest.raises(ConfigError, match=f"write `name: {old}` on this entry"):
        run_study(path, progress=False, report=False)
    assert sorted(p.name for p in (field / "out" / "stores").iterdir()) == [
        "site-a__GX1.zarr",
        "site-b__GX1.zarr",
    ]


def test_a_new_video_of_a_removed_entrys_file_name_is_segmented(field):
    """Another video under a file name whose entry was removed (other bytes than that
    store's): nothing to keep, it is segmented under its own name."""
    path = field / "study.yaml"
    text = path.read_text()
    run_study(path, progress=False, report=False)
    ecoseg.synth(field / "new", frames=5, size=(64, 48), seed=9).video.rename(
        field / "new" / "GX1.mp4"
    )
    path.write_text(text.split("  - path: site-b")[0].replace("site-a/", "new/"))
    assert run_study(path, progress=False, report=False).segmented == ["GX1"]
