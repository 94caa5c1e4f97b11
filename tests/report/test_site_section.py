"""The site comparison: a video that never looked for a class is left out of its site mean."""

from __future__ import annotations

import pandas as pd
import pytest
from report_helpers import make_store, page_table

from ecoseg.report import report
from ecoseg.report.figures import site_figure
from ecoseg.study import load_study

STUDY = """\
name: sites
output: out
videos:
  - {path: n1.mp4, name: n1, site: North}
  - {path: n2.mp4, name: n2, site: North}
  - {path: s1.mp4, name: s1, site: South}
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    root = tmp_path_factory.mktemp("sites")
    for name in ("n1", "n2", "s1"):
        (root / f"{name}.mp4").write_bytes(b"")
    # n1 looked for wrasse (MaxN 2) and parrotfish (1); n2 for wrasse only (MaxN 4); s1 for
    # wrasse (never seen: MaxN 0) and damselfish (1)
    make_store(
        root / "n1.zarr",
        [(1, "wrasse", "prompt"), (2, "wrasse", "prompt"), (3, "parrotfish", "prompt")],
        {1: [0, 1], 2: [1], 3: [2]},
    )
    make_store(
        root / "n2.zarr",
        [(1, "wrasse", "prompt"), (2, "wrasse", "prompt"), (3, "wrasse", "prompt"),
         (4, "wrasse", "prompt")],
        {1: [3], 2: [3], 3: [3], 4: [3]},
    )  # fmt: skip
    make_store(root / "s1.zarr", [(1, "wrasse", "prompt"), (2, "damselfish", "prompt")], {2: [0]})
    (root / "study.yaml").write_text(STUDY)
    study = load_study(root / "study.yaml")
    stores = {n: root / f"{n}.zarr" for n in ("n1", "n2", "s1")}
    report(stores, root / "r.html", study=study)
    return (root / "r.html").read_text(encoding="utf-8")


def _table(html: str, table_id: str, index: str = "Site") -> pd.DataFrame:
    return page_table(html, table_id).set_index(index)


def test_site_mean_maxn_leaves_out_videos_that_did_not_look_for_the_class(page):
    # old code: North parrotfish 0.50 (n2 counted as a 0) and damselfish 0.00
    table = _table(page, "site-table")
    assert table.loc["North", "Videos"] == "2" and table.loc["South", "Videos"] == "1"
    assert table.loc["North", "mean MaxN wrasse"] == "3.00"  # (2 + 4) / 2
    assert table.loc["North", "mean MaxN parrotfish"] == "1.00 (n=1)"  # n1 alone looked
    assert table.loc["North", "mean MaxN damselfish"] == "–"  # neither looked
    assert table.loc["South", "mean MaxN wrasse"] == "0.00"  # looked for and never seen
    assert table.loc["South", "mean MaxN damselfish"] == "1.00"
    assert table.loc["South", "mean MaxN parrotfish"] == "–"
    assert "(n=K): only K of the site's videos looked for it" in page
    assert "–: none of the site's videos looked for it" in page
    # the per-video table says the same: "–" for a class that is not one of the video's
    maxn = _table(page, "maxn-table", "Video")
    assert maxn.loc["n2", "parrotfish"] == maxn.loc["n1", "damselfish"] == "–"


def test_site_figure_draws_no_bar_for_a_class_no_video_of_the_site_looked_for():
    per_video = pd.DataFrame(
        {
            "site": ["North", "North", "North", "South"],
            "video": ["n1", "n1", "n2", "s1"],
            "class": ["parrotfish", "wrasse", "wrasse", "wrasse"],
            "maxn": [1, 2, 4, 0],
        }
    )
    fig = site_figure(per_video, {"parrotfish": "#1f77b4", "wrasse": "#ff7f0e"})
    heights = sorted(round(p.get_height(), 6) for p in fig.axes[0].patches)
    # North: parrotfish 1 (n1 alone), wrasse 3; South: wrasse 0 and no parrotfish bar
    assert heights == [0.0, 1.0, 3.0]


EMPTY_STUDY = """\
name: empty
output: out
videos:
  - {path: n1.mp4, name: n1, site: North}
  - {path: n3.mp4, name: n3, site: North}
  - {path: s1.mp4, name: s1, site: South}
"""


def test_a_video_where_nothing_was_found_counts_zero_in_its_site_mean(tmp_path):
    # n3: the motion tracker found no animal (empty object table). It looked at its frames,
    # so it is a 0 of every class in the site mean and its n, not left out as a video that
    # did not look (old code: North wrasse "2.00 (n=1)", n3's MaxN cells "–")
    for name in ("n1", "n3", "s1"):
        (tmp_path / f"{name}.mp4").write_bytes(b"")
    objects = [(1, "wrasse", "prompt"), (2, "wrasse", "prompt"), (3, "parrotfish", "prompt")]
    make_store(tmp_path / "n1.zarr", objects, {1: [0, 1], 2: [1], 3: [2]})
    make_store(tmp_path / "n3.zarr", [], {})
    make_store(tmp_path / "s1.zarr", [(1, "wrasse", "prompt")], {})
    (tmp_path / "study.yaml").write_text(EMPTY_STUDY)
    stores = {n: tmp_path / f"{n}.zarr" for n in ("n1", "n3", "s1")}
    report(stores, tmp_path / "r.html", study=load_study(tmp_path / "study.yaml"))
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    table = _table(html, "site-table")
    assert table.loc["North", "mean MaxN wrasse"] == "1.00"  # (2 + 0) / 2
    assert table.loc["North", "mean MaxN parrotfish"] == "0.50"
    assert table.loc["South", "mean MaxN parrotfish"] == "–"  # s1 looked for wrasse only
    maxn = _table(html, "maxn-table", "Video")
    assert maxn.loc["n3"].tolist() == ["0"] * len(maxn.columns)
