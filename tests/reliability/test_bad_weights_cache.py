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
