"""``ecoseg info`` opens each store once: the summary and the checks share the open store."""

from __future__ import annotations

import sys

import pytest

from ecoseg.cli import main
from ecoseg.store import MaskStore


@pytest.mark.parametrize(
    "extra", [[], ["--verify"], ["--verify", "--video", "VIDEO"], ["--json", "--verify"]]
)
def test_each_store_is_opened_once_and_closed(capsys, opened, truth, clip, extra):
    extra = [str(clip.video) if a == "VIDEO" else a for a in extra]
    stores = [str(truth)] if "--video" in extra else [str(truth), str(clip.truth)]
    assert main(["info", *stores, *extra]) == 0
    capsys.readouterr()
    assert sorted(p for p, _ in opened) == sorted(stores)
    assert all(store.closed for _, store in opened)


def test_summary_and_verify_read_an_open_store_and_leave_it_open(opened, truth, clip):
    from ecoseg.info import summary, verify

    with MaskStore.open(truth) as store:
        assert summary(store).frames == 16
        assert verify(store, clip.video) == []
        assert not store.closed
    assert len(opened) == 1


def _damage(call, truth, monkeypatch):
    """An error after the store is open: its times unreadable (summary), a read that fails
    (verify)."""
    if call == "summary":
        (truth / "time" / "c" / "0").write_bytes(b"garbage")
    else:

        def fails(*args):
            raise OSError("the card was pulled out")

        monkeypatch.setattr(sys.modules["ecoseg.info.verify"], "_problems", fails)


@pytest.mark.parametrize("call", ["summary", "verify"])
def test_a_store_opened_from_a_path_is_closed_also_after_an_error(
    opened, truth, clip, monkeypatch, call
):
    """summary and verify open a store given by its path with ecoseg.store.opened_store (the
    house's one way, with ecoseg info's one-line error for a store that does not open): it
    is closed after them, also when they fail."""
    from ecoseg.errors import StoreError
    from ecoseg.info import summary, verify

    run = {"summary": summary, "verify": lambda store: verify(store, clip.video)}[call]
    run(truth)
    _damage(call, truth, monkeypatch)
    with pytest.raises((StoreError, OSError)):
        run(truth)
    assert len(opened) == 2 and all(store.closed for _, store in opened)
    with MaskStore.open(truth) as store:  # a caller's store stays open, also after an error
        with pytest.raises((StoreError, OSError)):
            run(store)
        assert not store.closed
    with pytest.raises(StoreError, match="not a mask store|no such|does not exist"):
        run(truth.parent / "nothing.zarr")
