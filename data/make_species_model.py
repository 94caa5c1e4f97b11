"""Regenerate ``data/species_model.json``, the species model ``ecoseg demo`` uses.

Run from the repository root::

    python data/make_species_model.py            # refuses to replace an existing model
    python data/make_species_model.py --overwrite

Trains on synthetic clips of *other* seeds than the bundled sample (seed 8), made like it
(640 x 360, 150 frames, static camera): the fish tracks the motion tracker finds in the H.264
video, named by the truth animal they overlap (standing in for a reviewer), and the two
invertebrates' truth tracks (the motion tracker does not see them). Sizes and speeds are in mm
(the clips' calibration is saved into the tracker's stores), so ``ecoseg demo`` calibrates its
store the same way before classifying. The feature groups are weighed as ``ecoseg classify
--train`` weighs them (:func:`ecoseg.species.features.feature_weights`). Prints the training tracks
per species and the model's sha256.

The clips are rendered on numpy's code without AVX-512 (the script starts itself again with
``NPY_DISABLE_CPU_FEATURES`` where numpy would use it): numpy's AVX-512 ``arctan2`` rounds the
reef's texture differently, a few pixels change and the tracker makes other tracks. So the
training tracks are those of numpy's AVX2 code on every x86 machine that has it (the
record's); the fitted numbers may still differ in their last digits (the linear algebra's own
code).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

import ecoseg
from ecoseg.measure.calibration import Calibration
from ecoseg.measure.regions import save_calibration
from ecoseg.species.classify import store_sha256
from ecoseg.species.features import FEATURE_VERSION, feature_weights, track_features
from ecoseg.species.model import SpeciesModel
from ecoseg.species.truth import truth_classes
from ecoseg.synth import FISH_CLASSES, INVERTEBRATE_CLASSES

SEEDS = range(20, 28)
PARAMS = dict(frames=150, size=(640, 360), fps=30.0, camera="static", n_fish=6, n_invertebrates=2)


def without_avx512(env: dict[str, str]) -> dict[str, str]:
    """``env`` for a process whose numpy leaves out its AVX-512 code (as it is, where numpy
    has none to leave out or is another numpy)."""
    try:
        from numpy._core import _multiarray_umath as umath

        dispatch, features = umath.__cpu_dispatch__, umath.__cpu_features__
    except (ImportError, AttributeError):
        return env
    off = [f for f in dispatch if (f == "X86_V4" or f.startswith("AVX512")) and features.get(f)]
    return {**env, "NPY_DISABLE_CPU_FEATURES": " ".join(off)} if off else env


def main(argv: list[str]) -> int:
    env = without_avx512(dict(os.environ))
    if "NPY_DISABLE_CPU_FEATURES" in env and "NPY_DISABLE_CPU_FEATURES" not in os.environ:
        os.execve(sys.executable, [sys.executable, __file__, *argv], env)  # numpy chose at import
    out = Path(__file__).resolve().parent / "species_model.json"
    overwrite = "--overwrite" in argv
    if out.exists() and not overwrite:
        print(f"{out}: already exists (use --overwrite)", file=sys.stderr)
        return 2
    X, y, training = [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in SEEDS:
            d = Path(tmp) / str(seed)
            clip = ecoseg.synth(d, seed=seed, **PARAMS)
            store = ecoseg.segment(
                clip.video, out=d / "tracks.zarr", engine="classical", progress=False
            )
            save_calibration(store, Calibration(clip.mm_per_px))  # sizes in mm, as the truth
            named = truth_classes(store, clip.truth)
            before = len(y)
            tracks = track_features(store, clip.video)
            truth = track_features(clip.truth, clip.video)
            for feats, keep in ((tracks, FISH_CLASSES), (truth, INVERTEBRATE_CLASSES)):
                for oid, row, cls in zip(feats.ids, feats.values, feats.classes):
                    name = named.get(int(oid)) if feats is tracks else cls
                    if name in keep:
                        X.append(row)
                        y.append(name)
            training.append(
                {
                    "store": f"synth seed {seed} tracks.zarr",
                    "sha256": store_sha256(store),
                    "tracks": len(y) - before,
                }
            )
    model = SpeciesModel.fit(
        np.array(X),
        y,
        feature_names=tracks.names,
        feature_version=FEATURE_VERSION,
        training=training,
        units="mm",
        weights=feature_weights(tracks.names),  # as `ecoseg classify --train` weighs them
    )
    model.save(out, overwrite=overwrite)
    print("training tracks:", dict(sorted(Counter(y).items())))
    print(f"wrote {out} ({out.stat().st_size} bytes, sha256 {model.to_dict()['sha256'][:12]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
