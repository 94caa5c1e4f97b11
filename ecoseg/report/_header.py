"""The top of the report page: its date, subtitle, headline cards and the study block."""

from __future__ import annotations

import base64
import datetime as _dt
import os
from pathlib import Path

from ecoseg.report._numbers import duration
from ecoseg.report.read import VideoInfo

__all__ = ["headline", "report_date", "study_block", "subtitle"]


def report_date(videos: list[VideoInfo]) -> dict[str, str] | None:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            t = _dt.datetime.fromtimestamp(int(float(epoch)), _dt.UTC)
        except (ValueError, OverflowError):
            t = None
        if t is not None:
            return {"label": "Report date", "value": t.strftime("%Y-%m-%d")}
    created = sorted(str(v.provenance.created or "") for v in videos)
    created = [c for c in created if c]
    if created:
        return {"label": "Masks made", "value": created[-1][:10]}
    return None


def _footage(videos: list[VideoInfo]) -> list[dict[str, str]]:
    """What the stores hold: the seconds of footage of the videos, the photographs of the
    photo surveys (whose frames are photographs, not times: they said "3.0 s of footage")."""
    films = [v for v in videos if not v.provenance.is_survey]
    photos = sum(v.n_frames for v in videos if v.provenance.is_survey)
    out = []
    if films or not photos:
        out.append({"value": duration(sum(v.duration_s for v in films)), "label": "of footage"})
    if photos:
        out.append({"value": str(photos), "label": _counted(photos, "photograph", "photographs")})
    return out


def subtitle(videos: list[VideoInfo], sites: list[str]) -> str:
    n = len(videos)
    parts = [f"{n} video{'s' if n != 1 else ''}"]
    parts += [f"{c['value']} {c['label']}" for c in _footage(videos)]
    if sites:
        parts.insert(1, f"{len(sites)} site{'s' if len(sites) != 1 else ''}")
    return " · ".join(parts)


def headline(videos, tables, sites) -> list[dict[str, str]]:
    """The page's headline cards: ``{"value", "label"}`` each, a label in the singular for 1.

    The tracks are counted as tracks, not individuals: a track can be a part of an animal's
    stay in view, two animals joined or no animal at all, so its count is not an abundance
    (MaxN is; the page says so under the cards). A page of photo surveys only counts the
    objects found, each in one photograph.

    Examples
    --------
    >>> import pandas as pd
    >>> maxn = pd.DataFrame({"class": ["wrasse"], "maxn": [2]})
    >>> tracks = pd.DataFrame({"object_id": [4]})
    >>> [c["label"] for c in headline([], {"tracks": tracks, "maxn": maxn}, ["North"])]
    ['videos', 'site', 'of footage', 'track', 'class seen']
    >>> maxn = pd.DataFrame({"class": ["unknown"], "maxn": [1]})
    >>> headline([], {"tracks": tracks, "maxn": maxn}, [])[-1]["label"]
    'classes seen: every track is unknown'
    """
    tracks = tables.get("tracks")
    maxn = tables.get("maxn")
    n_tracks = len(tracks) if tracks is not None else 0
    seen = set(maxn.loc[maxn["maxn"] > 0, "class"].astype(str)) if maxn is not None else set()
    # tracks nobody named are not one more species
    n_cls, unnamed = len(seen - {"unknown"}), "unknown" in seen
    # a photo survey's instance is in one photograph: found, not tracked
    surveys = bool(videos) and all(v.provenance.is_survey for v in videos)
    one, many = ("object found", "objects found") if surveys else ("track", "tracks")
    classes = _counted(n_cls, "class", "classes") + " seen"
    if unnamed:
        # "0 classes seen (and unknown)" read as if nothing was seen
        classes += f": every {one.split()[0]} is unknown" if n_cls == 0 else " (and unknown)"
    cards = [
        {"value": str(len(videos)), "label": _counted(len(videos), "video", "videos")},
        *_footage(videos),
        {"value": str(n_tracks), "label": _counted(n_tracks, one, many)},
        {"value": str(n_cls), "label": classes},
    ]
    if sites:
        cards.insert(1, {"value": str(len(sites)), "label": _counted(len(sites), "site", "sites")})
    return cards


def _counted(n: int, one: str, many: str) -> str:
    """The noun for ``n`` of a thing (``1 video`` read "1 videos")."""
    return one if n == 1 else many


def study_block(study, out: Path) -> dict | None:
    if study is None:
        return None
    try:
        text = study.path.read_text(encoding="utf-8")
    except OSError:
        text = None
    return {
        "name": study.name,
        "file": study.path.name,
        "description": study.description,
        "text": text,
        "text_uri": None
        if text is None
        else "data:text/yaml;base64," + base64.b64encode(text.encode()).decode("ascii"),
    }
