"""ecoseg._paths: checks of outputs and of files a user names, one place under two names, paths
shown relative (a store's video: test_store_video.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ecoseg._paths import (
    check_checkpoint,
    check_distinct_stores,
    check_file,
    check_out_parent,
    check_outside_store,
    check_overwrite,
    is_within,
    read_file_bytes,
    read_file_text,
    relpath,
    same_location,
)
from ecoseg.errors import ConfigError, PromptError, StoreError


def test_relpath_for_display():
    assert relpath("/a/b/c.zarr", "/a") == "b/c.zarr"
    assert relpath("rel/c.zarr", "/a") == "rel/c.zarr"


def test_check_overwrite_keeps_the_callers_error_class(tmp_path):
    existing = tmp_path / "a.zarr"
    existing.mkdir()
    with pytest.raises(StoreError, match=r"a\.zarr: already exists; pass overwrite=True"):
        check_overwrite(existing, False, error=StoreError)
    check_overwrite(existing, True, error=StoreError)
    check_overwrite("s3://bucket/a.zarr", False)  # a URL: its store checks it
    with pytest.raises(ConfigError, match="already exists"):
        check_overwrite(tmp_path / "new", False, exists=True)  # the caller decides (demo)


def test_check_out_parent_names_a_file_on_the_way_and_a_folder_without_permission(
    tmp_path, monkeypatch
):
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    with pytest.raises(ConfigError, match=r"notes\.txt is a file, not a folder \(-o\)"):
        check_out_parent(notes / "a" / "b.csv", "-o")
    check_out_parent(tmp_path / "new" / "deeper" / "b.csv")  # folders to be made: fine
    check_out_parent("s3://bucket/out")
    # tests run as root here, where every folder is writable: stand in for a read-only one
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    with pytest.raises(ConfigError, match=f"no permission to create files in {tmp_path}"):
        check_out_parent(tmp_path / "new" / "b.csv")


@pytest.mark.parametrize(
    "model, hint",
    [
        (None, "`ecoseg weights download MODEL` fetches the official weights into"),
        ("sam2.1-large", "`ecoseg weights download sam2.1-large` fetches"),
        ("sam3", "`ecoseg weights download sam3` fetches the official weights (gated: your own"),
    ],
)
def test_a_missing_checkpoint_says_how_to_get_the_weights(tmp_path, model, hint):
    """Old message: 'w.pt: checkpoint file not found' and no word of `ecoseg weights`."""
    with pytest.raises(ConfigError, match=r"^\S*w\.pt: checkpoint file not found; ") as caught:
        check_checkpoint(tmp_path / "w.pt", model)
    assert hint in str(caught.value) and "\n" not in str(caught.value)


def test_a_folder_given_as_checkpoint_is_named_a_folder(tmp_path):
    """Old messages: 'weights: checkpoint file not found' of a folder that exists, then 'is a
    folder, not a checkpoint file' without the word of `ecoseg weights` a missing file has."""
    (tmp_path / "weights").mkdir()
    with pytest.raises(
        ConfigError, match=r"^\S*weights: is a folder, not a checkpoint file; "
    ) as caught:
        check_checkpoint(tmp_path / "weights", "sam2.1-tiny")
    assert "`ecoseg weights download sam2.1-tiny` fetches the official weights" in str(caught.value)


def test_check_file_names_a_folder_and_a_missing_file_in_one_wording(tmp_path, monkeypatch):
    """The one check of a file the user names to be read (prompt, study, checkpoint and
    annotation files): a folder is named a folder, with the format; nothing there, not found."""
    monkeypatch.chdir(tmp_path)
    Path("north.json").write_text("{}")
    Path("prompts").mkdir()
    assert check_file("north.json", "prompt file", kind="JSON") == Path("north.json")
    with pytest.raises(PromptError, match=r"^prompts: is a folder, not a prompt file \(JSON\)$"):
        check_file("prompts", "prompt file", kind="JSON", error=PromptError)
    with pytest.raises(ConfigError, match=r"^south\.json: prompt file not found$"):
        check_file("south.json", "prompt file", kind="JSON")
    # the path as the user wrote it, not as resolved against the study's folder
    with pytest.raises(ConfigError, match=r"^model: is a folder, not a species model file$"):
        check_file(tmp_path / "prompts", "species model file", shown="model")


def test_check_file_ends_either_message_with_a_hint(tmp_path, monkeypatch):
    """What the option takes, after the one wording (``--params``' settings file kept its own
    copy of the check for that hint)."""
    monkeypatch.chdir(tmp_path)
    Path("settings").mkdir()
    hint = " (--params takes a JSON object or a .json file)"
    with pytest.raises(ConfigError) as exc:
        check_file("settings", "settings file", kind="JSON", hint=hint)
    assert str(exc.value) == f"settings: is a folder, not a settings file (JSON){hint}"
    with pytest.raises(ConfigError) as exc:
        check_file("s.json", "settings file", kind="JSON", hint=hint)
    assert str(exc.value) == f"s.json: settings file not found{hint}"


@pytest.mark.parametrize("command", ["demo", "study", "batch", "measure", "synth"])
def test_a_file_where_a_command_writes_a_folder_is_one_line_and_kept(command, tmp_path, capsys):
    """``--out notes.txt`` of a command that writes a folder: demo, study and batch ended in
    ``ecoseg: error: [Errno 20] Not a directory`` (or ``[Errno 17] File exists``) with exit
    status 1; every such command now says it as measure and synth did, and the file stays.
    (measure checks its store first: it is given one.)"""
    from ecoseg.cli import main

    notes = tmp_path / "notes.txt"
    notes.write_text("site A")
    video = tmp_path / "T1.mp4"
    video.write_bytes(b"")
    study = tmp_path / "study.yaml"
    study.write_text("name: s\nvideos:\n  - path: T1.mp4\n")
    args = {
        "demo": ["demo", "--out", notes],
        "study": ["study", study, "-o", notes, "--quiet"],
        "batch": ["batch", video, "-o", notes, "--quiet"],
        "measure": ["measure", tmp_path / "clip" / "truth.zarr", "-o", notes],
        "synth": ["synth", "-o", notes],
    }[command]
    if command == "measure":
        import ecoseg

        ecoseg.synth(tmp_path / "clip", frames=3, size=(96, 64), seed=1)
        capsys.readouterr()
    assert main([str(a) for a in args]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"ecoseg: error: {notes}: exists and is not a folder"
    assert notes.read_text() == "site A"


def test_the_one_reader_gives_bytes_or_text_as_path_read_text_does(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"a: 1\r\nb: \xc3\xa9\rc: 3\n")
    assert read_file_text(path, "study file") == path.read_text(encoding="utf-8")
    assert read_file_bytes(path, "study file") == path.read_bytes()
    assert read_file_bytes(path, "study file", limit=4) == b"a: 1"


def test_a_read_failure_is_one_line_in_the_callers_error(tmp_path, monkeypatch):
    path = tmp_path / "m.json"
    path.write_text("{}")

    def fails(self, *args, **kwargs):
        raise OSError(5, "Input/output\n  error")

    monkeypatch.setattr(Path, "open", fails)
    with pytest.raises(PromptError) as info:
        read_file_bytes(path, "prompt file", error=PromptError, shown="m.json")
    assert str(info.value) == "m.json: cannot be read: Input/output error"


def test_store_names_and_class_names_are_compared_by_distinct_rules():
    """Two functions were both called name_key: one for store (file) names, one for class
    names, which also collapses spaces. A file system keeps spaces ("T1  a" and "T1 a" are two
    folders) but a species table does not: the names now say which rule each is."""
    from ecoseg._paths import folder_key
    from ecoseg.provenance import class_key

    assert folder_key("North-T1") == folder_key("north-T1") == folder_key("NORTH-T1")
    assert folder_key("Re\u0301cif") == folder_key("R\u00e9cif")
    assert folder_key("T1  a") != folder_key("T1 a")
    assert class_key("Sea  Urchin ") == class_key("sea urchin") == class_key("SEA\u00a0urchin")
    assert class_key("Re\u0301cif") == class_key("r\u00e9cif")


def test_same_location_is_samefile_where_both_are_there_and_the_path_where_not(tmp_path):
    """One answer to "is this the same store?" (four places had four rules): the same files
    under another name are one store (a link, a hard link, another spelling, a file:// URL);
    a copy, and a URL spelled otherwise, are not; a zarr Store object is itself only."""
    import shutil

    from zarr.storage import MemoryStore

    folder = tmp_path / "a.zarr"
    folder.mkdir()
    (tmp_path / "link.zarr").symlink_to(folder)
    zipped = tmp_path / "a.zip"
    zipped.write_bytes(b"PK")
    os.link(zipped, tmp_path / "hard.zip")  # caught only by samefile: resolve() keeps both
    shutil.copytree(folder, tmp_path / "copy.zarr")
    assert same_location(folder, tmp_path / "link.zarr")
    assert same_location(zipped, tmp_path / "hard.zip")
    assert same_location(folder, f"{tmp_path}/./a.zarr")
    assert same_location(folder, folder.as_uri())
    assert not same_location(folder, tmp_path / "copy.zarr")
    assert same_location(tmp_path / "new.zarr", tmp_path / "x" / ".." / "new.zarr")  # not there
    assert not same_location(folder, tmp_path / "new.zarr")
    assert same_location("s3://b/a.zarr", "s3://b/a.zarr")
    assert not same_location("s3://b/a.zarr", "s3://b/./a.zarr")  # a URL: as written
    memory = MemoryStore()
    assert same_location(memory, memory) and not same_location(memory, MemoryStore())


@pytest.mark.parametrize("twice", ["hard-link", "file-url", "store-object"])
def test_check_distinct_stores_refuses_the_same_files_under_another_name(twice, tmp_path):
    """It compared resolved paths: a zip store under two hard links (a bind mount, a
    case-insensitive disk's other spelling) or given once as a file:// URL, and one zarr Store
    object given twice, passed as two stores (classify classified it twice, the report showed
    it twice)."""
    from zarr.storage import MemoryStore

    zipped = tmp_path / "a.zip"
    zipped.write_bytes(b"PK")
    os.link(zipped, tmp_path / "b.zip")
    first, again = {
        "hard-link": (zipped, tmp_path / "b.zip"),
        "file-url": (zipped, zipped.as_uri()),
        "store-object": (MemoryStore(),) * 2,
    }[twice]
    with pytest.raises(ConfigError, match="classify: .*: the same store is given twice"):
        check_distinct_stores([first, again], "classify")
    check_distinct_stores([first, tmp_path / "other.zip", MemoryStore()], "classify")


def test_an_output_that_is_the_store_under_another_name_is_refused(tmp_path):
    """check_outside_store compared resolved paths, which tell a hard link of a zip store (one
    file under two names) from the store: a report over it was told to pass --overwrite. It
    asks as same_location asks (a link, a hard link, A.zarr on a case-insensitive disk)."""
    zipped = tmp_path / "a.zip"
    zipped.write_bytes(b"PK\x03\x04 not really a store")
    os.link(zipped, tmp_path / "hard.html")
    with pytest.raises(ConfigError, match=r"hard.html: is the mask store .*a.zip that the comm"):
        check_outside_store(tmp_path / "hard.html", zipped)
    folder = tmp_path / "T1.zarr"
    folder.mkdir()
    (tmp_path / "link").symlink_to(folder)  # a symbolic link: refused before too
    with pytest.raises(ConfigError, match=r"tables: is inside the mask store .*T1.zarr"):
        check_outside_store(tmp_path / "link" / "new" / "tables", folder)
    check_outside_store(tmp_path / "tables", folder)
    check_outside_store(tmp_path / "T1.zarr.csv", folder)  # beside it, its name a prefix


def test_is_within_follows_links_and_the_same_file_and_stays_out_of_urls(tmp_path):
    folder = tmp_path / "a.zarr"
    folder.mkdir()
    (tmp_path / "link.zarr").symlink_to(folder)
    assert is_within(tmp_path / "link.zarr" / "x" / "y.csv", folder)
    assert is_within(folder, tmp_path / "link.zarr")
    assert is_within(tmp_path / "x" / ".." / "a.zarr" / "t", folder)
    assert not is_within(tmp_path / "a.zarr2", folder) and not is_within(tmp_path, folder)
    assert not is_within("s3://b/a.zarr/t", "s3://b/a.zarr")
    assert not is_within(folder / "t", "s3://b/a.zarr")
