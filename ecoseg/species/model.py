"""The species model: a class-balanced logistic regression on standardised track features.

Fitting is scikit-learn's (:class:`~sklearn.linear_model.LogisticRegression`, multinomial,
``class_weight="balanced"``, L2); its probabilities come from a log-loss fit, which is what
makes them calibrated (``benchmarks/classify_bench.py`` measures the calibration error). The
model is kept and shared as a small JSON file of numbers, never a pickle: format name and
version, feature version and names, the classes, the imputation medians, the scaler, the
coefficients and intercepts, the sha256 of every training store, and a sha256 of all of that,
so a file that was edited or that is not an ecoseg species model is refused with a clear error.
JSON floats round-trip exactly, so a loaded model gives the same probabilities, bit for bit, as
the one that was saved.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> X = np.r_[rng.normal(0, 1, (6, 3)), rng.normal(4, 1, (6, 3))]
>>> y = ["wrasse"] * 6 + ["sea_star"] * 6
>>> m = SpeciesModel.fit(X, y, feature_names=("a", "b", "c"))
>>> m.classes
('sea_star', 'wrasse')
>>> m.predict(np.array([[4.0, 4.0, 4.0]]))[0][0]
'sea_star'
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ecoseg._bundled import PREFIX, bundled_file, bundled_name, local_path
from ecoseg._checks import few_items
from ecoseg._class_names import set_class_words
from ecoseg._paths import check_out_suffix, check_overwrite, read_file_bytes
from ecoseg.errors import ConfigError, EcosegError

__all__ = [
    "MODEL_FORMAT",
    "MODEL_VERSION",
    "FEW_TRACKS",
    "SHIPPED_MODEL",
    "ModelError",
    "SpeciesModel",
    "SpeciesModelWarning",
    "check_model_output",
    "find_copy",
    "is_model",
    "keep_copy",
    "payload_sha256",
    "portable_model_name",
    "model_file_path",
    "recorded_model_name",
    "scale_ratio",
    "shipped_model_file",
]

MODEL_FORMAT = "ecoseg-species-model"
MODEL_VERSION = 1
_MAX_BYTES = 64 * 2**20
#: Frame diagonals within this factor of a training store's count as the same scale.
_SCALE_TOLERANCE = 1.1


def check_model_output(path: str | os.PathLike, overwrite: bool) -> Path:
    """Where a model may be saved: a new path, or with ``overwrite`` an earlier species model
    (never a folder, a video or a store, even with ``overwrite``), named as the JSON file it is
    (``--save-model species.csv`` wrote the model's JSON into a .csv without a word).

    Examples
    --------
    >>> import tempfile
    >>> check_model_output(tempfile.mkdtemp(), overwrite=True)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: ...: exists and is not an ecoseg species model; ...
    >>> check_model_output("species.csv", overwrite=False)
    Traceback (most recent call last):
    ecoseg.errors.ConfigError: species.csv: a species model is a JSON file, ... name it species.json
    """
    given, what = path, "a species model is a JSON file"  # named as typed
    path = Path(path)
    if not path.exists():
        check_out_suffix(given, ".json", what, file_name="species_model.json")  # models/
        return path
    try:
        with open(path, "rb") as fh:
            head = fh.read(_MAX_BYTES + 1)
        model = len(head) <= _MAX_BYTES and json.loads(head).get("format") == MODEL_FORMAT
    except (OSError, ValueError, AttributeError):  # a folder, not JSON, not an object
        model = False
    if not model:
        raise ConfigError(
            f"{path}: exists and is not an ecoseg species model; refusing to replace it even "
            "with overwrite (choose another output path)"
        )
    check_out_suffix(given, ".json", what)  # after: a video named so is not a species model
    check_overwrite(path, overwrite, exists=True)  # after: overwrite would not help there
    return path


class ModelError(EcosegError):
    """A species model file is missing, tampered with, foreign or does not fit the features."""


class SpeciesModelWarning(UserWarning):
    """A species model that will name tracks, but less well than its probabilities say: a
    species learnt from fewer than :data:`FEW_TRACKS` reviewed tracks, or a species a store's
    reviewed tracks name that the model does not know."""


#: Reviewed tracks per species below which training warns (docs/species.md: accuracy 0.78
#: with 1 reviewed track per species, 0.95 with 3, on the benchmark's rendered clips).
FEW_TRACKS = 3


def payload_sha256(payload: dict[str, Any]) -> str:
    """sha256 of a model payload's canonical JSON (sorted keys, no spaces), without its hash.

    Examples
    --------
    >>> payload_sha256({"b": 1, "a": [1.5]})[:12]
    'be0f99d229ad'
    """
    body = {k: v for k, v in payload.items() if k != "sha256"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def keep_copy(model: str | os.PathLike | bytes, folder: str | os.PathLike) -> Path:
    """Keep a copy of the species model file ``model`` (its path, or its bytes when the caller
    has read them already) in ``folder`` as ``<SHA-256>.json``.

    The name is the SHA-256 the model records of itself (the one a classification's record
    names, ``model_sha256``), so a study keeps each model it classified with once, whatever
    its file is called or becomes (a study's ``output/species_models/``). A copy already there
    is kept as it is. Returns the copy's path.

    Examples
    --------
    >>> import tempfile
    >>> m = SpeciesModel.fit(np.array([[0.0], [1.0], [5.0], [6.0]]), ["a", "a", "b", "b"],
    ...                      feature_names=("x",))
    >>> tmp = Path(tempfile.mkdtemp())
    >>> copy = keep_copy(m.save(tmp / "species.json"), tmp / "kept")
    >>> copy.name == m.to_dict()["sha256"] + ".json", find_copy(tmp / "kept", copy.stem) == copy
    (True, True)
    >>> keep_copy((tmp / "species.json").read_bytes(), tmp / "kept") == copy
    True
    """
    data = model if isinstance(model, bytes) else read_file_bytes(model, "species model file")
    sha = json.loads(data)["sha256"]  # a file classify read: a species model
    dest = Path(folder) / f"{sha}.json"
    if not dest.is_file():
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = dest.with_name(dest.name + ".part")
        part.write_bytes(data)
        os.replace(part, dest)  # never a half-written copy under the model's name
    return dest


def find_copy(folder: str | os.PathLike, sha256: str, name: str | None = None) -> Path | None:
    """The species model file with the SHA-256 ``sha256`` in ``folder``: its copy
    ``<sha256>.json`` (:func:`keep_copy`), else the file ``name`` there; ``None`` when neither
    is that model (a file whose contents do not match the SHA-256 it records is not)."""
    for candidate in (f"{sha256}.json", name):
        if candidate and is_model(Path(folder) / candidate, sha256):
            return Path(folder) / candidate
    return None


#: the name of the species model ecoseg ships (the one ``ecoseg demo`` classifies with): what
#: ``classify --model`` takes for it and what a classification's record names it, so that a
#: report's step runs on any machine with the same ecoseg (``--model-sha256`` checks the model);
#: one of the names of :mod:`ecoseg._bundled`
SHIPPED_MODEL = PREFIX + "species_model.json"


def shipped_model_file() -> Path:
    """The file of the species model ecoseg ships (``data/species_model.json`` of a source
    checkout; inside the wheel ``ecoseg/_species_model.json``).

    Raises
    ------
    ConfigError
        The installation lacks it.

    Examples
    --------
    >>> shipped_model_file().name
    'species_model.json'
    """
    return bundled_file(SHIPPED_MODEL)


def model_file_path(model: str | os.PathLike) -> str | os.PathLike:
    """The file a ``--model`` names: :data:`SHIPPED_MODEL` is the shipped model's
    (:func:`shipped_model_file`), any other path is itself (:func:`ecoseg._bundled.local_path`).

    Examples
    --------
    >>> model_file_path("species.json")
    'species.json'
    >>> model_file_path(SHIPPED_MODEL) == shipped_model_file()
    True
    """
    return local_path(os.fspath(model)) if os.fspath(model).startswith(PREFIX) else model


def recorded_model_name(model: str | os.PathLike) -> str:
    """How a classification's record names the model file ``model`` (as given): the shipped
    model's file, by whatever path, as :data:`SHIPPED_MODEL` (its path is of this machine
    only; :func:`ecoseg._bundled.bundled_name`), any other as given.

    Examples
    --------
    >>> recorded_model_name("species.json")
    'species.json'
    >>> recorded_model_name(shipped_model_file()) == SHIPPED_MODEL
    True
    """
    return SHIPPED_MODEL if bundled_name(model) == SHIPPED_MODEL else os.fspath(model)


def portable_model_name(file: Any, sha256: Any) -> str | None:
    """How a classification's record of the model file ``file`` (``model_file``) and SHA-256
    ``sha256`` names its model on any machine: the file as recorded while it is still that
    model here (the shipped model's by :data:`SHIPPED_MODEL`, :func:`recorded_model_name`);
    else :data:`SHIPPED_MODEL` when the model ecoseg ships here has that SHA-256 (an older
    ecoseg recorded the shipped model by its path on the machine it ran on); else None.
    The one rule of a report's ``--model`` and of the model ``ecoseg edit --log`` names.

    Examples
    --------
    >>> portable_model_name("nowhere/species.json", "ab12") is None
    True
    >>> sha = SpeciesModel.load(shipped_model_file()).to_dict()["sha256"]
    >>> portable_model_name("/elsewhere/site-packages/ecoseg/_species_model.json", sha)
    'ecoseg:species_model.json'
    """
    if not isinstance(sha256, str) or not sha256:
        return None
    if isinstance(file, str) and file and is_model(file, sha256):
        return recorded_model_name(file)
    return SHIPPED_MODEL if is_model(SHIPPED_MODEL, sha256) else None


def is_model(path: str | os.PathLike, sha256: str) -> bool:
    """Whether the file ``path`` is the species model of SHA-256 ``sha256`` (its contents
    match the SHA-256 it records); False for a missing, unreadable or other file.

    Examples
    --------
    >>> is_model("nowhere.json", "ab12")
    False

    ``path`` may be :data:`SHIPPED_MODEL`, the model ecoseg ships.
    """
    try:
        data = json.loads(Path(model_file_path(path)).read_bytes())
    except (OSError, ValueError, ConfigError, ModelError):
        return False
    return isinstance(data, dict) and data.get("sha256") == sha256 == payload_sha256(data)


def _floats(a: np.ndarray) -> list:
    return np.asarray(a, np.float64).tolist()


@dataclass(frozen=True, eq=False)
class SpeciesModel:
    """A fitted species classifier (see the module docstring).

    Attributes
    ----------
    classes : tuple of str
        The species it names, sorted.
    feature_names : tuple of str
    feature_version : int
    median, mean, scale : ndarray (d,)
        Imputation values for missing features, and the standardisation.
    coef : ndarray (k, d), intercept : ndarray (k,)
        The logistic regression (k = 1 for two classes, as scikit-learn keeps it).
    training : tuple of dict
        ``{"store": name, "sha256": ..., "tracks": n}`` per training store.
    params : dict
        Fit parameters (``C``).
    """

    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    feature_version: int
    median: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: np.ndarray
    training: tuple[dict, ...] = ()
    params: dict | None = None

    def __repr__(self) -> str:  # not the coefficients (3,500 characters in a notebook)
        counts = [t.get("tracks") for t in self.training]
        tracks = sum(n for n in counts if isinstance(n, int) and not isinstance(n, bool))
        units = (self.params or {}).get("units")
        return (
            f"<SpeciesModel: classes {few_items(list(self.classes))} from "
            f"{len(self.feature_names)} features{f' ({units})' if units else ''}, "
            f"trained on {tracks} tracks of {len(self.training)} stores>"
        )

    # ------------------------------------------------------------------ fit / predict
    @classmethod
    def fit(
        cls,
        X: np.ndarray,
        y: Sequence[str],
        *,
        feature_names: Sequence[str],
        feature_version: int = 1,
        C: float = 1.0,
        training: Sequence[dict] = (),
        units: str | None = None,
        weights: Sequence[float] | None = None,
    ) -> SpeciesModel:
        """Fit on rows ``X`` (n, d) with species names ``y`` (at least two species).

        ``weights`` (d,) scale the standardised features before the fit (default 1): a
        feature of weight 0.3 needs 1/0.3 times the evidence of one of weight 1 to move a
        decision under the same L2 penalty (:func:`ecoseg.species.features.feature_weights`
        damps the hue-specific colours so that one colour morph among a few reviewed tracks
        does not decide the species). They are folded into the stored ``scale``.

        Raises
        ------
        ConfigError
            Fewer than two species, or shapes that do not fit.
        """
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler

        X = np.asarray(X, np.float64)
        y = np.asarray([str(v) for v in y])
        if X.ndim != 2 or len(X) != len(y) or X.shape[1] != len(feature_names):
            raise ConfigError(
                f"features of shape {X.shape} do not fit {len(y)} labels and "
                f"{len(feature_names)} feature names"
            )
        if len(set(y.tolist())) < 2:
            found = ", ".join(sorted(set(y.tolist()))) or "none"
            raise ConfigError(
                f"training needs reviewed tracks of at least two species (found: {found}); "
                f"review more tracks ({set_class_words()})"
            )
        median = np.zeros(X.shape[1])  # all-NaN columns: 0, without np.nanmedian's warning
        seen = ~np.isnan(X).all(axis=0)  # (a warnings filter would be every thread's)
        median[seen] = np.nanmedian(X[:, seen], axis=0)
        median = np.where(np.isfinite(median), median, 0.0)
        X = np.where(np.isfinite(X), X, median)
        scaler = StandardScaler().fit(X)
        w = np.ones(X.shape[1]) if weights is None else np.asarray(weights, np.float64)
        if w.shape != (X.shape[1],) or not (np.isfinite(w).all() and (w > 0).all()):
            raise ConfigError(f"weights must be {X.shape[1]} positive numbers, got {w.shape}")
        scale = np.asarray(scaler.scale_, np.float64) / w
        lr = LogisticRegression(C=float(C), class_weight="balanced", max_iter=5000)
        lr.fit((X - scaler.mean_) / scale, y)
        model = cls(
            classes=tuple(str(c) for c in lr.classes_),
            feature_names=tuple(str(n) for n in feature_names),
            feature_version=int(feature_version),
            median=median,
            mean=np.asarray(scaler.mean_, np.float64),
            scale=scale,
            coef=np.asarray(lr.coef_, np.float64),
            intercept=np.asarray(lr.intercept_, np.float64),
            training=tuple(dict(t) for t in training),
            params={
                "C": float(C),
                "class_weight": "balanced",
                "model": "logistic_regression",
                **({"feature_weights": _floats(w)} if weights is not None else {}),
                **({"units": units} if units else {}),
            },
        )
        # through JSON and back: the fitted model is the one a saved file loads, bit for bit
        return cls.from_dict(model.to_dict())

    def _estimator(self):
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression()
        lr.classes_ = np.array(self.classes)
        lr.coef_ = self.coef
        lr.intercept_ = self.intercept
        lr.n_features_in_ = self.coef.shape[1]
        return lr

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probabilities (n, k) of :attr:`classes` for feature rows ``X`` (n, d).

        Raises
        ------
        ModelError
            ``X`` has another number of features than the model.
        """
        X = np.asarray(X, np.float64)
        if X.ndim != 2 or X.shape[1] != len(self.feature_names):
            raise ModelError(
                f"the model takes {len(self.feature_names)} features per track, got "
                f"{X.shape[-1] if X.ndim else 0} (another feature set or network embeddings)"
            )
        if len(X) == 0:
            return np.zeros((0, len(self.classes)))
        X = np.where(np.isfinite(X), X, self.median)
        return self._estimator().predict_proba((X - self.mean) / self.scale)

    def predict(self, X: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Most probable class and its probability for each row of ``X``."""
        p = self.predict_proba(X)
        k = p.argmax(axis=1) if len(p) else np.zeros(0, np.int64)
        return [self.classes[i] for i in k], p[np.arange(len(p)), k]

    # ------------------------------------------------------------------ file I/O
    def to_dict(self) -> dict[str, Any]:
        """The model as JSON data, with its ``sha256``."""
        payload = {
            "format": MODEL_FORMAT,
            "version": MODEL_VERSION,
            "feature_version": self.feature_version,
            "feature_names": list(self.feature_names),
            "classes": list(self.classes),
            "median": _floats(self.median),
            "mean": _floats(self.mean),
            "scale": _floats(self.scale),
            "coef": _floats(self.coef),
            "intercept": _floats(self.intercept),
            "training": [dict(t) for t in self.training],
            "params": dict(self.params or {}),
        }
        payload["sha256"] = payload_sha256(payload)
        return payload

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the model as JSON (atomically). Refuses to replace a file unless ``overwrite``.

        Examples
        --------
        >>> import tempfile
        >>> m = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["x"])
        >>> p = m.save(tempfile.mkdtemp() + "/species.json")
        >>> SpeciesModel.load(p).classes
        ('a', 'b')
        """
        path = check_model_output(path, overwrite)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".partial")
        tmp.write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n")
        os.replace(tmp, path)
        return path

    @classmethod
    def from_dict(cls, data: Any, where: str = "model") -> SpeciesModel:
        """A model from JSON data, after checking format, version, hash and shapes."""
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            # "(format 'ecoseg-species-model')" read as the format the file has
            has = (
                f"its format is {data['format']!r}"
                if isinstance(data, dict) and "format" in data
                else "it names no format"
            )
            raise ModelError(f"{where}: not an ecoseg species model ({has}, not {MODEL_FORMAT!r})")
        version = data.get("version")
        if version != MODEL_VERSION:
            newer = (
                isinstance(version, int)
                and not isinstance(version, bool)
                and version > MODEL_VERSION
            )
            raise ModelError(
                f"{where}: species model version {version!r}; this ecoseg reads version "
                f"{MODEL_VERSION}"
                + ("; it was made by a newer ecoseg: upgrade ecoseg or re-train" if newer else "")
            )
        if data.get("sha256") is None:
            raise ModelError(
                f"{where}: the species model records no sha256: not a file ecoseg wrote, or it "
                "was edited; refusing to use it (train it again: ecoseg classify STORE --train "
                "REVIEWED_STORE --save-model FILE; or restore the file ecoseg saved)"
            )
        if data.get("sha256") != payload_sha256(data):
            raise ModelError(
                f"{where}: the model's contents do not match its sha256: the file was changed "
                "after it was saved; refusing to use it (re-train or get the original file)"
            )
        try:
            names = tuple(str(n) for n in data["feature_names"])
            classes = tuple(str(c) for c in data["classes"])
            arrays = {
                k: np.asarray(data[k], np.float64)
                for k in ("median", "mean", "scale", "coef", "intercept")
            }
            training = tuple(dict(t) for t in data.get("training", []))
            version = int(data["feature_version"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"{where}: malformed species model ({exc})") from None
        d, k = len(names), len(classes)
        rows = 1 if k == 2 else k
        ok = (
            k >= 2
            and all(arrays[n].shape == (d,) for n in ("median", "mean", "scale"))
            and arrays["coef"].shape == (rows, d)
            and arrays["intercept"].shape == (rows,)
            and all(np.isfinite(a).all() for a in arrays.values())
            and (arrays["scale"] > 0).all()
        )
        if not ok:
            raise ModelError(f"{where}: malformed species model (array shapes do not agree)")
        return cls(
            classes=classes,
            feature_names=names,
            feature_version=version,
            training=training,
            params=dict(data.get("params") or {}),
            **arrays,
        )

    @classmethod
    def load(cls, path: str | os.PathLike, data: bytes | None = None) -> SpeciesModel:
        """Read a model written by :meth:`save` (plain JSON: nothing is executed).

        ``data``: the file's contents when the caller has read them already (a study hashes
        them first): the file is not read again, and ``path`` names it in messages.

        Raises
        ------
        ModelError
            Missing, too large, not JSON, not an ecoseg species model, another version, no
            sha256 recorded (not written by ecoseg, or edited), or its contents do not match
            its sha256 (tampered).
        """
        raw = data
        if raw is None:
            raw = read_file_bytes(
                path, "species model file", limit=_MAX_BYTES + 1, kind="JSON", error=ModelError
            )
        path = Path(path)
        if len(raw) > _MAX_BYTES:
            raise ModelError(f"{path}: too large for a species model (> 64 MiB)")
        if raw[:2] == b"\x80\x04" or raw[:1] == b"\x80":
            raise ModelError(f"{path}: a pickle file; ecoseg never unpickles model files")
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError) as exc:
            raise ModelError(f"{path}: not a species model (not JSON: {exc})") from None
        return cls.from_dict(data, str(path))

    def check_features(
        self, names: Sequence[str], feature_version: int, where: str, units: str | None = None
    ) -> None:
        """Refuse features of another version, set or unit (mm / px) than the model's."""
        trained = (self.params or {}).get("units")
        if units is not None and trained is not None and units != trained:
            kind = "calibrated" if trained == "mm" else "uncalibrated"
            names = [str(t["store"]) for t in self.training if isinstance(t.get("store"), str)]
            were = "its training stores"
            if names:
                were = f"{were} ({', '.join(names[:3])}{', ...' if len(names) > 3 else ''})"
            alike = (
                f"calibrate this store as {were} were (ecoseg classify --calibration "
                "MM_PER_PX; calibration= in Python)"
                if trained == "mm"
                else f"measure this store in pixels as {were} were (--calibration none)"
            )
            raise ModelError(
                f"{where}: the model was trained on {kind} stores (sizes in {trained}), this "
                f"store's sizes are in {units}; {alike} or re-train"
            )
        if int(feature_version) != self.feature_version:
            raise ModelError(
                f"{where}: the model was trained on feature version {self.feature_version}, "
                f"this ecoseg computes version {feature_version}; re-train it"
            )
        if tuple(names) != self.feature_names:
            extra = len(names) - len(self.feature_names)
            hint = " (network embeddings differ)" if extra else ""
            raise ModelError(
                f"{where}: the store's track features ({len(names)}) are not the ones the "
                f"model was trained on ({len(self.feature_names)}){hint}"
            )

    def check_frame(self, width: int, height: int, where: str) -> None:
        """Refuse a store whose frames are of another scale than the training footage's when
        the model's sizes and speeds are in pixels (an uncalibrated model).

        A 4K store read by a model trained on 1080p footage would see every fish twice as
        long and twice as fast as the fish it learned. Frames within 10 % of a training
        store's diagonal pass; calibrated models (mm) and models whose training record does
        not give the frame size (made before ecoseg recorded it) are not checked.

        Examples
        --------
        >>> m = SpeciesModel.fit([[0.0], [1.0]], ["a", "b"], feature_names=["x"], units="px",
        ...                      training=[{"store": "t.zarr", "size": [1920, 1080]}])
        >>> m.check_frame(1920, 1080, "ruv.zarr")
        >>> m.check_frame(3840, 2160, "ruv.zarr")
        Traceback (most recent call last):
        ...
        ecoseg.species.model.ModelError: ruv.zarr: the model's sizes and speeds are in pixels ...
        """
        if (self.params or {}).get("units") != "px":
            return
        sizes = [t["size"] for t in self.training if _is_size(t.get("size"))]
        if not sizes:
            return
        ratio, (w0, h0) = scale_ratio((width, height), sizes)
        if ratio is None:
            return
        how = "large" if ratio > 1 else "small"
        raise ModelError(
            f"{where}: the model's sizes and speeds are in pixels of {w0}x{h0} frames (its "
            f"training footage) and this store's frames are {width}x{height}, so every size "
            f"would be read {max(ratio, 1 / ratio):.1f} times too {how}; calibrate "
            "the training stores and this one (ecoseg measure --calibration) and re-train, or "
            "train on footage of this size"
        )


def scale_ratio(size, sizes) -> tuple[float | None, tuple[int, int]]:
    """How much larger frames of ``size`` (width, height) are than the nearest in scale of
    ``sizes`` (ratio of diagonals), and that size; the ratio is None within 10 %.

    Examples
    --------
    >>> scale_ratio((3840, 2160), [(1920, 1080), (640, 360)])
    (2.0, (1920, 1080))
    >>> scale_ratio((1920, 1088), [(1920, 1080)])
    (None, (1920, 1080))
    """
    diag = math.hypot(*size)
    ratios = [diag / math.hypot(*s) for s in sizes]
    k = int(np.argmin([abs(math.log(r)) for r in ratios]))
    near = tuple(int(v) for v in sizes[k])
    if abs(math.log(ratios[k])) <= math.log(_SCALE_TOLERANCE):
        return None, near
    return float(ratios[k]), near


def _is_size(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    )


def _no_constant(name: str) -> float:
    raise ValueError(f"{name} is not allowed in a species model")


def finite(value: float) -> float | None:
    """``value`` as a float, or None when not finite (for JSON)."""
    return float(value) if math.isfinite(value) else None
