"""``ecoseg info`` opens each store once: the summary and the checks share the open store."""

from __future__ import annotations

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
