"""``ecoseg demo``: the whole job on the bundled sample, offline, on a CPU.

sample video -> motion tracker -> mask store -> species model (trained on other synthetic
seeds, shipped as ``data/species_model.json``) -> tables -> accuracy against the sample's truth
-> self-contained HTML report.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ecoseg._paths import check_out_folder, check_overwrite
from ecoseg.errors import ConfigError

__all__ = ["demo_summary", "run_demo", "species_model_path"]

#: what the demo writes into its folder, with the lock and temporary names its writers use
#: there (a killed run may leave them): ``--overwrite`` deletes a folder of these only
_OWN = {"demo.json", "masks.zarr", "tables", "metrics.json", "report.html"}
_OWN |= {".masks.zarr.lock", ".report.html.tmp"}
_OWN_TABLES = {
    f"{t}.{x}" for t in ("regions", "tracks", "counts", "maxn", "cover") for x in ("csv", "parquet")
}
_OWN_TABLES |= {f".{name}.tmp" for name in _OWN_TABLES} | {"tables.json", ".measure.lock"}


def _users_file(out: Path) -> Path | None:
    """A file or folder in the demo folder ``out`` that the demo did not write (a user's
    notes, photos or tables put there since), or None."""
    for entry in sorted(out.iterdir()):
        if entry.name not in _OWN:
            return entry
    tables = out / "tables"
    if tables.is_dir():
        for entry in sorted(tables.iterdir()):
            if entry.name not in _OWN_TABLES:
                return entry
    return None


def species_model_path() -> Path:
    """The shipped species model (``data/species_model.json``; inside the wheel as
    ``ecoseg/_species_model.json``): :func:`ecoseg.species.model.shipped_model_file`. A
    classification with it records it as ``ecoseg:species_model.json``
    (:data:`~ecoseg.species.model.SHIPPED_MODEL`), the name ``ecoseg classify --model`` takes
    for it.

    Examples
    --------
    >>> species_model_path().name
    'species_model.json'
    """
    from ecoseg.species.model import shipped_model_file

    return shipped_model_file()


def run_demo(out: str | Path = "ecoseg-demo", *, overwrite: bool = False, progress=True) -> str:
    """Run the demo into ``out`` and return a printable summary.

    Parameters
    ----------
    out : str or Path
        Output folder; must not exist (or be empty) unless ``overwrite``.
    overwrite : bool
        Remove an earlier demo output in ``out`` first (refused, naming it, when the folder
        holds a file or folder the demo does not write: a user's own is never deleted).
    progress : bool
        Show progress bars.

    Returns
    -------
    str
        Summary: objects found, MaxN per class, accuracy against the truth, where files are.

    Examples
    --------
    >>> import tempfile
    >>> out = tempfile.mkdtemp() + "/demo"
    >>> text = run_demo(out, progress=False)  # requires: slow  # doctest: +SKIP
    """
    from ecoseg.engine import segment
    from ecoseg.measure import measure
    from ecoseg.measure.calibration import Calibration
    from ecoseg.measure.regions import save_calibration
    from ecoseg.metrics import evaluate
    from ecoseg.report import report
    from ecoseg.sample import sample
    from ecoseg.species import classify
    from ecoseg.species.truth import truth_classes
    from ecoseg.store import MaskStore

    out = Path(out)
    check_out_folder(out)
    if out.exists() and any(out.iterdir()):
        if not (out / "demo.json").exists():  # never deleted: said first, not 'pass --overwrite'
            raise ConfigError(
                f"{out}: not an ecoseg demo folder (no demo.json); refusing to delete it even "
                "with overwrite (choose another --out)"
            )
        users = _users_file(out)
        if users is not None:  # said first too: --overwrite would not delete it either
            raise ConfigError(
                f"{users}: not written by ecoseg demo; refusing to delete the demo folder "
                f"{out} with it, even with overwrite (move it away or choose another --out)"
            )
        check_overwrite(out, overwrite, exists=True)
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    # the folder is the demo's from the start: one a Ctrl-C left half made is replaced by
    # --overwrite (it held no demo.json, so the demo refused it even with --overwrite)
    (out / "demo.json").write_text(json.dumps({"summary": None}) + "\n")
    paths = sample()
    store = segment(paths.video, out=out / "masks.zarr", engine="classical", progress=progress)
    # the sample's scale is known (2.5 mm/px): sizes in mm, as the species model was trained
    save_calibration(store, Calibration.load(MaskStore.open(paths.truth)))
    classify(store, model=species_model_path(), videos=[paths.video], progress=progress)
    tables = measure(store, out / "tables", progress=progress)
    truth_tables = measure(paths.truth, progress=False)
    metrics = evaluate(store, paths.truth)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    report({"sample": store}, out / "report.html", truth=[paths.truth], title="ecoseg demo")
    named = truth_classes(store, paths.truth)
    summary = demo_summary(out, tables, truth_tables, metrics, named)
    (out / "demo.json").write_text(json.dumps({"summary": summary}, indent=2) + "\n")
    return summary


def demo_summary(out: Path, tables, truth_tables, metrics, named=None) -> str:
    """The summary ``ecoseg demo`` prints and writes into ``demo.json``: tracks, MaxN per class
    against the truth, the metrics and where the outputs are."""
    tracks, truth_maxn = tables["tracks"], truth_tables["maxn"]
    lines = [
        "ecoseg demo: bundled synthetic reef clip, motion tracker (no weights, CPU)",
        "",
        f"objects tracked: {len(tracks)} (truth: {metrics['truth_objects']})",
        "",
        f"{'MaxN':<14}{'truth':>7}{'tracked':>9}",
    ]
    got = dict(zip(tables["maxn"]["class"], tables["maxn"]["maxn"]))
    for cls, n in zip(truth_maxn["class"], truth_maxn["maxn"]):
        lines.append(f"  {cls:<12}{int(n):>7}{int(got.pop(cls, 0)):>9}")
    unknown = got.pop("unknown", None)
    for cls, n in got.items():  # named by the model but absent from the truth
        lines.append(f"  {cls:<12}{0:>7}{int(n):>9}")
    if unknown is not None:
        lines.append(f"  {'unknown':<12}{'':>7}{int(unknown):>9}  (below the model's threshold)")
    c = metrics["counts"].get("all", {})
    lines.append(f"  {'all animals':<12}{c.get('maxn_truth', '-'):>7}{c.get('maxn_pred', '-'):>9}")
    sources = tracks["class_source"].value_counts().to_dict()
    if named is not None:  # species named right, on the tracks that match a truth animal
        cls = dict(zip(tracks["object_id"], tracks["class"].astype(str)))
        matched = [(cls.get(i), c) for i, c in named.items() if c is not None and i in cls]
        right = sum(a == b for a, b in matched)
        lines.append(
            f"  species right on {right} of {len(matched)} tracks matched to a truth animal"
        )
        false = sorted(i for i, c in named.items() if c is None and i in cls)
        if false:  # a false track (or two animals merged), counted above under its name;
            # "track 7 named surgeonfish": "7 named surgeonfish" read as seven fish
            lines.append(
                f"  {len(false)} track{'s' if len(false) != 1 else ''} matching no single truth "
                "animal (counted above): " + ", ".join(f"track {i} named {cls[i]}" for i in false)
            )
    lines += [
        "  (species from the shipped model, ecoseg:species_model.json, trained on other synthetic",
        "   seeds; the motion tracker finds what moves, so nearly static invertebrates go unseen)",
        "  tracks by class source: " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())),
        "",
        "accuracy against truth:",
        f"  J&F   {metrics['jf']['mean']:.3f}",
        f"  HOTA  {metrics['hota']['hota']:.3f}",
        f"  IDF1  {metrics['identity']['idf1']:.3f}",
        f"  MOTA  {metrics['clear']['mota']:.3f}",
        "",
        f"files: {out}/masks.zarr, {out}/tables/, {out}/metrics.json, {out}/report.html",
    ]
    return "\n".join(lines)
