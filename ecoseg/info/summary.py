"""What a mask store holds: :func:`summary` reads it into a :class:`StoreSummary`.

The summary is built from what the report reads (:func:`ecoseg.report.read.read_video`: the
typed provenance and object records, the edit log, the times), so there is one reader of a
store's attributes. It reads the store's attributes and its ``time`` array, never the label
frames: it is quick on a long store and on a bucket. Whether the chunks survived a copy is
:func:`ecoseg.info.verify`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Any

__all__ = [
    "StoreSummary",
    "open_store",
    "pending_edits",
    "run_settings",
    "summary",
    "video_notes",
]


@dataclass(frozen=True)
class StoreSummary:
    """What one mask store holds (:func:`summary`).

    Attributes
    ----------
    path : str
        The store, as given.
    width, height : int
        Frame size in pixels.
    frames : int
        Committed frames (the progress marker).
    complete : bool
        Whether the run that wrote the store finished; an interrupted ``ecoseg segment``
        continues with ``--resume``.
    duration_s : float
        Time the frames span, from the ``time`` array (s; one frame step added).
    start_s, end_s : float or None
        Time of the first and last committed frame (s); None without frames.
    chunk_frames : int
        Frames per ``labels`` chunk.
    objects : int
        Objects in the object table.
    classes : dict of str to int
        Objects per class name, most frequent first.
    sources : dict of str to int
        Objects per way they were found (``prompt``, ``concept``, ``discovered``, ``truth``,
        ``tracker``, ...).
    class_sources : dict of str to int
        Objects per origin of their class (``prompt``, ``concept``, ``reviewed`` (a person),
        ``classified`` (the species model), ``rule``, ``unknown``).
    reviewed : int
        Objects a person marked reviewed.
    edits : int
        Edits the store holds: entries of the edit log (review edits, classifications) no
        ``--undo`` took back (:func:`ecoseg.species._edit_log.standing_edits`), so a store
        whose every edit was undone reads as before them (``ecoseg edit STORE --log`` lists
        the whole log, undos and the entries they took back too).
    engine, model, device : str or None
        What made the masks (``parameters["device"]`` for the device).
    settings : list of str
        The run's settings that shape the masks, in words (:func:`run_settings`): bf16
        (``--fast``), automatic discovery (``--auto``), no backward pass (``--forward-only``),
        the motion tracker's parameters that differ from their defaults (``--params``).
    camera : str or None
        The motion tracker's measurement of the camera's motion (every run of that engine
        records it; when too fast, the warning the run gave:
        :meth:`ecoseg.provenance.CameraMotion.summary`), None for other engines.
    image_size : int or None
        The network's input size.
    pretrained : bool or None
        False: the network had random weights (tests and benchmarks only).
    video, video_path, video_sha256 : str or None
        The video's file name, its path as recorded and its sha256.
    video_found : str or None
        Where the video is found now (:func:`ecoseg._store_video.find_video`: at the recorded
        path, relative to or beside the store, or in a folder moved whole with it), absolute
        or from the current folder as the store is given; None when it is found nowhere, not
        recorded, or a URL (not looked for). Found by path only: whether it is the store's
        video (its sha256) is what ``ecoseg info STORE --video`` checks.
    fps : float or None
        The video's frame rate as recorded.
    video_notes : list of str
        What was done to show the video as players do, as its provenance records it
        (:func:`video_notes`): turned upright, non-square pixels, timestamps that jump back
        or repeat, a file that ends before its index. Empty for footage that needed none of it.
    ecoseg_version : str
        The ecoseg version that created the store ("" if not recorded).
    created : str or None
        When the masks were made (ISO 8601), if recorded.
    calibration : dict or None
        Spatial calibration (``mm_per_px``, ``method``, ...).
    pending_edits : int
        Review edits an interrupted ``ecoseg edit`` left to do (the one it was writing and
        the rest of its command): the labels may be half rewritten until
        ``ecoseg edit STORE --resume`` completes them.
    annotated_frames : dict or None
        The frames a truth store annotates when not every frame (its provenance's
        ``annotated_frames``, e.g. imported from a CVAT task of every 5th frame):
        ``{"start", "step", "count"}``, frames ``start + k * step`` (and ``"deleted"``: those
        of them deleted in CVAT, when any); the frames between are empty because nobody
        annotated them. ``{"malformed": entry}`` when the entry is not
        usable (``ecoseg evaluate`` refuses such a truth). None: every frame.
    photos : bool
        A photo survey (``--concepts`` on images): one frame per photograph, whose ``time``
        is the image's index, not a time; ``lines`` says so rather than a duration in s.
    writer : str or None
        Who holds the store's writer lock now (a run still writing it: ``"process 4307 on
        host vm since ..."``); None where nobody does.
    run_options : list of str or None
        The options of the ``ecoseg segment`` run that made the store, as its provenance
        records them (:func:`ecoseg.store.recorded_options`), which a ``--resume`` must be
        given again; None for a store no such run made.
    """

    path: str
    width: int
    height: int
    frames: int
    complete: bool
    duration_s: float
    start_s: float | None
    end_s: float | None
    chunk_frames: int
    objects: int
    classes: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    class_sources: dict[str, int] = field(default_factory=dict)
    reviewed: int = 0
    edits: int = 0
    engine: str | None = None
    model: str | None = None
    image_size: int | None = None
    pretrained: bool | None = None
    device: str | None = None
    settings: list[str] = field(default_factory=list)
    camera: str | None = None
    video: str | None = None
    video_path: str | None = None
    video_found: str | None = None
    video_sha256: str | None = None
    fps: float | None = None
    video_notes: list[str] = field(default_factory=list)
    ecoseg_version: str = ""
    created: str | None = None
    calibration: dict[str, Any] | None = None
    pending_edits: int = 0
    annotated_frames: dict[str, Any] | None = None
    photos: bool = False
    writer: str | None = None
    run_options: list[str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The summary as JSON-ready data: every attribute under its own name, always present.

        Examples
        --------
        >>> s = StoreSummary("m.zarr", 64, 48, 3, True, 0.1, 0.0, 0.07, 4, 0)
        >>> d = s.to_dict()
        >>> d["path"], d["frames"], d["classes"], d["calibration"]
        ('m.zarr', 3, {}, None)
        """
        return asdict(self)

    @property
    def resume_command(self) -> str:
        """The command that continues an interrupted ``ecoseg segment`` run into this store,
        with the run's recorded options (:attr:`run_options`: resuming checks they are the
        same).

        Examples
        --------
        >>> s = StoreSummary("out/m.zarr", 64, 48, 3, False, 0.1, 0.0, 0.07, 4, 0,
        ...                  video_path="clips/reef 1.mp4", run_options=["--engine", "classical"])
        >>> s.resume_command
        "ecoseg segment 'clips/reef 1.mp4' -o out/m.zarr --resume --engine classical"
        """
        from ecoseg.store import resume_command

        return resume_command(self.video_path, self.path, self.run_options)

    @property
    def pending_note(self) -> str:
        """What an interrupted ``ecoseg edit`` left, and the command that completes it
        (:func:`ecoseg.store.unfinished_note`, the words ``measure`` refuses such a store with).

        Examples
        --------
        >>> s = StoreSummary("m.zarr", 64, 48, 3, True, 0.1, 0.0, 0.07, 4, 0, pending_edits=2)
        >>> print(s.pending_note)
        an interrupted `ecoseg edit` left 2 edits unfinished, so the labels may be half \
rewritten; run `ecoseg edit m.zarr --resume`
        """
        from ecoseg.store import unfinished_note

        return unfinished_note(self.pending_edits, self.path)

    def lines(self) -> list[str]:
        """The summary for people: the store's path, then one indented line per topic.

        Examples
        --------
        >>> s = StoreSummary("m.zarr", 64, 48, 3, True, 0.1, 0.0, 0.067, 4, 2,
        ...                  classes={"wrasse": 2}, sources={"prompt": 2},
        ...                  class_sources={"prompt": 2}, engine="sam2", model="sam2.1-tiny",
        ...                  ecoseg_version="0.1.0")
        >>> print("\\n".join(s.lines()))
        m.zarr
          frames       3 of 64x48 px, complete
          time         0.1 s (0.000 to 0.067 s), 4 frames per chunk
          objects      2: wrasse 2
          found by     prompt 2; class from prompt 2
          review       no edits, 0 of 2 objects reviewed
          made by      engine sam2, model sam2.1-tiny, ecoseg 0.1.0
          video        (not recorded)
          calibration  none
        """
        state = "complete"
        if not self.complete and self.writer:  # its run is still at work: no resume yet
            state = f"INCOMPLETE: still being written ({self.writer}); wait for that run to finish"
        elif not self.complete:
            rest = " and the run's options" if self.run_options is None else ""
            state = f"INCOMPLETE: continue with {self.resume_command}{rest}"
        span = "" if self.start_s is None else f" ({self.start_s:.3f} to {self.end_s:.3f} s)"
        time = f"{self.duration_s:.3g} s{span}, {self.chunk_frames} frames per chunk"
        if self.photos:  # its times are the images' indices 0, 1, 2, ...: it said "3 s"
            time = (
                f"none: a photo survey, one frame per photograph (time_s is its index), "
                f"{self.chunk_frames} per chunk"
            )
        out = [
            self.path,
            f"frames       {self.frames} of {self.width}x{self.height} px, {state}",
            f"time         {time}",
            f"objects      {self.objects}" + (f": {_counts(self.classes)}" if self.classes else ""),
        ]
        if self.objects:
            out.append(
                f"found by     {_counts(self.sources)}; class from {_counts(self.class_sources)}"
            )
        edits = f"{self.edits} edit{'s' if self.edits != 1 else ''}" if self.edits else "no edits"
        out.append(f"review       {edits}, {self.reviewed} of {self.objects} objects reviewed")
        if self.annotated_frames is not None:
            out.append(f"annotated    {self._annotated()}")
        if self.pending_edits:
            out.append(f"edit         {self.pending_note}")
        out.append(f"made by      {self._made_by()}")
        if self.settings:
            out.append(f"settings     {'; '.join(self.settings)}")
        if self.camera:
            out.append(f"camera       {self.camera}")
        video = self.video or "(not recorded)"
        if self.video_path:
            video += f" ({self._where_found()})"
        if self.video_sha256:
            video += f", sha256 {self.video_sha256}"
        if self.fps:
            video += f", {self.fps:g} fps"
        out.append(f"video        {video}")
        out += [f"             {note}" for note in self.video_notes]
        out.append(f"calibration  {_calibration(self.calibration)}")
        return out[:1] + ["  " + line for line in out[1:]]

    def _where_found(self) -> str:
        """Where the recorded video is now, in words (:attr:`video_found`).

        Examples
        --------
        >>> s = StoreSummary("out/m.zarr", 64, 48, 3, True, 0.1, 0.0, 0.07, 4, 0,
        ...                  video="a.mp4", video_path="/old/a.mp4", video_found="clips/a.mp4")
        >>> s._where_found()
        'found at clips/a.mp4'
        >>> s = StoreSummary("m.zarr", 64, 48, 3, True, 0.1, 0.0, 0.07, 4, 0, video_path="a.mp4")
        >>> s._where_found()
        'not found'
        """
        if self.video_found is not None:
            return f"found at {self.video_found}"
        if "://" in (self.video_path or ""):
            return "a URL: not looked for"
        return "not found"

    def _annotated(self) -> str:
        """The annotated frames in words (:func:`ecoseg.provenance.describe_frames`).

        Examples
        --------
        >>> s = StoreSummary("t.zarr", 64, 48, 41, True, 1.4, 0.0, 1.3, 4, 1,
        ...                  annotated_frames={"start": 0, "step": 5, "count": 9})
        >>> print(s._annotated())
        frames 0, 5, 10 ... 40 (9 of 41, every 5th from 0) only; the others are empty because \
nobody annotated them
        """
        from ecoseg.provenance import describe_frames

        entry = self.annotated_frames or {}
        if "malformed" in entry:
            return (
                f"MALFORMED provenance entry {entry['malformed']!r} (needs integers start >= 0, "
                "step >= 1, count >= 0)"
            )
        frames = range(entry["start"], self.frames, entry["step"])[: entry["count"]]
        if not frames:
            return f"no frame of {self.frames}: nobody annotated any"
        deleted = entry.get("deleted", [])
        gone = (
            f" less {len(deleted)} deleted in CVAT ({', '.join(str(f) for f in deleted[:3])}"
            f"{' ...' if len(deleted) > 3 else ''})"
            if deleted
            else ""
        )
        return (
            f"frames {describe_frames(frames, self.frames)}{gone} only; the others are empty "
            "because nobody annotated them"
        )

    def _made_by(self) -> str:
        parts = [f"engine {self.engine or 'not recorded'}"]
        if self.model:
            model = f"model {self.model}"
            if self.image_size:
                model += f" at {self.image_size} px"
            if self.pretrained is False:
                model += " (RANDOM WEIGHTS)"
            parts.append(model)
        if self.device:
            parts.append(f"on {self.device}")
        parts.append(f"ecoseg {self.ecoseg_version or '(version not recorded)'}")
        if self.created:
            parts.append(f"created {self.created}")
        return ", ".join(parts)


def run_settings(prov: Any) -> list[str]:
    """The settings of the run that made a store that shape its masks, in words, as its
    provenance records them (empty: the defaults, or nothing recorded).

    Parameters
    ----------
    prov : ecoseg.provenance.Provenance

    Returns
    -------
    list of str

    Examples
    --------
    >>> from ecoseg.provenance import Provenance
    >>> run_settings(Provenance.from_dict({"engine": "sam2", "auto": True, "backward": False,
    ...     "parameters": {"device": "cpu", "fast": True, "key_interval": 30}}))
    ['bf16 (--fast)', 'automatic discovery (--auto, every 30 frames)', \
'frames before the first prompt left empty (--forward-only)']
    >>> run_settings(Provenance.from_dict({"engine": "classical",
    ...     "parameters": {"threshold": 4.5, "max_gap": 10}}))
    ['motion tracker parameters threshold 4.5 (others at their defaults)']
    """
    params = prov.parameters if isinstance(prov.parameters, Mapping) else {}
    out = []
    if params.get("fast") is True:
        out.append("bf16 (--fast)")
    if prov.get("auto") is True:
        every = params.get("key_interval")
        out.append("automatic discovery (--auto" + (f", every {every} frames)" if every else ")"))
    if prov.engine == "sam2" and prov.get("backward") is False:
        out.append("frames before the first prompt left empty (--forward-only)")
    if prov.engine == "classical":  # its defaults need no network code (light to import)
        from ecoseg.engine.classical.params import ClassicalParams

        defaults = ClassicalParams().to_dict()
        changed = [f"{k} {v}" for k, v in params.items() if k in defaults and v != defaults[k]]
        if changed:
            out.append(f"motion tracker parameters {', '.join(changed)} (others at their defaults)")
    return out


def _camera(motion: Any) -> str | None:
    """The motion tracker's camera measurement: the warning it gave when too fast, else the
    figure (as the report shows it)."""
    if motion is None:
        return None
    if motion.too_fast:
        return motion.summary()
    return (
        f"moved {motion.camera_speed:.1f} px per frame, within the motion tracker's limit of "
        f"{motion.limit:.1f} px per frame"
    )


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items())


def _calibration(cal: dict[str, Any] | None) -> str:
    """The stored calibration as ecoseg prints one (``str(Calibration)``: typed back, it is
    the same), or why it cannot be used."""
    if not cal:
        return "none"
    from ecoseg.errors import EcosegError
    from ecoseg.measure.calibration import Calibration

    try:
        return str(Calibration.from_dict(cal))
    except (EcosegError, TypeError, ValueError) as exc:
        return f"not usable ({exc})"


def _tally(values) -> dict[str, int]:
    """Counts, most frequent first, then by name."""
    counts = Counter(values)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def summary(path: Any) -> StoreSummary:
    """What the mask store at ``path`` holds.

    Reads the store's attributes (provenance, object table, edit log, calibration) and its
    ``time`` array; no label frames.

    Parameters
    ----------
    path : str, Path, URL or MaskStore
        A mask store (folder, ``.zip``, or a URL zarr understands), or one already open: it is
        read and left open, so ``ecoseg info`` opens each store once.

    Returns
    -------
    StoreSummary

    Raises
    ------
    ecoseg.errors.StoreError
        Not a mask store, or its ``time`` array cannot be read (a damaged store: see
        :func:`ecoseg.info.verify`).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> clip = ecoseg.synth(tempfile.mkdtemp(), frames=6, size=(64, 48))
    >>> s = summary(clip.truth)
    >>> s.frames, (s.width, s.height), s.complete, s.engine, s.objects
    (6, (64, 48), True, 'truth', 6)
    >>> s.video, s.calibration["mm_per_px"]
    ('video.mp4', 25.0)
    """
    from ecoseg.store import opened_store

    with opened_store(path, open_store) as store:  # one passed in stays open
        return _summary(store)


def _summary(store: Any) -> StoreSummary:
    """What the open ``store`` holds (see :func:`summary`)."""
    from ecoseg.errors import EcosegError, StoreError
    from ecoseg.measure.regions import class_source_of  # as the tables say it
    from ecoseg.report.read import read_video
    from ecoseg.species._edit_log import standing_edits
    from ecoseg.store.lock import live_writer
    from ecoseg.store.rerun import recorded_options

    text = store.path
    try:
        info = read_video(
            PurePath(text.rstrip("/")).name or text,
            text,
            text,
            store=store,
            need_frames=False,
            judge_splits=False,
        )
    except StoreError as exc:  # a damaged chunk of the times: say where to see all damage
        if "cannot be read" not in str(exc):  # not chunk damage: verify cannot list it
            raise
        raise StoreError(f"{exc}; `ecoseg info --verify` lists what") from None
    except EcosegError:
        raise
    except Exception as exc:  # a chunk read while opening that does not decompress
        raise _damaged(text, exc) from exc
    prov = info.provenance
    video = prov.video
    model = prov.model
    params = prov.parameters or {}
    times = info.times
    recorded = video.path if video is not None and video.path else None
    return StoreSummary(
        path=text,
        width=info.width,
        height=info.height,
        frames=info.n_frames,
        complete=info.complete,
        duration_s=round(info.duration_s, 6),
        start_s=round(float(times[0]), 6) if len(times) else None,
        end_s=round(float(times[-1]), 6) if len(times) else None,
        chunk_frames=info.chunk_frames,
        objects=len(info.objects),
        classes=_tally(o.class_name for o in info.objects),
        sources=_tally(o.source for o in info.objects),
        class_sources=_tally(class_source_of(o.to_dict()) for o in info.objects),
        reviewed=sum(o.reviewed for o in info.objects),
        edits=len(standing_edits(info.edits)),
        engine=prov.engine,
        model=model.variant if model is not None else None,
        image_size=model.image_size if model is not None else None,
        pretrained=model.pretrained if model is not None else None,
        device=str(params["device"]) if params.get("device") else None,
        settings=run_settings(prov),
        camera=_camera(prov.camera_motion),
        video=PurePath(recorded).name if recorded else None,
        video_path=recorded,
        # where the reader found it (find_video); looked for and not found: None
        video_found=str(info.video_path) if recorded and not info.video_looked else None,
        video_sha256=video.sha256 if video is not None else None,
        fps=float(video.fps) if video is not None and video.fps else None,
        video_notes=video_notes(video.extra if video is not None else {}),
        ecoseg_version=info.ecoseg_version,
        created=prov.created,
        calibration=info.calibration,
        pending_edits=pending_edits(store),
        annotated_frames=_annotated_frames(prov, info.n_frames, text),
        photos=prov.is_survey,
        writer=None if info.complete else live_writer(text),
        run_options=recorded_options(prov),
    )


def _annotated_frames(prov: Any, n_frames: int, where: str) -> dict[str, Any] | None:
    """The ``annotated_frames`` field of a summary (see :class:`StoreSummary`)."""
    from ecoseg.errors import StoreError
    from ecoseg.provenance import annotated_frames

    try:
        kept = annotated_frames(prov, n_frames, where)
    except StoreError:
        return {"malformed": prov.get("annotated_frames")}
    if kept == range(n_frames):
        return None
    frames = prov.annotated_frames.frames(n_frames)
    entry = {"start": frames.start, "step": frames.step, "count": len(frames)}
    deleted = [f for f in prov.annotated_frames.deleted if f in frames]
    return {**entry, "deleted": deleted} if deleted else entry


def video_notes(extra: Any) -> list[str]:
    """Lines for what the reader did to show a video as players do (its ``record()`` extras).

    Examples
    --------
    >>> video_notes({"start_s": 5.0})
    ["frame 0 is at 5 s of the stream's clock; times count from it"]
    >>> video_notes({"upright_turns": 1, "pixel_aspect": [4, 3]})
    ['turned upright by its display matrix (1 quarter turn clockwise)', \
'pixels are not square (4:3); masks are in the stored pixels']
    >>> video_notes({"image_folder": True})
    []
    """
    if not isinstance(extra, Mapping):
        return []
    out = []
    start = extra.get("start_s")
    if isinstance(start, int | float) and not isinstance(start, bool) and start:
        out.append(f"frame 0 is at {start:g} s of the stream's clock; times count from it")
    turns = extra.get("upright_turns")
    if isinstance(turns, int) and not isinstance(turns, bool) and turns:
        out.append(
            f"turned upright by its display matrix ({turns} quarter turn"
            f"{'s' if turns != 1 else ''} clockwise)"
        )
    if extra.get("interlaced") is True:
        out.append("interlaced: read as whole frames, not deinterlaced")
    aspect = extra.get("pixel_aspect")
    if isinstance(aspect, list) and len(aspect) == 2:
        out.append(
            f"pixels are not square ({aspect[0]}:{aspect[1]}); masks are in the stored pixels"
        )
    for key in ("timing", "truncated"):
        text = extra.get(key)
        if isinstance(text, str) and text:
            out.append(" ".join(text.split()))
    return out


def open_store(path: Any) -> Any:
    """Open the mask store at ``path`` for reading (the caller closes it).

    Raises
    ------
    ecoseg.errors.StoreError
        Not a mask store; or damaged where opening reads (the message says to run
        ``ecoseg info --verify``).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> with open_store(ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48)).truth) as s:
    ...     s.n_frames
    2
    """
    from ecoseg.errors import EcosegError
    from ecoseg.store import MaskStore

    try:
        return MaskStore.open(path)
    except EcosegError:
        raise
    except Exception as exc:  # zarr metadata that does not parse, a backend failure
        raise _damaged(path, exc) from exc


def _damaged(path: Any, exc: Exception) -> Exception:
    """The one-line StoreError for a store that fails to open or read for a reason ecoseg does
    not name itself (pointing to ``ecoseg info --verify``)."""
    from ecoseg.errors import StoreError
    from ecoseg.store._util import short_error

    return StoreError(
        f"{path}: cannot be read; the store is damaged ({short_error(exc)}); "
        "`ecoseg info --verify` lists what"
    )


def pending_edits(path: Any) -> int:
    """Edits an interrupted ``ecoseg edit`` left to do in the store at ``path`` (0: none).

    ``path`` may be an open :class:`~ecoseg.store.MaskStore` (read, and left open).

    Examples
    --------
    >>> import ecoseg, tempfile
    >>> pending_edits(ecoseg.synth(tempfile.mkdtemp(), frames=2, size=(64, 48)).truth)
    0
    """
    from ecoseg.store import ATTRS_KEY, opened_store, unfinished_edits

    with opened_store(path) as store:  # a MaskStore passed in stays open
        return unfinished_edits(store.attrs.get(ATTRS_KEY, {}))
