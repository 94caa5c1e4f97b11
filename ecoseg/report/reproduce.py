"""The commands that make a report's stores and page again, shown on the page.

Every setting a store's provenance records that shapes its masks goes into its command: the
model, input size, checkpoint name, device, precision, direction, an image folder's frame rate
(``--fps``, which times its frames), and the prompt file and
engine settings as files the page offers for download (``<video>.prompts.json``,
``<video>.params.json``), so the commands run as shown (the options are
:func:`ecoseg.store.segment_options`, the builder of the command that resumes a store too). A
reviewed or classified store's edit
log follows as ``ecoseg edit`` / ``ecoseg classify`` commands (:func:`review_steps`, in
:mod:`ecoseg.report._replay` with the replay of a study's reviews).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ecoseg._bundled import bundled_name
from ecoseg._checks import number_text
from ecoseg.measure.calibration import scale_text
from ecoseg.report._replay import (
    InputFile,
    calibration_arg,
    recorded_models,
    review_steps,
    study_reviews,
)
from ecoseg.report.read import NOT_RECORDED, VideoInfo, store_names
from ecoseg.store.rerun import rate_options, segment_options

__all__ = [
    "Command",
    "InputFile",
    "calibration_arg",
    "measure_command",
    "recorded_models",
    "reproduce",
    "review_steps",
    "store_command",
]

#: where the commands of a page with a study run
_BESIDE_STUDY = "in the folder that holds the study file (its text is below)"


@dataclass(frozen=True)
class Command:
    """One shell command and the files it reads."""

    text: str
    files: tuple[InputFile, ...] = ()


def reproduce(
    videos: list[VideoInfo], study: Any, out: Path, title: str | None = None
) -> dict[str, Any]:
    """How to make the page again: ``ecoseg study`` for a study's own stores, else one command
    per store.

    ``title`` is the page title the report was asked for (``--title``); the ground-truth
    stores of the videos (``--truth``) come from ``videos``. ``ecoseg study`` makes the
    study's own stores (``study.store_path(video)``) of all its videos and its page, not
    another store of a video's name nor a page of some of them or titled otherwise: such a
    page (any store not the study's own of its video, :attr:`VideoInfo.study_store`) gets
    one command per store as a page without a study, run in the study folder, and the
    closing ``ecoseg report ... --study``.

    Returns
    -------
    dict
        ``study`` (the command, or None), ``where`` (the folder to run it in), ``steps`` (the
        commands, one per store, then ``ecoseg report``) and ``files`` (the
        :class:`InputFile` records the steps read).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> study = SimpleNamespace(path=Path("field/study.yaml"), videos=(), title=None, name="s")
    >>> reproduce([], study, Path("field/out/report.html"))["study"]
    'ecoseg study study.yaml'
    """
    if _study_page(videos, study, title):
        run = f"ecoseg study {_q(study.path.name)}"
        replays = [study_reviews(v, study) for v in videos]
        # a closing (first) run that classifies none: every store's classifications of the
        # study's model after its last (before its first) review are steps; whether the
        # first run may classify depends on the closing run
        last = any(r.last_unclassified for r in replays)
        if last:
            replays = [study_reviews(v, study, last=True) for v in videos]
        whole = any(r.unclassified for r in replays)
        if whole:
            replays = [study_reviews(v, study, whole=True, last=last) for v in videos]
        reviews = [step for r in replays for step in r.steps]
        # the first run classifies a store only where the study's model made its log's first
        # entry (not a model added after a review, nor a model file since replaced)
        first = f"{run} --no-report" + (" --no-classify" * whole)
        # the closing run only where it makes the last one with today's calibration
        closing = run + " --no-classify" * last
        files = {f.name: f for r in replays for f in r.files}
        return {
            # no steps: one run, which classifies none where the closing run would not (a
            # study run with --no-classify alone)
            "study": run if reviews else closing,
            "where": _BESIDE_STUDY,
            # a person's review goes between a run that makes the stores and one that
            # measures them again and writes the page
            "steps": [first, *reviews, closing] if reviews else [],
            "files": list(files.values()),
            "notes": [note for r in replays for note in r.notes],
        }
    if study is not None:  # the commands run beside the study file: stores named from there
        videos = [replace(v, store_shown=_from_study_folder(v, study)) for v in videos]
    commands = [store_command(v) for v in videos]
    stores = " ".join(_q(v.store_shown) for v in videos)
    steps = [] if (note := _sample_note(videos)) is None else [note]
    for v, c in zip(videos, commands):
        steps.append(c.text)
        if (note := _missing_video_note(v, c.text)) is not None:
            steps.append(note)
        if not getattr(v, "complete", True):
            steps.append(_unfinished_note(v))
    steps += [
        step
        for v in videos
        for step in review_steps(
            v.store_shown,
            v.edits,
            v.unchecked_splits,
            v.refused_merges,
            v.refused_reviews,
            v.kept_visual,
            calibrated=_made_calibrated(v),
            unmade=v.unmade_merges,
            names=v.refused_names,
        )
    ]
    # a calibration is saved into a store by `ecoseg measure`, not by `segment`: without
    # this step the page made again would be in pixels
    for v in videos:
        if (cmd := measure_command(v)) is not None:
            steps.append(cmd)
            if (note := _method_note(v)) is not None:
                steps.append(note)
    page = ["ecoseg", "report", stores, "-o", _q(out.name)]
    if study is not None:
        page += ["--study", _q(study.path.name)]
    # the bundled sample's truth by its name (ecoseg:sample/truth.zarr), as --truth takes it
    truths = [bundled_name(v.truth_shown or v.truth) or v.truth_shown or v.truth for v in videos]
    # a study's truth of its video comes with --study; --truth is given once per store
    given = [t for v, t in zip(videos, truths) if t and not _study_truth(study, v.name)]
    if given and all(truths):
        page += [a for t in truths for a in ("--truth", _q(t))]
    if title:
        page += ["--title", _q(title)]
    steps.append(" ".join(page))
    if given and not all(truths):
        steps.append("# the ground truth of some videos was given in Python (report(truth=...))")
    if (note := _names_note(videos)) is not None:
        steps.append(note)
    return {
        "study": None,
        "where": None if study is None else _BESIDE_STUDY,
        "steps": steps,
        "files": [f for c in commands for f in c.files],
        "notes": [],
    }


def _study_page(videos: list[VideoInfo], study: Any, title: str | None) -> bool:
    """Whether ``ecoseg study`` makes this page: it reports the study's own stores of all its
    videos, in its order, under its own title; not a page of some of them, of another
    store of a video's name, nor one titled otherwise (``--title``)."""
    if study is None or not all(getattr(v, "study_store", False) for v in videos):
        return False
    every = [v.name for v in videos] == [spec.name for spec in study.videos]
    return every and title in (None, study.title or study.name)


def _from_study_folder(v: VideoInfo, study: Any) -> str:
    """A store's path from the study folder (where the commands of a page with a study run);
    a URL as given."""
    if "://" in str(v.store_path):
        return v.store_shown
    return study.relative(Path(v.store_path).resolve())


def _study_truth(study: Any, name: str) -> bool:
    """Whether ``study`` gives the video ``name`` a ground truth (``report --study`` reads
    it)."""
    try:
        return study is not None and study.video(name).truth is not None
    except KeyError:
        return False


def store_command(v: VideoInfo) -> Command:
    """The command that makes one store again, from its provenance.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from ecoseg.provenance import Provenance
    >>> prov = Provenance.from_dict({"engine": "sam2", "backward": False,
    ...     "model": {"variant": "sam2.1-small", "image_size": 512, "pretrained": True},
    ...     "parameters": {"device": "cpu", "fast": True}, "prompts": {"objects": [{"id": 1}]}})
    >>> cmd = store_command(SimpleNamespace(name="reef 1", provenance=prov,
    ...                     video_shown="reef 1.mp4", store_shown="reef 1.zarr"))
    >>> cmd.text
    "ecoseg segment 'reef 1.mp4' -o 'reef 1.zarr' --engine sam2 --model sam2.1-small \
--image-size 512 --device cpu --fast --prompts 'reef 1.prompts.json' --forward-only"
    >>> [f.name for f in cmd.files]
    ['reef 1.prompts.json']
    """
    prov = v.provenance
    if prov.get("generator") == "ecoseg.synth":
        return Command(_synth_command(v))
    if v.video_shown == NOT_RECORDED:  # a store made in Python below ecoseg.segment
        return Command(f"# {v.name}: its store records no video; ecoseg has no command for it")
    engine = prov.engine or "classical"
    if engine == "import":
        return Command(_import_command(v))
    files: list[InputFile] = []

    def shown(kind: str, value: Any) -> str:
        if kind == "checkpoint":  # the page's readers have their own copy
            return _q(Path(str(value)).name)
        file = InputFile(f"{_file_stem(v.name)}.{kind}.json", json.dumps(value, indent=2) + "\n")
        files.append(file)
        return _q(file.name)

    flags = segment_options(replace(prov, engine=engine), shown)
    if flags is None:
        return Command(f"# {v.name}: made by {engine!r}; ecoseg has no command for it")
    cmd = ["ecoseg", "segment", _q(v.video_shown), "-o", _q(v.store_shown), *flags]
    return Command(" ".join(cmd), tuple(files))


def _made_calibrated(v: Any) -> str | None:
    """The calibration a store's command gives it (its ``--calibration`` spec): a synthetic
    clip's own (:func:`_made_calibration`), else none (``segment`` records none)."""
    return calibration_arg(_made_calibration(v))


def _made_calibration(v: Any) -> dict | None:
    """The calibration a store is made with by its command: a synthetic clip's own, which
    ``ecoseg synth`` records in its provenance (not the one ``measure --calibration`` gave it
    since); for a clip of an older ecoseg, which did not record it, its calibration while
    that is still the synthetic one. None for any other store (``segment`` records none)."""
    prov = getattr(v, "provenance", None)
    if prov is None or prov.get("generator") != "ecoseg.synth":
        return None
    made = prov.get("calibration")
    if made is None:  # not recorded: only a calibration of the synthetic method says
        cal = getattr(v, "calibration", None)
        made = cal if isinstance(cal, dict) and cal.get("method") == "synthetic" else None
    return dict(made) if made else None


def _names_note(videos: list[VideoInfo]) -> str | None:
    """A comment under ``ecoseg report`` where the page names its videos otherwise than the
    command names their stores (:func:`~ecoseg.report.read.store_names`): names given in
    Python (``report({"sample": store})``), which the command cannot give, so the tables'
    ``video`` column and the page made again would differ. None where they agree.

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> print(_names_note([V(name="sample", store_shown="out/masks.zarr")]))  # doctest: +ELLIPSIS
    # the page names the video sample; this command names it after its store (masks): ...
    >>> _names_note([V(name="masks", store_shown="out/masks.zarr")]) is None
    True
    """
    names = [v.name for v in videos]
    given = store_names([v.store_shown for v in videos])
    if given == names:
        return None
    differ = [(v.name, g) for v, g in zip(videos, given or [None] * len(videos)) if v.name != g]
    ours = ", ".join(n for n, _ in differ)
    theirs = ", ".join(g or "?" for _, g in differ)
    one = len(differ) == 1
    stores = " or ".join(f"{n}.zarr" for n, _ in differ)
    pairs = ", ".join(f'"{n}": STORE' for n, _ in differ)
    return (
        f"# the page names the video{'' if one else 's'} {ours}; this command names "
        f"{'it' if one else 'them'} after {'its store' if one else 'their stores'} ({theirs}): "
        f"rename the store{'' if one else 's'} {stores}, or make the page in Python with "
        f"ecoseg.report({{{pairs}}})"
    )


def _sample_note(videos: list[VideoInfo]) -> str | None:
    """A comment before the commands where a video is ecoseg's bundled sample
    (:func:`ecoseg.sample.sample`): the commands name it, and its ground truth, by the names
    every ecoseg takes (``ecoseg:sample/video.mp4``, ``ecoseg:sample/truth.zarr``), and
    ``ecoseg demo`` makes the demo's store and page of it.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from ecoseg.sample import sample
    >>> print(_sample_note([SimpleNamespace(name="sample", video_path=sample().video)]))
    # sample: ecoseg's bundled sample clip, named below as every installation of ecoseg names
    it; `ecoseg demo --out DIR` makes the demo's store and page of it
    >>> _sample_note([SimpleNamespace(name="reef", video_path=Path("reef.mp4"))]) is None
    True
    """
    from ecoseg.sample import SAMPLE_VIDEO

    paths = [(v.name, getattr(v, "video_path", None)) for v in videos]
    names = [name for name, path in paths if path and bundled_name(path) == SAMPLE_VIDEO]
    if not names:
        return None
    return (
        f"# {', '.join(names)}: ecoseg's bundled sample clip, named below as every installation "
        "of ecoseg names it; `ecoseg demo --out DIR` makes the demo's store and page of it"
    )


def _missing_video_note(v: Any, command: str) -> str | None:
    """A comment under a store's command that names its video where the video is not found
    on this machine (at its recorded path, beside the store, nor in a folder moved whole;
    or at a study's ``path:``): the command shows that path, which will not run as it is.

    Examples
    --------
    >>> from pathlib import Path
    >>> from types import SimpleNamespace
    >>> v = SimpleNamespace(name="reef", video_path=Path("/gone/reef.mp4"),
    ...                     video_shown="/gone/reef.mp4")
    >>> print(_missing_video_note(v, "ecoseg segment /gone/reef.mp4 -o reef.zarr"))
    # reef: its video is not found here (not at /gone/reef.mp4): put its path in the command above
    >>> v.video_looked = "not at that path, nor at reef.mp4, nor in a folder moved whole with it"
    >>> print(_missing_video_note(v, "ecoseg segment /gone/reef.mp4 -o reef.zarr"))
    # reef: its video is not found here (not at that path, nor at reef.mp4, nor in a folder moved
    whole with it): put its path in the command above
    """
    path = getattr(v, "video_path", None)
    if path is None or path.exists() or _q(v.video_shown) not in command.split():
        return None
    # a store's recorded path: named once (in the command), then where it was looked for
    looked = getattr(v, "video_looked", "") or f"not at {v.video_shown}"
    return f"# {v.name}: its video is not found here ({looked}): put its path in the command above"


def _method_note(v: Any) -> str | None:
    """A comment under a calibrated store's ``ecoseg measure`` where no ``--calibration`` spec
    records how its calibration was measured (``synthetic``, copied into a run's store from
    its synthetic clip, as ``ecoseg demo`` does): the command records the same mm per pixel
    as ``scale``, so the page made again says ``2.5 mm/px`` where this one says ``2.5 mm/px
    (synthetic)``. None for a scale, scale bar or lasers (a spec records them).

    Examples
    --------
    >>> from types import SimpleNamespace as V
    >>> print(_method_note(V(name="m", calibration={"mm_per_px": 2.5, "method": "synthetic"})))
    # m: its calibration 2.5 mm/px was measured as synthetic, which no --calibration records: ...
    >>> _method_note(V(name="m", calibration={"mm_per_px": 2.5, "method": "scale"})) is None
    True
    """
    cal = getattr(v, "calibration", None)
    method = cal.get("method") if isinstance(cal, dict) else None
    if method in (None, "scale", "scale_bar", "laser_points"):
        return None
    shown = str(method).replace("_", " ")
    return (
        f"# {v.name}: its calibration {scale_text(cal['mm_per_px'])} was measured as {shown}, "
        "which no --calibration records: the command above records the same mm per pixel, "
        f"and the page made again shows no ({shown})"
    )


def _unfinished_note(v: Any) -> str:
    """A comment under an unfinished store's command: the command makes more than it holds
    (of a store another process still writes: it was still being written, as the page says).
    """
    video = getattr(v.provenance, "video", None)
    total = getattr(video, "frames", None)
    of = f" of the video's {total}" if total else ""
    state = "it was still being written" if getattr(v, "writer", None) else "its run did not finish"
    return (
        f"# {v.store_shown} holds {v.n_frames} frames{of} ({state}); the command above runs to "
        "the end, so its numbers will differ"
    )


def measure_command(v: VideoInfo) -> str | None:
    """The ``ecoseg measure`` command that saves a store's calibration into it (None if none,
    or the synthetic clip's own, which its ``ecoseg synth`` command records again;
    ``--calibration none`` for a synthetic clip whose calibration was cleared since).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> measure_command(SimpleNamespace(name="reef 1", store_shown="reef 1.zarr",
    ...     calibration={"mm_per_px": 0.25, "method": "scale"}))
    "ecoseg measure 'reef 1.zarr' -o 'reef 1.tables' --calibration 0.25"
    >>> measure_command(SimpleNamespace(name="r", store_shown="r.zarr", calibration=None))
    """
    cal = getattr(v, "calibration", None) or None
    made = _made_calibration(v)
    if cal == made:  # none, or the synthetic clip's own: its `ecoseg synth` makes it again
        return None
    # a synthetic clip's calibration cleared since: in pixels, as the store is now
    spec = calibration_arg(cal) if cal is not None else "none"
    if spec is None:
        return None
    out = f"{_file_stem(v.name)}.tables"
    return " ".join(
        ["ecoseg", "measure", _q(v.store_shown), "-o", _q(out), "--calibration", _q(spec)]
    )


def _import_command(v: VideoInfo) -> str:
    """The ``ecoseg import`` command of a store made from another tool's annotation file."""
    record = v.provenance.get("import") or {}
    name = str(record.get("file") or "ANNOTATIONS")
    cmd = ["ecoseg", "import", _q(name), "--format", str(record.get("format") or "?")]
    cmd += ["--video", _q(v.video_shown), "-o", _q(v.store_shown), *rate_options(v.provenance)]
    if record.get("align", "index") != "index":
        cmd += ["--align", str(record["align"])]
    if record.get("first_frame") is not None:
        cmd += ["--first-frame", str(record["first_frame"])]
    sha = record.get("sha256") or "not recorded"
    return " ".join(cmd) + f"   # {name}: the annotation file with SHA-256 {sha}"


def _synth_command(v: VideoInfo) -> str:
    """The ``ecoseg synth`` command that made a synthetic store again."""
    p = v.provenance.parameters or {}
    folder = Path(v.store_shown).parent.as_posix()
    cmd = ["ecoseg", "synth", "-o", _q(folder if folder not in ("", ".") else "clip")]
    for key, flag in (("seed", "--seed"), ("frames", "--frames"), ("fps", "--fps")):
        if key in p:
            cmd += [flag, number_text(p[key]) if isinstance(p[key], float) else str(p[key])]
    if isinstance(p.get("size"), list) and len(p["size"]) == 2:
        cmd += ["--size", f"{p['size'][0]}x{p['size'][1]}"]
    if "camera" in p:
        cmd += ["--camera", str(p["camera"])]
    for key, flag in (
        ("n_fish", "--fish"),
        ("n_invertebrates", "--invertebrates"),
        ("crf", "--crf"),
    ):
        if key in p:
            cmd += [flag, str(p[key])]
    return " ".join(cmd) + f"   # {v.name}: synthetic ground truth"


def _file_stem(name: str) -> str:
    """A video's name as a file name (path separators and control characters replaced)."""
    return re.sub(r"[\\/:\x00-\x1f]", "_", str(name)) or "video"


def _q(text: str) -> str:
    return shlex.quote(str(text))
