"""A study's videos checked against each other, one entry at a time as they are read: unique
names (also across case: one store folder on macOS and Windows), one video not listed twice
(at two sites, or with the same settings), one spelling per site, the output folder apart from
the videos and every store inside it; and the default names of entries whose videos share a
file name in several folders (:func:`default_names`), as ``ecoseg batch`` names their stores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ecoseg._paths import folder_key, is_within, location_key
from ecoseg.errors import ConfigError
from ecoseg.provenance import class_key
from ecoseg.study._lines import at_line
from ecoseg.study._values import resolve
from ecoseg.study.records import VideoSpec, setting_fields

__all__ = ["Entries", "check_apart", "check_once", "default_names"]


def default_names(videos: Any, folder: Path) -> dict[int, str]:
    """The default ``name:`` of the entries of ``videos:`` (by index) that write none and
    whose video's file name is another's in another folder (``site-a/GX010001.MP4`` and
    ``site-b/GX010001.MP4``; the other entry without ``name:``, or named by that file name):
    their path from the folder the videos share, as ``ecoseg batch`` names their stores
    (:func:`ecoseg.batch.names.check_names`: ``site-a__GX010001``). Other entries keep the
    file stem (not listed here), so a study whose names do not clash is named as before; so do
    entries of one video listed twice (two engines compared), whose names the study file must
    then give.

    Examples
    --------
    >>> default_names(["a/GX1.MP4", {"path": "b/GX1.MP4"}, "c/T1.mp4"], Path("/s"))
    {0: 'a__GX1', 1: 'b__GX1'}
    >>> default_names([{"path": "a/GX1.MP4", "name": "GX1"}, "b/GX1.MP4"], Path("/s"))
    {1: 'b__GX1'}
    >>> default_names([{"path": "a/GX1.MP4", "name": "north"}, "b/GX1.MP4"], Path("/s"))
    {}
    """
    from ecoseg.batch.names import check_names

    groups: dict[str, dict[Path, list[int]]] = {}  # by file stem: each video's unnamed entries
    for i, entry in enumerate(videos if isinstance(videos, list) else ()):
        source = entry.get("path") if isinstance(entry, dict) else entry
        if not isinstance(source, str) or not source.rstrip("/"):
            continue  # (refused with its line when the entry is read)
        path = resolve(folder, source)
        name = entry.get("name") if isinstance(entry, dict) else None
        if name is None:
            groups.setdefault(folder_key(path.stem), {}).setdefault(path, []).append(i)
        elif isinstance(name, str) and folder_key(name) == folder_key(path.stem):
            groups.setdefault(folder_key(path.stem), {}).setdefault(path, [])  # takes the stem
    names = {}
    for group in groups.values():
        if len(group) < 2 or not any(group.values()):  # one video (perhaps twice): its stem
            continue
        try:
            named = check_names([str(p) for p in group])
        except ConfigError:  # a folder that cannot name a store: the stems, refused as before
            continue
        for indices, name in zip(group.values(), named):
            names.update(dict.fromkeys(indices, name))
    return names


class Entries:
    """The videos of a study file read so far, each checked against those before it.

    Parameters
    ----------
    where : str
        The study file, as errors name it.
    output : Path
        The study's output folder; ``output_text`` as the study file writes it.

    Examples
    --------
    >>> from pathlib import Path
    >>> entries = Entries("study.yaml", Path("/s/out"), "out")
    >>> entries.add(VideoSpec("a", Path("/s/a.mp4"), "a.mp4"), 0, {"path": 4}, 4)
    >>> entries.add(VideoSpec("A", Path("/s/b.mp4"), "b.mp4"), 1, {"name": 6}, 5)
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: study.yaml: line 6: videos[1]: video names 'A' and 'a' \
(videos[0]) differ only in case and would share one store on macOS and Windows; give each \
video a unique `name:`
    """

    def __init__(self, where: str, output: Path, output_text: str) -> None:
        self.where, self.output, self.output_text = where, output, output_text
        self.names: dict[str, tuple[int, str]] = {}
        self.sources: dict[tuple, list[tuple[int, VideoSpec]]] = {}  # by location_key
        self.sites: dict[str, tuple[int, str]] = {}

    def add(self, spec: VideoSpec, i: int, entry_lines: dict, line: int | None) -> None:
        """Check ``spec``, the entry ``videos[i]`` (its keys' lines ``entry_lines``, its own
        ``line``), against the entries added before, then add it."""
        where, output = self.where, self.output
        here = at_line(where, entry_lines.get("name"), line)
        j, other = self.names.get(folder_key(spec.name), (None, None))
        if other == spec.name:
            raise ConfigError(
                f"{here} videos[{i}]: duplicate video name {spec.name!r} (also videos"
                f"[{j}]); give each video a unique `name:`"
            )
        if other is not None:  # one store folder on macOS and Windows
            raise ConfigError(
                f"{here} videos[{i}]: video names {spec.name!r} and {other!r} (videos[{j}]) "
                "differ only in case and would share one store on macOS and Windows; give "
                "each video a unique `name:`"
            )
        self.names[folder_key(spec.name)] = (i, spec.name)
        at_path = at_line(where, entry_lines.get("path"), line)
        check_apart(spec, output, self.output_text, f"{at_path} videos[{i}] ({spec.name}):")
        # one video under two names (a link, a hard link, another case) is one video
        earlier = self.sources.setdefault(location_key(spec.path), [])
        check_once(spec, i, earlier, f"{at_path} videos[{i}]")
        if spec.site is not None:
            at_site = at_line(where, entry_lines.get("site"), line)
            j, other = self.sites.setdefault(class_key(spec.site), (i, spec.site))
            if other != spec.site:  # two sites of the report, where one was meant
                raise ConfigError(
                    f"{at_site} videos[{i}] ({spec.name}): site {spec.site!r} differs from "
                    f"{other!r} (videos[{j}]) only in case or spacing; write the site one way"
                )
        store = output / "stores" / f"{spec.name}.zarr"
        if store.resolve().parent != (output / "stores").resolve():
            raise ConfigError(
                f"{here} videos[{i}] ({spec.name}): its store would escape the output folder"
            )


def check_once(spec: VideoSpec, i: int, earlier: list, ctx: str) -> None:
    """A video listed before (``earlier``: its entries so far) is refused at another site
    (one clip is footage of one site) or with the same settings (its numbers counted twice);
    one video with other settings at its one site (two engines compared) is kept. The
    settings are every field of the spec but :data:`~ecoseg.study.records.NOT_SETTINGS`."""
    settings = setting_fields(type(spec))
    for j, other in earlier:
        if other.site != spec.site:
            raise ConfigError(
                f"{ctx} ({spec.name}): the video {spec.source} is also videos[{j}] ({other.name}) "
                f"at site {other.site!r}, not {spec.site!r}; one video is footage of one site"
            )
        if all(getattr(other, k) == getattr(spec, k) for k in settings):
            raise ConfigError(
                f"{ctx} ({spec.name}): the video {spec.source} is also videos[{j}] ({other.name}) "
                "with the same settings; its numbers would count twice: list each video once"
            )
    earlier.append((i, spec))


def check_apart(video: VideoSpec, output: Path, output_text: str, ctx: str) -> None:
    """The output folder and the video's own files stay apart: a study writing into an image
    folder would change the video it fingerprints (segmented anew on every run), and a video
    inside the output folder is among files the study manages."""
    if video.path.is_dir() and is_within(output, video.path):
        raise ConfigError(
            f"{ctx} output: {output_text!r} is inside the video's image folder {video.source}; "
            "its files would be read as part of the video (choose an output outside it)"
        )
    if is_within(video.path, output):
        raise ConfigError(
            f"{ctx} the video {video.source} is inside the output folder {output_text!r}, "
            "whose files the study writes and replaces (move the video or choose another output)"
        )
