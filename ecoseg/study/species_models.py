"""A study's ``species_model:`` files, checked before any work as a run would refuse them.

:func:`read_species_model` is the one reading of such a file (a run hashes its bytes);
:func:`check_model_versions` refuses, from the file alone, one that is no species model or one
of another feature version (``ecoseg study --check``, and a run before it segments a video);
:func:`check_species_models` (``ecoseg study --check``) also refuses one that cannot name the
tracks of a study store for the calibration the study file gives its video
(:func:`ecoseg.species.classify.check_model_fits`). A model's fit to a video's frame size and
units before its store exists is :func:`ecoseg.study.checks.check_frames_fit`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ecoseg.errors import EcosegError
from ecoseg.study.config import video_places as key_places
from ecoseg.study.records import Study, VideoSpec

if TYPE_CHECKING:
    from ecoseg.species.model import SpeciesModel

__all__ = ["check_model_versions", "check_species_models", "read_species_model"]


def read_species_model(path: Path) -> tuple[bytes, SpeciesModel]:
    """The bytes (a study hashes them) and the model of a ``species_model:`` file, refused in
    one line naming it as :func:`~ecoseg.study.runner.run_study` and ``ecoseg study --check``
    refuse it: missing, unreadable, or not a species model
    (:meth:`~ecoseg.species.model.SpeciesModel.load`).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> bad = pathlib.Path(tempfile.mkdtemp()) / "species.json"
    >>> _ = bad.write_text("{}")
    >>> read_species_model(bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.species.model.ModelError: .../species.json: not ...
    """
    from ecoseg._paths import read_file_bytes
    from ecoseg.species.model import SpeciesModel

    data = read_file_bytes(path, "species model file")
    return data, SpeciesModel.load(path, data)


def check_model_versions(
    study: Study,
    videos: Sequence[VideoSpec] | None = None,
    *,
    shown: str | Path | None = None,
    models: dict[Path, tuple[bytes, SpeciesModel]] | None = None,
) -> None:
    """Refuse the ``species_model:`` files of ``videos`` (default: every video of ``study``)
    that no store fits, from the model file alone: one that is no species model
    (:func:`read_species_model`), and one trained on track features of another version than
    this ecoseg computes (:func:`ecoseg.species.classify.check_feature_version`), named at
    the study file's ``species_model:`` key of the first video that gives it, before any
    store is made (``ecoseg study --check``, and a run before it segments a video).

    Parameters
    ----------
    study : Study
    videos : sequence of VideoSpec, optional
        The videos whose models are checked.
    shown : str or Path, optional
        The study file as the user gave it (default: its path).
    models : dict, optional
        Where each file read is kept (path -> bytes and model), to be read once.

    Raises
    ------
    ModelError
        One line: the key's place, the model file and both versions; for several files, how
        many, then each.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.species.model import SpeciesModel
    >>> from ecoseg.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.mp4").write_bytes(b"")
    >>> _ = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["x"],
    ...                      feature_version=99).save(d / "species.json")
    >>> text = "output: out\\nvideos:\\n  - path: a.mp4\\n    species_model: species.json\\n"
    >>> _ = (d / "study.yaml").write_text(text)
    >>> check_model_versions(load_study(d / "study.yaml"), shown="study.yaml")
    Traceback (most recent call last):
    ...
    ecoseg.species.model.ModelError: study.yaml: line 4: videos[0] (a): species_model: \
.../species.json: trained on track features of version 99, this ecoseg computes version 1; \
re-train it with this ecoseg
    """
    from ecoseg._cli import one_line
    from ecoseg.species.classify import check_feature_version
    from ecoseg.species.model import ModelError

    models = {} if models is None else models
    places = None
    stale: list[str] = []
    for video in study.videos if videos is None else videos:
        path = video.species_model
        if path is None or path in models:  # each file said once, at its first video
            continue
        models[path] = read_species_model(path)
        try:
            check_feature_version(models[path][1], path)
        except ModelError as exc:
            if places is None:  # the study file read once, and only for a model refused
                places = key_places(study, ("species_model",), shown)
            stale.append(f"{places[video.name]['species_model']} species_model: {one_line(exc)}")
    if len(stale) == 1:
        raise ModelError(stale[0])
    if stale:
        file = f"{study.path if shown is None else shown}: "
        each = [line.removeprefix(file) for line in stale]  # the file named once
        raise ModelError(
            f"{file}{len(stale)} species models no store fits (trained on other track "
            f"features): {'; '.join(each)}"
        )


def check_species_models(study: Study, *, shown: str | Path | None = None) -> None:
    """Refuse, without writing anything, what a run would refuse of the study's
    ``species_model:`` files (``ecoseg study --check``): a file that is no species model
    (:func:`read_species_model`) or one of another feature version, from the file alone
    (:func:`check_model_versions`: named at its study file key, with or without a store),
    and a model that cannot name the tracks of an existing study store for the calibration
    the study file gives its video
    (:func:`ecoseg.species.classify.check_model_fits`: another feature version, sizes in other
    units, pixels of frames of another scale), every such store named. A store that does not
    open is left to the run, which segments its video again.

    Raises
    ------
    ModelError
        One line: the refusal (naming the store); for several stores, how many, then each.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from ecoseg.study.config import load_study
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "a.mp4").write_bytes(b"")
    >>> _ = (d / "study.yaml").write_text("output: out\\nvideos:\\n  - path: a.mp4\\n")
    >>> check_species_models(load_study(d / "study.yaml"))  # no species model: nothing to do
    """
    from ecoseg.species.classify import check_model_fits
    from ecoseg.species.model import ModelError

    models: dict[Path, tuple[bytes, SpeciesModel]] = {}  # each file read once
    check_model_versions(study, shown=shown, models=models)  # refused as a run refuses them
    refused: list[str] = []
    for video in study.videos:
        if video.species_model is None:
            continue
        store = study.store_path(video)
        if not store.exists():
            continue
        cal = video.calibration  # the one a run saves into the store before it classifies
        try:
            check_model_fits(
                models[video.species_model][1],
                store,
                {} if cal is None else cal.to_dict(),
                video.species_model,
            )
        except ModelError as exc:
            from ecoseg._cli import one_line

            if one_line(exc) not in refused:  # another feature version: said once
                refused.append(one_line(exc))
        except EcosegError:  # not a store (any more): the run segments its video again
            continue
    if len(refused) == 1:
        raise ModelError(refused[0])
    if refused:
        file = study.path if shown is None else shown
        raise ModelError(
            f"{file}: {len(refused)} study stores do not fit their species model (a run "
            f"refuses them): {'; '.join(refused)}"
        )
