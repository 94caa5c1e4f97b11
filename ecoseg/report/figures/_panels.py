"""One panel per video (the counts and cover figures): the videos in a table, a panel's
titles and the classes a video did not look for."""

from __future__ import annotations

from collections.abc import Sequence

from ecoseg.report._looked import video_classes
from ecoseg.report.figures._style import NO_DATA, grid, message

__all__ = ["video_names", "NOT_LOOKED_FOR", "panel_titles", "video_panels"]


def video_names(df) -> list[str]:
    return list(dict.fromkeys(df["video"].tolist())) if len(df) else []


NOT_LOOKED_FOR = "not looked for"


def panel_titles(ax, video: str, missing: Sequence[str]) -> None:
    """A per-video panel's titles: the video's name on the left and, on the right, the classes
    the video did not look for (none drawn), if any.

    The note is the panel's right-hand title, above the plot (inside it, it hid the lines and
    MaxN marks that reach the top, and a long list ran into the next panel and collapsed the
    layout), wrapped between words to the room beside the video's name. Widths are measured
    as Agg draws them, each word and a space once (a line's width is their sum: Agg lays text
    out by advances; a measure costs about half a millisecond, one per line tried would be
    tens per panel); the panel's width is the figure's share less 0.8 in of y-axis labels, an
    estimate made before the layout places it, 0.2 to 0.45 in under what it gives.
    """
    left = ax.set_title(video, loc="left")
    if not missing:
        return
    from matplotlib.backends.backend_agg import RendererAgg

    fig = ax.get_figure()
    renderer = RendererAgg(1, 1, fig.dpi)
    ncols = ax.get_subplotspec().get_gridspec().ncols
    room = (fig.get_figwidth() / ncols - 0.8) * fig.dpi - left.get_window_extent(renderer).width
    room = max(room - 0.15 * fig.dpi, 1.4 * fig.dpi)  # a gap after the name; at least 1.4 in
    note = ax.set_title("", loc="right", color=NO_DATA, fontsize=7.5, fontweight="normal")
    font = note.get_fontproperties()
    widths: dict[str, float] = {}

    def width(text: str) -> float:
        if text not in widths:
            widths[text] = renderer.get_text_width_height_descent(text, font, ismath=False)[0]
        return widths[text]

    space = width("a a") - width("aa")
    lines: list[list[str]] = []
    used = 0.0
    for word in f"{NOT_LOOKED_FOR}: {', '.join(missing)}".split():
        if lines and used + space + width(word) <= room:
            lines[-1].append(word)
            used += space + width(word)
        else:
            lines.append([word])
            used = width(word)
    note.set_text("\n".join(" ".join(line) for line in lines))


def video_panels(table, videos: Sequence[str] | None, classes: Sequence[str] | None, ncols: int):
    """One panel per video (y shared), titled by :func:`panel_titles`, and ``(axis, video, rows)``
    of each with rows in ``table``; a video without rows says "no individuals detected"."""
    videos = list(videos) if videos is not None else video_names(table)
    classes = sorted(classes) if classes is not None else sorted(table["class"].unique())
    fig, axes = grid(max(1, len(videos)), ncols, 2.3, sharey=True)
    panels = []
    for ax, video in zip(axes, videos or [None]):
        d = table[table["video"] == video] if video is not None else table.iloc[:0]
        if not len(d):
            message(ax, "no individuals detected")
            ax.set_title(video or "", loc="left")
            continue
        own = video_classes(d, "count" if "count" in d.columns else "cover_fraction", classes)
        panel_titles(ax, str(video), [c for c in classes if c not in own])
        panels.append((ax, video, d))
    return fig, axes, panels


MAX_PHOTO_TICKS = 12  # a survey panel names at most this many photographs on its axis


def photograph_axis(ax, names: Sequence[str], n: int) -> None:
    """A photo survey panel's x axis: its photographs (``names``, one per frame; ``n``: the
    frames drawn), each named when there are at most :data:`MAX_PHOTO_TICKS`, else by
    index; no time axis."""
    if 0 < len(names) <= MAX_PHOTO_TICKS:
        ax.set_xticks(range(len(names)), list(names), rotation=30, ha="right", fontsize=7)
        ax.set_xlabel("photograph")
    else:
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlabel("photograph (index)")
    ax.set_xlim(-0.6, max(len(names), n) - 0.4)
    ax.grid(axis="x", visible=False)
