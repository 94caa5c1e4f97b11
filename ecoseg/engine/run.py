"""One :func:`ecoseg.segment` run: a video into a mask store, with provenance.

:func:`segment` validates every input (video, prompts, settings, output store) before it loads
a model or starts work, then runs the chosen engine (the SAM 2 network with prompts, automatic
discovery, the classical motion tracker, or SAM 3 concept tracking) and streams its per-frame
results into the store (:func:`ecoseg.engine.results.write_results`). ``ecoseg.engine``
re-exports :func:`segment`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ecoseg._checks import check_switch, short_repr
from ecoseg._device import check_device_name, resolve_device
from ecoseg._warn import warn
from ecoseg.engine.checks import (
    check_device,
    check_fast,
    check_image_size,
    check_network_settings,
    check_new_store,
    check_params,
    check_weights_source,
    choose_engine,
    concept_request,
    params_dict,
)
from ecoseg.engine.results import write_results
from ecoseg.engine.resume import check_resumable
from ecoseg.engine.settings import DEFAULT_MODEL, build_network, model_record
from ecoseg.errors import ConfigError, PromptError, ShortVideoWarning, StoreError
from ecoseg.provenance import created

__all__ = ["check_out_arg", "segment"]


def check_out_arg(prompts: Any, out: Any) -> None:
    """Refuse a mask store given as :func:`segment`'s ``prompts`` (its second positional
    argument: ``segment(video, "masks.zarr")`` read it as a prompt file), a missing ``out``
    and an ``out`` that is no path or URL (a zarr ``Store``: the run creates its store at a
    path; an opened MaskStore: its path).

    Examples
    --------
    >>> check_out_arg("prompts.json", "masks.zarr")
    >>> check_out_arg("masks.zarr", None)
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: masks.zarr: a mask store given as ...; pass it as out='masks.zarr'
    >>> check_out_arg("truth.zarr", "masks.zarr")
    Traceback (most recent call last):
    ...
    ecoseg.errors.PromptError: truth.zarr: a mask store given as ...; the store to write is out=
    >>> check_out_arg(None, None)
    Traceback (most recent call last):
    ...
    TypeError: segment() needs the mask store to write: pass out=PATH (a .zarr path)
    >>> import zarr
    >>> check_out_arg(None, zarr.storage.MemoryStore())
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: segment: out must be the path or URL of the mask store to ...
    >>> check_out_arg(None, 3)
    Traceback (most recent call last):
    ...
    ecoseg.errors.StoreError: segment: out must be ... to write, got 3 (segment creates the ...
    """
    if isinstance(prompts, str | os.PathLike):
        text = os.fspath(prompts).rstrip("/\\")
        if text.lower().endswith(".zarr") or os.path.isfile(os.path.join(text, "zarr.json")):
            said = f"pass it as out={text!r}" if out is None else "the store to write is out="
            raise PromptError(
                f"{prompts}: a mask store given as prompts (segment's second positional "
                f"argument, a prompt file, JSON); {said}"
            )
    if out is None:
        raise TypeError("segment() needs the mask store to write: pass out=PATH (a .zarr path)")
    if not isinstance(out, str | os.PathLike):  # 3 was "not a path, URL or zarr store"
        from ecoseg.store._util import path_hint

        zarr_object = type(out).__module__.split(".")[0] == "zarr"  # (zarr not imported here)
        why = path_hint(out) or (
            " (segment creates the store, locks it and records where it is: pass where, such "
            f"as out='masks.zarr' or 'memory://masks.zarr'{', not a zarr object' * zarr_object})"
        )
        raise StoreError(
            "segment: out must be the path or URL of the mask store to write, got "
            f"{short_repr(out)}{why}"
        )


def segment(
    video,
    prompts=None,
    *,
    out: str | os.PathLike | None = None,
    engine: str | None = None,
    model: str | None = None,
    checkpoint: str | os.PathLike | None = None,
    pretrained: bool = True,
    image_size: int | None = None,
    device: str | None = "auto",
    resume: bool = False,
    overwrite: bool = False,
    chunk_frames: int = 4,
    progress: bool | Callable[[int, int], Any] = True,
    params: dict[str, Any] | None = None,
    cancel: Any = None,
    resume_every: int = 256,
    auto: bool = False,
    backward: bool = True,
    concepts: list[str] | None = None,
    detect_every: int = 1,
    fast: bool = False,
    fps: float | None = None,
    as_video: bool = False,
) -> str:
    """Segment and track organisms in a video into a mask store.

    Parameters
    ----------
    video : str, Path or VideoReader
        Video file or folder of numbered images.
    prompts : str, Path, dict or Prompts, optional
        Prompt file or object (needed by the ``"sam2"`` engine).
    out : str or Path
        Mask store to write (zarr; local path or URL, not a zarr ``Store`` object: the run
        creates the store, locks it and records where it is); required, by keyword. A store path
        given as the second positional argument (``prompts``: a path ending in ``.zarr`` or
        naming a zarr store) is refused, saying to pass it as ``out=``.
    engine : {"sam2", "classical"}, optional
        Default: ``"sam2"`` when prompts are given, else ``"classical"``.
    model : str, optional
        SAM 2 variant name (see ``ecoseg weights list``; default :data:`DEFAULT_MODEL`), or a
        SAM 3 model (``"sam3"``, the default with ``concepts``) for concept tracking.
    checkpoint : str or Path, optional
        Checkpoint file; default the weights cache.
    pretrained : bool
        ``False`` builds the network with random weights (tests, benchmarks); with a
        ``checkpoint`` it is refused (:class:`ConfigError`): the weights come from one of them.

        A ``model``, ``checkpoint`` or ``pretrained=False`` for a run that uses the classical
        motion tracker (no prompts and no ``auto``) raises :class:`ConfigError`
        (:func:`check_network_settings`): that engine has no network.
    image_size : int, optional
        Lower network input size (e.g. 512) for speed on CPU; a multiple of 32 up to 4096
        (SAM 3: of 14 up to 4032).
    device : {"auto", "cpu", "cuda", "mps"} or "cuda:N", optional
        In any case (``"CPU"``). sam2 engine: where the network runs; ``"auto"`` (or None):
        CUDA if available, else Apple MPS, else the CPU (:func:`resolve_device`). The device
        used is recorded in the store's provenance (``parameters["device"]``).
    resume : bool
        Continue an interrupted run into an existing store. A store made from another video,
        by another engine or with other settings is refused (:class:`StoreError`) before a
        network is built or its weights are looked for.
    overwrite : bool
        Replace an existing store.
    chunk_frames : int
        Frames per store chunk.
    progress : bool or callable
        Show a progress bar, or call ``progress(done, total)`` after each frame.
    params : dict, optional
        Engine parameters (classical: :class:`ecoseg.engine.classical.ClassicalParams` fields).
    cancel : threading.Event or callable, optional
        Every engine (sam2, also with ``auto``; the classical motion tracker; SAM 3 concept
        tracking and photo surveys): stop before the next frame once set; raises
        :class:`Cancelled` and leaves a store that ``resume=True`` continues exactly (the
        classical engine, ``auto`` and concept tracking re-track from frame 0 and write only
        the frames the store lacks; what the classical engine measures of the camera,
        ``camera_motion``, is recorded, and warned about, by the run that completes the store).
    resume_every : int
        sam2 engine: frames between saves of the tracker's resume state, for ``resume`` (see
        :mod:`ecoseg.engine.resume`).
    auto : bool
        Also find and track organisms nobody prompted (:mod:`ecoseg.engine.discovery`; sam2
        engine, prompts optional, ``params`` are
        :class:`~ecoseg.engine.discovery.DiscoveryParams` fields). Discovered objects are
        recorded with source ``"discovered"``; ``resume`` re-runs discovery from frame 0 and
        writes only the frames the store lacks.
    concepts : list of str, optional
        SAM 3 concepts. A folder of images (or one image) given concepts, here or in the
        prompt file, is a photo survey: each photograph is detected on its own
        (:func:`ecoseg.engine.concepts.segment_images`, which takes only ``params``'
        ``score_threshold``; what it cannot use is refused,
        :func:`~ecoseg.engine.concepts.check_survey`). ``as_video=True`` tracks a folder of
        video frames instead; a video file is always tracked. Concept tracking with SAM 3
        (``model="sam3"``): names of what to find on every frame ("parrotfish"); combined
        with the prompt file's ``"concepts"`` (exemplar boxes). The prompt file's
        ``"objects"`` (clicks, boxes) are tracked with them by SAM 3's tracker (frames
        before the first prompted frame by a backward pass). See
        :mod:`ecoseg.engine.concept_session` and docs/concepts.md.
    detect_every : int
        Concept tracking: run the detector on every N-th frame (1: every frame).
    backward : bool
        sam2 engine with prompts: frames before the earliest prompted frame are tracked
        backwards from it (``False``: they stay empty, as after the official predictor's
        forward ``propagate_in_video``). The backward pass needs a temporary store of a few
        kB per frame beside ``out`` (local paths) or in the system's temporary folder.
    fast : bool
        sam2 engine (also with ``auto``) and SAM 3 concept tracking: run the network under bf16
        autocast on any device (SAM 2 on a CPU with AVX-512 bf16 or AMX: about 1.3x the fp32
        speed; docs/performance.md). The masks stay within the bf16 bar of the oracle tests
        but are not bit-identical to the default's (sam2: exact fp32 on the CPU, CUDA runs
        bf16 either way; SAM 3: exact fp32 on every device; its rules decide on float32
        copies of the network's outputs, docs/concepts.md). On a CPU without
        bf16 instructions (AVX-512 BF16 or AMX), where bf16 runs several times slower, the
        run stays fp32 with a ``SlowBf16Warning``. Recorded in the provenance
        (``parameters["fast"]``, when bf16 ran); a store resumes only with the same setting.
    as_video : bool
        With concepts: track an image folder as a video of frames (concept tracking), not a
        photo survey (:func:`ecoseg.engine.survey_rule.is_photo_survey`, the one rule). Refused
        without concepts (every other engine tracks a folder as a video).
    fps : float, optional
        Frame rate of an image folder ``video`` (tracked as a video): frame ``i`` is stored
        at ``i / fps`` s (default :data:`ecoseg.io.folder.DEFAULT_FPS`, 30; images carry no
        time, so times, durations and speeds are as true as this rate). Refused for a video
        file (its timestamps are its time) and for a reader (open it with
        ``open_video(folder, fps=...)``). Recorded in the provenance (``video["fps"]``); a
        store resumes only at the same rate.

    Returns
    -------
    str
        The store path, for :func:`ecoseg.open_masks` and :func:`ecoseg.measure`.

    Examples
    --------
    >>> import ecoseg, tempfile, os
    >>> d = tempfile.mkdtemp()
    >>> clip = ecoseg.synth(os.path.join(d, "clip"), frames=8, size=(96, 64))
    >>> path = ecoseg.segment(clip.video, out=os.path.join(d, "masks.zarr"), progress=False)
    >>> ecoseg.open_masks(path).sizes["t"]
    8
    """
    from ecoseg.io.video import as_reader
    from ecoseg.prompts import Prompts, load_prompts

    check_out_arg(prompts, out)
    # text is true to `if`: overwrite="no" replaced the store, auto="no" ran discovery
    resume, overwrite, auto, backward, fast, pretrained = (
        check_switch(value, name)
        for name, value in [
            ("resume", resume),
            ("overwrite", overwrite),
            ("auto", auto),
            ("backward", backward),
            ("fast", fast),
            ("pretrained", pretrained),
        ]
    )
    if resume and overwrite:
        raise ConfigError(
            "resume=True (--resume) continues the store's run and overwrite=True (--overwrite) "
            "replaces the store: give one of them"
        )
    check_weights_source(checkpoint, pretrained)
    if not (progress is None or isinstance(progress, bool) or callable(progress)):
        # "no" was taken as true: a bar
        raise TypeError(
            "progress must be True, False or a callable progress(done, total), got "
            f"{short_repr(progress)}"
        )
    params_dict(params)  # the --params JSON text: a ValueError from dict() deep inside
    device = check_device_name(device, "device (--device)")  # "CPU" as "cpu", as torch spells it
    from ecoseg.engine.survey_rule import is_photo_survey

    survey = is_photo_survey(video, as_video)  # (as_video checked to be a bool)
    if str(model).startswith("sam3") or concepts:
        if survey:
            return _segment_survey(**locals())
        return _segment_concepts(**locals())
    if as_video:
        raise ConfigError(
            "as_video=True (--as-video) is for concepts (SAM 3): the other engines track a "
            "folder of images as a video anyway; drop it"
        )
    check_network_settings(  # an unknown SAM 2 model too, before the video is read and hashed
        engine,
        prompts is not None,
        auto,
        model=model,
        checkpoint=checkpoint,
        pretrained=pretrained,
    )
    reader = as_reader(video, fps=fps)
    prompt_file = prompts if isinstance(prompts, str | os.PathLike) else None
    if prompts is not None and not isinstance(prompts, Prompts):
        prompts = Prompts.from_dict(prompts) if isinstance(prompts, dict) else load_prompts(prompts)
    engine = choose_engine(engine, prompts=prompts is not None, auto=auto)
    model = DEFAULT_MODEL if model is None else model
    check_fast(fast, engine)
    check_image_size(image_size, engine)
    check_device(device, engine)
    if engine == "sam2" and prompts is None and not auto:
        raise ConfigError(
            "the sam2 engine needs prompts (--prompts FILE.json, or --prompts-from FILE "
            "--format F) or --auto (prompts=, auto=True)"
        )
    if not backward and (engine != "sam2" or auto):
        raise ConfigError(
            "backward=False (--forward-only) applies to the sam2 engine with prompts, "
            "not to the classical engine or --auto"
        )
    if prompts is not None:
        source = str(prompt_file) if prompt_file else None
        prompts = prompts.validate(reader.width, reader.height, len(reader), source=source)
        if engine == "sam2" and not auto and len(prompts) == 0:
            hint = " (its concepts need --model sam3)" if prompts.concepts else ""
            raise PromptError(
                f"{prompt_file or 'prompts'}: no objects to track{hint}; give at least one "
                "object with a prompt, or use --auto"
            )
    params = dict(params or {})
    check_params(params, engine, auto)
    run_device = resolve_device(device) if engine == "sam2" else None
    provenance = {
        "video": reader.record(),
        "engine": engine,
        "parameters": params,
        "created": created(),
    }
    if prompts is not None:
        provenance["prompts"] = prompts.to_dict()

    check_new_store(out, resume, overwrite)
    from ecoseg.store import check_no_writer

    check_no_writer(out)  # another live writer: refuse before any model is loaded
    if engine == "classical":
        from ecoseg.engine.classical import ClassicalParams, track

        cp = ClassicalParams.from_dict(params)  # bad parameters fail before the store exists
        provenance["parameters"] = cp.to_dict()
    elif auto:
        from ecoseg.engine.discovery import DiscoveryEngine, DiscoveryParams

        dp = DiscoveryParams.from_dict(params)
        provenance["auto"] = True
        provenance["parameters"] = dp.to_dict()
    elif engine == "sam2":
        provenance["backward"] = bool(backward)
    if engine == "sam2":
        from ecoseg.engine._runtime import fast_bf16

        fast = fast_bf16(fast, run_device)  # a CPU without bf16 instructions stays fp32
        provenance["parameters"] = {**provenance["parameters"], "device": run_device}
        if fast:  # absent when off: stores made before the setting existed resume unchanged
            provenance["parameters"]["fast"] = True
        from ecoseg.sam2.variants import get_variant

        size = get_variant(model, image_size).image_size  # the network's, before it is built
        provenance["model"] = model_record(model, checkpoint, pretrained, size)
        # a kept store made by another engine or with other settings: refused before the
        # weights are looked for (a missing download is no reason when resuming cannot be)
        if resume and _kept_store_done(out, provenance):
            return str(out)  # nothing left to track: the store is left as it is
        net = _build_model(model, checkpoint, pretrained, image_size, run_device)
    from ecoseg.engine._runtime import until_cancelled

    store = _open_output(out, reader, provenance, resume, overwrite, chunk_frames)
    try:
        if resume and store.complete:  # same settings, nothing left to track: left as it is
            return str(out)
        if engine == "classical":
            if len(reader) < cp.min_hits:  # nothing can be found: say so, not an empty store
                n = len(reader)
                warn(
                    f"{reader.path}: {n} frame{'s' if n != 1 else ''}: the motion tracker makes a "
                    f"track of an animal seen moving in {cp.min_hits} frames in a row "
                    "(min_hits), so it finds none; for a still image use the sam2 engine "
                    "(--prompts or --auto) or --concepts",
                    ShortVideoWarning,
                )
            # re-tracked from frame 0 (the state is rebuilt), written from the first frame the
            # store lacks: a cancelled run resumes to the uninterrupted store
            results = track(
                reader, params=cp, skip_until=store.n_frames, cancel=cancel
            ).until_cancelled(store, len(reader))
            objects, source = {}, "tracker"
        elif auto:
            discovery = DiscoveryEngine(net, reader, prompts, params=dp, fast=fast)
            results = until_cancelled(
                discovery.run(output="labels", cancel=cancel), cancel, store, len(reader)
            )
            objects, source = discovery.objects, "discovered"
        else:
            from ecoseg.engine.resume import remove_resume_state, resume_location
            from ecoseg.engine.storing import store_results

            resume_file = resume_location(out)
            identity = {k: provenance[k] for k in ("video", "prompts", "model")}
            identity["video"] = {"sha256": provenance["video"]["sha256"]}
            results = store_results(
                net,
                reader,
                prompts,
                store,
                location=resume_file,
                identity=identity,
                resume=resume,
                cancel=cancel,
                resume_every=resume_every,
                backward=backward,
                backward_progress=_backward_bar(progress),
                scratch_dir=_local_folder_of(out),
                fast=fast,
            )
            objects, source = prompts.classes(), "prompt"
        write_results(
            store,
            results,
            times=reader.times,
            objects=objects,
            source=source,
            total=len(reader),
            progress=progress,
        )
        store.mark_complete()
        if engine == "sam2" and not auto:
            remove_resume_state(resume_file)
    finally:
        store.close()
    return str(out)


def _backward_bar(progress):
    """``progress(done, total)`` for the backward pass: a tqdm bar when ``progress`` is True."""
    if progress is not True:
        return None
    from ecoseg._progress import progress_bar

    bar = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = progress_bar(total=total, unit="frame", desc="segment (backwards)")
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def _open_output(out, reader, provenance, resume, overwrite, chunk_frames):
    from ecoseg.store import MaskStore

    if resume:
        try:
            store = MaskStore.open(out, mode="a")
        except StoreError:
            if _exists(out):
                raise
            resume = False  # nothing to resume: start a new store
        else:
            try:
                check_resumable(out, store.provenance_record, provenance)
            except StoreError:
                store.close()
                raise
            return store
    return MaskStore.create(
        out,
        height=reader.height,
        width=reader.width,
        chunk_frames=chunk_frames,
        provenance=provenance,
        overwrite=overwrite,
    )


def _kept_store_done(out, provenance: dict) -> bool:
    """For a resume, before a network is built or its weights looked for: refuse a kept store
    made from another video, by another engine or with other settings
    (:func:`~ecoseg.engine.resume.check_resumable`); whether it is complete (nothing to do).
    Local paths and store URLs (``memory://``, ``s3://``: :func:`_exists` lists them) alike.
    ``False`` where ``out`` is no store (a new one, or a path refused when it is opened)."""
    if not _exists(out):
        return False
    from ecoseg.store import MaskStore

    try:
        stored = MaskStore.open(out)
    except StoreError:
        return False  # not a store: refused when it is opened, as for any run
    try:
        check_resumable(out, stored.provenance_record, provenance)
        return stored.complete
    finally:
        stored.close()


def _local_folder_of(path) -> str | None:
    """The folder holding a local store path (None for URLs and zarr Store objects)."""
    if not isinstance(path, str | os.PathLike) or "://" in str(path):
        return None
    parent = Path(path).absolute().parent
    return str(parent) if parent.is_dir() else None


def _exists(path) -> bool:
    """Whether anything is stored at ``path``: a local path, a ``file://`` or fsspec URL
    (``memory://``, ``s3://``: one listing) or a zarr Store object
    (:meth:`ecoseg.store.Location.exists`)."""
    from ecoseg.store import Location

    return Location(path).exists()


def _build_model(name, checkpoint, pretrained, image_size, device):
    from ecoseg import sam2

    return build_network(sam2, name, checkpoint, pretrained, image_size, device)


# ---------------------------------------------------------------------------------------
# concept tracking (SAM 3)
# ---------------------------------------------------------------------------------------
def _segment_survey(
    *,
    video,
    prompts,
    out,
    model,
    checkpoint,
    pretrained,
    image_size,
    device,
    resume,
    overwrite,
    chunk_frames,
    progress,
    params,
    cancel,
    concepts,
    detect_every,
    fast,
    **ignored,
) -> str:
    """:func:`segment` of a photo survey (a folder of images, or one, given concepts):
    :func:`ecoseg.engine.concepts.segment_images`, after refusing what it cannot use."""
    from ecoseg.engine.concepts import check_survey, segment_images

    request = concept_request(
        model,
        prompts,
        concepts,
        engine=ignored.get("engine"),
        auto=ignored.get("auto", False),
        image_size=image_size,
    )
    threshold = check_survey(
        video,
        request.concepts,
        objects=request.objects,
        prompt_file=request.prompt_file,
        detect_every=detect_every,
        fast=fast,
        backward=ignored.get("backward", True),
        fps=ignored.get("fps"),
        params=params,
    )
    request.require_concepts()  # after the survey's own refusals
    return segment_images(
        video,
        [c.name for c in request.concepts],
        out=out,
        model=request.model,
        checkpoint=checkpoint,
        pretrained=pretrained,
        image_size=image_size,
        device=device,
        overwrite=overwrite,
        score_threshold=0.5 if threshold is None else threshold,
        progress=progress,
        chunk_frames=chunk_frames,
        resume=resume,
        cancel=cancel,
    )


def _segment_concepts(
    *,
    video,
    prompts,
    out,
    model,
    checkpoint,
    pretrained,
    image_size,
    device,
    resume,
    overwrite,
    chunk_frames,
    progress,
    params,
    cancel,
    concepts,
    detect_every,
    fast,
    **ignored,
) -> str:
    """:func:`segment` with ``model="sam3"``: track every instance of the concepts.

    Resuming re-runs tracking from frame 0 (the result is the same) and writes only the frames
    the store lacks.
    """
    from ecoseg.engine.concept_rules import ConceptSettings
    from ecoseg.engine.concepts import survey_line
    from ecoseg.io.video import as_reader
    from ecoseg.prompts import Prompts

    request = concept_request(
        model,
        prompts,
        concepts,
        engine=ignored.get("engine"),
        auto=ignored.get("auto", False),
        image_size=image_size,
        backward=bool(ignored.get("backward", True)),
    )
    reader = as_reader(video, fps=ignored.get("fps"))
    request.require_concepts()
    model, source = request.model, request.source
    try:
        prompts = Prompts(request.objects, request.concepts)
    except PromptError as exc:
        raise PromptError(f"{source}: {exc}" if source else str(exc)) from None
    prompts = prompts.validate(reader.width, reader.height, len(reader), source=source)
    settings = ConceptSettings.from_params(params, detect_every)
    run_device = resolve_device(device)
    from ecoseg.engine._runtime import fast_bf16

    fast = fast_bf16(fast, run_device)  # a CPU without bf16 instructions stays fp32
    provenance = {
        "video": reader.record(),
        "engine": "sam3-concepts",
        "parameters": {**settings.to_dict(), "device": run_device},
        "prompts": prompts.to_dict(),
        "created": created(),
    }
    if fast:  # absent when off: stores made before the setting existed resume unchanged
        provenance["parameters"]["fast"] = True
    check_new_store(out, resume, overwrite)
    from ecoseg.store import check_no_writer

    check_no_writer(out)
    if resume:  # before SAM 3 loads: a changed setting, or nothing to do (a kept store's)
        from ecoseg.sam3.config import get_config

        size = get_config(model, image_size).image_size
        settings_now = {**provenance, "model": model_record(model, checkpoint, pretrained, size)}
        if _kept_store_done(out, settings_now):  # nothing left to track: left as it is
            return str(out)
    from ecoseg import sam3
    from ecoseg.engine._runtime import until_cancelled
    from ecoseg.engine.concept_session import ConceptRun, concept_tokenizer

    if checkpoint is not None:  # its vocabulary, before the checkpoint is read
        from ecoseg.sam3.weights import require_vocabulary

        require_vocabulary(checkpoint)
    net = build_network(sam3, model, checkpoint, pretrained, image_size, run_device)
    provenance["model"] = model_record(model, checkpoint, pretrained, net.image_size)
    run = ConceptRun(
        net,
        reader,
        prompts.concepts,  # validated: boxes cut to the frame (warned about once)
        settings,
        tokenizer=concept_tokenizer(net, pretrained or checkpoint is not None),
        objects=prompts,
        fast=fast,
    )
    store = _open_output(out, reader, provenance, resume, overwrite, chunk_frames)
    try:
        done = store.n_frames
        steps = run.run(cancel=cancel, backward_progress=_backward_bar(progress))
        results = (r for r in steps if r.index >= done)
        write_results(
            store,
            until_cancelled(results, cancel, store, len(reader)),
            times=reader.times,
            objects=run.objects,
            source="concept",
            total=len(reader),
            progress=progress,
            desc=survey_line(len(reader), False),
        )
        store.mark_complete()
    finally:
        store.close()
    return str(out)
