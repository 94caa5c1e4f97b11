"""What this machine needs to segment a study's videos: the device and the network weights.

:func:`~ecoseg.study.config.load_study` checks what a study file says; this module checks what
the machine at hand has, cheaply and without downloading anything: a ``device:`` it lacks
(``cuda`` without a GPU) and, for a video with a network (sam2 with ``prompts:`` or ``auto:
true``, SAM 3 concepts), weights that are neither given (``checkpoint:``) nor in the weights
cache (:func:`ecoseg.sam2.weights.weights_path`, :func:`ecoseg.sam3.weights.weights_path`). A
video with ``pretrained: false`` (random weights) needs none, and the classical motion tracker
neither. Each error is one line naming the study file, the line, the video and the study key to
set. ``ecoseg study --check`` checks every video a run would segment (:func:`check_machine`,
:func:`unfinished_videos`: those whose store a run would not keep, :func:`store_kept`, the one
rule of the run's plan); :func:`~ecoseg.study.runner.run_study` checks the videos it is about to
segment before any work, and every segmentation task again where it runs
(:func:`check_video`: a Dask scheduler's worker is another machine).

``ecoseg study --check`` also opens each of those videos cheaply (:func:`check_readable`: the
container, its header and first frame, :func:`ecoseg.io.video.probe_video`), and so does
:func:`~ecoseg.study.runner.run_study` with the videos it is about to segment, before any work
(with or without a scheduler), so a cut-off or damaged file is named with every other such one
rather than stopping a run at the first of them after segmenting the videos before it.
A ``truth:`` store of other frames than its video (another size or count) is refused so too,
in the report step's words (:func:`check_truth_frames`), and what the measure and classify steps
would refuse of a video's frame size or units once it is segmented: a ``calibration:`` whose
scale-bar ends or laser spots lie outside the frame, a ``species_model:`` in other units than
the calibration gives (mm / px) or, in pixels, of frames of another scale
(:func:`check_frames_fit`, with the frame size the probe of the video read).
It names, too, each study store whose calibration was set by hand since the study saved its own
there, which a run puts back (:func:`hand_calibrations`). What a run would refuse of a
``species_model:`` file is checked in :mod:`ecoseg.study.species_models`.
A user's own file among the tables a run may write (``tables/tracks.csv`` of other columns) is
refused by both, before any work (:func:`check_own_tables`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ecoseg._device import unavailable
from ecoseg.errors import CheckpointError, ConfigError, EcosegError, VideoError
from ecoseg.study.config import video_places as key_places
from ecoseg.study.records import Study, VideoSpec

if TYPE_CHECKING:
    from ecoseg.species.model import SpeciesModel

__all__ = [
    "Lack",
    "check_frames_fit",
    "check_machine",
    "check_own_tables",
    "check_readable",
    "check_store_made",
    "check_truth_frames",
    "check_video",
    "hand_calibrations",
    "machine_lack",
    "store_finished",
    "store_kept",
    "unfinished_videos",
    "unreadable_videos",
    "video_places",
]


@dataclass(frozen=True)
class Lack:
    """What this machine lacks to segment a video.

    Attributes
    ----------
    key : str
        The study key whose line the error names (``"device"``, ``"model"``).
    reason : str
        One line that names the study key to set.
    error : type
        The exception it is raised as (``ConfigError`` for a device, ``CheckpointError`` for
        weights, as :func:`ecoseg.segment` raises them).
    """

    key: str
    reason: str
    error: type[EcosegError]


def machine_lack(video: VideoSpec) -> Lack | None:
    """The first thing this machine lacks to segment ``video``, or ``None``.

    Examples
    --------
    >>> from pathlib import Path
    >>> machine_lack(VideoSpec("a", Path("a.mp4"), "a.mp4", device="cpu")) is None
    True
    >>> video = VideoSpec("a", Path("a.mp4"), "a.mp4", engine="sam3", model="sam3-reduced")
    >>> machine_lack(video).reason  # doctest: +ELLIPSIS
    'model: sam3-reduced has no published weights; set `checkpoint:` to a checkpoint file ...'
    """
    if video.engine == "classical":  # no network: the CPU, no weights
        return None
    why = unavailable(video.device)
    if why is not None:
        return Lack(
            "device",
            f"device: {video.device!r}: {why}; set `device: auto` or `device: cpu`, or run "
            "the study on a machine that has it",
            ConfigError,
        )
    if not video.pretrained or video.checkpoint is not None:
        return None  # random weights, or a checkpoint file load_study found
    return _weights_lack(video)


def _weights_lack(video: VideoSpec) -> Lack | None:
    if video.engine == "sam3":
        from ecoseg.sam3.weights import missing_weights
    else:
        from ecoseg.sam2.weights import missing_weights

    missing = missing_weights(video.model)  # what cached_weights refuses, in the study's words
    if missing is None:
        return None
    if missing.path is None:
        return Lack(
            "model",
            f"model: {video.model} has no published weights; set `checkpoint:` to a "
            "checkpoint file (or `pretrained: false`: random weights, for tests)",
            CheckpointError,
        )
    gated = f" (gated: accept the SAM License on {missing.page} first)" if missing.page else ""
    if missing.what != "weights":  # the weights are cached, not the files read beside them
        return Lack(
            "model",
            f"no {video.model} {missing.what} in the weights cache ({missing.path}); download "
            f"it with `ecoseg weights download {video.model}` (only the missing files are "
            "fetched), or set `checkpoint:` to a checkpoint file with vocab.json and "
            "merges.txt beside it",
            CheckpointError,
        )
    return Lack(
        "model",
        f"no {video.model} weights in the weights cache ({missing.path}); download them with "
        f"`ecoseg weights download {video.model}`{gated}, or set `checkpoint:` to a checkpoint "
        "file",
        CheckpointError,
    )


def video_places(study: Study) -> dict[str, dict[str, str]]:
    """Where errors about each video point, by video name, then by study key (``""``: the
    video's entry), for :func:`check_video` (:func:`~ecoseg.study.config.video_places`: the
    study file read once)."""
    return key_places(study, ("", "device", "model"))


def check_video(video: VideoSpec, places: Mapping[str, str]) -> None:
    """Raise what this machine lacks to segment ``video`` (see :func:`machine_lack`), named
    at ``places`` (:func:`video_places`).

    Raises
    ------
    ConfigError
        The video's ``device:`` is not available on this machine.
    CheckpointError
        Its network weights are neither given (``checkpoint:``) nor in the weights cache.

    Examples
    --------
    >>> from pathlib import Path
    >>> video = VideoSpec("a", Path("a.mp4"), "a.mp4", engine="sam3", model="sam3-reduced")
    >>> check_video(video, {"": "study.yaml: videos[0] (a):"})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.CheckpointError: study.yaml: videos[0] (a): model: sam3-reduced has no ...
    """
    lack = machine_lack(video)
    if lack is not None:
        raise lack.error(f"{places.get(lack.key) or places.get('', '')} {lack.reason}".strip())


def check_machine(study: Study, output: str | Path | None = None) -> None:
    """Check that this machine can segment the study's videos (``ecoseg study --check``):
    every video a run would segment (:func:`unfinished_videos`), not those whose store in
    ``output`` (default: the study's) a run keeps.

    Raises
    ------
    ConfigError, CheckpointError
        As :func:`check_video`, for the first video that cannot run here; ``ConfigError``
        also for an output folder the study did not make.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "a.mp4").write_bytes(b"")
    0
    >>> _ = (d / "study.yaml").write_text("videos:\\n  - path: a.mp4\\n")
    >>> from ecoseg.study.config import load_study
    >>> check_machine(load_study(d / "study.yaml"))  # the motion tracker: nothing needed
    """
    for video in unfinished_videos(study, output):
        if machine_lack(video) is not None:
            check_video(video, video_places(study)[video.name])


def check_store_made(study: Study, video: VideoSpec, entry: Mapping | None) -> None:
    """Refuse a store at the study's store path of ``video`` that the study did not make
    (its manifest record ``entry`` names no such store: a plain ``ecoseg segment`` into the
    study's output, say), which a run would neither keep nor overwrite. The one refusal of
    :func:`~ecoseg.study.runner.run_study`'s plan and of ``ecoseg study --check``.

    Raises
    ------
    ConfigError
        One line naming the store and the video.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.mp4").write_bytes(b"")
    >>> _ = (d / "study.yaml").write_text("output: out\\nvideos:\\n  - path: a.mp4\\n")
    >>> study = load_study(d / "study.yaml")
    >>> check_store_made(study, study.videos[0], None)  # no store: nothing to refuse
    >>> study.store_path(study.videos[0]).mkdir(parents=True)
    >>> check_store_made(study, study.videos[0], {})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: .../out/stores/a.zarr: a store exists that this study did not \
make; move it away or rename video 'a'
    """
    from ecoseg._paths import relpath

    store = study.store_path(video)
    if store.exists() and (entry or {}).get("store") != relpath(store, study.output):
        raise ConfigError(
            f"{store}: a store exists that this study did not make; move it away or rename "
            f"video {video.name!r}"
        )


def check_own_tables(study: Study) -> None:
    """Refuse a user's own file among the tables a study run may write (each video's
    ``tables/videos/<video>/<table>.parquet``, the combined ``tables/<table>.parquet`` and
    ``.csv``, which start with ``video,site``), as
    :func:`~ecoseg.measure.tables.write_table` refuses it (one line naming the file and why);
    run by :func:`~ecoseg.study.runner.run_study` before any work and by ``ecoseg study
    --check``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.mp4").write_bytes(b"")
    >>> _ = (d / "study.yaml").write_text("output: out\\nvideos:\\n  - path: a.mp4\\n")
    >>> study = load_study(d / "study.yaml")
    >>> check_own_tables(study)  # no tables yet: nothing to refuse
    >>> (d / "out" / "tables").mkdir(parents=True)
    >>> _ = (d / "out" / "tables" / "tracks.csv").write_text("site,diver\\nA,Kim\\n")
    >>> check_own_tables(study)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: .../tracks.csv: exists and is not a table ecoseg wrote (its first \
line is 'site,diver', not 'video,site,...'); refusing to replace it (move it away or choose \
another output folder)
    """
    from ecoseg.measure._own_files import check_own_table
    from ecoseg.measure.tables import META_COLUMNS, TABLES

    tables = study.output / "tables"
    for name in TABLES:
        for video in study.videos:
            per_video = tables / "videos" / video.name / f"{name}.parquet"
            check_own_table(per_video, writer="ecoseg", with_overwrite=False)
        for fmt in ("parquet", "csv"):
            combined = tables / f"{name}.{fmt}"
            check_own_table(combined, META_COLUMNS[:2], writer="ecoseg", with_overwrite=False)


def store_kept(store: Path, segment: Mapping, fingerprint: str) -> bool:
    """Whether a study run keeps ``store`` rather than segmenting its video (again): the
    store is there, its manifest record ``segment`` holds ``fingerprint`` (the video's
    inputs now, :func:`~ecoseg.study.manifest.segment_inputs`) and it is finished
    (:func:`store_finished`). The rule of :func:`~ecoseg.study.runner.run_study`'s plan and
    of ``ecoseg study --check``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> store = pathlib.Path(tempfile.mkdtemp()) / "a.zarr"
    >>> store_kept(store, {"fingerprint": "f", "done": True}, "f")  # no store
    False
    >>> store.mkdir()
    >>> store_kept(store, {"fingerprint": "f", "done": True}, "f")
    True
    >>> store_kept(store, {"fingerprint": "f", "done": True}, "g")  # other inputs
    False
    """
    if not (store.exists() and segment.get("fingerprint") == fingerprint):
        return False
    return store_finished(store, segment)


def store_finished(store: Path, segment: Mapping) -> bool:
    """Whether ``store`` is finished, as its manifest record ``segment`` says (``done``) or
    as the store itself says (complete: a run stopped after a task had finished it, before
    the manifest said so); what a run keeps (:func:`store_kept`) and, for a video moved
    away, needs (:func:`~ecoseg.study.moved.moved_videos`).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48))
    >>> store_finished(clip.truth, {"done": False})  # complete, not yet recorded
    True
    >>> store_finished(clip.truth.parent / "none.zarr", {"done": False})
    False
    """
    from ecoseg.batch.jobs import store_status

    if segment.get("done"):
        return True
    try:
        return store_status(store).complete
    except EcosegError:  # not a store (any more): made again
        return False


def unfinished_videos(study: Study, output: str | Path | None = None) -> list[VideoSpec]:
    """The study's videos a run would segment, in the study's order: those whose store in
    ``output`` (default: the study's) it would not keep (:func:`store_kept`), and ``--check``
    checks. A video not there is left out: a run keeps its store or refuses it
    (:func:`~ecoseg.study.moved.moved_videos`). The videos' sha256 come from the manifest's
    and the process's hash caches where their files are unchanged."""
    from ecoseg._paths import relpath
    from ecoseg.study.manifest import digest, load_manifest, segment_inputs

    if output is not None:
        study = dataclasses.replace(study, output=Path(output).resolve())
    manifest = load_manifest(study.output)
    left = []
    for video in study.videos:
        if not video.path.exists():
            continue
        store = study.store_path(video)
        entry = manifest["videos"].get(video.name) or {}
        if store.exists() and entry.get("store") == relpath(store, study.output):
            fingerprint = digest(segment_inputs(video, manifest["hashes"]))
            if store_kept(store, entry.get("segment") or {}, fingerprint):
                continue
        left.append(video)
    return left


def unreadable_videos(
    study: Study,
    output: str | Path | None = None,
    *,
    shown: str | Path | None = None,
    videos: Sequence[VideoSpec] | None = None,
    shapes: dict[str, tuple[int, int]] | None = None,
) -> dict[str, str]:
    """The videos without a finished store (:func:`unfinished_videos`; or ``videos``: those a
    run is about to segment) that do not open, each with one line: its place in the study
    file (``shown``: the study file as the user gave it), then what
    :func:`ecoseg.io.video.probe_video` refuses.

    Only the container, its header and first frame are read (milliseconds a file, however
    long); a video not there (moved away: :mod:`ecoseg.study.moved` keeps its store or refuses
    it) is left to the run. ``shapes``: filled here with the frame shape (height, width) of
    each video that opens, by name, as :func:`check_frames_fit` takes them.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.mp4").write_bytes(b"")
    >>> _ = (d / "study.yaml").write_text("videos:\\n  - path: a.mp4\\n")
    >>> from ecoseg.study.config import load_study
    >>> unreadable_videos(load_study(d / "study.yaml"), shown="study.yaml")  # doctest: +ELLIPSIS
    {'a': 'study.yaml: line 2: videos[0] (a): .../a.mp4: ...'}
    """
    from ecoseg._cli import one_line
    from ecoseg.io.video import probe_video

    places = None
    found = {}
    for video in unfinished_videos(study, output) if videos is None else videos:
        if not video.path.exists():
            continue
        try:
            shape = probe_video(video.path)
        except VideoError as exc:
            if places is None:  # the study file read once, and only for a video refused
                places = key_places(study, ("", "path"), shown)
            where = places[video.name]
            found[video.name] = f"{where.get('path') or where['']} {one_line(exc)}"
        else:
            if shapes is not None:
                shapes[video.name] = shape
    return found


def check_readable(
    study: Study,
    output: str | Path | None = None,
    *,
    shown: str | Path | None = None,
    videos: Sequence[VideoSpec] | None = None,
) -> dict[str, tuple[int, int]]:
    """Refuse a study with a video that does not open, naming every such video
    (:func:`unreadable_videos`), for ``ecoseg study --check`` and, with the ``videos`` it is
    about to segment, before a run does any work.

    Returns
    -------
    dict
        The frame shape (height, width) of each video checked, by name, as it is decoded
        (:func:`ecoseg.io.video.probe_video`), for :func:`check_frames_fit`.

    Raises
    ------
    VideoError
        One line: how many videos cannot be read, then each, with its place in the study file
        and the reason (``"study.yaml: 2 of 3 videos cannot be read (a run starts only once
        every video opens): line 9: videos[1] (b): .../b.mp4: not a readable video (...);
        line 13: ..."``).
    """
    shapes: dict[str, tuple[int, int]] = {}
    bad = unreadable_videos(study, output, shown=shown, videos=videos, shapes=shapes)
    if bad:
        file = f"{study.path if shown is None else shown}: "
        each = [line.removeprefix(file) for line in bad.values()]  # the file named once
        n = len(study.videos)
        raise VideoError(
            f"{file}{len(bad)} of {n} video{'s' if n > 1 else ''} cannot be read (a run "
            f"starts only once every video opens): {'; '.join(each)}"
        )
    return shapes


def check_truth_frames(
    study: Study, *, shown: str | Path | None = None, videos: Sequence[VideoSpec] | None = None
) -> None:
    """Refuse a video's ``truth:`` store of other frames than the video (another frame size or
    frame count: the truth of another clip) before any work, in the one line the report step
    refuses it with (:func:`ecoseg.metrics.pairing.frames_note`, the study store standing for
    the masks its run will write), after the study file's ``truth:`` line.

    Of the videos without a finished store (:func:`unfinished_videos`; or ``videos``: those a
    run is about to segment): a store kept is checked against its truth where the report is
    made. A truth or video not there, a truth that is a folder of PNG masks or that does not
    open, a video that does not open (:func:`check_readable`'s), are left to the run. The
    video is opened as a run opens it (its packets indexed, no frame decoded), only where its
    truth store opens.

    Raises
    ------
    StoreError
        ``"study.yaml: line 5: videos[0] (a): .../stores/a.zarr: has 24 frames (video
        .../a.mp4) but the truth .../other.zarr has 30 (video ...)"``.

    Examples
    --------
    >>> import ecoseg, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> clip, other = ecoseg.synth(d / "c", frames=3), ecoseg.synth(d / "o", frames=4)
    >>> text = f"videos:\\n  - path: {clip.video}\\n    truth: {other.truth}\\n"
    >>> _ = (d / "study.yaml").write_text(text)
    >>> from ecoseg.study.config import load_study
    >>> check_truth_frames(load_study(d / "study.yaml"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: ...study.yaml: line 3: videos[0] (video): ...: has 3 frames ...
    """
    from types import SimpleNamespace

    from ecoseg.errors import StoreError
    from ecoseg.io.video import open_video
    from ecoseg.metrics.pairing import frames_note
    from ecoseg.metrics.truth import is_png_folder
    from ecoseg.provenance import Provenance
    from ecoseg.store import opened_store

    places = None
    for video in unfinished_videos(study) if videos is None else videos:
        truth = video.truth
        if truth is None or not truth.exists() or is_png_folder(truth) or not video.path.exists():
            continue
        try:
            with opened_store(truth) as t:
                with open_video(video.path, fps=video.fps) as reader:
                    (width, height), n = reader.size, len(reader)
                record = {"video": {"path": str(video.path)}}
                pred = SimpleNamespace(
                    path=study.store_path(video),
                    height=height,
                    width=width,
                    n_frames=n,
                    provenance_record=Provenance.from_dict(record),
                )
                note = frames_note(pred, t)
        except EcosegError:  # missing, damaged: the run says so in its own words
            continue
        if note is not None:
            places = places or key_places(study, ("truth",), shown)
            raise StoreError(f"{places[video.name]['truth']} {note}")


def check_frames_fit(
    study: Study,
    *,
    shown: str | Path | None = None,
    videos: Sequence[VideoSpec] | None = None,
    classify: bool = True,
    models: dict[Path, tuple[bytes, SpeciesModel]] | None = None,
    shapes: Mapping[str, tuple[int, int]] | None = None,
) -> None:
    """Refuse, before a video is segmented, what a run refuses of it only once it has made
    its store: the study file's ``calibration:`` with a scale-bar end or laser spot outside
    the video's frame (:meth:`~ecoseg.measure.calibration.Calibration.check_frame`, as the
    measure step refuses it) and, with ``classify``, a ``species_model:`` whose sizes are in
    other units than that calibration gives the store (mm / px), or in pixels of frames of
    another scale (:meth:`~ecoseg.species.model.SpeciesModel.check_frame`), as the classify
    step refuses them. The refusal is the one the run gave after segmenting (naming the store
    it would write), after the study file's line of the key.

    Of the videos without a finished store (:func:`unfinished_videos`; or ``videos``: those a
    run is about to segment); a video not there or that does not open is left to
    :func:`check_readable`. Its frame size is taken from ``shapes`` (the frame shape, height
    and width, of each video by name, as :func:`check_readable` returns them), else probed
    (:func:`ecoseg.io.video.probe_video`: its header and first frame), only where it has a
    calibration or species model to check. ``models``: the species model files read so far
    (filled here), each read once.

    Raises
    ------
    CalibrationError, ModelError
        ``"study.yaml: line 4: videos[0] (a): .../stores/a.zarr: calibration scale-bar end
        (500, 10) is outside the 96x64 px frame, ..."``.

    Examples
    --------
    >>> import ecoseg, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> clip = ecoseg.synth(d / "c", frames=2, size=(96, 64))
    >>> text = f"videos:\\n  - path: {clip.video}\\n    calibration: scale-bar:0,10,500,10,100\\n"
    >>> _ = (d / "study.yaml").write_text(text)
    >>> from ecoseg.study.config import load_study
    >>> check_frames_fit(load_study(d / "study.yaml"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.CalibrationError: ...line 3: videos[0] (video): ...(500, 10) is outside the ...
    """
    from ecoseg._cli import one_line
    from ecoseg.errors import CalibrationError
    from ecoseg.io.video import probe_video
    from ecoseg.species.model import ModelError
    from ecoseg.study.species_models import read_species_model

    models = {} if models is None else models
    shapes = {} if shapes is None else shapes
    places = None
    for video in unfinished_videos(study) if videos is None else videos:
        cal, path = video.calibration, video.species_model if classify else None
        if (cal is None and path is None) or not video.path.exists():
            continue
        try:
            height, width = shapes.get(video.name) or probe_video(video.path)
        except EcosegError:  # check_readable's to say
            continue
        store, key = study.store_path(video), "calibration"
        try:
            if cal is not None:
                cal.check_frame(width, height, store)
            if path is not None:
                key = "species_model"
                if path not in models:
                    models[path] = read_species_model(path)
                fitted = models[path][1]
                units = "mm" if cal is not None and cal.to_dict().get("mm_per_px") else "px"
                # its own features and version (checked by check_model_versions): units alone
                fitted.check_features(
                    fitted.feature_names, fitted.feature_version, str(store), units
                )
                fitted.check_frame(width, height, str(store))  # (a model in pixels only)
        except (CalibrationError, ModelError) as exc:
            places = places or key_places(study, ("calibration", "species_model"), shown)
            raise type(exc)(f"{places[video.name][key]} {one_line(exc)}") from None


def hand_calibrations(study: Study, manifest: Mapping) -> list[str]:
    """One line for each store of ``study`` that the study measured (its ``manifest``
    records the calibration of that measurement) whose calibration was set by hand since
    (``ecoseg measure --calibration``, ``ecoseg classify --calibration``, napari): the store
    and both calibrations, and that a run will put the study's back, as the run warns when it
    does (:func:`ecoseg.report._calibration.calibration_set_by_hand`). Nothing is written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.mp4").write_bytes(b"")
    >>> _ = (d / "study.yaml").write_text("output: out\\nvideos:\\n  - path: a.mp4\\n")
    >>> hand_calibrations(load_study(d / "study.yaml"), {"videos": {}})  # nothing measured
    []
    """
    from ecoseg.report._calibration import calibration_set_by_hand

    said = []
    for video in study.videos:
        measured = ((manifest.get("videos") or {}).get(video.name) or {}).get("measure")
        store = study.store_path(video)
        if measured and store.exists():
            recorded = (measured.get("inputs") or {}).get("calibration")
            line = calibration_set_by_hand(store, video.calibration, recorded)
            if line is not None:
                said.append(line)
    return said
