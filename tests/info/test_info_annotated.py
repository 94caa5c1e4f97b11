"""``ecoseg info`` shows that a truth store annotates some frames only (its provenance's
``annotated_frames``, e.g. imported from a CVAT task of every 5th frame). Old code showed
nothing: such a store looked like one annotated on every frame."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecoseg.cli import main
from ecoseg.info import summary
from ecoseg.store import MaskStore


def store(path, annotated=None) -> str:
    labels = np.zeros((41, 8, 10), np.uint32)
    labels[::5, 1:3, 1:3] = 1
    prov = {"engine": "import"}
    if annotated is not None:
        prov["annotated_frames"] = annotated
    objects = [{"id": 1, "class": "grouper", "source": "imported"}]
    with MaskStore.create(path, height=8, width=10, objects=objects, provenance=prov) as st:
        st.append(labels, np.arange(41) / 30)
        st.mark_complete()
    return str(path)


def test_info_shows_the_annotated_frames(tmp_path, capsys):
    path = store(tmp_path / "t.zarr", {"start": 0, "step": 5, "count": 9})
    assert summary(path).annotated_frames == {"start": 0, "step": 5, "count": 9}
    assert main(["info", path]) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("  annotated ")]
    assert line == [
        "  annotated    frames 0, 5, 10 ... 40 (9 of 41, every 5th from 0) only; the others "
        "are empty because nobody annotated them"
    ]
    assert main(["info", path, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["annotated_frames"] == {
        "start": 0,
        "step": 5,
        "count": 9,
    }


@pytest.mark.parametrize(
    ("annotated", "expect"),
    [(None, None), ({"start": 0, "step": 1, "count": 41}, None)],  # every frame
)
def test_a_store_annotated_on_every_frame_shows_nothing(tmp_path, capsys, annotated, expect):
    path = store(tmp_path / "t.zarr", annotated)
    assert summary(path).annotated_frames is expect
    assert main(["info", path]) == 0
    assert "  annotated " not in capsys.readouterr().out


def test_a_malformed_entry_is_shown_not_fatal(tmp_path, capsys):
    path = store(tmp_path / "t.zarr", {"start": 0, "step": 0})
    assert summary(path).annotated_frames == {"malformed": {"start": 0, "step": 0}}
    assert main(["info", path]) == 0
    assert "annotated    MALFORMED provenance entry" in capsys.readouterr().out
