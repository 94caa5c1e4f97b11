"""Checks of a run's settings against the engine that will run it, before any work.

:func:`choose_engine` picks the engine a run uses (and refuses an unknown one); the
``check_*`` functions refuse settings that engine cannot use, each in one line naming the
command-line option: a network setting for the classical motion tracker
(:func:`check_network_settings`), ``fast`` (:func:`check_fast`), an image size
(:func:`check_image_size`), a device (:func:`check_device`), engine parameters
(:func:`check_params`), what concept tracking cannot do (:func:`check_concept_run`), an
unknown model or a checkpoint file that is not there (:func:`check_model_checkpoint`) and an
output store that exists (:func:`check_new_store`). :func:`concept_request` is what a SAM 3
concept run (a photo survey or a video) asks for, checked: its model and its concepts.
:func:`ecoseg.segment`, ``ecoseg batch``, study files and the napari widget all check here;
``ecoseg.engine`` re-exports them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecoseg.errors import ConfigError

__all__ = [
    "ENGINES",
    "ConceptRequest",
    "check_concept_run",
    "check_device",
    "check_fast",
    "check_image_size",
    "check_model_checkpoint",
    "check_network_settings",
    "check_new_store",
    "check_params",
    "check_weights_source",
    "choose_engine",
    "concept_request",
    "params_dict",
]

ENGINES = ("sam2", "classical")


def choose_engine(engine: str | None, *, prompts: bool, auto: bool) -> str:
    """The engine a run uses, checked against whether it has prompts and ``auto``.

    Parameters
    ----------
    engine : {"sam2", "classical"} or None
        As asked; ``None``: ``"sam2"`` with prompts or ``auto``, else ``"classical"``.
    prompts : bool
        Whether prompts are given.
    auto : bool
        Whether automatic discovery is asked for.

    Returns
    -------
    str

    Raises
    ------
    ConfigError
        An unknown engine, ``auto`` without sam2, or prompts for the classical engine.

    Examples
    --------
    >>> choose_engine(None, prompts=False, auto=True)
    'sam2'
    """
    if engine is None:
        engine = "sam2" if prompts or auto else "classical"
    if engine not in ENGINES:
        raise ConfigError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    if auto and engine != "sam2":
        raise ConfigError("automatic discovery (--auto) needs the sam2 engine")
    if engine == "classical" and prompts:
        raise ConfigError("the classical engine takes no prompts; use --engine sam2")
    return engine


def check_concept_run(model: str, engine: str | None = None, auto: bool = False) -> None:
    """Refuse what SAM 3 concepts (tracked on a video, or a photo survey) cannot do: a model
    that is not SAM 3, another engine, or discovery (``--auto``); they were ignored without a
    word.

    Examples
    --------
    >>> check_concept_run("sam3")
    >>> check_concept_run("sam3", engine="classical")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: SAM 3 concepts take no --engine and no --auto
    >>> check_concept_run("sam2.1-tiny")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: concepts (--concepts) need a SAM 3 model (--model sam3), not \
'sam2.1-tiny'

    The command line refuses ``--concepts`` with another ``--model`` in these words too
    (``ecoseg._cli.engine_options`` calls this with the model alone).
    """
    if not str(model).startswith("sam3"):
        raise ConfigError(f"concepts (--concepts) need a SAM 3 model (--model sam3), not {model!r}")
    if engine is not None or auto:
        # worded for a photo survey as for concept tracking on a video (both callers use it)
        raise ConfigError("SAM 3 concepts take no --engine and no --auto")


@dataclass(frozen=True)
class ConceptRequest:
    """What a SAM 3 concept run asks for (:func:`concept_request`).

    Attributes
    ----------
    model : str
        The SAM 3 model (``"sam3"`` when none was given).
    prompt_file : str or Path, optional
        The prompt file the concepts and objects came from (``None``: none, or prompts given
        as a dict or :class:`~ecoseg.prompts.Prompts`).
    concepts : tuple of Concept
        The prompt's concepts followed by the ``concepts`` names they lack
        (:func:`~ecoseg.prompts.combine_concepts`).
    objects : tuple
        The prompt's objects (clicks, boxes).
    shown : str, optional
        The prompt file as messages name it (``None``: its path; a study file: as written).
    """

    model: str
    prompt_file: str | os.PathLike | None
    concepts: tuple
    objects: tuple
    shown: str | None = None

    @property
    def source(self) -> str | None:
        """The prompt file as messages name it (``None``: no file)."""
        return self.shown or (str(self.prompt_file) if self.prompt_file else None)

    def require_concepts(
        self, remedy: str = "--concepts NAME... or a prompt file's 'concepts'"
    ) -> None:
        """Refuse a run with no concepts to find (neither ``concepts`` nor the prompt's), in
        the same words from every entry point: ``model M needs concepts: REMEDY``, and the
        prompt file that has none.

        Parameters
        ----------
        remedy : str, optional
            How to give concepts, in the caller's words (a study file names its keys).

        Examples
        --------
        >>> ConceptRequest("sam3", None, (), ()).require_concepts()
        Traceback (most recent call last):
        ecoseg.errors.ConfigError: model sam3 needs concepts: --concepts NAME... or a prompt \
file's 'concepts'
        """
        if not self.concepts:
            none_in = f" ({self.source} has none)" if self.source else ""
            raise ConfigError(f"model {self.model} needs concepts: {remedy}{none_in}")


def concept_request(
    model: str | None,
    prompts: Any,
    concepts: Any,
    *,
    engine: str | None = None,
    auto: bool = False,
    image_size: int | None = None,
    backward: bool | None = None,
    shown: str | None = None,
) -> ConceptRequest:
    """The model and concepts of a SAM 3 concept run, checked in this order: the model
    (:func:`check_concept_run`, then a preset of :func:`ecoseg.sam3.config.get_config`, in the
    words the network's build uses; ``"sam3"`` when ``None``), ``backward`` (``False`` refused:
    a concept run on a video runs forward; ``None``: not asked, a photo survey's
    :func:`~ecoseg.engine.concepts.check_survey` names it), the image size
    (:func:`check_image_size`), then the prompt file read and its concepts combined with
    ``concepts``. No concepts at all is :meth:`ConceptRequest.require_concepts`'s to refuse,
    after a survey's own refusals.

    :func:`ecoseg.segment` (a photo survey and concept tracking on a video),
    :func:`~ecoseg.engine.settings.requested_settings`, ``ecoseg batch`` (each video's prompt
    file) and study files ask here.

    Parameters
    ----------
    model : str, optional
        The SAM 3 model.
    prompts : str, Path, dict or Prompts, optional
        The prompt file (or its content).
    concepts : sequence of str, optional
        Concept names (``--concepts``).
    engine, auto, image_size, backward
        As given to :func:`ecoseg.segment`.
    shown : str, optional
        The prompt file as messages name it (default: its path).

    Returns
    -------
    ConceptRequest

    Examples
    --------
    >>> r = concept_request(None, {"concepts": ["wrasse"]}, ["wrasse", "sea urchin"])
    >>> r.model, [c.name for c in r.concepts], r.prompt_file
    ('sam3', ['wrasse', 'sea urchin'], None)
    >>> concept_request("sam3-large", None, ["wrasse"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: unknown SAM 3 model 'sam3-large'; valid names: sam3, sam3-reduced
    """
    from ecoseg.prompts import Prompts, combine_concepts, load_prompts
    from ecoseg.sam3.config import get_config

    model = "sam3" if model is None else model  # concepts alone: SAM 3 (as --concepts)
    check_concept_run(model, engine, auto)
    get_config(model)  # an unknown SAM 3 model (a checkpoint too is built on a preset)
    if backward is False:  # it was ignored without a word
        raise ConfigError(
            "backward=False (--forward-only) applies to the sam2 engine with prompts; concept "
            "tracking runs forward from frame 0"
        )
    check_image_size(image_size, "sam3", model)  # before the video is read and hashed
    prompt_file = prompts if isinstance(prompts, str | os.PathLike) else None
    if prompts is not None and not isinstance(prompts, Prompts):
        prompts = Prompts.from_dict(prompts) if isinstance(prompts, dict) else load_prompts(prompts)
    given = tuple(prompts.concepts) if prompts is not None else ()
    wanted = combine_concepts(given, concepts, shown or (prompt_file and str(prompt_file)))
    objects = tuple(prompts.objects) if prompts is not None else ()
    return ConceptRequest(model, prompt_file, tuple(wanted), objects, shown)


def check_network_settings(
    engine: str | None,
    prompts: bool,
    auto: bool,
    *,
    model: str | None = None,
    checkpoint: Any = None,
    pretrained: bool = True,
) -> None:
    """Refuse network settings (a model, a checkpoint, random weights) for a run that will use
    the classical motion tracker, which has no network: ``segment VIDEO --model sam2.1-large``
    without prompts or ``--auto`` (or ``ecoseg.segment(video, model="sam2.1-large")``) ran the
    motion tracker and said nothing; and a model the sam2 engine does not know, in the words of
    the network's lookup (:func:`ecoseg.sam2.variants.get_variant`, which ``sam2.build``
    asks), before the video is read (it was refused only when the network was built). Concept
    tracking (SAM 3) is not asked about here.

    Parameters
    ----------
    engine, prompts, auto
        As for :func:`choose_engine` (``engine`` as asked, ``None`` when not given).
    model, checkpoint, pretrained
        As given: ``model=None`` and ``checkpoint=None`` are the defaults (not given);
        ``pretrained=False`` is ``--random-weights``.

    Raises
    ------
    ConfigError
        One line naming the settings by their command-line options.

    Examples
    --------
    >>> check_network_settings(None, prompts=False, auto=True, model="sam2.1-large")
    >>> check_network_settings(None, prompts=False, auto=False)
    >>> check_network_settings(None, prompts=False, auto=False, model="sam2.1-large")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: --model is for the sam2 engine's network, but without prompts or \
--auto this run uses the classical motion tracker, which has none: give prompts or --auto (or \
--engine sam2), or drop --model
    >>> check_network_settings(None, prompts=True, auto=False, model="sam2.1-tyni")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: unknown SAM 2 variant 'sam2.1-tyni'; valid names: sam2.1-tiny, ...
    """
    if choose_engine(engine, prompts=prompts, auto=auto) != "classical":
        if model is not None:
            from ecoseg.sam2.variants import get_variant

            get_variant(model)
        return
    given = [
        flag
        for flag, on in (
            ("--model", model is not None),
            ("--checkpoint", checkpoint is not None),
            ("--random-weights", not pretrained),
        )
        if on
    ]
    if not given:
        return
    flags = ", ".join(given)
    what = f"{flags} {'is' if len(given) == 1 else 'are'} for the sam2 engine's network"
    if engine == "classical":
        raise ConfigError(f"{what}; the classical motion tracker has none: drop {flags}")
    raise ConfigError(
        f"{what}, but without prompts or --auto this run uses the classical motion tracker, "
        f"which has none: give prompts or --auto (or --engine sam2), or drop {flags}"
    )


def check_weights_source(checkpoint: Any, pretrained: bool) -> None:
    """Refuse a checkpoint file together with random weights: the network's weights come from
    one of them (``--checkpoint F --random-weights`` loaded F and said nothing of the other).

    Raises
    ------
    ConfigError
        One line naming both settings by keyword and command-line option.

    Examples
    --------
    >>> check_weights_source("sam2.pt", pretrained=True)
    >>> check_weights_source(None, pretrained=False)
    >>> check_weights_source("sam2.pt", pretrained=False)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: checkpoint=PATH (--checkpoint) loads the network's weights from \
a file and pretrained=False (--random-weights) builds it with random ones: give one of them
    """
    if checkpoint is not None and not pretrained:
        raise ConfigError(
            "checkpoint=PATH (--checkpoint) loads the network's weights from a file and "
            "pretrained=False (--random-weights) builds it with random ones: give one of them"
        )


def check_model_checkpoint(
    model: str,
    checkpoint: Any = None,
    *,
    shown: str | os.PathLike | None = None,
    option: str = "--checkpoint",
) -> None:
    """Refuse, before any work, a model no network has, then a checkpoint that is not a file:
    the checkpoint's line says how to get the model's weights, which only holds for a model
    that exists (``--model sam3-large --checkpoint nope.pt`` was told to run
    ``ecoseg weights download sam3-large``, a command that fails).

    The model is checked in the words its network's build uses: a SAM 3 preset for a
    ``sam3`` name (:func:`ecoseg.sam3.config.get_config`), else a SAM 2 variant
    (:func:`ecoseg.sam2.variants.get_variant`). The checkpoint is checked by
    :func:`ecoseg._paths.check_checkpoint`, told whether ``ecoseg weights download`` fetches
    the model's weights (the weights manifest: SAM 2 variants and hub-hosted SAM 3 weights;
    ``sam3-reduced`` has none). ``segment --checkpoint`` and ``batch --checkpoint``
    (:func:`ecoseg.batch` too) check here.

    Parameters
    ----------
    model : str
        The model the run will use.
    checkpoint : str or Path, optional
        The checkpoint file given (``None``: none, nothing to check).
    shown, option
        As for :func:`ecoseg._paths.check_checkpoint`: the path as written, and its option.

    Raises
    ------
    ConfigError
        An unknown model, or a checkpoint that is not a file.

    Examples
    --------
    >>> check_model_checkpoint("sam2.1-tiny")
    >>> check_model_checkpoint("sam2.1-huge", "nope.pt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: unknown SAM 2 variant 'sam2.1-huge'; valid names: sam2.1-tiny, ...
    >>> check_model_checkpoint("sam3-reduced", "nope.pt")
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: nope.pt: checkpoint file not found; sam3-reduced has no published \
weights to download: give a checkpoint file that exists (--checkpoint)
    """
    from ecoseg._paths import check_checkpoint
    from ecoseg.sam2.weights import manifest
    from ecoseg.sam3.weights import entries

    if str(model).startswith("sam3"):
        from ecoseg.sam3.config import get_config

        get_config(model)
    else:
        from ecoseg.sam2.variants import get_variant

        get_variant(model)
    published = model in manifest() or model in entries()
    check_checkpoint(checkpoint, model, shown=shown, option=option, published=published)


def check_fast(fast: bool, engine: str) -> None:
    """Refuse ``fast`` (bf16) for an engine that has no bf16 path (the classical motion
    tracker: it has no network).

    Parameters
    ----------
    fast : bool
        Whether bf16 was asked for (``--fast``).
    engine : str
        ``"sam2"``, ``"classical"`` or ``"sam3"`` (concept tracking).

    Raises
    ------
    ConfigError
        ``fast`` for the classical motion tracker.

    Examples
    --------
    >>> check_fast(True, "sam2"), check_fast(True, "sam3")
    (None, None)
    >>> check_fast(True, "classical")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: fast (--fast, bf16) is for the networks (sam2 engine, SAM 3 ...
    """
    if fast and engine not in ("sam2", "sam3"):
        raise ConfigError(
            "fast (--fast, bf16) is for the networks (sam2 engine, SAM 3 concept tracking); "
            f"the {engine} engine has no bf16 path"
        )


def check_image_size(image_size: int | None, engine: str, model: str | None = None) -> None:
    """Refuse an ``image_size`` the engine's network cannot take, before any work: any size
    for the classical motion tracker (it has no network), for SAM 2 one that is not a multiple
    of 32 from 64 to 4096 (:func:`ecoseg.sam2.variants.validate_image_size`), for SAM 3 one
    its preset ``model`` cannot take (a multiple of 14, :func:`ecoseg.sam3.config.get_config`).
    ``segment``, ``batch`` and study files all check here.

    Examples
    --------
    >>> check_image_size(512, "sam2")
    >>> check_image_size(None, "classical")
    >>> check_image_size(512, "classical")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: image_size (--image-size) applies to the sam2 and sam3 engines; ...
    >>> check_image_size(512, "sam3", "sam3")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: image_size (--image-size) must be a multiple of 14 ... got 512
    """
    if image_size is None:
        return
    if engine not in ("sam2", "sam3"):
        raise ConfigError(
            "image_size (--image-size) applies to the sam2 and sam3 engines; the "
            f"{engine} engine has no network to size"
        )
    if engine == "sam2":
        from ecoseg.sam2.variants import validate_image_size

        validate_image_size(image_size)
    else:
        from ecoseg.sam3.config import get_config

        get_config("sam3" if model is None else model, image_size)


def check_device(
    device: str | None, engine: str, option: str | None = "--device", remedy: str = "drop --device"
) -> None:
    """Refuse a GPU (``cuda``, ``mps``) for the classical motion tracker, which runs on the CPU
    (``--device cuda`` ran it there and said nothing); ``auto`` and ``cpu`` are fine.

    Parameters
    ----------
    device : str or None
        The device asked for.
    engine : str
        The engine that runs.
    option : str or None, optional
        The option of the device, named in the library's spelling ``device='cuda' (--device)``
        that the command line and the napari widget rewrite in their own words
        (:func:`ecoseg._cli.cli_words`, :func:`ecoseg.napari._check.napari_words`); none: a
        study file names its key before.
    remedy : str, optional
        What to do: the CLI's words by default.

    Examples
    --------
    >>> check_device("cuda", "sam2")
    >>> check_device("auto", "classical")
    >>> check_device("cuda:1", "classical")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: device='cuda:1' (--device) is for the sam2 and sam3 engines' ...
    """
    if engine == "classical" and device not in (None, "auto", "cpu"):
        # keyword=VALUE (--flag), so each front end names the option its own way (was
        # "device 'cuda' (--device)", which neither rewrote: the flag stayed in napari)
        named = f"device={device!r} ({option})" if option else f"device {device!r}"
        raise ConfigError(
            f"{named} is for the sam2 and sam3 engines' networks; the "
            f"classical motion tracker runs on the CPU: {remedy}"
        )


def check_params(params: Mapping[str, Any] | None, engine: str, auto: bool = False) -> None:
    """Refuse engine parameters where nothing reads them (the sam2 engine with prompts only).

    Examples
    --------
    >>> check_params({"min_area": 30}, "classical")
    >>> check_params({"min_area": 30}, "sam2")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: the sam2 engine with prompts takes no parameters, ...
    """
    if params and engine == "sam2" and not auto:
        raise ConfigError(
            f"the sam2 engine with prompts takes no parameters, got {sorted(params)} "
            "(they are for the classical engine, auto discovery and concept tracking)"
        )


def params_dict(params: Any) -> dict[str, Any]:
    """A run's engine parameters as a dict (``None``: none), or a one-line ConfigError for what
    is no mapping: the text or file name ``--params`` takes (a ValueError from ``dict()``).

    Examples
    --------
    >>> params_dict(None), params_dict({"min_area": 30})
    ({}, {'min_area': 30})
    >>> params_dict('{"min_area": 30}')
    Traceback (most recent call last):
    ...
    ecoseg.errors.ConfigError: params must be a dict of engine settings, got '{"min_area": 30}' \
(--params takes JSON text or a file; in Python load it with json first)
    """
    if params is None:
        return {}
    if not isinstance(params, Mapping):
        from ecoseg._checks import short_repr

        hint = " (--params takes JSON text or a file; in Python load it with json first)"
        raise ConfigError(
            f"params must be a dict of engine settings, got {short_repr(params)}"
            f"{hint if isinstance(params, str) else ''}"
        )
    return dict(params)


def check_new_store(out, resume: bool, overwrite: bool) -> None:
    """Refuse an existing output store unless ``resume`` or ``overwrite``, in one line; for the
    store of an interrupted run (a cell stopped with Ctrl-C, a killed ``ecoseg segment``) the
    line also says that ``resume=True`` (``--resume``) continues it, with the command that
    does, the run's recorded options included (:func:`ecoseg.store.rerun.resume_hint`). A store
    named as another kind of file (``masks.mp4``, ``masks.csv``) is refused, unless resumed
    (:func:`ecoseg._paths.check_store_suffix`).

    Examples
    --------
    >>> import tempfile
    >>> from ecoseg.store import MaskStore
    >>> path = tempfile.mkdtemp() + "/m.zarr"
    >>> s = MaskStore.create(path, height=2, width=2); s.close()
    >>> check_new_store(path, resume=True, overwrite=False)
    >>> check_new_store(path, resume=False, overwrite=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ecoseg.errors.StoreError: ...m.zarr: already exists; pass overwrite=True (--overwrite) to \
replace it, or resume=True (--resume) to continue its interrupted run (0 frames stored): \
`ecoseg segment VIDEO -o ...m.zarr --resume` and the run's options
    """
    from ecoseg._paths import check_overwrite, check_store_suffix
    from ecoseg.errors import StoreError
    from ecoseg.store import Location
    from ecoseg.store.identify import not_replaceable

    kept = None if resume else not_replaceable(Location(out))  # --resume: open names it
    if kept is not None:  # not 'pass --overwrite': that is refused too
        raise StoreError(kept)
    if not resume:  # -o masks.mp4: a store so named
        check_store_suffix(out, error=StoreError)
    try:
        check_overwrite(out, resume or overwrite, error=StoreError)
    except StoreError as refusal:
        from ecoseg.store import MaskStore
        from ecoseg.store.rerun import resume_hint

        try:
            with MaskStore.open(out) as store:  # only to say how far its run came, and how
                complete, frames = store.complete, store.n_frames
                command = resume_hint(store)
        except Exception:  # not a store (a video, a folder), or damaged: the plain refusal
            raise refusal from None
        if complete:
            raise
        raise StoreError(
            f"{refusal}, or resume=True (--resume) to continue its interrupted run "
            f"({frames} frame{'' if frames == 1 else 's'} stored): {command}"
        ) from None
