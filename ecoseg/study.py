"""Field studies: one YAML file names the videos, their metadata and how to process them.

A study file is read with :func:`load_study` (``yaml.safe_load`` only, so no tag can construct
Python objects) and validated in full before any work starts. :func:`run_study` (``ecoseg study
STUDY.yaml``) then makes one mask store per video, the measurement tables combined across videos
(with video/site/transect/date/depth columns) and a self-contained HTML report, all under the
study's output folder::

    output/
      stores/<video>.zarr        one mask store per video
      tables/<table>.parquet     regions, tracks, counts, maxn, cover (+ .csv), all videos
      tables/videos/<video>/     the per-video tables the combined ones are built from
      report.html                the report (ecoseg.report)
      ecoseg-study.json          fingerprints of everything above (the manifest)

Re-running is incremental. Every store is made from a fingerprint of what determines its
content (video sha256, engine, model variant, checkpoint sha256, image size, parameters,
prompt file content); a finished store whose fingerprint is unchanged is kept. Per-video tables
have a fingerprint of their store plus the calibration, so changing a calibration re-measures
that video without segmenting it again. Combined tables and the report are rewritten only when
something they are made of changed, and their bytes are deterministic.

Example study file (paths are relative to the study file)::

    name: North vs South reef, March 2024
    output: out
    defaults:
      engine: classical
      calibration: 0.5            # mm per pixel, or "scale-bar:x0,y0,x1,y1,LENGTH_MM"
    videos:
      - path: videos/north.mp4
        site: North
        transect: T1
        date: 2024-03-12
        depth_m: 6.5
      - path: videos/south.mp4
        site: South
        transect: T1
        calibration: "lasers:100,80,140,80,100"
        truth: truth/south.zarr    # optional ground truth: adds an accuracy section
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import difflib
import hashlib
import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ecoseg._cli import logger, one_line
from ecoseg.batch.cluster import check_count, connect, local_workers, run_tasks, task_resources
from ecoseg.batch.jobs import Job, run_job, store_status
from ecoseg.errors import CalibrationError, ConfigError, EcosegError
from ecoseg.measure.tables import combine_tables, read_table, write_table

__all__ = [
    "Study",
    "StudyResult",
    "VideoSpec",
    "load_study",
    "run_study",
    "TABLES",
    "MANIFEST",
]

TABLES = ("regions", "tracks", "counts", "maxn", "cover")
MANIFEST = "ecoseg-study.json"
MANIFEST_VERSION = 1

_TOP_KEYS = ("name", "title", "description", "output", "defaults", "videos")
_SETTING_KEYS = (
    "engine",
    "model",
    "checkpoint",
    "pretrained",
    "image_size",
    "device",
    "params",
    "calibration",
)
_VIDEO_KEYS = (
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
    *_SETTING_KEYS,
)
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
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


# --------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class VideoSpec:
    """One video of a study, validated, with every setting resolved.

    Attributes
    ----------
    name : str
        Unique name (default: the video file's stem); names the store and table rows.
    path : Path
        The video file (or image folder), absolute.
    source : str
        The path as written in the study file (relative to it), for display.
    site, transect, date, notes : str or None
    depth_m : float or None
    calibration : object or None
        A :class:`ecoseg.measure.calibration.Calibration`.
    calibration_spec : float, str or None
        The calibration as written (number of mm per pixel, or a scale-bar/lasers spec).
    prompts : Path or None
        Prompt file (sam2 engine).
    engine, model : str
    checkpoint : Path or None
    pretrained : bool
    image_size : int or None
    device : str or None
    params : dict
        Engine parameters.
    truth : Path or None
        Ground-truth store; adds an accuracy section to the report.
    """

    name: str
    path: Path
    source: str
    site: str | None = None
    transect: str | None = None
    date: str | None = None
    depth_m: float | None = None
    notes: str | None = None
    calibration: Any = None
    calibration_spec: float | str | None = None
    prompts: Path | None = None
    engine: str = "classical"
    model: str = "sam2.1-tiny"
    checkpoint: Path | None = None
    pretrained: bool = True
    image_size: int | None = None
    device: str | None = None
    params: dict = field(default_factory=dict)
    truth: Path | None = None

    @property
    def meta(self) -> dict[str, Any]:
        """The metadata columns added to every table row of this video."""
        return {
            "video": self.name,
            "site": self.site,
            "transect": self.transect,
            "date": self.date,
            "depth_m": self.depth_m,
        }


@dataclass(frozen=True)
class Study:
    """A validated study file (see :func:`load_study`)."""

    path: Path
    name: str
    output: Path
    videos: tuple[VideoSpec, ...]
    title: str | None = None
    description: str | None = None

    @property
    def folder(self) -> Path:
        """The folder holding the study file; relative paths in the study start here."""
        return self.path.parent

    def store_path(self, video: VideoSpec) -> Path:
        """Where the mask store of ``video`` lives."""
        return self.output / "stores" / f"{video.name}.zarr"

    def video(self, name: str) -> VideoSpec:
        """The video called ``name``."""
        for v in self.videos:
            if v.name == name:
                return v
        raise KeyError(name)

    def relative(self, path: str | os.PathLike) -> str:
        """``path`` relative to the study folder (as written, with ``/``), for display."""
        return _relpath(path, self.folder)


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
        One line naming the file and the offending key or video: unknown key, wrong type,
        missing video/prompt/checkpoint/truth file, bad calibration, unknown engine or model,
        duplicate video names, an output that would escape the output folder, or a YAML tag
        that would construct an object.

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

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: study file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the study file ({exc})") from None
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
    return _parse(doc, path.resolve(), shown=path)


def _yaml_where(exc) -> str:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return f" line {mark.line + 1}:" if mark is not None else ""


def _parse(doc: Any, path: Path, shown: Path) -> Study:
    where = str(shown)
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: a study file is a mapping with keys {', '.join(_TOP_KEYS)}")
    _check_keys(doc, _TOP_KEYS, where, "")
    folder = path.parent
    name = _opt_str(doc, "name", where, "") or path.stem
    title = _opt_str(doc, "title", where, "")
    description = _opt_str(doc, "description", where, "")
    output_text = _opt_str(doc, "output", where, "") or "output"
    output = _resolve(folder, output_text)
    if output == folder or output in folder.parents:
        raise ConfigError(f"{where}: output: {output_text!r} must be a folder of its own")
    defaults = doc.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise ConfigError(f"{where}: defaults: must be a mapping of {', '.join(_SETTING_KEYS)}")
    _check_keys(defaults, _SETTING_KEYS, where, "defaults: ")
    videos = doc.get("videos")
    if not isinstance(videos, list) or not videos:
        raise ConfigError(f"{where}: videos: must be a non-empty list of videos")
    specs: list[VideoSpec] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(videos):
        spec = _parse_video(entry, i, defaults, folder, where)
        if spec.name in seen:
            raise ConfigError(
                f"{where}: videos[{i}]: duplicate video name {spec.name!r} (also videos"
                f"[{seen[spec.name]}]); give each video a unique `name:`"
            )
        seen[spec.name] = i
        store = output / "stores" / f"{spec.name}.zarr"
        if store.resolve().parent != (output / "stores").resolve():
            raise ConfigError(
                f"{where}: videos[{i}] ({spec.name}): its store would escape the output folder"
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


def _parse_video(entry: Any, i: int, defaults: dict, folder: Path, where: str) -> VideoSpec:
    label = f"videos[{i}]"
    if isinstance(entry, str):
        entry = {"path": entry}
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: {label}: must be a mapping with at least `path:`")
    if "path" not in entry or entry["path"] in (None, ""):
        raise ConfigError(f"{where}: {label}: missing `path:` (the video file)")
    source = entry["path"]
    if not isinstance(source, str):
        raise ConfigError(f"{where}: {label}: path: must be a string, got {source!r}")
    name = entry.get("name")
    if name is None:
        name = Path(source.rstrip("/")).stem
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: {label}: name: must be a non-empty string")
    if not _NAME_RE.match(name) or name in (".", ".."):
        raise ConfigError(
            f"{where}: {label}: name {name!r} would escape the output folder or is not a "
            "plain file name (use letters, digits, '.', '_' and '-')"
        )
    label = f"{label} ({name})"
    _check_keys(entry, _VIDEO_KEYS, where, f"{label}: ")
    video_path = _resolve(folder, source)
    if not video_path.exists():
        raise ConfigError(f"{where}: {label}: video file not found: {source}")

    merged = {k: defaults[k] for k in _SETTING_KEYS if k in defaults}
    merged.update({k: entry[k] for k in _SETTING_KEYS if k in entry})
    ctx = f"{where}: {label}:"

    prompts_text = entry.get("prompts")
    auto = entry.get("auto")
    if auto is not None and not isinstance(auto, bool):
        raise ConfigError(f"{ctx} auto: must be true or false, got {auto!r}")
    prompts = None
    if prompts_text is not None:
        if not isinstance(prompts_text, str):
            raise ConfigError(f"{ctx} prompts: must be a file path, got {prompts_text!r}")
        if auto:
            raise ConfigError(f"{ctx} give either `prompts:` or `auto: true`, not both")
        prompts = _resolve(folder, prompts_text)
        if not prompts.is_file():
            raise ConfigError(f"{ctx} prompts file not found: {prompts_text}")
    elif auto is False:
        raise ConfigError(f"{ctx} `auto: false` needs a `prompts:` file")

    from ecoseg.engine import ENGINES

    engine = merged.get("engine")
    if engine is None:
        engine = "sam2" if prompts is not None else "classical"
    if engine not in ENGINES:
        raise ConfigError(f"{ctx} engine: unknown engine {engine!r} (choose {', '.join(ENGINES)})")
    if engine == "sam2" and prompts is None:
        raise ConfigError(f"{ctx} the sam2 engine needs a `prompts:` file")
    if engine == "classical" and prompts is not None:
        raise ConfigError(f"{ctx} the classical engine takes no prompts; set `engine: sam2`")

    model = merged.get("model", "sam2.1-tiny")
    models = _model_names()
    if not isinstance(model, str) or model not in models:
        hint = _did_you_mean(str(model), models)
        raise ConfigError(f"{ctx} model: unknown SAM 2 variant {model!r}{hint}")

    checkpoint = merged.get("checkpoint")
    if checkpoint is not None:
        if not isinstance(checkpoint, str):
            raise ConfigError(f"{ctx} checkpoint: must be a file path, got {checkpoint!r}")
        checkpoint_path = _resolve(folder, checkpoint)
        if not checkpoint_path.is_file():
            raise ConfigError(f"{ctx} checkpoint file not found: {checkpoint}")
        checkpoint = checkpoint_path

    pretrained = merged.get("pretrained", True)
    if not isinstance(pretrained, bool):
        raise ConfigError(f"{ctx} pretrained: must be true or false, got {pretrained!r}")
    image_size = merged.get("image_size")
    if image_size is not None and (
        isinstance(image_size, bool) or not isinstance(image_size, int) or image_size <= 0
    ):
        raise ConfigError(f"{ctx} image_size: must be a positive integer, got {image_size!r}")
    device = merged.get("device")
    if device is not None and device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise ConfigError(f"{ctx} device: must be cpu or cuda, got {device!r}")
    params = merged.get("params") or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{ctx} params: must be a mapping of engine parameters")
    params = _check_params(engine, params, ctx)

    calibration, spec = _parse_calibration(merged.get("calibration"), ctx)

    truth = entry.get("truth")
    if truth is not None:
        if not isinstance(truth, str):
            raise ConfigError(f"{ctx} truth: must be a store path, got {truth!r}")
        truth_path = _resolve(folder, truth)
        if not truth_path.exists():
            raise ConfigError(f"{ctx} truth store not found: {truth}")
        truth = truth_path

    depth = entry.get("depth_m")
    if depth is not None:
        if (
            isinstance(depth, bool)
            or not isinstance(depth, int | float)
            or not math.isfinite(depth)
        ):
            raise ConfigError(f"{ctx} depth_m: must be a number of metres, got {depth!r}")
        depth = float(depth)

    return VideoSpec(
        name=name,
        path=video_path,
        source=source,
        site=_opt_text(entry, "site", ctx),
        transect=_opt_text(entry, "transect", ctx),
        date=_parse_date(entry.get("date"), ctx),
        depth_m=depth,
        notes=_opt_text(entry, "notes", ctx),
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
    )


def _check_keys(mapping: dict, allowed: tuple[str, ...], where: str, ctx: str) -> None:
    for key in mapping:
        if key not in allowed:
            hint = _did_you_mean(str(key), allowed)
            raise ConfigError(
                f"{where}: {ctx}unknown key {key!r}{hint} (allowed: {', '.join(allowed)})"
            )


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _opt_str(mapping: dict, key: str, where: str, ctx: str) -> str | None:
    value = mapping.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {ctx}{key}: must be a string, got {value!r}")
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
    return params


def _model_names() -> tuple[str, ...]:
    try:
        from ecoseg.sam2.variants import VARIANTS
    except Exception:  # noqa: BLE001 - the network package is optional for validation
        return _FALLBACK_MODELS
    return tuple(VARIANTS)


def _resolve(folder: Path, text: str) -> Path:
    p = Path(os.path.expanduser(text))
    return p if p.is_absolute() else (folder / p)


def _relpath(path: str | os.PathLike, start: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        return p.as_posix()
    try:
        return Path(os.path.relpath(p, start)).as_posix()
    except ValueError:  # another drive on Windows
        return p.as_posix()


# --------------------------------------------------------------------------- fingerprints
def _digest(obj: Any) -> str:
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()


_CACHE_MIN_BYTES = 8 << 20  # smaller files are cheaper to hash than to trust a cached stat


def _file_sha256(path: Path, cache: dict) -> str:
    """sha256 of a file (or a folder's files), reusing ``cache`` when size and mtime match.

    Only large files (videos, checkpoints) are cached; prompt files and the like are hashed
    every time, so an edit that keeps the size and the (coarse) mtime is still seen.
    """
    from ecoseg._hashing import sha256_file

    stat = _stat_signature(path)
    key = str(path)
    hit = cache.get(key)
    if hit and hit.get("stat") == stat:
        return hit["sha256"]
    size = sum(e[1] for e in stat) if path.is_dir() else stat[0]
    if path.is_dir():
        h = hashlib.sha256()
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(f.relative_to(path).as_posix().encode() + b"\0")
            h.update(sha256_file(f).encode())
        sha = h.hexdigest()
    else:
        sha = sha256_file(path)
    if size >= _CACHE_MIN_BYTES:
        cache[key] = {"stat": stat, "sha256": sha}
    return sha


def _stat_signature(path: Path) -> list:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file())
        return [
            [f.relative_to(path).as_posix(), f.stat().st_size, f.stat().st_mtime_ns] for f in files
        ]
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _calibration_record(video: VideoSpec) -> dict | None:
    if video.calibration is None:
        return None
    cal = video.calibration
    to_dict = getattr(cal, "to_dict", None)
    record = dict(to_dict()) if callable(to_dict) else {"mm_per_px": float(cal.mm_per_px)}
    return {"spec": video.calibration_spec, **record}


def _segment_inputs(video: VideoSpec, hashes: dict) -> dict[str, Any]:
    """Everything that determines the content of a video's store."""
    inputs: dict[str, Any] = {
        "video_sha256": _file_sha256(video.path, hashes),
        "engine": video.engine,
        "params": video.params,
    }
    if video.engine == "sam2":
        inputs["model"] = video.model
        inputs["image_size"] = video.image_size
        inputs["pretrained"] = video.pretrained
        inputs["checkpoint_sha256"] = (
            _file_sha256(video.checkpoint, hashes) if video.checkpoint is not None else None
        )
        inputs["prompts_sha256"] = _file_sha256(video.prompts, hashes)
    return inputs


# --------------------------------------------------------------------------- manifest
def _load_manifest(output: Path) -> dict:
    path = output / MANIFEST
    if not path.exists():
        if output.exists() and any(output.iterdir()):
            raise ConfigError(
                f"{output}: output folder exists, is not empty and has no {MANIFEST}; it was "
                "not made by `ecoseg study` (choose another `output:`)"
            )
        return {"version": MANIFEST_VERSION, "videos": {}, "hashes": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: unreadable study manifest ({exc}); remove it to start over"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        raise ConfigError(f"{path}: study manifest of an unknown version; remove it to start over")
    manifest.setdefault("videos", {})
    manifest.setdefault("hashes", {})
    return manifest


def _save_manifest(output: Path, manifest: dict) -> None:
    path = output / MANIFEST
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


# --------------------------------------------------------------------------- runner
@dataclass
class StudyResult:
    """What :func:`run_study` did and where its outputs are.

    Attributes
    ----------
    study : Study
    stores : dict of str to Path
        Store of each video, by video name.
    tables : dict of str to Path
        Combined Parquet table files by table name (CSV next to each).
    report : Path
    segmented, measured : list of str
        Videos whose store / tables were (re)made in this run; empty when nothing changed.
    tables_written, report_written : bool
        Whether the combined tables / the report were rewritten in this run.
    """

    study: Study
    stores: dict[str, Path]
    tables: dict[str, Path]
    report: Path
    segmented: list[str] = field(default_factory=list)
    measured: list[str] = field(default_factory=list)
    tables_written: bool = False
    report_written: bool = False

    def load_tables(self) -> dict[str, Any]:
        """The combined tables as DataFrames."""
        return {name: read_table(p) for name, p in self.tables.items()}

    def summary(self) -> str:
        """A few printable lines."""
        n = len(self.study.videos)
        lines = [
            f"study: {self.study.name} ({n} video{'s' if n != 1 else ''})",
            f"stores: {len(self.segmented)} made, {n - len(self.segmented)} unchanged",
            f"tables: {len(self.measured)} video(s) measured, combined tables "
            + ("written" if self.tables_written else "unchanged"),
            "report: "
            + (
                f"{self.report}"
                if self.report_written
                else f"{self.report} (unchanged)"
                if self.report.exists()
                else "not written"
            ),
        ]
        return "\n".join(lines)


def run_study(
    study: str | os.PathLike | Study,
    *,
    output: str | os.PathLike | None = None,
    progress: bool = True,
    scheduler: Any = None,
    report: bool = True,
    workers: int | None = None,
    threads: int | None = None,
) -> StudyResult:
    """Run a study: segment each video, measure, combine the tables and write the report.

    Work whose inputs have not changed since the last run is skipped (see the module docs).

    Parameters
    ----------
    study : str, Path or Study
        The study file (or a study loaded with :func:`load_study`).
    output : str or Path, optional
        Write here instead of the study's ``output:`` folder (e.g. to leave a shared study
        folder untouched).
    progress : bool
        Print one line per step and show progress bars.
    scheduler : optional
        Where to segment the videos: ``None`` runs them one after another here; an object with
        ``submit(fn, *args)`` returning futures (a :class:`concurrent.futures.Executor` or a
        ``dask.distributed.Client``) runs them there; a string is taken as the address of a Dask
        scheduler. Runs there go through :func:`ecoseg.batch.run_tasks` (sam2 videos on
        CUDA ask for a ``GPU`` resource).
    report : bool
        Write the report (default); ``False`` stops after the tables.
    workers, threads : int, optional
        With no ``scheduler``: segment the videos on a local Dask cluster of this many worker
        processes / threads per worker (:func:`ecoseg.batch.connect`) instead of one after
        another here; sized as for ``ecoseg batch`` (at most one worker per video, and by
        default as many as the CPUs allow, or one for GPU work).

    Returns
    -------
    StudyResult

    Raises
    ------
    ConfigError
        A bad study file, or an output folder/store the study did not make.

    Examples
    --------
    >>> result = run_study("data/study/study.yaml", progress=False)  # doctest: +SKIP
    >>> result.report.name  # doctest: +SKIP
    'report.html'
    """
    if workers is not None or threads is not None:
        check_count(workers, "workers")
        check_count(threads, "threads")
    if not isinstance(study, Study):
        study = load_study(study)
    if output is not None:
        study = dataclasses.replace(study, output=Path(output).resolve())
    log = logger(progress, "study")
    output = study.output
    manifest = _load_manifest(output)
    output.mkdir(parents=True, exist_ok=True)
    hashes = manifest["hashes"]
    entries = manifest["videos"]
    result = StudyResult(
        study=study,
        stores={v.name: study.store_path(v) for v in study.videos},
        tables={t: output / "tables" / f"{t}.parquet" for t in TABLES},
        report=output / "report.html",
    )

    # 1. segmentation: plan every video first, so a bad store fails before any work
    jobs = []
    for video in study.videos:
        store = study.store_path(video)
        inputs = _segment_inputs(video, hashes)
        fingerprint = _digest(inputs)
        entry = entries.get(video.name)
        made_here = entry is not None and entry.get("store") == _relpath(store, output)
        if store.exists() and not made_here:
            raise ConfigError(
                f"{store}: a store exists that this study did not make; move it away or rename "
                f"video {video.name!r}"
            )
        seg = (entry or {}).get("segment") or {}
        same = store.exists() and seg.get("fingerprint") == fingerprint
        if same and (seg.get("done") or _store_complete(store)):
            seg["done"] = True
            log(f"segment {video.name}: unchanged, kept")
            continue
        jobs.append((video, store, inputs, fingerprint, same))  # same inputs: resume

    for video, store, inputs, fingerprint, _ in jobs:
        entries[video.name] = {
            "store": _relpath(store, output),
            "segment": {"fingerprint": fingerprint, "inputs": inputs, "done": False},
        }
    _save_manifest(output, manifest)

    def finished(video: VideoSpec) -> None:
        entries[video.name]["segment"]["done"] = True
        result.segmented.append(video.name)
        _save_manifest(output, manifest)

    local = scheduler is None and (workers is not None or threads is not None)
    _run_segment_jobs(
        jobs, progress, scheduler, log, finished, local=local, workers=workers, threads=threads
    )

    # 2. per-video tables: store fingerprint + calibration
    per_video_dir = output / "tables" / "videos"
    for video in study.videos:
        entry = entries[video.name]
        m_inputs = {
            "store": entry["segment"]["fingerprint"],
            "calibration": _calibration_record(video),
        }
        m_fp = _digest(m_inputs)
        folder = per_video_dir / video.name
        meas = entry.get("measure") or {}
        if meas.get("fingerprint") == m_fp and all(
            (folder / f"{t}.parquet").exists() for t in meas.get("tables", ())
        ):
            log(f"measure {video.name}: unchanged, kept")
            continue
        log(f"measure {video.name}")
        from ecoseg.measure import measure

        store = study.store_path(video)
        if video.calibration is None:
            _clear_calibration(store)  # an earlier run's calibration must not linger
        tables = measure(store, None, calibration=video.calibration, progress=False)
        for name in sorted(tables):
            write_table(tables[name], folder, name, formats=("parquet",))
        entry["measure"] = {"fingerprint": m_fp, "inputs": m_inputs, "tables": sorted(tables)}
        result.measured.append(video.name)
        _save_manifest(output, manifest)

    # 3. combined tables: every video's table fingerprint + its metadata
    t_fp = _digest([[entries[v.name]["measure"]["fingerprint"], v.meta] for v in study.videos])
    table_dir = output / "tables"
    rec = manifest.get("tables") or {}
    if rec.get("fingerprint") != t_fp or not _files_match(table_dir, rec.get("files", {})):
        log("tables: combining")
        per_video = {
            v.name: {
                t: read_table(per_video_dir / v.name / f"{t}.parquet")
                for t in entries[v.name]["measure"]["tables"]
            }
            for v in study.videos
        }
        combined = combine_tables(per_video, {v.name: v.meta for v in study.videos})
        files = {}
        for name in sorted(combined):
            for fmt, sha in write_table(combined[name], table_dir, name).items():
                files[f"{name}.{fmt}"] = sha
        manifest["tables"] = {"fingerprint": t_fp, "files": files}
        result.tables_written = True
        _save_manifest(output, manifest)
    else:
        log("tables: unchanged, kept")
    result.tables = {
        t: table_dir / f"{t}.parquet" for t in TABLES if (table_dir / f"{t}.parquet").exists()
    }

    # 4. report
    from ecoseg._version import __version__

    truth_fp = {v.name: _file_sha256(v.truth, hashes) for v in study.videos if v.truth is not None}
    r_fp = _digest(
        {
            "tables": t_fp,
            "stores": [entries[v.name]["segment"]["fingerprint"] for v in study.videos],
            "videos": [[v.name, v.source, str(v.calibration_spec)] for v in study.videos],
            "study": [study.name, study.title, study.description, study.relative(study.path)],
            "truth": truth_fp,
            "ecoseg": __version__,
            "epoch": os.environ.get("SOURCE_DATE_EPOCH"),
        }
    )
    rep = manifest.get("report") or {}
    if not report:
        log("report: not requested")
    elif rep.get("fingerprint") != r_fp or not _files_match(
        output, {"report.html": rep.get("sha256")}
    ):
        log("report: writing")
        from ecoseg._hashing import sha256_file
        from ecoseg.report import report as write_report

        tables = {name: read_table(path) for name, path in result.tables.items()}
        write_report(
            [result.stores[v.name] for v in study.videos],
            result.report,
            tables=tables,
            study=study,
            overwrite=True,  # the study's own report (the manifest says so)
        )
        manifest["report"] = {"fingerprint": r_fp, "sha256": sha256_file(result.report)}
        result.report_written = True
    else:
        log("report: unchanged, kept")
    manifest["ecoseg"] = __version__
    _save_manifest(output, manifest)
    return result


def _clear_calibration(store: Path) -> None:
    from ecoseg.store import MaskStore

    with MaskStore.open(store) as reader:
        if not reader.calibration:
            return
    with MaskStore.open(store, mode="a") as writer:
        writer.calibration = None


def _store_complete(store: Path) -> bool:
    try:
        return store_status(store).complete
    except EcosegError:  # not a store (any more): made again
        return False


def _files_match(folder: Path, files: Mapping[str, str | None]) -> bool:
    from ecoseg._hashing import sha256_file

    if not files:
        return False
    for name, sha in files.items():
        p = folder / name
        if sha is None or not p.is_file() or sha256_file(p) != sha:
            return False
    return True


def _job(video: VideoSpec, store: Path, resume: bool, progress: bool) -> Job:
    """The segmentation of one video (resuming its store, or making it anew)."""
    options = {
        "prompts": None if video.prompts is None else str(video.prompts),
        "engine": video.engine,
        "model": video.model,
        "checkpoint": None if video.checkpoint is None else str(video.checkpoint),
        "pretrained": video.pretrained,
        "image_size": video.image_size,
        "device": video.device,
        "progress": progress,
        "params": dict(video.params),
    }
    overwrite = not resume and store.exists()
    return Job(video.name, str(video.path), str(store), options, resume, overwrite)


def _run_segment_jobs(
    jobs, progress: bool, scheduler: Any, log, finished, *, local=False, workers=None, threads=None
) -> None:
    if not jobs:
        return
    if scheduler is None and not local:
        for video, store, _inputs, _fp, resume in jobs:
            log(f"segment {video.name}" + (" (resuming)" if resume else ""))
            run_job(_job(video, store, resume, progress))
            finished(video)
        return
    by_name = {}
    tasks = []
    for video, store, _inputs, _fp, resume in jobs:
        log(f"segment {video.name}: submitted")
        by_name[video.name] = video
        tasks.append(
            (
                video.name,
                _job(video, store, resume, False),
                task_resources(video.engine, video.device),
            )
        )
    gpu = {"GPU": 1} if any(t[2] for t in tasks) else None
    with connect(
        scheduler,
        workers=local_workers(workers, threads, len(tasks), gpu) if local else None,
        threads=threads,
        resources=gpu if local else None,
        log=log,
    ) as client:
        for name, _attempts, _result, error in run_tasks(client, run_job, tasks):
            if error is not None:
                raise error
            finished(by_name[name])
            log(f"segment {name}: done")
