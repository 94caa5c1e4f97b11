"""Which format a file looks like (the hint a refused import adds): each format's own file
as ecoseg writes it is recognised, and what could be either is left unsaid."""

from __future__ import annotations

import pytest

import ecoseg
from ecoseg.formats import export
from ecoseg.formats._sniff import looks_like, other_format_hint

SUFFIX = {"coco": ".json", "ytvis": ".json", "mot": ".txt", "mots": ".txt", "cvat": ".xml"}


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return ecoseg.synth(tmp_path_factory.mktemp("clip"), frames=2, size=(48, 32), seed=2)


@pytest.mark.parametrize("fmt", ["coco", "ytvis", "mot", "mots", "cvat", "viame"])
def test_each_export_looks_like_its_format(clip, tmp_path, fmt):
    out = export(clip.truth, fmt, tmp_path / f"out{SUFFIX.get(fmt, '.csv')}")
    assert looks_like(out) == fmt
    assert other_format_hint(out, fmt) is None


@pytest.mark.parametrize(
    "text",
    [
        "1,5,0,10,10,30,30,1,-1\n",  # VIAME without species, or MOT's gt.txt: either
        "",
        "frame,id,left\n",
        "<html></html>",
        '{"info": {}}',
    ],
)
def test_what_could_be_either_or_none_is_left_unsaid(tmp_path, text):
    path = tmp_path / "f.csv"
    path.write_text(text)
    assert looks_like(path) is None
    assert other_format_hint(path, "viame") is None
