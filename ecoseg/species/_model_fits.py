"""Whether a species model can name the tracks of a store, from the model and the store
alone, before any track feature is measured: its feature version
(:func:`check_feature_version`), its units, features and frame scale
(:func:`check_model_fits`); both public in :mod:`ecoseg.species.classify`.
"""

from __future__ import annotations

from ecoseg.species.features import FEATURE_VERSION, store_feature_names
from ecoseg.species.model import ModelError, SpeciesModel

__all__ = ["check_feature_version", "check_model_fits"]


def check_feature_version(fitted: SpeciesModel, model="model") -> None:
    """Refuse a species model trained on track features of another version than this
    ecoseg computes, from the model alone (``ecoseg study --check`` before any store is made).

    Parameters
    ----------
    fitted : SpeciesModel
        The model.
    model : str or Path
        The model as the refusal names it (its file).

    Raises
    ------
    ModelError
        Naming ``model`` and both versions.

    Examples
    --------
    >>> m = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["x"],
    ...                      feature_version=FEATURE_VERSION + 1)
    >>> check_feature_version(m, "species.json")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.species.model.ModelError: species.json: trained on track features of version 2, ...
    """
    if fitted.feature_version != FEATURE_VERSION:
        raise ModelError(
            f"{model}: trained on track features of version {fitted.feature_version}, this "
            f"ecoseg computes version {FEATURE_VERSION}; re-train it with this ecoseg"
        )


def check_model_fits(fitted: SpeciesModel, store, calibration=None, model="model") -> None:
    """Refuse a species model that cannot name the tracks of ``store`` for what the model
    and the store alone say, before a track feature is measured or anything is written: a
    model of another feature version than this ecoseg's (:func:`check_feature_version`), one
    whose sizes are in other units than the store's will be (mm for a calibrated store, px
    for one without), one of other features than the store's (network embeddings in one
    only: :func:`~ecoseg.species.features.store_feature_names`; both
    :meth:`~ecoseg.species.model.SpeciesModel.check_features`), or, in pixels, one of frames
    of another scale (:meth:`~ecoseg.species.model.SpeciesModel.check_frame`).
    :func:`~ecoseg.species.classify.classify` checks every store with it before measuring
    any, and ``ecoseg study`` before it saves a video's calibration into its store, so a
    refused run leaves the store as it was.

    Parameters
    ----------
    fitted : SpeciesModel
        The model.
    store : MaskStore, str or Path
        The store it would name the tracks of.
    calibration : dict, optional
        The calibration its features will be measured with (``Calibration.to_dict()``);
        ``{}``: none, in pixels; default: the store's own.
    model : str or Path
        The model as the refusal of another feature version names it (its file).

    Raises
    ------
    ModelError
        Naming the model (another feature version) or the store (other units, other
        features, frames of another scale).

    Examples
    --------
    >>> import numpy as np
    >>> from ecoseg.species.features import FEATURE_NAMES
    >>> from ecoseg.store import MaskStore
    >>> store = MaskStore.create("memory://doc-fits", height=2, width=2, overwrite=True)
    >>> X = np.eye(2, len(FEATURE_NAMES))
    >>> m = SpeciesModel.fit(X, ["a", "b"], feature_names=FEATURE_NAMES, units="mm",
    ...                      feature_version=FEATURE_VERSION)
    >>> check_model_fits(m, store, {"mm_per_px": 0.5, "method": "scale"})
    >>> check_model_fits(m, store)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.species.model.ModelError: memory://doc-fits: the model was trained on calibrated ...
    >>> m = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["emb_0"], units="mm",
    ...                      feature_version=FEATURE_VERSION)
    >>> check_model_fits(m, store, {"mm_per_px": 0.5})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ecoseg.species.model.ModelError: memory://doc-fits: the store's track features (...) are ...
    """
    from ecoseg.store import opened_store

    check_feature_version(fitted, model)
    with opened_store(store) as s:  # the names and units as track_features will give them
        cal = (s.calibration if calibration is None else calibration) or {}
        units = "mm" if cal.get("mm_per_px") else "px"
        fitted.check_features(store_feature_names(s), FEATURE_VERSION, str(s.path), units)
        if units == "px":
            fitted.check_frame(int(s.width), int(s.height), str(s.path))
