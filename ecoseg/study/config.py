"""Study files: read and validate the YAML file that names a study's videos and settings.

:func:`load_study` reads with ``yaml.SafeLoader`` only (no tag can construct Python objects) and
validates everything before any work starts; the result is a frozen :class:`Study` of
:class:`VideoSpec`, every setting resolved (see :mod:`ecoseg.study` for the file format).

The reading is shared out by concept: the keys a study file takes (``_keys``), the line of
every key (``_lines``), single values (``_values``), what each engine takes (``_engines``),
one video's entry (``_entry``), ``defaults:`` checked against the videos (``_defaults``) and the
videos checked against each other (``_across``); this module reads the file and its top level.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ecoseg._checks import check_path_arg
from ecoseg._paths import is_within, read_file_text
from ecoseg.errors import ConfigError, EcosegError
from ecoseg.study._across import Entries, default_names
from ecoseg.study._defaults import (
    check_default_image_size,
    check_default_model,
    check_default_params,
    check_default_size_taken,
    check_defaults_taken,
    normal_defaults,
    took_default,
)
from ecoseg.study._entry import parse_video
from ecoseg.study._keys import SETTING_KEYS, TOP_KEYS, VIDEO_KEYS, check_keys
from ecoseg.study._lines import ValueNotRead, at_line, key_line, key_lines, read_yaml, yaml_where
from ecoseg.study._values import opt_str, resolve
from ecoseg.study.records import Study, VideoSpec

__all__ = [
    "SETTING_KEYS",
    "TOP_KEYS",
    "VIDEO_KEYS",
    "Study",
    "VideoSpec",
    "load_study",
    "video_places",
]


def load_study(path: str | os.PathLike, *, require_videos: bool = True) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path : str or Path
        The study YAML file.
    require_videos : bool
        Refuse a video that is not there (default). ``False`` takes it as written, for a
        study whose videos were moved away after their stores were made:
        :func:`~ecoseg.study.run_study` keeps such a store and remakes the tables and the
        report from it (:mod:`ecoseg.study.moved`), and refuses a video it would need. A
        ``truth:`` store not there beside such a video (moved away with it) is taken as
        written too: the report says it is not found rather than scoring it.

    Returns
    -------
    Study

    Raises
    ------
    ConfigError
        One line naming the file, the line (of the offending key, of the ``defaults:`` key a
        video takes it from, or of the video's entry) and the key or video: unknown key,
        wrong type, a negative ``depth_m:``, missing video (unless
        ``require_videos=False``), prompt, checkpoint or truth file (unless its video is not
        there either, with ``require_videos=False``; a checkpoint with the hint of
        ``segment --checkpoint``: where to get the weights), bad calibration, unknown engine
        or model, a ``defaults:`` model, checkpoint, parameter, image size, GPU device,
        ``fast:``, ``detect_every:``, ``as_video:``, ``pretrained:`` or ``fps:`` no video
        takes, duplicate video names, an output that would escape the output folder, or a
        YAML tag that would construct an object.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a.mp4").write_bytes(b"")
    0
    >>> _ = (d / "study.yaml").write_text("name: demo\\noutput: out\\nvideos:\\n  - path: a.mp4\\n")
    >>> study = load_study(d / "study.yaml")
    >>> study.name, [v.name for v in study.videos], study.videos[0].engine
    ('demo', ['a'], 'classical')
    """
    import yaml

    check_path_arg(path, "load_study: path", "a study file (YAML)")  # not its dict
    text = read_file_text(path, "study file", kind="YAML")  # one line if it is no UTF-8 text
    path = Path(path)
    try:
        doc = read_yaml(text)
    except ValueNotRead as exc:  # `!!int x`, `notes: 2023-13-45`; a `date:` its key refuses
        raise ConfigError(f"{at_line(str(path), exc.line)} {exc}") from None
    except yaml.constructor.ConstructorError as exc:
        where = yaml_where(exc)
        raise ConfigError(
            f"{path}:{where} YAML tag not allowed in a study file ({exc.problem}); use plain values"
        ) from None
    except yaml.YAMLError as exc:
        where = yaml_where(exc)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}:{where} not valid YAML: {problem}") from None
    return _parse(doc, path.resolve(), path, key_lines(text), require_videos)


def video_places(
    study: Study, keys: tuple[str, ...], shown: str | os.PathLike | None = None
) -> dict[str, dict[str, str]]:
    """Where errors about each of ``keys`` (``""``: the entry itself) of every video point, as
    :func:`load_study` names them, by video name then key: ``"FILE: line N: videos[i]
    (name):"``, the line of the key in the video's entry, else of the ``defaults:`` key it
    takes (not of one it does not: a SAM 2 model for a concept video,
    :func:`~ecoseg.study._defaults.took_default`), else of the entry (no line when the file can
    no longer be read). The study file is read once for all videos; FILE is ``shown``
    (default: the study's path).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a.mp4").write_bytes(b"")
    0
    >>> text = "defaults:\\n  device: cpu\\nvideos:\\n  - path: a.mp4\\n"
    >>> _ = (d / "study.yaml").write_text(text)
    >>> study = load_study(d / "study.yaml")
    >>> video_places(study, ("device",))["a"]["device"].endswith("line 2: videos[0] (a):")
    True
    """
    import yaml

    try:
        text = read_file_text(study.path, "study file", kind="YAML")
        lines, doc = key_lines(text), read_yaml(text)
    except (EcosegError, ValueNotRead, yaml.YAMLError):
        lines, doc = {}, {}
    given = normal_defaults((doc.get("defaults") if isinstance(doc, dict) else None) or {})
    defaults = lines.get(("defaults",)) or {}
    items = lines.get(("videos",)) or {}
    file = str(study.path if shown is None else shown)
    places = {}
    for index, video in enumerate(study.videos):
        entry = lines.get(("videos", index)) or {}
        item, where = items.get(index), f"videos[{index}] ({video.name}):"
        taken = {  # the defaults' lines of the keys this video took from there
            key: line
            for key, line in defaults.items()
            if not isinstance(given, dict) or took_default(video, key, given.get(key))
        }
        places[video.name] = {
            key: f"{at_line(file, key_line(entry, taken, key), item)} {where}" for key in keys
        }
    return places


def _parse(doc: Any, path: Path, shown: Path, lines: dict, require_videos: bool) -> Study:
    where = str(shown)
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a study file is a mapping with keys {', '.join(TOP_KEYS)}")
    top = lines.get(()) or {}
    check_keys(doc, TOP_KEYS, where, "", top)
    folder = path.parent
    name = opt_str(doc, "name", where, top) or path.stem
    title = opt_str(doc, "title", where, top)
    description = opt_str(doc, "description", where, top)
    output_text = opt_str(doc, "output", where, top) or "output"
    output = resolve(folder, output_text)
    if is_within(folder, output):  # the study's folder or one above it (also "..")
        raise ConfigError(
            f"{at_line(where, top.get('output'))} output: {output_text!r} must be a folder of "
            "its own"
        )
    defaults = normal_defaults(doc.get("defaults") or {})  # `device: CPU` as cpu
    if not isinstance(defaults, dict):
        raise ConfigError(
            f"{at_line(where, top.get('defaults'))} defaults: must be a mapping of "
            f"{', '.join(SETTING_KEYS)}"
        )
    check_keys(defaults, SETTING_KEYS, where, "defaults: ", lines.get(("defaults",)))
    defaults_lines = lines.get(("defaults",)) or {}

    def at_default(key: str) -> str:
        return f"{at_line(where, defaults_lines.get(key), top.get('defaults'))} defaults:"

    check_default_model(defaults, at_default("model"))
    check_default_image_size(defaults, at_default("image_size"))
    check_default_params(defaults, at_default("params"))
    videos = doc.get("videos")
    if not isinstance(videos, list) or not videos:
        raise ConfigError(
            f"{at_line(where, top.get('videos'))} videos: must be a non-empty list of videos"
        )
    items = lines.get(("videos",)) or {}
    specs: list[VideoSpec] = []
    entries = Entries(where, output, output_text)
    named = default_names(videos, folder)  # file names shared by videos of several folders
    for i, entry in enumerate(videos):
        entry_lines = lines.get(("videos", i)) or {}
        spec = parse_video(
            entry,
            i,
            defaults,
            folder,
            where,
            entry_lines,
            defaults_lines=lines.get(("defaults",)),
            line=items.get(i),
            require_video=require_videos,
            default_name=named.get(i),
        )
        entries.add(spec, i, entry_lines, items.get(i))
        specs.append(spec)
    check_default_size_taken(defaults, videos, specs, at_default("image_size"))
    check_defaults_taken(defaults, videos, specs, at_default)
    return Study(
        path=path,
        name=name,
        output=output,
        videos=tuple(specs),
        title=title,
        description=description,
    )
