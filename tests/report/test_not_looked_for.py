"""Per-video figures tell a class a video never looked for from one it looked for and never saw.

Two stores with different classes: ``a`` looked for wrasse (seen) and parrotfish (never seen),
``b`` for wrasse and damselfish (both seen). Parrotfish is not one of ``b``'s classes and
damselfish not one of ``a``'s: no 0 bar, no line, but a ``–`` / "not looked for" mark.
"""

from __future__ import annotations

import pytest
from report_helpers import make_store

from ecoseg.report import figures as F
from ecoseg.report import report
from ecoseg.report.read import read_tables, read_video


@pytest.fixture(scope="module")
def stores(tmp_path_factory):
    root = tmp_path_factory.mktemp("looked")
    make_store(root / "a.zarr", [(1, "wrasse", "prompt"), (2, "parrotfish", "prompt")], {1: [0, 1]})
    make_store(
        root / "b.zarr",
        [(1, "wrasse", "prompt"), (2, "wrasse", "prompt"), (3, "damselfish", "prompt")],
        {1: [2], 2: [2], 3: [3]},
    )
    return {"a": root / "a.zarr", "b": root / "b.zarr"}


@pytest.fixture(scope="module")
def tables(stores):
    videos = [read_video(n, str(p), n) for n, p in stores.items()]
    return read_tables(videos, None)


def _texts(ax):
    return [t.get_text() for t in ax.texts]


def _note(ax):
    """The panel's "not looked for" note: its right-hand title, lines joined."""
    return " ".join(ax.get_title(loc="right").split())


def test_maxn_figure_draws_no_bar_for_a_class_the_video_did_not_look_for(tables):
    # old code: a 0 bar labelled "0" for b's parrotfish and a's damselfish
    colors = F.class_colors(["damselfish", "parrotfish", "wrasse"])
    fig = F.maxn_figure(tables["maxn"], colors, videos=["a", "b"])
    ax = fig.axes[0]
    # classes sorted: damselfish, parrotfish, wrasse; a: –, 0, 1; b: 1, –, 2
    assert _texts(ax) == ["–", "0", "1", "1", "–", "2"]
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [0.0, 1.0, 1.0, 2.0]  # a's parrotfish 0 (looked for): a bar of 0


def test_counts_and_cover_panels_name_the_classes_a_video_did_not_look_for(tables):
    colors = F.class_colors(["damselfish", "parrotfish", "wrasse"])
    fig = F.counts_figure(tables["counts"], colors, tables["maxn"], videos=["a", "b"])
    a, b = fig.axes[:2]
    assert _note(a) == "not looked for: damselfish"
    assert _note(b) == "not looked for: parrotfish"
    assert len(a.lines) == 2 + 1  # wrasse, parrotfish (flat 0: looked for) and wrasse's MaxN
    fig = F.cover_figure(tables["cover"], colors, videos=["a", "b"])
    a, b = fig.axes[:2]
    assert _note(a) == "not looked for: damselfish"
    assert _note(b) == "not looked for: parrotfish"


def test_a_video_that_looked_for_every_class_has_no_mark(tables):
    colors = F.class_colors(["damselfish", "parrotfish", "wrasse"])
    counts = tables["counts"]
    fig = F.counts_figure(counts[counts["video"] == "a"], colors)
    assert _note(fig.axes[0]) == ""
    assert not any("not looked for" in t for t in _texts(fig.axes[0]))


@pytest.mark.parametrize("make", ["counts_figure", "cover_figure"])
def test_a_long_not_looked_for_note_stays_above_its_panel(make):
    """The note was a text inside the plot's top right: over the lines and MaxN marks that
    reach the top, and a list of many names ran past the panel into the next one, so the
    constrained layout gave up (the panels collapsed to slivers). Now it is the panel's
    right-hand title, wrapped to the room beside the video's name."""
    import warnings

    import pandas as pd

    many = [f"species number {i:02d}" for i in range(12)]
    rows = [
        {"video": v, "time_s": t / 2, "class": c, "count": 4, "cover_fraction": 0.2}
        for v, seen in (("transect_north_01", many[:2]), ("b", many[2:4]), ("c", many[4:]))
        for c in seen
        for t in range(10)
    ]
    df = pd.DataFrame(rows)
    colors = F.class_colors(many)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "constrained_layout not applied"
        F.png(getattr(F, make), df, colors, classes=many)
    fig = getattr(F, make)(df, colors, classes=many)
    first = fig.axes[0]
    assert _note(first) == "not looked for: " + ", ".join(many[2:])
    assert not any("not looked for" in t for t in _texts(first))  # not over the plot
    assert max(len(line) for line in first.get_title(loc="right").splitlines()) < 60


def test_report_captions_say_what_the_marks_mean(stores, tmp_path):
    report(stores, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "–: the video did not look for the class" in page
    assert "A panel names the classes its video did not look for" in page


def _drawn(make, names, missing):
    """A two-panel figure (``make``) drawn as the report draws it: video ``a`` sees only
    wrasse and so did not look for ``missing``, ``b`` sees ``names``; with its renderer."""
    import matplotlib as mpl
    import pandas as pd
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    rows = [
        {"video": v, "time_s": t / 2, "class": c, "count": 2, "cover_fraction": 0.1}
        for v, seen in (("a", ["wrasse"]), ("b", ["wrasse", *names]))
        for c in seen
        for t in range(6)
    ]
    classes = ["wrasse", *missing]
    with mpl.rc_context(F.STYLE):
        colors = F.class_colors(["wrasse", *names])
        fig = getattr(F, make)(pd.DataFrame(rows), colors, classes=classes)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
    return fig, canvas.get_renderer()


@pytest.mark.parametrize("make", ["counts_figure", "cover_figure"])
def test_a_note_that_fits_beside_the_name_is_not_wrapped_and_a_longer_one_stays_inside(make):
    """The note was wrapped at a number of characters estimated from the font size, which
    wrapped it a little early: a note with room on one line beside the video's name took
    two. It is wrapped by its measured width: one line when it fits, and a note too long
    for one line is wrapped and stays between the video's name and the panel's right edge."""
    fish = "parrotfish damselfish blenny goby grouper snapper butterflyfish angelfish triggerfish"
    names = sorted(["sea urchin", *fish.split(), "surgeonfish", "rabbitfish", "cardinalfish"])
    fig, renderer = _drawn(make, names, ["goby"])
    a = fig.axes[0]
    room = a.get_window_extent(renderer).x1 - a._left_title.get_window_extent(renderer).x1
    font = a._right_title.get_fontproperties()

    def width(missing):
        note = f"{F.NOT_LOOKED_FOR}: " + ", ".join(missing)
        return renderer.get_text_width_height_descent(note, font, ismath=False)[0]

    fits = [m for k in range(1, len(names)) if width(m := names[:k]) < 0.85 * room][-1]
    assert width(fits + names[len(fits) : len(fits) + 1]) >= 0.85 * room  # the most that fit
    fig, renderer = _drawn(make, names, fits)
    assert fig.axes[0].get_title(loc="right") == f"{F.NOT_LOOKED_FOR}: " + ", ".join(fits)
    fig, renderer = _drawn(make, names, names)
    a = fig.axes[0]
    assert _note(a) == f"{F.NOT_LOOKED_FOR}: " + ", ".join(names)
    assert "\n" in a.get_title(loc="right")
    note = a._right_title.get_window_extent(renderer)
    assert note.x0 > a._left_title.get_window_extent(renderer).x1
    assert note.x1 <= a.get_window_extent(renderer).x1 + 0.5
