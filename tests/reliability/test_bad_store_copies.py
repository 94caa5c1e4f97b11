"""Stores a copy damaged: a chunk file cut off and a zip store cut off, named by the file to
restore, in one line from ``ecoseg info --verify`` and the commands that read them."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest
from reliability_helpers import assert_one_line_error

from ecoseg.errors import StoreError
from ecoseg.info import verify
from ecoseg.store import MaskStore

pytestmark = pytest.mark.bad_input


@pytest.fixture
def store(clip, tmp_path) -> Path:
    path = tmp_path / "site-A.zarr"
    shutil.copytree(clip.truth, path)
    return path


def _chunk(store: Path) -> tuple[Path, str]:
    """The first ``labels`` chunk file and its key."""
    return store / "labels" / "c" / "0" / "0" / "0", "labels/c/0/0/0"


def test_a_chunk_file_cut_off_is_named_by_its_key(store, cli):
    """A labels chunk cut off by a copy was named by its frames only ('frames 25..49
    damaged (error during blosc decompression: -1)'), while a missing one named its file:
    the user could not tell which file to copy again."""
    path, key = _chunk(store)
    path.write_bytes(path.read_bytes()[:10])
    (problem,) = verify(store)
    assert problem.kind == "damaged" and problem.detail.startswith(f"chunk {key}: ")
    code, out, err = cli("info", store, "--verify")
    said = f"labels frames {problem.first}..{problem.last} damaged (chunk {key}: "
    assert code == 1 and said in out
    with pytest.raises(StoreError, match=f"damaged \\(chunk {key}: "):
        MaskStore.open(store).read_labels()
    code, _, err = cli("measure", store, "-o", store.parent / "tables", "--quiet")
    assert_one_line_error(code, err, str(store), f"(chunk {key}: ")


def test_a_zip_store_cut_off_says_so(store, tmp_path, cli):
    """A zip store cut off (a download or copy that stopped) was 'a file that is not a zip
    archive, not a mask store', as if the user had named the wrong file."""
    packed = tmp_path / "site-A.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        for f in sorted(store.rglob("*")):
            if f.is_file():
                zf.write(f, f.relative_to(store).as_posix())
    data = packed.read_bytes()
    packed.write_bytes(data[: len(data) // 2])
    for command in (("info", packed), ("measure", packed, "-o", tmp_path / "tables")):
        code, _, err = cli(*command)
        line = assert_one_line_error(code, err, str(packed), "a damaged zip archive", "cut off")
        assert "not a zip archive" not in line
    other = tmp_path / "notes.zip"
    other.write_text("not a zip")  # some other file named .zip: said as before
    code, _, err = cli("info", other)
    assert_one_line_error(code, err, str(other), "a file that is not a zip archive")
    assert not (tmp_path / "tables").exists()
