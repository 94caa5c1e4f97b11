"""A checkpoint in the weights cache that no download recorded (copied there by hand) and that
cannot be one: empty, text, or cut short by a copy that stopped. ``ecoseg weights download``
took it as downloaded (its path, exit status 0) and ``verify`` said only *cannot verify: no
reference sha256*; both name the file and why now, and the file is left for the user."""

from __future__ import annotations

import pytest
from reliability_helpers import assert_one_line_error

pytestmark = pytest.mark.bad_input


def _cut_short(path):
    import torch

    torch.save({"model": {"a": torch.zeros(10_000)}}, path)
    path.write_bytes(path.read_bytes()[:5000])


KINDS = {
    "empty": (lambda p: p.write_bytes(b""), "file is empty (0 bytes)"),
    "text": (lambda p: p.write_text("sha256,size\n"), "it holds text"),
    "cut-short": (_cut_short, "the file is cut short (5000 bytes"),
}


@pytest.mark.parametrize("kind", KINDS)
def test_a_cached_checkpoint_that_cannot_be_one_is_named(kind, tmp_path, cli, monkeypatch):
    cache = tmp_path / "weights"
    cache.mkdir()
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(cache))
    make, why = KINDS[kind]
    cached = cache / "sam2.1_hiera_tiny.pt"
    make(cached)
    before = cached.read_bytes()
    code, out, err = cli("weights", "download", "sam2.1-tiny")
    assert_one_line_error(code, err, "sam2.1-tiny", str(cached), why, "again")
    assert out == ""
    code, out, err = cli("weights", "verify", "sam2.1-tiny")
    assert code == 1 and err == "", err
    assert out.startswith(f"sam2.1-tiny: FAILED {cached}: ") and why in out, out
    assert "cannot verify" not in out
    assert cached.read_bytes() == before  # the user's file, left for them


@pytest.mark.parametrize("kind", KINDS)
def test_weights_list_shows_a_cached_checkpoint_that_cannot_be_one_as_damaged(
    kind, tmp_path, cli, monkeypatch
):
    """``weights list`` said *yes* (cached) of the file ``verify`` fails: it says *damaged*,
    with the file and the reason ``verify`` gives, and the other rows are as they were."""
    from ecoseg.sam2 import weights

    cache = tmp_path / "weights"
    (cache / "sam3").mkdir(parents=True)
    monkeypatch.setenv("ECOSEG_WEIGHTS_DIR", str(cache))
    make, why = KINDS[kind]
    cached = cache / "sam2.1_hiera_tiny.pt"
    make(cached)
    hub = cache / "sam3" / "sam3.pt"  # the SAM 3 row is listed the same way
    make(hub)
    code, out, err = cli("weights", "list")
    assert code == 0 and err == "", err
    rows = {line.split()[0]: line for line in out.splitlines()[1:]}
    _, verified, _ = cli("weights", "verify", "sam2.1-tiny")
    reason = verified.split(" FAILED ", 1)[1].strip()
    assert rows["sam2.1-tiny"].split()[1] == "damaged" and why in rows["sam2.1-tiny"]
    assert rows["sam2.1-tiny"].endswith(reason), (rows["sam2.1-tiny"], reason)
    assert "again" in reason
    assert rows["sam3"].split()[1] == "damaged" and str(hub) in rows["sam3"]
    assert rows["sam2.1-small"].split()[1:] == ["no", str(cache / "sam2.1_hiera_small.pt")]
    row = weights.list_weights()[0]
    assert (row["cached"], why in row["damaged"]) == (False, True)
    assert cached.is_file()  # the user's file, left for them
