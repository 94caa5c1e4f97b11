"""A fault while an export streams leaves no partial output, spill file or half-written file,
and an earlier output of the same name as it was: every format. The fault is raised part-way
through the frames the writer is consuming (the store's frame reader is wrapped): an I/O error
as an unreadable chunk raises it, ENOSPC as a full disk would, and Ctrl+C."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
from formats_helpers import make_store

import ecoseg.formats._export as exporting
from ecoseg.formats import export, format_module

FORMATS = ["coco", "ytvis", "mot", "mots", "cvat", "viame", "davis"]


@pytest.fixture(autouse=True)
def _small_spill(monkeypatch):
    """YouTube-VIS and CVAT spill to a file beside the output from the first frames on."""
    monkeypatch.setattr("ecoseg.formats._spill._BUDGET", 100)


def _store(frames: int, shift: int = 0) -> str:
    lab = np.zeros((frames, 12, 16), np.uint32)
    for t in range(frames):
        lab[t, 2:6, (t + shift) % 10 : (t + shift) % 10 + 4] = 1
        lab[t, 7:11, 3:7] = 2
    return make_store(lab, classes={1: "wrasse", 2: "sea_star"})


def _snapshot(folder) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) and its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _failing_after(reader, frames: int, error: OSError):
    """``reader`` (store_frames or store_labels) that raises ``error`` after ``frames`` frames."""

    def read(*args, **kwargs):
        for k, item in enumerate(reader(*args, **kwargs)):
            if k == frames:
                raise error
            yield item

    read.__wrapped__ = reader
    return read


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "error",
    [OSError(errno.EIO, "Input/output error"), OSError(errno.ENOSPC, "No space left on device")],
    ids=["EIO", "ENOSPC"],
)
def test_a_fault_mid_export_leaves_the_earlier_output_and_nothing_else(
    tmp_path, monkeypatch, fmt, error
):
    out = tmp_path / f"out{format_module(fmt).SUFFIX}"
    export(_store(6), fmt, out)
    before = _snapshot(tmp_path)
    for name in ("store_frames", "store_labels"):
        monkeypatch.setattr(exporting, name, _failing_after(getattr(exporting, name), 4, error))
    with pytest.raises(OSError, match=error.strerror):
        export(_store(6, shift=3), fmt, out, overwrite=True)
    assert _snapshot(tmp_path) == before  # no partial, no spill, the old output's bytes
    for name in ("store_frames", "store_labels"):
        monkeypatch.setattr(exporting, name, getattr(exporting, name).__wrapped__)
    export(_store(6, shift=3), fmt, out, overwrite=True)  # and a later export replaces it
    assert _snapshot(tmp_path) != before


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_interrupted_export_leaves_the_earlier_output_and_nothing_else(
    tmp_path, monkeypatch, fmt
):
    out = tmp_path / f"out{format_module(fmt).SUFFIX}"
    export(_store(6), fmt, out)
    before = _snapshot(tmp_path)

    def interrupted(reader):
        def read(*args, **kwargs):
            for k, item in enumerate(reader(*args, **kwargs)):
                if k == 3:
                    raise KeyboardInterrupt  # Ctrl+C part-way
                yield item

        return read

    for name in ("store_frames", "store_labels"):
        monkeypatch.setattr(exporting, name, interrupted(getattr(exporting, name)))
    with pytest.raises(KeyboardInterrupt):
        export(_store(6, shift=3), fmt, out, overwrite=True)
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize(
    "error", [OSError(errno.EIO, "Input/output error"), KeyboardInterrupt()], ids=repr
)
def test_a_fault_at_the_rename_into_place_leaves_the_earlier_output(
    tmp_path, monkeypatch, fmt, error
):
    """The new output is whole and its rename into place fails (or Ctrl+C comes then). Old
    code removed an earlier DAVIS folder first (a rename cannot replace a folder): the user
    was left with neither."""
    out = tmp_path / f"out{format_module(fmt).SUFFIX}"
    export(_store(6), fmt, out)
    before = _snapshot(tmp_path)
    real = os.replace

    def failing(src, dst, **kwargs):
        if ".partial-" in os.fspath(src):
            raise error
        return real(src, dst, **kwargs)

    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(type(error)):
        export(_store(6, shift=3), fmt, out, overwrite=True)
    assert _snapshot(tmp_path) == before  # the old output, whole, and no partial or aside
    monkeypatch.setattr(os, "replace", real)
    export(_store(6, shift=3), fmt, out, overwrite=True)
    assert _snapshot(tmp_path) != before
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # the old one removed


@pytest.mark.parametrize("fmt", ["coco", "davis"])
def test_a_full_disk_is_said_of_the_output_not_of_its_hidden_partial_name(
    tmp_path, monkeypatch, fmt
):
    """The writer fails on the file it writes (ENOSPC, EACCES): the error named the hidden
    ``.out.json.partial-HOST-PID`` the user never asked for; it names the output now, and
    keeps its errno."""
    out = tmp_path / f"out{format_module(fmt).SUFFIX}"
    module = format_module(fmt)
    name = "write_labels" if hasattr(module, "write_labels") else "write_frames"

    def full(head, frames, part, **kwargs):
        target = part / "00000.png" if fmt == "davis" else part
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(target))

    monkeypatch.setattr(module, name, full)
    with pytest.raises(OSError) as info:
        export(_store(3), fmt, out)
    assert info.value.errno == errno.ENOSPC
    assert info.value.filename == str(out) and ".partial" not in str(info.value)
    assert list(tmp_path.iterdir()) == []
