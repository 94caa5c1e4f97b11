"""Study files: read and validate the YAML file that names a study's videos and settings.

:func:`load_study` reads with ``yaml.safe_load`` only (no tag can construct Python objects) and
validates everything before any work starts; the result is a frozen :class:`Study` of
:class:`VideoSpec`, every setting resolved (see :mod:`ecoseg.study` for the file format).
"""

from __future__ import annotations

import datetime as _dt
import difflib
import math
import os
from pathlib import Path
from typing import Any

from ecoseg._checks import check_path_arg
from ecoseg._cli import one_line
from ecoseg._paths import check_checkpoint, check_file, folder_key, plain_name, read_file_text
from ecoseg.errors import CalibrationError, ConfigError, EcosegError
from ecoseg.io._common import missing_video
from ecoseg.provenance import class_key, one_spelling
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

#: The keys of a study file; ``defaults:`` takes :data:`SETTING_KEYS`, each video
#: :data:`VIDEO_KEYS` (docs/report.md shows them all).
TOP_KEYS = ("name", "title", "description", "output", "defaults", "videos")
SETTING_KEYS = (
    "engine",
    "model",
    "checkpoint",
    "pretrained",
    "image_size",
    "device",
    "params",
    "calibration",
    "species_model",
    "concepts",
    "detect_every",
    "fast",
    "fps",
)
VIDEO_KEYS = (
    "path",
    "name",
    "site",
    "transect",
    "date",
    "depth_m",
    "prompts",
    "auto",
    "truth",
    "notes",
    *SETTING_KEYS,
)
_FALLBACK_MODELS = (
    "sam2-tiny",
    "sam2-small",
    "sam2-base-plus",
    "sam2-large",
    "sam2.1-tiny",
    "sam2.1-small",
    "sam2.1-base-plus",
    "sam2.1-large",
)


def load_study(path: str | os.PathLike) -> Study:
    """Read and validate a study file.

    Parameters
    ----------
    path : str or Path
        The study YAML file.

    Returns
    -------
    Study

    Raises
    ------
    ConfigError
        One line naming the file, the line (of the offending key, of the ``defaults:`` key a
        video takes it from, or of the video's entry) and the key or video: unknown key,
        wrong type, missing video/prompt/checkpoint/truth file (a checkpoint with the hint of
        ``segment --checkpoint``: where to get the weights), bad calibration, unknown engine
        or model, duplicate video names, an output that would escape the output folder, or a
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
    try:
        text = read_file_text(path, "study file", kind="YAML")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a text (YAML) file") from None
    path = Path(path)
    try:
        doc = yaml.safe_load(text)
    except yaml.constructor.ConstructorError as exc:
        where = _yaml_where(exc)
        raise ConfigError(
            f"{path}:{where} YAML tag not allowed in a study file ({exc.problem}); use plain values"
        ) from None
    except yaml.YAMLError as exc:
        where = _yaml_where(exc)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}:{where} not valid YAML: {problem}") from None
    except ValueError as exc:  # a date YAML cannot build (2023-13-45): not a bug, a typo
        raise ConfigError(f"{path}: not a valid date or value ({exc})") from None
    return _parse(doc, path.resolve(), shown=path, lines=_key_lines(text))


def video_places(study: Study, keys: tuple[str, ...]) -> dict[str, dict[str, str]]:
    """Where errors about each of ``keys`` (``""``: the entry itself) of every video point, as
    :func:`load_study` names them, by video name then key: ``"FILE: line N: videos[i]
    (name):"``, the line of the key in the video's entry, else of the ``defaults:`` key it
    takes, else of the entry (no line when the file can no longer be read). The study file is
    read once for all videos.

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
    try:
        lines = _key_lines(read_file_text(study.path, "study file", kind="YAML"))
    except (EcosegError, UnicodeDecodeError):
        lines = {}
    defaults = lines.get(("defaults",)) or {}
    items = lines.get(("videos",)) or {}
    places = {}
    for index, video in enumerate(study.videos):
        entry = lines.get(("videos", index)) or {}
        item, where = items.get(index), f"videos[{index}] ({video.name}):"
        places[video.name] = {
            key: f"{_line(str(study.path), _key_line(entry, defaults, key), item)} {where}"
            for key in keys
        }
    return places


def _key_line(entry: dict, defaults: dict, key: str) -> int | None:
    """The line of ``key`` in a video's entry, else in ``defaults:`` (none for ``""``)."""
    return entry.get(key, defaults.get(key)) if key else None


def _key_lines(text: str) -> dict[tuple, dict[str | int, int]]:
    """The line of every mapping key, by the path of its mapping (``()``, ``("defaults",)``,
    ``("videos", 0)``, ...), and of every list item (by its index, under the list's path), so
    an error about a key, a value or a video is named with its line."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:  # pragma: no cover - safe_load read the same text
        return {}
    lines: dict[tuple, dict[str | int, int]] = {}

    def walk(node, at: tuple) -> None:
        if isinstance(node, yaml.MappingNode):
            here = lines.setdefault(at, {})
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    here.setdefault(key.value, key.start_mark.line + 1)
                    walk(value, (*at, key.value))
        elif isinstance(node, yaml.SequenceNode):
            here = lines.setdefault(at, {})
            for i, value in enumerate(node.value):
                here.setdefault(i, value.start_mark.line + 1)
                walk(value, (*at, i))

    walk(root, ())
    return lines


def _yaml_where(exc) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f" line {mark.line + 1}:" if mark is not None else ""


def _line(where: str, *lines: int | None) -> str:
    """``where`` and the first known line: ``"study.yaml: line 7:"`` (``"study.yaml:"``)."""
    line = next((n for n in lines if n is not None), None)
    return f"{where}: line {line}:" if line is not None else f"{where}:"


def _parse(doc: Any, path: Path, shown: Path, lines: dict | None = None) -> Study:
    where = str(shown)
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a study file is a mapping with keys {', '.join(TOP_KEYS)}")
    lines = lines or {}
    top = lines.get(()) or {}
    _check_keys(doc, TOP_KEYS, where, "", top)
    folder = path.parent
    name = _opt_str(doc, "name", where, top) or path.stem
    title = _opt_str(doc, "title", where, top)
    description = _opt_str(doc, "description", where, top)
    output_text = _opt_str(doc, "output", where, top) or "output"
    output = _resolve(folder, output_text)
    if output == folder or output in folder.parents:
        raise ConfigError(
            f"{_line(where, top.get('output'))} output: {output_text!r} must be a folder of its own"
        )
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(
            f"{_line(where, top.get('defaults'))} defaults: must be a mapping of "
            f"{', '.join(SETTING_KEYS)}"
        )
    _check_keys(defaults, SETTING_KEYS, where, "defaults: ", lines.get(("defaults",)))
    videos = doc.get("videos")
    if not isinstance(videos, list) or not videos:
        raise ConfigError(
            f"{_line(where, top.get('videos'))} videos: must be a non-empty list of videos"
        )
    items = lines.get(("videos",)) or {}
    specs: list[VideoSpec] = []
    seen: dict[str, tuple[int, str]] = {}
    sources: dict[Path, list[tuple[int, VideoSpec]]] = {}
    sites: dict[str, tuple[int, str]] = {}
    for i, entry in enumerate(videos):
        entry_lines = lines.get(("videos", i)) or {}
        spec = _parse_video(
            entry,
            i,
            defaults,
            folder,
            where,
            entry_lines,
            defaults_lines=lines.get(("defaults",)),
            line=items.get(i),
        )
        here = _line(where, entry_lines.get("name"), items.get(i))
        j, other = seen.get(folder_key(spec.name), (None, None))
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
        seen[folder_key(spec.name)] = (i, spec.name)
        at_path = _line(where, entry_lines.get("path"), items.get(i))
        _check_apart(spec, output, output_text, f"{at_path} videos[{i}] ({spec.name}):")
        _check_once(spec, i, sources.setdefault(spec.path.resolve(), []), f"{at_path} videos[{i}]")
        if spec.site is not None:
            at_site = _line(where, entry_lines.get("site"), items.get(i))
            j, other = sites.setdefault(class_key(spec.site), (i, spec.site))
            if other != spec.site:  # two sites of the report, where one was meant
                raise ConfigError(
                    f"{at_site} videos[{i}] ({spec.name}): site {spec.site!r} differs from "
                    f"{other!r} (videos[{j}]) only in case or spacing; write the site one way"
                )
        store = output / "stores" / f"{spec.name}.zarr"
        if store.resolve().parent != (output / "stores").resolve():
            raise ConfigError(
                f"{_line(where, entry_lines.get('name'), items.get(i))} videos[{i}] "
                f"({spec.name}): its store would escape the output folder"
            )
        specs.append(spec)
    return Study(
        path=path,
        name=name,
        output=output,
        videos=tuple(specs),
        title=title,
        description=description,
    )


# what makes a video's masks and names: one video twice with all of them alike is one entry
# copied, whose numbers would count twice in its site's mean
_SETTINGS = (
    "engine", "model", "checkpoint", "pretrained", "image_size", "params", "prompts",
    "species_model", "concepts", "detect_every", "fast", "auto", "fps",
)  # fmt: skip


def _check_once(spec: VideoSpec, i: int, earlier: list, ctx: str) -> None:
    """A video listed before (``earlier``: its entries so far) is refused at another site
    (one clip is footage of one site) or with the same settings (its numbers counted twice);
    one video with other settings at its one site (two engines compared) is kept."""
    for j, other in earlier:
        if other.site != spec.site:
            raise ConfigError(
                f"{ctx} ({spec.name}): the video {spec.source} is also videos[{j}] ({other.name}) "
                f"at site {other.site!r}, not {spec.site!r}; one video is footage of one site"
            )
        if all(getattr(other, k) == getattr(spec, k) for k in _SETTINGS):
            raise ConfigError(
                f"{ctx} ({spec.name}): the video {spec.source} is also videos[{j}] ({other.name}) "
                "with the same settings; its numbers would count twice: list each video once"
            )
    earlier.append((i, spec))


def _check_apart(video: VideoSpec, output: Path, output_text: str, ctx: str) -> None:
    """The output folder and the video's own files stay apart: a study writing into an image
    folder would change the video it fingerprints (segmented anew on every run), and a video
    inside the output folder is among files the study manages."""
    out, source = output.resolve(), video.path.resolve()
    if video.path.is_dir() and (out == source or source in out.parents):
        raise ConfigError(
            f"{ctx} output: {output_text!r} is inside the video's image folder {video.source}; "
            "its files would be read as part of the video (choose an output outside it)"
        )
    if out == source or out in source.parents:
        raise ConfigError(
            f"{ctx} the video {video.source} is inside the output folder {output_text!r}, "
            "whose files the study writes and replaces (move the video or choose another output)"
        )


def _parse_video(
    entry: Any,
    i: int,
    defaults: dict,
    folder: Path,
    where: str,
    lines: dict | None = None,
    *,
    defaults_lines: dict | None = None,
    line: int | None = None,
) -> VideoSpec:
    """One entry of ``videos:``; ``lines`` are its keys' lines, ``defaults_lines`` those of
    ``defaults:`` and ``line`` the entry's own, so every error names the line to look at."""
    label = f"videos[{i}]"
    lines = lines or {}
    defaults_lines = defaults_lines or {}

    def at(key: str | None = None) -> str:
        """``"FILE: line N: videos[i] (name):"`` with the line where ``key`` is written (the
        entry's, else the defaults' value it takes), else the entry's line."""
        found = lines.get(key, defaults_lines.get(key)) if key is not None else None
        return f"{_line(where, found, line)} {label}:"

    if isinstance(entry, str):
        entry = {"path": entry}
        lines = {"path": line} if line is not None else {}
    if not isinstance(entry, dict):
        raise ConfigError(f"{at()} must be a mapping with at least `path:`")
    if "path" not in entry or entry["path"] in (None, ""):
        raise ConfigError(f"{at('path')} missing `path:` (the video file)")
    source = entry["path"]
    if not isinstance(source, str):
        raise ConfigError(f"{at('path')} path: must be a string, got {source!r}")
    name = entry.get("name")
    if name is None:
        name = Path(source.rstrip("/")).stem
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{at('name')} name: must be a non-empty string")
    if (plain := plain_name(name)) is None:
        raise ConfigError(
            f"{at('name')} name {name!r} would escape the output folder or is not a "
            "plain file name (use letters, digits, spaces, '.', '_' and '-')"
        )
    name = plain  # NFC: the same store whichever machine typed or listed the name
    label = f"{label} ({name})"
    _check_keys(entry, VIDEO_KEYS, where, f"{label}: ", lines)
    video_path = _resolve(folder, source)
    if not video_path.exists():
        raise ConfigError(f"{at('path')} {missing_video(source)}")

    merged = {k: defaults[k] for k in SETTING_KEYS if k in defaults}
    merged.update({k: entry[k] for k in SETTING_KEYS if k in entry})

    prompts_text = entry.get("prompts")
    auto = entry.get("auto")
    if auto is not None and not isinstance(auto, bool):
        raise ConfigError(f"{at('auto')} auto: must be true or false, got {auto!r}")
    prompts = None
    if prompts_text is not None:
        if not isinstance(prompts_text, str):
            raise ConfigError(f"{at('prompts')} prompts: must be a file path, got {prompts_text!r}")
        if auto:
            raise ConfigError(f"{at('auto')} give either `prompts:` or `auto: true`, not both")
        prompts = _study_file(folder, prompts_text, "prompt file", at("prompts"))
    elif auto is False:
        raise ConfigError(f"{at('auto')} `auto: false` needs a `prompts:` file")

    from ecoseg.engine import ENGINES, check_device, check_fast, check_image_size

    engine = merged.get("engine")
    concepts, detect_every = _parse_concepts(merged, at)
    if concepts or engine == "sam3" or str(merged.get("model", "")).startswith("sam3"):
        if engine not in (None, "sam3"):
            raise ConfigError(
                f"{at('engine')} concepts and SAM 3 models are tracked by SAM 3: drop "
                f"`engine: {engine}`"
            )
        if auto:
            raise ConfigError(f"{at('auto')} SAM 3 concept tracking takes no `auto: true`")
        engine = "sam3"
    elif "detect_every" in merged:
        raise ConfigError(
            f"{at('detect_every')} detect_every: needs `concepts:` (SAM 3 concept tracking)"
        )
    if engine is None:
        engine = "sam2" if prompts is not None or auto else "classical"
    if engine != "sam3" and engine not in ENGINES:
        raise ConfigError(
            f"{at('engine')} engine: unknown engine {engine!r} (choose {', '.join(ENGINES)})"
        )
    if auto and engine != "sam2":
        raise ConfigError(
            f"{at('engine')} `auto: true` is SAM 2's automatic discovery; drop `engine: {engine}`"
        )
    if engine == "sam2" and prompts is None and not auto:
        raise ConfigError(
            f"{at('engine')} the sam2 engine needs a `prompts:` file (or `auto: true`)"
        )
    if engine == "classical" and prompts is not None:
        raise ConfigError(
            f"{at('prompts')} the classical engine takes no prompts; set `engine: sam2`"
        )

    if engine == "sam3":
        model = merged.get("model", "sam3")
        models = _sam3_names()
        if not isinstance(model, str) or model not in models:
            hint = _did_you_mean(str(model), models)
            raise ConfigError(f"{at('model')} model: unknown SAM 3 model {model!r}{hint}")
        _check_concept_prompts(prompts, prompts_text, concepts, at("prompts"))
    else:
        model = merged.get("model", "sam2.1-tiny")
        models = _model_names()
        if not isinstance(model, str) or model not in models:
            hint = _did_you_mean(str(model), models)
            raise ConfigError(f"{at('model')} model: unknown SAM 2 variant {model!r}{hint}")

    checkpoint = merged.get("checkpoint")
    if checkpoint is not None:
        if not isinstance(checkpoint, str):
            raise ConfigError(
                f"{at('checkpoint')} checkpoint: must be a file path, got {checkpoint!r}"
            )
        checkpoint_path = _resolve(folder, checkpoint)
        try:  # the message `segment --checkpoint` gives: where to get the weights
            check_checkpoint(checkpoint_path, model, shown=checkpoint, option="`checkpoint:`")
        except ConfigError as exc:
            raise ConfigError(f"{at('checkpoint')} {exc}") from None
        checkpoint = checkpoint_path

    pretrained = merged.get("pretrained", True)
    if not isinstance(pretrained, bool):
        raise ConfigError(
            f"{at('pretrained')} pretrained: must be true or false, got {pretrained!r}"
        )
    fast = merged.get("fast", False)
    if not isinstance(fast, bool):
        raise ConfigError(f"{at('fast')} fast: must be true or false, got {fast!r}")
    try:
        check_fast(fast, engine)
    except ConfigError as exc:
        raise ConfigError(f"{at('fast')} {exc}") from None
    image_size = merged.get("image_size")
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, int) or image_size <= 0
    ):
        raise ConfigError(
            f"{at('image_size')} image_size: must be a positive integer, got {image_size!r}"
        )
    if engine == "classical" and "image_size" not in entry:
        image_size = None  # the defaults' size is for the videos of other engines
    try:  # the size the network takes (the classical engine has none), as segment() checks it
        check_image_size(image_size, engine, model)
    except ConfigError as exc:
        raise ConfigError(f"{at('image_size')} {exc}") from None
    device = merged.get("device")
    from ecoseg._device import DEVICES

    if device is not None and device not in DEVICES and not str(device).startswith("cuda:"):
        raise ConfigError(
            f"{at('device')} device: must be one of {', '.join(DEVICES)}, got {device!r}"
        )
    if engine == "classical" and "device" not in entry and device not in (None, "auto", "cpu"):
        device = None  # the defaults' GPU is for the videos of other engines
    try:  # a GPU for the motion tracker, as segment() refuses it
        check_device(device, engine, None, "remove `device:` or set `device: cpu`")
    except ConfigError as exc:
        raise ConfigError(f"{at('device')} {exc}") from None
    params = merged.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{at('params')} params: must be a mapping of engine parameters")
    params = _check_params(engine, params, at("params"))
    if params and engine == "sam2" and prompts is not None:  # nothing would read them
        if "params" in entry:
            raise ConfigError(
                f"{at('params')} params: the sam2 engine with prompts takes no parameters"
            )
        params = {}  # the defaults' settings are for the videos of other engines

    calibration, spec = _parse_calibration(merged.get("calibration"), at("calibration"))
    fps = _parse_fps(merged.get("fps"), video_path, source, at("fps"))

    truth = entry.get("truth")
    if truth is not None:
        if not isinstance(truth, str):
            raise ConfigError(f"{at('truth')} truth: must be a store path, got {truth!r}")
        truth_path = _resolve(folder, truth)
        if not truth_path.exists():
            raise ConfigError(f"{at('truth')} {truth}: truth store not found")
        truth = truth_path

    species_model = merged.get("species_model")
    if species_model is not None:
        if not isinstance(species_model, str):
            raise ConfigError(
                f"{at('species_model')} species_model: must be a file path, got {species_model!r}"
            )
        species_model = _study_file(
            folder, species_model, "species model file", at("species_model")
        )

    depth = entry.get("depth_m")
    if depth is not None:
        if (
            isinstance(depth, bool)
            or not isinstance(depth, int | float)
            or not math.isfinite(depth)
        ):
            raise ConfigError(f"{at('depth_m')} depth_m: must be a number of metres, got {depth!r}")
        depth = float(depth)

    return VideoSpec(
        name=name,
        path=video_path,
        source=source,
        site=_opt_text(entry, "site", at("site")),
        transect=_opt_text(entry, "transect", at("transect")),
        date=_parse_date(entry.get("date"), at("date")),
        depth_m=depth,
        notes=_opt_text(entry, "notes", at("notes")),
        calibration=calibration,
        calibration_spec=spec,
        prompts=prompts,
        engine=engine,
        model=model,
        checkpoint=checkpoint,
        pretrained=pretrained,
        image_size=image_size,
        device=device,
        params=params,
        truth=truth,
        species_model=species_model,
        concepts=concepts,
        detect_every=detect_every,
        fast=fast,
        auto=bool(auto),
        fps=fps,
    )


def _parse_fps(value: Any, video: Path, source: str, ctx: str) -> float | None:
    """``fps:``, an image folder's frame rate: a number above 0, for an image folder only."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{ctx} fps: must be a number of frames per second, got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"{ctx} fps: must be a number of frames per second above 0, got {value}")
    if not video.is_dir():
        raise ConfigError(
            f"{ctx} fps: applies to image folders only; {source} is a video file, timed by its "
            "own timestamps (set `fps:` on the image folders' entries, not in `defaults:`)"
        )
    return float(value)


def _parse_concepts(merged: dict, at) -> tuple[tuple[str, ...], int]:
    """``concepts:`` (a name or a list of names) and ``detect_every:``, checked; ``at(key)``
    names the file, the key's line and the video."""
    ctx = at("concepts")
    concepts = merged.get("concepts")
    if concepts is None:
        concepts = []
    elif isinstance(concepts, str):
        concepts = [concepts]
    if not isinstance(concepts, list) or not all(
        isinstance(c, str) and c.strip() for c in concepts
    ):
        raise ConfigError(f"{ctx} concepts: must be a name or a list of names, got {concepts!r}")
    names = [one_spelling(c) for c in concepts]  # the spelling a Concept keeps
    keys = [class_key(n) for n in names]  # "Parrotfish" and "parrotfish": one species
    dup = next((k for k, key in enumerate(keys) if keys.index(key) < k), None)
    if dup is not None:
        first = names[keys.index(keys[dup])]
        if first == names[dup]:
            raise ConfigError(f"{ctx} concepts: {first!r} is given twice")
        raise ConfigError(
            f"{ctx} concepts: {first!r} and {names[dup]!r} differ only in case or spacing: "
            "their tracks would be counted as two species; give the concept once"
        )
    every = merged.get("detect_every", 1)
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ConfigError(
            f"{at('detect_every')} detect_every: must be a positive integer, got {every!r}"
        )
    return tuple(names), every


def _check_concept_prompts(prompts: Path | None, shown, concepts, ctx: str) -> None:
    """A SAM 3 video has something to find: ``concepts:`` or its prompt file's concepts."""
    from ecoseg.errors import PromptError
    from ecoseg.prompts import combine_concepts, load_prompts

    given = None
    if prompts is not None:
        try:
            given = load_prompts(prompts)
            combine_concepts(given.concepts, concepts, str(shown or prompts))  # alike names
        except PromptError as exc:
            raise ConfigError(f"{ctx} prompts: {one_line(exc)}") from None
    if not concepts and (given is None or not given.concepts):
        raise ConfigError(
            f"{ctx} SAM 3 needs something to find: `concepts: [name, ...]` or a `prompts:` "
            f"file with concepts" + (f" ({shown} has none)" if shown else "")
        )


def _check_keys(
    mapping: dict, allowed: tuple[str, ...], where: str, ctx: str, lines: dict | None = None
) -> None:
    for key in mapping:
        if key not in allowed:
            hint = _did_you_mean(str(key), allowed)
            line = (lines or {}).get(str(key))
            at = f" line {line}:" if line is not None else ""
            raise ConfigError(
                f"{where}:{at} {ctx}unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"
            )


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _opt_str(mapping: dict, key: str, where: str, lines: dict) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{_line(where, lines.get(key))} {key}: must be a string, got {value!r}")
    return value


def _opt_text(mapping: dict, key: str, ctx: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f"{ctx} {key}: must be text, got {value!r}")
    return str(value)


def _parse_date(value: Any, ctx: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, _dt.datetime):
        return value.date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value).isoformat()
        except ValueError:
            pass
    raise ConfigError(f"{ctx} date: must be a date like 2024-03-12, got {value!r}")


def _parse_calibration(value: Any, ctx: str):
    if value is None:
        return None, None
    from ecoseg.measure.calibration import Calibration, parse_calibration

    try:
        if isinstance(value, bool):
            raise CalibrationError(f"expected mm per pixel or a spec, got {value!r}")
        if isinstance(value, int | float):
            return Calibration.from_scale(float(value)), float(value)
        if isinstance(value, str):
            return parse_calibration(value), value
        raise CalibrationError(
            f"expected mm per pixel, 'scale-bar:x0,y0,x1,y1,LENGTH_MM' or "
            f"'lasers:x0,y0,x1,y1,SPACING_MM', got {value!r}"
        )
    except CalibrationError as exc:
        raise ConfigError(f"{ctx} calibration: {one_line(exc)}") from None


def _check_params(engine: str, params: dict, ctx: str) -> dict:
    params = {str(k): v for k, v in params.items()}
    if engine == "classical":
        try:
            from ecoseg.engine.classical import ClassicalParams
        except ImportError:  # pragma: no cover - engine not installed
            return params
        try:
            ClassicalParams(**params)
        except TypeError as exc:
            raise ConfigError(f"{ctx} params: {one_line(exc)}") from None
        except (ValueError, EcosegError) as exc:
            raise ConfigError(f"{ctx} params: {one_line(exc)}") from None
    elif engine == "sam3":
        if "detect_every" in params:
            raise ConfigError(f"{ctx} params: give detect_every as `detect_every:` of its own")
        try:
            from ecoseg.engine.concept_rules import ConceptSettings
        except ImportError:  # pragma: no cover - torch not installed
            return params
        try:
            ConceptSettings(**params)
        except (TypeError, ValueError, EcosegError) as exc:
            raise ConfigError(f"{ctx} params: {one_line(exc)}") from None
    return params


def _sam3_names() -> tuple[str, ...]:
    from ecoseg.sam3.config import PRESETS

    return tuple(PRESETS)


def _model_names() -> tuple[str, ...]:
    try:
        from ecoseg.sam2.variants import VARIANTS
    except Exception:  # noqa: BLE001 - the network package is optional for validation
        return _FALLBACK_MODELS
    return tuple(VARIANTS)


def _study_file(folder: Path, text: str, what: str, where: str) -> Path:
    """The JSON file ``text`` of a study entry (relative to the study's ``folder``), refused as
    :func:`~ecoseg._paths.check_file` does, after the entry's place in the study file."""
    try:
        return check_file(_resolve(folder, text), what, kind="JSON", shown=text)
    except ConfigError as exc:
        raise ConfigError(f"{where} {exc}") from None


def _resolve(folder: Path, text: str) -> Path:
    p = Path(os.path.expanduser(text))
    return p if p.is_absolute() else (folder / p)
